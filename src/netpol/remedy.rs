//! Remedies: the NetworkPolicy that would allow a blocked connection, as an object,
//! as YAML and as the command that applies it.

use super::*;

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

pub(crate) fn allow_policy(
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

pub(crate) fn peer_for(peer: &Peer) -> Vec<NetworkPolicyPeer> {
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
