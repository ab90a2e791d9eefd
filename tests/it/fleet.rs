//! The fleet: `--push` into Debian's real Pushgateway (grouping key, a fixed bundle's
//! finding gone, a failed run as `dssc_doctor_up 0`), Prometheus scraping the pushed
//! group and the `exporter` (its OpenMetrics parser is the format check), `promtool
//! check metrics` on `-o openmetrics`, and `analyze` on several bundles at once.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::support::cli::{serve_bin, show, testdata, ServeProcess, BIN};
use crate::support::delay::{closed_port, silent_listener};
use crate::support::pg::{self, PgOptions, MASTER};
use crate::support::prom::{self, eventually, get_json, http, query, Daemon};

const CLUSTER: &str = "prod/eu-1";
const WAIT: Duration = Duration::from_secs(30);

fn serve(bundle: &str) -> ServeProcess {
    serve_bin(testdata(bundle).to_str().unwrap(), &[])
}

/// The live diagnosis of `s` (no probe: the bundles' database is not ours) with `args`.
fn doctor(kubeconfig: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["-n", "trendmicro", "--no-probe", "--timeout", "5s"])
        .args(args)
        .output()
        .unwrap()
}

/// The Pushgateway's group of this cluster (from `GET /api/v1/metrics`).
fn group(pgw: &Daemon) -> Option<Value> {
    let v = get_json(pgw.addr, "/api/v1/metrics");
    v["data"]
        .as_array()?
        .iter()
        .find(|g| g["labels"]["cluster"] == CLUSTER)
        .cloned()
}

