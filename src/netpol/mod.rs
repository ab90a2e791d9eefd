//! NetworkPolicy reasoning: may a pod open a connection to a destination?
//!
//! Kubernetes semantics for egress: policies are additive allow-lists. A pod that no
//! policy of its namespace selects for egress (policyTypes `Egress`, or an `egress`
//! section without policyTypes) may connect anywhere. Once at least one such policy
//! selects it, a connection is allowed iff some selecting policy has an egress rule
//! whose `to` (empty = anywhere) and `ports` (empty = every port) both match.
//!
//! Used before install (preflight: the cluster's policies plus the ones the chart will
//! add, [`chart_policies`]) and by diagnose to explain a NET001 `i/o timeout`:
//!
//! ```
//! use dssc_doctor::netpol::{self, Destination, PodRef, Protocol};
//! let pod = PodRef::chart_pod("trendmicro", "deepsecurity-smartcheck", "auth");
//! let dest = Destination::external("10.1.2.3".parse().unwrap(), 5432, Protocol::Tcp);
//! let v = netpol::egress(&[], &pod, &dest);
//! assert!(v.allowed && v.selecting.is_empty());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::catalogue::Catalogue;
use crate::model::findings::{FindingSet, Hit, Origin, Subject};
use crate::settings::Values;

pub type Labels = BTreeMap<String, String>;

