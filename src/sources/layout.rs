//! The bundle layout grammar: where a file sits relative to the bundle root, shared
//! by reading, writing and `serve`.

/// The bundle-relative path of an entry (`cluster-resources/…`), dropping any leading
/// folder a tarball wraps the bundle in. `None` for paths outside the layout.
pub fn bundle_rel(path: &str) -> Option<&str> {
    let path = path.trim_start_matches("./");
    for marker in ["cluster-resources/", "cluster-info/", "dssc/"] {
        if path.starts_with(marker) {
            return Some(path);
        }
        if let Some(i) = path.find(&format!("/{marker}")) {
            return Some(&path[i + 1..]);
        }
    }
    None
}
