//! Real parts a test needs (PostgreSQL, kubectl, the external troubleshoot bundle):
//! where they are, and what happens when one is missing. Outside CI the test is
//! skipped with a note; under `CI=true` it fails, so a CI run never passes by skipping.

use std::path::PathBuf;
use std::process::Command;

/// Whether `present`; when not, fails under `CI=true` and otherwise notes the skip.
pub fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is missing and CI=true: this test must run, not skip");
    }
    eprintln!("note: {what} missing; test skipped");
    false
}

/// `../shared` beside the repository (CI clones the repository with it), or
/// `DSSC_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("DSSC_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A third-party troubleshoot.sh bundle (not Smart Check), if present.
pub fn external_bundle() -> Option<PathBuf> {
    let p = shared_dir().join("external/troubleshoot-bundle");
    require(&format!("the external bundle {}", p.display()), p.is_dir()).then_some(p)
}

/// The kubectl binary, if installed.
pub fn kubectl() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/kubectl");
    let found = if p.exists() {
        Some(p)
    } else {
        Command::new("kubectl")
            .args(["version", "--client"])
            .output()
            .ok()
            .map(|_| PathBuf::from("kubectl"))
    };
    require("kubectl", found.is_some()).then(|| found.unwrap())
}
