//! Evaluation: which policies select a pod for egress, and whether one of their rules
//! allows a destination (peers, ipBlock/except, ports and endPort); DNS on UDP and TCP.

use super::*;
use kube::core::SelectorExt;

/// Whether a label selector matches a set of labels: every `matchLabels` entry and
/// every `matchExpressions` requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`).
/// An empty selector matches everything; an unknown operator matches nothing.
pub fn selector_matches(sel: &LabelSelector, labels: &Labels) -> bool {
    kube::core::Selector::try_from(sel.clone()).is_ok_and(|s| s.matches(labels))
}

/// Whether a policy restricts egress: policyTypes names Egress, or there are no
/// policyTypes and the policy has egress rules.
pub fn affects_egress(spec: &NetworkPolicySpec) -> bool {
    match &spec.policy_types {
        Some(t) => t.iter().any(|t| t == "Egress"),
        None => spec.egress.as_ref().is_some_and(|e| !e.is_empty()),
    }
}

pub(crate) fn policy_name(p: &NetworkPolicy) -> String {
    let name = p.metadata.name.as_deref().unwrap_or("<unnamed>");
    match &p.metadata.namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// Whether a policy selects the pod for egress. A policy without a namespace (one
/// read from a file, or synthesised) is taken to be in the pod's namespace.
pub fn selects_for_egress(p: &NetworkPolicy, pod: &PodRef) -> bool {
    let Some(spec) = &p.spec else {
        return false;
    };
    let ns_ok = p
        .metadata
        .namespace
        .as_deref()
        .is_none_or(|ns| ns == pod.namespace);
    let sel_ok = spec
        .pod_selector
        .as_ref()
        .is_none_or(|s| selector_matches(s, &pod.labels));
    ns_ok && sel_ok && affects_egress(spec)
}

/// Whether `ip` is inside `cidr` (an invalid CIDR, or another address family,
/// contains nothing).
pub(crate) fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    cidr.trim()
        .parse::<ipnet::IpNet>()
        .is_ok_and(|net| net.contains(&ip))
}

/// Whether an ipBlock covers the address: inside `cidr` and outside every `except`.
pub fn ip_block_contains(b: &IPBlock, ip: IpAddr) -> bool {
    cidr_contains(&b.cidr, ip) && !b.except.iter().flatten().any(|e| cidr_contains(e, ip))
}

pub(crate) fn ns_labels(namespace: &str, known: &Option<Labels>) -> Labels {
    let mut l = known.clone().unwrap_or_default();
    l.entry(NAMESPACE_NAME_LABEL.to_string())
        .or_insert_with(|| namespace.to_string());
    l
}

pub(crate) fn peer_matches(peer: &NetworkPolicyPeer, policy_ns: &str, dest: &Peer) -> bool {
    if let Some(b) = &peer.ip_block {
        let ips = dest.ips();
        return !ips.is_empty() && ips.iter().all(|ip| ip_block_contains(b, *ip));
    }
    if peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
        return false;
    }
    match dest {
        // Pod and namespace selectors pick pods, never an address outside the cluster.
        Peer::External(_) => false,
        Peer::Pods {
            namespace,
            namespace_labels,
            labels,
            ..
        } => {
            let ns_ok = match &peer.namespace_selector {
                Some(s) => selector_matches(s, &ns_labels(namespace, namespace_labels)),
                None => namespace == policy_ns,
            };
            let pod_ok = peer
                .pod_selector
                .as_ref()
                .is_none_or(|s| selector_matches(s, labels));
            ns_ok && pod_ok
        }
    }
}

pub(crate) fn port_matches(p: &NetworkPolicyPort, dest: &Destination) -> bool {
    let proto = p
        .protocol
        .as_deref()
        .map_or(Some(Protocol::Tcp), Protocol::parse);
    if proto != Some(dest.protocol) {
        return false;
    }
    match &p.port {
        None => true,
        Some(IntOrString::Int(n)) => {
            let port = i32::from(dest.port);
            match p.end_port {
                Some(end) => *n <= port && port <= end,
                None => *n == port,
            }
        }
        // Named ports resolve against the destination pod's container ports; an
        // address outside the cluster has none.
        Some(IntOrString::String(name)) => match &dest.peer {
            Peer::External(_) => false,
            Peer::Pods { named_ports, .. } => named_ports
                .iter()
                .any(|(n, pr, po)| n == name && *pr == dest.protocol && *po == dest.port),
        },
    }
}

/// Whether one egress rule allows the destination.
pub fn rule_allows(rule: &NetworkPolicyEgressRule, policy_ns: &str, dest: &Destination) -> bool {
    let to_ok = match rule.to.as_deref() {
        None | Some([]) => true,
        Some(peers) => peers.iter().any(|p| peer_matches(p, policy_ns, &dest.peer)),
    };
    let ports_ok = match rule.ports.as_deref() {
        None | Some([]) => true,
        Some(ports) => ports.iter().any(|p| port_matches(p, dest)),
    };
    to_ok && ports_ok
}

/// Whether `pod` may connect to `dest` under `policies` (every policy read; those of
/// other namespaces or not selecting the pod are ignored).
pub fn egress(policies: &[NetworkPolicy], pod: &PodRef, dest: &Destination) -> Verdict {
    let mut v = Verdict {
        allowed: true,
        selecting: Vec::new(),
        allowed_by: Vec::new(),
        reasons: Vec::new(),
    };
    for p in policies.iter().filter(|p| selects_for_egress(p, pod)) {
        let name = policy_name(p);
        let ns = p.metadata.namespace.as_deref().unwrap_or(&pod.namespace);
        let rules = p
            .spec
            .as_ref()
            .and_then(|s| s.egress.as_deref())
            .unwrap_or(&[]);
        for (i, r) in rules.iter().enumerate() {
            if rule_allows(r, ns, dest) {
                v.allowed_by.push(format!("{name} egress rule {}", i + 1));
            }
        }
        v.reasons.push(if rules.is_empty() {
            format!("{name} allows no egress at all")
        } else {
            format!(
                "{name} allows only {}",
                rules
                    .iter()
                    .map(describe_rule)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        });
        v.selecting.push(name);
    }
    v.allowed = v.selecting.is_empty() || !v.allowed_by.is_empty();
    if v.allowed {
        v.reasons.clear();
    }
    v
}

/// DNS from the pod: UDP and TCP port 53 to the cluster DNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsVerdict {
    pub udp: Verdict,
    pub tcp: Verdict,
}

impl DnsVerdict {
    /// Lookups work only with UDP; TCP is needed for large answers.
    pub fn allowed(&self) -> bool {
        self.udp.allowed && self.tcp.allowed
    }
}

/// Whether DNS (UDP and TCP 53) to `dns` (usually [`Peer::kube_dns`]) is allowed.
pub fn dns(policies: &[NetworkPolicy], pod: &PodRef, dns: &Peer) -> DnsVerdict {
    DnsVerdict {
        udp: egress(policies, pod, &Destination::dns(dns.clone(), Protocol::Udp)),
        tcp: egress(policies, pod, &Destination::dns(dns.clone(), Protocol::Tcp)),
    }
}
