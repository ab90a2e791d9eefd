//! The evidence model: what was observed, independent of where it came from (a live
//! cluster, a support bundle, a log file). Objects are k8s-openapi's typed structs; logs
//! are kept as scan results (and, for bundle writing, their raw bytes when asked).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, Namespace, Node, Pod, Secret, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::version::Info;
use serde::{Deserialize, Serialize};

/// Where the evidence came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Cluster,
    Bundle,
    Log,
    /// A database probe run on its own.
    Probe,
    /// `preflight`: overrides.yaml, the cluster and the database before install.
    Preflight,
}

/// One container log, scanned.
#[derive(Clone, Debug)]
pub struct Log {
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub container: Option<String>,
    pub previous: bool,
    pub scan: LogScan,
    /// The log as read, kept only when a bundle is being written.
    pub raw: Option<Vec<u8>>,
    /// Where it was read from (a path in a bundle, `-` for stdin, an API path).
    pub origin: String,
}

/// Something that could not be read, and why. Becomes `skipped` in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    pub what: String,
    pub why: String,
}

/// Which namespaces of a bundle were read in full: Smart Check's, and how they were
/// found. Of the others only what the analysis uses is read (Services, EndpointSlices,
/// Endpoints, NetworkPolicies, the cluster DNS pods, the names of ConfigMaps and
/// Secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    pub namespaces: Vec<String>,
    /// `-n`, `dssc/source.json`, or the pods that were found.
    pub from: String,
    /// Namespaces the bundle holds files of besides these.
    pub other_namespaces: usize,
}

impl Scope {
    /// `read in full: namespace trendmicro (found by …); from 12 other namespaces only …`,
    /// or nothing when the bundle holds no other namespace's files.
    pub fn describe(&self) -> Option<String> {
        if self.other_namespaces == 0 {
            return None;
        }
        let word = if self.namespaces.len() == 1 {
            "namespace"
        } else {
            "namespaces"
        };
        Some(format!(
            "read in full: {word} {} ({}); from {} other namespace(s) only Services, EndpointSlices, NetworkPolicies, DNS pods and ConfigMap/Secret names",
            self.namespaces.join(", "),
            self.from,
            self.other_namespaces
        ))
    }
}

/// A database setting and where it was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Setting {
    pub value: String,
    pub from: String,
}

/// The evidence a run works on.
#[derive(Debug)]
pub struct Evidence {
    pub kind: SourceKind,
    /// What was read: a path, `-`, or the cluster's context name.
    pub origin: String,
    pub namespace: Option<String>,
    pub release: Option<String>,
    /// For a bundle read in part: which namespaces were read in full.
    pub scope: Option<Scope>,
    pub pods: Vec<Pod>,
    pub events: Vec<Event>,
    pub configmaps: Vec<ConfigMap>,
    /// Secrets: values are never kept (but a value that is PEM certificates only);
    /// `data` holds the keys with masked values.
    pub secrets: Vec<Secret>,
    /// The CA bundle of `db.tls.ca.valueFrom.secretKeyRef` (PEM certificates only) and
    /// where it was read (`secret NAME key KEY`), for the probe.
    pub secret_ca: Option<(Vec<u8>, String)>,
    pub services: Vec<Service>,
    pub deployments: Vec<Deployment>,
    pub network_policies: Vec<NetworkPolicy>,
    /// EndpointSlices and Endpoints read (the cluster DNS Service's, and a database
    /// Service's), for the NetworkPolicy reasoning.
    pub endpoint_slices: Vec<EndpointSlice>,
    pub endpoints: Vec<Endpoints>,
    pub namespaces: Vec<Namespace>,
    pub nodes: Vec<Node>,
    pub version: Option<Info>,
    pub logs: Vec<Log>,
    /// DB settings by name (`host`, `port`, `user`, `sslmode`, `ca_kind`, `ca_name`,
    /// `ca_key`, …) with their source.
    pub settings: BTreeMap<String, Setting>,
    pub skipped: Vec<Skipped>,
    /// The deployed Helm release of Smart Check, decoded, its values redacted.
    pub helm: Option<HelmRelease>,
    /// The values files given with --values, merged, secrets redacted.
    pub values: Option<serde_json::Value>,
    /// The database password, for the probe only: kept in memory, never printed or
    /// written (its Debug output is redacted).
    pub db_password: Option<secrecy::SecretString>,
    /// The database user from the Secret db-init's PGUSER names, for the probe only:
    /// the chart keeps it in a Secret, so it is not a reported setting.
    pub db_user: Option<String>,
}

