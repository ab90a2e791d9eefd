//! The facts read from Kubernetes objects: the DNS Service (first of kube-system/kube-dns,
//! kube-system/coredns, openshift-dns/dns-default, or the one whose ClusterIP a log
//! names), its EndpointSlices (or Endpoints), its pods' labels and port names when they
//! were read, and a Service in front of the database. What is absent is listed as
//! missing, never assumed.

use super::*;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The DNS Services looked for, in order: (namespace, name).
pub const DNS_SERVICES: &[(&str, &str)] = &[
    ("kube-system", "kube-dns"),
    ("kube-system", "coredns"),
    ("openshift-dns", "dns-default"),
];

/// A port by name: (name, protocol, number).
pub type NamedPort = (String, Protocol, u16);

/// The objects the facts come from (those read; any namespace).
#[derive(Clone, Copy, Debug, Default)]
pub struct Objects<'a> {
    pub services: &'a [Service],
    pub endpoint_slices: &'a [EndpointSlice],
    pub endpoints: &'a [Endpoints],
    pub pods: &'a [Pod],
    pub namespaces: &'a [k8s_openapi::api::core::v1::Namespace],
}

fn ns_name(m: &ObjectMeta) -> (&str, &str) {
    (
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or(""),
    )
}

fn cluster_ips(s: &Service) -> Vec<IpAddr> {
    let Some(spec) = &s.spec else {
        return Vec::new();
    };
    let mut out: Vec<IpAddr> = spec
        .cluster_ips
        .iter()
        .flatten()
        .chain(spec.cluster_ip.iter())
        .filter_map(|a| a.parse().ok())
        .collect();
    out.dedup();
    out
}

/// The endpoint addresses of a Service and the slices' ports (name, protocol, number);
/// None when neither EndpointSlices nor Endpoints of it were read.
fn service_endpoints(o: &Objects, ns: &str, name: &str) -> Option<(Vec<IpAddr>, Vec<NamedPort>)> {
    let slices: Vec<&EndpointSlice> = o
        .endpoint_slices
        .iter()
        .filter(|s| {
            s.metadata.namespace.as_deref() == Some(ns)
                && s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                    .map(String::as_str)
                    == Some(name)
        })
        .collect();
    if !slices.is_empty() {
        let mut ips = Vec::new();
        let mut ports = Vec::new();
        for s in slices {
            for e in s.endpoints.iter().flatten() {
                if e.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                    continue;
                }
                ips.extend(e.addresses.iter().filter_map(|a| a.parse::<IpAddr>().ok()));
            }
            for p in s.ports.iter().flatten() {
                if let (Some(n), Some(port)) = (&p.name, p.port) {
                    let proto = p
                        .protocol
                        .as_deref()
                        .and_then(Protocol::parse)
                        .unwrap_or(Protocol::Tcp);
                    if let Ok(port) = u16::try_from(port) {
                        ports.push((n.clone(), proto, port));
                    }
                }
            }
        }
        return Some((ips, ports));
    }
    let ep = o
        .endpoints
        .iter()
        .find(|e| ns_name(&e.metadata) == (ns, name))?;
    let mut ips = Vec::new();
    let mut ports = Vec::new();
    for s in ep.subsets.iter().flatten() {
        ips.extend(
            s.addresses
                .iter()
                .flatten()
                .filter_map(|a| a.ip.parse::<IpAddr>().ok()),
        );
        for p in s.ports.iter().flatten() {
            if let (Some(n), Ok(port)) = (&p.name, u16::try_from(p.port)) {
                let proto = p
                    .protocol
                    .as_deref()
                    .and_then(Protocol::parse)
                    .unwrap_or(Protocol::Tcp);
                ports.push((n.clone(), proto, port));
            }
        }
    }
    Some((ips, ports))
}

fn service_ports(s: &Service, ep_ports: &[(String, Protocol, u16)]) -> Vec<ServicePort> {
    s.spec
        .iter()
        .flat_map(|sp| sp.ports.iter().flatten())
        .filter_map(|p| {
            let protocol = p
                .protocol
                .as_deref()
                .and_then(Protocol::parse)
                .unwrap_or(Protocol::Tcp);
            let port = u16::try_from(p.port).ok()?;
            let target_port = match &p.target_port {
                None => Some(port),
                Some(IntOrString::Int(n)) => u16::try_from(*n).ok(),
                // A named targetPort: the slices carry the number under the port's name.
                Some(IntOrString::String(_)) => ep_ports
                    .iter()
                    .find(|(n, pr, _)| Some(n) == p.name.as_ref() && *pr == protocol)
                    .map(|(_, _, n)| *n),
            };
            Some(ServicePort {
                name: p.name.clone(),
                protocol,
                port,
                target_port,
            })
        })
        .collect()
}

