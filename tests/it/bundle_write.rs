//! The bundle writer: a password planted in every place a credential can hide
//! (Secret, pod env and args, Helm release, logs, the report) appears nowhere in the
//! written bundle; a written bundle reads back into the same evidence and findings.

use crate::support::report::b64;
use std::io::{Read, Write};
use std::path::Path;

use dssc_doctor::analysis::build_report;
use dssc_doctor::analysis::scan::Scanner;
use dssc_doctor::catalogue::Catalogue;
use dssc_doctor::model::evidence::{Evidence, Log};
use dssc_doctor::settings::helm;
use dssc_doctor::sources::{self, InputKind};
use k8s_openapi::api::core::v1::{EnvVar, Secret};

const PW: &str = "S3cr3t-Planted-Pw!";
const MULTI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/bundles/multi");

/// A Helm 3 release Secret as the API returns it (data.release = base64 of gzip).
fn release_secret() -> Secret {
    let body = serde_json::json!({
        "name": "deepsecurity-smartcheck", "namespace": "trendmicro", "version": 2,
        "info": {"status": "deployed"},
        "chart": {"metadata": {"name": "smartcheck", "version": "1.2.76"},
                  "values": {"db": {"host": "", "password": "", "tls": {"mode": "verify-full"}}}},
        "config": {"db": {"user": "postgres", "password": PW, "host": "10.20.30.40",
                          "tls": {"ca": {"valueFrom": {"configMapKeyRef":
                              {"name": "dssc-db-trust", "key": "ca"}}}}},
                   "auth": {"masterPassword": PW}}
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&body).unwrap()).unwrap();
    let helm_b64 = b64(&gz.finish().unwrap());
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sh.helm.release.v1.deepsecurity-smartcheck.v2",
                     "namespace": "trendmicro", "labels": {"owner": "helm"}},
        "type": "helm.sh/release.v1",
        "data": {"release": b64(helm_b64.as_bytes())}
    }))
    .unwrap()
}

fn load(path: &Path, cat: &Catalogue) -> Evidence {
    let kind = sources::classify(path).unwrap();
    assert!(matches!(
        kind,
        InputKind::BundleDir | InputKind::BundleTarGz
    ));
    sources::load(path, &kind, cat, &Scanner::new(cat), true).unwrap()
}

/// The multi bundle with the password planted everywhere.
fn planted(cat: &Catalogue) -> Evidence {
    let mut ev = load(Path::new(MULTI), cat);
    // A Secret with the password in data and stringData (as a live read would see it
    // before redaction), and the Helm release Secret.
    let s: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "planted", "namespace": "trendmicro",
                     "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                         format!("{{\"stringData\":{{\"pw\":\"{PW}\"}}}}")}},
        "data": {"database-password": b64(PW.as_bytes())},
        "stringData": {"database-password": PW}
    }))
    .unwrap();
    ev.secrets.push(s);
    let rs = release_secret();
    let (rel, pw) = helm::decode_release_with_password(&rs).unwrap();
    assert_eq!(
        pw.as_ref().map(secrecy::ExposeSecret::expose_secret),
        Some(PW)
    );
    ev.db_password = pw;
    ev.helm = Some(rel);
    ev.secrets.push(rs);
    // Pod env and args.
    let spec = ev.pods[0].spec.as_mut().unwrap();
    let ic = &mut spec.init_containers.as_mut().unwrap()[0];
    for name in ["PGPASSWORD", "DB_PASSWORD"] {
        ic.env.get_or_insert_with(Vec::new).push(EnvVar {
            name: name.into(),
            value: Some(PW.into()),
            value_from: None,
        });
    }
    ic.args
        .get_or_insert_with(Vec::new)
        .push(format!("--service-password={PW}"));
    // A log with the password in three spellings.
    let raw = format!(
        "connecting with password={PW}\n\
         dsn postgres://postgres:{PW}@10.20.30.40:5432/authdb?sslmode=verify-full\n\
         {{\"component\":\"db-init\",\"password\":\"{PW}\",\"severity\":\"info\"}}\n"
    )
    .into_bytes();
    let scan = Scanner::new(cat).scan(cat, &raw[..], Some("auth")).unwrap();
    ev.logs.push(Log {
        namespace: Some("trendmicro".into()),
        pod: Some("auth-7d78dccff7-nfh97".into()),
        container: Some("auth".into()),
        previous: false,
        scan,
        raw: Some(raw),
        origin: "planted".into(),
    });
    ev
}

fn finding_ids(cat: &Catalogue, ev: Evidence) -> Vec<String> {
    build_report(cat, &ev)
        .findings
        .iter()
        .map(|f| f.id.clone())
        .collect()
}