/// A Helm 3 release as stored in `sh.helm.release.v1.<name>.v<N>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmRelease {
    pub name: String,
    pub namespace: String,
    pub revision: u32,
    /// `name-version` of the chart.
    pub chart: String,
    pub status: String,
    /// The user-supplied values (overrides.yaml), secrets redacted.
    pub config: serde_json::Value,
    /// The chart's default values, secrets redacted.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub defaults: serde_json::Value,
}

impl Evidence {
    pub fn new(kind: SourceKind, origin: impl Into<String>) -> Evidence {
        Evidence {
            kind,
            origin: origin.into(),
            namespace: None,
            release: None,
            scope: None,
            pods: Vec::new(),
            events: Vec::new(),
            configmaps: Vec::new(),
            secrets: Vec::new(),
            secret_ca: None,
            services: Vec::new(),
            deployments: Vec::new(),
            network_policies: Vec::new(),
            endpoint_slices: Vec::new(),
            endpoints: Vec::new(),
            namespaces: Vec::new(),
            nodes: Vec::new(),
            version: None,
            logs: Vec::new(),
            settings: BTreeMap::new(),
            skipped: Vec::new(),
            helm: None,
            values: None,
            db_password: None,
            db_user: None,
        }
    }

    pub fn skip(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.skipped.push(Skipped {
            what: what.into(),
            why: why.into(),
        });
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>, from: impl Into<String>) {
        let value = value.into();
        if value.is_empty() {
            return;
        }
        self.settings.entry(key.to_string()).or_insert(Setting {
            value,
            from: from.into(),
        });
    }

    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(|s| s.value.as_str())
    }

    /// The pods of the Smart Check install: those of the release when one is known,
    /// else those with a db-init init container, else every pod.
    pub fn dssc_pods(&self) -> Vec<&Pod> {
        let is_dssc = |p: &Pod| {
            let labels = p.metadata.labels.as_ref();
            let release_ok = match (&self.release, labels.and_then(|l| l.get("release"))) {
                (Some(r), Some(l)) => r == l,
                _ => false,
            };
            release_ok || has_db_init(p)
        };
        self.pods.iter().filter(|p| is_dssc(p)).collect()
    }
}

/// Whether a pod has a `db-init` (or `*-db-init`) init container: the chart's mark of
/// a pod that needs the database.
pub fn has_db_init(p: &Pod) -> bool {
    p.spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .is_some_and(|ics| ics.iter().any(|c| is_db_init(&c.name)))
}

pub fn is_db_init(name: &str) -> bool {
    name == "db-init" || name.ends_with("-db-init")
}

pub fn pod_name(p: &Pod) -> &str {
    p.metadata.name.as_deref().unwrap_or("")
}

pub fn pod_ns(p: &Pod) -> &str {
    p.metadata.namespace.as_deref().unwrap_or("")
}

/// A pod's row as `kubectl get pods` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PodRow {
    pub namespace: String,
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: i32,
    #[serde(skip)]
    pub ok: bool,
    #[serde(skip)]
    pub in_init: bool,
}

