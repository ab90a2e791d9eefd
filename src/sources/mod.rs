//! Support bundles: the troubleshoot.sh layout (`cluster-resources/<kind>/<ns>.json`,
//! `cluster-resources/<kind>.json`, `cluster-resources/pods/logs/<ns>/<pod>/<c>.log`,
//! `cluster-info/cluster_version.json`) as a directory or a `.tar.gz`, plus the
//! doctor's own `dssc/` files. Reading streams logs through the scanner; unknown files
//! and fields are ignored, so bundles of other tools load too.

pub mod access;
pub mod cluster_error;
pub mod dns;
pub mod live;
pub mod logfile;
pub mod namespace;
pub mod secret_ca;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::de::DeserializeOwned;

use crate::analysis::scan::Scanner;
use crate::catalogue::Catalogue;
use crate::model::error::InputError;
use crate::model::evidence::{Evidence, Log, Setting, SourceKind};

mod classify;
pub use classify::*;
pub mod layout;
pub mod limits;
pub use layout::bundle_rel;
mod list;
mod read;
pub use read::*;
pub mod scope;
mod write;
pub use write::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_rel_strips_wrapping_folder() {
        assert_eq!(
            bundle_rel("support-bundle-2024/cluster-resources/pods/ns.json"),
            Some("cluster-resources/pods/ns.json")
        );
        assert_eq!(
            bundle_rel("./cluster-info/cluster_version.json"),
            Some("cluster-info/cluster_version.json")
        );
        assert_eq!(bundle_rel("other/file.txt"), None);
    }

    #[test]
    fn names_from_the_cluster_cannot_escape_the_bundle() {
        assert_eq!(path_part(".."), "_");
        assert_eq!(path_part(""), "_");
        assert_eq!(path_part("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(path_part("db-init"), "db-init");
    }

    #[test]
    fn logs_are_masked_line_by_line() {
        let out = redact_log(b"ok\npassword=hunter2 x\n\xffbad\n");
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("ok\npassword=***HIDDEN*** x\n"), "{out}");
        assert!(!out.contains("hunter2"));
    }
}
