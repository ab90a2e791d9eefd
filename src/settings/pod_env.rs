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

/// Fills `release`, `namespace` and the DB settings from the pods, when not already
/// known from a better source.
pub fn from_pods(ev: &mut Evidence) {
    let db_pods: Vec<Pod> = ev.pods.iter().filter(|p| has_db_init(p)).cloned().collect();
    if ev.release.is_none() {
        let mut votes: BTreeMap<String, usize> = BTreeMap::new();
        for p in &db_pods {
            if let Some(r) = p.metadata.labels.as_ref().and_then(|l| l.get("release")) {
                *votes.entry(r.clone()).or_default() += 1;
            }
        }
        ev.release = votes.into_iter().max_by_key(|(_, n)| *n).map(|(r, _)| r);
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
