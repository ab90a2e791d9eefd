//! The NetworkPolicy explanation of a NET001 `i/o timeout`: which policy of the
//! namespace blocks the db-init pod's egress to the database.

use super::*;
use crate::catalogue::ids;

/// NET004/NET005: a NetworkPolicy that explains a dial timeout (NET001) or a failed
/// name lookup (NET003) seen in a pod's db-init log.
pub(crate) fn netpol_explain(
    cat: &Catalogue,
    ev: &Evidence,
    pod_ctx: &BTreeMap<(String, String), BTreeMap<String, String>>,
    set: &mut FindingSet,
) {
    if ev.network_policies.is_empty() {
        return;
    }
    let release = ev.release.clone().unwrap_or_else(|| DEFAULT_RELEASE.into());
    for log in &ev.logs {
        let (Some(ns), Some(pod)) = (&log.namespace, &log.pod) else {
            continue;
        };
        let Some(p) = ev.pods.iter().find(|p| {
            p.metadata.name.as_deref() == Some(pod.as_str())
                && p.metadata.namespace.as_deref() == Some(ns.as_str())
        }) else {
            continue;
        };
        let pod_ref = crate::netpol::PodRef {
            namespace: ns.clone(),
            labels: p.metadata.labels.clone().unwrap_or_default(),
            namespace_labels: ev
                .namespaces
                .iter()
                .find(|n| n.metadata.name.as_deref() == Some(ns.as_str()))
                .and_then(|n| n.metadata.labels.clone()),
        };
        let subject = Some(Subject::Pod {
            namespace: ns.clone(),
            name: pod.clone(),
        });
        let ctx = pod_ctx
            .get(&(ns.clone(), pod.clone()))
            .cloned()
            .unwrap_or_default();
        for h in &log.scan.hits {
            let cap = |k: &str| {
                h.captures
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.as_str())
            };
            let id = cat.rules[h.rule].id.as_str();
            let issue = if id == ids::NET001 {
                match (
                    cap("dbaddr").and_then(|a| a.parse().ok()),
                    cap("dbport").and_then(|p| p.parse().ok()),
                ) {
                    (Some(ip), Some(port)) => crate::netpol::check_db_egress(
                        &ev.network_policies,
                        &pod_ref,
                        &release,
                        ip,
                        port,
                    ),
                    _ => None,
                }
            } else if id == ids::NET003 {
                crate::netpol::check_dns(
                    &ev.network_policies,
                    &pod_ref,
                    &release,
                    &crate::netpol::Peer::kube_dns(),
                )
            } else {
                None
            };
            if let Some(i) = issue {
                crate::netpol::add_findings(cat, set, &[i], Origin::Cluster, subject.clone(), &ctx);
            }
        }
    }
}
