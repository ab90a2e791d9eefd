//! Evaluation in three values (Yes, No, Unknown): which policies isolate a pod for
//! egress (policyTypes defaulted as the API server does), and whether one of their
//! rules allows a target (peers, ipBlock/except, ports, endPort, named ports). Unknown
//! appears only where a fact that decides the answer could not be read.

use super::*;

/// A three-valued answer (Kleene logic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    /// No if any is No, else Unknown if any is Unknown, else Yes (empty: Yes).
    pub fn all(vals: impl IntoIterator<Item = Tri>) -> Tri {
        let mut out = Tri::Yes;
        for v in vals {
            match v {
                Tri::No => return Tri::No,
                Tri::Unknown => out = Tri::Unknown,
                Tri::Yes => {}
            }
        }
        out
    }

    /// Yes if any is Yes, else Unknown if any is Unknown, else No (empty: No).
    pub fn any(vals: impl IntoIterator<Item = Tri>) -> Tri {
        let mut out = Tri::No;
        for v in vals {
            match v {
                Tri::Yes => return Tri::Yes,
                Tri::Unknown => out = Tri::Unknown,
                Tri::No => {}
            }
        }
        out
    }

    /// The word the reports and the case table use: open, blocked, cannot_tell.
    pub fn verdict(self) -> &'static str {
        match self {
            Tri::Yes => "open",
            Tri::No => "blocked",
            Tri::Unknown => "cannot_tell",
        }
    }
}

/// Labels as known: `complete` says no other label exists; otherwise a key not listed
/// may be there or not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelView {
    pub labels: Labels,
    pub complete: bool,
}

impl LabelView {
    pub fn complete(labels: Labels) -> LabelView {
        LabelView {
            labels,
            complete: true,
        }
    }

    pub fn partial(labels: Labels) -> LabelView {
        LabelView {
            labels,
            complete: false,
        }
    }
}

/// A label selector against labels known in part. An unknown operator matches
/// nothing; an empty selector matches everything.
pub fn selector3(sel: &LabelSelector, v: &LabelView) -> Tri {
    let missing = if v.complete { Tri::No } else { Tri::Unknown };
    let mut out = Vec::new();
    for (k, want) in sel.match_labels.iter().flatten() {
        out.push(match v.labels.get(k) {
            Some(have) => Tri::from_bool(have == want),
            None => missing,
        });
    }
    for r in sel.match_expressions.iter().flatten() {
        let vals = r.values.as_deref().unwrap_or(&[]);
        let have = v.labels.get(&r.key);
        out.push(match (r.operator.as_str(), have) {
            ("In", Some(h)) => Tri::from_bool(vals.contains(h)),
            ("In", None) | ("Exists", None) => missing,
            ("NotIn", Some(h)) => Tri::from_bool(!vals.contains(h)),
            ("NotIn", None) | ("DoesNotExist", None) => {
                if v.complete {
                    Tri::Yes
                } else {
                    Tri::Unknown
                }
            }
            ("Exists", Some(_)) => Tri::Yes,
            ("DoesNotExist", Some(_)) => Tri::No,
            _ => Tri::No,
        });
    }
    Tri::all(out)
}

/// Whether a label selector matches a complete set of labels (a pod's own).
pub fn selector_matches(sel: &LabelSelector, labels: &Labels) -> bool {
    selector3(sel, &LabelView::complete(labels.clone())) == Tri::Yes
}

/// The policy types as the API server stores them: `policyTypes` when it names any,
/// else (absent or an explicit `[]`) Ingress, plus Egress when there are egress rules.
/// Returns (ingress, egress).
pub fn effective_types(spec: &NetworkPolicySpec) -> (bool, bool) {
    match spec.policy_types.as_deref() {
        Some(t) if !t.is_empty() => (
            t.iter().any(|t| t == "Ingress"),
            t.iter().any(|t| t == "Egress"),
        ),
        _ => (true, spec.egress.as_ref().is_some_and(|e| !e.is_empty())),
    }
}

/// Whether a policy restricts egress (its effective types include Egress).
pub fn affects_egress(spec: &NetworkPolicySpec) -> bool {
    effective_types(spec).1
}

