//! The integration tests, one binary with a module per area: the binary on bundles and
//! logs (`analyze`), live collection against the bundle server (`live`, `bundle_cli`),
//! bundle writing (`bundle_write`), metrics into Prometheus and batch analysis
//! (`fleet`), the database probe against real PostgreSQL (`probe`, `live_probe`),
//! `preflight`, NetworkPolicy reasoning on bundles (`netpol`), read failures and
//! `--watch` (`live_errors`, `watch`), hostile input (`hostile`), the API server
//! (`serve`) and it under load and faults (`serve_load`), the report schema and `--version` (`schema`), db-init's real clients in
//! every failure mode (`dbinit`), the shipped manifests (`manifests`) and the man pages
//! and completions (`man`). Shared scaffolding lives in `tests/support`.

#[path = "../support/mod.rs"]
mod support;

mod analyze;
mod bundle_cli;
mod bundle_write;
mod dbinit;
mod fleet;
mod hostile;
mod live;
mod live_errors;
mod live_probe;
mod man;
mod manifests;
mod netpol;
mod preflight;
mod probe;
mod schema;
mod serve;
mod serve_load;
mod watch;
