//! The integration tests, one binary with a module per area: the binary on bundles and
//! logs (`analyze`), live collection against the bundle server (`live`, `bundle_cli`),
//! bundle writing (`bundle_write`), the database probe against real PostgreSQL
//! (`probe`, `live_probe`), `preflight`, the API server (`serve`), the report schema and
//! `--version` (`schema`) and the man pages and completions (`man`). Shared scaffolding
//! lives in `tests/support`.

#[path = "../support/mod.rs"]
mod support;

mod analyze;
mod bundle_cli;
mod bundle_write;
mod live;
mod live_probe;
mod man;
mod preflight;
mod probe;
mod schema;
mod serve;
