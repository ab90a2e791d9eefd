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

mod eval;
pub use eval::*;
mod describe;
pub use describe::*;
mod chart;
pub use chart::*;
mod remedy;
pub use remedy::*;
mod findings;
pub use findings::*;

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

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "trendmicro";
    const REL: &str = "deepsecurity-smartcheck";

    fn pol(yaml: &str) -> NetworkPolicy {
        let full = format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n{yaml}");
        serde_saphyr::from_str(&full).unwrap()
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
            let back: NetworkPolicy = serde_saphyr::from_str(&rule.yaml).unwrap();
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
