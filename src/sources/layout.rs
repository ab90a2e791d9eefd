//! The bundle layout grammar (troubleshoot.sh's, plus the doctor's `dssc/` files):
//! which file holds what, parsed in one place for reading and for `serve`, and built in
//! one place for writing.

/// What a bundle-relative path holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    /// `cluster-resources/pods/logs/<ns>/<pod>/<container>[-previous].log`
    Log {
        namespace: &'a str,
        pod: &'a str,
        container: &'a str,
        previous: bool,
    },
    /// `cluster-resources/<dir>/<ns>.json`: a List of one namespace's objects.
    Namespaced { dir: &'a str, namespace: &'a str },
    /// `cluster-resources/<name>.json`: a List of cluster-scoped objects.
    ClusterScoped { name: &'a str },
    /// `cluster-info/cluster_version.json`
    ClusterVersion,
    /// `dssc/<file>`: the doctor's own files (`settings.json`, `source.json`, …).
    Doctor(&'a str),
    /// Anything else (other tools' files): ignored.
    Other,
}

/// Parses a bundle-relative path (see [`bundle_rel`]).
pub fn parse(rel: &str) -> Entry<'_> {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["cluster-resources", "pods", "logs", ns, pod, file] if file.ends_with(".log") => {
            let stem = &file[..file.len() - 4];
            let (container, previous) = match stem.strip_suffix("-previous") {
                Some(c) => (c, true),
                None => (stem, false),
            };
            Entry::Log {
                namespace: ns,
                pod,
                container,
                previous,
            }
        }
        ["cluster-resources", dir, file] if file.ends_with(".json") => Entry::Namespaced {
            dir,
            namespace: &file[..file.len() - 5],
        },
        ["cluster-resources", file] if file.ends_with(".json") => Entry::ClusterScoped {
            name: &file[..file.len() - 5],
        },
        ["cluster-info", "cluster_version.json"] => Entry::ClusterVersion,
        ["dssc", file] => Entry::Doctor(file),
        _ => Entry::Other,
    }
}

/// The path of a container log (parts already made safe for a path).
pub fn log_path(namespace: &str, pod: &str, container: &str, previous: bool) -> String {
    let suffix = if previous { "-previous" } else { "" };
    format!("cluster-resources/pods/logs/{namespace}/{pod}/{container}{suffix}.log")
}

/// The path of one namespace's List of a kind.
pub fn namespaced_path(dir: &str, namespace: &str) -> String {
    format!("cluster-resources/{dir}/{namespace}.json")
}

/// The path of a List of cluster-scoped objects.
pub fn cluster_scoped_path(name: &str) -> String {
    format!("cluster-resources/{name}.json")
}

/// The path of the server version.
pub const CLUSTER_VERSION: &str = "cluster-info/cluster_version.json";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_built_for_writing_parse_back() {
        assert_eq!(
            parse(&log_path("ns", "auth-1", "db-init", true)),
            Entry::Log {
                namespace: "ns",
                pod: "auth-1",
                container: "db-init",
                previous: true
            }
        );
        assert_eq!(
            parse(&namespaced_path("pods", "trendmicro")),
            Entry::Namespaced {
                dir: "pods",
                namespace: "trendmicro"
            }
        );
        assert_eq!(
            parse(&cluster_scoped_path("nodes")),
            Entry::ClusterScoped { name: "nodes" }
        );
        assert_eq!(parse(CLUSTER_VERSION), Entry::ClusterVersion);
        assert_eq!(parse("dssc/source.json"), Entry::Doctor("source.json"));
        assert_eq!(parse("host-collectors/x.json"), Entry::Other);
    }
}