fn findings_json(cat: &Catalogue, ev: Evidence) -> serde_json::Value {
    serde_json::to_value(&build_report(cat, &ev).findings).unwrap()
}

/// Every file of a tar.gz, decompressed.
fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let f = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(flate2::read::MultiGzDecoder::new(f));
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn planted_password_appears_nowhere() {
    let cat = Catalogue::builtin().unwrap();
    let ev = planted(&cat);
    let mut report = crate::support::report::json(
        build_report(&cat, &planted(&cat)).render(dssc_doctor::report::Format::Json),
        "",
    );
    report["note"] = format!("login with password={PW}").into();
    report["dbPassword"] = PW.into();
    report["url"] = format!("postgresql://postgres:{PW}@db:5432/x").into();
    let report = serde_json::to_string(&report).unwrap();
    assert!(report.contains(PW));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle.tar.gz");
    sources::write(&ev, &report, &out).unwrap();
    let files = entries(&out);
    assert!(files.len() > 10, "{} files", files.len());
    let needles = [PW.as_bytes().to_vec(), b64(PW.as_bytes()).into_bytes()];
    let top = files[0].0.split('/').next().unwrap().to_string();
    assert!(top.starts_with("dssc-doctor-bundle-"), "{top}");
    for (name, data) in &files {
        assert!(name.starts_with(&format!("{top}/")), "{name}");
        for n in &needles {
            assert!(
                !contains(data, n),
                "{name} holds the password: {}",
                String::from_utf8_lossy(data)
            );
        }
    }
    let names: Vec<&str> = files
        .iter()
        .map(|(n, _)| n.strip_prefix(&format!("{top}/")).unwrap())
        .collect();
    for want in [
        "version.yaml",
        "analysis.json",
        "cluster-info/cluster_version.json",
        "cluster-resources/pods/trendmicro.json",
        "cluster-resources/secrets/trendmicro.json",
        "cluster-resources/namespaces.json",
        "dssc/settings.json",
        "dssc/source.json",
        "dssc/skipped.json",
        "dssc/collection.log",
        "dssc/helm-release.json",
        "cluster-resources/pods/logs/trendmicro/auth-7d78dccff7-nfh97/auth.log",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    // Diagnostics survive redaction.
    let log = &files
        .iter()
        .find(|(n, _)| n.ends_with("/auth-7d78dccff7-nfh97/auth.log"))
        .unwrap()
        .1;
    let log = String::from_utf8_lossy(log);
    assert!(log.contains("postgres://postgres:***HIDDEN***@10.20.30.40:5432/authdb"));
    let analysis: serde_json::Value = serde_json::from_slice(
        &files
            .iter()
            .find(|(n, _)| n.ends_with("/analysis.json"))
            .unwrap()
            .1,
    )
    .unwrap();
    assert!(analysis["findings"]
        .as_array()
        .is_some_and(|f| !f.is_empty()));

    // Read back, as tar.gz and as a directory.
    let ddir = dir.path().join("bundle-dir");
    sources::write(&ev, &report, &ddir).unwrap();
    for path in [out.as_path(), ddir.as_path()] {
        let back = load(path, &cat);
        assert_eq!(back.pods.len(), ev.pods.len());
        assert_eq!(back.events.len(), ev.events.len());
        assert_eq!(back.logs.len(), ev.logs.len());
        assert_eq!(back.secrets.len(), ev.secrets.len());
        assert_eq!(back.configmaps.len(), ev.configmaps.len());
        assert_eq!(back.nodes.len(), ev.nodes.len());
        assert_eq!(back.settings, ev.settings);
        assert_eq!(back.namespace, ev.namespace);
        assert_eq!(back.release, ev.release);
        assert_eq!(back.helm, ev.helm);
        assert!(back.db_password.is_none());
        let h = back.helm.as_ref().unwrap();
        assert_eq!(h.config["db"]["password"], "***HIDDEN***");
        assert_eq!(
            helm::db_settings(h),
            helm::db_settings(ev.helm.as_ref().unwrap())
        );
        let ids = finding_ids(&cat, planted(&cat));
        assert!(!ids.is_empty());
        assert_eq!(finding_ids(&cat, back), ids);
    }
}

#[test]
fn multi_round_trips_to_the_same_findings() {
    let cat = Catalogue::builtin().unwrap();
    let ev = load(Path::new(MULTI), &cat);
    let report =
        build_report(&cat, &load(Path::new(MULTI), &cat)).render(dssc_doctor::report::Format::Json);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("multi.tgz");
    sources::write(&ev, &report, &out).unwrap();
    let back = load(&out, &cat);
    assert_eq!(back.logs.len(), ev.logs.len());
    assert_eq!(findings_json(&cat, back), findings_json(&cat, ev));
}
