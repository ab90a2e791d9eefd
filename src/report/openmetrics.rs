//! The metrics renderer: the report as Prometheus series, in the OpenMetrics text format
//! (`-o openmetrics`, `exporter` when the scraper asks for it) or the Prometheus 0.0.4
//! text format (`--push`, scrapers that do not ask for OpenMetrics). Every family is a
//! gauge except the probe latency summary, so both bodies are the same bytes but for the
//! closing `# EOF`. Names are stable (documented in the README, "Fleet"); every series
//! carries `cluster` (when named), `namespace` and `release`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use super::Report;

/// `Content-Type` of an OpenMetrics body.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// `Content-Type` of a Prometheus 0.0.4 text body.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Which text format to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0: ends with `# EOF`.
    OpenMetrics,
    /// Prometheus text format 0.0.4 (what the Pushgateway parses).
    Text,
}

impl Exposition {
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Exposition::Text => TEXT_CONTENT_TYPE,
        }
    }
}

/// What the report does not know about the run that produced it.
#[derive(Clone, Debug, Default)]
pub struct RunMeta {
    /// `--cluster-name`: a `cluster` label on every series.
    pub cluster: Option<String>,
    /// Wall time of the diagnosis.
    pub duration: Option<Duration>,
    /// When the last diagnosis that completed finished (Unix seconds).
    pub last_success: Option<f64>,
    /// The latest diagnosis could not run: `dssc_doctor_up` is 0 and the other series
    /// are those of the report (the last one that ran).
    pub failing: bool,
}

/// The metric families, in the order they are written.
mod names {
    pub const UP: &str = "dssc_doctor_up";
    pub const BUILD: &str = "dssc_doctor_build_info";
    pub const FINDING: &str = "dssc_doctor_finding";
    pub const FINDINGS: &str = "dssc_doctor_findings";
    pub const PODS: &str = "dssc_doctor_pods";
    pub const PODS_READY: &str = "dssc_doctor_pods_ready";
    pub const UNREADABLE: &str = "dssc_doctor_unreadable";
    pub const PROBE_OK: &str = "dssc_doctor_probe_ok";
    pub const PROBE_STAGE: &str = "dssc_doctor_probe_stage";
    pub const PROBE_STAGE_SECONDS: &str = "dssc_doctor_probe_stage_duration_seconds";
    pub const PROBE_LATENCY: &str = "dssc_doctor_probe_latency_seconds";
    pub const RUN_SECONDS: &str = "dssc_doctor_run_duration_seconds";
    pub const LAST_SUCCESS: &str = "dssc_doctor_last_success_timestamp_seconds";
}

/// Writes families: one HELP and TYPE each, its samples contiguous and sorted.
struct Writer {
    out: String,
    base: Vec<(&'static str, String)>,
}

impl Writer {
    fn new(base: Vec<(&'static str, String)>) -> Writer {
        Writer {
            out: String::new(),
            base,
        }
    }

    /// A gauge family with its samples (extra labels, value); nothing when empty.
    fn gauge(&mut self, name: &str, help: &str, samples: Vec<(Vec<(&str, String)>, f64)>) {
        if samples.is_empty() {
            return;
        }
        self.header(name, help, "gauge");
        let mut lines: Vec<String> = samples
            .into_iter()
            .map(|(labels, v)| self.sample(name, &labels, v))
            .collect();
        lines.sort();
        lines.dedup();
        lines.iter().for_each(|l| self.out.push_str(l));
    }

    fn header(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&self, name: &str, extra: &[(&str, String)], v: f64) -> String {
        let labels: Vec<String> = self
            .base
            .iter()
            .map(|(k, v)| (*k, v))
            .chain(extra.iter().map(|(k, v)| (*k, v)))
            .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
            .collect();
        if labels.is_empty() {
            format!("{name} {}\n", value(v))
        } else {
            format!("{name}{{{}}} {}\n", labels.join(","), value(v))
        }
    }

    fn finish(mut self, how: Exposition) -> String {
        if how == Exposition::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
        self.out
    }
}

/// The labels every series carries.
fn base_labels(
    cluster: Option<&str>,
    namespace: Option<&str>,
    release: Option<&str>,
) -> Vec<(&'static str, String)> {
    [
        ("cluster", cluster),
        ("namespace", namespace),
        ("release", release),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v.to_string())))
    .collect()
}