/// Values of a family in a group, by the series' labels.
fn series(group: &Value, family: &str) -> Vec<(Value, String)> {
    group[family]["metrics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["labels"].clone(),
                        m["value"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn push_replaces_the_group_so_a_fixed_finding_disappears() {
    if !(prom::require(prom::PUSHGATEWAY) && prom::require(prom::PROMETHEUS)) {
        return;
    }
    let pgw = prom::pushgateway();
    let prometheus = prom::prometheus(None, Some(pgw.addr));
    let url = pgw.url();
    let push = ["--push", url.as_str(), "--cluster-name", CLUSTER];

    // A failing install: the push succeeds, so the run (a CronJob's Job) succeeds.
    let broken = serve("tls001");
    let out = doctor(&broken.kubeconfig, &push);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("TLS001"));
    let g = group(&pgw).expect("the group of the cluster");
    assert_eq!(g["labels"]["job"], "dssc-doctor", "{g}");
    assert_eq!(g["labels"]["namespace"], "trendmicro", "{g}");
    assert_eq!(g["labels"]["release"], "deepsecurity-smartcheck", "{g}");
    assert_eq!(g["last_push_successful"], true, "{g}");
    let findings = series(&g, "dssc_doctor_finding");
    assert_eq!(findings.len(), 1, "{g}");
    let (labels, value) = &findings[0];
    assert_eq!(value, "1");
    assert_eq!(labels["id"], "TLS001", "{labels}");
    assert_eq!(labels["severity"], "error", "{labels}");
    assert_eq!(labels["cluster"], CLUSTER, "{labels}");
    let pods = series(&g, "dssc_doctor_pods_ready");
    assert_eq!(pods.len(), 1, "{g}");
    // Prometheus scrapes the Pushgateway and keeps the pushed labels.
    let q = format!("dssc_doctor_finding{{cluster=\"{CLUSTER}\"}}");
    let got = eventually("the finding in Prometheus", WAIT, || {
        let r = query(prometheus.addr, &q);
        (!r.is_empty()).then_some(r)
    });
    let m = &got[0]["metric"];
    assert_eq!(m["id"], "TLS001", "{m}");
    assert_eq!(m["job"], "dssc-doctor", "{m}");
    assert_eq!(m["namespace"], "trendmicro", "{m}");
    assert_eq!(m["release"], "deepsecurity-smartcheck", "{m}");
    drop(broken);

    // The same install fixed: PUT replaces the group, the finding series is gone.
    let fixed = serve("healthy");
    let out = doctor(&fixed.kubeconfig, &push);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let g = group(&pgw).expect("the group of the cluster");
    assert!(g.get("dssc_doctor_finding").is_none(), "{g}");
    let errors: Vec<_> = series(&g, "dssc_doctor_findings")
        .into_iter()
        .filter(|(l, _)| l["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{g}");
    assert_eq!(errors[0].1, "0", "{g}");
    eventually("the finding gone from Prometheus", WAIT, || {
        query(prometheus.addr, &q).is_empty().then_some(())
    });
    let up = format!("dssc_doctor_up{{cluster=\"{CLUSTER}\"}}");
    eventually("dssc_doctor_up 1 in Prometheus", WAIT, || {
        let r = query(prometheus.addr, &up);
        (r.len() == 1 && r[0]["value"][1] == "1").then_some(())
    });
    drop(fixed);

    // The cluster unreachable: the run fails, dssc_doctor_up 0 is pushed and the last
    // good run's series (its time of success) stay.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let addr = SocketAddr::from(([127, 0, 0, 1], closed_port()));
    std::fs::write(&kc, dssc_doctor::serve::kubeconfig(addr, "trendmicro")).unwrap();
    let out = doctor(
        &kc,
        &[
            "--push",
            &url,
            "--cluster-name",
            CLUSTER,
            "--release",
            "deepsecurity-smartcheck",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let g = group(&pgw).expect("the group of the cluster");
    let up = series(&g, "dssc_doctor_up");
    assert_eq!(up.len(), 1, "{g}");
    assert_eq!(up[0].1, "0", "{g}");
    assert_eq!(
        series(&g, "dssc_doctor_last_success_timestamp_seconds").len(),
        1,
        "{g}"
    );

    // A Pushgateway that is down: the push fails, so the run fails.
    let nobody = format!("http://127.0.0.1:{}", closed_port());
    let s = serve("tls001");
    let out = doctor(
        &s.kubeconfig,
        &["--push", &nobody, "--cluster-name", CLUSTER],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pushing to"),
        "{}",
        show(&out)
    );
}

/// `exporter … --listen 127.0.0.1:0`, its address read from its log line.
fn exporter(kubeconfig: &std::path::Path, interval: &str) -> Daemon {
    let mut cmd = Command::new(BIN);
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--cluster-name", CLUSTER, "--no-probe", "--timeout", "5s"])
        .args(["exporter", "--namespace", "trendmicro", "--listen"])
        .args(["127.0.0.1:0", "--interval", interval]);
    Daemon::start(cmd, None, |l| {
        l.strip_prefix("exporter listening on ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

#[test]
fn exporter_is_scraped_by_prometheus_and_follows_the_install() {
    if !prom::require(prom::PROMETHEUS) {
        return;
    }
    let port = closed_port().to_string();
    let s = serve_bin(testdata("tls001").to_str().unwrap(), &["--port", &port]);
    // The kubeconfig outlives the server (the exporter reads it for every diagnosis).
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::copy(&s.kubeconfig, &kc).unwrap();
    let exp = exporter(&kc, "2s");
    let prometheus = prom::prometheus(Some(exp.addr), None);
    // The scrape is healthy: Prometheus parsed the OpenMetrics body.
    let target = eventually("the exporter target up", WAIT, || {
        let v = get_json(prometheus.addr, "/api/v1/targets");
        let t = v["data"]["activeTargets"]
            .as_array()?
            .iter()
            .find(|t| t["labels"]["job"] == "exporter")?
            .clone();
        (t["health"] == "up").then_some(t)
    });
    assert_eq!(target["lastError"], "", "{target}");
    let (status, ctype, body) = http(
        "GET",
        exp.addr,
        "/metrics",
        &[("Accept", "application/openmetrics-text;version=1.0.0")],
        "",
    );
    assert_eq!(status, 200);
    assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    let (_, ctype, plain) = http("GET", exp.addr, "/metrics", &[], "");
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    assert!(!plain.contains("# EOF"), "{plain}");

    let q = "dssc_doctor_finding{job=\"exporter\"}";
    let got = eventually("the exporter's finding in Prometheus", WAIT, || {
        let r = query(prometheus.addr, q);
        (!r.is_empty()).then_some(r)
    });
    let m = &got[0]["metric"];
    assert_eq!(m["id"], "TLS001", "{m}");
    assert_eq!(m["severity"], "error", "{m}");
    assert_eq!(m["cluster"], CLUSTER, "{m}");
    assert_eq!(m["namespace"], "trendmicro", "{m}");
    assert_eq!(m["release"], "deepsecurity-smartcheck", "{m}");
    for name in [
        "dssc_doctor_pods_ready",
        "dssc_doctor_pods",
        "dssc_doctor_run_duration_seconds",
        "dssc_doctor_last_success_timestamp_seconds",
    ] {
        let r = query(prometheus.addr, &format!("{name}{{job=\"exporter\"}}"));
        assert_eq!(r.len(), 1, "{name}: {r:?}");
    }

    // The install fixed behind the same address: a later diagnosis of the same
    // exporter drops the finding, Prometheus marks the series stale.
    drop(s);
    let fixed = serve_bin(testdata("healthy").to_str().unwrap(), &["--port", &port]);
    eventually("the finding gone from Prometheus", WAIT, || {
        query(prometheus.addr, q).is_empty().then_some(())
    });
    eventually("dssc_doctor_up 1 for the fixed install", WAIT, || {
        let r = query(prometheus.addr, "dssc_doctor_up{job=\"exporter\"}");
        (r.len() == 1 && r[0]["value"][1] == "1").then_some(())
    });
    drop(fixed);
}

#[test]
fn exporter_is_healthy_before_the_first_diagnosis_ends() {
    // A cluster that accepts connections and never answers: the diagnosis hangs until
    // its timeout, /healthz answers at once, /metrics has no series yet.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        dssc_doctor::serve::kubeconfig(silent_listener(), "trendmicro"),
    )
    .unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--kubeconfig")
        .arg(&kc)
        .args(["--timeout", "60s", "exporter", "--namespace", "trendmicro"])
        .args(["--listen", "127.0.0.1:0", "--interval", "5m"]);
    let exp = Daemon::start(cmd, None, |l| {
        l.strip_prefix("exporter listening on ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    });
    let (status, _, body) = http("GET", exp.addr, "/healthz", &[], "");
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = http(
        "GET",
        exp.addr,
        "/metrics",
        &[("Accept", "application/openmetrics-text;version=1.0.0")],
        "",
    );
    assert_eq!((status, body.as_str()), (200, "# EOF\n"));
    let (status, _, _) = http("POST", exp.addr, "/metrics", &[], "");
    assert_eq!(status, 405);
    let (status, _, _) = http("GET", exp.addr, "/nothing", &[], "");
    assert_eq!(status, 404);
    // Kubernetes stopping the pod: SIGTERM ends it at once, even mid-diagnosis.
    let mut exp = exp;
    let st = exp.terminate().expect("the exporter ends on SIGTERM");
    assert_eq!(st.code(), Some(0), "{}", exp.log.lock().unwrap());
}

#[test]
fn openmetrics_passes_promtool_and_has_one_line_per_series() {
    if !prom::require(prom::PROMTOOL) {
        return;
    }
    for bundle in ["tls001", "multi", "healthy"] {
        let s = serve(bundle);
        let out = doctor(
            &s.kubeconfig,
            &["-o", "openmetrics", "--cluster-name", CLUSTER],
        );
        let body = String::from_utf8_lossy(&out.stdout).into_owned();
        let want = if bundle == "healthy" { 0 } else { 3 };
        assert_eq!(out.status.code(), Some(want), "{}", show(&out));
        assert!(body.ends_with("\n# EOF\n"), "{body}");
        assert!(!body.contains("\n\n"), "{body}");
        let mut seen = BTreeSet::new();
        for l in body.lines().filter(|l| !l.starts_with('#')) {
            let (series, _) = l.rsplit_once(' ').unwrap();
            assert!(seen.insert(series.to_string()), "{series} twice:\n{body}");
        }
        let res = promtool_check(&body);
        assert!(res.status.success(), "{bundle}: {}\n{body}", show(&res));
        if bundle == "multi" {
            let ids: BTreeSet<&str> = body
                .lines()
                .filter(|l| l.starts_with("dssc_doctor_finding{"))
                .filter_map(|l| l.split("id=\"").nth(1)?.split('"').next())
                .collect();
            assert!(ids.len() > 1, "{body}");
        }
    }
}

/// promtool's verdict on `body`.
fn promtool_check(body: &str) -> Output {
    use std::io::Write;
    let mut check = Command::new(prom::PROMTOOL)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    check.wait_with_output().unwrap()
}

#[test]
fn probe_stages_and_latency_quantiles_pass_promtool() {
    if !(prom::require(prom::PROMTOOL) && pg::available()) {
        return;
    }
    // A real PostgreSQL without TLS: every stage runs, TLS is reported, latency sampled.
    let srv = pg::start(&PgOptions::default());
    let out = Command::new(BIN)
        .env("PGPASSWORD", MASTER.1)
        .args(["probe", "--host", "127.0.0.1", "--port"])
        .arg(srv.port.to_string())
        .args(["--user", MASTER.0, "--sslmode", "disable", "--samples", "5"])
        .args(["-o", "openmetrics"])
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(body.ends_with("\n# EOF\n"), "{}", show(&out));
    for want in [
        "# TYPE dssc_doctor_probe_latency_seconds summary\n",
        "\ndssc_doctor_probe_stage{stage=\"tcp\",result=\"pass\"} 1\n",
        "\ndssc_doctor_probe_ok 1\n",
        "\ndssc_doctor_probe_stage_duration_seconds{stage=\"tcp\"} ",
    ] {
        assert!(body.contains(want), "{want}:\n{body}");
    }
    for q in ["0", "0.5", "0.95", "0.99", "1"] {
        let l = format!("op=\"select1\",quantile=\"{q}\"}} ");
        assert!(body.contains(&l), "{l}:\n{body}");
    }
    let count = body
        .lines()
        .find(|l| {
            l.starts_with("dssc_doctor_probe_latency_seconds_count{") && l.contains("select1")
        })
        .expect("the select1 sample count");
    assert!(count.ends_with(" 5"), "{count}");
    let res = promtool_check(&body);
    assert!(res.status.success(), "{}\n{body}", show(&res));
}

#[test]
fn analyze_several_bundles_reports_each_a_summary_and_the_worst_exit() {
    let paths: Vec<String> = ["tls001", "healthy", "auth001"]
        .iter()
        .map(|b| testdata(b).display().to_string())
        .collect();
    let out = Command::new(BIN)
        .arg("analyze")
        .args(&paths)
        .args(["-j", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for p in &paths {
        assert!(text.contains(&format!("==> {p} <==")), "{text}");
    }
    let summary = text
        .split("Summary of 3 bundles\n")
        .nth(1)
        .expect("summary");
    let rows: Vec<&str> = summary.lines().collect();
    assert_eq!(rows.len(), 4, "{summary}");
    assert!(rows[0].starts_with("BUNDLE"), "{summary}");
    for (row, (p, top)) in rows[1..]
        .iter()
        .zip(paths.iter().zip(["TLS001", "-", "AUTH001"]))
    {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[0], p, "{row}");
        assert_eq!(cells[1], "trendmicro", "{row}");
        assert_eq!(cells[2], "deepsecurity-smartcheck", "{row}");
        assert_eq!(cells[3], top, "{row}");
    }

    // JSON Lines, in the order given; an unreadable path is a line too, and exit 2.
    let missing = testdata("no-such-bundle").display().to_string();
    let out = Command::new(BIN)
        .arg("analyze")
        .args(&paths)
        .arg(&missing)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    // Each line is a report, checked against the shipped schema, or the error line of a
    // path that could not be read (`{origin, error}`).
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            if v.get("error").is_some() {
                assert_eq!(v.as_object().map(|o| o.len()), Some(2), "{v}");
                v
            } else {
                crate::support::report::json(l, "a batch line")
            }
        })
        .collect();
    assert_eq!(lines.len(), 4);
    for (v, p) in lines.iter().zip(&paths) {
        assert_eq!(v["source"]["origin"], p.as_str(), "{v}");
    }
    assert_eq!(lines[0]["findings"][0]["id"], "TLS001");
    assert_eq!(lines[1]["summary"]["errors"], 0);
    assert_eq!(lines[2]["findings"][0]["id"], "AUTH001");
    assert_eq!(lines[3]["origin"], missing.as_str());
    assert!(lines[3]["error"].as_str().is_some());

    // Only healthy bundles: 0; one report for junit/openmetrics only.
    let healthy = testdata("healthy").display().to_string();
    let out = Command::new(BIN)
        .args(["analyze", &healthy, &healthy])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = Command::new(BIN)
        .args(["analyze", &healthy, &healthy, "-o", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

#[test]
fn what_could_not_be_read_is_a_series() {
    if !prom::require(prom::PROMTOOL) {
        return;
    }
    let s = serve_bin(
        testdata("tls001").to_str().unwrap(),
        &["--forbid", "secrets"],
    );
    let out = doctor(
        &s.kubeconfig,
        &["-o", "openmetrics", "--cluster-name", CLUSTER],
    );
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    let unreadable: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("dssc_doctor_unreadable{"))
        .collect();
    assert!(
        unreadable
            .iter()
            .any(|l| l.contains("secrets") && l.ends_with("} 1")),
        "{body}"
    );
    assert!(body.contains("id=\"DOC001\""), "{body}");
    let res = promtool_check(&body);
    assert!(res.status.success(), "{}\n{body}", show(&res));
}

#[test]
fn readme_alert_rules_pass_promtool() {
    if !prom::require(prom::PROMTOOL) {
        return;
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let rules = readme
        .split("Example alert rules")
        .nth(1)
        .and_then(|r| r.split("```yaml\n").nth(1))
        .and_then(|r| r.split("```").next())
        .expect("the README's example alert rules");
    for name in [
        "dssc_doctor_finding",
        "dssc_doctor_last_success_timestamp_seconds",
    ] {
        assert!(rules.contains(name), "{rules}");
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("rules.yml");
    std::fs::write(&f, rules).unwrap();
    let out = Command::new(prom::PROMTOOL)
        .args(["check", "rules"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
}
