//! `kubectl dssc-doctor bundle` end to end, through the real binary, against the
//! in-process bundle server standing in for a live cluster:
//!
//! - a bundle taken from a served bundle analyses to the same findings, and taking a
//!   bundle of that bundle gives the same objects and findings again (tar.gz and
//!   `--dir`);
//! - a password planted in every place a credential hides on a real cluster (the
//!   chart's DB Secret, pod env and args, the Helm release, db-init logs, events) appears
//!   in no output of any format and in no file of the bundle, while the Helm release is
//!   still decoded and used.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

use dssc_doctor::serve::{self, BundleApi};
use dssc_doctor::sources::{self, InputKind};
use serde_json::{json, Value};

use crate::support::cli::{run, serve_api, show, testdata, Served, BIN};
use crate::support::report::b64;
const NS: &str = "trendmicro";
const RELEASE: &str = "deepsecurity-smartcheck";

fn serve_path(path: &Path) -> Served {
    serve_api(BundleApi::load(path).unwrap())
}

/// The binary against the served cluster: `--kubeconfig F -n trendmicro ARGS`.
fn run_live<S: AsRef<OsStr>>(s: &Served, args: &[S]) -> Output {
    Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["-n", NS])
        // The example hosts are not ours to connect to: no probe.
        .arg("--no-probe")
        .args(args)
        .output()
        .unwrap()
}

/// `bundle -o FILE` / `bundle --dir DIR` against the served cluster; must succeed.
fn take_bundle(s: &Served, out: &Path) {
    let flag = if out.to_string_lossy().ends_with(".tar.gz") {
        "-o"
    } else {
        "--dir"
    };
    let o = run_live(
        s,
        &[OsStr::new("bundle"), OsStr::new(flag), out.as_os_str()],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "bundle {}: {}",
        out.display(),
        show(&o)
    );
    assert!(out.exists(), "{} not written: {}", out.display(), show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("wrote "), "{err}");
}

/// `analyze PATH -o json`, parsed.
fn analyze_json(path: &Path) -> Value {
    let o = run(&[
        OsStr::new("analyze"),
        path.as_os_str(),
        OsStr::new("-o"),
        OsStr::new("json"),
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 3 | 4)),
        "analyze {}: {}",
        path.display(),
        show(&o)
    );
    crate::support::report::json(&o.stdout, &show(&o))
}

