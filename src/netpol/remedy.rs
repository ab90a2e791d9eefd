//! Remedies that never break other traffic: one NetworkPolicy per isolating policy
//! chosen to cover the pods whose flow is blocked, selecting exactly the pods that
//! policy already isolates (its podSelector AND `release=<release>`), with
//! `policyTypes: [Egress]` only. Every pod it selects was already isolated for egress,
//! and one more policy only adds to the union of what is allowed, so no flow that was
//! open closes and no pod's isolation changes.

use super::*;

/// A NetworkPolicy that would allow a blocked connection, as an object, as YAML and as
/// commands that apply it.
#[derive(Clone, Debug, PartialEq)]
pub struct AllowRule {
    pub policy: NetworkPolicy,
    pub yaml: String,
    /// `kubectl apply -n NS -f - <<'EOF'` … `EOF` (several lines).
    pub apply: String,
    /// The same in one line (`echo '<json>' | kubectl apply -n NS -f -`), for places
    /// that take one command a line.
    pub apply_one_line: String,
}

pub(crate) fn allow_rule(policy: NetworkPolicy, namespace: &str) -> AllowRule {
    let yaml = serde_saphyr::to_string(&policy).unwrap_or_default();
    let json = serde_json::to_string(&policy).unwrap_or_default();
    AllowRule {
        apply: format!("kubectl apply -n {namespace} -f - <<'EOF'\n{yaml}EOF"),
        apply_one_line: format!("echo '{json}' | kubectl apply -n {namespace} -f -"),
        yaml,
        policy,
    }
}

/// One printed rule: which flow, the isolating policy whose selector it narrows, the
/// pods it applies to.
#[derive(Clone, Debug, PartialEq)]
pub struct Remedy {
    pub kind: FlowKind,
    /// The isolating policy's name (`metadata.name`).
    pub via: String,
    /// Pod names, sorted.
    pub applies_to: Vec<String>,
    pub rule: AllowRule,
    /// Set when the destination was not read and the rule rests on an assumption.
    pub assumption: Option<String>,
}

/// The outcome of planning for one kind.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Plan {
    pub remedies: Vec<Remedy>,
    /// Kinds for which no rule can be printed (the destination is unknown), with why.
    pub unavailable: Vec<(FlowKind, String)>,
}

/// `sel` AND `matchLabels: extra`; None when unsatisfiable.
pub(crate) fn conj(sel: Option<&LabelSelector>, extra: &Labels) -> Option<LabelSelector> {
    let mut ml = sel.and_then(|s| s.match_labels.clone()).unwrap_or_default();
    for (k, v) in extra {
        if ml.get(k).is_some_and(|x| x != v) {
            return None;
        }
        ml.insert(k.clone(), v.clone());
    }
    Some(LabelSelector {
        match_labels: Some(ml),
        match_expressions: sel
            .and_then(|s| s.match_expressions.clone())
            .filter(|e| !e.is_empty()),
    })
}

fn host_block(ip: IpAddr) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: host_cidr(ip),
            except: None,
        }),
        ..Default::default()
    }
}

/// `10.1.2.3/32`, `fd00::12/128`.
pub fn host_cidr(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => format!("{ip}/32"),
        IpAddr::V6(_) => format!("{ip}/128"),
    }
}

/// The conventional kube-dns peer (namespace kube-system, pods k8s-app=kube-dns).
pub fn std_dns_peer() -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(labels_selector(
            [(NAMESPACE_NAME_LABEL.to_string(), "kube-system".to_string())].into(),
        )),
        pod_selector: Some(labels_selector(
            [("k8s-app".to_string(), "kube-dns".to_string())].into(),
        )),
        ip_block: None,
    }
}

type RuleTarget = (
    Vec<NetworkPolicyPeer>,
    Vec<NetworkPolicyPort>,
    Option<String>,
);

