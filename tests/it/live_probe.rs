//! The live diagnosis with the staged probe: the real binary against the in-process
//! API server (`serve::start`, Secrets served with their values like a real cluster)
//! fed by an example bundle rewritten to point at a real PostgreSQL from the test
//! harness. A probe finding that agrees with the db-init logs confirms the log finding;
//! a probe that cannot reach the database from here is information, not an error.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::support::certs::{Ca, Key, San};
use crate::support::delay::closed_port;
use crate::support::pg::{self, PgOptions, PgServer, HBA_SSL_ONLY, MASTER};
use base64::Engine as _;
use dssc_doctor::serve::{self, BundleApi};
use serde_json::Value;

use crate::support::cli::BIN;
const OLD_HOST: &str = "192.168.2.54";

fn ca() -> &'static Ca {
    static C: OnceLock<Ca> = OnceLock::new();
    C.get_or_init(|| Ca::new("Live Probe Test CA"))
}

/// TLS only; an RSA certificate from `ca()` with only a DNS SAN.
fn dns_only_server() -> &'static PgServer {
    static S: OnceLock<PgServer> = OnceLock::new();
    S.get_or_init(|| {
        let issued = ca().server("db.example.test", &[San::Dns("db.example.test")], Key::Rsa);
        pg::start(&PgOptions {
            tls: Some((issued.cert_pem, issued.key_pem)),
            hba: HBA_SSL_ONLY.into(),
            ..Default::default()
        })
    })
}

/// Every file of an example bundle, bundle-relative.
fn read_bundle(name: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/bundles")
        .join(name);
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

fn b64(s: &str) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(s))
}

/// The example bundle `name` pointed at `host:port`: db-init env, the CA ConfigMap
/// `dssc-db-trust` (key `ca`) holding `ca_pem`, the `<fullname>-db` Secret holding the
/// master user and its password, and the logs' address replaced by `host`.
fn bundle_for(name: &str, host: &str, port: u16, ca_pem: &[u8]) -> Vec<(String, Vec<u8>)> {
    let ca_pem = String::from_utf8(ca_pem.to_vec()).unwrap();
    read_bundle(name)
        .into_iter()
        .map(|(rel, data)| {
            let edit = |f: &dyn Fn(&mut Value)| {
                let mut v: Value = serde_json::from_slice(&data).unwrap();
                f(&mut v);
                serde_json::to_vec(&v).unwrap()
            };
            let data = if rel.ends_with("pods/trendmicro.json") {
                edit(&|v| {
                    for p in v["items"].as_array_mut().unwrap() {
                        for ic in p["spec"]["initContainers"]
                            .as_array_mut()
                            .into_iter()
                            .flatten()
                        {
                            for e in ic["env"].as_array_mut().into_iter().flatten() {
                                match e["name"].as_str() {
                                    Some("PGHOST") => e["value"] = host.into(),
                                    Some("PGPORT") => e["value"] = port.to_string().into(),
                                    _ => {}
                                }
                            }
                        }
                    }
                })
            } else if rel.ends_with("configmaps/trendmicro.json") {
                edit(&|v| {
                    for c in v["items"].as_array_mut().unwrap() {
                        if c["metadata"]["name"] == "dssc-db-trust" {
                            c["data"]["ca"] = ca_pem.clone().into();
                        }
                    }
                })
            } else if rel.ends_with("secrets/trendmicro.json") {
                edit(&|v| {
                    for s in v["items"].as_array_mut().unwrap() {
                        if s["metadata"]["name"] == "deepsecurity-smartcheck-db" {
                            s["data"]["database-user"] = b64(MASTER.0);
                            s["data"]["database-password"] = b64(MASTER.1);
                        }
                    }
                })
            } else if rel.ends_with(".log") {
                String::from_utf8(data)
                    .unwrap()
                    .replace(OLD_HOST, host)
                    .into_bytes()
            } else {
                data
            };
            (rel, data)
        })
        .collect()
}