/// The label every namespace carries with its own name (Kubernetes ≥ 1.21).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The chart's deployments that talk to the database (each has a db-init container).
pub const DB_SERVICES: &[&str] = &[
    "auth",
    "scan",
    "registryviews",
    "image-scan",
    "metrics",
    "vulnerability-scan",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The spelling of NetworkPolicy `protocol` (`TCP`, `UDP`, `SCTP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn parse(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pod whose egress is evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRef {
    pub namespace: String,
    pub labels: Labels,
    /// The namespace's labels when known (only `kubernetes.io/metadata.name` is
    /// assumed otherwise).
    pub namespace_labels: Option<Labels>,
}

impl PodRef {
    /// A pod of the chart: labels `release`, `service`, `heritage=Helm`.
    pub fn chart_pod(namespace: &str, release: &str, service: &str) -> PodRef {
        PodRef {
            namespace: namespace.to_string(),
            labels: chart_pod_labels(release, service),
            namespace_labels: None,
        }
    }

    fn label(&self) -> String {
        let l = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        format!("pods {l} in namespace {}", self.namespace)
    }
}

/// Where a connection goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// An address outside the cluster (an external database server).
    External(IpAddr),
    /// Pods of the cluster (kube-dns): matched by namespace and pod selectors, and by
    /// ipBlock when their IPs are known. `named_ports` resolves named policy ports.
    Pods {
        namespace: String,
        namespace_labels: Option<Labels>,
        labels: Labels,
        ips: Vec<IpAddr>,
        named_ports: Vec<(String, Protocol, u16)>,
    },
}

impl Peer {
    /// The cluster DNS as most distributions run it: pods `k8s-app=kube-dns` in
    /// `kube-system` with ports `dns` (UDP 53) and `dns-tcp` (TCP 53).
    pub fn kube_dns() -> Peer {
        Peer::Pods {
            namespace: "kube-system".into(),
            namespace_labels: None,
            labels: [("k8s-app".to_string(), "kube-dns".to_string())].into(),
            ips: Vec::new(),
            named_ports: vec![
                ("dns".into(), Protocol::Udp, 53),
                ("dns-tcp".into(), Protocol::Tcp, 53),
            ],
        }
    }

    fn ips(&self) -> Vec<IpAddr> {
        match self {
            Peer::External(ip) => vec![*ip],
            Peer::Pods { ips, .. } => ips.clone(),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::External(ip) => write!(f, "{ip}"),
            Peer::Pods {
                namespace, labels, ..
            } => {
                let l = labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",");
                write!(f, "pods {l} in {namespace}")
            }
        }
    }
}

/// A connection: a peer, a port and a protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub peer: Peer,
    pub port: u16,
    pub protocol: Protocol,
}

impl Destination {
    pub fn external(ip: IpAddr, port: u16, protocol: Protocol) -> Destination {
        Destination {
            peer: Peer::External(ip),
            port,
            protocol,
        }
    }

    /// Port 53 of the given DNS peer.
    pub fn dns(peer: Peer, protocol: Protocol) -> Destination {
        Destination {
            peer,
            port: 53,
            protocol,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.peer {
            Peer::External(IpAddr::V6(ip)) => write!(f, "[{ip}]:{} {}", self.port, self.protocol),
            p => write!(f, "{p}:{} {}", self.port, self.protocol),
        }
    }
}

/// The answer for one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// The policies (`namespace/name`) that select the pod for egress. When the
    /// connection is blocked, these are the policies that block it.
    pub selecting: Vec<String>,
    /// The rules that allow it (`namespace/name egress rule N`, N from 1).
    pub allowed_by: Vec<String>,
    /// When blocked: for each selecting policy, what its egress rules allow.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// The policies that block the connection (none when allowed).
    pub fn blocking(&self) -> &[String] {
        if self.allowed {
            &[]
        } else {
            &self.selecting
        }
    }
}

/// Whether a label selector matches a set of labels: every `matchLabels` entry and
/// every `matchExpressions` requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`).
/// An empty selector matches everything; an unknown operator matches nothing.
pub fn selector_matches(sel: &LabelSelector, labels: &Labels) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|r| {
        let values = r.values.as_deref().unwrap_or(&[]);
        let got = labels.get(&r.key);
        match r.operator.as_str() {
            "In" => got.is_some_and(|g| values.contains(g)),
            "NotIn" => got.is_none_or(|g| !values.contains(g)),
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// Whether a policy restricts egress: policyTypes names Egress, or there are no
/// policyTypes and the policy has egress rules.
pub fn affects_egress(spec: &NetworkPolicySpec) -> bool {
    match &spec.policy_types {
        Some(t) => t.iter().any(|t| t == "Egress"),
        None => spec.egress.as_ref().is_some_and(|e| !e.is_empty()),
    }
}

fn policy_name(p: &NetworkPolicy) -> String {
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

/// Parses `a.b.c.d/n` or `x::y/n`.
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = s.trim().split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, len)) = parse_cidr(cidr) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Whether an ipBlock covers the address: inside `cidr` and outside every `except`.
pub fn ip_block_contains(b: &IPBlock, ip: IpAddr) -> bool {
    cidr_contains(&b.cidr, ip) && !b.except.iter().flatten().any(|e| cidr_contains(e, ip))
}

fn ns_labels(namespace: &str, known: &Option<Labels>) -> Labels {
    let mut l = known.clone().unwrap_or_default();
    l.entry(NAMESPACE_NAME_LABEL.to_string())
        .or_insert_with(|| namespace.to_string());
    l
}

fn peer_matches(peer: &NetworkPolicyPeer, policy_ns: &str, dest: &Peer) -> bool {
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

fn port_matches(p: &NetworkPolicyPort, dest: &Destination) -> bool {
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

/// One egress rule in words: `TCP 53, UDP 53 to anywhere`.
pub fn describe_rule(r: &NetworkPolicyEgressRule) -> String {
    let ports = match r.ports.as_deref() {
        None | Some([]) => "every port".to_string(),
        Some(ps) => ps
            .iter()
            .map(|p| {
                let proto = p.protocol.as_deref().unwrap_or("TCP");
                match (&p.port, p.end_port) {
                    (None, _) => format!("{proto} any port"),
                    (Some(IntOrString::Int(n)), Some(e)) => format!("{proto} {n}-{e}"),
                    (Some(IntOrString::Int(n)), None) => format!("{proto} {n}"),
                    (Some(IntOrString::String(s)), _) => format!("{proto} port named {s}"),
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    let to = match r.to.as_deref() {
        None | Some([]) => "anywhere".to_string(),
        Some(peers) => peers
            .iter()
            .map(describe_peer)
            .collect::<Vec<_>>()
            .join(" or "),
    };
    format!("{ports} to {to}")
}

fn describe_selector(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for r in s.match_expressions.iter().flatten() {
        let vals = r.values.as_deref().unwrap_or(&[]).join(",");
        parts.push(match r.operator.as_str() {
            "Exists" => r.key.clone(),
            "DoesNotExist" => format!("!{}", r.key),
            op => format!("{} {} ({vals})", r.key, op.to_lowercase()),
        });
    }
    if parts.is_empty() {
        "all".into()
    } else {
        parts.join(",")
    }
}

fn describe_peer(p: &NetworkPolicyPeer) -> String {
    if let Some(b) = &p.ip_block {
        return match b.except.as_deref() {
            Some(e) if !e.is_empty() => format!("{} except {}", b.cidr, e.join(", ")),
            _ => b.cidr.clone(),
        };
    }
    match (&p.namespace_selector, &p.pod_selector) {
        (Some(n), Some(s)) => format!(
            "pods {} in namespaces {}",
            describe_selector(s),
            describe_selector(n)
        ),
        (Some(n), None) => format!("namespaces {}", describe_selector(n)),
        (None, Some(s)) => format!("pods {}", describe_selector(s)),
        (None, None) => "nothing".into(),
    }
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

/// The labels the chart puts on a service's pods.
pub fn chart_pod_labels(release: &str, service: &str) -> Labels {
    [
        ("release", release),
        ("service", service),
        ("heritage", "Helm"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn labels_selector(labels: Labels) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    }
}

fn policy_port(port: u16, protocol: Protocol) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(port))),
        protocol: Some(protocol.as_str().to_string()),
        end_port: None,
    }
}

/// The egress part of the NetworkPolicies the chart creates for each service that
/// uses the database (`networkPolicy.enabled`, default true): DNS (TCP and UDP 53 to
/// anywhere), the database (`db.port` to anywhere when db.host is set, else to the
/// built-in `db` pods) and `networkPolicy.additionalOutboundPorts`. Ingress and
/// egress to the other Smart Check services are not modelled. Empty when the values
/// disable the policies.
pub fn chart_policies(values: &Values, namespace: &str, release: &str) -> Vec<NetworkPolicy> {
    if !values.network_policy_enabled {
        return Vec::new();
    }
    let s = values.db_settings();
    let anywhere_on = |ports: Vec<NetworkPolicyPort>| NetworkPolicyEgressRule {
        to: None,
        ports: Some(ports),
    };
    DB_SERVICES
        .iter()
        .map(|service| {
            let mut egress = vec![anywhere_on(vec![
                policy_port(53, Protocol::Tcp),
                policy_port(53, Protocol::Udp),
            ])];
            if s.external {
                egress.push(anywhere_on(vec![policy_port(s.port, Protocol::Tcp)]));
            } else {
                egress.push(NetworkPolicyEgressRule {
                    to: Some(vec![NetworkPolicyPeer {
                        pod_selector: Some(labels_selector(chart_pod_labels(release, "db"))),
                        ..Default::default()
                    }]),
                    ports: Some(vec![policy_port(s.port, Protocol::Tcp)]),
                });
            }
            for p in &values.additional_outbound_ports {
                egress.push(anywhere_on(vec![policy_port(*p, Protocol::Tcp)]));
            }
            NetworkPolicy {
                metadata: ObjectMeta {
                    name: Some(service.to_string()),
                    namespace: Some(namespace.to_string()),
                    labels: Some(chart_pod_labels(release, service)),
                    ..Default::default()
                },
                spec: Some(NetworkPolicySpec {
                    pod_selector: Some(labels_selector(chart_pod_labels(release, service))),
                    policy_types: Some(vec!["Egress".into()]),
                    egress: Some(egress),
                    ingress: None,
                }),
            }
        })
        .collect()
}

/// A NetworkPolicy that would allow a blocked connection, as an object, as YAML and as
/// commands that apply it.
#[derive(Clone, Debug)]
pub struct AllowRule {
    pub policy: NetworkPolicy,
    pub yaml: String,
    /// `kubectl apply -n NS -f - <<'EOF'` … `EOF` (several lines).
    pub apply: String,
    /// The same in one line (`echo '<json>' | kubectl apply -n NS -f -`), for places
    /// that take one command a line.
    pub apply_one_line: String,
}

fn allow_rule(policy: NetworkPolicy, namespace: &str) -> AllowRule {
    let yaml = serde_yaml::to_string(&policy).unwrap_or_default();
    let json = serde_json::to_string(&policy).unwrap_or_default();
    AllowRule {
        apply: format!("kubectl apply -n {namespace} -f - <<'EOF'\n{yaml}EOF"),
        apply_one_line: format!("echo '{json}' | kubectl apply -n {namespace} -f -"),
        yaml,
        policy,
    }
}

fn allow_policy(
    name: String,
    namespace: &str,
    release: &str,
    to: Option<Vec<NetworkPolicyPeer>>,
    ports: Vec<NetworkPolicyPort>,
) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(labels_selector(
                [("release".to_string(), release.to_string())].into(),
            )),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to,
                ports: Some(ports),
            }]),
            ingress: None,
        }),
    }
}

