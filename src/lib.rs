//! dssc-doctor: diagnoses failed Deep Security Smart Check installations.
//!
//! Evidence (a support bundle, a log, the live cluster) goes through one pipeline of
//! checks (`checks`), driven by a declarative catalogue (`catalogue`, `checks/*.toml`),
//! into findings (`findings`) that are rendered as a report (`report`).

pub mod app;
pub mod bundle;
pub mod catalogue;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod discover;
pub mod evidence;
pub mod findings;
pub mod helm;
pub mod input;
pub mod netpol;
pub mod preflight;
pub mod probe;
pub mod redact;
pub mod report;
pub mod scan;
pub mod serve;
pub mod values;
