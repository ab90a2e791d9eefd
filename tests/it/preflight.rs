//! `preflight` through the real binary: values fixtures offline, and full runs against
//! an in-process bundle server (the cluster) and real PostgreSQL 15 servers with
//! certificates made per test run. Only loopback traffic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::support::certs::{Ca, Key, San};
use crate::support::pg::{self, PgOptions, PgServer, HBA_SSL_ONLY, MASTER};
use dssc_doctor::serve::{self, BundleApi, ServerHandle};
use serde_json::{json, Value};

const NS: &str = "trendmicro";
use crate::support::cli::BIN;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/values")
        .join(name)
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        crate::support::report::json(&self.stdout, &self.stderr)
    }

    /// `(id, severity)` of every finding.
    fn ids(&self) -> Vec<String> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn finding(&self, id: &str) -> Value {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {}", self.stdout))
    }

    /// The check row `group/name`.
    fn row(&self, group: &str, name: &str) -> Value {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["group"] == group && c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no check {group}/{name} in {}", self.stdout))
    }
}

fn run(args: &[&str]) -> Out {
    let o = Command::new(BIN)
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
    }
}

fn offline(file: &str) -> Out {
    let f = fixture(file);
    run(&[
        "preflight",
        "-f",
        f.to_str().unwrap(),
        "--offline",
        "-o",
        "json",
    ])
}

#[test]
fn values_fixtures_offline() {
    let cases: &[(&str, &[&str], i32)] = &[
        ("good.yaml", &[], 0),
        ("typo.yaml", &["VAL001", "VAL001", "VAL001"], 3),
        (
            "wrong-types.yaml",
            &["VAL002", "VAL003", "VAL004", "VAL004", "VAL004"],
            3,
        ),
        ("ip-host.yaml", &["VAL013"], 4),
        ("azure-user.yaml", &["VAL014"], 4),
    ];
    for (file, ids, code) in cases {
        let o = offline(file);
        assert_eq!(o.code, *code, "{file}: {}{}", o.stdout, o.stderr);
        assert_eq!(&o.ids(), ids, "{file}");
        let j = o.json();
        assert_eq!(j["source"]["kind"], "preflight");
        let cluster = o.row("cluster", "cluster");
        assert_eq!(cluster["result"], "skip", "{file}");
        // No network or database rows under --offline.
        assert!(j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["group"] == "values" || c["group"] == "cluster"));
        assert!(!o.stdout.contains("s3cr3t"), "{file}: password printed");
    }
    // One typo finding per misspelt key, each naming the right key.
    let o = offline("typo.yaml");
    let subjects: Vec<String> = o.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subjects"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        subjects,
        ["db.usr", "db.maxOpenConnection", "db.tls.mod"],
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("# rename db.tls.mod to db.tls.mode in overrides.yaml"),
        "{}",
        o.stdout
    );
    let o = offline("azure-user.yaml");
    assert!(
        o.finding("VAL014")["fix"]
            .to_string()
            .contains("dsscadmin@dssc-pg"),
        "{}",
        o.stdout
    );
}

#[test]
fn malformed_yaml_is_a_usage_error_with_position() {
    let o = offline("malformed.yaml");
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    assert!(
        o.stderr.contains("malformed.yaml:4:9: malformed YAML"),
        "{}",
        o.stderr
    );
    // A bad --set is one too.
    let f = fixture("good.yaml");
    let o = run(&[
        "preflight",
        "-f",
        f.to_str().unwrap(),
        "--set",
        "db.port",
        "--offline",
    ]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
}

#[test]
fn text_and_junit_outputs() {
    let f = fixture("ip-host.yaml");
    let o = run(&["preflight", "-f", f.to_str().unwrap(), "--offline"]);
    assert_eq!(o.code, 4);
    assert!(o.stdout.contains("Values\n"), "{}", o.stdout);
    assert!(o.stdout.contains("[WARN] VAL013 db.host"), "{}", o.stdout);
    assert!(o.stdout.contains("[SKIP] cluster"), "{}", o.stdout);
    let o = run(&[
        "preflight",
        "-f",
        f.to_str().unwrap(),
        "--offline",
        "-o",
        "junit",
    ]);
    assert_eq!(o.code, 4);
    assert!(o.stdout.contains("<testsuite"), "{}", o.stdout);
}

#[test]
fn unreachable_cluster_is_skipped_quickly() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: connection refused.
    let port = crate::support::delay::closed_port();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        serve::kubeconfig(std::net::SocketAddr::from(([127, 0, 0, 1], port)), NS),
    )
    .unwrap();
    let f = fixture("good.yaml");
    let t0 = std::time::Instant::now();
    let o = run(&[
        "preflight",
        "-f",
        f.to_str().unwrap(),
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--timeout",
        "2s",
        "--no-probe",
        "-o",
        "json",
    ]);
    assert!(t0.elapsed() < Duration::from_secs(15));
    let row = o.row("cluster", "api server");
    assert_eq!(row["result"], "skip", "{row}");
    assert!(
        row["detail"].as_str().unwrap().contains("unreachable"),
        "{row}"
    );
    assert_eq!(o.row("network", "network policies")["result"], "skip");
    assert_eq!(o.row("database", "probe")["result"], "skip");
    assert_eq!(o.code, 0, "{}", o.stdout);
}

