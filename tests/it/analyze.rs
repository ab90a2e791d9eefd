//! End-to-end tests of `analyze`: the real binary on the example bundles in
//! testdata/bundles, log files and stdin, asserting finding IDs, subjects, the names in
//! the fixes and the exit codes.

use crate::support::cli::copy_tree;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::cli::BIN;
use crate::support::report::ids;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn doctor(args: &[&str], stdin: Option<&[u8]>) -> Out {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn doctor");
    if let Some(data) = stdin {
        let mut s = child.stdin.take().unwrap();
        s.write_all(data).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!o.stderr.contains("panicked"), "panic: {}", o.stderr);
    o
}

fn bundle(name: &str) -> String {
    format!("{}/testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json_report(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.extend(["-o", "json"]);
    let o = doctor(&a, None);
    let v = crate::support::report::json(&o.stdout, &o.stderr);
    (o.code, v)
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {}", report["findings"]))
}

fn fix_text(f: &Value) -> String {
    f["fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

const STUCK: [&str; 5] = [
    "trendmicro/auth-7d78dccff7-nfh97",
    "trendmicro/openscap-scan-ddc7b9d-jrhc7",
    "trendmicro/registryviews-5f46786b46-m6x84",
    "trendmicro/scan-568ffb49d7-dp2tt",
    "trendmicro/vulnerability-scan-7b7c59d6f8-d5ql9",
];

fn subjects(f: &Value) -> Vec<&str> {
    f["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn mnt001_one_finding_for_five_pods_naming_the_configmap() {
    let (code, r) = json_report(&["analyze", &bundle("mnt001")]);
    assert_eq!(code, 3);
    assert_eq!(
        ids(&r),
        ["MNT001"],
        "the unmount timeout events fold into MNT001"
    );
    let f = finding(&r, "MNT001");
    assert_eq!(subjects(f), STUCK);
    let fix = fix_text(f);
    assert!(
        fix.contains("kubectl create configmap dssc-db-trust --from-file=ca=ca.pem -n trendmicro"),
        "{fix}"
    );
    assert!(
        fix.contains("kubectl delete pod -n trendmicro auth-7d78dccff7-nfh97 "),
        "{fix}"
    );
    assert!(fix.contains("helm upgrade"), "{fix}");
    // Counted, not repeated: 5 pods x 11 repeats of one message = one evidence line.
    let ev = &f["evidence"][0];
    assert_eq!(ev["count"], 55);
    assert_eq!(ev["source"], "event");
    assert!(
        !fix.contains("old-trust"),
        "events of deleted pods are ignored"
    );
    let statuses: Vec<&str> = r["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str().unwrap().starts_with("vulnerability"))
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["Init:0/2"]);
}

#[test]
fn mnt002_names_configmap_and_missing_key() {
    let (code, r) = json_report(&["analyze", &bundle("mnt002")]);
    assert_eq!(code, 3);
    assert_eq!(ids(&r), ["MNT002"]);
    let fix = fix_text(finding(&r, "MNT002"));
    assert!(
        fix.contains("kubectl create configmap dssc-db-trust --from-file=ca=ca.pem -n trendmicro"),
        "{fix}"
    );
}

#[test]
fn net001_names_address_and_port() {
    let (code, r) = json_report(&["analyze", &bundle("net001")]);
    assert_eq!(code, 3);
    assert_eq!(ids(&r), ["NET001"]);
    let f = finding(&r, "NET001");
    assert_eq!(subjects(f), STUCK);
    assert!(fix_text(f).contains("nc -vz -w 5 192.168.19.226 5432"));
    assert_eq!(f["evidence"][0]["count"], 30);
    assert_eq!(
        f["evidence"][0]["text"],
        "dial tcp 192.168.19.226:5432: i/o timeout"
    );
}

#[test]
fn auth001_counts_current_and_previous_logs() {
    let (code, r) = json_report(&["analyze", &bundle("auth001")]);
    assert_eq!(code, 3);
    assert_eq!(ids(&r), ["AUTH001"]);
    let f = finding(&r, "AUTH001");
    // Five pods, each db-init waiting in CrashLoopBackOff with current == previous
    // (the same instance, byte for byte): each counted once.
    assert_eq!(f["evidence"][0]["count"], 5);
    assert!(fix_text(f).contains("user=postgres"));
    assert!(r["pods"][0]["status"]
        .as_str()
        .unwrap()
        .starts_with("Init:CrashLoopBackOff"));
}

#[test]
fn tls_scenarios() {
    let (code, r) = json_report(&["analyze", &bundle("tls001")]);
    assert_eq!((code, ids(&r)), (3, vec!["TLS001".to_string()]));
    let fix = fix_text(finding(&r, "TLS001"));
    assert!(
        fix.contains("kubectl create configmap dssc-db-trust --from-file=ca=ca.pem -n trendmicro"),
        "{fix}"
    );
    assert!(fix.contains("-connect database.example.com:5432"), "{fix}");

    let (code, r) = json_report(&["analyze", &bundle("tls002")]);
    assert_eq!((code, ids(&r)), (3, vec!["TLS002".to_string()]));
    assert!(fix_text(finding(&r, "TLS002")).contains("subjectAltName=IP:192.168.2.54"));

    let (code, r) = json_report(&["analyze", &bundle("tls003")]);
    assert_eq!((code, ids(&r)), (3, vec!["TLS003".to_string()]));
    assert!(fix_text(finding(&r, "TLS003")).contains("db.tls.mode: disable"));
}

#[test]
fn healthy_install_has_no_findings() {
    let (code, r) = json_report(&["analyze", &bundle("healthy")]);
    assert_eq!(code, 0);
    assert!(ids(&r).is_empty(), "{:?}", ids(&r));
    assert_eq!(r["pods"].as_array().unwrap().len(), 7);
    assert_eq!(r["schemaVersion"], 1);
    assert_eq!(r["settings"]["host"]["value"], "database.example.com");
}

#[test]
fn multi_cause_bundle_separates_root_causes() {
    let (code, r) = json_report(&["analyze", &bundle("multi")]);
    assert_eq!(code, 3);
    let mut got = ids(&r);
    got.sort();
    assert_eq!(got, ["AUTH001", "DOC001", "POD001", "POD002", "TLS002"]);
    let tls = finding(&r, "TLS002");
    assert_eq!(
        subjects(tls),
        [
            "trendmicro/auth-7d78dccff7-nfh97",
            "trendmicro/registryviews-5f46786b46-m6x84",
            "trendmicro/scan-568ffb49d7-dp2tt"
        ]
    );
    assert!(fix_text(tls).contains("IP:10.20.30.40"));
    let auth = finding(&r, "AUTH001");
    assert_eq!(
        subjects(auth),
        ["trendmicro/vulnerability-scan-7b7c59d6f8-d5ql9"]
    );
    // A container's logs are evidence about its pod.
    assert_eq!(
        auth["evidence"][0]["seenOn"],
        serde_json::json!(["trendmicro/vulnerability-scan-7b7c59d6f8-d5ql9"])
    );
    assert_eq!(
        subjects(finding(&r, "POD001")),
        ["trendmicro/openscap-scan-ddc7b9d-jrhc7"]
    );
    assert!(fix_text(finding(&r, "POD001"))
        .contains("kubectl logs -n trendmicro openscap-scan-ddc7b9d-jrhc7 -c db-init"));
    assert!(fix_text(finding(&r, "POD002")).contains("-c frontend --previous"));
    assert_eq!(
        r["skipped"][0]["what"],
        "cluster-resources/secrets/trendmicro.json"
    );
}

#[test]
fn unrelated_troubleshoot_bundle_reports_nothing_dssc_specific() {
    let Some(path) = crate::support::ci::external_bundle() else {
        return;
    };
    let path = path.display().to_string();
    let (code, r) = json_report(&["analyze", &path]);
    assert_eq!(code, 0);
    assert_eq!(ids(&r), ["DOC002"]);
}

#[test]
fn stdin_log_from_kubectl_logs() {
    let log = br#"{"commit":"5c108f2e383fd54fef8d3f6848c0424d9de9e001","component":"db-init","message":"Starting up","severity":"audit","timestamp":"2019-06-22T15:22:08Z"}
Error: could not set up database: database not available: could not get database connection: pq: password authentication failed for user "postgres"
"#;
    let o = doctor(&["analyze", "-", "-o", "json"], Some(log));
    assert_eq!(o.code, 3, "{}", o.stderr);
    let r = crate::support::report::json(&o.stdout, &o.stderr);
    assert_eq!(ids(&r), ["AUTH001"]);
    assert_eq!(r["source"]["kind"], "log");

    let o = doctor(&["analyze", "-"], Some(b""));
    assert_eq!(o.code, 2, "empty stdin is unreadable input: {}", o.stderr);
    assert!(o.stderr.contains("the input is empty"), "{}", o.stderr);
    assert!(!o.stdout.contains("No problems found."), "{}", o.stdout);
}

#[test]
fn empty_log_file_is_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db-init.log");
    std::fs::write(&p, "").unwrap();
    let o = doctor(&["analyze", p.to_str().unwrap()], None);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("the input is empty"), "{}", o.stderr);
    assert_eq!(o.stderr.trim().lines().count(), 1, "{}", o.stderr);
}

#[test]
fn plain_and_gzipped_log_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db-init.log");
    std::fs::write(&p, "{\"component\":\"db-init\",\"error\":\"x509: cannot validate certificate for 192.168.2.54 because it doesn't contain any IP SANs\",\"message\":\"could not get database connection\"}\n").unwrap();
    let (code, r) = json_report(&["analyze", p.to_str().unwrap()]);
    assert_eq!((code, ids(&r)), (3, vec!["TLS002".to_string()]));
    let gz = dir.path().join("db-init.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&p).unwrap()).unwrap();
    enc.finish().unwrap();
    let (code, r) = json_report(&["analyze", gz.to_str().unwrap()]);
    assert_eq!((code, ids(&r)), (3, vec!["TLS002".to_string()]));
    // -c limits the rules: db-init patterns do not apply to an app container's log.
    let (code, r) = json_report(&["analyze", p.to_str().unwrap(), "-c", "frontend"]);
    assert_eq!((code, ids(&r).len()), (0, 0));
}

fn tar_gz_of(dir: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let enc = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    let mut t = tar::Builder::new(enc);
    t.append_dir_all("support-bundle-2026-11-23T02_20_00", dir)
        .unwrap();
    t.into_inner().unwrap().finish().unwrap();
}

#[test]
fn tar_gz_bundle_gives_the_same_findings_as_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = dir.path().join("bundle.tar.gz");
    tar_gz_of(Path::new(&bundle("multi")), &tgz);
    let (c1, a) = json_report(&["analyze", &bundle("multi")]);
    let (c2, b) = json_report(&["analyze", tgz.to_str().unwrap()]);
    assert_eq!(c1, c2);
    assert_eq!(a["findings"], b["findings"]);
    assert_eq!(a["pods"], b["pods"]);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // Truncated tar.gz.
    let tgz = dir.path().join("bundle.tar.gz");
    tar_gz_of(Path::new(&bundle("net001")), &tgz);
    let data = std::fs::read(&tgz).unwrap();
    let cut = dir.path().join("cut.tar.gz");
    std::fs::write(&cut, &data[..data.len() / 2]).unwrap();
    let o = doctor(&["analyze", cut.to_str().unwrap()], None);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(o.stderr.trim().lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("truncated or corrupt"), "{}", o.stderr);
    // Binary log.
    let bin = dir.path().join("core.bin");
    std::fs::write(&bin, [0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3, 0xff, 0xfe]).unwrap();
    let o = doctor(&["analyze", bin.to_str().unwrap()], None);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.starts_with("error: ") && o.stderr.contains("binary"),
        "{}",
        o.stderr
    );
    // Missing path.
    let o = doctor(&["analyze", "/nonexistent/bundle"], None);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no such file"), "{}", o.stderr);
    // A directory that is not a bundle.
    let o = doctor(&["analyze", dir.path().to_str().unwrap()], None);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("not a support bundle"), "{}", o.stderr);
    // Unknown flag / subcommand.
    assert_eq!(doctor(&["analyze"], None).code, 2);
    assert_eq!(doctor(&["frobnicate"], None).code, 2);
}

