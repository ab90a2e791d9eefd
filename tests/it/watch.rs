//! `--watch` against `serve --script`: an install fixed mid-watch (ConfigMap created,
//! pods recover: exit 0), one that gets stuck (a root cause held for --settle: exit 3,
//! across a dropped watch and a 410 relist), the watch protocol itself, and real
//! `kubectl get pods -w` on the same stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::ci;
use crate::support::cli::{serve_bin, show, BIN};

fn bundle_path(name: &str) -> String {
    format!("{}/testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn pods(bundle: &str) -> Vec<Value> {
    let f = Path::new(bundle).join("cluster-resources/pods/trendmicro.json");
    let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
    v["items"].as_array().unwrap().clone()
}

/// A merge patch that makes a pod Ready: init containers completed, containers ready.
fn ready_patch(p: &Value) -> Value {
    let names = |k: &str| -> Vec<String> {
        p["spec"][k]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    json!({
        "kind": "Pod", "namespace": "trendmicro", "name": p["metadata"]["name"],
        "merge": {"status": {
            "phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"},
                           {"type": "ContainersReady", "status": "True"}],
            "initContainerStatuses": names("initContainers").iter().map(|n| json!({
                "name": n, "image": "x", "imageID": "", "ready": true, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}})).collect::<Vec<_>>(),
            "containerStatuses": names("containers").iter().map(|n| json!({
                "name": n, "image": "x", "imageID": "", "ready": true, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": "2026-11-23T03:00:00Z"}}})).collect::<Vec<_>>(),
        }}
    })
}

fn write_script(dir: &Path, steps: Value) -> PathBuf {
    let p = dir.join("script.yaml");
    // JSON is YAML.
    std::fs::write(&p, serde_json::to_vec(&json!({ "steps": steps })).unwrap()).unwrap();
    p
}

fn watch(kc: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--kubeconfig")
        .arg(kc)
        .args(["--no-probe", "--watch", "--watch-timeout", "60s"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn install_fixed_mid_watch_ends_with_exit_0() {
    let bundle = bundle_path("mnt001");
    let dir = tempfile::tempdir().unwrap();
    let fix: Vec<Value> = pods(&bundle).iter().map(ready_patch).collect();
    let script = write_script(
        dir.path(),
        json!([
            {"after": "2s", "apply": [{"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "dssc-db-trust", "namespace": "trendmicro"},
                "data": {"ca": "-----BEGIN CERTIFICATE-----"}}]},
            {"after": "1s", "patch": fix},
        ]),
    );
    let s = serve_bin(&bundle, &["--script", script.to_str().unwrap()]);
    let o = watch(&s.kubeconfig, &["--settle", "30s"]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // The root cause was printed while the pods were stuck, before they recovered.
    assert!(out.contains("error[MNT001]"), "{out}");
    assert!(
        err.contains("pod auth-7d78dccff7-nfh97: 0/1 Init:0/1"),
        "{err}"
    );
    assert!(
        err.contains("pod auth-7d78dccff7-nfh97: 1/1 Running"),
        "{err}"
    );
    assert!(err.contains("every Smart Check pod is Ready"), "{err}");
}

#[test]
fn stuck_install_ends_with_exit_3_after_settle_across_a_dropped_watch() {
    // The install starts with no events; the FailedMount appears after a second, then
    // every watch connection drops and the history is compacted (resuming gets 410
    // Expired, the watcher relists); nothing progresses.
    let bundle = bundle_path("mnt001");
    let dir = tempfile::tempdir().unwrap();
    let events: Value = serde_json::from_slice(
        &std::fs::read(Path::new(&bundle).join("cluster-resources/events/trendmicro.json"))
            .unwrap(),
    )
    .unwrap();
    let deletes: Vec<Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({"kind": "Event", "apiVersion": "v1", "namespace": "trendmicro", "name": e["metadata"]["name"]}))
        .collect();
    let failed_mount: Vec<Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "FailedMount")
        .cloned()
        .collect();
    let log = dir.path().join("access.log");
    let script = write_script(
        dir.path(),
        json!([
            {"delete": deletes},
            {"after": "1500ms", "apply": failed_mount},
            {"after": "500ms", "compact": true, "drop_watches": true},
        ]),
    );
    let s = serve_bin(
        &bundle,
        &[
            "--script",
            script.to_str().unwrap(),
            "--access-log",
            log.to_str().unwrap(),
        ],
    );
    let o = watch(&s.kubeconfig, &["--settle", "3s"]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        out.contains("error[MNT001]") && out.contains("root cause: MNT001"),
        "{out}"
    );
    assert!(err.contains("no pod progressing"), "{err}");
    let reqs = std::fs::read_to_string(&log).unwrap();
    let watches: Vec<&str> = reqs
        .lines()
        .filter(|l| l.contains("/pods?") && l.contains("watch=true"))
        .collect();
    assert!(
        watches.len() >= 2
            && watches
                .iter()
                .all(|l| l.contains("allowWatchBookmarks=true") && l.contains("resourceVersion=")),
        "the watch resumed: {reqs}"
    );
}

/// One HTTP/1.1 GET, reading the (chunked) body until `until` or the deadline.
fn stream(addr: &str, target: &str, until: &str, secs: u64) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let t = Instant::now();
    let mut buf = [0u8; 8192];
    while t.elapsed() < Duration::from_secs(secs) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if String::from_utf8_lossy(&got).contains(until) {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn events_of(body: &str) -> Vec<Value> {
    body.lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn serve_speaks_the_watch_protocol() {
    let bundle = bundle_path("mnt001");
    let dir = tempfile::tempdir().unwrap();
    let auth = pods(&bundle)[0].clone();
    let script = write_script(
        dir.path(),
        json!([
            {"after": "1s", "patch": [ready_patch(&auth)]},
            {"after": "2s", "compact": true},
        ]),
    );
    let s = serve_bin(
        &bundle,
        &[
            "--script",
            script.to_str().unwrap(),
            "--bookmark-interval",
            "1s",
        ],
    );
    let kc = std::fs::read_to_string(&s.kubeconfig).unwrap();
    let url = kc
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap();
    let addr = url.trim_start_matches("http://").to_string();
    let list = stream(
        &addr,
        "/api/v1/namespaces/trendmicro/pods",
        "\0 read to the end",
        5,
    );
    let body = &list[list.find("\r\n\r\n").unwrap() + 4..];
    let rv: u64 = serde_json::from_str::<Value>(body).unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // From the list's resourceVersion: no synthetic ADDED, the change, bookmarks.
    let w = stream(
        &addr,
        &format!("/api/v1/namespaces/trendmicro/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=4"),
        "BOOKMARK\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"",
        8,
    );
    assert!(
        w.contains("Transfer-Encoding: chunked") || w.contains("transfer-encoding: chunked"),
        "{w}"
    );
    let evs = events_of(&w);
    let modified = evs
        .iter()
        .find(|e| e["type"] == "MODIFIED")
        .unwrap_or_else(|| panic!("{w}"));
    assert_eq!(
        modified["object"]["metadata"]["name"],
        auth["metadata"]["name"]
    );
    let new_rv: u64 = modified["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(new_rv > rv);
    assert!(!evs.iter().any(|e| e["type"] == "ADDED"), "{w}");
    assert!(evs.iter().any(|e| e["type"] == "BOOKMARK"), "{w}");
    // After the history is compacted, the old resourceVersion is too old: 200 and one
    // ERROR event with a 410 Expired Status, as the watch cache answers.
    std::thread::sleep(Duration::from_secs(2));
    let w = stream(
        &addr,
        &format!("/api/v1/namespaces/trendmicro/pods?watch=true&resourceVersion={rv}"),
        "\"code\":410",
        5,
    );
    assert!(w.starts_with("HTTP/1.1 200"), "{w}");
    let evs = events_of(&w);
    assert_eq!(evs.len(), 1, "{w}");
    assert_eq!(evs[0]["type"], "ERROR");
    assert_eq!(evs[0]["object"]["reason"], "Expired");
    assert!(evs[0]["object"]["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("too old resource version: {rv} (")));
}

#[test]
fn kubectl_get_pods_w_follows_serve() {
    let Some(kubectl) = ci::kubectl() else {
        return;
    };
    let bundle = bundle_path("mnt001");
    let dir = tempfile::tempdir().unwrap();
    let auth = pods(&bundle)[0].clone();
    let script = write_script(
        dir.path(),
        json!([{"after": "2s", "patch": [ready_patch(&auth)]}]),
    );
    let s = serve_bin(&bundle, &["--script", script.to_str().unwrap()]);
    let mut child = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["get", "pods", "-n", "trendmicro", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let name = auth["metadata"]["name"].as_str().unwrap().to_string();
    let t = Instant::now();
    let mut lines = Vec::new();
    let mut seen_running = false;
    while t.elapsed() < Duration::from_secs(30) && !seen_running {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            seen_running = l.starts_with(&name) && l.contains("1/1") && l.contains("Running");
            lines.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(seen_running, "kubectl -w: {lines:#?}\n{err}");
    // The initial list first (the stuck pod), then the change as a row of its own.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&name) && l.contains("Init:0/1")),
        "{lines:#?}"
    );
    assert!(!err.contains("Unable to decode"), "{err}");
}

#[test]
fn db_init_log_line_printed_as_the_container_restarts() {
    // db-init is running and has logged nothing wrong yet; after a moment it fails
    // with `pq: SSL is not enabled on the server` and waits in CrashLoopBackOff.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bundle");
    crate::live_errors::copy_into_namespace("tls003", &root, "trendmicro");
    let logs = root.join("cluster-resources/pods/logs/trendmicro");
    let pod = "auth-7d78dccff7-nfh97";
    let failing = std::fs::read_to_string(logs.join(pod).join("db-init.log")).unwrap();
    let starting = failing.lines().next().unwrap().to_string() + "\n";
    for p in std::fs::read_dir(&logs).unwrap().flatten() {
        std::fs::write(p.path().join("db-init.log"), &starting).unwrap();
    }
    let script = write_script(
        dir.path(),
        json!([{"after": "1500ms",
            "logs": [{"namespace": "trendmicro", "pod": pod, "container": "db-init",
                      "text": failing, "restart": false}],
            "patch": [{"kind": "Pod", "namespace": "trendmicro", "name": pod, "merge": {"status": {
                "initContainerStatuses": [{"name": "db-init", "image": "x", "imageID": "",
                    "ready": false, "restartCount": 1,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                        "containerID": "containerd://auth-1"}}}]}}}]}]),
    );
    let s = serve_bin(
        root.to_str().unwrap(),
        &["--script", script.to_str().unwrap()],
    );
    let o = watch(&s.kubeconfig, &["--settle", "2s"]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        out.contains("error[TLS003]") && out.contains("pq: SSL is not enabled on the server"),
        "{out}"
    );
    assert!(
        err.contains(&format!("pod {pod}: 0/1 Init:CrashLoopBackOff")),
        "{err}"
    );
}

#[test]
fn watch_without_pod_access_stops_with_the_rbac_finding() {
    let s = serve_bin(&bundle_path("mnt001"), &["--forbid", "pods"]);
    let o = watch(&s.kubeconfig, &["--settle", "30s", "-o", "json"]);
    // The report's own code: the events still name the root cause.
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot watch pods in namespace trendmicro"),
        "{}",
        show(&o)
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["findings"].to_string().contains("DOC001"), "{r}");
}
