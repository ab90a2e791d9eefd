//! The NetworkPolicy explanation of db-init log lines: a dial timeout (NET001) the
//! policies explain (NET004), a lookup timeout (NET003) that is blocked DNS egress
//! (NET005), or one the doctor cannot decide (NET011, naming what it could not read).
//! A lookup that got an answer (`no such host`) is never put on a policy.

use super::*;
use crate::catalogue::ids;
use crate::netpol::{self, LogCause};
use std::net::IpAddr;

/// NET004/NET005/NET011 for the pods whose db-init log shows a dial or lookup timeout.
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
    // The causes, per namespace and pod.
    let mut causes: BTreeMap<String, BTreeMap<String, LogCause>> = BTreeMap::new();
    for log in &ev.logs {
        let (Some(ns), Some(pod)) = (&log.namespace, &log.pod) else {
            continue;
        };
        for h in &log.scan.hits {
            let id = cat.rules[h.rule].id.as_str();
            if id != ids::NET001.as_str() && id != ids::NET003.as_str() {
                continue;
            }
            if let Some(c) = LogCause::parse(&h.text) {
                causes
                    .entry(ns.clone())
                    .or_default()
                    .entry(pod.clone())
                    .or_insert(c);
            }
        }
    }
    let objects = netpol::Objects {
        services: &ev.services,
        endpoint_slices: &ev.endpoint_slices,
        endpoints: &ev.endpoints,
        pods: &ev.pods,
        namespaces: &ev.namespaces,
    };
    let namespaces = netpol::Namespaces::from_objects(&ev.namespaces);
    let host = ev
        .settings
        .get("host")
        .map(|s| s.value.clone())
        .unwrap_or_default();
    for (ns, by_pod) in &causes {
        let pods = netpol::release_pods(&ev.pods, ns, &release);
        let server = by_pod.values().find_map(|c| match c {
            LogCause::LookupTimeout { server, .. } => *server,
            _ => None,
        });
        let dial: Vec<(IpAddr, u16)> = by_pod
            .values()
            .filter_map(|c| match c {
                LogCause::DialTimeout { addr, port } => Some((*addr, *port)),
                _ => None,
            })
            .collect();
        let ips: Vec<IpAddr> = dial.iter().map(|(a, _)| *a).collect();
        let port = dial.first().map_or(5432, |(_, p)| *p);
        let facts = netpol::Facts {
            dns: netpol::dns_facts(&objects, &namespaces, server),
            db: Some(netpol::db_facts(&objects, &host, ips, port)),
            namespaces: namespaces.clone(),
        };
        let issues = netpol::explain(&ev.network_policies, &pods, &facts, by_pod, ns, &release);
        for i in issues {
            for pod in &i.pods {
                let subject = Some(Subject::Pod {
                    namespace: ns.clone(),
                    name: pod.clone(),
                });
                let ctx = pod_ctx
                    .get(&(ns.clone(), pod.clone()))
                    .cloned()
                    .unwrap_or_default();
                netpol::add_findings(
                    cat,
                    set,
                    std::slice::from_ref(&i),
                    Origin::Cluster,
                    subject,
                    &ctx,
                );
            }
        }
    }
}
