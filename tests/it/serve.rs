//! The bundle server: started in-process on a free loopback port over a small bundle
//! written here and over a real troubleshoot.sh bundle, queried with raw HTTP, with the
//! `kube` client, and with the real `kubectl` when it is installed.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dssc_doctor::serve::{self, BundleApi, ServerHandle};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Secret};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, LogParams};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NS: &str = "trendmicro";
const AUTH: &str = "auth-7d78dccff7-nfh97";
const REGISTRY: &str = "registry-5b8f9d7c4-abcde";
const SECRET_VALUE: &str = "s3cr3t-Pa55w0rd";

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": format!("{kind}List"), "apiVersion": "v1",
           "metadata": {"resourceVersion": "4242"}, "items": items})
}

fn status_running(name: &str) -> Value {
    json!({"name": name, "image": format!("dssc/{name}:1"), "imageID": "", "ready": true,
           "restartCount": 0, "started": true,
           "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}}})
}

fn write(root: &Path, rel: &str, data: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn write_json(root: &Path, rel: &str, v: &Value) {
    write(root, rel, serde_json::to_vec_pretty(v).unwrap());
}

/// A small DSSC-like bundle: one pod stuck in db-init, two running, one elsewhere.
fn small_bundle(root: &Path) {
    let auth = json!({
        "metadata": {"name": AUTH, "namespace": NS, "uid": "uid-auth",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "auth", "release": "deepsecurity-smartcheck", "service": "auth"}},
        "spec": {"nodeName": "node-1",
            "initContainers": [{"name": "db-init", "image": "dssc/db-init:1"}],
            "containers": [{"name": "auth", "image": "dssc/auth:1"}]},
        "status": {"phase": "Pending", "podIP": "10.0.0.7",
            "initContainerStatuses": [{"name": "db-init", "image": "dssc/db-init:1", "imageID": "",
                "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}],
            "containerStatuses": [{"name": "auth", "image": "dssc/auth:1", "imageID": "",
                "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}
    });
    let registry = json!({
        "metadata": {"name": REGISTRY, "namespace": NS, "uid": "uid-registry",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "registry", "release": "deepsecurity-smartcheck", "service": "registry"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "registry", "image": "dssc/registry:1"}]},
        "status": {"phase": "Running", "containerStatuses": [status_running("registry")]}
    });
    let metrics = json!({
        "metadata": {"name": "metrics-0", "namespace": NS, "uid": "uid-metrics",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "metrics", "tier": "monitoring"}},
        "spec": {"containers": [{"name": "metrics"}, {"name": "sidecar"}]},
        "status": {"phase": "Running",
            "containerStatuses": [status_running("metrics"), status_running("sidecar")]}
    });
    // Written without kind/apiVersion, as some collectors do.
    write_json(
        root,
        "cluster-resources/pods/trendmicro.json",
        &list("Pod", vec![auth, registry, metrics]),
    );
    write_json(
        root,
        "cluster-resources/pods/default.json",
        &list(
            "Pod",
            vec![json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Succeeded"}})],
        ),
    );
    let ev = |name: &str, pod: &str, uid: &str, ty: &str, reason: &str, msg: &str, count: i32| {
        json!({"metadata": {"name": name, "namespace": NS},
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": NS, "uid": uid, "apiVersion": "v1"},
            "type": ty, "reason": reason, "message": msg, "count": count,
            "source": {"component": "kubelet"},
            "firstTimestamp": "2024-05-01T10:00:00Z", "lastTimestamp": "2024-05-01T10:30:00Z"})
    };
    write_json(
        root,
        "cluster-resources/events/trendmicro.json",
        &list(
            "Event",
            vec![
                ev("auth.1", AUTH, "uid-auth", "Warning", "BackOff",
                   "Back-off restarting failed container db-init in pod auth-7d78dccff7-nfh97", 11),
                ev("auth.2", AUTH, "uid-auth", "Warning", "FailedMount",
                   "MountVolume.SetUp failed for volume \"database-ca\" : configmap \"dssc-db-trust\" not found", 3),
                ev("registry.1", REGISTRY, "uid-registry", "Normal", "Pulled",
                   "Container image \"dssc/registry:1\" already present on machine", 1),
            ],
        ),
    );
    write_json(
        root,
        "cluster-resources/configmaps/trendmicro.json",
        &list(
            "ConfigMap",
            vec![
                json!({"metadata": {"name": "smartcheck-config", "namespace": NS},
            "data": {"db.host": "db.example.com", "db.port": "5432"}}),
            ],
        ),
    );
    let b64 = crate::support::report::b64(SECRET_VALUE.as_bytes());
    write_json(
        root,
        "cluster-resources/secrets/trendmicro.json",
        &list(
            "Secret",
            vec![
                json!({"metadata": {"name": "db-credentials", "namespace": NS},
            "type": "Opaque", "data": {"password": b64}, "stringData": {"user": SECRET_VALUE}}),
            ],
        ),
    );
    write_json(
        root,
        "cluster-resources/deployments/trendmicro.json",
        &json!({"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {}, "items": [
            {"metadata": {"name": "auth", "namespace": NS, "labels": {"service": "auth"}},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"service": "auth"}},
                      "template": {"metadata": {"labels": {"service": "auth"}},
                                   "spec": {"containers": [{"name": "auth"}]}}},
             "status": {"replicas": 1, "unavailableReplicas": 1}}]}),
    );
    write_json(
        root,
        "cluster-resources/network-policy/trendmicro.json",
        &json!({"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1", "items": [
            {"metadata": {"name": "default-deny-egress", "namespace": NS},
             "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}]}),
    );
    write_json(
        root,
        "cluster-resources/namespaces.json",
        &list(
            "Namespace",
            vec![
                json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}}),
                json!({"metadata": {"name": NS}, "status": {"phase": "Active"}}),
            ],
        ),
    );
    write_json(
        root,
        "cluster-resources/nodes.json",
        &list(
            "Node",
            vec![json!({"metadata": {"name": "node-1",
            "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.29.4", "architecture": "amd64",
                           "bootID": "", "containerRuntimeVersion": "", "kernelVersion": "",
                           "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux",
                           "osImage": "", "systemUUID": ""}}})],
        ),
    );
    write_json(
        root,
        "cluster-info/cluster_version.json",
        &json!({"info": {"major": "1", "minor": "29", "gitVersion": "v1.29.4",
            "gitCommit": "abc", "gitTreeState": "clean", "buildDate": "2024-04-16T00:00:00Z",
            "goVersion": "go1.21.9", "compiler": "gc", "platform": "linux/amd64"},
            "string": "v1.29.4"}),
    );
    let logs = format!("cluster-resources/pods/logs/{NS}");
    write(
        root,
        &format!("{logs}/{AUTH}/db-init.log"),
        "connecting to db.example.com:5432\nretrying\nFATAL: certificate verify failed\n",
    );
    write(
        root,
        &format!("{logs}/{AUTH}/db-init-previous.log"),
        // db-init waits in CrashLoopBackOff: `kubectl logs --previous` read the same
        // (last terminated) instance as `kubectl logs`; this copy differs only in
        // being the one the kubelet semantics must pick for both.
        "previous run\nFATAL: password authentication failed for user \"dssc\"\n",
    );
    write(
        root,
        &format!("{logs}/{REGISTRY}/registry.log"),
        "registry up\n",
    );
    write(root, &format!("{logs}/metrics-0/metrics.log"), "m\n");
    write(root, &format!("{logs}/metrics-0/sidecar.log"), "s\n");
}

struct Served {
    _dir: Option<tempfile::TempDir>,
    handle: ServerHandle,
}

async fn serve_dir(root: &Path, latency: Duration) -> ServerHandle {
    let api = BundleApi::load(root).expect("bundle loads");
    serve::start(Arc::new(api), "127.0.0.1:0".parse().unwrap(), latency)
        .await
        .expect("server starts")
}

async fn small() -> Served {
    let dir = tempfile::tempdir().unwrap();
    small_bundle(dir.path());
    let handle = serve_dir(dir.path(), Duration::ZERO).await;
    Served {
        _dir: Some(dir),
        handle,
    }
}

struct Resp {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A tiny HTTP/1.1 client: one request per connection, bounded by a timeout.
async fn http(addr: SocketAddr, method: &str, target: &str, accept: &str) -> Resp {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        let split = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("header end");
        let headers = String::from_utf8_lossy(&buf[..split]).into_owned();
        let status = headers
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        Resp {
            status,
            headers,
            body: buf[split + 4..].to_vec(),
        }
    })
    .await
    .expect("request within 10s")
}