// ---------------------------------------------------------------------------------
// Against the bundle server and real PostgreSQL.

fn ca() -> &'static Ca {
    static C: OnceLock<Ca> = OnceLock::new();
    C.get_or_init(|| Ca::new("Preflight Test Root CA"))
}

/// TLS only; RSA certificate for DNS:localhost (no IP SAN) from `ca()`.
fn server() -> &'static PgServer {
    static S: OnceLock<PgServer> = OnceLock::new();
    S.get_or_init(|| {
        let issued = ca().server("localhost", &[San::Dns("localhost")], Key::Rsa);
        pg::start(&PgOptions {
            tls: Some((issued.cert_pem, issued.key_pem)),
            hba: HBA_SSL_ONLY.into(),
            max_connections: 40,
            ..Default::default()
        })
    })
}

fn list(kind: &str, items: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"kind": format!("{kind}List"), "apiVersion": "v1",
        "metadata": {"resourceVersion": "1"}, "items": items}))
    .unwrap()
}

fn configmap(name: &str, data: Value) -> Value {
    json!({"kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": NS}, "data": data})
}

fn policy(name: &str, spec: Value) -> Value {
    json!({"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": name, "namespace": NS}, "spec": spec})
}

fn default_deny() -> Value {
    policy(
        "default-deny-egress",
        json!({"podSelector": {}, "policyTypes": ["Egress"]}),
    )
}

fn allow_db() -> Value {
    policy(
        "allow-postgres",
        json!({"podSelector": {"matchLabels": {"release": "deepsecurity-smartcheck"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "127.0.0.0/8"}}, {"ipBlock": {"cidr": "::1/128"}}],
                "ports": [{"port": server().port, "protocol": "TCP"}]}]}),
    )
}

fn allow_dns() -> Value {
    policy(
        "allow-dns",
        json!({"podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}),
    )
}

fn kube_dns_service() -> Value {
    json!({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "kube-dns", "namespace": "kube-system"},
        "spec": {"selector": {"k8s-app": "kube-dns"}, "clusterIP": "10.96.0.10",
            "ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53},
                      {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53}]}})
}

