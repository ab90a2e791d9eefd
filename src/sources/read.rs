//! Reading bundles: walking a directory or tarball once, typed lists per kind, logs
//! streamed through the scanner, bounded file sizes.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::layout::Entry;
use super::limits::{size_label, Budget, Counted, Limits};
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
                let Some(rel) = bundle_rel(&rel) else {
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
                let Some(rel) = bundle_rel(&name) else {
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
    load_within(path, kind, cat, scanner, keep_raw, &Limits::default())
}

/// [`load`] within `limits`: what is over a budget is skipped (DOC001) and the rest read.
pub fn load_within(
    path: &Path,
    kind: &InputKind,
    cat: &Catalogue,
    scanner: &Scanner,
    keep_raw: bool,
    limits: &Limits,
) -> anyhow::Result<Evidence> {
    let mut ev = Evidence::new(SourceKind::Bundle, path.display().to_string());
    let mut recognised = false;
    let budget = Budget::new(limits.clone());
    let mut kept = Kept::default();
    let skips = walk(path, kind, &budget, |rel, r| {
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
            Entry::Namespaced { dir, .. } => {
                recognised = true;
                read_namespaced(&mut ev, rel, dir, r, limits, &mut kept)?;
            }
            Entry::ClusterScoped { name } => {
                recognised = true;
                match name {
                    "namespaces" => {
                        list_into(&mut ev, rel, r, limits, &mut kept, |ev| &mut ev.namespaces)?
                    }
                    "nodes" => list_into(&mut ev, rel, r, limits, &mut kept, |ev| &mut ev.nodes)?,
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
    for (what, why) in skips {
        ev.skip(what, why);
    }
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
    limits: &Limits,
    kept: &mut Kept,
) -> anyhow::Result<()> {
    match kind {
        "pods" => list_into(ev, rel, r, limits, kept, |ev| &mut ev.pods),
        "events" => list_into(ev, rel, r, limits, kept, |ev| &mut ev.events),
        "configmaps" => list_into(ev, rel, r, limits, kept, |ev| &mut ev.configmaps),
        "secrets" => {
            let before = ev.secrets.len();
            list_into(ev, rel, r, limits, kept, |ev| &mut ev.secrets)?;
            // Values are never kept, whatever the bundle holds.
            for s in &mut ev.secrets[before..] {
                crate::redact::secret_keys_only(s);
            }
            Ok(())
        }
        "services" => list_into(ev, rel, r, limits, kept, |ev| &mut ev.services),
        "deployments" => list_into(ev, rel, r, limits, kept, |ev| &mut ev.deployments),
        "endpointslices" => list_into(ev, rel, r, limits, kept, |ev| &mut ev.endpoint_slices),
        "endpoints" => list_into(ev, rel, r, limits, kept, |ev| &mut ev.endpoints),
        "network-policy" | "networkpolicies" | "networkpolicy" => {
            list_into(ev, rel, r, limits, kept, |ev| &mut ev.network_policies)
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

/// Estimated memory kept per kind so far (by the kept type).
#[derive(Default)]
pub(crate) struct Kept(std::collections::BTreeMap<&'static str, u64>);

/// Reads a kubectl List (`{"items": [...]}`) or a bare array as a stream, one object
/// at a time, so memory follows what is kept, not the file. Objects that do not parse
/// as the expected kind, objects over the per-object cap and objects past the kept cap
/// of their kind are counted and recorded as skipped; the rest are kept. A file cut
/// short keeps the objects read before the cut.
pub(crate) fn list_into<T: DeserializeOwned>(
    ev: &mut Evidence,
    rel: &str,
    r: &mut dyn Read,
    limits: &Limits,
    kept: &mut Kept,
    field: impl Fn(&mut Evidence) -> &mut Vec<T>,
) -> anyhow::Result<()> {
    let cost = kept.0.entry(std::any::type_name::<T>()).or_insert(0);
    let mut sink = Sink {
        out: field(ev),
        cost,
        limits,
        seen: 0,
        bad: 0,
        over_size: 0,
        over_keep: 0,
        first_err: None,
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 << 10, r));
    let res = ListSeed(&mut sink)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    let (seen, bad, over_size, over_keep, first_err) = (
        sink.seen,
        sink.bad,
        sink.over_size,
        sink.over_keep,
        sink.first_err.take(),
    );
    if let Err(e) = res {
        let why = if e.is_data() && seen == 0 {
            let m = e.to_string();
            if m.contains("a list of items") {
                "items is not a list".to_string()
            } else if m.contains("a kubectl List") {
                "not a kubectl List".to_string()
            } else {
                format!("invalid JSON: {e}")
            }
        } else if seen > 0 {
            format!("invalid JSON: {e}; the {seen} object(s) before it were read")
        } else {
            format!("invalid JSON: {e}")
        };
        ev.skip(rel.to_string(), why);
    }
    if bad > 0 {
        ev.skip(
            rel.to_string(),
            format!(
                "{bad} item(s) unreadable: {}",
                first_err.unwrap_or_default()
            ),
        );
    }
    if over_size > 0 {
        ev.skip(
            rel.to_string(),
            format!(
                "{over_size} of {seen} object(s) not read: each over the per-object limit of {}",
                size_label(limits.object)
            ),
        );
    }
    if over_keep > 0 {
        ev.skip(
            rel.to_string(),
            format!(
                "{over_keep} of {seen} object(s) not read: over the {} kept per kind ({} for objects not naming Smart Check; raise with --max-input-size)",
                size_label(limits.kept_per_kind),
                size_label(limits.kept_per_kind / 4)
            ),
        );
    }
    Ok(())
}

/// Where the objects of one List go, with the counts of what was left out.
struct Sink<'a, T> {
    out: &'a mut Vec<T>,
    cost: &'a mut u64,
    limits: &'a Limits,
    seen: usize,
    bad: usize,
    over_size: usize,
    over_keep: usize,
    first_err: Option<String>,
}

impl<T: DeserializeOwned> Sink<'_, T> {
    fn offer(&mut self, raw: &RawValue) {
        self.seen += 1;
        let s = raw.get();
        let len = s.len() as u64;
        if len > self.limits.object {
            self.over_size += 1;
            return;
        }
        // A typed object takes about twice its compact JSON, plus its own size.
        let cost = len * 2 + std::mem::size_of::<T>() as u64;
        let cap = self.limits.kept_per_kind;
        // Objects that name Smart Check (its db-init containers, its chart labels) get
        // the whole cap; the others a quarter of it, so an unrelated namespace cannot
        // crowd them out or grow memory.
        let ours = s.contains("db-init") || s.contains("smartcheck");
        let room = if ours { cap } else { cap / 4 };
        if self.cost.saturating_add(cost) > room {
            self.over_keep += 1;
            return;
        }
        match serde_json::from_str::<T>(s) {
            Ok(x) => {
                *self.cost += cost;
                self.out.push(x);
            }
            Err(e) => {
                self.bad += 1;
                self.first_err.get_or_insert(e.to_string());
            }
        }
    }
}

/// The top of a List file: an object whose `items` are read one by one, or a bare
/// array of objects.
struct ListSeed<'s, 'a, T>(&'s mut Sink<'a, T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for ListSeed<'_, '_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ListSeed<'_, '_, T> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a kubectl List")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                map.next_value_seed(ItemsSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        ItemsSeed(self.0).visit_seq(seq)
    }
}

/// The `items` of a List.
struct ItemsSeed<'s, 'a, T>(&'s mut Sink<'a, T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for ItemsSeed<'_, '_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ItemsSeed<'_, '_, T> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of items")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            self.0.offer(&raw);
        }
        Ok(())
    }
}