/// The STATUS column of `kubectl get pods`, following kubectl's printer: init
/// containers first (`Init:0/2`, `Init:CrashLoopBackOff`, …), then the containers'
/// waiting/terminated reasons, then `Terminating`.
pub fn pod_row(p: &Pod) -> PodRow {
    let spec = p.spec.as_ref();
    let status = p.status.as_ref();
    let total = spec.map(|s| s.containers.len()).unwrap_or(0);
    let mut reason = status
        .and_then(|s| s.reason.clone())
        .or_else(|| status.and_then(|s| s.phase.clone()))
        .unwrap_or_else(|| "Unknown".into());
    let mut restarts = 0;
    let mut in_init = false;
    let init_total = spec
        .and_then(|s| s.init_containers.as_ref())
        .map(|v| v.len())
        .unwrap_or(0);
    if let Some(ics) = status.and_then(|s| s.init_container_statuses.as_ref()) {
        for (i, c) in ics.iter().enumerate() {
            restarts += c.restart_count;
            let st = c.state.as_ref();
            if let Some(t) = st.and_then(|s| s.terminated.as_ref()) {
                if t.exit_code == 0 {
                    continue;
                }
                reason = match &t.reason {
                    Some(r) if !r.is_empty() => format!("Init:{r}"),
                    _ if t.signal.unwrap_or(0) != 0 => {
                        format!("Init:Signal:{}", t.signal.unwrap_or(0))
                    }
                    _ => format!("Init:ExitCode:{}", t.exit_code),
                };
                in_init = true;
                break;
            }
            if let Some(w) = st.and_then(|s| s.waiting.as_ref()) {
                if let Some(r) = w
                    .reason
                    .as_deref()
                    .filter(|r| !r.is_empty() && *r != "PodInitializing")
                {
                    reason = format!("Init:{r}");
                    in_init = true;
                    break;
                }
            }
            reason = format!("Init:{i}/{init_total}");
            in_init = true;
            break;
        }
    } else if init_total > 0 && status.and_then(|s| s.phase.as_deref()) == Some("Pending") {
        // No statuses yet (e.g. volumes not mounted): kubectl shows Init:0/N.
        reason = format!("Init:0/{init_total}");
        in_init = true;
    }
    let mut ready = 0;
    if !in_init {
        restarts = 0;
        let mut has_running = false;
        if let Some(cs) = status.and_then(|s| s.container_statuses.as_ref()) {
            for c in cs.iter().rev() {
                restarts += c.restart_count;
                let st = c.state.as_ref();
                if let Some(w) = st
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.clone())
                {
                    if !w.is_empty() {
                        reason = w;
                    }
                } else if let Some(t) = st.and_then(|s| s.terminated.as_ref()) {
                    reason = match &t.reason {
                        Some(r) if !r.is_empty() => r.clone(),
                        _ if t.signal.unwrap_or(0) != 0 => {
                            format!("Signal:{}", t.signal.unwrap_or(0))
                        }
                        _ => format!("ExitCode:{}", t.exit_code),
                    };
                } else if c.ready && st.and_then(|s| s.running.as_ref()).is_some() {
                    has_running = true;
                    ready += 1;
                } else if st.and_then(|s| s.running.as_ref()).is_some() {
                    has_running = true;
                }
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    } else if let Some(cs) = status.and_then(|s| s.container_statuses.as_ref()) {
        ready = cs.iter().filter(|c| c.ready).count();
    }
    if p.metadata.deletion_timestamp.is_some() {
        reason = if status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let ok =
        (reason == "Running" && ready == total) || reason == "Completed" || reason == "Succeeded";
    PodRow {
        namespace: pod_ns(p).to_string(),
        name: pod_name(p).to_string(),
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
        ok,
        in_init,
    }
}

/// One rule matched in one log, with the repeats counted.
#[derive(Clone, Debug)]
pub struct LogHit {
    pub rule: usize,
    pub captures: Vec<(String, String)>,
    /// The meaningful text of the first matching line (the JSON `error` field, or the
    /// line itself).
    pub text: String,
    pub count: u64,
    pub first_line: u64,
    pub last_line: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
}

/// What a scan of one log found.
#[derive(Clone, Debug, Default)]
pub struct LogScan {
    pub bytes: u64,
    pub lines: u64,
    pub hits: Vec<LogHit>,
    /// The log holds NUL bytes: it is not text and was not scanned.
    pub binary: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn init_waiting_shows_init_counter() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "vulnerability-scan-1", "namespace": "ns"},
            "spec": {"initContainers": [{"name": "db-init"}, {"name": "vulnerabilityscan-db-init"}],
                     "containers": [{"name": "vs"}]},
            "status": {"phase": "Pending",
              "initContainerStatuses": [
                {"name": "db-init", "ready": false, "restartCount": 0, "image": "", "imageID": "",
                 "state": {"running": {}}},
                {"name": "vulnerabilityscan-db-init", "ready": false, "restartCount": 0, "image": "", "imageID": "",
                 "state": {"waiting": {"reason": "PodInitializing"}}}],
              "containerStatuses": [{"name": "vs", "ready": false, "restartCount": 0, "image": "", "imageID": "",
                 "state": {"waiting": {"reason": "PodInitializing"}}}]}
        }));
        let r = pod_row(&p);
        assert_eq!(r.status, "Init:0/2");
        assert_eq!(r.ready, "0/1");
        assert!(!r.ok && r.in_init);
    }

    #[test]
    fn crashloop_and_running() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "image": "", "imageID": "", "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 7, "image": "", "imageID": "",
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        }));
        let r = pod_row(&p);
        assert_eq!(
            (r.status.as_str(), r.ready.as_str(), r.restarts),
            ("CrashLoopBackOff", "1/2", 7)
        );
        let p = pod(serde_json::json!({
            "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "image": "", "imageID": "", "state": {"running": {}}}]}
        }));
        assert!(pod_row(&p).ok);
    }
}