impl Report {
    /// The report's metrics in `how`'s format.
    pub fn metrics(&self, run: &RunMeta, how: Exposition) -> String {
        let mut w = Writer::new(base_labels(
            run.cluster.as_deref(),
            self.source.namespace.as_deref(),
            self.source.release.as_deref(),
        ));
        w.gauge(
            names::UP,
            "1 when the diagnosis ran to the end, 0 when it could not run (the other series are then those of the last run that did).",
            vec![(vec![], if run.failing { 0.0 } else { 1.0 })],
        );
        w.gauge(
            names::BUILD,
            "The doctor's version (always 1).",
            vec![(
                vec![("version", env!("CARGO_PKG_VERSION").to_string())],
                1.0,
            )],
        );
        w.gauge(
            names::FINDING,
            "One series per finding of the diagnosis (always 1): its catalogue ID and severity.",
            self.findings
                .iter()
                .map(|f| {
                    let labels = vec![("id", f.id.clone()), ("severity", f.severity.to_string())];
                    (labels, 1.0)
                })
                .collect(),
        );
        w.gauge(
            names::FINDINGS,
            "Number of findings by severity.",
            [
                ("error", self.summary.errors),
                ("warn", self.summary.warnings),
                ("info", self.summary.infos),
            ]
            .into_iter()
            .map(|(s, n)| (vec![("severity", s.to_string())], n as f64))
            .collect(),
        );
        let ready = self.pods.iter().filter(|p| all_ready(&p.ready)).count();
        w.gauge(
            names::PODS,
            "Pods of the Smart Check install.",
            vec![(vec![], self.pods.len() as f64)],
        );
        w.gauge(
            names::PODS_READY,
            "Pods of the Smart Check install whose containers are all ready.",
            vec![(vec![], ready as f64)],
        );
        let unreadable: BTreeSet<&str> = self.skipped.iter().map(|s| s.what.as_str()).collect();
        w.gauge(
            names::UNREADABLE,
            "What could not be read (forbidden, missing, timed out), one series each (always 1).",
            unreadable
                .into_iter()
                .map(|what| (vec![("what", what.to_string())], 1.0))
                .collect(),
        );
        if let Some(probe) = &self.probe {
            probe_metrics(&mut w, probe);
        }
        if let Some(d) = run.duration {
            w.gauge(
                names::RUN_SECONDS,
                "Wall time of the diagnosis.",
                vec![(vec![], d.as_secs_f64())],
            );
        }
        if let Some(t) = run.last_success {
            w.gauge(
                names::LAST_SUCCESS,
                "When the last diagnosis that ran to the end finished (Unix time).",
                vec![(vec![], t)],
            );
        }
        w.finish(how)
    }

    /// `-o openmetrics` without knowledge of the run (no duration, no time of success).
    pub(super) fn openmetrics(&self) -> String {
        self.metrics(&RunMeta::default(), Exposition::OpenMetrics)
    }
}

/// The series of a run that could not diagnose: `dssc_doctor_up 0` and its duration.
/// Pushed with POST, it replaces only these families, so the last good run's findings
/// and time of success stay in the Pushgateway.
pub fn failure_metrics(
    run: &RunMeta,
    namespace: Option<&str>,
    release: Option<&str>,
    how: Exposition,
) -> String {
    let mut w = Writer::new(base_labels(run.cluster.as_deref(), namespace, release));
    w.gauge(
        names::UP,
        "1 when the diagnosis ran to the end, 0 when it could not run (the other series are then those of the last run that did).",
        vec![(vec![], 0.0)],
    );
    if let Some(d) = run.duration {
        w.gauge(
            names::RUN_SECONDS,
            "Wall time of the diagnosis.",
            vec![(vec![], d.as_secs_f64())],
        );
    }
    w.finish(how)
}

