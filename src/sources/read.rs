//! Reading bundles: walking a directory or tarball once, typed lists per kind, logs
//! streamed through the scanner, bounded file sizes.

use super::layout::Entry;
use super::*;

/// Calls `f` for every file of a bundle (directory or tar.gz) with its bundle-relative
/// path and a reader over its contents.
pub fn walk(
    path: &Path,
    kind: &InputKind,
    mut f: impl FnMut(&str, &mut dyn Read) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match kind {
        InputKind::BundleDir => {
            let mut stack = vec![path.to_path_buf()];
            let mut files: Vec<PathBuf> = Vec::new();
            while let Some(d) = stack.pop() {
                let rd = std::fs::read_dir(&d)
                    .map_err(|e| InputError::new(format!("{}: {}", d.display(), io_msg(&e))))?;
                for entry in rd.flatten() {
                    let p = entry.path();
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
                let rel = p
                    .strip_prefix(path)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let Some(rel) = bundle_rel(&rel) else {
                    continue;
                };
                let rel = rel.to_string();
                let mut file =
                    BufReader::new(File::open(&p).map_err(|e| {
                        InputError::new(format!("{}: {}", p.display(), io_msg(&e)))
                    })?);
                f(&rel, &mut file)?;
            }
            Ok(())
        }
        InputKind::BundleTarGz => {
            let file = File::open(path)
                .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?;
            let mut ar = tar::Archive::new(MultiGzDecoder::new(BufReader::new(file)));
            let corrupt = |e: io::Error| {
                InputError::new(format!(
                    "{}: truncated or corrupt archive ({e}); re-create or re-download the bundle",
                    path.display()
                ))
            };
            for entry in ar.entries().map_err(corrupt)? {
                let mut entry = entry.map_err(corrupt)?;
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = entry
                    .path()
                    .map_err(corrupt)?
                    .to_string_lossy()
                    .into_owned();
                let Some(rel) = bundle_rel(&name) else {
                    // Drain so a corrupt tail is still noticed.
                    io::copy(&mut entry, &mut io::sink()).map_err(corrupt)?;
                    continue;
                };
                let rel = rel.to_string();
                let mut checked = CheckedRead {
                    inner: &mut entry,
                    failed: None,
                };
                f(&rel, &mut checked)?;
                if let Some(e) = checked.failed {
                    return Err(corrupt(e).into());
                }
                io::copy(&mut entry, &mut io::sink()).map_err(corrupt)?;
            }
            Ok(())
        }
        _ => Err(anyhow::anyhow!("not a bundle")),
    }
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

/// The largest object file read into memory (a List of every pod of a big namespace
/// stays well under this).
pub(crate) const MAX_JSON: u64 = 512 * 1024 * 1024;

/// Reads a bundle into evidence. Logs are scanned as they stream by; `keep_raw` keeps
/// their bytes too (for re-writing the bundle).
pub fn load(
    path: &Path,
    kind: &InputKind,
    cat: &Catalogue,
    scanner: &Scanner,
    keep_raw: bool,
) -> anyhow::Result<Evidence> {
    let mut ev = Evidence::new(SourceKind::Bundle, path.display().to_string());
    let mut recognised = false;
    walk(path, kind, |rel, r| {
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
                    r.take(MAX_JSON).read_to_end(&mut raw)?;
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
            Entry::Namespaced { dir, .. } => {
                recognised = true;
                read_namespaced(&mut ev, rel, dir, r)?;
            }
            Entry::ClusterScoped { name } => {
                recognised = true;
                match name {
                    "namespaces" => list_into(&mut ev, rel, r, |ev| &mut ev.namespaces)?,
                    "nodes" => list_into(&mut ev, rel, r, |ev| &mut ev.nodes)?,
                    _ => {}
                }
            }
            Entry::ClusterVersion => {
                recognised = true;
                if let Some(v) = read_json::<serde_json::Value>(&mut ev, rel, r)? {
                    let info = v.get("info").cloned().unwrap_or(v);
                    match serde_json::from_value(info) {
                        Ok(i) => ev.version = Some(i),
                        Err(e) => ev.skip(rel.to_string(), format!("not a version object: {e}")),
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
                if let Some(h) = read_json::<crate::model::evidence::HelmRelease>(&mut ev, rel, r)?
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
                if let Some(v) = read_json::<Vec<crate::model::evidence::Skipped>>(&mut ev, rel, r)?
                {
                    ev.skipped.extend(v);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if !recognised {
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
    crate::settings::pod_env::from_pods(&mut ev);
    Ok(ev)
}

pub(crate) fn read_namespaced(
    ev: &mut Evidence,
    rel: &str,
    kind: &str,
    r: &mut dyn Read,
) -> anyhow::Result<()> {
    match kind {
        "pods" => list_into(ev, rel, r, |ev| &mut ev.pods),
        "events" => list_into(ev, rel, r, |ev| &mut ev.events),
        "configmaps" => list_into(ev, rel, r, |ev| &mut ev.configmaps),
        "secrets" => {
            let before = ev.secrets.len();
            list_into(ev, rel, r, |ev| &mut ev.secrets)?;
            // Values are never kept, whatever the bundle holds.
            for s in &mut ev.secrets[before..] {
                crate::redact::secret_keys_only(s);
            }
            Ok(())
        }
        "services" => list_into(ev, rel, r, |ev| &mut ev.services),
        "deployments" => list_into(ev, rel, r, |ev| &mut ev.deployments),
        "endpointslices" => list_into(ev, rel, r, |ev| &mut ev.endpoint_slices),
        "endpoints" => list_into(ev, rel, r, |ev| &mut ev.endpoints),
        "network-policy" | "networkpolicies" | "networkpolicy" => {
            list_into(ev, rel, r, |ev| &mut ev.network_policies)
        }
        _ => Ok(()),
    }
}

pub(crate) fn read_json<T: DeserializeOwned>(
    ev: &mut Evidence,
    rel: &str,
    r: &mut dyn Read,
) -> anyhow::Result<Option<T>> {
    let mut buf = Vec::new();
    r.take(MAX_JSON).read_to_end(&mut buf)?;
    match serde_json::from_slice::<T>(&buf) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            ev.skip(rel.to_string(), format!("invalid JSON: {e}"));
            Ok(None)
        }
    }
}

/// Reads a kubectl List (`{"items": [...]}`) or a bare array; items that do not parse
/// as the expected kind are recorded as skipped, the rest kept.
pub(crate) fn list_into<T: DeserializeOwned>(
    ev: &mut Evidence,
    rel: &str,
    r: &mut dyn Read,
    field: impl Fn(&mut Evidence) -> &mut Vec<T>,
) -> anyhow::Result<()> {
    let Some(v) = read_json::<serde_json::Value>(ev, rel, r)? else {
        return Ok(());
    };
    let items = match v {
        serde_json::Value::Object(mut o) => match o.remove("items") {
            Some(serde_json::Value::Array(a)) => a,
            Some(serde_json::Value::Null) | None => Vec::new(),
            Some(_) => {
                ev.skip(rel.to_string(), "items is not a list");
                return Ok(());
            }
        },
        serde_json::Value::Array(a) => a,
        _ => {
            ev.skip(rel.to_string(), "not a kubectl List");
            return Ok(());
        }
    };
    let mut bad = 0;
    let mut first_err = None;
    let mut parsed = Vec::with_capacity(items.len());
    for it in items {
        match serde_json::from_value::<T>(it) {
            Ok(x) => parsed.push(x),
            Err(e) => {
                bad += 1;
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    field(ev).extend(parsed);
    if bad > 0 {
        ev.skip(
            rel.to_string(),
            format!(
                "{bad} item(s) unreadable: {}",
                first_err.unwrap_or_default()
            ),
        );
    }
    Ok(())
}
