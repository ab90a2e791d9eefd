//! The check pipeline: evidence in, findings out, in stages that share one
//! [`Context`]: events, logs, drift, the NetworkPolicy explanation, the probe, pod
//! state, what could not be read. Event and log rules come from the catalogue; the
//! checks that need reasoning are code, one file per stage. The order follows the
//! vendor's guide: a pod's events first, its db-init log when no event explains it.

pub mod scan;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Event;

use crate::catalogue::{Catalogue, Source};
use crate::model::evidence::{Evidence, PodRow};
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
mod budget;
mod collection;
mod context;
mod events;
mod logs;
mod pods;
pub use context::Context;

/// What the pipeline concluded.
pub struct Outcome {
    pub pods: Vec<PodRow>,
    pub findings: Vec<Finding>,
}

/// Runs every check over the evidence.
pub fn run(cat: &Catalogue, ev: &Evidence) -> Outcome {
    run_with_probe(cat, ev, None)
}

/// Runs every check over the evidence, with the findings of a database probe run from
/// here merged in: a probe hit that agrees with a log or event finding (same ID and
/// identifying values) confirms it instead of adding a second finding.
pub fn run_with_probe(cat: &Catalogue, ev: &Evidence, probe: Option<&ProbeResult>) -> Outcome {
    let cx = Context::new(cat, ev);
    let mut set = FindingSet::new(cat);
    // 1. Events.
    events::add(&cx, &mut set);
    // 2. Logs: plain logs always; a pod's logs when no event already explains it.
    logs::add(&cx, &mut set);
    config_drift(ev, &mut set);
    netpol_explain(cat, ev, &cx.pod_ctx, &mut set);
    // 3. The database probe, run from here.
    if let Some(res) = probe {
        add_probe(cat, &mut set, res);
    }
    // 4. Code checks on pod state, then on what could not be read.
    pods::add(&cx, &mut set);
    collection::add(&cx, &mut set);
    let findings = set.finish(&defaults(ev, probe));
    Outcome {
        pods: cx.pods,
        findings,
    }
}

/// Context values every finding may use, from the evidence as a whole.
fn defaults(ev: &Evidence, probe: Option<&ProbeResult>) -> BTreeMap<String, String> {
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
    // The chart sets PGUSER from a Secret: the user read from it, else the one the
    // clients printed (per finding, in the log stage), else the probe's.
    if !d.contains_key("user") {
        if let Some(u) = ev.db_user.clone().or_else(|| probe.map(|p| p.user.clone())) {
            if !u.is_empty() {
                d.insert("user".into(), u);
            }
        }
    }
    budget::add_budget(ev, probe, &mut d);
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
            scope: ev.scope.clone(),
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
    use crate::catalogue::Severity;

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