fn peer_for(peer: &Peer) -> Vec<NetworkPolicyPeer> {
    match peer {
        Peer::External(ip) => vec![NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: match ip {
                    IpAddr::V4(_) => format!("{ip}/32"),
                    IpAddr::V6(_) => format!("{ip}/128"),
                },
                except: None,
            }),
            ..Default::default()
        }],
        Peer::Pods {
            namespace, labels, ..
        } => vec![NetworkPolicyPeer {
            namespace_selector: Some(labels_selector(
                [(NAMESPACE_NAME_LABEL.to_string(), namespace.clone())].into(),
            )),
            pod_selector: Some(labels_selector(labels.clone())),
            ip_block: None,
        }],
    }
}

/// The policy that allows the release's pods (`release: <release>`) to reach `dest`:
/// `<ip>/32` (or `/128`) on its port and protocol for an external address.
pub fn allow_egress(namespace: &str, release: &str, dest: &Destination) -> AllowRule {
    let name = match dest.peer {
        Peer::External(_) => format!("{release}-allow-db-egress"),
        Peer::Pods { .. } => format!("{release}-allow-egress-{}", dest.port),
    };
    allow_rule(
        allow_policy(
            name,
            namespace,
            release,
            Some(peer_for(&dest.peer)),
            vec![policy_port(dest.port, dest.protocol)],
        ),
        namespace,
    )
}