fn kube_dns_slice() -> Value {
    json!({"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
        "metadata": {"name": "kube-dns-abcde", "namespace": "kube-system",
            "labels": {"kubernetes.io/service-name": "kube-dns"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.0.10"], "conditions": {"ready": true}},
                      {"addresses": ["10.244.1.11"], "conditions": {"ready": true}}],
        "ports": [{"name": "dns", "protocol": "UDP", "port": 53},
                  {"name": "dns-tcp", "protocol": "TCP", "port": 53}]})
}

/// A cluster: namespace `trendmicro`, one node, these ConfigMaps and policies, and
/// kube-dns.
async fn cluster(configmaps: Vec<Value>, policies: Vec<Value>) -> ServerHandle {
    cluster_with(configmaps, policies, |_| {}).await
}

/// [`cluster`], its bundle files changed by `edit` first.
async fn cluster_with(
    configmaps: Vec<Value>,
    policies: Vec<Value>,
    edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>),
) -> ServerHandle {
    // As the API server stores them (1.21 on): labelled with their own name.
    let ns = |n: &str| {
        json!({"kind": "Namespace", "apiVersion": "v1",
        "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}}})
    };
    let node = json!({"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node-1"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let files = vec![
        (
            "cluster-resources/namespaces.json".to_string(),
            list("Namespace", vec![ns(NS), ns("default"), ns("kube-system")]),
        ),
        (
            "cluster-resources/nodes.json".to_string(),
            list("Node", vec![node]),
        ),
        (
            format!("cluster-resources/configmaps/{NS}.json"),
            list("ConfigMap", configmaps),
        ),
        (
            format!("cluster-resources/network-policy/{NS}.json"),
            list("NetworkPolicy", policies),
        ),
        // The cluster DNS: the kube-dns Service and its EndpointSlice.
        (
            "cluster-resources/services/kube-system.json".to_string(),
            list("Service", vec![kube_dns_service()]),
        ),
        (
            "cluster-resources/endpointslices/kube-system.json".to_string(),
            list("EndpointSlice", vec![kube_dns_slice()]),
        ),
    ];
    let mut files = files;
    edit(&mut files);
    let api = BundleApi::from_files(files);
    serve::start(
        Arc::new(api),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap()
}

fn ca_configmap(key: &str) -> Value {
    let pem = String::from_utf8(ca().pem()).unwrap();
    configmap("dssc-db-trust", json!({ key: pem }))
}

/// overrides.yaml for `server()`.
fn values(dir: &Path, host: &str, chart_policies: bool) -> PathBuf {
    let text = format!(
        "db:\n  user: {user}\n  password: {pw}\n  host: {host}\n  port: {port}\n  \
         maxOpenConnections: 2\n  tls:\n    mode: verify-full\n    ca:\n      valueFrom:\n        \
         configMapKeyRef:\n          name: dssc-db-trust\n          key: ca\n\
         networkPolicy:\n  enabled: {chart_policies}\n",
        user = MASTER.0,
        pw = MASTER.1,
        port = server().port,
    );
    let p = dir.join("overrides.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs the binary against `h` with these values (blocking: the server keeps serving
/// on the other runtime threads).
fn preflight(h: &ServerHandle, dir: &Path, values: &Path, extra: &[&str]) -> Out {
    let kc = crate::support::cli::kubeconfig_in(h, dir);
    let mut args = vec![
        "preflight",
        "-f",
        values.to_str().unwrap(),
        "--kubeconfig",
        kc.to_str().unwrap(),
        "-n",
        NS,
        "--timeout",
        "5s",
        "--samples",
        "3",
        // Loopback under a loaded test run is not a slow network: latency findings
        // are tested with the delay proxy in tests/probe.rs.
        "--max-p50-ms",
        "2000",
        "--max-p95-ms",
        "5000",
        "--supported-versions",
        "9.6-16",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(
        !o.stdout.contains(MASTER.1) && !o.stderr.contains(MASTER.1),
        "password printed: {}{}",
        o.stdout,
        o.stderr
    );
    o
}

fn results(o: &Out) -> Vec<(String, String, String)> {
    o.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["group"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_setup_passes_every_check() {
    if !pg::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![ca_configmap("ca")], vec![]).await;
    let v = values(dir.path(), "localhost", true);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &[]));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.ids().is_empty(), "{}", o.stdout);
    let rows = results(&o);
    for (g, n, r) in &rows {
        assert!(r == "pass", "{g}/{n} is {r}: {}", o.stdout);
    }
    let groups: Vec<&str> = rows.iter().map(|(g, _, _)| g.as_str()).collect();
    for g in ["values", "cluster", "network", "database"] {
        assert!(groups.contains(&g), "no {g} rows: {rows:?}");
    }
    for n in [
        "api server",
        "nodes",
        "namespace",
        "ca object",
        "ca certificate",
        "network policies",
    ] {
        assert!(rows.iter().any(|(g, x, _)| g == "cluster" && x == n), "{n}");
    }
    assert!(o.row("cluster", "api server")["detail"]
        .as_str()
        .unwrap()
        .contains("v1.30.0"));
    for n in ["dns egress", "database egress"] {
        assert_eq!(o.row("network", n)["result"], "pass");
    }
    for n in [
        "tcp",
        "tls-handshake",
        "certificate",
        "connect",
        "readiness",
    ] {
        assert_eq!(o.row("database", n)["result"], "pass", "{n}");
    }
    assert!(o.json()["probe"]["stages"].is_array());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_ca_configmap_is_mnt001_before_install() {
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![configmap("other", json!({"x": "y"}))], vec![]).await;
    let v = values(dir.path(), "localhost", true);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert_eq!(o.ids(), ["MNT001"], "{}", o.stdout);
    let f = o.finding("MNT001");
    assert_eq!(
        f["subjects"][0], "configmap trendmicro/dssc-db-trust",
        "{f}"
    );
    assert_eq!(
        f["fix"][0], "kubectl create configmap dssc-db-trust --from-file=ca=ca.pem -n trendmicro",
        "{f}"
    );
    assert_eq!(o.row("cluster", "ca object")["result"], "fail");
    assert_eq!(o.row("database", "probe")["result"], "skip");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_ca_key_is_mnt002_naming_the_closest_key() {
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![ca_configmap("ca.pem")], vec![]).await;
    let v = values(dir.path(), "localhost", true);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert_eq!(o.ids(), ["MNT002"], "{}", o.stdout);
    let f = o.finding("MNT002");
    let fix = f["fix"].to_string();
    assert!(
        fix.contains("kubectl create configmap dssc-db-trust --from-file=ca=ca.pem -n trendmicro"),
        "{fix}"
    );
    assert!(
        fix.contains("has the key ca.pem: set key: ca.pem under db.tls.ca.valueFrom"),
        "{fix}"
    );
    let row = o.row("cluster", "ca object");
    assert!(
        row["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean ca.pem?"),
        "{row}"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_deny_without_db_rule_names_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![ca_configmap("ca")], vec![default_deny(), allow_dns()]).await;
    let v = values(dir.path(), "127.0.0.1", false);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert!(o.ids().contains(&"NET004".to_string()), "{}", o.stdout);
    assert!(!o.ids().contains(&"NET005".to_string()), "{}", o.stdout);
    let row = o.row("network", "database egress");
    assert_eq!(row["result"], "fail");
    let detail = row["detail"].as_str().unwrap();
    assert!(detail.contains(": blocked for 6 of 6 pods ("), "{detail}");
    assert!(detail.contains("; isolated by "), "{detail}");
    assert!(
        detail.contains("trendmicro/default-deny-egress"),
        "{detail}"
    );
    assert!(detail.contains("cidr: 127.0.0.1/32"), "{detail}");
    let f = o.finding("NET004");
    assert!(
        f["fix"][0]
            .as_str()
            .unwrap()
            .contains("trendmicro/default-deny-egress"),
        "{f}"
    );
    assert_eq!(o.row("network", "dns egress")["result"], "pass");

    // The same with the chart's own policies on: they allow the database port.
    let v = values(dir.path(), "127.0.0.1", true);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.row("network", "database egress")["result"], "pass");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_policy_allows_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_dns(), allow_db()],
    )
    .await;
    let v = values(dir.path(), "127.0.0.1", false);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(
        o.row("network", "database egress")["result"],
        "pass",
        "{}",
        o.stdout
    );
    assert_eq!(o.row("network", "dns egress")["result"], "pass");
    assert!(
        !o.ids().iter().any(|i| i.starts_with("NET")),
        "{}",
        o.stdout
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_dns_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![ca_configmap("ca")], vec![default_deny(), allow_db()]).await;
    let v = values(dir.path(), "localhost", false);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert!(o.ids().contains(&"NET005".to_string()), "{}", o.stdout);
    let row = o.row("network", "dns egress");
    assert_eq!(row["result"], "fail");
    let detail = row["detail"].as_str().unwrap();
    assert!(
        detail.contains("trendmicro/default-deny-egress"),
        "{detail}"
    );
    assert!(detail.contains("port: 53"), "{detail}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_host_without_ip_san_is_tls002_before_install() {
    if !pg::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![ca_configmap("ca")], vec![]).await;
    let v = values(dir.path(), "127.0.0.1", true);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &[]));
    assert_eq!(o.code, 3, "{}", o.stdout);
    let ids = o.ids();
    assert!(ids.contains(&"TLS002".to_string()), "{ids:?}");
    assert!(ids.contains(&"VAL013".to_string()), "{ids:?}");
    assert_eq!(o.row("database", "certificate")["result"], "fail");
    assert_eq!(o.row("cluster", "ca certificate")["result"], "pass");
    h.shutdown().await;
}

/// The NET findings (the values give VAL013 too: an IP host under verify-full).
fn net_ids(o: &Out) -> Vec<String> {
    o.ids()
        .into_iter()
        .filter(|i| i.starts_with("NET"))
        .collect()
}

/// The printed rule of a finding, parsed from its one-line `kubectl apply`.
fn printed_rule(f: &Value) -> Value {
    let line = f["fix"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .find(|l| l.starts_with("echo '"))
        .unwrap_or_else(|| panic!("no rule in {f}"));
    let json = line
        .strip_prefix("echo '")
        .and_then(|l| l.split_once("' | kubectl apply -n trendmicro -f -"))
        .unwrap()
        .0;
    serde_json::from_str(json).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_policy_gets_a_rule_for_exactly_its_pods() {
    // db-users-only isolates auth and scan and allows them DNS only: the rule must
    // select those pods only (a rule for every release pod would isolate the others).
    let db_users_only = policy(
        "db-users-only",
        json!({"podSelector": {"matchExpressions": [{"key": "service", "operator": "In", "values": ["auth", "scan"]}]},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![ca_configmap("ca")], vec![db_users_only]).await;
    let v = values(dir.path(), "127.0.0.1", false);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert_eq!(net_ids(&o), ["NET004"], "{}", o.stdout);
    let f = o.finding("NET004");
    assert_eq!(f["subjects"].as_array().unwrap().len(), 1, "{f}");
    assert!(f.to_string().contains("pods auth, scan of release"), "{f}");
    let rule = printed_rule(&f);
    assert_eq!(
        rule["spec"]["podSelector"],
        json!({"matchLabels": {"release": "deepsecurity-smartcheck"},
               "matchExpressions": [{"key": "service", "operator": "In", "values": ["auth", "scan"]}]}),
        "{rule}"
    );
    assert_eq!(rule["spec"]["policyTypes"], json!(["Egress"]));
    assert_eq!(
        rule["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"],
        "127.0.0.1/32"
    );
    let row = o.row("network", "database egress");
    let detail = row["detail"].as_str().unwrap();
    assert!(
        detail
            .contains("blocked for 2 of 6 pods (auth, scan); isolated by trendmicro/db-users-only"),
        "{detail}"
    );
    assert!(
        detail.contains("# applies to auth, scan (already isolated for egress by db-users-only)"),
        "{detail}"
    );
    assert_eq!(o.row("network", "dns egress")["result"], "pass");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_facts_come_from_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let v = values(dir.path(), "127.0.0.1", false);
    let by_name_label = policy(
        "dns-by-name",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"name": "kube-system"}}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
    );
    let label_kube_system = |files: &mut Vec<(String, Vec<u8>)>| {
        files[0].1 = list(
            "Namespace",
            vec![
                json!({"metadata": {"name": NS, "labels": {"kubernetes.io/metadata.name": NS}}}),
                json!({"metadata": {"name": "kube-system",
                    "labels": {"kubernetes.io/metadata.name": "kube-system", "name": "kube-system"}}}),
            ],
        );
    };
    // 1. The older `name: kube-system` label, which this cluster's namespace has: allowed.
    let h = cluster_with(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_db(), by_name_label.clone()],
        label_kube_system,
    )
    .await;
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(
        o.row("network", "dns egress")["result"],
        "pass",
        "{}",
        o.stdout
    );
    assert!(
        !o.ids().iter().any(|i| i.starts_with("NET")),
        "{}",
        o.stdout
    );
    h.shutdown().await;
    // Without the label on the namespace: a real block, NET005 naming the policies.
    let h = cluster(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_db(), by_name_label],
    )
    .await;
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(net_ids(&o), ["NET005"], "{}", o.stdout);
    let f = o.finding("NET005");
    assert!(
        f.to_string().contains(
            "trendmicro/dns-by-name, which allows only UDP 53, TCP 53 to namespaces name=kube-system"
        ),
        "{f}"
    );
    h.shutdown().await;

    // 2. Port 53 to 0.0.0.0/0 with the EndpointSlices unreadable: cannot tell (NET011,
    // a warning naming what is missing), never an accusation.
    let any53 = policy(
        "dns-anywhere-ip",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
    );
    let no_slices =
        |files: &mut Vec<(String, Vec<u8>)>| files.retain(|(p, _)| !p.contains("endpointslices"));
    let h = cluster_with(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_db(), any53.clone()],
        no_slices,
    )
    .await;
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 4, "{}", o.stdout);
    assert_eq!(net_ids(&o), ["NET011"], "{}", o.stdout);
    let f = o.finding("NET011");
    assert_eq!(f["severity"], "warn");
    assert!(
        f.to_string()
            .contains("the EndpointSlices of kube-system/kube-dns"),
        "{f}"
    );
    assert_eq!(o.row("network", "dns egress")["result"], "warn");
    h.shutdown().await;
    // With them: the endpoints are inside 0.0.0.0/0, allowed.
    let h = cluster(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_db(), any53],
    )
    .await;
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(
        o.row("network", "dns egress")["result"],
        "pass",
        "{}",
        o.stdout
    );
    h.shutdown().await;

    // 3. The DNS pods' labels come from the DNS Service's selector: a CoreDNS
    // install labelled k8s-app=coredns.
    let to_coredns = policy(
        "dns-coredns",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "coredns"}}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
    );
    let coredns = |files: &mut Vec<(String, Vec<u8>)>| {
        for (p, body) in files.iter_mut() {
            if p.ends_with("services/kube-system.json") {
                let mut svc = kube_dns_service();
                svc["spec"]["selector"] = json!({"k8s-app": "coredns"});
                *body = list("Service", vec![svc]);
            }
        }
    };
    let h = cluster_with(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_db(), to_coredns.clone()],
        coredns,
    )
    .await;
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(
        o.row("network", "dns egress")["result"],
        "pass",
        "{}",
        o.stdout
    );
    h.shutdown().await;
    let h = cluster(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_db(), to_coredns],
    )
    .await;
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(net_ids(&o), ["NET005"], "{}", o.stdout);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_only_dns_is_a_warning_naming_tcp() {
    let udp_only = policy(
        "dns-udp-only",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                        "ports": [{"protocol": "UDP", "port": 53}]}]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(
        vec![ca_configmap("ca")],
        vec![default_deny(), allow_db(), udp_only],
    )
    .await;
    let v = values(dir.path(), "127.0.0.1", false);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 4, "{}", o.stdout);
    assert_eq!(net_ids(&o), ["NET010"], "{}", o.stdout);
    let f = o.finding("NET010");
    assert_eq!(f["severity"], "warn");
    assert!(f.to_string().contains("DNS over TCP 53"), "{f}");
    assert!(!f.to_string().contains("allow no DNS"), "{f}");
    let rule = printed_rule(&f);
    assert_eq!(
        rule["spec"]["egress"][0]["ports"][1],
        json!({"port": 53, "protocol": "TCP"})
    );
    let row = o.row("network", "dns egress");
    assert_eq!(row["result"], "warn");
    assert!(
        row["detail"].as_str().unwrap().contains("blocked over TCP"),
        "{row}"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pass_rows_have_no_nested_brackets() {
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![ca_configmap("ca")], vec![]).await;
    let v = values(dir.path(), "127.0.0.1", false);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    let d = o.row("network", "dns egress")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        d,
        "DNS to kube-system/kube-dns (2 pods, UDP and TCP 53) is allowed; the chart's policies are off: networkPolicy.enabled is false"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openshift_dns_on_5353_is_cannot_tell_with_the_chart_policies() {
    // The chart allows port 53 to anywhere; OpenShift's DNS pods listen on 5353 behind
    // Service port 53. Whether the rule matches depends on the plugin: NET011 and the
    // exact rule (UDP and TCP 5353 to the DNS pods).
    let dir = tempfile::tempdir().unwrap();
    let openshift = |files: &mut Vec<(String, Vec<u8>)>| {
        files.retain(|(p, _)| !p.contains("kube-system"));
        files[0].1 = list(
            "Namespace",
            vec![
                json!({"metadata": {"name": NS, "labels": {"kubernetes.io/metadata.name": NS}}}),
                json!({"metadata": {"name": "openshift-dns", "labels": {"kubernetes.io/metadata.name": "openshift-dns"}}}),
            ],
        );
        files.push((
            "cluster-resources/services/openshift-dns.json".into(),
            list("Service", vec![json!({"metadata": {"name": "dns-default", "namespace": "openshift-dns"},
                "spec": {"selector": {"dns.operator.openshift.io/daemonset-dns": "default"}, "clusterIP": "172.30.0.10",
                    "ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": "dns"},
                              {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": "dns-tcp"}]}})]),
        ));
        files.push((
            "cluster-resources/endpointslices/openshift-dns.json".into(),
            list(
                "EndpointSlice",
                vec![
                    json!({"metadata": {"name": "dns-default-x", "namespace": "openshift-dns",
                    "labels": {"kubernetes.io/service-name": "dns-default"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.128.0.5"]}, {"addresses": ["10.129.0.7"]}],
                "ports": [{"name": "dns", "protocol": "UDP", "port": 5353},
                          {"name": "dns-tcp", "protocol": "TCP", "port": 5353}]}),
                ],
            ),
        ));
    };
    let h = cluster_with(vec![ca_configmap("ca")], vec![default_deny()], openshift).await;
    let v = values(dir.path(), "127.0.0.1", true);
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(net_ids(&o), ["NET011"], "{}", o.stdout);
    let f = o.finding("NET011");
    assert!(f.to_string().contains("Service port"), "{f}");
    let rule = printed_rule(&f);
    assert_eq!(
        rule["spec"]["egress"][0]["ports"],
        json!([{"port": 5353, "protocol": "UDP"}, {"port": 5353, "protocol": "TCP"}]),
        "{rule}"
    );
    assert_eq!(
        rule["spec"]["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"],
        json!({"kubernetes.io/metadata.name": "openshift-dns"})
    );
    assert_eq!(o.row("network", "dns egress")["result"], "warn");
    assert_eq!(o.row("network", "database egress")["result"], "pass");
    h.shutdown().await;
}

/// `--ca-file`: before the CA ConfigMap exists, the probe uses the CA about to be
/// installed and the ConfigMap is reported as still to be created (PRE002, a warning,
/// with the exact command); without the file the same setup is MNT001, and a file
/// holding another CA fails the certificate stage, so the probe really used the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_file_probes_before_the_ca_configmap_exists() {
    if !pg::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let h = cluster(vec![], vec![]).await;
    let v = values(dir.path(), "localhost", true);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca().pem()).unwrap();
    let ca_path = ca_file.to_str().unwrap();
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--ca-file", ca_path]));
    assert_eq!(o.code, 4, "{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.ids(), ["PRE002"], "{}", o.stdout);
    let command =
        format!("kubectl create configmap dssc-db-trust --from-file=ca={ca_path} -n {NS}");
    let f = o.finding("PRE002");
    assert_eq!(f["fix"][0], command.as_str(), "{f}");
    assert_eq!(
        f["subjects"][0], "configmap trendmicro/dssc-db-trust",
        "{f}"
    );
    let row = o.row("cluster", "ca object");
    assert_eq!(row["result"], "warn", "{row}");
    assert!(row["detail"].as_str().unwrap().contains(&command), "{row}");
    assert_eq!(o.row("values", "ca file")["result"], "pass");
    for n in ["tls-handshake", "certificate", "connect", "readiness"] {
        assert_eq!(o.row("database", n)["result"], "pass", "{n}: {}", o.stdout);
    }

    // Without the file: the missing ConfigMap is the failure it will be at install.
    let o = tokio::task::block_in_place(|| preflight(&h, dir.path(), &v, &["--no-probe"]));
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert_eq!(o.ids(), ["MNT001"], "{}", o.stdout);

    // A file with another CA: the server's certificate does not verify against it.
    let other = dir.path().join("other.pem");
    std::fs::write(&other, Ca::new("Some Other Root CA").pem()).unwrap();
    let o = tokio::task::block_in_place(|| {
        preflight(&h, dir.path(), &v, &["--ca-file", other.to_str().unwrap()])
    });
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert!(o.ids().contains(&"TLS001".to_string()), "{}", o.stdout);
    assert_ne!(o.row("database", "certificate")["result"], "pass");

    // An unreadable file is a usage error, one line.
    let missing = dir.path().join("missing.pem");
    let o = tokio::task::block_in_place(|| {
        preflight(
            &h,
            dir.path(),
            &v,
            &["--ca-file", missing.to_str().unwrap()],
        )
    });
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("--ca-file"), "{}", o.stderr);
    h.shutdown().await;
}