pub(crate) fn policy_name(p: &NetworkPolicy) -> String {
    let name = p.metadata.name.as_deref().unwrap_or("<unnamed>");
    match &p.metadata.namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

fn selects(p: &NetworkPolicy, pod: &SourcePod) -> bool {
    let ns_ok = p
        .metadata
        .namespace
        .as_deref()
        .is_none_or(|ns| ns == pod.namespace);
    ns_ok
        && p.spec.as_ref().is_some_and(|s| {
            s.pod_selector
                .as_ref()
                .is_none_or(|sel| selector_matches(sel, &pod.labels))
        })
}

/// Whether a policy isolates the pod for egress: in its namespace (a policy without
/// one counts as the pod's), selecting it, with Egress among its effective types.
pub fn isolates_egress(p: &NetworkPolicy, pod: &SourcePod) -> bool {
    selects(p, pod) && p.spec.as_ref().is_some_and(affects_egress)
}

/// Whether a policy isolates the pod for ingress.
pub fn isolates_ingress(p: &NetworkPolicy, pod: &SourcePod) -> bool {
    selects(p, pod) && p.spec.as_ref().is_some_and(|s| effective_types(s).0)
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

pub(crate) fn peer3(peer: &NetworkPolicyPeer, policy_ns: &str, t: &Target) -> Tri {
    if let Some(b) = &peer.ip_block {
        return match t.ip {
            None => Tri::Unknown,
            Some(ip) => Tri::from_bool(ip_block_contains(b, ip)),
        };
    }
    if peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
        return Tri::No;
    }
    let pod = match &t.pod {
        // Pod and namespace selectors pick pods, never an address outside the cluster.
        PodInfo::None => return Tri::No,
        PodInfo::Unknown => return Tri::Unknown,
        PodInfo::Known(p) => p,
    };
    let ns_ok = match &peer.namespace_selector {
        Some(s) => selector3(s, &pod.ns_labels),
        None => Tri::from_bool(pod.namespace == policy_ns),
    };
    let pod_ok = peer
        .pod_selector
        .as_ref()
        .map_or(Tri::Yes, |s| selector3(s, &pod.labels));
    Tri::all([ns_ok, pod_ok])
}

pub(crate) fn port3(p: &NetworkPolicyPort, t: &Target) -> Tri {
    let proto = p
        .protocol
        .as_deref()
        .map_or(Some(Protocol::Tcp), Protocol::parse);
    if proto != Some(t.protocol) {
        return Tri::No;
    }
    match &p.port {
        None => Tri::Yes,
        Some(IntOrString::Int(n)) => match t.port {
            None => Tri::Unknown,
            Some(port) => {
                let port = i32::from(port);
                Tri::from_bool(match p.end_port {
                    Some(end) => *n <= port && port <= end,
                    None => *n == port,
                })
            }
        },
        // A named port is a container port of the destination pod.
        Some(IntOrString::String(name)) => match &t.pod {
            PodInfo::None => Tri::No,
            PodInfo::Unknown => Tri::Unknown,
            PodInfo::Known(pod) => match (&pod.ports, t.port) {
                (Some(ports), Some(port)) => Tri::from_bool(
                    ports
                        .iter()
                        .any(|(n, pr, po)| n == name && *pr == t.protocol && *po == port),
                ),
                _ => Tri::Unknown,
            },
        },
    }
}

/// Whether one egress rule allows the target: its `to` (empty: anywhere) and its
/// `ports` (empty: every port).
pub fn rule3(rule: &NetworkPolicyEgressRule, policy_ns: &str, t: &Target) -> Tri {
    let to = match rule.to.as_deref() {
        None | Some([]) => Tri::Yes,
        Some(peers) => Tri::any(peers.iter().map(|p| peer3(p, policy_ns, t))),
    };
    let ports = match rule.ports.as_deref() {
        None | Some([]) => Tri::Yes,
        Some(ports) => Tri::any(ports.iter().map(|p| port3(p, t))),
    };
    Tri::all([to, ports])
}

/// The policies isolating `pod` for egress.
pub fn isolating<'p>(policies: &'p [NetworkPolicy], pod: &SourcePod) -> Vec<&'p NetworkPolicy> {
    policies
        .iter()
        .filter(|p| isolates_egress(p, pod))
        .collect()
}

fn egress_rules(p: &NetworkPolicy) -> &[NetworkPolicyEgressRule] {
    p.spec
        .as_ref()
        .and_then(|s| s.egress.as_deref())
        .unwrap_or(&[])
}

/// Whether `pod` may reach one target: Yes when nothing isolates it, else the OR of
/// every egress rule of every isolating policy. Also the rules that allow it.
pub fn allowed3(policies: &[NetworkPolicy], pod: &SourcePod, t: &Target) -> (Tri, Vec<String>) {
    let iso = isolating(policies, pod);
    if iso.is_empty() {
        return (Tri::Yes, Vec::new());
    }
    let mut vals = Vec::new();
    let mut by = Vec::new();
    for p in iso {
        let ns = p.metadata.namespace.as_deref().unwrap_or(&pod.namespace);
        for (i, r) in egress_rules(p).iter().enumerate() {
            let v = rule3(r, ns, t);
            if v == Tri::Yes {
                by.push(format!("{} egress rule {}", policy_name(p), i + 1));
            }
            vals.push(v);
        }
    }
    (Tri::any(vals), by)
}

/// The answer for one flow of one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowVerdict {
    pub value: Tri,
    /// The policies (`namespace/name`) isolating the pod for egress, sorted.
    pub isolating: Vec<String>,
    /// The rules that allow it (`namespace/name egress rule N`, N from 1).
    pub allowed_by: Vec<String>,
    /// Per target (endpoint), in the flow's order.
    pub targets: Vec<Tri>,
    /// The flow is allowed only before address translation (to the Service IP or
    /// port): whether it works depends on the network plugin.
    pub pre_only: bool,
}

/// A flow: several targets (a Service's endpoints) are all needed (one blocked is
/// blocked: lookups then fail at random); a rule that matches only the
/// pre-translation target (the Service IP and port) makes it cannot_tell.
pub fn flow3(policies: &[NetworkPolicy], pod: &SourcePod, flow: &Flow) -> FlowVerdict {
    let mut iso: Vec<String> = isolating(policies, pod)
        .into_iter()
        .map(policy_name)
        .collect();
    iso.sort();
    let mut targets = Vec::new();
    let mut allowed_by = Vec::new();
    for t in &flow.targets {
        let (v, by) = allowed3(policies, pod, t);
        targets.push(v);
        for b in by {
            if !allowed_by.contains(&b) {
                allowed_by.push(b);
            }
        }
    }
    let mut value = if targets.contains(&Tri::No) {
        Tri::No
    } else if targets.contains(&Tri::Unknown) || (targets.is_empty() && !iso.is_empty()) {
        Tri::Unknown
    } else {
        Tri::Yes
    };
    let mut pre_only = false;
    if value != Tri::Yes {
        if let Some(pre) = &flow.pre {
            if allowed3(policies, pod, pre).0 == Tri::Yes {
                value = Tri::Unknown;
                pre_only = true;
            }
        }
    }
    FlowVerdict {
        value,
        isolating: iso,
        allowed_by,
        targets,
        pre_only,
    }
}
