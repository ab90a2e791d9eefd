//! Writing bundles: everything serialised, then redacted, then written (nothing
//! unredacted reaches the disk, not even a temporary file).

use super::*;

/// Version of the bundle layout the doctor writes (in `version.yaml`).
pub const BUNDLE_SCHEMA: u32 = 1;

/// One file of a bundle being written: its bundle-relative path and its (redacted)
/// contents.
pub(crate) type BundleFile = (String, Vec<u8>);

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

pub(crate) fn write_tar_gz(
    files: &[BundleFile],
    out: &Path,
    top: &str,
    mtime: i64,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    // A fresh temporary file beside `out` (never a predictable name a symlink could be
    // planted at), renamed onto `out` when complete.
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".dssc-doctor-bundle-")
        .suffix(".partial")
        .tempfile_in(parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    let partial = tmp.path().to_path_buf();
    let result = (|| -> anyhow::Result<()> {
        let f = tmp
            .as_file()
            .try_clone()
            .with_context(|| format!("opening {}", partial.display()))?;
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
    result?;
    tmp.persist(out)
        .map(|_| ())
        .with_context(|| format!("renaming {} to {}", partial.display(), out.display()))
}

/// Writes the bundle as a directory: refused when `out` exists and is not an empty
/// directory (a symlink included); written into a fresh 0700 directory beside it with
/// new files only, then renamed onto `out`, so nothing already there is followed or
/// overwritten.
pub(crate) fn write_dir(files: &[BundleFile], out: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(InputError::new(format!("{}: {}", out.display(), io_msg(&e))).into()),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(InputError::new(format!(
                "{}: is a symbolic link; give a new or empty directory",
                out.display()
            ))
            .into())
        }
        Ok(m) if m.is_dir() && std::fs::read_dir(out)?.next().is_none() => {}
        Ok(_) => {
            return Err(InputError::new(format!(
                "{}: already exists and is not an empty directory; give a new or empty directory",
                out.display()
            ))
            .into())
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".dssc-doctor-bundle-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir_in(parent)
        .with_context(|| format!("creating a temporary directory in {}", parent.display()))?;
    for (rel, data) in files {
        let p = tmp.path().join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .with_context(|| format!("writing {}", p.display()))?;
        f.write_all(data)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", p.display()))?;
    }
    std::fs::rename(tmp.path(), out)
        .with_context(|| format!("renaming the bundle to {}", out.display()))?;
    // The directory is `out` now; nothing is left to clean up.
    let _ = tmp.keep();
    Ok(())
}

/// A name from the cluster made safe as one path component.
pub(crate) fn path_part(s: &str) -> String {
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
pub(crate) fn list_json<T>(items: &[T]) -> anyhow::Result<Vec<u8>>
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
pub(crate) fn namespaced<T>(
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
            super::layout::namespaced_path(dir, &path_part(&ns)),
            list_json(&list)?,
        ));
    }
    Ok(())
}

pub(crate) fn cluster_scoped<T>(items: &[T]) -> anyhow::Result<Vec<u8>>
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
pub(crate) fn redact_log(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|b| *b == b'\n') {
        let text = String::from_utf8_lossy(line);
        out.extend_from_slice(crate::redact::redact_text(&text).as_bytes());
    }
    out
}

/// Every file of the bundle, redacted.
pub(crate) fn bundle_files(
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
        serde_saphyr::to_string(&version)?.into_bytes(),
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
        "endpointslices",
        &ev.endpoint_slices,
        &default_ns,
        |_| {},
    )?;
    namespaced(&mut files, "endpoints", &ev.endpoints, &default_ns, |_| {})?;
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
        super::layout::cluster_scoped_path("namespaces"),
        cluster_scoped(&ev.namespaces)?,
    ));
    files.push((
        super::layout::cluster_scoped_path("nodes"),
        cluster_scoped(&ev.nodes)?,
    ));
    if let Some(info) = &ev.version {
        let v = serde_json::json!({"info": info, "string": info.git_version});
        files.push((
            super::layout::CLUSTER_VERSION.into(),
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
        files.push((
            super::layout::log_path(&path_part(ns), &path_part(pod), &path_part(c), l.previous),
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
