//! The live path end to end: the doctor's kube client against the project's read-only
//! API server (`serve`) fed by the example bundles. A live run must give the same
//! findings as `analyze` on the same bundle; RBAC denials and unreachable clusters are
//! data or one clear error, never a crash or a hang.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dssc_doctor::analysis::build_report;
use dssc_doctor::analysis::scan::Scanner;
use dssc_doctor::catalogue::Catalogue;
use dssc_doctor::serve::{self, BundleApi};
use dssc_doctor::sources;
use dssc_doctor::sources::live::{self, Options};
use serde_json::Value;

use crate::support::cli::{serve_bin, BIN};
use crate::support::report::ids;

fn bundle_path(name: &str) -> String {
    format!("{}/testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn analyze_json(path: &str) -> Value {
    let cat = Catalogue::builtin().unwrap();
    let scanner = Scanner::new(&cat);
    let kind = sources::classify(Path::new(path)).unwrap();
    let ev = sources::load(Path::new(path), &kind, &cat, &scanner, false).unwrap();
    serde_json::to_value(build_report(&cat, &ev)).unwrap()
}

async fn live_json(api: BundleApi, opts: Options) -> Value {
    let cat = Catalogue::builtin().unwrap();
    let scanner = Scanner::new(&cat);
    let h = serve::start(
        Arc::new(api),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(h.kube_config().unwrap()).unwrap();
    let ev = live::collect(&client, "trendmicro", "test", &opts, &cat, &scanner)
        .await
        .unwrap();
    let v = serde_json::to_value(build_report(&cat, &ev)).unwrap();
    h.shutdown().await;
    v
}

/// Findings with the parts that name where evidence was read from removed.
fn comparable(r: &Value) -> Value {
    let mut f = r["findings"].clone();
    for x in f.as_array_mut().unwrap() {
        x.as_object_mut().unwrap().remove("confirmedBy");
    }
    f
}

#[tokio::test]
async fn live_run_gives_the_same_findings_as_analyze() {
    for name in [
        "mnt001", "mnt002", "net001", "auth001", "tls001", "tls002", "tls003", "healthy",
    ] {
        let path = bundle_path(name);
        let offline = analyze_json(&path);
        let live = live_json(
            BundleApi::load(Path::new(&path)).unwrap(),
            Options::default(),
        )
        .await;
        assert_eq!(ids(&live), ids(&offline), "{name}");
        assert_eq!(comparable(&live), comparable(&offline), "{name}");
        assert_eq!(live["pods"], offline["pods"], "{name}");
        assert_eq!(live["settings"], offline["settings"], "{name}");
        assert_eq!(live["source"]["kind"], "cluster");
    }
}

#[tokio::test]
async fn multi_cause_live_run() {
    let live = live_json(
        BundleApi::load(Path::new(&bundle_path("multi"))).unwrap(),
        Options::default(),
    )
    .await;
    let got: BTreeSet<String> = ids(&live).into_iter().collect();
    for id in ["TLS002", "AUTH001", "POD001", "POD002"] {
        assert!(got.contains(id), "{id} missing from {got:?}");
    }
}

#[tokio::test]
async fn forbidden_reads_become_findings_and_the_run_goes_on() {
    let mut api = BundleApi::load(Path::new(&bundle_path("mnt001"))).unwrap();
    api.forbidden = ["secrets", "nodes"].iter().map(|s| s.to_string()).collect();
    let live = live_json(api, Options::default()).await;
    let got = ids(&live);
    assert!(got.contains(&"MNT001".to_string()), "{got:?}");
    let doc = live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "DOC001")
        .expect("DOC001");
    let subjects = doc["subjects"].to_string();
    assert!(
        subjects.contains("secrets in namespace trendmicro"),
        "{subjects}"
    );
    assert!(subjects.contains("nodes"), "{subjects}");
    assert!(doc["evidence"].to_string().contains("forbidden"));
}

#[tokio::test]
async fn release_given_that_matches_nothing_is_an_error_naming_the_releases_found() {
    let cat = Catalogue::builtin().unwrap();
    let scanner = Scanner::new(&cat);
    let h = serve::start(
        Arc::new(BundleApi::load(Path::new(&bundle_path("net001"))).unwrap()),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(h.kube_config().unwrap()).unwrap();
    let opts = Options {
        release: Some("other-release".into()),
        ..Options::default()
    };
    let err = live::collect(&client, "trendmicro", "test", &opts, &cat, &scanner)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("release \"other-release\"") && err.contains("deepsecurity-smartcheck"),
        "{err}"
    );
    h.shutdown().await;
}

#[test]
fn the_binary_diagnoses_a_live_install() {
    let s = serve_bin(&bundle_path("mnt002"), &[]);
    let out = Command::new(BIN)
        .args(["--kubeconfig"])
        .arg(&s.kubeconfig)
        // database.example.com is not ours to connect to; tests/live_probe.rs probes.
        .args(["-n", "trendmicro", "-o", "json", "--no-probe"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = crate::support::report::json(&out.stdout, &String::from_utf8_lossy(&out.stderr));
    assert_eq!(ids(&r), ["MNT002"]);
    assert!(r["findings"][0]["fix"]
        .to_string()
        .contains("kubectl create configmap dssc-db-trust"));
    // Nothing but the report on stdout; no progress noise when stderr is not a TTY.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unreachable_cluster_is_one_line_and_exit_2_within_the_timeout() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        serve::kubeconfig(SocketAddr::from(([127, 0, 0, 1], port)), "default"),
    )
    .unwrap();
    let t = Instant::now();
    let out = Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--timeout", "2s"])
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(15));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot reach the API server http://127.0.0.1:")
            && err.contains("connection refused"),
        "{err}"
    );
    // A broken kubeconfig file.
    std::fs::write(&kc, "this: [is not a kubeconfig").unwrap();
    let out = Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&kc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kubeconfig"));
}