/// The cluster DNS as read. `server`: the name server a log line names (diagnosis).
pub fn dns_facts(o: &Objects, namespaces: &Namespaces, server: Option<IpAddr>) -> DnsFacts {
    let by_server = server.and_then(|ip| o.services.iter().find(|s| cluster_ips(s).contains(&ip)));
    let svc = by_server.or_else(|| {
        DNS_SERVICES.iter().find_map(|(ns, name)| {
            o.services
                .iter()
                .find(|s| ns_name(&s.metadata) == (*ns, *name))
        })
    });
    let Some(svc) = svc else {
        return DnsFacts {
            missing: vec![format!(
                "the DNS Service ({}; grant get on services in kube-system: deploy/rbac.yaml)",
                DNS_SERVICES
                    .iter()
                    .map(|(n, s)| format!("{n}/{s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )],
            ..Default::default()
        };
    };
    let (ns, name) = ns_name(&svc.metadata);
    let selector: Labels = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default();
    let mut missing = Vec::new();
    let eps = service_endpoints(o, ns, name);
    if eps.is_none() {
        missing.push(format!(
            "the EndpointSlices of {ns}/{name} (grant list on endpointslices in {ns}: deploy/rbac.yaml)"
        ));
    }
    let ep_ports = eps.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
    if !namespaces.is_known(ns) {
        missing.push(format!(
            "the labels of namespace {ns} (grant get on namespaces: the ClusterRole in deploy/rbac.yaml)"
        ));
    }
    let pods: Vec<&Pod> = if selector.is_empty() {
        Vec::new()
    } else {
        o.pods
            .iter()
            .filter(|p| {
                p.metadata.namespace.as_deref() == Some(ns)
                    && selector
                        .iter()
                        .all(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
            })
            .collect()
    };
    let (pod_labels, container_ports) = if pods.is_empty() {
        missing.push(format!(
            "the DNS pods in {ns} (their labels beyond the Service's selector and their port names)"
        ));
        (LabelView::partial(selector.clone()), None)
    } else {
        let all: Vec<Labels> = pods
            .iter()
            .map(|p| p.metadata.labels.clone().unwrap_or_default())
            .collect();
        let common: Labels = all[0]
            .iter()
            .filter(|(k, v)| all.iter().all(|l| l.get(*k) == Some(*v)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let complete = all.iter().all(|l| *l == common);
        let mut ports = Vec::new();
        for p in &pods {
            for c in p.spec.iter().flat_map(|s| s.containers.iter()) {
                for cp in c.ports.iter().flatten() {
                    if let (Some(n), Ok(port)) = (&cp.name, u16::try_from(cp.container_port)) {
                        let proto = cp
                            .protocol
                            .as_deref()
                            .and_then(Protocol::parse)
                            .unwrap_or(Protocol::Tcp);
                        if !ports.contains(&(n.clone(), proto, port)) {
                            ports.push((n.clone(), proto, port));
                        }
                    }
                }
            }
        }
        (
            LabelView {
                labels: common,
                complete,
            },
            Some(ports),
        )
    };
    DnsFacts {
        service: Some(DnsService {
            namespace: ns.to_string(),
            name: name.to_string(),
            selector,
            cluster_ips: cluster_ips(svc),
            ports: service_ports(svc, &ep_ports),
        }),
        endpoints: eps.map(|(ips, _)| ips),
        pod_labels,
        container_ports,
        missing,
    }
}

/// The database's facts: its addresses and port, and the Service in front of it when
/// read ([`db_service`]); a Service db.host names that was not read is kept as unread.
pub fn db_facts(o: &Objects, host: &str, ips: Vec<IpAddr>, port: u16) -> DbFacts {
    let service = db_service(o, host, &ips, port);
    let unread_service = match (&service, svc_named(host)) {
        (None, Some((ns, name))) => Some(format!("{ns}/{name}")),
        _ => None,
    };
    DbFacts {
        host: host.to_string(),
        ips,
        port,
        service,
        unread_service,
    }
}

/// (namespace, name) of a host `<service>.<namespace>.svc[.<domain>]`.
fn svc_named(host: &str) -> Option<(&str, &str)> {
    let mut parts = host.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(n), Some("svc")) if !s.is_empty() && !n.is_empty() => Some((n, s)),
        _ => None,
    }
}

/// The Service in front of the database: one whose ClusterIP is an address of it, or
/// the one a host `<service>.<namespace>.svc[.<domain>]` names.
pub fn db_service(o: &Objects, host: &str, ips: &[IpAddr], port: u16) -> Option<DbService> {
    let named = svc_named(host);
    let svc = o.services.iter().find(|s| {
        cluster_ips(s).iter().any(|ip| ips.contains(ip)) || named == Some(ns_name(&s.metadata))
    })?;
    let (ns, name) = ns_name(&svc.metadata);
    let cip = cluster_ips(svc)
        .into_iter()
        .find(|ip| ips.contains(ip))
        .or_else(|| cluster_ips(svc).first().copied())?;
    let eps = service_endpoints(o, ns, name);
    let ports = service_ports(svc, eps.as_ref().map(|(_, p)| p.as_slice()).unwrap_or(&[]));
    let sp = ports
        .iter()
        .find(|p| p.port == port && p.protocol == Protocol::Tcp)
        .or_else(|| ports.first())?;
    let selector = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .filter(|s| !s.is_empty());
    Some(DbService {
        namespace: ns.to_string(),
        name: name.to_string(),
        cluster_ip: cip,
        port: sp.port,
        target_port: sp.target_port.unwrap_or(sp.port),
        selector,
        endpoints: eps.map(|(ips, _)| ips),
    })
}

/// The pods of the release in a namespace, as read.
pub fn release_pods(pods: &[Pod], namespace: &str, release: &str) -> Vec<SourcePod> {
    pods.iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(namespace))
        .filter_map(|p| {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            (labels.get("release").map(String::as_str) == Some(release)).then(|| SourcePod {
                name: p.metadata.name.clone().unwrap_or_default(),
                namespace: namespace.to_string(),
                labels,
            })
        })
        .collect()
}
