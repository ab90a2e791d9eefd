//! The check pipeline: evidence in, findings out. Event and log rules come from the
//! catalogue; the checks that need reasoning (stuck pods nothing explains, restart
//! loops, unreadable evidence) are code here. The order follows the vendor's guide:
//! a pod's events first, its db-init log when no event explains it.

pub mod scan;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Event;

use crate::catalogue::{Catalogue, Severity, Source};
use crate::model::evidence::{pod_row, Evidence, PodRow};
use crate::model::findings::{self, Finding, FindingSet, Hit, Origin, Subject};
use crate::probe::{self, ProbeResult};
use crate::report::{Report, SourceInfo};
use crate::settings::pod_env::{self, CHART, DEFAULT_RELEASE};

mod drift;
use drift::*;
mod network;
use network::*;
mod ca;
use ca::*;
mod probe_merge;
pub use probe_merge::*;
mod events;
use crate::catalogue::ids;
use events::*;

/// What the pipeline concluded.
pub struct Outcome {
    pub pods: Vec<PodRow>,
    pub findings: Vec<Finding>,
}

/// Restarts at or above this count make a container "restarting".
const RESTART_WARN: i32 = 3;

/// Runs every check over the evidence.
pub fn run(cat: &Catalogue, ev: &Evidence) -> Outcome {
    run_with_probe(cat, ev, None)
}

/// Runs every check over the evidence, with the findings of a database probe run from
/// here merged in: a probe hit that agrees with a log or event finding (same ID and
/// identifying values) confirms it instead of adding a second finding.
pub fn run_with_probe(cat: &Catalogue, ev: &Evidence, probe: Option<&ProbeResult>) -> Outcome {
    let mut set = FindingSet::new(cat);
    let mut dssc = ev.dssc_pods();
    // As `kubectl get pods` lists them, whatever order the source gave.
    dssc.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    let pods: Vec<PodRow> = dssc.iter().map(|p| pod_row(p)).collect();
    let pod_ctx: BTreeMap<(String, String), BTreeMap<String, String>> = ev
        .pods
        .iter()
        .map(|p| {
            (
                (
                    p.metadata.namespace.clone().unwrap_or_default(),
                    p.metadata.name.clone().unwrap_or_default(),
                ),
                ca_context(ev, pod_env::pod_context(p)),
            )
        })
        .collect();
    let known_pods: BTreeSet<(String, String)> = pod_ctx.keys().cloned().collect();

    // 1. Events.
    for e in &ev.events {
        event_hits(cat, e, &known_pods, &pod_ctx, &mut set);
    }

    // 2. Logs: plain logs always; a pod's logs when no event already explains it.
    let explained_by_events: BTreeSet<(String, String)> = known_pods
        .iter()
        .filter(|(ns, name)| set.explains_pod(ns, name, Severity::Error))
        .cloned()
        .collect();
    for log in &ev.logs {
        let (ns, pod) = (
            log.namespace.clone().unwrap_or_default(),
            log.pod.clone().unwrap_or_default(),
        );
        if log.pod.is_some() && explained_by_events.contains(&(ns.clone(), pod.clone())) {
            continue;
        }
        let ctx = pod_ctx
            .get(&(ns.clone(), pod.clone()))
            .cloned()
            .unwrap_or_default();
        let seen_on = match (&log.pod, &log.container) {
            (Some(p), Some(c)) => format!(
                "{}{p}/{c}{}",
                if ns.is_empty() {
                    String::new()
                } else {
                    format!("{ns}/")
                },
                if log.previous { " (previous)" } else { "" }
            ),
            _ => log.origin.clone(),
        };
        for h in &log.scan.hits {
            set.add(Hit {
                rule: h.rule,
                captures: h.captures.clone(),
                subject: log.pod.as_ref().map(|p| Subject::Pod {
                    namespace: ns.clone(),
                    name: p.clone(),
                }),
                evidence: findings::Evidence {
                    source: Origin::Log,
                    text: h.text.clone(),
                    count: h.count,
                    first_seen: h.first_ts.clone(),
                    last_seen: h.last_ts.clone(),
                    seen_on: vec![seen_on.clone()],
                },
                context: ctx.clone(),
            });
        }
    }

    config_drift(ev, &mut set);
    netpol_explain(cat, ev, &pod_ctx, &mut set);

    // 3. The database probe, run from here.
    if let Some(res) = probe {
        add_probe(cat, &mut set, res);
    }

    // 4. Code checks on pod state.
    for (p, row) in dssc.iter().zip(&pods) {
        let ns = row.namespace.clone();
        let ctx = pod_env::pod_context(p);
        if row.in_init && !row.ok && !set.explains_pod(&ns, &row.name, Severity::Warn) {
            set.add_code(
                ids::POD001,
                Some(Subject::Pod {
                    namespace: ns.clone(),
                    name: row.name.clone(),
                }),
                Origin::Cluster,
                format!("{} {} {}", row.name, row.ready, row.status),
                ctx.clone(),
                Vec::new(),
            );
        }
        for cs in p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .into_iter()
            .flatten()
        {
            let waiting = cs
                .state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref());
            if (waiting == Some("CrashLoopBackOff") || cs.restart_count >= RESTART_WARN)
                && !set.explains_pod(&ns, &row.name, Severity::Error)
            {
                let mut c = ctx.clone();
                c.insert("container".into(), cs.name.clone());
                set.add_code(
                    ids::POD002,
                    Some(Subject::Pod {
                        namespace: ns.clone(),
                        name: row.name.clone(),
                    }),
                    Origin::Cluster,
                    format!(
                        "container {} of {}: {} restarts{}",
                        cs.name,
                        row.name,
                        cs.restart_count,
                        waiting.map(|w| format!(", {w}")).unwrap_or_default()
                    ),
                    c,
                    Vec::new(),
                );
            }
        }
    }
    for s in &ev.skipped {
        set.add_code(
            ids::DOC001,
            Some(Subject::Other(s.what.clone())),
            Origin::Collector,
            format!("{}: {}", s.what, s.why),
            BTreeMap::new(),
            Vec::new(),
        );
    }
    if dssc.is_empty() && ev.logs.iter().all(|l| l.pod.is_some()) {
        set.add_code(
            ids::DOC002,
            None,
            Origin::Collector,
            format!(
                "{} pods read, none with a db-init init container{}",
                ev.pods.len(),
                ev.release
                    .as_ref()
                    .map(|r| format!(" or label release={r}"))
                    .unwrap_or_default()
            ),
            BTreeMap::new(),
            Vec::new(),
        );
    }

    let findings = set.finish(&defaults(ev));
    Outcome { pods, findings }
}

