//! Live mode as a kubectl user expects it, through the binary against `serve` (and
//! real kubectl where it shows the same thing): why a read failed (401, exec plugin,
//! refused, TLS), the kubelet unreachable for a log, the User-Agent and log URLs,
//! finding the install without `-n`, a missing namespace or release, event series,
//! and a restarting container's logs counted once (live and from a bundle).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::support::certs::{Ca, Key, San};
use crate::support::ci;
use crate::support::cli::{serve_bin, show, BIN};

fn bundle_path(name: &str) -> String {
    format!("{}/testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn doctor(kc: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--kubeconfig")
        .arg(kc)
        .args(["--no-probe", "--timeout", "5s"])
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", show(o)))
}

fn kubectl(kc: &Path, args: &[&str]) -> Option<Output> {
    let k = ci::kubectl()?;
    Some(
        Command::new(k)
            .arg("--kubeconfig")
            .arg(kc)
            .args(["--request-timeout", "10s"])
            .args(args)
            .output()
            .unwrap(),
    )
}

/// A kubeconfig for `server` with the user's entry given as YAML flow.
fn kubeconfig(dir: &Path, server: &str, cluster_extra: &str, user: &str, ns: &str) -> PathBuf {
    let p = dir.join("kubeconfig");
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{cluster_extra}\
             contexts:\n- name: ctx\n  context: {{cluster: c, user: jane, namespace: {ns}}}\n\
             current-context: ctx\nusers:\n- name: jane\n  user: {user}\n"
        ),
    )
    .unwrap();
    p
}

fn served_url(kc: &Path) -> String {
    let text = std::fs::read_to_string(kc).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string()
}