/// The findings without what names where the evidence was read from: `confirmedBy`
/// and the `seenOn`/`source` of evidence are dropped, and so are DOC001 findings about
/// unreadable files of the source bundle (a live cluster has no such files; the served
/// API leaves the unreadable item out).
fn comparable(report: &Value) -> Value {
    let findings = report["findings"].as_array().expect("findings");
    let kept: Vec<Value> = findings
        .iter()
        .filter(|f| {
            let bundle_file_only = f["subjects"].as_array().is_some_and(|s| {
                !s.is_empty()
                    && s.iter()
                        .all(|x| x.as_str().and_then(sources::bundle_rel).is_some())
            });
            !(f["id"] == "DOC001" && bundle_file_only)
        })
        .map(|f| {
            let evidence: Vec<Value> = f["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| json!({"text": e["text"], "count": e["count"]}))
                .collect();
            json!({
                "id": f["id"], "severity": f["severity"], "title": f["title"],
                "subjects": f["subjects"], "fix": f["fix"], "evidence": evidence,
            })
        })
        .collect();
    Value::Array(kept)
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// `(namespace, name)` of the served objects of each resource the round trip keeps.
fn object_names(path: &Path) -> Vec<(String, BTreeSet<(String, String)>)> {
    let api = BundleApi::load(path).unwrap();
    ["pods", "events", "configmaps", "services", "deployments"]
        .iter()
        .map(|r| {
            let names = api
                .objects(r)
                .iter()
                .map(|o| {
                    (
                        serve::field_str(o, "metadata.namespace"),
                        serve::field_str(o, "metadata.name"),
                    )
                })
                .collect();
            (r.to_string(), names)
        })
        .collect()
}

/// Every file of a bundle (directory or tar.gz), decompressed, by bundle-relative path;
/// for a tar.gz, every entry whatever its path.
fn bundle_files(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if path.is_dir() {
        let budget = sources::limits::Budget::default();
        sources::walk(path, &InputKind::BundleDir, &budget, |rel, r| {
            let mut data = Vec::new();
            r.read_to_end(&mut data)?;
            out.push((rel.to_string(), data));
            Ok(())
        })
        .unwrap();
        return out;
    }
    let f = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(flate2::read::MultiGzDecoder::new(f));
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
}

#[test]
fn bundle_of_a_served_bundle_round_trips() {
    for name in ["multi", "mnt001"] {
        let tmp = tempfile::tempdir().unwrap();
        let orig = testdata(name);
        let before = analyze_json(&orig);
        assert!(
            !comparable(&before).as_array().unwrap().is_empty(),
            "{name}"
        );

        // Round 1: the example bundle served as a cluster → out.tar.gz and a directory.
        let out = tmp.path().join("out.tar.gz");
        let dir = tmp.path().join("dir-bundle");
        {
            let s = serve_path(&orig);
            take_bundle(&s, &out);
            take_bundle(&s, &dir);

            // -o FILE and --dir together: a usage error, nothing written.
            let (x, d) = (tmp.path().join("x.tar.gz"), tmp.path().join("d"));
            let o = run_live(
                &s,
                &[
                    OsStr::new("bundle"),
                    OsStr::new("-o"),
                    x.as_os_str(),
                    OsStr::new("--dir"),
                    d.as_os_str(),
                ],
            );
            assert_eq!(o.status.code(), Some(2), "{}", show(&o));
            assert!(!x.exists() && !d.exists());
            assert!(String::from_utf8_lossy(&o.stderr).contains("not both"));
        }
        assert_eq!(sources::classify(&out).unwrap(), InputKind::BundleTarGz);
        let first = analyze_json(&out);
        assert_eq!(
            comparable(&first),
            comparable(&before),
            "{name}: out.tar.gz"
        );
        assert_eq!(first["source"]["namespace"], NS);
        assert_eq!(first["source"]["release"], RELEASE);
        let from_dir = analyze_json(&dir);
        assert_eq!(comparable(&from_dir), comparable(&before), "{name}: --dir");
        // The written bundles hold the same objects as the original.
        let names = object_names(&orig);
        assert_eq!(object_names(&out), names, "{name}");
        assert_eq!(object_names(&dir), names, "{name}");
        assert!(names[0].1.len() > 1, "{name}: {names:?}");
        // analysis.json, version.yaml and the collection log are there.
        let files: BTreeSet<String> = bundle_files(&dir).into_iter().map(|f| f.0).collect();
        for want in [
            "dssc/collection.log",
            "dssc/settings.json",
            "dssc/source.json",
        ] {
            assert!(files.contains(want), "{want} missing: {files:?}");
        }
        for want in ["analysis.json", "version.yaml"] {
            assert!(dir.join(want).is_file(), "{want} missing");
        }
        crate::support::report::json(std::fs::read(dir.join("analysis.json")).unwrap(), name);

        // Round 2: the written bundle served again → second.tar.gz.
        let second = tmp.path().join("second.tar.gz");
        {
            let s = serve_path(&out);
            take_bundle(&s, &second);
        }
        let again = analyze_json(&second);
        assert_eq!(ids(&again["findings"]), ids(&first["findings"]), "{name}");
        assert_eq!(
            comparable(&again),
            comparable(&first),
            "{name}: second.tar.gz"
        );
        assert_eq!(again["settings"], first["settings"], "{name}");
        assert_eq!(again["pods"], first["pods"], "{name}");
        assert_eq!(object_names(&second), names, "{name}");
    }
}

// ---------------------------------------------------------------------------
// A password planted everywhere.

/// Has a `/` and a `!`, so its URL-encoding differs from it.
const PW: &str = "Pl4nted-S3cret/Pw!";
const OLD_PW: &str = "Old-V1-Pl4nted-Pw";

fn url_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What must appear nowhere: the password, its base64, its URL-encoding (and those of
/// the v1 release's password).
fn needles() -> Vec<String> {
    let mut n = Vec::new();
    for pw in [PW, OLD_PW] {
        n.push(pw.to_string());
        n.push(b64(pw.as_bytes()));
        n.push(b64(pw.as_bytes()).trim_end_matches('=').to_string());
        n.push(url_encoded(pw));
    }
    n.sort();
    n.dedup();
    n
}

fn find_needle(hay: &[u8]) -> Option<String> {
    needles()
        .into_iter()
        .find(|n| hay.windows(n.len()).any(|w| w == n.as_bytes()))
}

/// A Helm 3 release Secret as the API server returns it: `data.release` is the
/// Kubernetes base64 of Helm's base64 of the gzipped release JSON.
fn helm_secret(revision: u32, status: &str, host: &str, pw: &str) -> Value {
    let manifest = format!(
        "---\n# Source: smartcheck/templates/db-secret.yaml\napiVersion: v1\nkind: Secret\n\
         metadata:\n  name: {RELEASE}-db\ntype: Opaque\ndata:\n  database-user: {}\n  \
         database-password: {}\nstringData:\n  plain-password: {pw}\n",
        b64(b"postgres"),
        b64(pw.as_bytes())
    );
    let release = json!({
        "name": RELEASE, "namespace": NS, "version": revision,
        "info": {"status": status, "description": "Install complete",
                 "notes": format!("login with password={pw}")},
        "chart": {
            "metadata": {"name": "deepsecurity-smartcheck", "version": "1.2.76"},
            "values": {"db": {"host": "", "user": "", "password": "",
                              "tls": {"mode": "verify-full"}},
                       "auth": {"masterPassword": ""}}
        },
        "config": {
            "db": {"host": host, "user": "postgres", "password": pw,
                   "tls": {"mode": "verify-full", "ca": {"valueFrom": {"configMapKeyRef":
                       {"name": "dssc-db-trust", "key": "ca"}}}}},
            "auth": {"masterPassword": pw, "secretSeed": pw,
                     "userName": "administrator"}
        },
        "manifest": manifest,
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&release).unwrap())
        .unwrap();
    let helm_b64 = b64(&gz.finish().unwrap());
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": format!("sh.helm.release.v1.{RELEASE}.v{revision}"),
                     "namespace": NS,
                     "labels": {"owner": "helm", "name": RELEASE, "status": status,
                                "version": revision.to_string()}},
        "data": {"release": b64(helm_b64.as_bytes())}
    })
}

