//! Policy rules described in one line each, for evidence and findings.

use super::*;

/// One egress rule in words: `TCP 53, UDP 53 to anywhere`.
pub fn describe_rule(r: &NetworkPolicyEgressRule) -> String {
    describe_rule_in(r, &[])
}

/// A policy and what it allows: `ns/name, which allows no egress` or
/// `ns/name, which allows only TCP 5432 to 10.1.2.3/32 and UDP 53 to anywhere`. `service_ips` names the Service
/// IPs the doctor knows, so a rule towards one says so.
pub fn describe_policy(p: &NetworkPolicy, service_ips: &[(IpAddr, String)]) -> String {
    let rules = p
        .spec
        .as_ref()
        .and_then(|s| s.egress.as_deref())
        .unwrap_or(&[]);
    if rules.is_empty() {
        return format!("{}, which allows no egress", policy_name(p));
    }
    format!(
        "{}, which allows only {}",
        policy_name(p),
        rules
            .iter()
            .map(|r| describe_rule_in(r, service_ips))
            .collect::<Vec<_>>()
            .join(" and ")
    )
}

/// [`describe_rule`], naming the known Service IPs an ipBlock is exactly.
pub fn describe_rule_in(r: &NetworkPolicyEgressRule, service_ips: &[(IpAddr, String)]) -> String {
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
            .map(|p| describe_peer(p, service_ips))
            .collect::<Vec<_>>()
            .join(" or "),
    };
    format!("{ports} to {to}")
}

pub(crate) fn describe_selector(s: &LabelSelector) -> String {
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

pub(crate) fn describe_peer(p: &NetworkPolicyPeer, service_ips: &[(IpAddr, String)]) -> String {
    if let Some(b) = &p.ip_block {
        let svc = b.cidr.trim().parse::<ipnet::IpNet>().ok().and_then(|net| {
            service_ips
                .iter()
                .find(|(ip, _)| net.prefix_len() == net.max_prefix_len() && net.addr() == *ip)
                .map(|(_, owner)| format!(" (the Service IP of {owner})"))
        });
        let svc = svc.unwrap_or_default();
        return match b.except.as_deref() {
            Some(e) if !e.is_empty() => format!("{}{svc} except {}", b.cidr, e.join(", ")),
            _ => format!("{}{svc}", b.cidr),
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
