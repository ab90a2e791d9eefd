//! Live collection wall time: `sources::live::collect` against the project's bundle server
//! (`serve`) on generated DSSC-like installs of 20 and 200 pods, with 0 and 20 ms added
//! before every response, compared in the same run with a sequential baseline doing what
//! the vendor's `collect-logs.sh` does: ~13 list calls one after another, then for every
//! pod a `get` of the pod and `logs` of each init and app container (current, and
//! previous where restarted), strictly one request at a time, through the same kind of
//! `kube` client.
//!
//! Targets (issue 3): at 200 pods / 20 ms the doctor is >= 50x faster than the baseline
//! and within 2x of the dependency-depth limit (~3 round trips x latency).
//!
//! Run: cargo bench --bench collect
//! (DSSC_BENCH_RUNS=N: measured doctor runs per row, median reported; default 5.
//! DSSC_BENCH_CONC=16,64,128: the concurrencies measured, 128 being the CLI default.)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use dssc_doctor::analysis::scan::Scanner;
use dssc_doctor::catalogue::Catalogue;
use dssc_doctor::serve::{self, BundleApi, ServerHandle};
use dssc_doctor::sources::live::{self, Options};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, Node, Pod, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams, LogParams};
use kube::client::ClientBuilder;
use kube::Client;
use serde_json::{json, Value};

const NS: &str = "trendmicro";
const REL: &str = "deepsecurity-smartcheck";
const T0: &str = "2026-11-23T02:10:00Z";
const T1: &str = "2026-11-23T02:17:13Z";

/// The chart's deployments: (name, has db-init, has a second init container).
const SERVICES: &[(&str, bool, bool)] = &[
    ("auth", true, false),
    ("scan", true, false),
    ("registryviews", true, false),
    ("image-scan", true, false),
    ("metrics", true, false),
    ("vulnerability-scan", true, true),
    ("frontend", false, false),
    ("proxy", false, false),
    ("tasks", false, false),
    ("malware-scan", false, false),
    ("content-scan", false, false),
    ("openscap-scan", false, false),
];

// ---------------------------------------------------------------------------------
// Request counting: a tower layer under the kube client's own stack.

#[derive(Default)]
struct Stats {
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

#[derive(Clone)]
struct Count(Arc<Stats>);

impl<S> tower_layer::Layer<S> for Count {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            stats: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    stats: Arc<Stats>,
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, Req> tower_service::Service<Req> for Counted<S>
where
    S: tower_service::Service<Req>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFut<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let st = self.stats.clone();
        st.requests.fetch_add(1, Ordering::Relaxed);
        let now = st.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        st.peak.fetch_max(now, Ordering::Relaxed);
        let fut = self.inner.call(req);
        Box::pin(async move {
            let r = fut.await;
            st.in_flight.fetch_sub(1, Ordering::Relaxed);
            r
        })
    }
}

/// A fresh client for `h` (as a new CLI invocation would have) and its counters.
fn client(h: &ServerHandle) -> (Client, Arc<Stats>) {
    let stats = Arc::new(Stats::default());
    let c = ClientBuilder::try_from(h.kube_config().expect("kube config"))
        .expect("client builder")
        .with_layer(&Count(stats.clone()))
        .build();
    (c, stats)
}

/// Established TCP connections the server holds open (server side of loopback sockets
/// on its port, from /proc/net/tcp); `None` where that file is not there.
fn server_connections(port: u16) -> Option<usize> {
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want = format!(":{port:04X}");
    Some(
        text.lines()
            .skip(1)
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1].ends_with(&want) && f[3] == "01"
            })
            .count(),
    )
}

// ---------------------------------------------------------------------------------
// Bundle generation.

#[derive(Clone, Copy, PartialEq)]
enum State {
    /// Inits done, app running.
    Running,
    /// Running, but the app container has restarted (current + previous log).
    AppRestarted,
    /// db-init running (cannot reach the DB yet).
    InitRunning,
    /// db-init in CrashLoopBackOff (current + previous log).
    InitCrash,
    /// The CA volume cannot be mounted; nothing started.
    Mount,
}

