//! Support bundles: the troubleshoot.sh layout (`cluster-resources/<kind>/<ns>.json`,
//! `cluster-resources/<kind>.json`, `cluster-resources/pods/logs/<ns>/<pod>/<c>.log`,
//! `cluster-info/cluster_version.json`) as a directory or a `.tar.gz`, plus the
//! doctor's own `dssc/` files. Reading streams logs through the scanner; unknown files
//! and fields are ignored, so bundles of other tools load too.

pub mod live;
pub mod logfile;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::de::DeserializeOwned;

use crate::analysis::scan::Scanner;
use crate::catalogue::Catalogue;
use crate::model::error::InputError;
use crate::model::evidence::{Evidence, Log, Setting, SourceKind};

/// What a path given to `analyze` holds.
#[derive(Debug, PartialEq, Eq)]
pub enum InputKind {
    BundleDir,
    BundleTarGz,
    /// A single log, possibly gzip-compressed.
    LogFile {
        gzip: bool,
    },
    Stdin,
}

/// Decides what `path` is by looking at it, not at its name.
pub fn classify(path: &Path) -> Result<InputKind, InputError> {
    if path.as_os_str() == "-" {
        return Ok(InputKind::Stdin);
    }
    let meta = std::fs::metadata(path)
        .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?;
    if meta.is_dir() {
        if path.join("cluster-resources").is_dir() || path.join("cluster-info").is_dir() {
            return Ok(InputKind::BundleDir);
        }
        // A directory holding one bundle folder, as an unpacked troubleshoot archive.
        let inner = std::fs::read_dir(path)
            .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?
            .filter_map(|e| e.ok())
            .find(|e| e.path().join("cluster-resources").is_dir());
        return match inner {
            Some(_) => Ok(InputKind::BundleDir),
            None => Err(InputError::new(format!(
                "{}: not a support bundle (no cluster-resources/ or cluster-info/ inside)",
                path.display()
            ))),
        };
    }
    let mut head = [0u8; 2];
    let mut f = File::open(path)
        .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?;
    let n = f.read(&mut head).unwrap_or(0);
    if n == 2 && head == [0x1f, 0x8b] {
        // gzip: a tar inside has "ustar" at offset 257 of the first block.
        let mut block = [0u8; 512];
        let mut gz = MultiGzDecoder::new(
            File::open(path)
                .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?,
        );
        let got = read_up_to(&mut gz, &mut block)
            .map_err(|e| InputError::new(format!("{}: corrupt gzip data: {e}", path.display())))?;
        if got >= 262 && &block[257..262] == b"ustar" {
            return Ok(InputKind::BundleTarGz);
        }
        return Ok(InputKind::LogFile { gzip: true });
    }
    Ok(InputKind::LogFile { gzip: false })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn io_msg(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

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
struct CheckedRead<'a, R: Read> {
    inner: &'a mut R,
    failed: Option<io::Error>,
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
const MAX_JSON: u64 = 512 * 1024 * 1024;

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
        let parts: Vec<&str> = rel.split('/').collect();
        match parts.as_slice() {
            ["cluster-resources", "pods", "logs", ns, pod, file] if file.ends_with(".log") => {
                recognised = true;
                let stem = &file[..file.len() - 4];
                let (container, previous) = match stem.strip_suffix("-previous") {
                    Some(c) => (c, true),
                    None => (stem, false),
                };
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
            ["cluster-resources", kind, file] if file.ends_with(".json") => {
                recognised = true;
                read_namespaced(&mut ev, rel, kind, r)?;
            }
            ["cluster-resources", file] if file.ends_with(".json") => {
                recognised = true;
                match *file {
                    "namespaces.json" => list_into(&mut ev, rel, r, |ev| &mut ev.namespaces)?,
                    "nodes.json" => list_into(&mut ev, rel, r, |ev| &mut ev.nodes)?,
                    _ => {}
                }
            }
            ["cluster-info", "cluster_version.json"] => {
                recognised = true;
                if let Some(v) = read_json::<serde_json::Value>(&mut ev, rel, r)? {
                    let info = v.get("info").cloned().unwrap_or(v);
                    match serde_json::from_value(info) {
                        Ok(i) => ev.version = Some(i),
                        Err(e) => ev.skip(rel.to_string(), format!("not a version object: {e}")),
                    }
                }
            }
            ["dssc", "settings.json"] => {
                recognised = true;
                if let Some(v) =
                    read_json::<std::collections::BTreeMap<String, Setting>>(&mut ev, rel, r)?
                {
                    for (k, s) in v {
                        ev.set(&k, s.value, s.from);
                    }
                }
            }
            ["dssc", "source.json"] => {
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
            ["dssc", "helm-release.json"] => {
                if let Some(h) = read_json::<crate::model::evidence::HelmRelease>(&mut ev, rel, r)?
                {
                    ev.helm = Some(h);
                }
            }
            ["dssc", "values.json"] => {
                if let Some(v) = read_json::<serde_json::Value>(&mut ev, rel, r)? {
                    ev.values = Some(v);
                }
            }
            ["dssc", "skipped.json"] => {
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

fn read_namespaced(
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
        "network-policy" | "networkpolicies" | "networkpolicy" => {
            list_into(ev, rel, r, |ev| &mut ev.network_policies)
        }
        _ => Ok(()),
    }
}

fn read_json<T: DeserializeOwned>(
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
fn list_into<T: DeserializeOwned>(
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

// ---------------------------------------------------------------------------
// Writing bundles.
//
// Everything is serialised, then redacted, then written: nothing unredacted reaches the
// disk, not even a temporary file.

/// Version of the bundle layout the doctor writes (in `version.yaml`).
pub const BUNDLE_SCHEMA: u32 = 1;

/// One file of a bundle being written: its bundle-relative path and its (redacted)
/// contents.
type BundleFile = (String, Vec<u8>);

/// Writes `ev` as a support bundle in the layout [`load`] reads, with `report_json` as
/// `analysis.json`. `out` ending in `.tar.gz` or `.tgz` gets a gzip-compressed tarball
/// whose entries sit in one top folder `dssc-doctor-bundle-<timestamp>/` (written to a
/// `.partial` file, renamed when complete); any other `out` is a directory that becomes
/// the bundle's root. Secrets are written keys-only, pods and deployments redacted
/// ([`crate::redact::redact_pod`]), logs masked line by line
/// ([`crate::redact::redact_text`]), Helm values redacted; `ev.db_password` is never
/// written.
pub fn write(ev: &Evidence, report_json: &str, out: &Path) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let files = bundle_files(ev, report_json, now)?;
    let name = out.to_string_lossy();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let top = format!("dssc-doctor-bundle-{}", now.format("%Y%m%dT%H%M%SZ"));
        write_tar_gz(&files, out, &top, now.timestamp())
    } else {
        write_dir(&files, out)
    }
}

fn write_tar_gz(files: &[BundleFile], out: &Path, top: &str, mtime: i64) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let result = (|| -> anyhow::Result<()> {
        let f =
            File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let gz =
            flate2::write::GzEncoder::new(io::BufWriter::new(f), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (rel, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(u64::try_from(mtime).unwrap_or(0));
            tar.append_data(&mut h, format!("{top}/{rel}"), &data[..])
                .with_context(|| format!("writing {rel} to {}", partial.display()))?;
        }
        let gz = tar.into_inner()?;
        let mut w = gz.finish()?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&partial, out)
            .with_context(|| format!("renaming {} to {}", partial.display(), out.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn write_dir(files: &[BundleFile], out: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    for (rel, data) in files {
        let p = out.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        std::fs::write(&p, data).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// A name from the cluster made safe as one path component.
fn path_part(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() || s == "." || s == ".." {
        "_".into()
    } else {
        s
    }
}

/// A kubectl List of `items`, each with its kind and apiVersion set.
fn list_json<T>(items: &[T]) -> anyhow::Result<Vec<u8>>
where
    T: k8s_openapi::Resource + serde::Serialize,
{
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let mut v = serde_json::to_value(it)?;
        if let serde_json::Value::Object(o) = &mut v {
            o.insert("kind".into(), T::KIND.into());
            o.insert("apiVersion".into(), T::API_VERSION.into());
        }
        out.push(v);
    }
    let list = serde_json::json!({
        "kind": format!("{}List", T::KIND),
        "apiVersion": T::API_VERSION,
        "metadata": {},
        "items": out,
    });
    Ok(serde_json::to_vec_pretty(&list)?)
}

/// Clones `items`, redacts each, and groups them by namespace as
/// `cluster-resources/<dir>/<ns>.json` files.
fn namespaced<T>(
    files: &mut Vec<BundleFile>,
    dir: &str,
    items: &[T],
    default_ns: &str,
    redact: impl Fn(&mut T),
) -> anyhow::Result<()>
where
    T: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
        + serde::Serialize
        + Clone,
{
    let mut by_ns: std::collections::BTreeMap<String, Vec<T>> = Default::default();
    for it in items {
        let mut it = it.clone();
        crate::redact::redact_meta(it.metadata_mut());
        redact(&mut it);
        let ns = it
            .metadata()
            .namespace
            .clone()
            .unwrap_or_else(|| default_ns.to_string());
        by_ns.entry(ns).or_default().push(it);
    }
    for (ns, list) in by_ns {
        files.push((
            format!("cluster-resources/{dir}/{}.json", path_part(&ns)),
            list_json(&list)?,
        ));
    }
    Ok(())
}

fn cluster_scoped<T>(items: &[T]) -> anyhow::Result<Vec<u8>>
where
    T: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
        + serde::Serialize
        + Clone,
{
    let items: Vec<T> = items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            crate::redact::redact_meta(i.metadata_mut());
            i
        })
        .collect();
    list_json(&items)
}

/// A log's bytes, masked line by line.
fn redact_log(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|b| *b == b'\n') {
        let text = String::from_utf8_lossy(line);
        out.extend_from_slice(crate::redact::redact_text(&text).as_bytes());
    }
    out
}

/// Every file of the bundle, redacted.
fn bundle_files(
    ev: &Evidence,
    report_json: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<BundleFile>> {
    use crate::redact::{self, redact_text};
    let red = |s: &str| redact_text(s).into_owned();
    let default_ns = ev.namespace.clone().unwrap_or_else(|| "default".into());
    let mut files: Vec<BundleFile> = Vec::new();

    let version = serde_json::json!({
        "apiVersion": "troubleshoot.sh/v1beta2",
        "kind": "SupportBundle",
        "spec": {"versionNumber": format!("dssc-doctor {}", env!("CARGO_PKG_VERSION"))},
        "dsscDoctor": {
            "version": env!("CARGO_PKG_VERSION"),
            "bundleSchema": BUNDLE_SCHEMA,
            "collectedAt": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
    });
    files.push((
        "version.yaml".into(),
        serde_yaml::to_string(&version)?.into_bytes(),
    ));

    let mut analysis = match serde_json::from_str::<serde_json::Value>(report_json) {
        Ok(mut v) => {
            redact::redact_json_strings(&mut v);
            serde_json::to_string_pretty(&v)?
        }
        Err(_) => red(report_json),
    };
    analysis.push('\n');
    files.push(("analysis.json".into(), analysis.into_bytes()));

    namespaced(
        &mut files,
        "pods",
        &ev.pods,
        &default_ns,
        redact::redact_pod,
    )?;
    namespaced(&mut files, "events", &ev.events, &default_ns, |e| {
        if let Some(m) = &mut e.message {
            *m = red(m);
        }
    })?;
    namespaced(
        &mut files,
        "configmaps",
        &ev.configmaps,
        &default_ns,
        redact::redact_configmap,
    )?;
    namespaced(
        &mut files,
        "secrets",
        &ev.secrets,
        &default_ns,
        redact::secret_keys_only,
    )?;
    namespaced(&mut files, "services", &ev.services, &default_ns, |_| {})?;
    namespaced(
        &mut files,
        "deployments",
        &ev.deployments,
        &default_ns,
        |d| {
            if let Some(s) = d.spec.template.spec.as_mut() {
                redact::redact_pod_spec(s);
            }
        },
    )?;
    namespaced(
        &mut files,
        "network-policy",
        &ev.network_policies,
        &default_ns,
        |_| {},
    )?;
    files.push((
        "cluster-resources/namespaces.json".into(),
        cluster_scoped(&ev.namespaces)?,
    ));
    files.push((
        "cluster-resources/nodes.json".into(),
        cluster_scoped(&ev.nodes)?,
    ));
    if let Some(info) = &ev.version {
        let v = serde_json::json!({"info": info, "string": info.git_version});
        files.push((
            "cluster-info/cluster_version.json".into(),
            serde_json::to_vec_pretty(&v)?,
        ));
    }

    let mut log_notes = Vec::new();
    let mut logs_written = 0;
    for l in &ev.logs {
        let Some(raw) = &l.raw else {
            log_notes.push(format!(
                "log {}: not written (its text was not kept)",
                red(&l.origin)
            ));
            continue;
        };
        let ns = l.namespace.as_deref().unwrap_or(&default_ns);
        let pod = l.pod.as_deref().unwrap_or("unknown");
        let c = l.container.as_deref().unwrap_or("log");
        let suffix = if l.previous { "-previous" } else { "" };
        files.push((
            format!(
                "cluster-resources/pods/logs/{}/{}/{}{suffix}.log",
                path_part(ns),
                path_part(pod),
                path_part(c)
            ),
            redact_log(raw),
        ));
        logs_written += 1;
    }

    let settings: std::collections::BTreeMap<&String, Setting> = ev
        .settings
        .iter()
        .map(|(k, s)| {
            (
                k,
                Setting {
                    value: red(&s.value),
                    from: red(&s.from),
                },
            )
        })
        .collect();
    files.push((
        "dssc/settings.json".into(),
        serde_json::to_vec_pretty(&settings)?,
    ));
    let kind = serde_json::to_value(ev.kind)?;
    let source = serde_json::json!({
        "namespace": ev.namespace, "release": ev.release, "kind": kind, "origin": red(&ev.origin),
    });
    files.push((
        "dssc/source.json".into(),
        serde_json::to_vec_pretty(&source)?,
    ));
    let skipped: Vec<crate::model::evidence::Skipped> = ev
        .skipped
        .iter()
        .map(|s| crate::model::evidence::Skipped {
            what: red(&s.what),
            why: red(&s.why),
        })
        .collect();
    files.push((
        "dssc/skipped.json".into(),
        serde_json::to_vec_pretty(&skipped)?,
    ));
    if let Some(h) = &ev.helm {
        let mut h = h.clone();
        redact::redact_values(&mut h.config);
        redact::redact_values(&mut h.defaults);
        files.push((
            "dssc/helm-release.json".into(),
            serde_json::to_vec_pretty(&h)?,
        ));
    }
    if let Some(v) = &ev.values {
        let mut v = v.clone();
        redact::redact_values(&mut v);
        files.push(("dssc/values.json".into(), serde_json::to_vec_pretty(&v)?));
    }

    let mut log = format!(
        "dssc-doctor {} bundle of {} ({kind}), collected {}\n",
        env!("CARGO_PKG_VERSION"),
        red(&ev.origin),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    for s in &skipped {
        log.push_str(&format!("skipped {}: {}\n", s.what, s.why));
    }
    for n in &log_notes {
        log.push_str(n);
        log.push('\n');
    }
    log.push_str(&format!(
        "collected: pods={} events={} configmaps={} secrets={} services={} deployments={} \
         networkpolicies={} namespaces={} nodes={} logs={} helm-release={} skipped={}\n",
        ev.pods.len(),
        ev.events.len(),
        ev.configmaps.len(),
        ev.secrets.len(),
        ev.services.len(),
        ev.deployments.len(),
        ev.network_policies.len(),
        ev.namespaces.len(),
        ev.nodes.len(),
        logs_written,
        if ev.helm.is_some() { "yes" } else { "no" },
        skipped.len(),
    ));
    files.push(("dssc/collection.log".into(), log.into_bytes()));
    Ok(files)
}

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
