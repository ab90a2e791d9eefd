//! Reading bundles: walking a directory or tarball once, typed lists per kind, logs
//! streamed through the scanner, bounded file sizes.

use std::collections::BTreeSet;

use super::layout::Entry;
use super::limits::{size_label, Budget, Counted, Limits};
use super::list::{configmap_name, pod_labels_and_ports, secret_name, Keep, Lists};
use super::scope::{Focus, Part};
use super::*;

/// What reading left out: (file or input, why), reported as DOC001 by the caller.
pub type Skips = Vec<(String, String)>;

/// Calls `f` for every file of a bundle (directory or tar.gz) with its bundle-relative
/// path and a reader over its contents, within `budget`: a file over the per-file cap is
/// skipped before it is read, a second copy of a path (also as `../…` or `/…`) is
/// ignored, links are never followed, and at the total budget or a bomb ratio the walk
/// stops, keeping what was read. Returns what was left out.
pub fn walk(
    path: &Path,
    kind: &InputKind,
    budget: &Budget,
    f: impl FnMut(&str, &mut dyn Read) -> anyhow::Result<()>,
) -> anyhow::Result<Skips> {
    walk_where(path, kind, budget, |_| true, f)
}

/// [`walk`] over the files `wants` (by bundle-relative path) only: the others are
/// passed over unread, whatever their size.
pub fn walk_where(
    path: &Path,
    kind: &InputKind,
    budget: &Budget,
    mut wants: impl FnMut(&str) -> bool,
    mut f: impl FnMut(&str, &mut dyn Read) -> anyhow::Result<()>,
) -> anyhow::Result<Skips> {
    let mut skips: Skips = Vec::new();
    let over = |size: u64| {
        format!(
            "skipped: {} unpacked is over the per-file limit of {} (raise with --max-input-size)",
            size_label(size),
            size_label(budget.limits.file)
        )
    };
    match kind {
        InputKind::BundleDir => {
            let mut stack = vec![path.to_path_buf()];
            let mut files: Vec<PathBuf> = Vec::new();
            while let Some(d) = stack.pop() {
                let rd = std::fs::read_dir(&d)
                    .map_err(|e| InputError::new(format!("{}: {}", d.display(), io_msg(&e))))?;
                for entry in rd.flatten() {
                    let p = entry.path();
                    // file_type() does not follow links: a symlink is neither.
                    let ft = entry.file_type()?;
                    if ft.is_dir() {
                        stack.push(p);
                    } else if ft.is_file() {
                        files.push(p);
                    }
                }
            }
            files.sort();
            for p in files {
                if budget.hit().is_some() {
                    break;
                }
                let rel = p
                    .strip_prefix(path)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let Some(rel) = bundle_rel(&rel).filter(|r| wants(r)) else {
                    continue;
                };
                let rel = rel.to_string();
                let size = std::fs::symlink_metadata(&p).map(|m| m.len()).unwrap_or(0);
                if size > budget.limits.file {
                    skips.push((rel, over(size)));
                    continue;
                }
                let file = File::open(&p)
                    .map_err(|e| InputError::new(format!("{}: {}", p.display(), io_msg(&e))))?;
                let mut r =
                    Counted::unpacked(BufReader::new(file), budget).take(budget.limits.file);
                f(&rel, &mut r)?;
            }
        }
        InputKind::BundleTarGz => {
            let file = File::open(path)
                .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?;
            let packed = Counted::packed(BufReader::new(file), budget);
            let unpacked = Counted::unpacked(MultiGzDecoder::new(packed), budget);
            let mut ar = tar::Archive::new(unpacked);
            let corrupt = |e: io::Error| {
                InputError::new(format!(
                    "{}: truncated or corrupt archive ({e}); re-create or re-download the bundle",
                    path.display()
                ))
            };
            let mut seen = std::collections::HashSet::new();
            for entry in ar.entries().map_err(corrupt)? {
                let mut entry = match entry {
                    Ok(e) => e,
                    Err(_) if budget.hit().is_some() => break,
                    Err(e) => return Err(corrupt(e).into()),
                };
                if !entry.header().entry_type().is_file() {
                    // Links and devices are never followed or read.
                    continue;
                }
                let name = entry
                    .path()
                    .map_err(corrupt)?
                    .to_string_lossy()
                    .into_owned();
                let Some(rel) = bundle_rel(&name).filter(|r| wants(r)) else {
                    // Drain so a corrupt tail is still noticed.
                    match io::copy(&mut entry, &mut io::sink()) {
                        Err(_) if budget.hit().is_some() => break,
                        r => r.map_err(corrupt)?,
                    };
                    continue;
                };
                let rel = rel.to_string();
                if !seen.insert(rel.clone()) {
                    skips.push((name, format!("a second copy of {rel}, ignored")));
                    continue;
                }
                let size = entry.header().size().unwrap_or(0);
                if size > budget.limits.file {
                    skips.push((rel, over(size)));
                    continue;
                }
                let mut checked = CheckedRead {
                    inner: &mut entry,
                    failed: None,
                };
                let res = f(&rel, &mut checked);
                if budget.hit().is_some() {
                    break;
                }
                if let Some(e) = checked.failed {
                    return Err(corrupt(e).into());
                }
                res?;
                match io::copy(&mut entry, &mut io::sink()) {
                    Err(_) if budget.hit().is_some() => break,
                    r => r.map_err(corrupt)?,
                };
            }
        }
        _ => return Err(anyhow::anyhow!("not a bundle")),
    }
    if let Some(why) = budget.hit() {
        skips.push((path.display().to_string(), why));
    }
    Ok(skips)
}

