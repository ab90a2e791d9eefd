//! The verdict per pod and per flow (database TCP, DNS UDP, DNS TCP) for a set of
//! pods under a set of policies.

use super::*;

/// One pod's flows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodAssessment {
    pub pod: SourcePod,
    /// Per database address (empty when the database is not evaluated).
    pub db: Vec<(IpAddr, FlowVerdict)>,
    pub dns_udp: FlowVerdict,
    pub dns_tcp: FlowVerdict,
    /// The policies isolating the pod for egress (`namespace/name`, sorted).
    pub isolating: Vec<String>,
    pub ingress_isolated: bool,
}

impl PodAssessment {
    /// The worst over the database addresses (Yes when there are none).
    pub fn db_value(&self) -> Tri {
        worst(self.db.iter().map(|(_, v)| v.value))
    }

    /// The worst of a kind's flows.
    pub fn value(&self, kind: FlowKind) -> Tri {
        match kind {
            FlowKind::Db => self.db_value(),
            FlowKind::Dns => worst([self.dns_udp.value, self.dns_tcp.value]),
        }
    }

    /// Whether any flow cannot be told.
    pub fn any_unknown(&self) -> bool {
        [self.db_value(), self.dns_udp.value, self.dns_tcp.value].contains(&Tri::Unknown)
    }
}

/// Blocked if any is, else cannot_tell if any is, else open.
pub fn worst(vals: impl IntoIterator<Item = Tri>) -> Tri {
    let vals: Vec<Tri> = vals.into_iter().collect();
    if vals.contains(&Tri::No) {
        Tri::No
    } else if vals.contains(&Tri::Unknown) {
        Tri::Unknown
    } else {
        Tri::Yes
    }
}

/// Every pod's flows. `dns_server` gives, per pod name, the name server its log named
/// (diagnosis); the others are evaluated against the DNS Service.
pub fn assess(
    policies: &[NetworkPolicy],
    pods: &[SourcePod],
    facts: &Facts,
    dns_server: &BTreeMap<String, IpAddr>,
) -> Vec<PodAssessment> {
    let db_flows = facts.db_flows();
    pods.iter()
        .map(|p| {
            let server = dns_server.get(&p.name).copied();
            let mut isolating: Vec<String> = isolating(policies, p)
                .into_iter()
                .map(policy_name)
                .collect();
            isolating.sort();
            PodAssessment {
                db: db_flows
                    .iter()
                    .map(|(ip, f)| (*ip, flow3(policies, p, f)))
                    .collect(),
                dns_udp: flow3(policies, p, &facts.dns_flow(Protocol::Udp, server)),
                dns_tcp: flow3(policies, p, &facts.dns_flow(Protocol::Tcp, server)),
                isolating,
                ingress_isolated: policies.iter().any(|x| isolates_ingress(x, p)),
                pod: p.clone(),
            }
        })
        .collect()
}
