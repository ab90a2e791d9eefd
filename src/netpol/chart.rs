//! The NetworkPolicies the Smart Check chart itself creates (from the values), and
//! the labels it puts on its pods.

use super::*;

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

pub(crate) fn labels_selector(labels: Labels) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    }
}

pub(crate) fn policy_port(port: u16, protocol: Protocol) -> NetworkPolicyPort {
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