#[test]
fn malformed_json_in_a_bundle_is_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    copy_tree(Path::new(&bundle("net001")), &b);
    std::fs::write(
        b.join("cluster-resources/events/trendmicro.json"),
        "{\"kind\": \"EventList\", \"items\": [",
    )
    .unwrap();
    let (code, r) = json_report(&["analyze", b.to_str().unwrap()]);
    assert_eq!(code, 3, "the logs still show NET001");
    let mut got = ids(&r);
    got.sort();
    assert_eq!(got, ["DOC001", "NET001"]);
    assert!(r["skipped"][0]["why"]
        .as_str()
        .unwrap()
        .contains("invalid JSON"));
    // A binary file in place of a log is skipped with a note.
    std::fs::write(
        b.join("cluster-resources/pods/logs/trendmicro/auth-7d78dccff7-nfh97/db-init.log"),
        [0u8, 1, 2, 3, 0xff],
    )
    .unwrap();
    let (_, r) = json_report(&["analyze", b.to_str().unwrap()]);
    assert!(r["skipped"].to_string().contains("binary"));
}

#[test]
fn namespace_flag_filters_the_bundle() {
    let (code, r) = json_report(&["analyze", &bundle("mnt001"), "-n", "default"]);
    assert_eq!(code, 0);
    assert_eq!(ids(&r), ["DOC002"]);
}