/// Remembers a read error of the archive so that a truncated tarball is reported as
/// such, not as a bad file inside it.
pub(crate) struct CheckedRead<'a, R: Read> {
    pub(crate) inner: &'a mut R,
    pub(crate) failed: Option<io::Error>,
}

impl<R: Read> Read for CheckedRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                Err(copy)
            }
        }
    }
}

/// The largest single-object file (`cluster_version.json`, `dssc/*.json`) read.
pub(crate) const MAX_JSON: u64 = 16 * 1024 * 1024;

/// Reads a bundle into evidence with the default [`Limits`]. Logs are scanned as they
/// stream by; `keep_raw` keeps their bytes too (for re-writing the bundle).
pub fn load(
    path: &Path,
    kind: &InputKind,
    cat: &Catalogue,
    scanner: &Scanner,
    keep_raw: bool,
) -> anyhow::Result<Evidence> {
    load_within(
        path,
        kind,
        cat,
        scanner,
        keep_raw,
        &Limits::default(),
        &Focus::default(),
    )
}

/// [`load`] within `limits`: what is over a budget is skipped (DOC001) and the rest
/// read. Smart Check's namespaces are read in full and of the others only what the
/// analysis uses (see [`super::scope`]); `-n` naming a namespace the bundle does not
/// hold is an input error listing those it does.
pub fn load_within(
    path: &Path,
    kind: &InputKind,
    cat: &Catalogue,
    scanner: &Scanner,
    keep_raw: bool,
    limits: &Limits,
    focus: &Focus,
) -> anyhow::Result<Evidence> {
    let wanted = super::scope::resolve(path, kind, limits, focus)?;
    let mut ev = Evidence::new(SourceKind::Bundle, path.display().to_string());
    let mut recognised = false;
    let budget = Budget::new(limits.clone());
    let mut lists = Lists::new(limits);
    let wants = |rel: &str| match super::layout::parse(rel) {
        Entry::Log { namespace, .. } => Part::of("logs", namespace, &wanted) != Part::Skip,
        Entry::Namespaced { dir, namespace } => Part::of(dir, namespace, &wanted) != Part::Skip,
        _ => true,
    };
    // Every namespace the bundle holds files of, read or not (for the report's scope).
    let mut held: BTreeSet<String> = BTreeSet::new();
    let mut note = |rel: &str| match super::layout::parse(rel) {
        Entry::Log { namespace, .. } | Entry::Namespaced { namespace, .. } => {
            held.insert(namespace.to_string());
        }
        _ => {}
    };
    let skips = walk_where(
        path,
        kind,
        &budget,
        |rel| {
            note(rel);
            wants(rel)
        },
        |rel, r| {
            match super::layout::parse(rel) {
                Entry::Log {
                    namespace: ns,
                    pod,
                    container,
                    previous,
                } => {
                    recognised = true;
                    let mut raw = Vec::new();
                    let scan = if keep_raw {
                        r.take(limits.file).read_to_end(&mut raw)?;
                        scanner.scan(cat, &raw[..], Some(container))?
                    } else {
                        scanner.scan(cat, r, Some(container))?
                    };
                    if scan.binary {
                        ev.skip(rel.to_string(), "binary data, not a text log");
                    }
                    ev.logs.push(Log {
                        namespace: Some(ns.to_string()),
                        pod: Some(pod.to_string()),
                        container: Some(container.to_string()),
                        previous,
                        scan,
                        raw: keep_raw.then_some(raw),
                        origin: rel.to_string(),
                    });
                }
                Entry::Namespaced { dir, namespace } => {
                    recognised = true;
                    let part = Part::of(dir, namespace, &wanted);
                    read_namespaced(&mut ev, rel, dir, r, &mut lists, part);
                }
                Entry::ClusterScoped { name } => {
                    recognised = true;
                    match name {
                        "namespaces" => {
                            lists.list_into(&mut ev, rel, r, Keep::Whole, |ev| &mut ev.namespaces)
                        }
                        "nodes" => {
                            lists.list_into(&mut ev, rel, r, Keep::Whole, |ev| &mut ev.nodes)
                        }
                        _ => {}
                    }
                }
                Entry::ClusterVersion => {
                    recognised = true;
                    if let Some(v) = read_json::<serde_json::Value>(&mut ev, rel, r)? {
                        let info = v.get("info").cloned().unwrap_or(v);
                        match serde_json::from_value(info) {
                            Ok(i) => ev.version = Some(i),
                            Err(e) => {
                                ev.skip(rel.to_string(), format!("not a version object: {e}"))
                            }
                        }
                    }
                }
                Entry::Doctor("settings.json") => {
                    recognised = true;
                    if let Some(v) =
                        read_json::<std::collections::BTreeMap<String, Setting>>(&mut ev, rel, r)?
                    {
                        for (k, s) in v {
                            ev.set(&k, s.value, s.from);
                        }
                    }
                }
                Entry::Doctor("source.json") => {
                    recognised = true;
                    if let Some(v) = read_json::<serde_json::Value>(&mut ev, rel, r)? {
                        ev.namespace = v
                            .get("namespace")
                            .and_then(|x| x.as_str())
                            .map(str::to_string);
                        ev.release = v
                            .get("release")
                            .and_then(|x| x.as_str())
                            .map(str::to_string);
                    }
                }
                Entry::Doctor("helm-release.json") => {
                    if let Some(h) =
                        read_json::<crate::model::evidence::HelmRelease>(&mut ev, rel, r)?
                    {
                        ev.helm = Some(h);
                    }
                }
                Entry::Doctor("values.json") => {
                    if let Some(v) = read_json::<serde_json::Value>(&mut ev, rel, r)? {
                        ev.values = Some(v);
                    }
                }
                Entry::Doctor("skipped.json") => {
                    if let Some(v) =
                        read_json::<Vec<crate::model::evidence::Skipped>>(&mut ev, rel, r)?
                    {
                        ev.skipped.extend(v);
                    }
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    for (what, why) in skips {
        ev.skip(what, why);
    }
    if !recognised && held.is_empty() {
        return Err(InputError::new(format!(
            "{}: no support-bundle files found (expected cluster-resources/…)",
            path.display()
        ))
        .into());
    }
    // Tarballs list files in any order; reports must not depend on it.
    ev.logs.sort_by(|a, b| {
        (&a.namespace, &a.pod, &a.container, a.previous).cmp(&(
            &b.namespace,
            &b.pod,
            &b.container,
            b.previous,
        ))
    });
    if let Some(ns) = &focus.namespace {
        let listed = ev.namespaces.iter().filter_map(|n| n.metadata.name.clone());
        let held: BTreeSet<String> = held.iter().cloned().chain(listed).collect();
        if !held.contains(ns) {
            let list: Vec<&str> = held.iter().take(20).map(String::as_str).collect();
            let more = held.len().saturating_sub(list.len());
            return Err(InputError::new(format!(
                "-n {ns}: the bundle holds no namespace {ns} (it holds {}{})",
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                },
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ))
            .into());
        }
        ev.namespace = Some(ns.clone());
    }
    if let Some((w, from)) = wanted {
        ev.scope = Some(crate::model::evidence::Scope {
            other_namespaces: held.iter().filter(|n| !w.contains(*n)).count(),
            namespaces: w.into_iter().collect(),
            from,
        });
    }
    crate::settings::pod_env::from_pods(&mut ev);
    Ok(ev)
}

/// Reads one namespace's List of `kind`, as much of it as `part` says.
pub(crate) fn read_namespaced(
    ev: &mut Evidence,
    rel: &str,
    kind: &str,
    r: &mut dyn Read,
    lists: &mut Lists,
    part: Part,
) {
    let keep = match part {
        Part::Whole => Keep::Whole,
        Part::Skip => return,
        _ => Keep::Aside,
    };
    match (kind, part) {
        ("pods", Part::PodLabels) => {
            lists.list_as(ev, rel, r, keep, |ev| &mut ev.pods, pod_labels_and_ports)
        }
        ("configmaps", Part::Names) => {
            lists.list_as(ev, rel, r, keep, |ev| &mut ev.configmaps, configmap_name)
        }
        ("secrets", Part::Names) => {
            lists.list_as(ev, rel, r, keep, |ev| &mut ev.secrets, secret_name)
        }
        ("pods", Part::Whole) => lists.list_into(ev, rel, r, keep, |ev| &mut ev.pods),
        ("events", Part::Whole) => lists.list_into(ev, rel, r, keep, |ev| &mut ev.events),
        ("configmaps", Part::Whole) => lists.list_into(ev, rel, r, keep, |ev| &mut ev.configmaps),
        ("secrets", Part::Whole) => {
            let before = ev.secrets.len();
            lists.list_into(ev, rel, r, keep, |ev| &mut ev.secrets);
            // Values are never kept, whatever the bundle holds.
            for s in &mut ev.secrets[before..] {
                crate::redact::secret_keys_only(s);
            }
        }
        ("deployments", Part::Whole) => lists.list_into(ev, rel, r, keep, |ev| &mut ev.deployments),
        ("services", _) => lists.list_into(ev, rel, r, keep, |ev| &mut ev.services),
        ("endpointslices", _) => lists.list_into(ev, rel, r, keep, |ev| &mut ev.endpoint_slices),
        ("endpoints", _) => lists.list_into(ev, rel, r, keep, |ev| &mut ev.endpoints),
        ("network-policy" | "networkpolicies" | "networkpolicy", _) => {
            lists.list_into(ev, rel, r, keep, |ev| &mut ev.network_policies)
        }
        _ => {}
    }
}

pub(crate) fn read_json<T: DeserializeOwned>(
    ev: &mut Evidence,
    rel: &str,
    r: &mut dyn Read,
) -> anyhow::Result<Option<T>> {
    let mut buf = Vec::new();
    r.take(MAX_JSON + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_JSON {
        ev.skip(
            rel.to_string(),
            format!(
                "skipped: over the limit of {} for this file",
                size_label(MAX_JSON)
            ),
        );
        return Ok(None);
    }
    match serde_json::from_slice::<T>(&buf) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            ev.skip(rel.to_string(), format!("invalid JSON: {e}"));
            Ok(None)
        }
    }
}