async fn get(addr: SocketAddr, target: &str) -> Resp {
    http(addr, "GET", target, "application/json").await
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn discovery_and_version() {
    let s = small().await;
    let a = s.handle.addr();
    let v = get(a, "/version").await;
    assert_eq!(v.status, 200);
    assert!(v
        .headers
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
    assert_eq!(v.json()["gitVersion"], "v1.29.4");

    let api = get(a, "/api").await.json();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));

    let apis = get(a, "/apis").await.json();
    assert_eq!(apis["kind"], "APIGroupList");
    let gvs: Vec<&str> = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["preferredVersion"]["groupVersion"].as_str().unwrap())
        .collect();
    for gv in ["apps/v1", "networking.k8s.io/v1", "events.k8s.io/v1"] {
        assert!(gvs.contains(&gv), "{gvs:?}");
    }

    let core = get(a, "/api/v1").await.json();
    assert_eq!(core["kind"], "APIResourceList");
    assert_eq!(core["groupVersion"], "v1");
    let res = |list: &Value, name: &str| -> Value {
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in discovery"))
    };
    let pods = res(&core, "pods");
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["singularName"], "pod");
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["verbs"], json!(["get", "list"]));
    assert_eq!(pods["shortNames"], json!(["po"]));
    for (name, short, namespaced) in [
        ("configmaps", "cm", true),
        ("services", "svc", true),
        ("events", "ev", true),
        ("namespaces", "ns", false),
        ("nodes", "no", false),
    ] {
        let r = res(&core, name);
        assert_eq!(r["shortNames"][0], short, "{name}");
        assert_eq!(r["namespaced"], namespaced, "{name}");
    }
    res(&core, "pods/log");
    let apps = get(a, "/apis/apps/v1").await.json();
    assert_eq!(apps["groupVersion"], "apps/v1");
    assert_eq!(res(&apps, "deployments")["shortNames"], json!(["deploy"]));
    let net = get(a, "/apis/networking.k8s.io/v1").await.json();
    assert_eq!(
        res(&net, "networkpolicies")["shortNames"],
        json!(["netpol"])
    );
    assert_eq!(get(a, "/apis/apps").await.json()["kind"], "APIGroup");
    assert_eq!(get(a, "/apis/nope.example.com/v1").await.status, 404);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn get_and_list() {
    let s = small().await;
    let a = s.handle.addr();
    let pods = get(a, &format!("/api/v1/namespaces/{NS}/pods?limit=500")).await;
    assert_eq!(pods.status, 200);
    let pods = pods.json();
    assert_eq!(pods["kind"], "PodList");
    assert_eq!(pods["apiVersion"], "v1");
    assert_eq!(pods["metadata"]["resourceVersion"], "4242");
    assert_eq!(names(&pods), vec![AUTH, "metrics-0", REGISTRY]);
    for it in pods["items"].as_array().unwrap() {
        assert_eq!(it["kind"], "Pod");
        assert_eq!(it["apiVersion"], "v1");
        assert_eq!(it["metadata"]["namespace"], NS);
    }
    assert_eq!(names(&get(a, "/api/v1/pods").await.json()).len(), 4);
    let one = get(a, &format!("/api/v1/namespaces/{NS}/pods/{AUTH}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["metadata"]["uid"], "uid-auth");
    assert_eq!(one.json()["kind"], "Pod");

    let nss = get(a, "/api/v1/namespaces").await.json();
    assert_eq!(nss["kind"], "NamespaceList");
    assert_eq!(names(&nss), vec!["default", NS]);
    assert_eq!(
        get(a, &format!("/api/v1/namespaces/{NS}")).await.json()["kind"],
        "Namespace"
    );
    assert_eq!(names(&get(a, "/api/v1/nodes").await.json()), vec!["node-1"]);
    assert_eq!(get(a, "/api/v1/nodes/node-1").await.json()["kind"], "Node");
    assert_eq!(
        names(
            &get(a, &format!("/api/v1/namespaces/{NS}/configmaps"))
                .await
                .json()
        ),
        vec!["smartcheck-config"]
    );
    assert_eq!(
        names(
            &get(a, &format!("/api/v1/namespaces/{NS}/events"))
                .await
                .json()
        )
        .len(),
        3
    );
    let deps = get(a, &format!("/apis/apps/v1/namespaces/{NS}/deployments"))
        .await
        .json();
    assert_eq!(deps["kind"], "DeploymentList");
    assert_eq!(deps["apiVersion"], "apps/v1");
    assert_eq!(deps["items"][0]["kind"], "Deployment");
    let np = get(a, "/apis/networking.k8s.io/v1/networkpolicies")
        .await
        .json();
    assert_eq!(names(&np), vec!["default-deny-egress"]);
    assert_eq!(np["items"][0]["apiVersion"], "networking.k8s.io/v1");
    // An unknown namespace lists nothing, like the real API.
    assert_eq!(
        names(&get(a, "/api/v1/namespaces/nope/pods").await.json()).len(),
        0
    );

    // Secret values never leave the server.
    for target in [
        format!("/api/v1/namespaces/{NS}/secrets"),
        format!("/api/v1/namespaces/{NS}/secrets/db-credentials"),
        "/api/v1/secrets".to_string(),
    ] {
        let r = get(a, &target).await;
        assert_eq!(r.status, 200);
        let t = r.text();
        assert!(
            !t.contains(SECRET_VALUE)
                && !t.contains(&crate::support::report::b64(SECRET_VALUE.as_bytes()))
        );
        assert!(t.contains("password") && t.contains("***HIDDEN***"), "{t}");
    }
    s.handle.shutdown().await;
}

#[tokio::test]
async fn label_and_field_selectors() {
    let s = small().await;
    let a = s.handle.addr();
    let pods = |sel: &'static str, field: bool| async move {
        let q = if field {
            "fieldSelector"
        } else {
            "labelSelector"
        };
        names(
            &get(a, &format!("/api/v1/namespaces/{NS}/pods?{q}={}", enc(sel)))
                .await
                .json(),
        )
    };
    assert_eq!(pods("app=auth", false).await, vec![AUTH]);
    assert_eq!(pods("app==registry", false).await, vec![REGISTRY]);
    assert_eq!(pods("app!=auth", false).await, vec!["metrics-0", REGISTRY]);
    assert_eq!(
        pods("service in (auth, registry)", false).await,
        vec![AUTH, REGISTRY]
    );
    assert_eq!(
        pods("service notin (auth)", false).await,
        vec!["metrics-0", REGISTRY]
    );
    assert_eq!(pods("tier", false).await, vec!["metrics-0"]);
    assert_eq!(pods("!tier", false).await, vec![AUTH, REGISTRY]);
    assert_eq!(
        pods("release=deepsecurity-smartcheck,service!=auth", false).await,
        vec![REGISTRY]
    );
    assert_eq!(
        pods("metadata.name=metrics-0", true).await,
        vec!["metrics-0"]
    );
    assert_eq!(pods("status.phase!=Running", true).await, vec![AUTH]);
    assert_eq!(
        pods("status.phase=Running,metadata.name!=metrics-0", true).await,
        vec![REGISTRY]
    );
    let all = names(
        &get(
            a,
            &format!(
                "/api/v1/pods?fieldSelector={}",
                enc("metadata.namespace=default")
            ),
        )
        .await
        .json(),
    );
    assert_eq!(all, vec!["web-1"]);

    let events = |sel: String| async move {
        names(
            &get(
                a,
                &format!("/api/v1/namespaces/{NS}/events?fieldSelector={}", enc(&sel)),
            )
            .await
            .json(),
        )
    };
    assert_eq!(
        events(format!("involvedObject.name={AUTH}")).await,
        vec!["auth.1", "auth.2"]
    );
    // What `kubectl describe pod` sends.
    assert_eq!(
        events(format!(
            "involvedObject.name={AUTH},involvedObject.namespace={NS},involvedObject.kind=Pod,involvedObject.uid=uid-auth"
        ))
        .await,
        vec!["auth.1", "auth.2"]
    );
    assert_eq!(events("involvedObject.kind=Node".into()).await.len(), 0);

    let bad = get(a, &format!("/api/v1/pods?labelSelector={}", enc("a in (b"))).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["reason"], "BadRequest");
    assert_eq!(
        get(
            a,
            &format!("/api/v1/pods?fieldSelector={}", enc("nonsense"))
        )
        .await
        .status,
        400
    );
    s.handle.shutdown().await;
}