#[test]
fn rejected_token_says_credentials_naming_user_and_context_not_rbac() {
    let s = serve_bin(&bundle_path("mnt001"), &["--token", "good-token"]);
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(
        dir.path(),
        &served_url(&s.kubeconfig),
        "",
        "{token: expired-token}",
        "trendmicro",
    );
    let o = doctor(&kc, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        err.contains("401")
            && err.contains("user \"jane\" of context \"ctx\"")
            && err.contains("log in again"),
        "{err}"
    );
    assert!(!err.contains("rbac") && !err.contains("forbidden"), "{err}");
    // -o json: still a report, carrying the error.
    let o = doctor(&kc, &["-o", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let r = json_out(&o);
    assert_eq!(r["error"]["kind"], "unauthorized");
    assert_eq!(r["source"]["kind"], "cluster");
    // The right token works; kubectl sees the same 401 with the wrong one.
    assert_eq!(doctor(&s.kubeconfig, &[]).status.code(), Some(3));
    if let Some(k) = kubectl(&kc, &["get", "pods", "-n", "trendmicro"]) {
        let kerr = stderr(&k);
        assert!(
            !k.status.success() && kerr.contains("You must be logged in to the server"),
            "{kerr}"
        );
    }
}

#[test]
fn forbidden_stays_doc001_with_rbac_advice() {
    let s = serve_bin(&bundle_path("mnt001"), &["--forbid", "secrets"]);
    let o = doctor(&s.kubeconfig, &["-o", "json"]);
    let r = json_out(&o);
    let doc = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "DOC001")
        .expect("DOC001");
    assert!(
        doc["evidence"].to_string().contains("forbidden (403)"),
        "{doc}"
    );
}

#[test]
fn failing_exec_plugin_is_reported_with_its_own_message() {
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(
        dir.path(),
        "https://127.0.0.1:1",
        "",
        "{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /bin/sh, \
         args: [-c, \"echo 'token expired: run login again' >&2; exit 1\"], interactiveMode: Never}}",
        "default",
    );
    let o = doctor(&kc, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("exec plugin /bin/sh failed with exit code 1")
            && err.contains("token expired: run login again")
            && err.contains("user \"jane\""),
        "{err}"
    );
    if let Some(k) = kubectl(&kc, &["get", "pods"]) {
        let kerr = stderr(&k);
        assert!(kerr.contains("failed with exit code 1"), "{kerr}");
    }
}

/// A real TLS server (OpenSSL) that completes no request: enough for the handshake.
fn tls_server(cert_pem: &[u8], key_pem: &[u8]) -> u16 {
    use openssl::ssl::{SslAcceptor, SslMethod};
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    b.set_certificate(&openssl::x509::X509::from_pem(cert_pem).unwrap())
        .unwrap();
    b.set_private_key(&openssl::pkey::PKey::private_key_from_pem(key_pem).unwrap())
        .unwrap();
    let acc = b.build();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let _ = acc.accept(s);
        }
    });
    port
}

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn unreachable_and_untrusted_servers_name_url_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("cluster CA");
    let other = Ca::new("someone else");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let cases: Vec<(&str, u16, &str, &str)> = vec![
        {
            let c = other.server("127.0.0.1", &[San::Ip("127.0.0.1")], Key::Rsa);
            (
                "unknown authority",
                tls_server(&c.cert_pem, &c.key_pem),
                "unknown authority",
                "unknown authority",
            )
        },
        {
            let c = ca.server("other.example", &[San::Dns("other.example")], Key::Rsa);
            (
                "name mismatch",
                tls_server(&c.cert_pem, &c.key_pem),
                "name mismatch",
                "IP SANs",
            )
        },
        {
            let c = ca.server_valid(
                "127.0.0.1",
                &[San::Ip("127.0.0.1")],
                Key::Rsa,
                now - 10 * 86400,
                now - 86400,
            );
            (
                "expired",
                tls_server(&c.cert_pem, &c.key_pem),
                "has expired",
                "expired",
            )
        },
    ];
    let ca_line = format!("    certificate-authority-data: {}\n", b64(&ca.pem()));
    for (what, port, ours, theirs) in cases {
        let url = format!("https://127.0.0.1:{port}");
        let kc = kubeconfig(dir.path(), &url, &ca_line, "{token: t}", "default");
        let o = doctor(&kc, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(&url) && err.contains(ours), "{what}: {err}");
        let o = doctor(&kc, &["-o", "json"]);
        assert_eq!(json_out(&o)["error"]["kind"], "tls", "{what}");
        if let Some(k) = kubectl(&kc, &["get", "pods"]) {
            assert!(
                stderr(&k).contains(theirs),
                "{what}: kubectl: {}",
                stderr(&k)
            );
        }
    }
    // A server that accepts the connection and never answers the TLS handshake.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", silent.local_addr().unwrap());
    let kc = kubeconfig(dir.path(), &url, &ca_line, "{token: t}", "default");
    let t = std::time::Instant::now();
    let o = doctor(&kc, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&url) && err.contains("timed out"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    drop(silent);
    // A name that does not resolve.
    let url = "https://nosuchhost.invalid:6443";
    let kc = kubeconfig(dir.path(), url, &ca_line, "{token: t}", "default");
    let o = doctor(&kc, &[]);
    let err = stderr(&o);
    assert!(
        err.contains(url) && err.contains("DNS lookup failed"),
        "{err}"
    );
    // Connection refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}");
    let kc = kubeconfig(dir.path(), &url, &ca_line, "{token: t}", "default");
    let o = doctor(&kc, &["-o", "json"]);
    let err = stderr(&o);
    assert!(
        err.contains(&url) && err.contains("connection refused"),
        "{err}"
    );
    assert_eq!(json_out(&o)["error"]["kind"], "unreachable");
    // --watch too.
    let o = doctor(&kc, &["-w", "-o", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json_out(&o)["error"]["kind"], "unreachable");
    if let Some(k) = kubectl(&kc, &["get", "pods"]) {
        assert!(stderr(&k).contains("refused"), "{}", stderr(&k));
    }
}

#[test]
fn kubelet_unreachable_log_read_says_why_and_what_to_check() {
    let s = serve_bin(&bundle_path("tls003"), &["--kubelet-unreachable"]);
    let o = doctor(&s.kubeconfig, &["-o", "json"]);
    let r = json_out(&o);
    let skipped = r["skipped"].to_string();
    assert!(
        skipped.contains("could not reach the node's kubelet on node node-1")
            && skipped.contains("check the node")
            && !skipped.contains(": :"),
        "{skipped}"
    );
    // kubectl fails the same way, on the same kubelet URL.
    if let Some(k) = kubectl(
        &s.kubeconfig,
        &[
            "logs",
            "auth-7d78dccff7-nfh97",
            "-c",
            "db-init",
            "-n",
            "trendmicro",
        ],
    ) {
        let kerr = stderr(&k);
        assert!(
            kerr.contains("Error from server: Get \"https://10.0.0.11:10250/containerLogs/trendmicro/auth-7d78dccff7-nfh97/db-init"),
            "{kerr}"
        );
        assert!(
            skipped.contains("https://10.0.0.11:10250/containerLogs/"),
            "{skipped}"
        );
    }
}

#[test]
fn requests_carry_the_user_agent_and_log_urls_have_no_stray_ampersand() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let s = serve_bin(
        &bundle_path("tls003"),
        &["--access-log", log.to_str().unwrap()],
    );
    let o = doctor(&s.kubeconfig, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let lines = std::fs::read_to_string(&log).unwrap();
    let ua = format!("UA=dssc-doctor/{}", env!("CARGO_PKG_VERSION"));
    assert!(lines.lines().all(|l| l.ends_with(&ua)), "{lines}");
    let logs: Vec<&str> = lines.lines().filter(|l| l.contains("/log?")).collect();
    assert!(!logs.is_empty(), "{lines}");
    assert!(
        logs.iter()
            .all(|l| l.contains("/log?container=") && !l.contains("?&")),
        "{logs:?}"
    );
}

/// A copy of a bundle whose pods, services… live in namespace `to` (and whose
/// doctor files are dropped, so nothing names the namespace).
pub(crate) fn copy_into_namespace(from: &str, root: &Path, to: &str) {
    let src = Path::new(&bundle_path(from)).join("cluster-resources");
    for dir in [
        "pods",
        "events",
        "configmaps",
        "services",
        "deployments",
        "secrets",
    ] {
        let f = src.join(dir).join("trendmicro.json");
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let out = root.join("cluster-resources").join(dir);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(
            out.join(format!("{to}.json")),
            text.replace("\"trendmicro\"", &format!("\"{to}\"")),
        )
        .unwrap();
    }
    let logs = src.join("pods/logs/trendmicro");
    if logs.is_dir() {
        let out = root.join("cluster-resources/pods/logs").join(to);
        for pod in std::fs::read_dir(&logs).unwrap().flatten() {
            let d = out.join(pod.file_name());
            std::fs::create_dir_all(&d).unwrap();
            for f in std::fs::read_dir(pod.path()).unwrap().flatten() {
                std::fs::copy(f.path(), d.join(f.file_name())).unwrap();
            }
        }
    }
    let ns = root.join("cluster-resources/namespaces.json");
    let mut list: Value = std::fs::read(&ns)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(json!({"kind": "NamespaceList", "apiVersion": "v1", "items": []}));
    list["items"]
        .as_array_mut()
        .unwrap()
        .push(json!({"metadata": {"name": to}}));
    for extra in ["default", "kube-system"] {
        if !list["items"].to_string().contains(&format!("\"{extra}\"")) {
            list["items"]
                .as_array_mut()
                .unwrap()
                .push(json!({"metadata": {"name": extra}}));
        }
    }
    std::fs::write(&ns, serde_json::to_vec(&list).unwrap()).unwrap();
}

#[test]
fn without_n_the_install_is_found_and_the_choice_said() {
    let dir = tempfile::tempdir().unwrap();
    copy_into_namespace("mnt001", dir.path(), "dssc");
    // The kubeconfig's context namespace is `default`, which holds no pods.
    let s = serve_bin(dir.path().to_str().unwrap(), &["-n", "default"]);
    let o = doctor(&s.kubeconfig, &["-o", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let r = json_out(&o);
    assert_eq!(r["source"]["namespace"], "dssc");
    assert!(r["findings"].to_string().contains("MNT001"));
    let err = stderr(&o);
    assert!(
        err.contains("namespace \"dssc\"")
            && err.contains("context's namespace \"default\" has none"),
        "{err}"
    );
    // kubectl agrees where the pods are.
    if let Some(k) = kubectl(
        &s.kubeconfig,
        &["get", "pods", "-A", "-l", "release,service"],
    ) {
        assert!(
            String::from_utf8_lossy(&k.stdout).contains("dssc "),
            "{}",
            show(&k)
        );
    }
}

#[test]
fn several_installs_ask_for_n_and_list_them() {
    let dir = tempfile::tempdir().unwrap();
    copy_into_namespace("mnt001", dir.path(), "dssc-a");
    copy_into_namespace("tls003", dir.path(), "dssc-b");
    let s = serve_bin(dir.path().to_str().unwrap(), &["-n", "default"]);
    let o = doctor(&s.kubeconfig, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("dssc-a (release deepsecurity-smartcheck")
            && err.contains("dssc-b (release deepsecurity-smartcheck")
            && err.contains("-n NAMESPACE"),
        "{err}"
    );
    // -n picks one.
    let o = doctor(&s.kubeconfig, &["-n", "dssc-b", "-o", "json"]);
    assert_eq!(json_out(&o)["source"]["namespace"], "dssc-b");
}

#[test]
fn cluster_wide_list_forbidden_says_so_and_suggests_n() {
    let dir = tempfile::tempdir().unwrap();
    copy_into_namespace("mnt001", dir.path(), "dssc");
    let s = serve_bin(
        dir.path().to_str().unwrap(),
        &["-n", "default", "--forbid", "pods@cluster"],
    );
    let o = doctor(&s.kubeconfig, &["-o", "json"]);
    let err = stderr(&o);
    assert!(
        err.contains("cannot list pods in all namespaces") && err.contains("-n NAMESPACE"),
        "{err}"
    );
    let skipped = json_out(&o)["skipped"].to_string();
    assert!(skipped.contains("at the cluster scope"), "{skipped}");
    if let Some(k) = kubectl(&s.kubeconfig, &["get", "pods", "-A"]) {
        assert!(
            stderr(&k).contains("at the cluster scope"),
            "{}",
            stderr(&k)
        );
    }
}

#[test]
fn missing_namespace_is_an_error_naming_where_the_pods_are() {
    let s = serve_bin(&bundle_path("mnt001"), &[]);
    let o = doctor(&s.kubeconfig, &["-n", "nosuchns"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("namespace \"nosuchns\" not found") && err.contains("trendmicro (release"),
        "{err}"
    );
    if let Some(k) = kubectl(&s.kubeconfig, &["get", "namespace", "nosuchns"]) {
        assert!(stderr(&k).contains("namespaces \"nosuchns\" not found"));
    }
}

#[test]
fn release_that_matches_nothing_is_an_error_naming_the_releases() {
    let s = serve_bin(&bundle_path("mnt001"), &[]);
    let o = doctor(&s.kubeconfig, &["--release", "nosuchrelease"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("release \"nosuchrelease\"") && err.contains("deepsecurity-smartcheck"),
        "{err}"
    );
}

#[test]
fn event_series_gives_count_and_last_seen_like_kubectl_describe() {
    let dir = tempfile::tempdir().unwrap();
    copy_into_namespace("mnt001", dir.path(), "trendmicro");
    let f = dir.path().join("cluster-resources/events/trendmicro.json");
    let mut list: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    for e in list["items"].as_array_mut().unwrap() {
        if e["reason"] == "FailedMount"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("\"dssc-db-trust\" not found")
        {
            // As the events.k8s.io/v1 recorder writes it (and about the pod's uid,
            // which kubectl describe selects on).
            if e["involvedObject"]["name"] == "auth-7d78dccff7-nfh97" {
                e["involvedObject"]["uid"] = json!("ff34aa94-94fc-11e9-90aa-000000000000");
            }
            let o = e.as_object_mut().unwrap();
            o.remove("count");
            o.remove("firstTimestamp");
            o.remove("lastTimestamp");
            o.insert("eventTime".into(), json!("2026-11-23T02:10:00.000000Z"));
            o.insert(
                "series".into(),
                json!({"count": 11, "lastObservedTime": "2026-11-23T02:30:00.000000Z"}),
            );
        }
    }
    std::fs::write(&f, serde_json::to_vec(&list).unwrap()).unwrap();
    let s = serve_bin(dir.path().to_str().unwrap(), &[]);
    let o = doctor(&s.kubeconfig, &["-o", "json"]);
    let r = json_out(&o);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "MNT001")
        .unwrap();
    let e = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["text"].as_str().unwrap().contains("MountVolume.SetUp"))
        .unwrap();
    // Five pods, each x11 by its series, last seen when the series says.
    assert_eq!(e["count"], 55, "{e}");
    assert!(e["lastSeen"].as_str().unwrap().contains("02:30:00"), "{e}");
    assert!(e["firstSeen"].as_str().unwrap().contains("02:10:00"), "{e}");
    // kubectl describe counts the same event x11.
    if let Some(k) = kubectl(
        &s.kubeconfig,
        &[
            "describe",
            "pod",
            "auth-7d78dccff7-nfh97",
            "-n",
            "trendmicro",
        ],
    ) {
        let out = String::from_utf8_lossy(&k.stdout);
        assert!(out.contains("(x11 over"), "{out}");
    }
}

/// tls003 with every db-init restarting: `same` → waiting in CrashLoopBackOff (the
/// kubelet serves the last terminated instance for current and previous, and a
/// kubectl-made bundle holds the same bytes twice); else a new instance running,
/// whose log differs from the previous one.
fn restarting(root: &Path, same: bool) {
    copy_into_namespace("tls003", root, "trendmicro");
    let f = root.join("cluster-resources/pods/trendmicro.json");
    let mut list: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    for p in list["items"].as_array_mut().unwrap() {
        let name = p["metadata"]["name"].as_str().unwrap().to_string();
        if let Some(ics) = p["status"]["initContainerStatuses"].as_array_mut() {
            for c in ics.iter_mut().filter(|c| c["name"] == "db-init") {
                c["restartCount"] = json!(4);
                c["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                    "containerID": format!("containerd://{name}-3")}});
                if same {
                    c["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                        "message": "back-off 40s restarting failed container=db-init"}});
                } else {
                    c["state"] = json!({"running": {"startedAt": "2026-11-23T02:20:00Z"}});
                    c["containerID"] = json!(format!("containerd://{name}-4"));
                }
            }
        }
    }
    std::fs::write(&f, serde_json::to_vec(&list).unwrap()).unwrap();
    let logs = root.join("cluster-resources/pods/logs/trendmicro");
    for pod in std::fs::read_dir(&logs).unwrap().flatten() {
        let cur = pod.path().join("db-init.log");
        let text = std::fs::read_to_string(&cur).unwrap();
        let prev = if same {
            text.clone()
        } else {
            text.replace("15:26:42", "15:20:00")
        };
        std::fs::write(pod.path().join("db-init-previous.log"), prev).unwrap();
    }
}

fn tls003(r: &Value) -> &Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "TLS003")
        .unwrap_or_else(|| panic!("no TLS003: {r}"))
}

#[test]
fn restarting_db_init_is_one_pod_counted_once_live_and_from_a_bundle() {
    let base = crate::support::cli::run(&["analyze", &bundle_path("tls003"), "-o", "json"]);
    let per_pod_once = tls003(&json_out(&base))["evidence"][0]["count"]
        .as_u64()
        .unwrap();
    for same in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        restarting(dir.path(), same);
        let want = if same { per_pod_once } else { 2 * per_pod_once };
        // From the bundle.
        let o = crate::support::cli::run(&["analyze", dir.path().to_str().unwrap(), "-o", "json"]);
        let r = json_out(&o);
        let f = tls003(&r);
        assert_eq!(f["evidence"][0]["count"], want, "same={same}: {f}");
        assert_eq!(
            f["evidence"][0]["seenOn"], f["subjects"],
            "logs are evidence about their pods: {f}"
        );
        // Live, against serve answering as the kubelet does.
        let log = dir.path().join("access.log");
        let s = serve_bin(
            dir.path().to_str().unwrap(),
            &["--access-log", log.to_str().unwrap()],
        );
        let o = doctor(&s.kubeconfig, &["-o", "json"]);
        let r = json_out(&o);
        let f = tls003(&r);
        assert_eq!(f["evidence"][0]["count"], want, "live same={same}: {f}");
        assert_eq!(f["evidence"][0]["seenOn"], f["subjects"]);
        let reads = std::fs::read_to_string(&log).unwrap();
        let previous_reads = reads
            .lines()
            .filter(|l| l.contains("container=db-init&") && l.contains("previous=true"))
            .count();
        assert_eq!(previous_reads, if same { 0 } else { 5 }, "{reads}");
        // Text: one pod, counted as instances.
        let o = doctor(&s.kubeconfig, &[]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            !text.contains("(previous)") && !text.contains("subjects)"),
            "{text}"
        );
        assert!(text.contains(&format!("(x{want} on 5 pods)")), "{text}");
        // A bundle keeps both files only when they are different instances.
        let b = dir.path().join("written");
        let o = Command::new(BIN)
            .arg("--kubeconfig")
            .arg(&s.kubeconfig)
            .args(["--no-probe", "bundle", "--dir"])
            .arg(&b)
            .output()
            .unwrap();
        assert!(b.is_dir(), "{}", show(&o));
        let pod_logs = b.join("cluster-resources/pods/logs/trendmicro/auth-7d78dccff7-nfh97");
        assert!(pod_logs.join("db-init.log").is_file(), "{}", show(&o));
        assert_eq!(pod_logs.join("db-init-previous.log").is_file(), !same);
        if same {
            // kubectl: the same bytes for current and previous while it waits.
            if let (Some(a), Some(b)) = (
                kubectl(
                    &s.kubeconfig,
                    &[
                        "logs",
                        "auth-7d78dccff7-nfh97",
                        "-c",
                        "db-init",
                        "-n",
                        "trendmicro",
                    ],
                ),
                kubectl(
                    &s.kubeconfig,
                    &[
                        "logs",
                        "auth-7d78dccff7-nfh97",
                        "-c",
                        "db-init",
                        "-n",
                        "trendmicro",
                        "--previous",
                    ],
                ),
            ) {
                assert!(a.status.success() && !a.stdout.is_empty(), "{}", show(&a));
                assert_eq!(a.stdout, b.stdout);
            }
        }
    }
}
