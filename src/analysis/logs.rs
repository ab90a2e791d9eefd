//! Log rules: each log's scan hits as findings on its pod (plain logs always; a pod's
//! logs only when no event already explains it, as the vendor's guide reads them).

use std::collections::BTreeSet;

use super::Context;
use crate::catalogue::Severity;
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
