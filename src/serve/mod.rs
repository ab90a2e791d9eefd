//! `serve`: a read-only Kubernetes API over a support bundle (directory or tar.gz).
//!
//! Every file of the bundle is read into memory once ([`BundleApi::load`]); requests are
//! answered from there by [`BundleApi::respond`], a pure function, and served over
//! HTTP/1.1 by [`start`]. Enough of the API is implemented for `kubectl get/describe/
//! logs` and for the `kube` client: `/version`, legacy discovery (`/api`, `/apis`,
//! `/api/v1`, `/apis/<group>/<version>`), get and list of namespaced and cluster-scoped
//! resources with label and field selectors, `pods/{name}/log`, server-side Tables for
//! kubectl, and `Status` objects for errors. Only GET and HEAD are allowed; Secret
//! values are never served.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::model::error::InputError;
use crate::sources::{self, InputKind};

/// A resource the server knows: where it lives in the API and in the bundle.
#[derive(Debug)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    /// Plural name, as in URLs (`pods`).
    pub name: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Names in the bundle: `cluster-resources/<dir>/<ns>.json` for namespaced
    /// resources, `cluster-resources/<dir>.json` for cluster-scoped ones.
    pub bundle_names: &'static [&'static str],
}

impl ResourceDef {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `deployments.apps`, as Status messages name resources.
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{}", self.name, self.group)
        }
    }
}

const ALL: &[&str] = &["all"];

macro_rules! res {
    ($g:expr, $v:expr, $n:expr, $s:expr, $k:expr, $ns:expr, $short:expr, $cat:expr, $b:expr) => {
        ResourceDef {
            group: $g,
            version: $v,
            name: $n,
            singular: $s,
            kind: $k,
            namespaced: $ns,
            short_names: $short,
            categories: $cat,
            bundle_names: $b,
        }
    };
}

/// The resources served, in discovery order.
pub const RESOURCES: &[ResourceDef] = &[
    res!(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        true,
        &["po"],
        ALL,
        &["pods"]
    ),
    res!(
        "",
        "v1",
        "events",
        "event",
        "Event",
        true,
        &["ev"],
        &[],
        &["events"]
    ),
    res!(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
        &[],
        &["configmaps"]
    ),
    res!(
        "",
        "v1",
        "secrets",
        "secret",
        "Secret",
        true,
        &[],
        &[],
        &["secrets"]
    ),
    res!(
        "",
        "v1",
        "services",
        "service",
        "Service",
        true,
        &["svc"],
        ALL,
        &["services"]
    ),
    res!(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
        &[],
        &["endpoints"]
    ),
    res!(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
        &[],
        &["pvcs", "persistentvolumeclaims"]
    ),
    res!(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        &["sa"],
        &[],
        &["serviceaccounts"]
    ),
    res!(
        "",
        "v1",
        "limitranges",
        "limitrange",
        "LimitRange",
        true,
        &["limits"],
        &[],
        &["limitranges"]
    ),
    res!(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
        &["quota"],
        &[],
        &["resourcequotas"]
    ),
    res!(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
        &[],
        &["namespaces"]
    ),
    res!(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        false,
        &["no"],
        &[],
        &["nodes"]
    ),
    res!(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        &["pv"],
        &[],
        &["pvs", "persistentvolumes"]
    ),
    res!(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
        ALL,
        &["deployments"]
    ),
    res!(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
        ALL,
        &["replicasets"]
    ),
    res!(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
        ALL,
        &["statefulsets"]
    ),
    res!(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
        ALL,
        &["daemonsets"]
    ),
    res!(
        "batch",
        "v1",
        "jobs",
        "job",
        "Job",
        true,
        &[],
        ALL,
        &["jobs"]
    ),
    res!(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        true,
        &["cj"],
        ALL,
        &["cronjobs"]
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
        &["netpol"],
        &[],
        &["network-policy", "networkpolicies", "networkpolicy"]
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        &["ing"],
        &[],
        &["ingress", "ingresses"]
    ),
    // Filled from the core events (converted), not from bundle files.
    res!(
        "events.k8s.io",
        "v1",
        "events",
        "event",
        "Event",
        true,
        &["ev"],
        &[],
        &[]
    ),
    res!(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        false,
        &["sc"],
        &[],
        &["storage-classes", "storageclasses"]
    ),
];

/// What replaces a Secret value: `***HIDDEN***`, base64-encoded in `data`.
fn hidden_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode(crate::redact::HIDDEN)
}

/// Replaces a Secret's `data`/`stringData` values, keeping the keys.
pub fn redact_secret_json(obj: &mut Value) {
    let b64 = hidden_b64();
    if let Some(Value::Object(d)) = obj.get_mut("data") {
        for v in d.values_mut() {
            *v = Value::String(b64.clone());
        }
    }
    if let Some(Value::Object(d)) = obj.get_mut("stringData") {
        for v in d.values_mut() {
            *v = Value::String(crate::redact::HIDDEN.to_string());
        }
    }
}

/// A container log in the bundle.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct LogKey {
    namespace: String,
    pod: String,
    container: String,
    previous: bool,
}

/// An HTTP answer: status, content type and body.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