#[test]
fn output_formats() {
    let o = doctor(&["analyze", &bundle("mnt001"), "-o", "markdown"], None);
    assert_eq!(o.code, 3);
    assert!(o.stdout.contains("#### error `MNT001`"), "{}", o.stdout);
    assert!(o
        .stdout
        .contains("| auth-7d78dccff7-nfh97 | 0/1 | Init:0/1 | 0 |"));
    let o = doctor(&["analyze", &bundle("mnt001"), "-o", "junit"], None);
    assert!(
        o.stdout.contains("<failure type=\"MNT001\""),
        "{}",
        o.stdout
    );
    // Not a terminal: no colour unless asked.
    let o = doctor(&["analyze", &bundle("mnt001")], None);
    assert!(!o.stdout.contains('\u{1b}'));
    assert!(o.stdout.contains("error[MNT001]"));
    let o = doctor(&["analyze", &bundle("mnt001"), "--color", "always"], None);
    assert!(o.stdout.contains('\u{1b}'));
}

#[test]
fn checks_and_explain() {
    let o = doctor(&["checks"], None);
    assert_eq!(o.code, 0);
    for id in [
        "MNT001", "MNT002", "NET001", "NET002", "NET003", "AUTH001", "AUTH002", "TLS001", "TLS002",
        "TLS003", "TLS004", "TLS005",
    ] {
        assert!(o.stdout.contains(id), "{id}");
    }
    let o = doctor(&["explain", "mnt002"], None);
    assert_eq!(o.code, 0);
    assert!(o.stdout.starts_with("MNT002: "));
    for section in ["\nWhy\n", "\nFix\n", "reference: ", "FailedMount"] {
        assert!(o.stdout.contains(section), "{section}: {}", o.stdout);
    }
    let o = doctor(&["explain", "NOPE999"], None);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("kubectl dssc-doctor checks"));
}

