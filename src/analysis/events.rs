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
            let (count, first, last) = occurrences(e);
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

/// How often and when an event was seen, as `kubectl describe` counts it: the first
/// time is `eventTime` (events.k8s.io/v1) else `firstTimestamp`; with a `series` the
/// count and last time are the series' (`count`/`lastTimestamp`, which events.k8s.io
/// calls `deprecatedCount`/`deprecatedLastTimestamp`, otherwise).
pub(crate) fn occurrences(e: &Event) -> (u64, Option<String>, Option<String>) {
    let first = e
        .event_time
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.to_string()));
    let (count, last) = match &e.series {
        Some(s) => (
            s.count.or(e.count),
            s.last_observed_time
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| e.last_timestamp.as_ref().map(|t| t.0.to_string())),
        ),
        None => (e.count, e.last_timestamp.as_ref().map(|t| t.0.to_string())),
    };
    let count = count.unwrap_or(1).max(1) as u64;
    (count, first.clone(), last.or(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An events.k8s.io/v1 event (eventTime + series) as core/v1 shows it: counted and
    /// timed by its series, as `kubectl describe` prints "x11 over 7m".
    #[test]
    fn series_gives_count_and_last_seen() {
        let e: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "e", "namespace": "ns"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "eventTime": "2026-12-01T10:00:00.000000Z",
            "series": {"count": 11, "lastObservedTime": "2026-12-01T10:07:00.000000Z"},
            "count": 1, "lastTimestamp": null,
        }))
        .unwrap();
        let (count, first, last) = occurrences(&e);
        assert_eq!(count, 11);
        assert!(first.unwrap().contains("10:00:00"));
        assert!(last.unwrap().contains("10:07:00"));
    }
}
