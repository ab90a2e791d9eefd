//! The CA checks before install: the referenced ConfigMap/Secret key (MNT001/MNT002,
//! or PRE002 when `--ca-file` gives the CA the object is still to be created from) and
//! the bundle itself (TLS007-009), from the cluster or from `--ca-file`.

use super::*;
use crate::catalogue::ids;

pub(crate) fn ca_checks(
    run: &mut Run,
    s: &DbSettings,
    r: Read<Option<KeyData>>,
    ns_missing: bool,
    ms: Option<Instant>,
) -> Option<(Vec<u8>, String)> {
    let ns = run.namespace.clone();
    let kind = s.ca_kind.map(CaKind::as_str).unwrap_or("configmap");
    let name = s.ca_name.clone().unwrap_or_default();
    let key = s.ca_key.clone().unwrap_or_default();
    let subject = format!("{kind} {ns}/{name}");
    let data = match r {
        Read::Forbidden(e) | Read::Failed(e) => {
            run.skipped.push(Skipped {
                what: format!("{kind} {name}"),
                why: e.clone(),
            });
            run.row("cluster", "ca object", "skip", e, ms);
            return None;
        }
        Read::Ok(None) if run.ca_file.is_some() => {
            let file = run.ca_file.clone().unwrap_or_default();
            let create = if kind == "secret" {
                "secret generic"
            } else {
                "configmap"
            };
            let command =
                format!("kubectl create {create} {name} --from-file={key}={file} -n {ns}");
            run.hit(
                ids::PRE002,
                &subject,
                format!(
                    "{kind} {name} does not exist yet in namespace {ns}; --ca-file {file} is the CA it is to hold"
                ),
                vec![("ca_file".into(), file)],
            );
            run.row(
                "cluster",
                "ca object",
                "warn",
                format!(
                    "{kind} {name} is still to be created in {ns}, before helm install: {command}"
                ),
                ms,
            );
            return None;
        }
        Read::Ok(None) => {
            let text = format!(
                "MountVolume.SetUp failed for volume \"database-ca\" : {kind} \"{name}\" not found (before install: {kind} {name} does not exist in namespace {ns}{})",
                if ns_missing { ", which does not exist yet" } else { "" }
            );
            run.hit(
                ids::MNT001,
                &subject,
                text.clone(),
                vec![
                    ("volume".into(), "database-ca".into()),
                    ("objkind".into(), kind.into()),
                    ("object".into(), name.clone()),
                ],
            );
            run.row(
                "cluster",
                "ca object",
                "fail",
                format!("{kind} {name} not found in namespace {ns}"),
                ms,
            );
            return None;
        }
        Read::Ok(Some(d)) => d,
    };
    let Some(pem) = data.get(&key) else {
        let closest =
            settings::closest_key(&key, data.keys().map(String::as_str)).map(str::to_string);
        let have = if data.is_empty() {
            "it has no keys".to_string()
        } else {
            format!(
                "it has {}",
                data.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        let mut captures = vec![
            ("objkind".to_string(), kind.to_string()),
            ("key".to_string(), key.clone()),
        ];
        if let Some(c) = &closest {
            captures.push(("closest".into(), c.clone()));
        }
        let text = format!(
            "{kind} references non-existent config key: {key}{} (before install: {kind} {name} in namespace {ns} has no key {key}; {have})",
            closest
                .as_ref()
                .map(|c| format!(" (closest existing key: {c})"))
                .unwrap_or_default()
        );
        run.hit(ids::MNT002, &subject, text, captures);
        run.row(
            "cluster",
            "ca object",
            "fail",
            format!(
                "{kind} {name} has no key {key}; {have}{}",
                closest
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default()
            ),
            ms,
        );
        return None;
    };
    run.row(
        "cluster",
        "ca object",
        "pass",
        format!("{kind} {name} in {ns} has key {key}"),
        ms,
    );
    if pem.as_slice() == crate::redact::HIDDEN.as_bytes() {
        run.row(
            "cluster",
            "ca certificate",
            "skip",
            format!("the value of {kind} {name} is hidden"),
            None,
        );
        return None;
    }
    let origin = format!("{kind} {name} key {key}");
    bundle_checks(run, pem, &origin, &subject, "cluster", "ca certificate")
        .then(|| (pem.clone(), origin))
}

/// `--ca-file`: the bundle checked like the cluster's (TLS007-009); returns it for the
/// probe when it holds a CA certificate.
pub(crate) fn ca_file_checks(run: &mut Run, f: &CaFile) -> Option<(Vec<u8>, String)> {
    let origin = format!("--ca-file {}", f.path);
    bundle_checks(run, &f.pem, &origin, &origin, "values", "ca file")
        .then(|| (f.pem.clone(), origin))
}

/// The bundle's findings and its check row; true when it holds a certificate.
fn bundle_checks(
    run: &mut Run,
    pem: &[u8],
    origin: &str,
    subject: &str,
    group: &str,
    name: &str,
) -> bool {
    let (hits, subjects) = probe::cert::bundle_findings(pem, origin);
    let mut worst = "pass";
    let mut problems = Vec::new();
    for h in &hits {
        if let Some(rule) = run.cat.get(&h.id) {
            let r = severity_result(rule.severity);
            if r == "fail" || (r == "warn" && worst == "pass") {
                worst = r;
            }
        }
        problems.push(h.evidence.clone());
        if let Some(id) = ids::lookup(&h.id) {
            run.hit(id, subject, h.evidence.clone(), h.captures.clone());
        }
    }
    let detail = if problems.is_empty() {
        format!(
            "{} CA certificate(s): {}",
            subjects.len(),
            subjects.join("; ")
        )
    } else {
        problems.join("; ")
    };
    run.row(group, name, worst, detail, None);
    !subjects.is_empty()
}