/// The policy that allows the release's pods DNS (UDP and TCP 53) to `dns`.
pub fn allow_dns(namespace: &str, release: &str, dns: &Peer) -> AllowRule {
    allow_rule(
        allow_policy(
            format!("{release}-allow-dns-egress"),
            namespace,
            release,
            Some(peer_for(dns)),
            vec![
                policy_port(53, Protocol::Udp),
                policy_port(53, Protocol::Tcp),
            ],
        ),
        namespace,
    )
}

/// A finding raised by the network reasoning (`checks/netpol.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetIssue {
    pub id: &'static str,
    /// What is affected, e.g. `pods release=…,service=auth in namespace trendmicro`.
    pub subject: String,
    pub evidence: String,
    pub captures: Vec<(String, String)>,
    /// The policy that would allow the connection (its YAML for a report).
    pub allow: AllowRuleText,
}

/// The allow rule's texts, kept with the issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowRuleText {
    pub yaml: String,
    pub apply: String,
}

impl NetIssue {
    pub fn capture(&self, name: &str) -> Option<&str> {
        self.captures
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// NET004 when the policies block `pod` from the database at `ip:port` (TCP).
pub fn check_db_egress(
    policies: &[NetworkPolicy],
    pod: &PodRef,
    release: &str,
    ip: IpAddr,
    port: u16,
) -> Option<NetIssue> {
    let dest = Destination::external(ip, port, Protocol::Tcp);
    let v = egress(policies, pod, &dest);
    if v.allowed {
        return None;
    }
    let allow = allow_egress(&pod.namespace, release, &dest);
    let policies = v.blocking().join(", ");
    Some(NetIssue {
        id: "NET004",
        subject: pod.label(),
        evidence: format!(
            "egress from {} to {dest} is blocked: {}",
            pod.label(),
            v.reasons.join("; ")
        ),
        captures: vec![
            ("policies".into(), policies),
            ("dbaddr".into(), ip.to_string()),
            ("dbport".into(), port.to_string()),
            ("allow_cmd".into(), allow.apply_one_line.clone()),
        ],
        allow: AllowRuleText {
            yaml: allow.yaml,
            apply: allow.apply,
        },
    })
}

/// NET005 when the policies block DNS (UDP or TCP 53) from `pod` to `dns`.
pub fn check_dns(
    policies: &[NetworkPolicy],
    pod: &PodRef,
    release: &str,
    dns_peer: &Peer,
) -> Option<NetIssue> {
    let v = dns(policies, pod, dns_peer);
    if v.allowed() {
        return None;
    }
    let blocked: Vec<&str> = [("UDP", &v.udp), ("TCP", &v.tcp)]
        .into_iter()
        .filter(|(_, x)| !x.allowed)
        .map(|(p, _)| p)
        .collect();
    let mut names: Vec<String> = v.udp.blocking().to_vec();
    for n in v.tcp.blocking() {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let reasons = if v.udp.allowed {
        &v.tcp.reasons
    } else {
        &v.udp.reasons
    };
    let allow = allow_dns(&pod.namespace, release, dns_peer);
    Some(NetIssue {
        id: "NET005",
        subject: pod.label(),
        evidence: format!(
            "DNS ({} 53) from {} to {dns_peer} is blocked: {}",
            blocked.join(" and "),
            pod.label(),
            reasons.join("; ")
        ),
        captures: vec![
            ("policies".into(), names.join(", ")),
            ("dns".into(), dns_peer.to_string()),
            ("allow_cmd".into(), allow.apply_one_line.clone()),
        ],
        allow: AllowRuleText {
            yaml: allow.yaml,
            apply: allow.apply,
        },
    })
}

/// Adds network issues to a finding set. `origin` is where the policies came from
/// (`Cluster` for live or bundle policies); `subject` overrides the issue's own (e.g.
/// the pod that logged the i/o timeout).
pub fn add_findings(
    cat: &Catalogue,
    set: &mut FindingSet,
    issues: &[NetIssue],
    origin: Origin,
    subject: Option<Subject>,
    context: &BTreeMap<String, String>,
) {
    for i in issues {
        let Some(rule) = cat.index_of(i.id) else {
            continue;
        };
        let subject = subject
            .clone()
            .unwrap_or_else(|| Subject::Other(i.subject.clone()));
        set.add(Hit::single(
            rule,
            i.captures.clone(),
            Some(subject),
            origin,
            i.evidence.clone(),
            context.clone(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "trendmicro";
    const REL: &str = "deepsecurity-smartcheck";

    fn pol(yaml: &str) -> NetworkPolicy {
        let full = format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n{yaml}");
        serde_yaml::from_str(&full).unwrap()
    }

    fn default_deny() -> NetworkPolicy {
        pol(
            "metadata: {name: default-deny-egress, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  policyTypes: [Egress]\n",
        )
    }

    fn auth() -> PodRef {
        PodRef::chart_pod(NS, REL, "auth")
    }

    fn db(ip: &str) -> Destination {
        Destination::external(ip.parse().unwrap(), 5432, Protocol::Tcp)
    }

    #[test]
    fn no_policy_means_unrestricted() {
        let v = egress(&[], &auth(), &db("10.1.2.3"));
        assert!(v.allowed);
        assert!(v.selecting.is_empty() && v.blocking().is_empty());
    }

    #[test]
    fn default_deny_blocks_the_database_and_names_the_policy() {
        let v = egress(&[default_deny()], &auth(), &db("10.1.2.3"));
        assert!(!v.allowed);
        assert_eq!(v.blocking(), ["trendmicro/default-deny-egress"]);
        assert_eq!(
            v.reasons,
            ["trendmicro/default-deny-egress allows no egress at all"]
        );
        let issue = check_db_egress(
            &[default_deny()],
            &auth(),
            REL,
            "10.1.2.3".parse().unwrap(),
            5432,
        )
        .unwrap();
        assert_eq!(issue.id, "NET004");
        assert_eq!(
            issue.capture("policies"),
            Some("trendmicro/default-deny-egress")
        );
        assert!(
            issue.evidence.contains("to 10.1.2.3:5432 TCP is blocked"),
            "{}",
            issue.evidence
        );
        assert!(
            issue.allow.yaml.contains("cidr: 10.1.2.3/32"),
            "{}",
            issue.allow.yaml
        );
        assert!(issue
            .allow
            .apply
            .starts_with("kubectl apply -n trendmicro -f - <<'EOF'\n"));
        assert!(issue.allow.apply.ends_with("\nEOF"));
    }

    #[test]
    fn an_extra_policy_allows() {
        let allow = pol("metadata: {name: allow-db, namespace: trendmicro}\n\
             spec:\n  podSelector: {matchLabels: {release: deepsecurity-smartcheck}}\n  \
             policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8}}]\n    \
             ports: [{port: 5432}]\n");
        let ps = [default_deny(), allow];
        let v = egress(&ps, &auth(), &db("10.1.2.3"));
        assert!(v.allowed, "{v:?}");
        assert_eq!(v.allowed_by, ["trendmicro/allow-db egress rule 1"]);
        assert_eq!(v.selecting.len(), 2);
        // Another port, another protocol or an address outside the block: still denied.
        assert!(
            !egress(
                &ps,
                &auth(),
                &Destination::external("10.1.2.3".parse().unwrap(), 5433, Protocol::Tcp)
            )
            .allowed
        );
        assert!(
            !egress(
                &ps,
                &auth(),
                &Destination::external("10.1.2.3".parse().unwrap(), 5432, Protocol::Udp)
            )
            .allowed
        );
        let v = egress(&ps, &auth(), &db("192.168.1.1"));
        assert!(!v.allowed);
        assert!(
            v.reasons
                .contains(&"trendmicro/allow-db allows only TCP 5432 to 10.0.0.0/8".to_string()),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn the_suggested_allow_rule_works() {
        for ip in ["10.1.2.3", "fd00::12"] {
            let dest = db(ip);
            let rule = allow_egress(NS, REL, &dest);
            // The YAML is a complete object that parses back.
            let back: NetworkPolicy = serde_yaml::from_str(&rule.yaml).unwrap();
            assert_eq!(back, rule.policy);
            assert!(
                rule.yaml
                    .starts_with("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"),
                "{}",
                rule.yaml
            );
            assert!(rule.yaml.contains("release: deepsecurity-smartcheck"));
            assert!(rule
                .apply_one_line
                .starts_with("echo '{\"apiVersion\":\"networking.k8s.io/v1\""));
            assert!(rule
                .apply_one_line
                .ends_with("' | kubectl apply -n trendmicro -f -"));
            assert!(!rule.apply_one_line.contains('\n'));
            let v = egress(&[default_deny(), back], &auth(), &dest);
            assert!(v.allowed, "{ip}");
        }
        assert!(allow_egress(NS, REL, &db("fd00::12"))
            .yaml
            .contains("cidr: fd00::12/128"));
    }

    #[test]
    fn dns_blocked_and_allowed() {
        let dns_peer = Peer::kube_dns();
        let v = dns(&[default_deny()], &auth(), &dns_peer);
        assert!(!v.allowed());
        let issue = check_dns(&[default_deny()], &auth(), REL, &dns_peer).unwrap();
        assert_eq!(issue.id, "NET005");
        assert_eq!(
            issue.capture("policies"),
            Some("trendmicro/default-deny-egress")
        );
        assert!(
            issue
                .evidence
                .starts_with("DNS (UDP and TCP 53) from pods "),
            "{}",
            issue.evidence
        );
        // The suggested rule allows both protocols to kube-dns.
        let rule = allow_dns(NS, REL, &dns_peer);
        assert!(
            rule.yaml
                .contains("kubernetes.io/metadata.name: kube-system"),
            "{}",
            rule.yaml
        );
        assert!(dns(&[default_deny(), rule.policy], &auth(), &dns_peer).allowed());
        // Named ports resolve on the DNS pods; only UDP is allowed here.
        let udp_only = pol("metadata: {name: dns-udp, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  \
             - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n      \
             podSelector: {matchLabels: {k8s-app: kube-dns}}\n    ports: [{port: dns, protocol: UDP}]\n");
        let v = dns(&[default_deny(), udp_only.clone()], &auth(), &dns_peer);
        assert!(v.udp.allowed && !v.tcp.allowed);
        let issue = check_dns(&[default_deny(), udp_only], &auth(), REL, &dns_peer).unwrap();
        assert!(
            issue.evidence.starts_with("DNS (TCP 53)"),
            "{}",
            issue.evidence
        );
        // A namespace selector alone must match the namespace: kube-system, not default.
        let wrong_ns = pol("metadata: {name: dns-default, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  egress:\n  \
             - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}}]\n");
        assert!(!dns(&[wrong_ns], &auth(), &dns_peer).allowed());
        // A pod selector alone means the policy's own namespace.
        let same_ns = pol("metadata: {name: dns-local, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  egress:\n  - to: [{podSelector: {}}]\n");
        assert!(!dns(&[same_ns], &auth(), &dns_peer).allowed());
    }

    #[test]
    fn ip_block_except_v4_and_v6() {
        let p = pol("metadata: {name: egress-ranges, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  \
             - to:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}\n    \
             - ipBlock: {cidr: 'fd00::/8', except: ['fd00:1::/32']}\n");
        let ps = [p];
        assert!(egress(&ps, &auth(), &db("10.2.0.1")).allowed);
        let v = egress(&ps, &auth(), &db("10.1.2.3"));
        assert!(!v.allowed);
        assert_eq!(v.blocking(), ["trendmicro/egress-ranges"]);
        assert!(
            v.reasons[0].contains("10.0.0.0/8 except 10.1.0.0/16"),
            "{:?}",
            v.reasons
        );
        assert!(egress(&ps, &auth(), &db("fd00:2::1")).allowed);
        assert!(!egress(&ps, &auth(), &db("fd00:1::1")).allowed);
        assert!(!egress(&ps, &auth(), &db("192.168.0.1")).allowed);
        assert!(cidr_contains("0.0.0.0/0", "1.2.3.4".parse().unwrap()));
        assert!(!cidr_contains("0.0.0.0/0", "::1".parse().unwrap()));
        assert!(!cidr_contains("10.0.0.0/33", "10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn selectors_with_match_expressions() {
        let p = pol("metadata: {name: db-users-only, namespace: trendmicro}\n\
             spec:\n  podSelector:\n    matchExpressions:\n    \
             - {key: service, operator: In, values: [auth, scan]}\n    \
             - {key: release, operator: Exists}\n    \
             - {key: canary, operator: DoesNotExist}\n    \
             - {key: heritage, operator: NotIn, values: [Tiller]}\n  \
             policyTypes: [Egress]\n");
        let ps = [p];
        assert!(!egress(&ps, &auth(), &db("10.1.2.3")).allowed);
        // Not selected: unrestricted.
        let metrics = PodRef::chart_pod(NS, REL, "metrics");
        let v = egress(&ps, &metrics, &db("10.1.2.3"));
        assert!(v.allowed && v.selecting.is_empty());
        let mut canary = auth();
        canary.labels.insert("canary".into(), "1".into());
        assert!(egress(&ps, &canary, &db("10.1.2.3")).allowed);
        let mut tiller = auth();
        tiller.labels.insert("heritage".into(), "Tiller".into());
        assert!(egress(&ps, &tiller, &db("10.1.2.3")).allowed);
        // Unknown operators match nothing; empty selectors match everything.
        let sel: LabelSelector = serde_json::from_str(
            r#"{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}"#,
        )
        .unwrap();
        assert!(!selector_matches(&sel, &Labels::new()));
        assert!(selector_matches(&LabelSelector::default(), &auth().labels));
    }

    #[test]
    fn which_policies_count() {
        // Other namespaces and ingress-only policies do not restrict egress.
        let other_ns = pol("metadata: {name: deny, namespace: default}\n\
             spec:\n  podSelector: {}\n  policyTypes: [Egress]\n");
        let ingress_only = pol("metadata: {name: ingress, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n");
        let empty_egress = pol("metadata: {name: no-types, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  egress: []\n");
        let v = egress(
            &[other_ns, ingress_only, empty_egress],
            &auth(),
            &db("10.1.2.3"),
        );
        assert!(v.allowed && v.selecting.is_empty());
        // Without policyTypes an egress section means Egress; `to` absent = anywhere,
        // endPort ranges, protocol default TCP.
        let range = pol("metadata: {name: range, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  egress:\n  - ports: [{port: 5000, endPort: 6000}]\n");
        let ps = [range];
        assert!(egress(&ps, &auth(), &db("10.1.2.3")).allowed);
        assert!(
            !egress(
                &ps,
                &auth(),
                &Destination::external("10.1.2.3".parse().unwrap(), 6001, Protocol::Tcp)
            )
            .allowed
        );
        assert!(
            !egress(
                &ps,
                &auth(),
                &Destination::external("10.1.2.3".parse().unwrap(), 5432, Protocol::Udp)
            )
            .allowed
        );
        // Named ports cannot match an external address.
        let named = pol("metadata: {name: named, namespace: trendmicro}\n\
             spec:\n  podSelector: {}\n  egress:\n  - ports: [{port: postgres}]\n");
        assert!(!egress(&[named], &auth(), &db("10.1.2.3")).allowed);
    }

    #[test]
    fn chart_policies_allow_db_and_dns() {
        let values = Values::from_yaml(
            "o.yaml",
            "db:\n  host: database.example.com\n  port: 5433\n  password: p\n\
             networkPolicy:\n  additionalOutboundPorts: [443]\n",
        )
        .unwrap();
        let chart = chart_policies(&values, NS, REL);
        assert_eq!(chart.len(), DB_SERVICES.len());
        assert_eq!(chart[0].metadata.name.as_deref(), Some("auth"));
        let dest = Destination::external("10.1.2.3".parse().unwrap(), 5433, Protocol::Tcp);
        // The chart's policies are additive to a default-deny: DB, DNS and 443 pass.
        let mut ps = vec![default_deny()];
        ps.extend(chart.clone());
        let v = egress(&ps, &auth(), &dest);
        assert!(v.allowed, "{v:?}");
        assert_eq!(v.allowed_by, ["trendmicro/auth egress rule 2"]);
        assert!(dns(&ps, &auth(), &Peer::kube_dns()).allowed());
        let https = Destination::external("1.1.1.1".parse().unwrap(), 443, Protocol::Tcp);
        assert!(egress(&ps, &auth(), &https).allowed);
        // On their own they restrict: other ports are closed.
        assert!(!egress(&chart, &auth(), &db("10.1.2.3")).allowed);
        // Disabled: nothing from the chart, the default-deny blocks.
        let off = Values::from_yaml(
            "o.yaml",
            "db:\n  host: database.example.com\n  port: 5433\nnetworkPolicy:\n  enabled: false\n",
        )
        .unwrap();
        assert!(chart_policies(&off, NS, REL).is_empty());
        // Built-in database: the DB rule points at the db pods, not outside.
        let builtin = Values::from_yaml("o.yaml", "").unwrap();
        let chart = chart_policies(&builtin, NS, REL);
        let db_pods = Destination {
            peer: Peer::Pods {
                namespace: NS.into(),
                namespace_labels: None,
                labels: chart_pod_labels(REL, "db"),
                ips: vec![],
                named_ports: vec![],
            },
            port: 5432,
            protocol: Protocol::Tcp,
        };
        assert!(egress(&chart, &auth(), &db_pods).allowed);
        assert!(!egress(&chart, &auth(), &db("10.1.2.3")).allowed);
    }

    #[test]
    fn findings_render_with_the_allow_command() {
        let cat = Catalogue::builtin().unwrap();
        let mut set = FindingSet::new(&cat);
        let mut issues = Vec::new();
        for svc in ["auth", "scan"] {
            let pod = PodRef::chart_pod(NS, REL, svc);
            issues.extend(check_db_egress(
                &[default_deny()],
                &pod,
                REL,
                "10.1.2.3".parse().unwrap(),
                5432,
            ));
            issues.extend(check_dns(&[default_deny()], &pod, REL, &Peer::kube_dns()));
        }
        let ctx: BTreeMap<String, String> = [("namespace".to_string(), NS.to_string())].into();
        add_findings(&cat, &mut set, &issues, Origin::Cluster, None, &ctx);
        let f = set.finish(&BTreeMap::new());
        assert_eq!(
            f.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
            ["NET004", "NET005"]
        );
        assert_eq!(f[0].subjects.len(), 2, "one finding for both services");
        assert_eq!(
            f[0].fix[0],
            "# these policies select the pods and allow nothing to 10.1.2.3 on TCP 5432: trendmicro/default-deny-egress"
        );
        assert!(f[0].fix[1].starts_with("echo '{"), "{}", f[0].fix[1]);
        assert!(f[0].fix[2].contains("kubectl edit networkpolicy -n trendmicro"));
        assert!(f[1].fix[1].contains("kube-dns"), "{}", f[1].fix[1]);
    }
}