/// Runs the binary's live diagnosis against `files`; returns (exit code, JSON report).
async fn diagnose(files: Vec<(String, Vec<u8>)>, extra: &[&str]) -> (i32, Value) {
    let h = serve::start(
        Arc::new(BundleApi::with_secret_values(files)),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = crate::support::cli::kubeconfig_in(&h, dir.path());
    let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .arg("--kubeconfig")
            .arg(&kc)
            .args(["-n", "trendmicro", "-o", "json", "--probe-timeout", "3s"])
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    h.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = crate::support::report::json(&out.stdout, &stderr);
    (out.status.code().unwrap_or(-1), report)
}

fn findings<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn database_rows(r: &Value) -> Vec<(String, String)> {
    r["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["group"] == "database")
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_confirms_the_logs_tls002() {
    if !pg::available() {
        return;
    }
    let srv = dns_only_server();
    let files = bundle_for("tls002", "127.0.0.1", srv.port, &ca().pem());
    let (code, r) = diagnose(files, &[]).await;
    assert_eq!(code, 3, "{r:#}");
    let tls002 = findings(&r, "TLS002");
    assert_eq!(tls002.len(), 1, "{r:#}");
    let f = tls002[0];
    let by: Vec<&str> = f["confirmedBy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert!(by.contains(&"log") && by.contains(&"probe"), "{by:?}");
    // The log's pods and the probed endpoint, the probe's names for the fix.
    let subjects = f["subjects"].to_string();
    assert!(subjects.contains(&format!("database 127.0.0.1:{}", srv.port)));
    assert!(subjects.contains("auth-7d78dccff7-nfh97"), "{subjects}");
    assert!(
        f["fix"].to_string().contains("DNS:db.example.test"),
        "{f:#}"
    );
    assert!(f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["source"] == "probe"));
    // The stage rows: up to the certificate, which fails; the rest not run.
    let rows = database_rows(&r);
    let row = |n: &str| {
        rows.iter()
            .find(|(name, _)| name == n)
            .map(|(_, r)| r.as_str())
    };
    assert_eq!(row("tcp"), Some("pass"), "{rows:?}");
    assert_eq!(row("tls-handshake"), Some("pass"), "{rows:?}");
    assert_eq!(row("certificate"), Some("fail"), "{rows:?}");
    assert_eq!(row("connect"), Some("skip"), "{rows:?}");
    // The user from the Secret db-init reads: probed with, not reported as a setting.
    assert!(r["settings"].get("user").is_none(), "{:#}", r["settings"]);
    assert_eq!(r["probe"]["user"], MASTER.0);
    assert_eq!(r["probe"]["sslmode"], "verify-full");
    assert_eq!(r["probe"]["verify"], "full");
    assert!(r["probe"]["notes"]
        .to_string()
        .contains("not from the pods"));
    // Nothing secret in the report.
    assert!(!r.to_string().contains(MASTER.1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_probe_means_no_probe() {
    if !pg::available() {
        return;
    }
    let srv = dns_only_server();
    let files = bundle_for("tls002", "127.0.0.1", srv.port, &ca().pem());
    let (code, r) = diagnose(files, &["--no-probe"]).await;
    assert_eq!(code, 3);
    assert!(database_rows(&r).is_empty(), "{r:#}");
    assert!(r.get("probe").is_none());
    let tls002 = findings(&r, "TLS002");
    assert_eq!(tls002.len(), 1);
    assert_eq!(tls002[0]["confirmedBy"], serde_json::json!(["log"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_from_here_is_information() {
    // A healthy install whose database this machine cannot reach: the pods' logs show
    // no network failure, so the refused port is not the pods' problem.
    let port = closed_port();
    let files = bundle_for("healthy", "127.0.0.1", port, &ca().pem());
    let (code, r) = diagnose(files, &[]).await;
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["PRB002"], "{r:#}");
    assert_eq!(code, 0, "an info finding leaves the exit code alone");
    let f = &r["findings"][0];
    assert_eq!(f["severity"], "info");
    assert!(
        f["evidence"].to_string().contains("connection refused"),
        "{f:#}"
    );
    assert!(f["fix"]
        .to_string()
        .contains(&format!("nc -vz -w 5 127.0.0.1 {port}")));
    let rows = database_rows(&r);
    assert!(rows.contains(&("tcp".into(), "fail".into())), "{rows:?}");
    // The same without the probe: nothing at all.
    let files = bundle_for("healthy", "127.0.0.1", port, &ca().pem());
    let (code, r) = diagnose(files, &["--no-probe"]).await;
    assert_eq!(code, 0);
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_database_is_not_probed() {
    let files = bundle_for("healthy", "db", 5432, &ca().pem());
    let (code, r) = diagnose(files, &[]).await;
    assert_eq!(code, 0);
    assert!(database_rows(&r).is_empty(), "{r:#}");
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_without_host_discovers_everything_from_the_install() {
    if !pg::available() {
        return;
    }
    let srv = dns_only_server();
    // The healthy install's settings, pointed at a real server whose certificate has
    // only a DNS SAN: the probe alone finds TLS002 before any pod would.
    let files = bundle_for("healthy", "127.0.0.1", srv.port, &ca().pem());
    let (code, r) = diagnose(
        files,
        &[
            "probe",
            "--samples",
            "2",
            "--max-p50-ms",
            "2000",
            "--max-p95-ms",
            "5000",
        ],
    )
    .await;
    assert_eq!(code, 3, "{r:#}");
    assert_eq!(r["source"]["kind"], "probe");
    assert_eq!(findings(&r, "TLS002").len(), 1, "{r:#}");
    assert_eq!(r["probe"]["host"], "127.0.0.1");
    assert_eq!(r["probe"]["port"], srv.port);
    // The CA came from the cluster's ConfigMap, so the chain verified.
    assert!(findings(&r, "TLS001").is_empty(), "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_without_host_and_nothing_to_discover_is_a_usage_error() {
    let files = bundle_for("healthy", "db", 5432, &ca().pem());
    let h = serve::start(
        Arc::new(BundleApi::with_secret_values(files)),
        "127.0.0.1:0".parse().unwrap(),
        Duration::ZERO,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = crate::support::cli::kubeconfig_in(&h, dir.path());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .arg("--kubeconfig")
            .arg(&kc)
            .args(["-n", "trendmicro", "probe"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    h.shutdown().await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("pass --host"), "{err}");
}

/// The healthy install with its CA in a Secret (`secretKeyRef`, volume `database-ca`
/// from Secret `dssc-db-ca` key `ca`), sslmode verify-ca, pointed at `port`. The Secret
/// also holds a private key and a password, which must never be read into any output.
fn secret_ca_bundle(port: u16, ca_value: &str) -> Vec<(String, Vec<u8>)> {
    bundle_for("healthy", "127.0.0.1", port, &ca().pem())
        .into_iter()
        .map(|(rel, data)| {
            let edit = |f: &dyn Fn(&mut Value)| {
                let mut v: Value = serde_json::from_slice(&data).unwrap();
                f(&mut v);
                serde_json::to_vec(&v).unwrap()
            };
            let data = if rel.ends_with("pods/trendmicro.json") {
                edit(&|v| {
                    for p in v["items"].as_array_mut().unwrap() {
                        for vol in p["spec"]["volumes"].as_array_mut().into_iter().flatten() {
                            if vol["name"] == "database-ca" {
                                *vol = serde_json::json!({"name": "database-ca", "secret": {
                                    "secretName": "dssc-db-ca",
                                    "items": [{"key": "ca", "path": "ca.pem"}]}});
                            }
                        }
                        for ic in p["spec"]["initContainers"]
                            .as_array_mut()
                            .into_iter()
                            .flatten()
                        {
                            for e in ic["env"].as_array_mut().into_iter().flatten() {
                                if e["name"] == "PGSSLMODE" {
                                    e["value"] = "verify-ca".into();
                                }
                            }
                        }
                    }
                })
            } else if rel.ends_with("secrets/trendmicro.json") {
                edit(&|v| {
                    v["items"].as_array_mut().unwrap().push(serde_json::json!({
                        "kind": "Secret", "apiVersion": "v1", "type": "Opaque",
                        "metadata": {"name": "dssc-db-ca", "namespace": "trendmicro"},
                        "data": {
                            "ca": b64(ca_value),
                            "tls.key": b64(&String::from_utf8(ca().key_pem()).unwrap()),
                            "password": b64(SECRET_CA_PASSWORD),
                        }
                    }));
                })
            } else {
                data
            };
            (rel, data)
        })
        .collect()
}

const SECRET_CA_PASSWORD: &str = "never-printed-4f1a";

/// A CA held in a Secret: that one key is read, found to be PEM certificates only and
/// used by the probe (the chain verifies: no TLS001, no withheld CA); the Secret's
/// private key and password appear in no output. A key that holds a private key next
/// to the certificate is not used and is named in `skipped`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_in_a_secret_is_read_and_used_by_the_probe() {
    if !pg::available() {
        return;
    }
    let srv = dns_only_server();
    let key_pem = String::from_utf8(ca().key_pem()).unwrap();
    let key_body = key_pem.lines().nth(1).unwrap().to_string();
    let ca_pem = String::from_utf8(ca().pem()).unwrap();
    let (code, r) = diagnose(secret_ca_bundle(srv.port, &ca_pem), &[]).await;
    let text = r.to_string();
    assert!(!text.contains(SECRET_CA_PASSWORD) && !text.contains(&key_body));
    // PostgreSQL 15 and its max_connections are warnings (DB001, DB003), nothing TLS.
    assert!(code == 0 || code == 4, "{r:#}");
    let ids = crate::support::report::ids(&r);
    assert!(
        !ids.iter()
            .any(|i| i.starts_with("TLS") || i.starts_with("PRB")),
        "{ids:?}"
    );
    let probe = &r["probe"];
    assert_eq!(
        probe["certificate"]["ca_bundle"],
        serde_json::json!(["CN=Live Probe Test CA"]),
        "{probe:#}"
    );
    assert!(probe.get("ca_withheld").is_none(), "{probe:#}");
    let rows = database_rows(&r);
    for n in ["tls-handshake", "certificate", "connect"] {
        assert!(
            rows.contains(&(n.to_string(), "pass".to_string())),
            "{n}: {rows:?}"
        );
    }
    assert!(findings(&r, "TLS001").is_empty(), "{r:#}");

    // Certificate and private key in the one key: not a CA bundle, not used.
    let (_, r) = diagnose(
        secret_ca_bundle(srv.port, &format!("{ca_pem}{key_pem}")),
        &[],
    )
    .await;
    let text = r.to_string();
    assert!(!text.contains(SECRET_CA_PASSWORD) && !text.contains(&key_body));
    let skipped = r["skipped"].to_string();
    assert!(
        skipped.contains("secret dssc-db-ca key ca")
            && skipped.contains("not PEM certificates only"),
        "{skipped}"
    );
    assert_eq!(r["probe"]["ca_withheld"], true, "{:#}", r["probe"]);
    assert!(r["probe"]["certificate"].get("ca_bundle").is_none());
}