fn edit_json(files: &mut [(String, Vec<u8>)], rel: &str, f: impl FnOnce(&mut Value)) {
    let file = files
        .iter_mut()
        .find(|(r, _)| r == rel)
        .unwrap_or_else(|| panic!("{rel} not in the bundle"));
    let mut v: Value = serde_json::from_slice(&file.1).unwrap();
    f(&mut v);
    file.1 = serde_json::to_vec_pretty(&v).unwrap();
}

/// The multi bundle with the password planted in every place it hides on a cluster.
fn planted_files() -> Vec<(String, Vec<u8>)> {
    let mut files = bundle_files(&testdata("multi"));
    let pw_url = url_encoded(PW);
    assert_ne!(pw_url, PW);

    // The chart's DB Secret (data and stringData), the Helm release Secrets v1 and v2,
    // and no unreadable item (a real API server has none).
    edit_json(
        &mut files,
        "cluster-resources/secrets/trendmicro.json",
        |v| {
            let items = v["items"].as_array_mut().unwrap();
            // Drop the unreadable item and the example's own (already redacted) DB
            // Secret: the planted one takes its place.
            items.retain(|s| {
                s["metadata"].is_object() && s["metadata"]["name"] != format!("{RELEASE}-db")
            });
            items.push(json!({
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": format!("{RELEASE}-db"), "namespace": NS,
                             "labels": {"release": RELEASE},
                             "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                                 json!({"stringData": {"database-password": PW}}).to_string()}},
                "data": {"database-user": b64(b"postgres"),
                         "database-password": b64(PW.as_bytes())},
                "stringData": {"database-password": PW}
            }));
            items.push(helm_secret(1, "superseded", "old-db.example.com", OLD_PW));
            items.push(helm_secret(2, "deployed", "10.20.30.40", PW));
        },
    );

    // Pod env values and args.
    edit_json(&mut files, "cluster-resources/pods/trendmicro.json", |v| {
        for pod in v["items"].as_array_mut().unwrap() {
            if pod["metadata"]["name"] != "auth-7d78dccff7-nfh97" {
                continue;
            }
            let ic = &mut pod["spec"]["initContainers"][0];
            assert_eq!(ic["name"], "db-init");
            let env = ic["env"].as_array_mut().unwrap();
            for e in env.iter_mut() {
                if e["name"] == "PGPASSWORD" {
                    *e = json!({"name": "PGPASSWORD", "value": PW});
                }
            }
            env.push(json!({"name": "DB_PASSWORD", "value": PW}));
            env.push(json!({"name": "DATABASE_URL",
                            "value": format!("postgres://postgres:{pw_url}@10.20.30.40:5432/authdb")}));
            ic["args"]
                .as_array_mut()
                .unwrap()
                .push(format!("--service-password={PW}").into());
            pod["spec"]["containers"][0]["env"] = json!([
                {"name": "DB_PASSWORD", "value": PW},
                {"name": "PGPASSWORD", "value": PW},
            ]);
        }
    });

    // An event whose message carries the password.
    edit_json(
        &mut files,
        "cluster-resources/events/trendmicro.json",
        |v| {
            let items = v["items"].as_array_mut().unwrap();
            let mut e = items
                .iter()
                .find(|e| e["involvedObject"]["name"] == "auth-7d78dccff7-nfh97")
                .unwrap()
                .clone();
            e["metadata"]["name"] = "auth-7d78dccff7-nfh97.planted".into();
            e["type"] = "Warning".into();
            e["reason"] = "Failed".into();
            e["message"] = format!(
                "Error: failed to start container \"db-init\": exec: psql password={PW} \
             postgres://postgres:{pw_url}@10.20.30.40:5432/authdb"
            )
            .into();
            items.push(e);
        },
    );

    // db-init logs: a `password=` pair, a URL and a JSON field, on lines of their own and
    // inside the lines the checks quote as evidence (TLS002 and AUTH001).
    let logs = "cluster-resources/pods/logs/trendmicro";
    for (rel, lines) in [
        (
            format!("{logs}/auth-7d78dccff7-nfh97/db-init.log"),
            vec![
                format!("connecting with host=10.20.30.40 user=postgres password={PW} dbname=authdb"),
                format!("dsn postgres://postgres:{pw_url}@10.20.30.40:5432/authdb?sslmode=verify-full"),
                json!({"component": "db-init", "password": PW, "severity": "info",
                       "message": "config"}).to_string(),
                json!({"component": "db-init", "severity": "info",
                       "message": "could not get database connection",
                       "error": format!("dial postgres://postgres:{pw_url}@10.20.30.40:5432/authdb (password={PW}): \
                                 tls: failed to verify certificate: x509: cannot validate \
                                 certificate for 10.20.30.40 because it doesn't contain any IP SANs")})
                    .to_string(),
            ],
        ),
        (
            format!("{logs}/vulnerability-scan-7b7c59d6f8-d5ql9/vulnerabilityscan-db-init.log"),
            vec![format!(
                "failed to connect to `host=10.20.30.40 user=vulnerabilityscan password={PW} \
                 database=vulnerabilityscandb`: failed SASL auth (FATAL: password \
                 authentication failed for user \"vulnerabilityscan\" (SQLSTATE 28P01))"
            )],
        ),
    ] {
        let file = files.iter_mut().find(|(r, _)| *r == rel).unwrap();
        let mut text = lines.join("\n");
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&file.1));
        file.1 = text.into_bytes();
    }
    // The planted files hold the password, so the checks below mean something.
    assert!(files.iter().any(|(_, d)| find_needle(d).is_some()));
    files
}