#[test]
fn extra_rule_directory_adds_a_log_pattern_without_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.toml"),
        r##"
[[rule]]
id = "SITE001"
title = "The database is in recovery mode"
severity = "warn"
why = "A standby was given as db.host."
fix = ["# point db.host at the primary"]
reference = "site runbook"
[[rule.match]]
source = "log"
containers = ["db-init"]
pattern = 'cannot execute (?P<stmt>\w+) in a read-only transaction'
"##,
    )
    .unwrap();
    let o = doctor(
        &[
            "analyze",
            "-",
            "-c",
            "db-init",
            "--checks",
            dir.path().to_str().unwrap(),
            "-o",
            "json",
        ],
        Some(b"Error: pq: cannot execute CREATE in a read-only transaction\n"),
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    let r = crate::support::report::json(&o.stdout, &o.stderr);
    assert_eq!(ids(&r), ["SITE001"]);
    // A broken rule file is a usage error naming the file.
    std::fs::write(dir.path().join("bad.toml"), "[[rule]]\nid = 1\n").unwrap();
    let o = doctor(&["checks", "--checks", dir.path().to_str().unwrap()], None);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("bad.toml"), "{}", o.stderr);
}

fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn mount_findings_say_what_the_cluster_does_have() {
    // MNT002: the ConfigMap has `ca.pem`; the pods ask for `ca`.
    let (_, r) = json_report(&["analyze", &bundle("mnt002")]);
    let fix = fix_text(finding(&r, "MNT002"));
    assert!(fix.contains("set key: ca.pem"), "{fix}");

    // MNT001: the ConfigMap exists in another namespace, and a Secret of that name here.
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    copy_tree(Path::new(&bundle("mnt001")), &b);
    std::fs::write(
        b.join("cluster-resources/configmaps/default.json"),
        r#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{},"items":[
            {"metadata":{"name":"dssc-db-trust","namespace":"default"},"data":{"ca":"pem"}}]}"#,
    )
    .unwrap();
    edit_json(&b.join("cluster-resources/secrets/trendmicro.json"), |v| {
        v["items"].as_array_mut().unwrap().push(serde_json::json!({
            "metadata": {"name": "dssc-db-trust", "namespace": "trendmicro"},
            "data": {"ca": "KioqSElEREVOKioq"}
        }));
    });
    let (code, r) = json_report(&["analyze", b.to_str().unwrap()]);
    assert_eq!(code, 3);
    let fix = fix_text(finding(&r, "MNT001"));
    assert!(fix.contains("exists in namespace default"), "{fix}");
    assert!(fix.contains("-n default -o jsonpath='{.data.ca}'"), "{fix}");
    assert!(
        fix.contains("a secret named dssc-db-trust exists in trendmicro"),
        "{fix}"
    );
}