fn state_of(i: usize, db: bool) -> State {
    match (db, i % 10) {
        (_, 0..=4) => State::Running,
        (true, 5 | 6) => State::InitRunning,
        (true, 7) => State::InitCrash,
        (true, 8) => State::Mount,
        (false, 5..=7) => State::Running,
        (false, 8) => State::AppRestarted, // crash-looping app
        _ => State::AppRestarted,
    }
}

fn uid(n: usize) -> String {
    format!("ff34aa94-94fc-11e9-90aa-{n:012x}")
}

fn db_init(name: &str, service: &str) -> Value {
    json!({
        "name": name,
        "image": "deepsecurity/db-init@sha256:5b1e0f5a",
        "args": ["postgres", "--service-username=$(SERVICE_USER)",
                 "--service-password=$(SERVICE_PASSWORD)",
                 format!("--service-database={}db", service.replace('-', ""))],
        "env": [
            {"name": "PGHOST", "value": "database.example.com"},
            {"name": "PGPORT", "value": "5432"},
            {"name": "PGSSLMODE", "value": "verify-full"},
            {"name": "PGSSLROOTCERT", "value": "/trust/db/ca.pem"},
            {"name": "PGUSER", "valueFrom": {"secretKeyRef": {"name": format!("{REL}-smartcheck-db"), "key": "database-user"}}},
            {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": format!("{REL}-smartcheck-db"), "key": "database-password"}}},
            {"name": "PGCONNECT_TIMEOUT", "value": "5"}
        ],
        "volumeMounts": [{"name": "database-ca", "mountPath": "/trust/db", "readOnly": true}],
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent"
    })
}

fn cstatus(name: &str, state: Value, ready: bool, restarts: u32, last: Option<Value>) -> Value {
    let mut v = json!({"name": name, "image": "deepsecurity/x@sha256:1", "imageID": "",
                       "ready": ready, "restartCount": restarts, "state": state});
    if let Some(l) = last {
        v["lastState"] = l;
    }
    v
}

fn terminated(code: i32) -> Value {
    json!({"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" },
                          "startedAt": T0, "finishedAt": T0}})
}

/// Log lines as the services write them, about `kb` KB.
fn log_text(container: &str, error: Option<&str>, kb: usize) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!(
        "{{\"commit\":\"79d968b712cfba4407e2cdc6f848034435c04859\",\"component\":\"{container}\",\"message\":\"Starting up\",\"severity\":\"audit\",\"timestamp\":\"2026-11-23T02:10:15Z\"}}\n"
    ));
    let mut i = 0;
    while s.len() < kb * 1024 {
        let line = match error {
            Some(e) if i % 3 == 0 => format!(
                "{{\"component\":\"{container}\",\"error\":\"{e}\",\"message\":\"could not get database connection\",\"severity\":\"info\",\"timestamp\":\"2026-11-23T02:10:{:02}Z\"}}\n",
                i % 60
            ),
            _ => format!(
                "{{\"component\":\"{container}\",\"message\":\"request served\",\"method\":\"GET\",\"path\":\"/api/health\",\"status\":200,\"duration\":\"{}.{:03}ms\",\"severity\":\"info\",\"timestamp\":\"2026-11-23T02:11:{:02}Z\"}}\n",
                i % 7,
                (i * 37) % 1000,
                i % 60
            ),
        };
        s.push_str(&line);
        i += 1;
    }
    if error.is_some() {
        s.push_str("Error: could not set up database: database not available: could not get database connection: pq: password authentication failed for user \"postgres\"\n");
    }
    s.into_bytes()
}

fn event(n: usize, pod: &str, reason: &str, msg: &str, typ: &str, count: u32) -> Value {
    json!({"kind": "Event", "apiVersion": "v1",
           "metadata": {"name": format!("{pod}.{:x}", 0x15a9b2c3d4e5f000u64 + n as u64),
                        "namespace": NS, "uid": uid(500_000 + n), "creationTimestamp": T0},
           "involvedObject": {"kind": "Pod", "namespace": NS, "name": pod, "uid": uid(n / 8), "apiVersion": "v1"},
           "reason": reason, "message": msg, "source": {"component": "kubelet", "host": "node-1"},
           "firstTimestamp": T0, "lastTimestamp": T1, "count": count, "type": typ,
           "reportingComponent": "kubelet", "reportingInstance": "node-1"})
}

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"kind": format!("{kind}List"), "apiVersion": api_version,
                                "metadata": {"resourceVersion": "27131"}, "items": items}),
    )
    .unwrap()
}

