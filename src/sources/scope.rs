//! Which namespaces of a bundle are read in full: `-n` when given, else the namespace
//! `dssc/source.json` names (the doctor's own bundles), else every namespace holding a
//! Smart Check pod (a db-init init container, or the `--release` label) or a db-init
//! log, found by a first pass over the pods files only. Of the other namespaces only
//! what the analysis uses is read; a bundle with no Smart Check pod is read whole.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use super::layout::Entry;
use super::limits::{Budget, Limits};
use super::list::{stream, PodSketch};
use super::InputKind;

/// What to look at in a bundle (from `analyze -n/--release`).
#[derive(Clone, Debug, Default)]
pub struct Focus {
    pub namespace: Option<String>,
    pub release: Option<String>,
}

/// The namespaces to read in full and how they were found; `None`: read everything.
pub(crate) type Wanted = Option<(BTreeSet<String>, String)>;

/// Resolves the namespaces to read in full (see the module doc). A pass over a tar.gz
/// decompresses it once more; it is skipped when `-n` is given.
pub(crate) fn resolve(
    path: &Path,
    kind: &InputKind,
    limits: &Limits,
    focus: &Focus,
) -> anyhow::Result<Wanted> {
    if let Some(ns) = &focus.namespace {
        return Ok(Some((BTreeSet::from([ns.clone()]), "-n".into())));
    }
    // Its own budget: what this pass reads is read again by the next.
    let budget = Budget::new(limits.clone());
    let release = focus.release.as_deref();
    let mut from_source: Option<String> = None;
    let mut found = BTreeSet::new();
    let wants = |rel: &str| {
        matches!(
            super::layout::parse(rel),
            Entry::Doctor("source.json")
                | Entry::Log { .. }
                | Entry::Namespaced { dir: "pods", .. }
        )
    };
    super::walk_where(path, kind, &budget, wants, |rel, r| {
        match super::layout::parse(rel) {
            Entry::Doctor("source.json") => {
                let mut buf = Vec::new();
                r.take(super::read::MAX_JSON).read_to_end(&mut buf)?;
                from_source = serde_json::from_slice::<serde_json::Value>(&buf)
                    .ok()
                    .and_then(|v| v.get("namespace")?.as_str().map(str::to_string))
                    .filter(|ns| !ns.is_empty());
            }
            Entry::Log {
                namespace,
                container,
                ..
            } if crate::model::evidence::is_db_init(container) => {
                found.insert(namespace.to_string());
            }
            Entry::Namespaced {
                dir: "pods",
                namespace,
            } if !found.contains(namespace) => {
                if release.is_none() {
                    // Without --release a byte search is enough: a pods file naming a
                    // db-init container is of Smart Check's namespace (a few GB/s,
                    // where parsing each pod runs at a few hundred MB/s).
                    if mentions(r, b"db-init")? {
                        found.insert(namespace.to_string());
                    }
                    return Ok(());
                }
                let mut take = |s: &str| {
                    // Most pods are not Smart Check's: a substring test spares parsing them.
                    if !s.contains("db-init") && release.is_none_or(|r| !s.contains(r)) {
                        return Ok(true);
                    }
                    let p: PodSketch = serde_json::from_str(s)?;
                    if p.is_smartcheck(release) {
                        found.insert(p.namespace().unwrap_or(namespace).to_string());
                    }
                    Ok(true)
                };
                let _ = stream(r, limits, &mut take);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(match from_source {
        Some(ns) => Some((BTreeSet::from([ns]), "named in dssc/source.json".into())),
        None if found.is_empty() => None,
        None => {
            let by = match release {
                Some(r) => format!("its pods are of release {r} or have a db-init container"),
                None => "its pods have a db-init container".into(),
            };
            Some((found, by))
        }
    })
}

/// Whether `needle` occurs in what `r` reads (searched chunk by chunk, a match across
/// two chunks included); stops at the first match.
fn mentions(r: &mut dyn Read, needle: &[u8]) -> std::io::Result<bool> {
    let finder = memchr::memmem::Finder::new(needle);
    let keep = needle.len().saturating_sub(1);
    let mut buf = vec![0u8; 256 << 10];
    let mut have = 0;
    loop {
        let n = r.read(&mut buf[have..])?;
        if n == 0 {
            return Ok(false);
        }
        have += n;
        if finder.find(&buf[..have]).is_some() {
            return Ok(true);
        }
        // Keep the tail that could start a match with the next chunk.
        let tail = have.min(keep);
        buf.copy_within(have - tail..have, 0);
        have = tail;
    }
}

/// How much of a namespaced List file is read, by kind and whether its namespace is
/// one read in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// Every object, whole.
    Whole,
    /// Whole objects, aside (Services, EndpointSlices, Endpoints, NetworkPolicies of
    /// other namespaces: the database Service and the DNS are found among them).
    Aside,
    /// Pods of the cluster DNS namespaces: labels and ports only.
    PodLabels,
    /// ConfigMaps and Secrets of other namespaces: names only.
    Names,
    /// Not read (events, deployments and logs of other namespaces; other pods).
    Skip,
}

impl Part {
    pub(crate) fn of(dir: &str, namespace: &str, wanted: &Wanted) -> Part {
        let Some((w, _)) = wanted else {
            return Part::Whole;
        };
        if w.contains(namespace) {
            return Part::Whole;
        }
        match dir {
            "services" | "endpointslices" | "endpoints" | "network-policy" | "networkpolicies"
            | "networkpolicy" => Part::Aside,
            "configmaps" | "secrets" => Part::Names,
            "pods"
                if crate::netpol::DNS_SERVICES
                    .iter()
                    .any(|(ns, _)| *ns == namespace) =>
            {
                Part::PodLabels
            }
            _ => Part::Skip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn a_match_across_chunks_is_found() {
        // A reader that hands out 3 bytes at a time splits the needle.
        struct Dribble<'a>(&'a [u8]);
        impl std::io::Read for Dribble<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(3).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        assert!(mentions(&mut Dribble(b"xx\"auth-db-init\"yy"), b"db-init").unwrap());
        assert!(!mentions(&mut Dribble(b"xx\"db-ini\"t"), b"db-init").unwrap());
        assert!(!mentions(&mut Dribble(b""), b"db-init").unwrap());
    }
}