#[test]
fn values_that_the_pods_do_not_use_mean_helm_upgrade_was_not_run() {
    let s = serve_bin(&bundle_path("net001"), &[]);
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("overrides.yaml");
    std::fs::write(
        &values,
        "db:\n  user: postgres\n  password: pw-not-printed-7c1\n  host: db.example.com\n  port: 5432\n  tls:\n    mode: verify-full\n    ca:\n      valueFrom:\n        configMapKeyRef:\n          name: new-trust\n          key: ca\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["-n", "trendmicro", "-o", "json", "--no-probe", "-f"])
        .arg(&values)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("pw-not-printed-7c1"));
    let r = crate::support::report::json(stdout.as_bytes(), "");
    let got = ids(&r);
    assert!(got.contains(&"CFG001".to_string()), "{got:?}");
    assert!(got.contains(&"CFG002".to_string()), "{got:?}");
    assert!(r["settings"]["host"]["from"]
        .as_str()
        .unwrap()
        .starts_with("values "));
    let cfg2 = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CFG002")
        .unwrap();
    assert!(
        cfg2["evidence"]
            .to_string()
            .contains("PGHOST=192.168.19.226"),
        "{cfg2}"
    );
    assert!(cfg2["fix"][0]
        .as_str()
        .unwrap()
        .starts_with("helm upgrade --reuse-values -f overrides.yaml deepsecurity-smartcheck"));
    // --values before another subcommand is a usage error.
    let out = Command::new(BIN)
        .args(["-f"])
        .arg(&values)
        .args(["checks"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_password_in_overrides_never_reaches_the_bundle() {
    let s = serve_bin(&bundle_path("tls002"), &[]);
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("overrides.yaml");
    let pw = "0verr1des-Pl4nted-pw";
    std::fs::write(
        &values,
        format!("db:\n  user: postgres\n  password: {pw}\n  host: 192.168.2.54\nauth:\n  masterPassword: {pw}\n"),
    )
    .unwrap();
    let out_file = dir.path().join("b.tar.gz");
    let out = Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["-n", "trendmicro", "bundle", "-f"])
        .arg(&values)
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(pw));
    // Every byte of the bundle, decompressed.
    let mut all = Vec::new();
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&out_file).unwrap());
    let mut ar = tar::Archive::new(gz);
    let mut names = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        names.push(e.path().unwrap().to_string_lossy().into_owned());
        std::io::Read::read_to_end(&mut e, &mut all).unwrap();
    }
    assert!(
        names.iter().any(|n| n.ends_with("dssc/values.json")),
        "{names:?}"
    );
    let text = String::from_utf8_lossy(&all);
    assert!(
        !text.contains(pw),
        "the overrides password is in the bundle"
    );
    assert!(text.contains("192.168.2.54"));
}