fn assert_no_leak(what: &str, bytes: &[u8]) {
    if let Some(n) = find_needle(bytes) {
        panic!("{what} leaks {n:?}:\n{}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn planted_password_appears_in_no_output_and_no_bundle_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b.tar.gz");
    let formats = ["text", "json", "markdown", "junit"];
    let mut live_ids = Vec::new();
    {
        let s = serve_api(BundleApi::with_secret_values(planted_files()));
        // The server really hands out the values, as a cluster does.
        let h = s.handle.as_ref().unwrap();
        let served = s.rt.block_on(async {
            let c = kube::Client::try_from(h.kube_config().unwrap()).unwrap();
            let api: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(c, NS);
            api.get(&format!("{RELEASE}-db")).await.unwrap()
        });
        let got = served.data.unwrap()["database-password"].0.clone();
        assert_eq!(got, PW.as_bytes());

        for f in formats {
            let o = run_live(&s, &["-o", f]);
            assert!(matches!(o.status.code(), Some(3 | 4)), "{f}: {}", show(&o));
            assert!(!o.stdout.is_empty(), "{f}");
            assert_no_leak(&format!("diagnose -o {f} stdout"), &o.stdout);
            assert_no_leak(&format!("diagnose -o {f} stderr"), &o.stderr);
            if f == "text" {
                let out = String::from_utf8_lossy(&o.stdout);
                assert!(out.contains("password=***HIDDEN***"), "{out}");
            }
            if f == "json" {
                let r = crate::support::report::json(&o.stdout, &show(&o));
                live_ids = ids(&r["findings"]);
            }
        }
        let o = run_live(
            &s,
            &[OsStr::new("bundle"), OsStr::new("-o"), out.as_os_str()],
        );
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        assert_no_leak("bundle stdout", &o.stdout);
        assert_no_leak("bundle stderr", &o.stderr);
    }
    assert!(live_ids.contains(&"AUTH001".to_string()), "{live_ids:?}");
    assert!(live_ids.contains(&"TLS002".to_string()), "{live_ids:?}");

    // Every file of the bundle, decompressed.
    let files = bundle_files(&out);
    assert!(files.len() > 10, "{} files", files.len());
    for (name, data) in &files {
        assert_no_leak(name, data);
    }
    // The raw archive too (an uncompressed copy would show up here after gunzip).
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&out).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    assert_no_leak("b.tar.gz (decompressed)", &raw);

    // The Helm release was found, decoded (v2, not v1) and used.
    let file = |suffix: &str| -> Value {
        let (_, d) = files
            .iter()
            .find(|(n, _)| n.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix} missing"));
        serde_json::from_slice(d).unwrap()
    };
    let settings = file("/dssc/settings.json");
    let helm_from = format!("helm release {RELEASE} v2");
    assert!(
        settings
            .as_object()
            .unwrap()
            .values()
            .any(|s| s["from"] == helm_from.as_str()),
        "{settings:#}"
    );
    assert_eq!(settings["host"]["value"], "10.20.30.40", "{settings:#}");
    assert_eq!(settings["host"]["from"], helm_from.as_str(), "{settings:#}");
    assert!(!settings.to_string().contains("old-db"), "{settings:#}");
    let helm = file("/dssc/helm-release.json");
    assert_eq!(helm["revision"], 2, "{helm:#}");
    assert_eq!(helm["config"]["db"]["password"], "***HIDDEN***", "{helm:#}");
    assert_eq!(
        helm["config"]["auth"]["masterPassword"], "***HIDDEN***",
        "{helm:#}"
    );
    assert_eq!(helm["config"]["db"]["host"], "10.20.30.40", "{helm:#}");
    let log = String::from_utf8_lossy(
        &files
            .iter()
            .find(|(n, _)| n.ends_with("/auth-7d78dccff7-nfh97/db-init.log"))
            .unwrap()
            .1,
    )
    .into_owned();
    assert!(log.contains("password=***HIDDEN***"), "{log}");
    assert!(
        log.contains("postgres://postgres:***HIDDEN***@10.20.30.40"),
        "{log}"
    );
    // Every planted place was collected (so "no leak" is not "not collected"), masked.
    let text = |suffix: &str| -> String {
        let (_, d) = files
            .iter()
            .find(|(n, _)| n.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix} missing"));
        String::from_utf8_lossy(d).into_owned()
    };
    let vlog = text("/vulnerability-scan-7b7c59d6f8-d5ql9/vulnerabilityscan-db-init.log");
    assert!(vlog.contains("password=***HIDDEN*** database="), "{vlog}");
    let events = file("/cluster-resources/events/trendmicro.json");
    let planted_event = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["metadata"]["name"] == "auth-7d78dccff7-nfh97.planted")
        .expect("planted event collected");
    let msg = planted_event["message"].as_str().unwrap();
    assert!(msg.contains("password=***HIDDEN***"), "{msg}");
    assert!(msg.contains("postgres://postgres:***HIDDEN***@"), "{msg}");
    let pods = file("/cluster-resources/pods/trendmicro.json");
    let auth = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"] == "auth-7d78dccff7-nfh97")
        .unwrap();
    let ic = &auth["spec"]["initContainers"][0];
    let env = |c: &Value, name: &str| -> Value {
        c["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {c}"))["value"]
            .clone()
    };
    for name in ["PGPASSWORD", "DB_PASSWORD"] {
        assert_eq!(env(ic, name), "***HIDDEN***", "{ic}");
        assert_eq!(env(&auth["spec"]["containers"][0], name), "***HIDDEN***");
    }
    assert_eq!(env(ic, "PGHOST"), "10.20.30.40");
    assert!(ic["args"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "--service-password=***HIDDEN***"));
    let secrets = file("/cluster-resources/secrets/trendmicro.json");
    let secret_names: Vec<&str> = secrets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["metadata"]["name"].as_str())
        .collect();
    for want in [
        format!("{RELEASE}-db"),
        format!("sh.helm.release.v1.{RELEASE}.v1"),
        format!("sh.helm.release.v1.{RELEASE}.v2"),
    ] {
        assert!(secret_names.contains(&want.as_str()), "{secret_names:?}");
    }

    // analyze of the bundle, every format: nothing leaks, same findings as live.
    for f in formats {
        let o = run(&[
            OsStr::new("analyze"),
            out.as_os_str(),
            OsStr::new("-o"),
            OsStr::new(f),
        ]);
        assert!(matches!(o.status.code(), Some(3 | 4)), "{f}: {}", show(&o));
        assert_no_leak(&format!("analyze -o {f} stdout"), &o.stdout);
        assert_no_leak(&format!("analyze -o {f} stderr"), &o.stderr);
    }
    let analysed = analyze_json(&out);
    assert_eq!(ids(&analysed["findings"]), live_ids);
    assert_eq!(analysed["settings"], settings);
}