#[tokio::test]
async fn pod_logs() {
    let s = small().await;
    let a = s.handle.addr();
    let base = format!("/api/v1/namespaces/{NS}/pods/{AUTH}/log");
    let cur = get(a, &format!("{base}?container=db-init")).await;
    assert_eq!(cur.status, 200);
    assert!(cur
        .headers
        .to_ascii_lowercase()
        .contains("content-type: text/plain"));
    // The container waits in CrashLoopBackOff: like the kubelet, the current log is
    // the last terminated instance, the same one --previous reads.
    assert!(cur.text().contains("password authentication failed"));
    let prev = get(a, &format!("{base}?container=db-init&previous=true")).await;
    assert_eq!(prev.text(), cur.text());
    assert_eq!(
        get(a, &format!("{base}?container=db-init&tailLines=1"))
            .await
            .text(),
        "FATAL: password authentication failed for user \"dssc\"\n"
    );
    assert_eq!(
        get(a, &format!("{base}?container=db-init&limitBytes=8"))
            .await
            .text(),
        "previous"
    );
    // One container: no need to name it.
    assert_eq!(
        get(a, &format!("/api/v1/namespaces/{NS}/pods/{REGISTRY}/log"))
            .await
            .text(),
        "registry up\n"
    );
    // Several: the API asks for one, naming them.
    let which = get(a, &format!("/api/v1/namespaces/{NS}/pods/metrics-0/log")).await;
    assert_eq!(which.status, 400);
    assert!(which.json()["message"]
        .as_str()
        .unwrap()
        .contains("[metrics sidecar]"));

    let none = get(
        a,
        &format!("/api/v1/namespaces/{NS}/pods/{REGISTRY}/log?previous=true"),
    )
    .await;
    // The kubelet's answer: 400 BadRequest.
    assert_eq!(none.status, 400);
    let st = none.json();
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["reason"], "BadRequest");
    assert_eq!(
        st["message"],
        format!("previous terminated container \"registry\" in pod \"{REGISTRY}\" not found")
    );
    let nopod = get(a, &format!("/api/v1/namespaces/{NS}/pods/ghost/log")).await;
    assert_eq!(nopod.status, 404);
    assert_eq!(nopod.json()["message"], "pods \"ghost\" not found");
    assert_eq!(get(a, &format!("{base}?container=nope")).await.status, 400);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn status_objects_for_errors() {
    let s = small().await;
    let a = s.handle.addr();
    let nf = get(a, &format!("/api/v1/namespaces/{NS}/pods/ghost")).await;
    assert_eq!(nf.status, 404);
    let st = nf.json();
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["apiVersion"], "v1");
    assert_eq!(st["status"], "Failure");
    assert_eq!(st["reason"], "NotFound");
    assert_eq!(st["code"], 404);
    assert_eq!(st["message"], "pods \"ghost\" not found");
    assert_eq!(st["details"], json!({"name": "ghost", "kind": "pods"}));
    let dep = get(
        a,
        &format!("/apis/apps/v1/namespaces/{NS}/deployments/ghost"),
    )
    .await
    .json();
    assert_eq!(dep["message"], "deployments.apps \"ghost\" not found");
    assert_eq!(dep["details"]["group"], "apps");
    assert_eq!(get(a, "/api/v1/nothing").await.status, 404);
    assert_eq!(get(a, "/no/such/path").await.json()["reason"], "NotFound");

    for m in ["DELETE", "POST", "PUT", "PATCH"] {
        let r = http(
            a,
            m,
            &format!("/api/v1/namespaces/{NS}/pods/{AUTH}"),
            "application/json",
        )
        .await;
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(r.json()["reason"], "MethodNotAllowed");
        assert_eq!(r.json()["code"], 405);
    }
    let head = http(
        a,
        "HEAD",
        &format!("/api/v1/namespaces/{NS}/pods"),
        "application/json",
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    // A watch streams the current objects as ADDED and ends at timeoutSeconds.
    let w = get(
        a,
        &format!("/api/v1/namespaces/{NS}/pods?watch=true&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(w.status, 200);
    let text = w.text();
    let events: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!events.is_empty(), "{text}");
    assert!(events.iter().all(|e| e["type"] == "ADDED"), "{text}");
    // The deprecated /watch/ prefix is not served.
    let w = get(a, &format!("/api/v1/watch/namespaces/{NS}/pods")).await;
    assert_eq!(w.status, 405);
    assert_eq!(w.json()["reason"], "MethodNotAllowed");
    s.handle.shutdown().await;
}

#[tokio::test]
async fn tables_for_kubectl() {
    let s = small().await;
    let a = s.handle.addr();
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    let t = http(a, "GET", &format!("/api/v1/namespaces/{NS}/pods"), accept)
        .await
        .json();
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(&cols[..5], ["Name", "Ready", "Status", "Restarts", "Age"]);
    let auth = &t["rows"][0];
    assert_eq!(auth["cells"][0], AUTH);
    assert_eq!(auth["cells"][1], "0/1");
    assert_eq!(auth["cells"][2], "Init:CrashLoopBackOff");
    assert_eq!(auth["cells"][3], "5");
    assert_eq!(auth["object"]["metadata"]["name"], AUTH);
    let ev = http(a, "GET", &format!("/api/v1/namespaces/{NS}/events"), accept)
        .await
        .json();
    assert_eq!(ev["rows"][0]["cells"][3], format!("pod/{AUTH}"));
    let one = http(a, "GET", "/api/v1/nodes/node-1", accept).await.json();
    assert_eq!(
        one["rows"][0]["cells"],
        json!([
            "node-1",
            "Ready",
            "control-plane",
            one["rows"][0]["cells"][3],
            "v1.29.4"
        ])
    );
    s.handle.shutdown().await;
}

async fn kube_client(h: &ServerHandle) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&h.kubeconfig()).expect("kubeconfig parses");
    let mut cfg =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("kubeconfig is usable");
    cfg.connect_timeout = Some(Duration::from_secs(5));
    cfg.read_timeout = Some(Duration::from_secs(10));
    kube::Client::try_from(cfg).expect("client")
}