#[test]
fn a_network_policy_that_explains_a_dial_timeout_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    copy_tree(Path::new(&bundle("net001")), &b);
    std::fs::create_dir_all(b.join("cluster-resources/network-policy")).unwrap();
    std::fs::write(
        b.join("cluster-resources/network-policy/trendmicro.json"),
        r#"{"kind":"NetworkPolicyList","apiVersion":"networking.k8s.io/v1","metadata":{},"items":[
            {"metadata":{"name":"default-deny-egress","namespace":"trendmicro"},
             "spec":{"podSelector":{},"policyTypes":["Egress"],
                     "egress":[{"ports":[{"protocol":"UDP","port":53},{"protocol":"TCP","port":53}]}]}}]}"#,
    )
    .unwrap();
    let (code, r) = json_report(&["analyze", b.to_str().unwrap()]);
    assert_eq!(code, 3);
    let f = finding(&r, "NET004");
    assert!(f.to_string().contains("default-deny-egress"), "{f}");
    assert!(fix_text(f).contains("192.168.19.226/32"), "{}", fix_text(f));
    assert_eq!(subjects(f).len(), 5);
    // The same bundle with a policy that allows the database: no NET004.
    edit_json(
        &b.join("cluster-resources/network-policy/trendmicro.json"),
        |v| {
            v["items"].as_array_mut().unwrap().push(serde_json::json!({
                "metadata": {"name": "allow-db", "namespace": "trendmicro"},
                "spec": {"podSelector": {"matchLabels": {"release": "deepsecurity-smartcheck"}},
                         "policyTypes": ["Egress"],
                         "egress": [{"to": [{"ipBlock": {"cidr": "192.168.19.0/24"}}],
                                     "ports": [{"protocol": "TCP", "port": 5432}]}]}
            }));
        },
    );
    let (_, r) = json_report(&["analyze", b.to_str().unwrap()]);
    assert_eq!(ids(&r), ["NET001"]);
}