struct Generated {
    files: Vec<(String, Vec<u8>)>,
    pods: usize,
    log_files: usize,
    log_bytes: usize,
}

/// A DSSC install of `n` pods spread over the chart's deployments.
fn generate(n: usize) -> Generated {
    let mut pods = Vec::new();
    let mut events = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut log_bytes = 0;
    let mut add_log = |files: &mut Vec<(String, Vec<u8>)>, pod: &str, file: &str, data: Vec<u8>| {
        log_bytes += data.len();
        files.push((
            format!("cluster-resources/pods/logs/{NS}/{pod}/{file}.log"),
            data,
        ));
    };
    for i in 0..n {
        let (svc, db, second) = SERVICES[i % SERVICES.len()];
        let state = state_of(i / SERVICES.len() + i, db);
        let name = format!(
            "{svc}-{:08x}-{:05x}",
            0x7d78dccf + i % 7,
            0x1a2b3 + i * 7919 % 0xfffff
        );
        let mut inits = Vec::new();
        if db {
            inits.push(db_init("db-init", svc));
            if second {
                inits.push(db_init("vulnerabilityscan-db-init", "vulnerabilityscan"));
            }
        }
        let mut containers = vec![
            json!({"name": svc, "image": format!("deepsecurity/{svc}@sha256:77aa"),
            "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
            "resources": {}, "imagePullPolicy": "IfNotPresent"}),
        ];
        if svc == "openscap-scan" {
            containers.push(json!({"name": "openscap-feed-consumer",
                "image": "deepsecurity/openscap-feed-consumer@sha256:1", "resources": {}}));
        }
        let cname = |c: &Value| c["name"].as_str().unwrap().to_string();
        let waiting = json!({"waiting": {"reason": "PodInitializing"}});
        let running = json!({"running": {"startedAt": T0}});
        let (ics, ccs, phase): (Vec<Value>, Vec<Value>, &str) = match state {
            State::Running | State::AppRestarted => {
                let r = if state == State::AppRestarted { 3 } else { 0 };
                let last = (r > 0).then(|| terminated(2));
                (
                    inits
                        .iter()
                        .map(|c| cstatus(&cname(c), terminated(0), true, 0, None))
                        .collect(),
                    containers
                        .iter()
                        .enumerate()
                        .map(|(k, c)| {
                            let (r, l) = if k == 0 { (r, last.clone()) } else { (0, None) };
                            cstatus(&cname(c), running.clone(), true, r, l)
                        })
                        .collect(),
                    "Running",
                )
            }
            State::InitRunning => (
                inits
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        cstatus(
                            &cname(c),
                            if k == 0 {
                                running.clone()
                            } else {
                                waiting.clone()
                            },
                            false,
                            0,
                            None,
                        )
                    })
                    .collect(),
                containers
                    .iter()
                    .map(|c| cstatus(&cname(c), waiting.clone(), false, 0, None))
                    .collect(),
                "Pending",
            ),
            State::InitCrash => (
                inits
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        if k == 0 {
                            cstatus(
                                &cname(c),
                                json!({"waiting": {"reason": "CrashLoopBackOff",
                                "message": "back-off 5m0s restarting failed container=db-init"}}),
                                false,
                                6,
                                Some(terminated(1)),
                            )
                        } else {
                            cstatus(&cname(c), waiting.clone(), false, 0, None)
                        }
                    })
                    .collect(),
                containers
                    .iter()
                    .map(|c| cstatus(&cname(c), waiting.clone(), false, 0, None))
                    .collect(),
                "Pending",
            ),
            State::Mount => (
                inits
                    .iter()
                    .map(|c| cstatus(&cname(c), waiting.clone(), false, 0, None))
                    .collect(),
                containers
                    .iter()
                    .map(|c| cstatus(&cname(c), waiting.clone(), false, 0, None))
                    .collect(),
                "Pending",
            ),
        };
        // Logs of every container that has started, previous where it restarted.
        let err = "dial tcp 192.168.19.226:5432: i/o timeout";
        for (c, st) in inits.iter().chain(&containers).zip(ics.iter().chain(&ccs)) {
            let c = cname(c);
            let started = st["state"].get("waiting").is_none() || st["restartCount"] != 0;
            if !started {
                continue;
            }
            let e =
                (c.ends_with("db-init") && state != State::Running && state != State::AppRestarted)
                    .then_some(err);
            add_log(&mut files, &name, &c, log_text(&c, e, 3 + i % 4));
            if st["restartCount"] != 0 {
                add_log(
                    &mut files,
                    &name,
                    &format!("{c}-previous"),
                    log_text(&c, e, 4),
                );
            }
        }
        let hash = name.rsplit_once('-').unwrap().0.to_string();
        pods.push(json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "generateName": format!("{hash}-"), "namespace": NS, "uid": uid(i),
                "resourceVersion": (4000 + i).to_string(), "creationTimestamp": T0,
                "labels": {"app": svc, "release": REL, "service": svc, "heritage": "Helm",
                           "pod-template-hash": hash.rsplit_once('-').unwrap().1},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": hash,
                    "uid": uid(900_000 + i), "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"volumes": [{"name": "tmp", "emptyDir": {}},
                                 {"name": "database-ca", "configMap": {"name": "dssc-db-trust",
                                  "items": [{"key": "ca", "path": "ca.pem"}], "defaultMode": 420}}],
                     "initContainers": inits, "containers": containers, "restartPolicy": "Always",
                     "serviceAccountName": format!("{REL}-smartcheck-{svc}"),
                     "nodeName": format!("node-{}", i % 3 + 1),
                     "securityContext": {"runAsNonRoot": true, "runAsUser": 1}},
            "status": {"phase": phase, "hostIP": format!("10.0.0.{}", 11 + i % 3),
                       "podIP": format!("172.17.{}.{}", i / 250, 10 + i % 240), "startTime": T0,
                       "qosClass": "BestEffort",
                       "initContainerStatuses": ics, "containerStatuses": ccs}
        }));
        // Events: scheduling and the container lifecycle, plus the failure's warning.
        let e = i * 8;
        events.push(event(
            e,
            &name,
            "Scheduled",
            &format!("Successfully assigned {NS}/{name} to node-1"),
            "Normal",
            1,
        ));
        events.push(event(
            e + 1,
            &name,
            "Pulled",
            "Container image \"deepsecurity/db-init@sha256:5b1e0f5a\" already present on machine",
            "Normal",
            1,
        ));
        events.push(event(
            e + 2,
            &name,
            "Created",
            "Created container db-init",
            "Normal",
            1,
        ));
        events.push(event(
            e + 3,
            &name,
            "Started",
            "Started container db-init",
            "Normal",
            1,
        ));
        match state {
            State::Mount => {
                events.push(event(e + 4, &name, "FailedMount",
                    "MountVolume.SetUp failed for volume \"database-ca\" : configmap \"dssc-db-trust\" not found", "Warning", 12));
                events.push(event(e + 5, &name, "FailedMount",
                    &format!("Unable to mount volumes for pod \"{name}_{NS}\": timeout expired waiting for volumes to attach or mount for pod \"{NS}\"/\"{name}\". list of unmounted volumes=[database-ca]. list of unattached volumes=[tmp database-ca]"), "Warning", 3));
            }
            State::InitCrash | State::AppRestarted => {
                events.push(event(
                    e + 4,
                    &name,
                    "BackOff",
                    "Back-off restarting failed container",
                    "Warning",
                    27,
                ));
            }
            _ => {}
        }
    }
    let log_files = files.len();
    let svc_names: Vec<&str> = SERVICES.iter().map(|s| s.0).collect();
    let deployments: Vec<Value> = svc_names.iter().map(|s| json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": s, "namespace": NS, "labels": {"release": REL, "service": s, "heritage": "Helm"}},
        "spec": {"replicas": n.div_ceil(SERVICES.len()), "selector": {"matchLabels": {"service": s, "release": REL}},
                 "template": {"metadata": {"labels": {"service": s, "release": REL}},
                              "spec": {"containers": [{"name": s, "image": format!("deepsecurity/{s}@sha256:77aa")}]}}},
        "status": {"replicas": n.div_ceil(SERVICES.len()), "unavailableReplicas": 1}})).collect();
    let services: Vec<Value> = svc_names.iter().enumerate().map(|(k, s)| json!({
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": s, "namespace": NS, "labels": {"release": REL, "service": s}},
        "spec": {"ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 8080}],
                 "selector": {"service": s, "release": REL}, "type": "ClusterIP", "clusterIP": format!("10.96.10.{}", k + 1)}})).collect();
    let netpols: Vec<Value> = svc_names.iter().map(|s| json!({
        "kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": s, "namespace": NS, "labels": {"release": REL, "service": s}},
        "spec": {"podSelector": {"matchLabels": {"service": s, "release": REL}}, "policyTypes": ["Ingress", "Egress"],
                 "egress": [{"ports": [{"port": 53, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]},
                            {"ports": [{"port": 5432, "protocol": "TCP"}]}]}})).collect();
    let mut secrets = vec![
        json!({"kind": "Secret", "apiVersion": "v1", "type": "Opaque",
        "metadata": {"name": format!("{REL}-smartcheck-db"), "namespace": NS, "labels": {"release": REL}},
        "data": {"database-user": "cG9zdGdyZXM=", "database-password": "cGFzc3dvcmQ="}}),
    ];
    for (s, db, _) in SERVICES {
        if *db {
            secrets.push(json!({"kind": "Secret", "apiVersion": "v1", "type": "Opaque",
                "metadata": {"name": format!("{REL}-smartcheck-{s}-db"), "namespace": NS, "labels": {"release": REL}},
                "data": {"database-user": "dQ==", "database-user-full": "dQ==", "database-password": "cA==", "database-secret": "cw=="}}));
        }
    }
    let nodes: Vec<Value> = (1..=3).map(|k| json!({"kind": "Node", "apiVersion": "v1",
        "metadata": {"name": format!("node-{k}"), "labels": {"kubernetes.io/hostname": format!("node-{k}")}},
        "status": {"addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", 10 + k)}],
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "nodeInfo": {"kubeletVersion": "v1.29.4", "osImage": "Ubuntu 22.04", "architecture": "amd64",
                                "containerRuntimeVersion": "containerd://1.7", "kernelVersion": "5.15",
                                "kubeProxyVersion": "v1.29.4", "machineID": "", "systemUUID": "", "bootID": "",
                                "operatingSystem": "linux"}}})).collect();
    let namespaces: Vec<Value> = ["default", "kube-system", NS]
        .iter()
        .map(|n| {
            json!({"kind": "Namespace",
        "apiVersion": "v1", "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}},
        "status": {"phase": "Active"}})
        })
        .collect();
    let cms = vec![json!({"kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "dssc-db-trust-old", "namespace": NS}, "data": {"ca.pem": "-----BEGIN CERTIFICATE-----\n"}})];
    let r = |p: &str| format!("cluster-resources/{p}");
    files.push((
        "cluster-info/cluster_version.json".into(),
        br#"{"info":{"major":"1","minor":"29","gitVersion":"v1.29.4","platform":"linux/amd64"},"string":"v1.29.4"}"#.to_vec(),
    ));
    files.push((r("namespaces.json"), list("Namespace", "v1", namespaces)));
    files.push((r("nodes.json"), list("Node", "v1", nodes)));
    files.push((r(&format!("pods/{NS}.json")), list("Pod", "v1", pods)));
    files.push((r(&format!("events/{NS}.json")), list("Event", "v1", events)));
    files.push((
        r(&format!("configmaps/{NS}.json")),
        list("ConfigMap", "v1", cms),
    ));
    files.push((
        r(&format!("secrets/{NS}.json")),
        list("Secret", "v1", secrets),
    ));
    files.push((
        r(&format!("services/{NS}.json")),
        list("Service", "v1", services),
    ));
    files.push((
        r(&format!("deployments/{NS}.json")),
        list("Deployment", "apps/v1", deployments),
    ));
    files.push((
        r(&format!("networkpolicies/{NS}.json")),
        list("NetworkPolicy", "networking.k8s.io/v1", netpols),
    ));
    Generated {
        files,
        pods: n,
        log_files,
        log_bytes,
    }
}

// ---------------------------------------------------------------------------------
// The sequential baseline: what collect-logs.sh does, one request after another.

async fn baseline(c: &Client) -> usize {
    let ns = NS;
    let lp = ListParams::default();
    macro_rules! ls {
        ($t:ty, $api:expr) => {{
            let api: Api<$t> = $api;
            let _ = api.list(&lp).await;
        }};
    }
    // ~13 kubectl / helm commands, each one request.
    let _ = c.apiserver_version().await; // kubectl version
    ls!(Node, Api::all(c.clone())); // kubectl get nodes
    ls!(Namespace, Api::all(c.clone())); // kubectl get namespaces
    let pods: Api<Pod> = Api::namespaced(c.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(&format!("release={REL}")))
        .await
        .expect("pods"); // kubectl get pods -l release=...
    ls!(Event, Api::namespaced(c.clone(), ns)); // kubectl get events
    ls!(ConfigMap, Api::namespaced(c.clone(), ns));
    ls!(Secret, Api::namespaced(c.clone(), ns)); // helm list (release secrets)
    ls!(Service, Api::namespaced(c.clone(), ns));
    ls!(ServiceAccount, Api::namespaced(c.clone(), ns));
    ls!(Deployment, Api::namespaced(c.clone(), ns));
    ls!(ReplicaSet, Api::namespaced(c.clone(), ns));
    ls!(StatefulSet, Api::namespaced(c.clone(), ns));
    ls!(NetworkPolicy, Api::namespaced(c.clone(), ns));
    // Per pod: kubectl get pod, then kubectl logs for every init and app container.
    let mut logs = 0;
    for p in &list.items {
        let name = p.metadata.name.clone().unwrap_or_default();
        let pod = pods.get(&name).await.expect("get pod");
        let spec = pod.spec.as_ref().expect("spec");
        let status = pod.status.as_ref();
        let restarted = |c: &str| {
            status
                .and_then(|s| {
                    s.init_container_statuses
                        .iter()
                        .flatten()
                        .chain(s.container_statuses.iter().flatten())
                        .find(|cs| cs.name == c)
                })
                .is_some_and(|cs| cs.restart_count > 0)
        };
        for c in spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
        {
            for previous in [false, true] {
                if previous && !restarted(&c.name) {
                    continue;
                }
                let lp = LogParams {
                    container: Some(c.name.clone()),
                    previous,
                    ..Default::default()
                };
                if pods.logs(&name, &lp).await.is_ok() {
                    logs += 1;
                }
            }
        }
    }
    logs
}

// ---------------------------------------------------------------------------------

struct Run {
    ms: f64,
    requests: usize,
    peak: usize,
    conns: Option<usize>,
    logs: usize,
}

async fn doctor_run(api: &Arc<BundleApi>, latency: Duration, concurrency: usize) -> Run {
    let cat = Catalogue::builtin().expect("catalogue");
    let scanner = Scanner::new(&cat);
    let h = serve::start(api.clone(), "127.0.0.1:0".parse().unwrap(), latency)
        .await
        .expect("serve");
    let (c, stats) = client(&h);
    let opts = Options {
        concurrency,
        ..Options::default()
    };
    let t = Instant::now();
    let ev = live::collect(&c, NS, "bench", &opts, &cat, &scanner)
        .await
        .expect("collect");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let conns = server_connections(h.addr().port());
    assert!(ev.skipped.is_empty(), "skipped reads: {:?}", ev.skipped);
    drop(c);
    h.shutdown().await;
    Run {
        ms,
        requests: stats.requests.load(Ordering::Relaxed),
        peak: stats.peak.load(Ordering::Relaxed),
        conns,
        logs: ev.logs.len(),
    }
}

async fn baseline_run(api: &Arc<BundleApi>, latency: Duration) -> Run {
    let h = serve::start(api.clone(), "127.0.0.1:0".parse().unwrap(), latency)
        .await
        .expect("serve");
    let (c, stats) = client(&h);
    let t = Instant::now();
    let logs = baseline(&c).await;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let conns = server_connections(h.addr().port());
    drop(c);
    h.shutdown().await;
    Run {
        ms,
        requests: stats.requests.load(Ordering::Relaxed),
        peak: stats.peak.load(Ordering::Relaxed),
        conns,
        logs,
    }
}

fn median(mut v: Vec<Run>) -> Run {
    v.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    v.swap_remove(v.len() / 2)
}

fn main() {
    let runs: usize = std::env::var("DSSC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let concs: Vec<usize> = std::env::var("DSSC_BENCH_CONC")
        .unwrap_or_else(|_| "16,64,128".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // DSSC_BENCH_PROFILE=N: only N doctor runs at 200 pods (for perf record and A/B
    // runs), at DSSC_BENCH_LATENCY ms (default 0) and the first of DSSC_BENCH_CONC.
    if let Some(n) = std::env::var("DSSC_BENCH_PROFILE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let lat = std::env::var("DSSC_BENCH_LATENCY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let api = Arc::new(BundleApi::from_files(generate(200).files));
        let all: Vec<Run> = (0..n.max(1))
            .map(|_| rt.block_on(doctor_run(&api, Duration::from_millis(lat), concs[0])))
            .collect();
        let ms: Vec<String> = all.iter().map(|r| format!("{:.0}", r.ms)).collect();
        let m = median(all);
        println!(
            "200 pods, {lat} ms, concurrency {}: median {:.1} ms of [{}]",
            concs[0],
            m.ms,
            ms.join(" ")
        );
        return;
    }
    println!("live collection against `serve` (in process, loopback, HTTP/1.1), {runs} doctor runs per row (median), fresh client per run");
    println!("baseline: collect-logs.sh order, one request at a time (13 lists, then per pod get + logs of every init/app container, previous where restarted)");
    println!("bound: dependency-depth limit, 3 round trips x latency (issue 3)");
    println!();
    println!(
        "{:>5} {:>7} {:>5} {:>10} {:>6} {:>5} {:>6} {:>5} {:>11} {:>6} {:>8} {:>8} {:>9}",
        "pods",
        "latency",
        "conc",
        "doctor ms",
        "reqs",
        "peak",
        "conns",
        "logs",
        "baseline ms",
        "reqs",
        "ratio",
        "bound ms",
        "doc/bound"
    );
    let mut verdicts = Vec::new();
    for n in [20usize, 200] {
        let g = generate(n);
        let api = Arc::new(BundleApi::from_files(g.files));
        assert_eq!(api.objects("pods").len(), g.pods);
        eprintln!(
            "[{n} pods: {} log files, {:.1} MB of logs]",
            g.log_files,
            g.log_bytes as f64 / 1e6
        );
        for lat_ms in [0u64, 20] {
            let latency = Duration::from_millis(lat_ms);
            let base_runs = if lat_ms == 0 { 3 } else { 1 };
            let base = median(
                (0..base_runs)
                    .map(|_| rt.block_on(baseline_run(&api, latency)))
                    .collect(),
            );
            for &conc in &concs {
                rt.block_on(doctor_run(&api, latency, conc)); // warm-up
                let d = median(
                    (0..runs)
                        .map(|_| rt.block_on(doctor_run(&api, latency, conc)))
                        .collect(),
                );
                let bound = 3.0 * lat_ms as f64;
                let ratio = base.ms / d.ms;
                let (bound_s, dob) = if lat_ms == 0 {
                    ("0".to_string(), "-".to_string())
                } else {
                    (format!("{bound:.0}"), format!("{:.2}x", d.ms / bound))
                };
                println!(
                    "{:>5} {:>5}ms {:>5} {:>10.1} {:>6} {:>5} {:>6} {:>5} {:>11.1} {:>6} {:>7.1}x {:>8} {:>9}",
                    n,
                    lat_ms,
                    conc,
                    d.ms,
                    d.requests,
                    d.peak,
                    d.conns.map_or("?".into(), |c| c.to_string()),
                    d.logs,
                    base.ms,
                    base.requests,
                    ratio,
                    bound_s,
                    dob
                );
                if n == 200 && lat_ms == 20 {
                    verdicts.push(format!(
                        "200 pods / 20 ms, concurrency {conc}: {ratio:.1}x the baseline (target >= 50x: {}), {:.2}x the depth bound (target <= 2x: {})",
                        if ratio >= 50.0 { "met" } else { "MISSED" },
                        d.ms / bound,
                        if d.ms <= 2.0 * bound { "met" } else { "MISSED" }
                    ));
                }
            }
            eprintln!(
                "[{n} pods, {lat_ms} ms: baseline fetched {} logs over {} requests]",
                base.logs, base.requests
            );
        }
    }
    println!();
    println!(
        "columns: reqs = HTTP requests the client sent; peak = most requests in flight at once;"
    );
    println!(
        "conns = connections the server held open at the end of the run; logs = logs collected"
    );
    for v in verdicts {
        println!("{v}");
    }
}