#[tokio::test]
async fn kube_client_typed_access() {
    let s = small().await;
    let client = kube_client(&s.handle).await;
    assert_eq!(client.default_namespace(), NS);
    let v = client.apiserver_version().await.unwrap();
    assert_eq!(v.git_version, "v1.29.4");

    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let all = pods.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 3);
    let stuck = pods
        .list(&ListParams::default().fields("status.phase!=Running"))
        .await
        .unwrap();
    assert_eq!(stuck.items.len(), 1);
    assert_eq!(stuck.items[0].metadata.name.as_deref(), Some(AUTH));
    let labelled = pods
        .list(&ListParams::default().labels("release=deepsecurity-smartcheck"))
        .await
        .unwrap();
    assert_eq!(labelled.items.len(), 2);
    let p = pods.get(AUTH).await.unwrap();
    assert_eq!(p.spec.unwrap().init_containers.unwrap()[0].name, "db-init");
    let err = pods.get("ghost").await.unwrap_err();
    match err {
        kube::Error::Api(st) => {
            assert_eq!(st.code, 404);
            assert_eq!(st.reason, "NotFound");
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(pods.get_opt("ghost").await.unwrap().is_none());
    match pods.delete(AUTH, &DeleteParams::default()).await {
        Err(kube::Error::Api(st)) => assert_eq!(st.code, 405),
        r => panic!("delete should fail with 405: {r:?}"),
    }

    let logs = pods
        .logs(
            AUTH,
            &LogParams {
                container: Some("db-init".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(logs.contains("password authentication failed"), "{logs}");
    let prev = pods
        .logs(
            AUTH,
            &LogParams {
                container: Some("db-init".into()),
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(prev.contains("password authentication failed"));
    let tail = pods
        .logs(
            AUTH,
            &LogParams {
                container: Some("db-init".into()),
                tail_lines: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        tail,
        "FATAL: password authentication failed for user \"dssc\"\n"
    );

    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    let ev = events
        .list(&ListParams::default().fields(&format!("involvedObject.name={AUTH}")))
        .await
        .unwrap();
    let reasons: Vec<_> = ev.items.iter().filter_map(|e| e.reason.clone()).collect();
    assert_eq!(reasons, vec!["BackOff", "FailedMount"]);

    // The same events through events.k8s.io/v1.
    let ev1: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), NS);
    let ev1 = ev1
        .list(&ListParams::default().fields(&format!("regarding.name={AUTH},type=Warning")))
        .await
        .unwrap();
    assert_eq!(ev1.items.len(), 2);
    assert_eq!(ev1.items[0].deprecated_count, Some(11));
    assert!(ev1.items[1]
        .note
        .as_deref()
        .unwrap()
        .contains("dssc-db-trust"));
    assert_eq!(
        ev1.items[0].reporting_controller.as_deref(),
        Some("kubelet")
    );

    let nodes: Api<Node> = Api::all(client.clone());
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let nss: Api<Namespace> = Api::all(client.clone());
    assert_eq!(
        nss.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    assert_eq!(deps.get("auth").await.unwrap().spec.replicas, Some(1));
    let np: Api<NetworkPolicy> = Api::namespaced(client.clone(), NS);
    assert_eq!(
        np.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NS);
    let sec = secrets.get("db-credentials").await.unwrap();
    let val = &sec.data.unwrap()["password"];
    assert_eq!(val.0, b"***HIDDEN***");
    s.handle.shutdown().await;
}

fn tar_gz(root: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    t.append_dir_all("support-bundle-2024-05-01", root).unwrap();
    t.into_inner().unwrap().finish().unwrap();
}

#[tokio::test]
async fn serves_a_tar_gz_with_latency_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("b");
    small_bundle(&root);
    let tgz = dir.path().join("bundle.tar.gz");
    tar_gz(&root, &tgz);
    let h = serve_dir(&tgz, Duration::from_millis(40)).await;
    let a = h.addr();
    assert_ne!(a.port(), 0);
    let t0 = Instant::now();
    let pods = get(a, &format!("/api/v1/namespaces/{NS}/pods"))
        .await
        .json();
    assert!(t0.elapsed() >= Duration::from_millis(40), "latency applied");
    assert_eq!(names(&pods).len(), 3);
    assert!(get(
        a,
        &format!("/api/v1/namespaces/{NS}/pods/{AUTH}/log?container=db-init&previous=1")
    )
    .await
    .text()
    .contains("previous run"));
    h.shutdown().await;
    // Nothing listens any more.
    let refused =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(a)).await;
    assert!(
        matches!(refused, Ok(Err(_))),
        "still accepting after shutdown"
    );
}

#[test]
fn rejects_what_is_not_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    assert!(BundleApi::load(dir.path()).is_err());
    let f = dir.path().join("x.log");
    std::fs::write(&f, "hello\n").unwrap();
    assert!(BundleApi::load(&f).is_err());
}

#[tokio::test]
async fn troubleshoot_bundle_is_served() {
    let Some(path) = crate::support::ci::external_bundle() else {
        return;
    };
    let path = path.as_path();
    let h = serve_dir(path, Duration::ZERO).await;
    let a = h.addr();
    assert_eq!(get(a, "/version").await.json()["gitVersion"], "v1.23.5");
    let client = kube_client(&h).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "velero");
    let list = pods.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 5);
    let all: Api<Pod> = Api::all(client.clone());
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        58
    );
    let logs = pods
        .logs(
            "velero-6996dd565b-xl44t",
            &LogParams {
                container: Some("velero".into()),
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!logs.is_empty());
    let events: Api<Event> = Api::namespaced(client.clone(), "velero");
    let ev = events
        .list(
            &ListParams::default()
                .fields("involvedObject.name=velero-6996dd565b-xl44t,type=Warning"),
        )
        .await
        .unwrap();
    assert!(ev
        .items
        .iter()
        .all(|e| e.type_.as_deref() == Some("Warning")));
    assert!(!ev.items.is_empty());
    let nodes: Api<Node> = Api::all(client.clone());
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    let deps: Api<Deployment> = Api::all(client);
    assert!(deps.list(&ListParams::default()).await.unwrap().items.len() >= 10);
    h.shutdown().await;
}

/// Runs kubectl against the kubeconfig with a hard deadline; (exit ok, stdout, stderr).
fn kubectl(kc: &Path, cache: &Path, args: &[&str]) -> (bool, String, String) {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--request-timeout=10s")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kubectl {args:?} did not finish in 30s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_fidelity() {
    if crate::support::ci::kubectl().is_none() {
        return;
    }
    let s = small().await;
    let dir = tempfile::tempdir().unwrap();
    let kc = crate::support::cli::kubeconfig_in(&s.handle, dir.path());
    let cache = dir.path().join("cache");
    let run = move |args: Vec<String>| {
        let (kc, cache) = (kc.clone(), cache.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                kubectl(&kc, &cache, &a)
            })
            .await
            .unwrap()
        }
    };
    let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();

    let (ok, out, err) = run(args(&format!("get pods -n {NS}"))).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("READY") && lines[0].contains("STATUS"),
        "{out}"
    );
    let auth_line = lines
        .iter()
        .find(|l| l.starts_with(AUTH))
        .expect("auth row");
    assert!(
        auth_line.contains("0/1") && auth_line.contains("Init:CrashLoopBackOff"),
        "{out}"
    );
    assert_eq!(lines.len(), 4, "{out}");

    // The kubeconfig's namespace is the bundle's DSSC namespace; short names resolve.
    let (ok, out, err) = run(args("get po")).await;
    assert!(ok && out.contains(REGISTRY), "{out}{err}");

    let (ok, out, err) = run(args(&format!(
        "get pods -n {NS} --field-selector=status.phase!=Running"
    )))
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains(AUTH) && !out.contains(REGISTRY) && !out.contains("metrics-0"),
        "{out}"
    );

    let (ok, out, err) = run(args("get pods -A -l app!=auth")).await;
    assert!(
        ok && out.contains("NAMESPACE") && out.contains("web-1") && !out.contains(AUTH),
        "{out}{err}"
    );

    let (ok, out, err) = run(args(&format!("describe pod {AUTH} -n {NS}"))).await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Name:         {AUTH}")), "{out}");
    assert!(
        out.contains("db-init:") && out.contains("CrashLoopBackOff"),
        "{out}"
    );
    let events = out.split("Events:").nth(1).expect("Events section");
    assert!(
        events.contains("BackOff") && events.contains("FailedMount"),
        "{out}"
    );
    assert!(
        events.contains("configmap \"dssc-db-trust\" not found"),
        "{out}"
    );
    assert!(!events.contains("Pulled"), "another pod's event: {out}");

    let (ok, out, err) = run(args(&format!(
        "get events -n {NS} --field-selector involvedObject.name={AUTH}"
    )))
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("BackOff") && out.contains("FailedMount") && !out.contains("Pulled"),
        "{out}"
    );

    let (ok, out, err) = run(args(&format!("logs {AUTH} -c db-init -n {NS}"))).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "previous run\nFATAL: password authentication failed for user \"dssc\"\n"
    );
    let (ok, out, err) = run(args(&format!("logs {AUTH} -c db-init --previous"))).await;
    assert!(ok, "{err}");
    assert!(out.contains("password authentication failed"), "{out}");
    let (ok, out, err) = run(args(&format!("logs {AUTH} -c db-init --tail=1"))).await;
    assert!(
        ok && out == "FATAL: password authentication failed for user \"dssc\"\n",
        "{out}{err}"
    );
    let (ok, _, err) = run(args(&format!("logs {REGISTRY} --previous"))).await;
    assert!(
        !ok && err.contains("BadRequest") && err.contains("previous terminated container"),
        "{err}"
    );

    let (ok, _, err) = run(args(&format!("delete pod {AUTH} -n {NS}"))).await;
    assert!(!ok, "delete must fail");
    assert!(err.contains("MethodNotAllowed"), "{err}");

    let (ok, _, err) = run(args("get pod ghost")).await;
    assert!(
        !ok && err.contains("NotFound") && err.contains("\"ghost\" not found"),
        "{err}"
    );

    for cmd in [
        "get nodes",
        "get ns",
        "get cm",
        "get secrets",
        "get deploy",
        "get netpol",
        "version",
    ] {
        let (ok, out, err) = run(args(cmd)).await;
        assert!(ok, "kubectl {cmd}: {err}");
        assert!(!out.is_empty(), "kubectl {cmd}");
    }
    let (ok, out, _) = run(args("get secret db-credentials -o json")).await;
    assert!(ok && out.contains("KioqSElEREVOKioq") && !out.contains(SECRET_VALUE));
    s.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_on_troubleshoot_bundle() {
    let (Some(_), Some(external)) = (
        crate::support::ci::kubectl(),
        crate::support::ci::external_bundle(),
    ) else {
        return;
    };
    let h = serve_dir(&external, Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = crate::support::cli::kubeconfig_in(&h, dir.path());
    let cache = dir.path().join("cache");
    let out = tokio::task::spawn_blocking(move || {
        let pods = kubectl(&kc, &cache, &["get", "pods", "-n", "velero"]);
        let desc = kubectl(
            &kc,
            &cache,
            &["describe", "pod", "velero-6996dd565b-xl44t", "-n", "velero"],
        );
        let logs = kubectl(
            &kc,
            &cache,
            &[
                "logs",
                "velero-6996dd565b-xl44t",
                "-n",
                "velero",
                "-c",
                "velero",
                "--previous",
            ],
        );
        (pods, desc, logs)
    })
    .await
    .unwrap();
    let (pods, desc, logs) = out;
    assert!(
        pods.0 && pods.1.contains("velero-6996dd565b-xl44t") && pods.1.contains("CrashLoopBackOff"),
        "{pods:?}"
    );
    assert!(
        desc.0 && desc.1.contains("Back-off restarting failed container"),
        "{desc:?}"
    );
    assert!(logs.0 && !logs.1.is_empty(), "{logs:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn handle_kube_config_reaches_the_server() {
    let s = small().await;
    let client = kube::Client::try_from(s.handle.kube_config().unwrap()).unwrap();
    let pods: Api<Pod> = Api::default_namespaced(client);
    assert_eq!(
        pods.list(&ListParams::default()).await.unwrap().items.len(),
        3
    );
    s.handle.shutdown().await;
}

/// The `serve` subcommand: writes the kubeconfig, answers, and stops on SIGINT.
#[test]
fn serve_command_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("b");
    small_bundle(&root);
    let kc = dir.path().join("kc.yaml");
    let bin = crate::support::cli::BIN;
    let mut child = Command::new(bin)
        .arg("serve")
        .arg(&root)
        .args(["--latency", "1ms", "--kubeconfig-out"])
        .arg(&kc)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        if let Ok(t) = std::fs::read_to_string(&kc) {
            if t.contains("current-context") {
                break t;
            }
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("serve did not write its kubeconfig");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(text.contains(&format!("namespace: \"{NS}\"")), "{text}");
    let url = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: http://"))
        .expect("server line")
        .to_string();
    let addr: SocketAddr = url.parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let v = rt.block_on(get(addr, "/version"));
    assert_eq!(v.json()["gitVersion"], "v1.29.4");
    // Ctrl-C stops it cleanly.
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "{err}");
    assert!(
        err.contains("kubectl --kubeconfig") && err.contains("5 logs"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let bad = Command::new(bin)
        .arg("serve")
        .arg(&root)
        .args(["--latency", "soon"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let missing = Command::new(bin)
        .arg("serve")
        .arg(dir.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// The one exemption from masking Secret values: a key that holds PEM certificates only
/// (a CA bundle) is served as the real API server would, and kept in a bundle written
/// from the cluster; a private key, a certificate with its key, and a password in the
/// same Secret stay masked in the server's answers and in every file of the bundle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_pem_certificates_of_a_secret_are_served_and_kept() {
    use crate::support::report::b64;
    let ca = crate::support::certs::Ca::new("Secret Exemption Test CA");
    let cert = String::from_utf8(ca.pem()).unwrap();
    let key = String::from_utf8(ca.key_pem()).unwrap();
    let key_body = key.lines().nth(1).unwrap().to_string();
    let secret = json!({"kind": "Secret", "apiVersion": "v1", "type": "Opaque",
    "metadata": {"name": "dssc-db-ca", "namespace": NS},
    "data": {
        "ca": b64(cert.as_bytes()),
        "tls.key": b64(key.as_bytes()),
        "bundle-with-key": b64(format!("{cert}{key}").as_bytes()),
        "password": b64(SECRET_VALUE.as_bytes()),
    }});
    let files = || {
        vec![
            (
                "cluster-resources/namespaces.json".to_string(),
                serde_json::to_vec(&list("Namespace", vec![json!({"metadata": {"name": NS}})]))
                    .unwrap(),
            ),
            (
                format!("cluster-resources/secrets/{NS}.json"),
                serde_json::to_vec(&list("Secret", vec![secret.clone()])).unwrap(),
            ),
        ]
    };
    let leaks = |what: &str, t: &str| {
        for bad in [key_body.as_str(), SECRET_VALUE] {
            assert!(!t.contains(bad), "{what}: a Secret value leaked");
        }
        for bad in [key.as_bytes(), SECRET_VALUE.as_bytes()] {
            assert!(
                !t.contains(&b64(bad)),
                "{what}: a Secret value leaked (base64)"
            );
        }
    };
    let h = serve::start(
        Arc::new(BundleApi::from_files(files())),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    let a = h.addr();
    for target in [
        format!("/api/v1/namespaces/{NS}/secrets/dssc-db-ca"),
        format!("/api/v1/namespaces/{NS}/secrets"),
        "/api/v1/secrets".to_string(),
    ] {
        let r = get(a, &target).await;
        assert_eq!(r.status, 200, "{target}");
        leaks(&target, &r.text());
        let v = r.json();
        let data = if v["items"].is_array() {
            v["items"][0]["data"].clone()
        } else {
            v["data"].clone()
        };
        assert_eq!(data["ca"], b64(cert.as_bytes()), "{target}");
        let hidden = b64(b"***HIDDEN***");
        for k in ["tls.key", "bundle-with-key", "password"] {
            assert_eq!(data[k], hidden.as_str(), "{target}: {k}");
        }
    }
    h.shutdown().await;

    // A bundle written from a cluster that serves every value, as a real one does.
    let h = serve::start(
        Arc::new(BundleApi::with_secret_values(files())),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = crate::support::cli::kubeconfig_in(&h, dir.path());
    let out = dir.path().join("b");
    let o = tokio::task::block_in_place(|| {
        Command::new(crate::support::cli::BIN)
            .arg("--kubeconfig")
            .arg(&kc)
            .args(["-n", NS, "--no-probe", "bundle", "--dir"])
            .arg(&out)
            .output()
            .unwrap()
    });
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        crate::support::cli::show(&o)
    );
    leaks("bundle output", &crate::support::cli::show(&o));
    let mut kept_ca = false;
    for e in walk(&out) {
        let t = String::from_utf8_lossy(&std::fs::read(&e).unwrap()).into_owned();
        leaks(&e.display().to_string(), &t);
        kept_ca |= t.contains(&b64(cert.as_bytes()));
    }
    assert!(kept_ca, "the CA bundle was not kept in the written bundle");
    h.shutdown().await;
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A third-party bundle is served as redacted as one the doctor writes: a pod's
/// secret-named env value, a password in its args, a Deployment template's env, a
/// ConfigMap's private key and a password in an event message never reach a client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_bundle_is_served_with_the_bundle_writers_redaction() {
    let env = json!([{"name": "PGPASSWORD", "value": SECRET_VALUE}, {"name": "PGHOST", "value": "db.example.com"}]);
    let pod = json!({"metadata": {"name": "auth-1", "namespace": NS},
        "spec": {"containers": [{"name": "auth", "image": "dssc/auth:1", "env": env.clone(),
            "args": [format!("--service-password={SECRET_VALUE}")]}]}});
    let deploy = json!({"metadata": {"name": "auth", "namespace": NS},
        "spec": {"selector": {"matchLabels": {"app": "auth"}},
            "template": {"metadata": {"labels": {"app": "auth"}},
                "spec": {"containers": [{"name": "auth", "image": "dssc/auth:1", "env": env}]}}}});
    let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n-----END PRIVATE KEY-----\n";
    let cm = json!({"metadata": {"name": "leaky", "namespace": NS}, "data": {"tls.key": key}});
    let event = json!({"metadata": {"name": "e1", "namespace": NS}, "reason": "Failed",
        "message": format!("postgres://admin:{SECRET_VALUE}@db:5432/x refused"),
        "involvedObject": {"kind": "Pod", "name": "auth-1", "namespace": NS}});
    let files = vec![
        (
            format!("cluster-resources/pods/{NS}.json"),
            serde_json::to_vec(&list("Pod", vec![pod])).unwrap(),
        ),
        (
            format!("cluster-resources/deployments/{NS}.json"),
            serde_json::to_vec(&list("Deployment", vec![deploy])).unwrap(),
        ),
        (
            format!("cluster-resources/configmaps/{NS}.json"),
            serde_json::to_vec(&list("ConfigMap", vec![cm])).unwrap(),
        ),
        (
            format!("cluster-resources/events/{NS}.json"),
            serde_json::to_vec(&list("Event", vec![event])).unwrap(),
        ),
    ];
    let h = serve::start(
        Arc::new(BundleApi::from_files(files)),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    for target in [
        format!("/api/v1/namespaces/{NS}/pods"),
        format!("/api/v1/namespaces/{NS}/pods/auth-1"),
        format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        format!("/api/v1/namespaces/{NS}/configmaps/leaky"),
        format!("/api/v1/namespaces/{NS}/events"),
    ] {
        let r = get(h.addr(), &target).await;
        assert_eq!(r.status, 200, "{target}");
        let t = r.text();
        assert!(!t.contains(SECRET_VALUE), "{target}: {t}");
        assert!(
            !t.contains("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ"),
            "{target}: {t}"
        );
    }
    // What is not secret is still served as it was.
    let pod = get(h.addr(), &format!("/api/v1/namespaces/{NS}/pods/auth-1"))
        .await
        .json();
    assert_eq!(
        pod["spec"]["containers"][0]["env"][1]["value"],
        "db.example.com"
    );
    assert_eq!(pod["kind"], "Pod");
    h.shutdown().await;
}