/// Context values every finding may use, from the evidence as a whole.
fn defaults(ev: &Evidence) -> BTreeMap<String, String> {
    let mut d = BTreeMap::new();
    d.insert(
        "release".into(),
        ev.release.clone().unwrap_or_else(|| DEFAULT_RELEASE.into()),
    );
    d.insert("chart".into(), CHART.into());
    if let Some(ns) = &ev.namespace {
        d.insert("namespace".into(), ns.clone());
    }
    for (k, s) in &ev.settings {
        let name = match k.as_str() {
            "sslmode" | "host" | "port" | "user" | "ca_kind" | "ca_name" | "ca_key" => k.as_str(),
            _ => continue,
        };
        d.insert(name.into(), s.value.clone());
    }
    if let Some(k) = ev.setting("ca_kind") {
        d.insert("ca_create".into(), create_kind(k).into());
    }
    d
}

/// Runs the checks and assembles the report.
pub fn build_report(cat: &Catalogue, ev: &Evidence) -> Report {
    build_report_with_probe(cat, ev, None)
}

/// Runs the checks with a probe's findings merged in, and assembles the report (the
/// probe's stages as `database` check lines, its JSON as `probe`).
pub fn build_report_with_probe(
    cat: &Catalogue,
    ev: &Evidence,
    probe: Option<&ProbeResult>,
) -> Report {
    let out = run_with_probe(cat, ev, probe);
    let mut r = Report::new(
        SourceInfo {
            kind: ev.kind,
            origin: ev.origin.clone(),
            namespace: ev.namespace.clone(),
            release: ev.release.clone(),
        },
        out.findings,
    );
    r.settings = ev.settings.clone();
    r.pods = out.pods;
    r.skipped = ev.skipped.clone();
    if let Some(res) = probe {
        crate::probe::attach(&mut r, res);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MNT002's "closest existing key" was computed twice: preflight named `ca.pem` for
    /// `ca`, the diagnosis of the same cluster named none.
    #[test]
    fn closest_ca_key_is_the_one_preflight_names() {
        let mut ev = Evidence::new(crate::model::evidence::SourceKind::Bundle, "t");
        ev.configmaps.push(
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "dssc-db-trust", "namespace": "ns"},
                "data": {"ca.pem": "x", "tls.crt": "y"}
            }))
            .unwrap(),
        );
        let ctx: BTreeMap<String, String> = [
            ("ca_kind", "configmap"),
            ("ca_name", "dssc-db-trust"),
            ("ca_key", "ca"),
            ("namespace", "ns"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let ctx = ca_context(&ev, ctx);
        assert_eq!(ctx.get("closest").map(String::as_str), Some("ca.pem"));
        assert_eq!(
            crate::settings::closest_key("ca", ["ca.pem", "tls.crt"]),
            Some("ca.pem")
        );
    }
    use crate::probe::{ProbeHit, ServerFacts, SslMode, Stage, StageResult, Verify};

    fn log_hit(cat: &Catalogue, id: &str, caps: &[(&str, &str)], text: &str) -> Hit {
        Hit {
            rule: cat.index_of(id).unwrap(),
            captures: caps
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            subject: Some(Subject::Pod {
                namespace: "trendmicro".into(),
                name: "auth-1".into(),
            }),
            evidence: findings::Evidence {
                source: Origin::Log,
                text: text.into(),
                count: 1,
                first_seen: None,
                last_seen: None,
                seen_on: vec!["trendmicro/auth-1/db-init".into()],
            },
            context: BTreeMap::new(),
        }
    }

    fn result(hits: &[(&str, &[(&str, &str)])], failed: &str) -> ProbeResult {
        ProbeResult {
            host: "10.0.0.5".into(),
            port: 5432,
            user: "postgres".into(),
            database: "postgres".into(),
            sslmode: SslMode::VerifyFull,
            verify: Verify::Full,
            addresses: vec!["10.0.0.5".into()],
            stages: vec![Stage {
                name: failed.into(),
                result: StageResult::Fail,
                ok: false,
                ms: None,
                detail: String::new(),
            }],
            latency: None,
            server: ServerFacts::default(),
            certificate: None,
            hits: hits
                .iter()
                .map(|(id, caps)| ProbeHit {
                    id: id.to_string(),
                    captures: caps
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    context: BTreeMap::from([
                        ("host".to_string(), "10.0.0.5".to_string()),
                        ("port".to_string(), "5432".to_string()),
                        ("user".to_string(), "postgres".to_string()),
                    ]),
                    evidence: format!("{id} seen by the probe"),
                })
                .collect(),
            total_ms: 1.0,
            notes: Vec::new(),
            ca_withheld: false,
        }
    }

    fn finish(set: FindingSet) -> Vec<Finding> {
        set.finish(&BTreeMap::from([(
            "namespace".to_string(),
            "trendmicro".to_string(),
        )]))
    }

    #[test]
    fn probe_fills_in_what_the_log_line_lacks() {
        let cat = Catalogue::builtin().unwrap();
        let mut set = FindingSet::new(&cat);
        set.add(log_hit(&cat, "AUTH001", &[], "pq: SQLSTATE 28P01"));
        add_probe(
            &cat,
            &mut set,
            &result(&[("AUTH001", &[("dbuser", "postgres")])], "connect"),
        );
        let f = finish(set);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].confirmed_by, vec![Origin::Log, Origin::Probe]);
        assert!(f[0].fix.iter().any(|l| l.contains("user=postgres")));
    }

    #[test]
    fn latency_from_here_is_information() {
        let cat = Catalogue::builtin().unwrap();
        let mut set = FindingSet::new(&cat);
        add_probe(
            &cat,
            &mut set,
            &result(
                &[("LAT001", &[("measured", "SELECT 1 p50 80.0 ms")])],
                "latency",
            ),
        );
        let f = finish(set);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("PRB003", Severity::Info)
        );
        assert!(f[0].evidence[0].text.contains("LAT001"));
    }

    /// The IDs of PRB002 were `dedup()`ed in hit order, which only drops neighbours:
    /// NET002, NET001, NET002 listed NET002 twice.
    #[test]
    fn unreachable_from_here_lists_each_id_once() {
        let cat = Catalogue::builtin().unwrap();
        let refused = [("dbaddr", "10.0.0.5"), ("dbport", "5432")];
        let mut set = FindingSet::new(&cat);
        add_probe(
            &cat,
            &mut set,
            &result(
                &[
                    ("NET002", &refused),
                    ("NET001", &refused),
                    ("NET002", &refused),
                ],
                "tcp",
            ),
        );
        let f = finish(set);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "PRB002");
        assert!(
            f[0].fix.iter().any(|l| l.ends_with("(NET002, NET001)")),
            "{:?}",
            f[0].fix
        );
    }

    #[test]
    fn unreachable_from_here_is_info_unless_the_logs_agree() {
        let cat = Catalogue::builtin().unwrap();
        let refused = [("dbaddr", "10.0.0.5"), ("dbport", "5432")];
        // No log finding: one info finding, no NET002.
        let mut set = FindingSet::new(&cat);
        add_probe(&cat, &mut set, &result(&[("NET002", &refused)], "tcp"));
        let f = finish(set);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "PRB002");
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].evidence[0].text.contains("NET002"));
        assert!(f[0]
            .fix
            .iter()
            .any(|l| l.contains("nc -vz -w 5 10.0.0.5 5432")));
        // The logs say the same: confirmed, no info finding.
        let mut set = FindingSet::new(&cat);
        set.add(log_hit(
            &cat,
            "NET002",
            &refused,
            "dial tcp 10.0.0.5:5432: connect: connection refused",
        ));
        add_probe(&cat, &mut set, &result(&[("NET002", &refused)], "tcp"));
        let f = finish(set);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "NET002");
        assert_eq!(f[0].confirmed_by, vec![Origin::Log, Origin::Probe]);
        // The logs time out to another address: still the same cause, confirmed.
        let mut set = FindingSet::new(&cat);
        set.add(log_hit(
            &cat,
            "NET001",
            &[("dbaddr", "10.9.9.9"), ("dbport", "5432")],
            "dial tcp 10.9.9.9:5432: i/o timeout",
        ));
        add_probe(
            &cat,
            &mut set,
            &result(
                &[("NET001", &[("dbaddr", "10.0.0.5"), ("dbport", "5432")])],
                "tcp",
            ),
        );
        let f = finish(set);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].confirmed_by, vec![Origin::Log, Origin::Probe]);
    }

    #[test]
    fn withheld_ca_tls001_only_confirms() {
        let cat = Catalogue::builtin().unwrap();
        let mut res = result(&[("TLS001", &[])], "certificate");
        res.ca_withheld = true;
        let mut set = FindingSet::new(&cat);
        add_probe(&cat, &mut set, &res);
        assert!(finish(set).is_empty());
        let mut set = FindingSet::new(&cat);
        set.add(log_hit(
            &cat,
            "TLS001",
            &[],
            "x509: certificate signed by unknown authority",
        ));
        add_probe(&cat, &mut set, &res);
        let f = finish(set);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].confirmed_by, vec![Origin::Log, Origin::Probe]);
        // A CA that was read: the probe's TLS001 stands on its own.
        res.ca_withheld = false;
        let mut set = FindingSet::new(&cat);
        add_probe(&cat, &mut set, &res);
        assert_eq!(finish(set)[0].id, "TLS001");
    }
}