/// The probe's stages and latency, from the report's `probe` object.
fn probe_metrics(w: &mut Writer, probe: &Value) {
    let stages: Vec<(&str, &str, Option<f64>)> = probe["stages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| {
                    Some((s["name"].as_str()?, s["result"].as_str()?, s["ms"].as_f64()))
                })
                .collect()
        })
        .unwrap_or_default();
    let ok = stages.iter().all(|(_, r, _)| *r != "fail");
    w.gauge(
        names::PROBE_OK,
        "1 when no stage of the database probe failed.",
        vec![(vec![], if ok { 1.0 } else { 0.0 })],
    );
    w.gauge(
        names::PROBE_STAGE,
        "Result of each database probe stage (always 1): pass, warn, fail or skip.",
        stages
            .iter()
            .map(|(n, r, _)| {
                (
                    vec![("stage", n.to_string()), ("result", r.to_string())],
                    1.0,
                )
            })
            .collect(),
    );
    w.gauge(
        names::PROBE_STAGE_SECONDS,
        "Time each database probe stage took.",
        stages
            .iter()
            .filter_map(|(n, _, ms)| Some((vec![("stage", n.to_string())], (*ms)? / 1000.0)))
            .collect(),
    );
    let ops: Vec<(&str, &Value)> = ["select1", "tcp_connect"]
        .into_iter()
        .filter_map(|op| Some((op, probe["latency"].get(op)?)))
        .filter(|(_, s)| s["samples"].as_u64().unwrap_or(0) > 0)
        .collect();
    if ops.is_empty() {
        return;
    }
    w.header(
        names::PROBE_LATENCY,
        "Latency of the database from here: a SELECT 1 round trip (op=select1) and a fresh TCP connect (op=tcp_connect); quantile 0 is the fastest sample, 1 the slowest.",
        "summary",
    );
    let mut lines = Vec::new();
    for (op, s) in ops {
        let quantiles = [
            ("0", "min_ms"),
            ("0.5", "p50_ms"),
            ("0.95", "p95_ms"),
            ("0.99", "p99_ms"),
            ("1", "max_ms"),
        ];
        for (q, key) in quantiles {
            let v = s[key].as_f64().unwrap_or(f64::NAN) / 1000.0;
            let labels = [("op", op.to_string()), ("quantile", q.to_string())];
            lines.push(w.sample(names::PROBE_LATENCY, &labels, v));
        }
        let n = s["samples"].as_u64().unwrap_or(0) as f64;
        let count = format!("{}_count", names::PROBE_LATENCY);
        lines.push(w.sample(&count, &[("op", op.to_string())], n));
    }
    lines.iter().for_each(|l| w.out.push_str(l));
}

/// `2/2`: every container ready (and at least one).
fn all_ready(ready: &str) -> bool {
    match ready.split_once('/') {
        Some((a, b)) => a == b && b.parse::<u32>().is_ok_and(|n| n > 0),
        None => false,
    }
}