fn target(facts: &Facts, kind: FlowKind, need: &[&PodAssessment]) -> Result<RuleTarget, String> {
    match kind {
        FlowKind::Db => {
            let Some(db) = &facts.db else {
                return Err("the database address is not known".into());
            };
            if let Some(svc) = &db.unread_service {
                let ns = svc.split('/').next().unwrap_or_default();
                return Err(format!(
                    "the Service {svc} and its endpoints (grant get on services and list on endpointslices in {ns})"
                ));
            }
            if let Some(svc) = &db.service {
                let ports = vec![policy_port(svc.target_port, Protocol::Tcp)];
                if let Some(sel) = &svc.selector {
                    let peer = NetworkPolicyPeer {
                        namespace_selector: Some(labels_selector(
                            [(NAMESPACE_NAME_LABEL.to_string(), svc.namespace.clone())].into(),
                        )),
                        pod_selector: Some(labels_selector(sel.clone())),
                        ip_block: None,
                    };
                    return Ok((vec![peer], ports, None));
                }
                return match &svc.endpoints {
                    Some(eps) if !eps.is_empty() => {
                        Ok((eps.iter().map(|e| host_block(*e)).collect(), ports, None))
                    }
                    _ => Err(format!(
                        "the endpoints of Service {}/{} (grant get and list on endpointslices in {})",
                        svc.namespace, svc.name, svc.namespace
                    )),
                };
            }
            let blocked: BTreeSet<IpAddr> = need
                .iter()
                .flat_map(|a| a.db.iter())
                .filter(|(_, v)| v.value != Tri::Yes)
                .map(|(ip, _)| *ip)
                .collect();
            Ok((
                blocked.into_iter().map(host_block).collect(),
                vec![policy_port(db.port, Protocol::Tcp)],
                None,
            ))
        }
        FlowKind::Dns => {
            let Some(s) = &facts.dns.service else {
                return Ok((
                    vec![std_dns_peer()],
                    vec![
                        policy_port(53, Protocol::Udp),
                        policy_port(53, Protocol::Tcp),
                    ],
                    Some(
                        "the DNS Service could not be read: this rule assumes kube-dns \
                         (pods k8s-app=kube-dns in kube-system on port 53)"
                            .into(),
                    ),
                ));
            };
            let nl = facts.namespaces.view(&s.namespace);
            let nsel: Labels = if nl.labels.contains_key(NAMESPACE_NAME_LABEL) {
                [(NAMESPACE_NAME_LABEL.to_string(), s.namespace.clone())].into()
            } else {
                nl.labels.clone()
            };
            let peer = NetworkPolicyPeer {
                namespace_selector: Some(labels_selector(nsel)),
                pod_selector: Some(labels_selector(s.selector.clone())),
                ip_block: None,
            };
            let mut ports: Vec<NetworkPolicyPort> = s
                .ports
                .iter()
                .map(|p| policy_port(p.target_port.unwrap_or(p.port), p.protocol))
                .collect();
            if ports.is_empty() {
                ports = vec![
                    policy_port(53, Protocol::Udp),
                    policy_port(53, Protocol::Tcp),
                ];
            }
            Ok((vec![peer], ports, None))
        }
    }
}

/// The safe rules for every kind with a release pod whose flow is not open
/// (netpol-plan §4): a greedy cover of those pods by the policies isolating them
/// (most pods first, then a policy without egress rules, then by name).
pub fn plan(
    policies: &[NetworkPolicy],
    assessed: &[PodAssessment],
    facts: &Facts,
    namespace: &str,
    release: &str,
) -> Plan {
    let mut out = Plan::default();
    let release_label: Labels = [("release".to_string(), release.to_string())].into();
    let rel: Vec<&PodAssessment> = assessed
        .iter()
        .filter(|a| a.pod.labels.get("release").map(String::as_str) == Some(release))
        .collect();
    for kind in [FlowKind::Db, FlowKind::Dns] {
        let need: Vec<&PodAssessment> = rel
            .iter()
            .copied()
            .filter(|a| a.value(kind) != Tri::Yes && !a.isolating.is_empty())
            .collect();
        if need.is_empty() {
            continue;
        }
        let (peers, ports, assumption) = match target(facts, kind, &need) {
            Ok(t) => t,
            Err(why) => {
                out.unavailable.push((kind, why));
                continue;
            }
        };
        let mut uncovered: BTreeSet<&str> = need.iter().map(|a| a.pod.name.as_str()).collect();
        let candidates: BTreeSet<&str> = need
            .iter()
            .flat_map(|a| a.isolating.iter().map(String::as_str))
            .collect();
        while !uncovered.is_empty() {
            type Best<'a> = (&'a NetworkPolicy, BTreeSet<&'a str>, (isize, bool, String));
            let mut best: Option<Best> = None;
            for p in policies
                .iter()
                .filter(|p| candidates.contains(policy_name(p).as_str()))
            {
                let cov: BTreeSet<&str> = need
                    .iter()
                    .filter(|a| {
                        uncovered.contains(a.pod.name.as_str()) && isolates_egress(p, &a.pod)
                    })
                    .map(|a| a.pod.name.as_str())
                    .collect();
                let has_rules = p
                    .spec
                    .as_ref()
                    .and_then(|s| s.egress.as_ref())
                    .is_some_and(|e| !e.is_empty());
                let key = (
                    -(cov.len() as isize),
                    has_rules,
                    p.metadata.name.clone().unwrap_or_default(),
                );
                if !cov.is_empty() && best.as_ref().is_none_or(|b| key < b.2) {
                    best = Some((p, cov, key));
                }
            }
            let Some((p, cov, _)) = best else { break };
            let via = p.metadata.name.clone().unwrap_or_default();
            let Some(sel) = conj(
                p.spec.as_ref().and_then(|s| s.pod_selector.as_ref()),
                &release_label,
            ) else {
                break;
            };
            let mut name = format!("{release}-allow-{}-via-{via}", kind.as_str());
            name.truncate(63);
            let name = name.trim_end_matches(['-', '.']).to_string();
            let policy = NetworkPolicy {
                metadata: ObjectMeta {
                    name: Some(name),
                    namespace: Some(namespace.to_string()),
                    ..Default::default()
                },
                spec: Some(NetworkPolicySpec {
                    pod_selector: Some(sel),
                    policy_types: Some(vec!["Egress".into()]),
                    egress: Some(vec![NetworkPolicyEgressRule {
                        to: Some(peers.clone()),
                        ports: Some(ports.clone()),
                    }]),
                    ingress: None,
                }),
            };
            for c in &cov {
                uncovered.remove(c);
            }
            out.remedies.push(Remedy {
                kind,
                via,
                applies_to: cov.iter().map(|s| s.to_string()).collect(),
                rule: allow_rule(policy, namespace),
                assumption: assumption.clone(),
            });
        }
    }
    out
}
