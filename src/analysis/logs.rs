//! Log rules: each log's scan hits as findings on its pod (plain logs always; a pod's
//! logs only when no event already explains it, as the vendor's guide reads them).

use std::collections::BTreeSet;

use super::Context;
use crate::catalogue::Severity;
use crate::model::evidence::{Log, LogScan};
use crate::model::findings::{self, FindingSet, Hit, Origin, Subject};

pub(crate) fn add(cx: &Context, set: &mut FindingSet) {
    let (ev, known_pods, pod_ctx) = (cx.ev, &cx.known_pods, &cx.pod_ctx);
    // 2. Logs: plain logs always; a pod's logs when no event already explains it.
    let explained_by_events: BTreeSet<(String, String)> = known_pods
        .iter()
        .filter(|(ns, name)| set.explains_pod(ns, name, Severity::Error))
        .cloned()
        .collect();
    for log in &ev.logs {
        if log.previous && same_as_current(&ev.logs, log) {
            continue;
        }
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
        // A container's logs are evidence about its pod: the current and previous
        // instance count as instances on one pod, not as two subjects.
        let seen_on = match &log.pod {
            Some(p) if ns.is_empty() => p.clone(),
            Some(p) => format!("{ns}/{p}"),
            None => log.origin.clone(),
        };
        // The user db-init logs in as, when the settings do not name it (the chart
        // takes PGUSER from a Secret) and the client printed it.
        let logged_user = (ev.setting("user").is_none() && ev.db_user.is_none())
            .then(|| {
                log.scan
                    .hits
                    .iter()
                    .find_map(|h| super::budget::user_in_text(&h.text))
            })
            .flatten();
        for h in &log.scan.hits {
            let mut context = ctx.clone();
            if let Some(u) = &logged_user {
                context.entry("user".into()).or_insert_with(|| u.clone());
            }
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
                context,
            });
        }
    }
}

/// Whether a previous log is the same instance as the current log of its container
/// (the same bytes: the kubelet serves the last terminated instance for both while the
/// container waits), so it is counted once.
pub(crate) fn same_as_current(logs: &[Log], prev: &Log) -> bool {
    logs.iter().any(|l| {
        !l.previous
            && l.namespace == prev.namespace
            && l.pod == prev.pod
            && l.container == prev.container
            && same_scan(&l.scan, &prev.scan)
            && match (&l.raw, &prev.raw) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    })
}

fn same_scan(a: &LogScan, b: &LogScan) -> bool {
    a.bytes == b.bytes
        && a.lines == b.lines
        && a.binary == b.binary
        && a.hits.len() == b.hits.len()
        && a.hits.iter().zip(&b.hits).all(|(x, y)| {
            (
                x.rule,
                &x.text,
                x.count,
                x.first_line,
                x.last_line,
                &x.first_ts,
                &x.last_ts,
            ) == (
                y.rule,
                &y.text,
                y.count,
                y.first_line,
                y.last_line,
                &y.first_ts,
                &y.last_ts,
            )
        })
}
