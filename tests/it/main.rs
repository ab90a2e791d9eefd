//! The integration tests, one binary with a module per area: the binary on bundles and
//! logs (`analyze`), live collection against the bundle server (`live`, `bundle_cli`),
//! bundle writing (`bundle_write`), the database probe against real PostgreSQL
//! (`probe`, `live_probe`), `preflight`, the API server (`serve`) and the man pages and
//! completions (`man`), db-init's real clients in every failure mode (`dbinit`) and the
//! shipped manifests (`manifests`). Shared scaffolding lives in `tests/support`.

#[path = "../support/mod.rs"]
mod support;

mod analyze;
mod bundle_cli;
mod bundle_write;
mod dbinit;
mod live;
mod live_probe;
mod man;
mod manifests;
mod preflight;
mod probe;
mod serve;