/// A sample value as both formats write it.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// Label values: backslash, double quote and newline escaped (both formats).
fn escape_label(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// HELP text: what both formats accept (no quotes or backslashes in ours; newlines
/// escaped).
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Severity;
    use crate::model::evidence::{PodRow, Skipped, SourceKind};
    use crate::model::findings::Finding;
    use crate::report::SourceInfo;

    fn finding(id: &str, severity: Severity) -> Finding {
        Finding {
            id: id.into(),
            severity,
            title: "t".into(),
            subjects: vec![],
            evidence: vec![],
            why: String::new(),
            fix: vec![],
            reference: String::new(),
            confirmed_by: vec![],
        }
    }

    fn report() -> Report {
        let mut r = Report::new(
            SourceInfo {
                kind: SourceKind::Cluster,
                origin: "x".into(),
                namespace: Some("trend\"micro".into()),
                release: Some("dssc".into()),
                scope: None,
            },
            vec![
                finding("MNT001", Severity::Error),
                finding("MNT001", Severity::Error),
                finding("LAT001", Severity::Warn),
            ],
        );
        let pod = |ready: &str| PodRow {
            namespace: "n".into(),
            name: "p".into(),
            ready: ready.into(),
            status: "Running".into(),
            restarts: 0,
            ok: true,
            in_init: false,
        };
        r.pods = vec![pod("1/1"), pod("0/1"), pod("2/2")];
        r.skipped = vec![Skipped {
            what: "secrets\nall".into(),
            why: "forbidden".into(),
        }];
        r.probe = Some(serde_json::json!({
            "stages": [
                {"name": "dns", "result": "pass", "ms": 1.5},
                {"name": "tcp", "result": "fail", "ms": 5000.0},
                {"name": "latency", "result": "skip"}
            ],
            "latency": {
                "select1": {"samples": 5, "min_ms": 1.0, "p50_ms": 2.0, "p95_ms": 3.0, "p99_ms": 4.0, "max_ms": 5.0},
                "tcp_connect": {"samples": 0, "min_ms": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
            }
        }));
        r
    }

    #[test]
    fn series_are_labelled_escaped_and_unique() {
        let run = RunMeta {
            cluster: Some("prod/eu".into()),
            duration: Some(Duration::from_millis(1500)),
            last_success: Some(1_700_000_000.0),
            failing: false,
        };
        let m = report().metrics(&run, Exposition::OpenMetrics);
        let base = r#"cluster="prod/eu",namespace="trend\"micro",release="dssc""#;
        for line in [
            format!("dssc_doctor_finding{{{base},id=\"MNT001\",severity=\"error\"}} 1"),
            format!("dssc_doctor_finding{{{base},id=\"LAT001\",severity=\"warn\"}} 1"),
            format!("dssc_doctor_findings{{{base},severity=\"error\"}} 2"),
            format!("dssc_doctor_pods{{{base}}} 3"),
            format!("dssc_doctor_pods_ready{{{base}}} 2"),
            format!("dssc_doctor_unreadable{{{base},what=\"secrets\\nall\"}} 1"),
            format!("dssc_doctor_probe_ok{{{base}}} 0"),
            format!("dssc_doctor_probe_stage{{{base},stage=\"tcp\",result=\"fail\"}} 1"),
            format!("dssc_doctor_probe_stage_duration_seconds{{{base},stage=\"tcp\"}} 5"),
            format!(
                "dssc_doctor_probe_latency_seconds{{{base},op=\"select1\",quantile=\"0.5\"}} 0.002"
            ),
            format!("dssc_doctor_probe_latency_seconds_count{{{base},op=\"select1\"}} 5"),
            format!("dssc_doctor_run_duration_seconds{{{base}}} 1.5"),
            format!("dssc_doctor_last_success_timestamp_seconds{{{base}}} 1700000000"),
        ] {
            assert!(m.lines().any(|l| l == line), "{line} missing in\n{m}");
        }
        // No latency without samples; MNT001 once although there are two findings.
        assert!(!m.contains("op=\"tcp_connect\""), "{m}");
        assert_eq!(m.matches("id=\"MNT001\"").count(), 1, "{m}");
        assert!(m.ends_with("# EOF\n"));
        // One HELP and one TYPE per family, samples contiguous.
        let mut seen = BTreeSet::new();
        let mut last = String::new();
        for l in m.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            let family = name.trim_end_matches("_count").to_string();
            if family != last {
                assert!(seen.insert(family.clone()), "{family} not contiguous");
                last = family;
            }
        }
        assert_eq!(m.matches("# HELP ").count(), m.matches("# TYPE ").count());
    }

    #[test]
    fn text_format_is_the_same_without_eof() {
        let r = report();
        let om = r.metrics(&RunMeta::default(), Exposition::OpenMetrics);
        let text = r.metrics(&RunMeta::default(), Exposition::Text);
        assert_eq!(om, format!("{text}# EOF\n"));
        assert!(!text.contains("cluster="));
    }

    #[test]
    fn failure_body_is_up_zero_only() {
        let run = RunMeta {
            cluster: Some("c".into()),
            duration: Some(Duration::from_secs(2)),
            last_success: None,
            failing: true,
        };
        let m = failure_metrics(&run, Some("ns"), None, Exposition::Text);
        assert!(
            m.contains("dssc_doctor_up{cluster=\"c\",namespace=\"ns\"} 0\n"),
            "{m}"
        );
        assert!(!m.contains("finding"));
    }

    #[test]
    fn values_and_ready_columns() {
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(0.25), "0.25");
        assert!(all_ready("3/3") && !all_ready("0/0") && !all_ready("1/2") && !all_ready(""));
    }
}
