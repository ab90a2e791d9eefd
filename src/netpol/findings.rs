//! The findings of the network reasoning (`checks/netpol.toml`): egress to the
//! database (NET004) and DNS (NET005), naming the blocking policies and the remedy.

use super::*;
use crate::catalogue::{ids, RuleId};

/// A finding raised by the network reasoning (`checks/netpol.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetIssue {
    pub id: RuleId,
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
        id: ids::NET004,
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
        id: ids::NET005,
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
        let Some(rule) = cat.index_of(i.id.as_str()) else {
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