impl Reply {
    fn json(status: u16, v: &impl Serialize) -> Reply {
        let body = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
        Reply {
            status,
            content_type: "application/json",
            body: Bytes::from(body),
        }
    }

    fn text(status: u16, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }

    /// The body as UTF-8 (lossy), for tests and logs.
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A `meta/v1 Status` failure.
fn status(code: u16, reason: &str, message: impl Into<String>, details: Option<Value>) -> Reply {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message.into(),
        "reason": reason,
        "code": code,
    });
    if let (Some(d), Some(o)) = (details, s.as_object_mut()) {
        o.insert("details".into(), d);
    }
    Reply::json(code, &s)
}

fn not_found_path() -> Reply {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

fn not_found(def: &ResourceDef, name: &str) -> Reply {
    let mut d = json!({"name": name, "kind": def.name});
    if !def.group.is_empty() {
        d["group"] = json!(def.group);
    }
    status(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", def.qualified()),
        Some(d),
    )
}

fn bad_request(msg: impl Into<String>) -> Reply {
    status(400, "BadRequest", msg, None)
}

fn method_not_allowed(msg: &str) -> Reply {
    status(405, "MethodNotAllowed", msg, Some(json!({})))
}

/// The largest file read into memory.
const MAX_FILE: u64 = 512 * 1024 * 1024;

/// A support bundle held in memory and answered as a Kubernetes API.
#[derive(Debug, Default)]
pub struct BundleApi {
    /// Objects per entry of [`RESOURCES`], each with `kind` and `apiVersion` set.
    objects: Vec<Vec<Value>>,
    logs: HashMap<LogKey, Bytes>,
    version: Option<Value>,
    namespace_hint: Option<String>,
    resource_version: String,
    /// Files that could not be read, with why.
    pub skipped: Vec<(String, String)>,
    /// Resources answered with 403 Forbidden, as an account without those
    /// permissions would see them (plural names: `secrets`, `nodes`).
    pub forbidden: BTreeSet<String>,
    /// Serve Secret values (see [`BundleApi::with_secret_values`]).
    secret_values: bool,
}

impl BundleApi {
    /// Reads every file of a bundle (directory or tar.gz) into memory.
    pub fn load(path: &Path) -> anyhow::Result<BundleApi> {
        let kind = sources::classify(path)?;
        if !matches!(kind, InputKind::BundleDir | InputKind::BundleTarGz) {
            return Err(InputError::new(format!(
                "{}: not a support bundle (a directory with cluster-resources/ or a .tar.gz of one)",
                path.display()
            ))
            .into());
        }
        let mut files = Vec::new();
        sources::walk(path, &kind, |rel, r| {
            let mut buf = Vec::new();
            r.take(MAX_FILE).read_to_end(&mut buf)?;
            files.push((rel.to_string(), buf));
            Ok(())
        })?;
        let api = BundleApi::from_files(files);
        if api.object_count() == 0 && api.logs.is_empty() && api.version.is_none() {
            return Err(InputError::new(format!(
                "{}: no support-bundle files found (expected cluster-resources/…)",
                path.display()
            ))
            .into());
        }
        Ok(api)
    }

    /// Builds the API from bundle-relative paths and file contents.
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> BundleApi {
        Self::build(files, false)
    }

    /// Like [`BundleApi::from_files`], but Secrets are served with their values, as a
    /// real API server does. Only for tests that stand in for a live cluster (Helm
    /// release decoding, redaction of what the collector reads); `serve` never uses it.
    pub fn with_secret_values(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> BundleApi {
        Self::build(files, true)
    }

    fn build(files: impl IntoIterator<Item = (String, Vec<u8>)>, secret_values: bool) -> BundleApi {
        let mut api = BundleApi {
            objects: RESOURCES.iter().map(|_| Vec::new()).collect(),
            secret_values,
            ..Default::default()
        };
        let mut max_rv: u64 = 0;
        for (rel, data) in files {
            let parts: Vec<&str> = rel.split('/').collect();
            match parts.as_slice() {
                ["cluster-resources", "pods", "logs", ns, pod, file] if file.ends_with(".log") => {
                    let stem = &file[..file.len() - 4];
                    let (container, previous) = match stem.strip_suffix("-previous") {
                        Some(c) => (c, true),
                        None => (stem, false),
                    };
                    api.logs.insert(
                        LogKey {
                            namespace: ns.to_string(),
                            pod: pod.to_string(),
                            container: container.to_string(),
                            previous,
                        },
                        Bytes::from(data),
                    );
                }
                ["cluster-resources", dir, file] if file.ends_with(".json") => {
                    let ns = &file[..file.len() - 5];
                    if let Some(i) = RESOURCES
                        .iter()
                        .position(|d| d.namespaced && d.bundle_names.contains(dir))
                    {
                        api.add_list(i, &rel, &data, Some(ns), &mut max_rv);
                    }
                }
                ["cluster-resources", file] if file.ends_with(".json") => {
                    let stem = &file[..file.len() - 5];
                    if let Some(i) = RESOURCES
                        .iter()
                        .position(|d| !d.namespaced && d.bundle_names.contains(&stem))
                    {
                        api.add_list(i, &rel, &data, None, &mut max_rv);
                    }
                }
                ["cluster-info", "cluster_version.json"] => {
                    match serde_json::from_slice::<Value>(&data) {
                        Ok(v) => {
                            let info = v.get("info").cloned().unwrap_or(v);
                            if info.is_object() {
                                api.version = Some(info);
                            }
                        }
                        Err(e) => api
                            .skipped
                            .push((rel.clone(), format!("invalid JSON: {e}"))),
                    }
                }
                ["dssc", "source.json"] => {
                    if let Ok(v) = serde_json::from_slice::<Value>(&data) {
                        api.namespace_hint = v
                            .get("namespace")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string);
                    }
                }
                _ => {}
            }
        }
        if let (Some(core), Some(v1)) = (
            RESOURCES
                .iter()
                .position(|d| d.kind == "Event" && d.group.is_empty()),
            RESOURCES.iter().position(|d| d.group == "events.k8s.io"),
        ) {
            let converted: Vec<Value> = api.objects[core].iter().map(to_events_v1).collect();
            api.objects[v1] = converted;
        }
        for list in &mut api.objects {
            list.sort_by(|a, b| {
                let k = |o: &Value| {
                    (
                        field_str(o, "metadata.namespace"),
                        field_str(o, "metadata.name"),
                    )
                };
                k(a).cmp(&k(b))
            });
        }
        api.resource_version = if max_rv > 0 {
            max_rv.to_string()
        } else {
            "1".into()
        };
        api
    }

    fn add_list(&mut self, i: usize, rel: &str, data: &[u8], ns: Option<&str>, max_rv: &mut u64) {
        let def = &RESOURCES[i];
        let v: Value = match serde_json::from_slice(data) {
            Ok(v) => v,
            Err(e) => {
                self.skipped
                    .push((rel.to_string(), format!("invalid JSON: {e}")));
                return;
            }
        };
        if let Some(rv) = v
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
        {
            *max_rv = (*max_rv).max(rv);
        }
        let items = match v {
            Value::Object(mut o) => match o.remove("items") {
                Some(Value::Array(a)) => a,
                Some(Value::Null) | None => Vec::new(),
                Some(_) => {
                    self.skipped
                        .push((rel.to_string(), "items is not a list".into()));
                    return;
                }
            },
            Value::Array(a) => a,
            _ => {
                self.skipped
                    .push((rel.to_string(), "not a kubectl List".into()));
                return;
            }
        };
        for mut it in items {
            let Some(o) = it.as_object_mut() else {
                continue;
            };
            o.insert("kind".into(), Value::String(def.kind.into()));
            o.insert("apiVersion".into(), Value::String(def.api_version()));
            let meta = o
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Some(ns), Some(m)) = (ns, meta.as_object_mut()) {
                if !m.get("namespace").is_some_and(Value::is_string) {
                    m.insert("namespace".into(), Value::String(ns.to_string()));
                }
            }
            if def.kind == "Secret" && !self.secret_values {
                redact_secret_json(&mut it);
            }
            self.objects[i].push(it);
        }
    }

    /// How many objects are served, over all resources.
    pub fn object_count(&self) -> usize {
        self.objects.iter().map(Vec::len).sum()
    }

    /// How many container logs are served.
    pub fn log_count(&self) -> usize {
        self.logs.len()
    }

    /// The objects of one resource (plural name, e.g. `pods`).
    pub fn objects(&self, resource: &str) -> &[Value] {
        RESOURCES
            .iter()
            .position(|d| d.name == resource)
            .and_then(|i| self.objects.get(i))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The namespace a kubeconfig should default to: the bundle's own record of it,
    /// else the namespace of a pod with a `db-init` init container, else the busiest
    /// namespace, else `default`.
    pub fn default_namespace(&self) -> String {
        if let Some(ns) = &self.namespace_hint {
            return ns.clone();
        }
        let pods = self.objects("pods");
        let db_init = pods.iter().find(|p| {
            p.pointer("/spec/initContainers")
                .and_then(Value::as_array)
                .is_some_and(|ics| {
                    ics.iter().any(|c| {
                        c.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(crate::model::evidence::is_db_init)
                    })
                })
        });
        if let Some(p) = db_init {
            return field_str(p, "metadata.namespace");
        }
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for p in pods {
            *count.entry(field_str(p, "metadata.namespace")).or_default() += 1;
        }
        count
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(ns, _)| ns)
            .unwrap_or_else(|| "default".into())
    }

    /// Answers one request. `target` is the path with its query string; `accept` the
    /// Accept header (a Table is returned when kubectl asks for one).
    /// The forbidden resource a request path names, if any.
    fn forbidden_resource(&self, segs: &[&str]) -> Option<String> {
        if self.forbidden.is_empty() {
            return None;
        }
        let rest = match segs {
            ["api", "v1", rest @ ..] | ["apis", _, _, rest @ ..] => rest,
            _ => return None,
        };
        let res = match rest {
            ["namespaces", _, r, ..] => r,
            [r, ..] => r,
            [] => return None,
        };
        self.forbidden.contains(*res).then(|| res.to_string())
    }

    pub fn respond(&self, method: &str, target: &str, accept: &str) -> Reply {
        if method != "GET" && method != "HEAD" {
            return method_not_allowed(&format!(
                "the server does not allow this method on the requested resource ({method}: this is a read-only API served from a support bundle)"
            ));
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let table = accept.contains("as=Table");
        if let Some(r) = self.forbidden_resource(&segs) {
            let ns = match segs.iter().position(|s| *s == "namespaces") {
                Some(i) if segs.len() > i + 2 => format!(" in the namespace \"{}\"", segs[i + 1]),
                _ => String::new(),
            };
            return status(
                403,
                "Forbidden",
                format!(
                    "{r} is forbidden: User \"system:serviceaccount:default:dssc-doctor\" cannot list resource \"{r}\" in API group \"\"{ns}"
                ),
                Some(json!({"kind": r})),
            );
        }
        match segs.as_slice() {
            [] => Reply::json(
                200,
                &json!({"paths": ["/api", "/api/v1", "/apis", "/version"]}),
            ),
            ["version"] => Reply::json(200, &self.version_info()),
            ["healthz"] | ["livez"] | ["readyz"] => Reply::text(200, "ok"),
            ["api"] => Reply::json(
                200,
                &json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
                }),
            ),
            ["apis"] => Reply::json(200, &api_group_list()),
            ["api", "v1"] => Reply::json(200, &resource_list("", "v1")),
            ["apis", g] => match api_group(g) {
                Some(v) => Reply::json(200, &v),
                None => not_found_path(),
            },
            ["apis", g, v] if api_group(g).is_some() && *v == "v1" => {
                Reply::json(200, &resource_list(g, v))
            }
            ["api", "v1", rest @ ..] => self.resource_path("", "v1", rest, &q, table),
            ["apis", g, v, rest @ ..] => self.resource_path(g, v, rest, &q, table),
            _ => not_found_path(),
        }
    }

    fn version_info(&self) -> Value {
        self.version.clone().unwrap_or_else(|| {
            json!({
                "major": "1", "minor": "30", "gitVersion": "v1.30.0",
                "gitCommit": "", "gitTreeState": "clean", "buildDate": "",
                "goVersion": "", "compiler": "gc", "platform": "linux/amd64",
            })
        })
    }

    fn resource_path(
        &self,
        group: &str,
        version: &str,
        rest: &[&str],
        q: &HashMap<String, String>,
        table: bool,
    ) -> Reply {
        let find = |name: &str| {
            RESOURCES
                .iter()
                .position(|d| d.group == group && d.version == version && d.name == name)
        };
        if rest.first() == Some(&"watch") || truthy(q.get("watch")) {
            return method_not_allowed(
                "watch is not supported: this is a read-only API served from a support bundle",
            );
        }
        match rest {
            ["namespaces", ns, res, tail @ ..]
                if find(res).is_some_and(|i| RESOURCES[i].namespaced) =>
            {
                let i = find(res).unwrap_or_default();
                match tail {
                    [] => self.list(i, Some(ns), q, table),
                    [name] | [name, "status"] => self.get(i, Some(ns), name, table),
                    [name, "log"] if RESOURCES[i].name == "pods" => self.log(ns, name, q),
                    _ => not_found_path(),
                }
            }
            [res] => match find(res) {
                Some(i) => self.list(i, None, q, table),
                None => not_found_path(),
            },
            [res, name] | [res, name, "status"] => match find(res) {
                Some(i) if !RESOURCES[i].namespaced => self.get(i, None, name, table),
                _ => not_found_path(),
            },
            _ => not_found_path(),
        }
    }

    fn get(&self, i: usize, ns: Option<&str>, name: &str, table: bool) -> Reply {
        let def = &RESOURCES[i];
        let found = self.objects[i].iter().find(|o| {
            field_str(o, "metadata.name") == name
                && ns.is_none_or(|ns| field_str(o, "metadata.namespace") == ns)
        });
        match found {
            Some(o) if table => Reply::json(200, &self.table(def, &[o])),
            Some(o) => Reply::json(200, o),
            None => not_found(def, name),
        }
    }

    fn list(&self, i: usize, ns: Option<&str>, q: &HashMap<String, String>, table: bool) -> Reply {
        let def = &RESOURCES[i];
        let labels = match q.get("labelSelector").map(|s| LabelSelector::parse(s)) {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => return bad_request(format!("unable to parse requirement: {e}")),
            None => None,
        };
        let fields = match q.get("fieldSelector").map(|s| FieldSelector::parse(s)) {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => return bad_request(format!("invalid field selector: {e}")),
            None => None,
        };
        let items: Vec<&Value> = self.objects[i]
            .iter()
            .filter(|o| ns.is_none_or(|ns| field_str(o, "metadata.namespace") == ns))
            .filter(|o| labels.as_ref().is_none_or(|s| s.matches(o)))
            .filter(|o| fields.as_ref().is_none_or(|s| s.matches(o)))
            .collect();
        if table {
            return Reply::json(200, &self.table(def, &items));
        }
        #[derive(Serialize)]
        struct List<'a> {
            #[serde(rename = "apiVersion")]
            api_version: String,
            kind: String,
            metadata: Value,
            items: Vec<&'a Value>,
        }
        Reply::json(
            200,
            &List {
                api_version: def.api_version(),
                kind: format!("{}List", def.kind),
                metadata: json!({"resourceVersion": self.resource_version}),
                items,
            },
        )
    }

    fn log(&self, ns: &str, pod: &str, q: &HashMap<String, String>) -> Reply {
        let pod_obj = self.objects("pods").iter().find(|o| {
            field_str(o, "metadata.name") == pod && field_str(o, "metadata.namespace") == ns
        });
        let logged: BTreeSet<&str> = self
            .logs
            .keys()
            .filter(|k| k.namespace == ns && k.pod == pod)
            .map(|k| k.container.as_str())
            .collect();
        let pods_def = &RESOURCES[0];
        if pod_obj.is_none() && logged.is_empty() {
            return not_found(pods_def, pod);
        }
        let names = |key: &str| -> Vec<String> {
            pod_obj
                .and_then(|p| p.pointer(&format!("/spec/{key}")))
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c.get("name").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = names("containers");
        let inits = names("initContainers");
        let container = match q.get("container").filter(|c| !c.is_empty()) {
            Some(c) => c.clone(),
            None if containers.len() == 1 => containers[0].clone(),
            None if pod_obj.is_none() && logged.len() == 1 => logged
                .iter()
                .next()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            None => {
                return bad_request(format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]{}",
                    containers.join(" "),
                    if inits.is_empty() {
                        String::new()
                    } else {
                        format!(" or one of the init containers: [{}]", inits.join(" "))
                    }
                ))
            }
        };
        if pod_obj.is_some()
            && !containers.contains(&container)
            && !inits.contains(&container)
            && !logged.contains(container.as_str())
        {
            return bad_request(format!("container {container} is not valid for pod {pod}"));
        }
        let previous = truthy(q.get("previous"));
        let key = LogKey {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            container: container.clone(),
            previous,
        };
        let Some(data) = self.logs.get(&key) else {
            let msg = if previous {
                format!("previous terminated container \"{container}\" in pod \"{pod}\" not found")
            } else {
                format!(
                    "container \"{container}\" in pod \"{pod}\" has no log in this support bundle"
                )
            };
            return status(
                404,
                "NotFound",
                msg,
                Some(json!({"name": pod, "kind": "pods"})),
            );
        };
        let mut body = data.clone();
        if let Some(n) = q.get("tailLines").and_then(|s| s.parse::<usize>().ok()) {
            body = body.slice(tail_start(&body, n)..);
        }
        if let Some(n) = q.get("limitBytes").and_then(|s| s.parse::<usize>().ok()) {
            if n < body.len() {
                body = body.slice(..n);
            }
        }
        Reply::text(200, body)
    }

    fn table(&self, def: &ResourceDef, items: &[&Value]) -> Value {
        let now = chrono::Utc::now();
        let (cols, cells): (Vec<Column>, CellsFn) = match def.kind {
            "Pod" => (
                vec![
                    ("Name", "name", 0),
                    ("Ready", "", 0),
                    ("Status", "", 0),
                    ("Restarts", "", 0),
                    ("Age", "", 0),
                    ("IP", "", 1),
                    ("Node", "", 1),
                ],
                pod_cells,
            ),
            "Event" => (
                vec![
                    ("Last Seen", "", 0),
                    ("Type", "", 0),
                    ("Reason", "", 0),
                    ("Object", "", 0),
                    ("Message", "", 0),
                ],
                event_cells,
            ),
            "Node" => (
                vec![
                    ("Name", "name", 0),
                    ("Status", "", 0),
                    ("Roles", "", 0),
                    ("Age", "", 0),
                    ("Version", "", 0),
                ],
                node_cells,
            ),
            "Namespace" => (
                vec![("Name", "name", 0), ("Status", "", 0), ("Age", "", 0)],
                |o, now| {
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(field_str(o, "status.phase")),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            "Service" => (
                vec![
                    ("Name", "name", 0),
                    ("Type", "", 0),
                    ("Cluster-IP", "", 0),
                    ("External-IP", "", 0),
                    ("Port(s)", "", 0),
                    ("Age", "", 0),
                ],
                service_cells,
            ),
            "ConfigMap" => (
                vec![("Name", "name", 0), ("Data", "", 0), ("Age", "", 0)],
                |o, now| {
                    let n = count_keys(o, "data") + count_keys(o, "binaryData");
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(n),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            "Secret" => (
                vec![
                    ("Name", "name", 0),
                    ("Type", "", 0),
                    ("Data", "", 0),
                    ("Age", "", 0),
                ],
                |o, now| {
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(field_str(o, "type")),
                        json!(count_keys(o, "data")),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            "Deployment" => (
                vec![
                    ("Name", "name", 0),
                    ("Ready", "", 0),
                    ("Up-to-date", "", 0),
                    ("Available", "", 0),
                    ("Age", "", 0),
                ],
                |o, now| {
                    let n = |p: &str| o.pointer(p).and_then(Value::as_i64).unwrap_or(0);
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(format!(
                            "{}/{}",
                            n("/status/readyReplicas"),
                            o.pointer("/spec/replicas")
                                .and_then(Value::as_i64)
                                .unwrap_or(1)
                        )),
                        json!(n("/status/updatedReplicas")),
                        json!(n("/status/availableReplicas")),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            _ => (vec![("Name", "name", 0), ("Age", "", 0)], |o, now| {
                vec![
                    json!(field_str(o, "metadata.name")),
                    json!(age(o, "metadata.creationTimestamp", now)),
                ]
            }),
        };
        let column_definitions: Vec<Value> = cols
            .iter()
            .map(|(name, format, priority)| {
                json!({"name": name, "type": "string", "format": format, "description": "", "priority": priority})
            })
            .collect();
        let rows: Vec<Value> = items
            .iter()
            .map(|o| json!({"cells": cells(o, now), "object": o}))
            .collect();
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": self.resource_version},
            "columnDefinitions": column_definitions,
            "rows": rows,
        })
    }
}

type Column = (&'static str, &'static str, i32);
type CellsFn = fn(&Value, chrono::DateTime<chrono::Utc>) -> Vec<Value>;

/// A core/v1 Event as `events.k8s.io/v1` shows it (`regarding`, `note`, `deprecated*`).
fn to_events_v1(e: &Value) -> Value {
    let mut o = Map::new();
    o.insert("kind".into(), json!("Event"));
    o.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    for (from, to) in [
        ("metadata", "metadata"),
        ("eventTime", "eventTime"),
        ("series", "series"),
        ("involvedObject", "regarding"),
        ("related", "related"),
        ("message", "note"),
        ("reason", "reason"),
        ("type", "type"),
        ("action", "action"),
        ("reportingComponent", "reportingController"),
        ("reportingInstance", "reportingInstance"),
        ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"),
    ] {
        if let Some(v) = e.get(from).filter(|v| !v.is_null()) {
            o.insert(to.into(), v.clone());
        }
    }
    if !o.contains_key("reportingController") {
        if let Some(c) = e.pointer("/source/component").filter(|v| v.is_string()) {
            o.insert("reportingController".into(), c.clone());
        }
    }
    Value::Object(o)
}

/// The first non-empty of several fields.
fn first_field(o: &Value, paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| field_str(o, p))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

fn truthy(v: Option<&String>) -> bool {
    v.is_some_and(|s| s == "true" || s == "1")
}

/// The byte offset where the last `n` lines of `data` begin.
fn tail_start(data: &[u8], n: usize) -> usize {
    if n == 0 {
        return data.len();
    }
    let end = if data.last() == Some(&b'\n') {
        data.len() - 1
    } else {
        data.len()
    };
    let mut seen = 0;
    for i in (0..end).rev() {
        if data[i] == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

fn count_keys(o: &Value, key: &str) -> usize {
    o.get(key).and_then(Value::as_object).map_or(0, Map::len)
}

/// A dotted field of an object as a string (`""` when absent), as field selectors
/// compare it.
pub fn field_str(o: &Value, path: &str) -> String {
    let mut cur = o;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn age(o: &Value, path: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let s = field_str(o, path);
    match chrono::DateTime::parse_from_rfc3339(&s) {
        Ok(t) => human_duration((now - t.with_timezone(&chrono::Utc)).num_seconds()),
        Err(_) => "<unknown>".into(),
    }
}

/// kubectl's `HumanDuration`: `45s`, `5m30s`, `3h`, `2d4h`, `400d`, `3y20d`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    let (m, h) = (s / 60, s / 3600);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{}d", h / 24)
        } else {
            format!("{}d{}h", h / 24, h % 24)
        }
    } else if h < 24 * 365 * 2 {
        format!("{}d", h / 24)
    } else if h < 24 * 365 * 8 {
        let d = h / 24;
        if d % 365 == 0 {
            format!("{}y", d / 365)
        } else {
            format!("{}y{}d", d / 365, d % 365)
        }
    } else {
        format!("{}y", h / 24 / 365)
    }
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

fn pod_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let (ready, st, restarts) =
        match serde_json::from_value::<k8s_openapi::api::core::v1::Pod>(o.clone()) {
            Ok(p) => {
                let r = crate::model::evidence::pod_row(&p);
                (r.ready, r.status, r.restarts.to_string())
            }
            Err(_) => ("0/0".into(), field_str(o, "status.phase"), "0".into()),
        };
    vec![
        json!(field_str(o, "metadata.name")),
        json!(ready),
        json!(st),
        json!(restarts),
        json!(age(o, "metadata.creationTimestamp", now)),
        json!(or_none(field_str(o, "status.podIP"))),
        json!(or_none(field_str(o, "spec.nodeName"))),
    ]
}

fn event_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let last = [
        "lastTimestamp",
        "deprecatedLastTimestamp",
        "series.lastObservedTime",
        "eventTime",
        "firstTimestamp",
        "metadata.creationTimestamp",
    ]
    .iter()
    .find(|p| !field_str(o, p).is_empty())
    .map(|p| age(o, p, now))
    .unwrap_or_else(|| "<unknown>".into());
    vec![
        json!(last),
        json!(field_str(o, "type")),
        json!(field_str(o, "reason")),
        json!(format!(
            "{}/{}",
            first_field(o, &["involvedObject.kind", "regarding.kind"]).to_lowercase(),
            first_field(o, &["involvedObject.name", "regarding.name"])
        )),
        json!(first_field(o, &["message", "note"]).trim()),
    ]
}

fn node_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let ready = o
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        })
        .map(|c| field_str(c, "status"));
    let mut st = match ready.as_deref() {
        Some("True") => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        st.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|l| {
            l.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .filter(|r| !r.is_empty())
                .collect()
        })
        .unwrap_or_default();
    vec![
        json!(field_str(o, "metadata.name")),
        json!(st),
        json!(or_none(roles.join(","))),
        json!(age(o, "metadata.creationTimestamp", now)),
        json!(field_str(o, "status.nodeInfo.kubeletVersion")),
    ]
}

fn service_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let port = field_str(p, "port");
                    let proto = field_str(p, "protocol");
                    let proto = if proto.is_empty() {
                        "TCP".into()
                    } else {
                        proto
                    };
                    match field_str(p, "nodePort") {
                        np if np.is_empty() => format!("{port}/{proto}"),
                        np => format!("{port}:{np}/{proto}"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let external: Vec<String> = o
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .map(|is| {
            is.iter()
                .map(|i| {
                    let ip = field_str(i, "ip");
                    if ip.is_empty() {
                        field_str(i, "hostname")
                    } else {
                        ip
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let ty = field_str(o, "spec.type");
    let external = if !external.is_empty() {
        external.join(",")
    } else if ty == "LoadBalancer" {
        "<pending>".into()
    } else {
        "<none>".into()
    };
    vec![
        json!(field_str(o, "metadata.name")),
        json!(if ty.is_empty() {
            "ClusterIP".into()
        } else {
            ty
        }),
        json!(or_none(field_str(o, "spec.clusterIP"))),
        json!(external),
        json!(or_none(ports.join(","))),
        json!(age(o, "metadata.creationTimestamp", now)),
    ]
}

fn api_groups() -> Vec<&'static str> {
    let mut gs: Vec<&str> = Vec::new();
    for d in RESOURCES {
        if !d.group.is_empty() && !gs.contains(&d.group) {
            gs.push(d.group);
        }
    }
    gs
}

fn api_group(g: &str) -> Option<Value> {
    api_groups().contains(&g).then(|| {
        let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
        json!({
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": g,
            "versions": [gv],
            "preferredVersion": gv,
        })
    })
}

fn api_group_list() -> Value {
    let groups: Vec<Value> = api_groups()
        .into_iter()
        .filter_map(api_group)
        .map(|mut g| {
            if let Some(o) = g.as_object_mut() {
                o.remove("kind");
                o.remove("apiVersion");
            }
            g
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for d in RESOURCES
        .iter()
        .filter(|d| d.group == group && d.version == version)
    {
        let mut r = json!({
            "name": d.name,
            "singularName": d.singular,
            "namespaced": d.namespaced,
            "kind": d.kind,
            "verbs": ["get", "list"],
        });
        if !d.short_names.is_empty() {
            r["shortNames"] = json!(d.short_names);
        }
        if !d.categories.is_empty() {
            r["categories"] = json!(d.categories);
        }
        resources.push(r);
        if d.name == "pods" {
            resources.push(json!({
                "name": "pods/log", "singularName": "", "namespaced": true,
                "kind": "Pod", "verbs": ["get"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

/// Splits on commas outside parentheses, honouring backslash escapes.
fn split_terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth <= 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// One requirement of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelReq {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed `labelSelector` (requirements ANDed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<LabelReq>);

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        for t in split_terms(s) {
            let key_ok = |k: &str| -> Result<String, String> {
                let k = k.trim();
                if valid_key(k) {
                    Ok(k.to_string())
                } else {
                    Err(format!("invalid label key \"{k}\" in \"{t}\""))
                }
            };
            let req = if let Some(open) = t.find('(') {
                let head = &t[..open];
                let Some(body) = t[open + 1..].strip_suffix(')') else {
                    return Err(format!("found '{t}', expected: ')'"));
                };
                let vals: Vec<String> = body
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect();
                let words: Vec<&str> = head.split_whitespace().collect();
                match words.as_slice() {
                    [k, "in"] => LabelReq::In(key_ok(k)?, vals),
                    [k, "notin"] => LabelReq::NotIn(key_ok(k)?, vals),
                    _ => return Err(format!("found '{t}', expected: in, notin")),
                }
            } else if let Some(k) = t.strip_prefix('!') {
                LabelReq::NotExists(key_ok(k)?)
            } else if let Some((k, v)) = t.split_once("!=") {
                LabelReq::Ne(key_ok(k)?, v.trim().to_string())
            } else if let Some((k, v)) = t.split_once("==") {
                LabelReq::Eq(key_ok(k)?, v.trim().to_string())
            } else if let Some((k, v)) = t.split_once('=') {
                LabelReq::Eq(key_ok(k)?, v.trim().to_string())
            } else if let Some((k, v)) = t.split_once('>') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid number in \"{t}\""))?;
                LabelReq::Gt(key_ok(k)?, n)
            } else if let Some((k, v)) = t.split_once('<') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid number in \"{t}\""))?;
                LabelReq::Lt(key_ok(k)?, n)
            } else {
                LabelReq::Exists(key_ok(&t)?)
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::Ne(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
            LabelReq::Gt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            LabelReq::Lt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

/// A parsed `fieldSelector`: `path=value`, `path==value`, `path!=value`, ANDed. Any
/// dotted path of the object can be used (`involvedObject.name`, `status.phase`…).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl FieldSelector {
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for t in split_terms(s) {
            let (k, eq, v) = if let Some((k, v)) = t.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = t.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = t.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!("invalid selector: '{t}'; can't understand '{t}'"));
            };
            let k = k.trim();
            if !valid_key(k) {
                return Err(format!("invalid field path \"{k}\""));
            }
            reqs.push((k.to_string(), eq, unescape(v.trim())));
        }
        Ok(FieldSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0
            .iter()
            .all(|(k, eq, v)| (field_str(obj, k) == *v) == *eq)
    }
}

/// A running server; dropping it stops accepting connections.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    namespace: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: what a client should connect to.
    pub fn url(&self) -> String {
        server_url(self.addr)
    }

    /// A kubeconfig for this server, defaulting to the bundle's namespace.
    pub fn kubeconfig(&self) -> String {
        kubeconfig(self.addr, &self.namespace)
    }

    /// A `kube` client configuration for this server (default namespace: the bundle's),
    /// with connect and read timeouts.
    pub fn kube_config(&self) -> anyhow::Result<kube::Config> {
        let uri: hyper::Uri = self.url().parse().context("server URL")?;
        let mut c = kube::Config::new(uri);
        c.default_namespace = self.namespace.clone();
        c.connect_timeout = Some(Duration::from_secs(5));
        c.read_timeout = Some(Duration::from_secs(30));
        Ok(c)
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The address a client uses for `addr`: an unspecified bind address becomes loopback.
fn client_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// `http://HOST:PORT` for a bound address.
pub fn server_url(addr: SocketAddr) -> String {
    format!("http://{}", client_addr(addr))
}

/// A kubeconfig (cluster, context with `namespace`, a user without credentials) for a
/// server bound at `addr`, usable by kubectl and the `kube` crate.
pub fn kubeconfig(addr: SocketAddr, namespace: &str) -> String {
    let ns = serde_json::to_string(namespace).unwrap_or_else(|_| "\"default\"".into());
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: dssc-bundle
  cluster:
    server: {url}
contexts:
- name: dssc-bundle
  context:
    cluster: dssc-bundle
    user: dssc-bundle
    namespace: {ns}
current-context: dssc-bundle
users:
- name: dssc-bundle
  user: {{}}
preferences: {{}}
",
        url = server_url(addr)
    )
}

/// How long a client may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Binds `addr` (port 0 picks a free port) and serves `api` until the handle is shut
/// down or dropped; every response waits `latency` first.
pub async fn start(
    api: Arc<BundleApi>,
    addr: SocketAddr,
    latency: Duration,
) -> io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let namespace = api.default_namespace();
    let (tx, mut rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                acc = listener.accept() => match acc {
                    Ok((stream, _)) => {
                        conns.spawn(serve_conn(api.clone(), stream, latency));
                    }
                    // Out of file descriptors and the like: back off, keep serving.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        conns.abort_all();
    });
    Ok(ServerHandle {
        addr: bound,
        namespace,
        stop: Some(tx),
        task: Some(task),
    })
}

async fn serve_conn(api: Arc<BundleApi>, stream: TcpStream, latency: Duration) {
    let _ = stream.set_nodelay(true);
    let svc = service_fn(move |req: Request<Incoming>| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(handle(&api, req, latency).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}

async fn handle(
    api: &BundleApi,
    req: Request<Incoming>,
    latency: Duration,
) -> Response<Full<Bytes>> {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let reply = api.respond(req.method().as_str(), target, accept);
    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(reply.content_type),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selector_parses_all_operators() {
        let s =
            LabelSelector::parse("app=auth,tier!=db,env in (a, b),x notin (c),has,!gone").unwrap();
        assert_eq!(s.0.len(), 6);
        let o = json!({"metadata": {"labels": {"app": "auth", "env": "b", "has": "1"}}});
        assert!(s.matches(&o));
        assert!(LabelSelector::parse("a in (x").is_err());
        assert!(LabelSelector::parse("bad key=1").is_err());
    }

    #[test]
    fn field_selector_generic_paths() {
        let s = FieldSelector::parse("status.phase!=Running,metadata.name=p").unwrap();
        assert!(s.matches(&json!({"metadata": {"name": "p"}, "status": {"phase": "Pending"}})));
        assert!(!s.matches(&json!({"metadata": {"name": "p"}, "status": {"phase": "Running"}})));
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(30), "30s");
        assert_eq!(human_duration(330), "5m30s");
        assert_eq!(human_duration(3 * 86400 + 7200), "3d2h");
    }

    #[test]
    fn tail_lines() {
        let d = b"a\nb\nc\n";
        assert_eq!(&d[tail_start(d, 2)..], b"b\nc\n");
        assert_eq!(&d[tail_start(d, 9)..], d);
        let e = b"a\nb";
        assert_eq!(&e[tail_start(e, 1)..], b"b");
    }
}
