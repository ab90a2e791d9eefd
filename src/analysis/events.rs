//! Event rules: the pods' events matched against the catalogue's event patterns.

use super::*;

/// Every event through the event rules.
pub(crate) fn add(cx: &Context, set: &mut FindingSet) {
    for e in &cx.ev.events {
        event_hits(cx.cat, e, &cx.known_pods, &cx.pod_ctx, set);
    }
}

pub(crate) fn event_hits(
    cat: &Catalogue,
    e: &Event,
    known_pods: &BTreeSet<(String, String)>,
    pod_ctx: &BTreeMap<(String, String), BTreeMap<String, String>>,
    set: &mut FindingSet,
) {
    let obj = &e.involved_object;
    if obj.kind.as_deref() != Some("Pod") {
        return;
    }
    let ns = obj
        .namespace
        .clone()
        .or_else(|| e.metadata.namespace.clone())
        .unwrap_or_default();
    let name = obj.name.clone().unwrap_or_default();
    // Events of pods that no longer exist describe an earlier attempt.
    if !known_pods.is_empty() && !known_pods.contains(&(ns.clone(), name.clone())) {
        return;
    }
    let Some(msg) = e.message.as_deref() else {
        return;
    };
    let reason = e.reason.as_deref().unwrap_or("");
    for (ri, rule) in cat.rules.iter().enumerate() {
        for m in &rule.matchers {
            if m.source != Source::Event || m.reason.as_deref().is_some_and(|r| r != reason) {
                continue;
            }
            let Some(caps) = m.regex.captures(msg) else {
                continue;
            };
            let captures = m
                .regex
                .capture_names()
                .flatten()
                .filter_map(|n| {
                    caps.name(n)
                        .map(|v| (n.to_string(), v.as_str().to_string()))
                })
                .collect();
            let count = e
                .series
                .as_ref()
                .and_then(|s| s.count)
                .or(e.count)
                .unwrap_or(1)
                .max(1) as u64;
            let first = e
                .first_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()));
            let last = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| first.clone());
            set.add(Hit {
                rule: ri,
                captures,
                subject: Some(Subject::Pod {
                    namespace: ns.clone(),
                    name: name.clone(),
                }),
                evidence: findings::Evidence {
                    source: Origin::Event,
                    text: format!("{reason}: {msg}"),
                    count,
                    first_seen: first,
                    last_seen: last,
                    seen_on: vec![format!("{ns}/{name}")],
                },
                context: pod_ctx
                    .get(&(ns.clone(), name.clone()))
                    .cloned()
                    .unwrap_or_default(),
            });
            break;
        }
    }
}
