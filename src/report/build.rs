//! Which build made a report: the version, the commit it was built from (captured by
//! build.rs, `unknown` outside a git checkout) and the number of rules in the built-in
//! catalogue. `--version` prints it; JSON reports carry it as `build`.

use serde::Serialize;

/// The build of the doctor that made a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Build {
    /// The doctor's version (Cargo's package version).
    pub version: String,
    /// The abbreviated git commit it was built from, or `unknown`.
    pub commit: String,
    /// The number of rules in the built-in catalogue (without `--checks` directories).
    pub rules: usize,
}

impl Build {
    /// This binary's build.
    pub fn current() -> Build {
        Build {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: env!("DSSC_DOCTOR_COMMIT").to_string(),
            rules: crate::catalogue::ids::ALL.len(),
        }
    }
}

impl std::fmt::Display for Build {
    /// `0.1.0 (commit 1a2b3c4, 57 rules)`, as `--version` prints it after the name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (commit {}, {} rules)",
            self.version, self.commit, self.rules
        )
    }
}
