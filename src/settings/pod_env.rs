//! Discovery of the release, namespace and database settings from the evidence: the
//! db-init container's environment (`PGHOST`, `PGPORT`, `PGSSLMODE`, …) and the
//! `database-ca` volume of the chart's pods. Settings from other sources (values files,
//! the Helm release) are recorded before this runs and take precedence.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use crate::model::evidence::{has_db_init, is_db_init, pod_name, Evidence};

/// The chart's default release name.
pub const DEFAULT_RELEASE: &str = "deepsecurity-smartcheck";
/// Where the chart is installed from, per the vendor's guide.
pub const CHART: &str = "https://github.com/deep-security/smartcheck-helm/archive/master.tar.gz";

/// The CA reference a pod mounts as volume `database-ca`: (kind, name, key).
pub fn pod_ca_ref(p: &Pod) -> Option<(String, String, String)> {
    let vol = p
        .spec
        .as_ref()?
        .volumes
        .as_ref()?
        .iter()
        .find(|v| v.name == "database-ca")?;
    if let Some(cm) = &vol.config_map {
        let key = cm
            .items
            .as_ref()
            .and_then(|i| i.first())
            .map(|i| i.key.clone())
            .unwrap_or_default();
        return Some(("configmap".into(), cm.name.clone(), key));
    }
    if let Some(s) = &vol.secret {
        let key = s
            .items
            .as_ref()
            .and_then(|i| i.first())
            .map(|i| i.key.clone())
            .unwrap_or_default();
        return Some((
            "secret".into(),
            s.secret_name.clone().unwrap_or_default(),
            key,
        ));
    }
    None
}

fn db_init_container(p: &Pod) -> Option<&k8s_openapi::api::core::v1::Container> {
    p.spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .and_then(|ics| {
            ics.iter()
                .find(|c| c.name == "db-init")
                .or_else(|| ics.iter().find(|c| is_db_init(&c.name)))
        })
}

/// The plain (non-secret) env of a pod's db-init container.
pub fn db_init_env(p: &Pod) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(ic) = db_init_container(p) else {
        return out;
    };
    for e in ic.env.iter().flatten() {
        if let Some(v) = &e.value {
            out.insert(e.name.clone(), v.clone());
        }
    }
    out
}

/// The Secret references of a pod's db-init env: variable → (Secret name, key), e.g.
/// `PGPASSWORD` → (`<fullname>-db`, `database-password`).
pub fn db_init_secret_refs(p: &Pod) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    let Some(ic) = db_init_container(p) else {
        return out;
    };
    for e in ic.env.iter().flatten() {
        if let Some(r) = e
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
        {
            out.insert(e.name.clone(), (r.name.clone(), r.key.clone()));
        }
    }
    out
}

/// Context values for a pod's findings: its namespace and CA reference.
pub fn pod_context(p: &Pod) -> BTreeMap<String, String> {
    let mut c = BTreeMap::new();
    if let Some(ns) = &p.metadata.namespace {
        c.insert("namespace".into(), ns.clone());
    }
    if let Some(r) = p.metadata.labels.as_ref().and_then(|l| l.get("release")) {
        c.insert("release".into(), r.clone());
    }
    if let Some((kind, name, key)) = pod_ca_ref(p) {
        c.insert("ca_kind".into(), kind);
        c.insert("ca_name".into(), name);
        if !key.is_empty() {
            c.insert("ca_key".into(), key);
        }
    }
    c
}

/// The Helm release of the install, one rule for live collection and bundles: the one
/// asked for (else the chart's default) when some pod carries it, else the release most
/// pods with a db-init container carry, else the one asked for.
pub fn detect_release(pods: &[Pod], given: Option<&str>) -> Option<String> {
    fn release_of(p: &Pod) -> Option<&String> {
        p.metadata.labels.as_ref().and_then(|l| l.get("release"))
    }
    let wanted = given.unwrap_or(DEFAULT_RELEASE);
    if pods
        .iter()
        .any(|p| release_of(p).is_some_and(|r| r == wanted))
    {
        return Some(wanted.to_string());
    }
    let mut votes: BTreeMap<&String, usize> = BTreeMap::new();
    for r in pods
        .iter()
        .filter(|p| has_db_init(p))
        .filter_map(release_of)
    {
        *votes.entry(r).or_default() += 1;
    }
    votes
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(r, _)| r.clone())
        .or_else(|| given.map(str::to_string))
}

/// Fills `release`, `namespace` and the DB settings from the pods, when not already
/// known from a better source.
pub fn from_pods(ev: &mut Evidence) {
    let db_pods: Vec<Pod> = ev.pods.iter().filter(|p| has_db_init(p)).cloned().collect();
    if ev.release.is_none() {
        ev.release = detect_release(&ev.pods, None);
    }
    if ev.namespace.is_none() {
        ev.namespace = db_pods.first().and_then(|p| p.metadata.namespace.clone());
    }
    let Some(p) = db_pods.iter().find(|p| {
        ev.release.is_none()
            || p.metadata.labels.as_ref().and_then(|l| l.get("release")) == ev.release.as_ref()
    }) else {
        return;
    };
    let from = format!("pod {} (db-init env)", pod_name(p));
    let env = db_init_env(p);
    for (var, key) in [
        ("PGHOST", "host"),
        ("PGPORT", "port"),
        ("PGSSLMODE", "sslmode"),
        ("PGSSLROOTCERT", "sslrootcert"),
        ("PGUSER", "user"),
    ] {
        if let Some(v) = env.get(var) {
            ev.set(key, v.clone(), from.clone());
        }
    }
    if let Some((kind, name, key)) = pod_ca_ref(p) {
        let from = format!("pod {} (volume database-ca)", pod_name(p));
        ev.set("ca_kind", kind, from.clone());
        ev.set("ca_name", name, from.clone());
        ev.set("ca_key", key, from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, release: &str, db_init: bool) -> Pod {
        let init = if db_init {
            serde_json::json!([{"name": "db-init", "image": "x"}])
        } else {
            serde_json::json!([])
        };
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "ns", "labels": {"release": release}},
            "spec": {"containers": [{"name": "app", "image": "x"}], "initContainers": init}
        }))
        .unwrap()
    }

    /// Live collection took the first db-init pod's release, bundles the most common
    /// one: the same pods could be read as two installs.
    #[test]
    fn release_detection_is_one_rule() {
        let pods = [
            pod("a", "old", true),
            pod("b", "dssc", true),
            pod("c", "dssc", true),
            pod("d", "other", false),
        ];
        assert_eq!(detect_release(&pods, None).as_deref(), Some("dssc"));
        assert_eq!(detect_release(&pods, Some("old")).as_deref(), Some("old"));
        assert_eq!(detect_release(&pods, Some("nope")).as_deref(), Some("dssc"));
        assert_eq!(detect_release(&[], Some("nope")).as_deref(), Some("nope"));
        let mut default = pods.to_vec();
        default.push(pod("e", DEFAULT_RELEASE, false));
        assert_eq!(
            detect_release(&default, None).as_deref(),
            Some(DEFAULT_RELEASE)
        );
    }
}
