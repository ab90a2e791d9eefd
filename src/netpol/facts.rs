//! What the reasoning knows about the destinations: the namespaces' labels, the
//! cluster DNS (its Service, endpoints, pods) and the database (its addresses, or the
//! Service behind a ClusterIP), and the flows built from them. A fact that could not be
//! read stays unknown, so only the rules that need it give "cannot tell".

use super::*;

/// A pod whose egress is evaluated (its labels are always known in full).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePod {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
}

impl SourcePod {
    /// A pod of the chart: labels `release`, `service`, `heritage=Helm`.
    pub fn chart_pod(namespace: &str, release: &str, service: &str) -> SourcePod {
        SourcePod {
            name: service.to_string(),
            namespace: namespace.to_string(),
            labels: chart_pod_labels(release, service),
        }
    }
}

/// A destination pod as known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodFacts {
    pub namespace: String,
    pub ns_labels: LabelView,
    pub labels: LabelView,
    /// Container ports (name, protocol, number); None when the pods were not read.
    pub ports: Option<Vec<(String, Protocol, u16)>>,
}

/// Whether a target is a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodInfo {
    /// An address outside the cluster, or a Service IP.
    None,
    Unknown,
    Known(PodFacts),
}

/// Where packets of a flow go (after address translation, unless it is a flow's
/// `pre`); None is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub protocol: Protocol,
    pub pod: PodInfo,
}

/// One flow: every endpoint, and the Service IP and port before translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub targets: Vec<Target>,
    pub pre: Option<Target>,
}

impl Flow {
    /// A connection to one address outside the cluster.
    pub fn external(ip: IpAddr, port: u16, protocol: Protocol) -> Flow {
        Flow {
            targets: vec![Target {
                ip: Some(ip),
                port: Some(port),
                protocol,
                pod: PodInfo::None,
            }],
            pre: None,
        }
    }
}

/// The namespaces' labels that were read; any other namespace is known only by its
/// `kubernetes.io/metadata.name` (set by the API server since 1.21).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Namespaces {
    pub known: BTreeMap<String, Labels>,
}

impl Namespaces {
    pub fn from_objects(list: &[k8s_openapi::api::core::v1::Namespace]) -> Namespaces {
        Namespaces {
            known: list
                .iter()
                .filter_map(|n| {
                    let name = n.metadata.name.clone()?;
                    Some((name, n.metadata.labels.clone().unwrap_or_default()))
                })
                .collect(),
        }
    }

    pub fn view(&self, name: &str) -> LabelView {
        match self.known.get(name) {
            Some(l) => LabelView::complete(l.clone()),
            None => {
                LabelView::partial([(NAMESPACE_NAME_LABEL.to_string(), name.to_string())].into())
            }
        }
    }

    pub fn is_known(&self, name: &str) -> bool {
        self.known.contains_key(name)
    }
}

/// A Service port: the port clients use and the port the pods listen on (None when
/// a named targetPort could not be resolved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub protocol: Protocol,
    pub port: u16,
    pub target_port: Option<u16>,
}

/// The cluster DNS Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsService {
    pub namespace: String,
    pub name: String,
    pub selector: Labels,
    pub cluster_ips: Vec<IpAddr>,
    pub ports: Vec<ServicePort>,
}

impl DnsService {
    pub fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What is known of the cluster DNS.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DnsFacts {
    /// None: no DNS Service was found or readable.
    pub service: Option<DnsService>,
    /// The endpoint addresses (EndpointSlices or Endpoints); None when unreadable.
    pub endpoints: Option<Vec<IpAddr>>,
    /// The DNS pods' labels: complete when the pods were read, else the Service's
    /// selector (present, but others may exist).
    pub pod_labels: LabelView,
    pub container_ports: Option<Vec<(String, Protocol, u16)>>,
    /// What could not be read, in words (for "cannot tell").
    pub missing: Vec<String>,
}

/// The database's addresses and port; `service` when an address is a Service IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbFacts {
    pub host: String,
    pub ips: Vec<IpAddr>,
    pub port: u16,
    pub service: Option<DbService>,
    /// A Service db.host names (`<service>.<namespace>.svc…`) that could not be read
    /// (`namespace/name`): the addresses are its ClusterIP, the pods behind unknown.
    pub unread_service: Option<String>,
}

/// A Service in front of the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbService {
    pub namespace: String,
    pub name: String,
    pub cluster_ip: IpAddr,
    pub port: u16,
    pub target_port: u16,
    /// None: a selectorless Service (its endpoints are addresses outside the cluster).
    pub selector: Option<Labels>,
    pub endpoints: Option<Vec<IpAddr>>,
}

/// Everything the reasoning knows about the destinations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub namespaces: Namespaces,
    pub dns: DnsFacts,
    pub db: Option<DbFacts>,
}

/// Which of the three flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowKind {
    Db,
    Dns,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Db => "db",
            FlowKind::Dns => "dns",
        }
    }
}

impl Facts {
    /// DNS over `protocol` to the cluster DNS. `server`: the name server a log line
    /// names; one that is not the DNS Service's IP (NodeLocal DNSCache, another
    /// resolver) makes the destination unknown.
    pub fn dns_flow(&self, protocol: Protocol, server: Option<IpAddr>) -> Flow {
        let unknown = Flow {
            targets: vec![Target {
                ip: None,
                port: None,
                protocol,
                pod: PodInfo::Unknown,
            }],
            pre: None,
        };
        let Some(s) = &self.dns.service else {
            return unknown;
        };
        if server.is_some_and(|a| !s.cluster_ips.contains(&a)) {
            return unknown;
        }
        let sp = s.ports.iter().find(|p| p.protocol == protocol);
        let tport = sp.and_then(|p| p.target_port);
        let pod = PodInfo::Known(PodFacts {
            namespace: s.namespace.clone(),
            ns_labels: self.namespaces.view(&s.namespace),
            labels: self.dns.pod_labels.clone(),
            ports: self.dns.container_ports.clone(),
        });
        let targets = match &self.dns.endpoints {
            Some(eps) if !eps.is_empty() => eps
                .iter()
                .map(|ip| Target {
                    ip: Some(*ip),
                    port: tport,
                    protocol,
                    pod: pod.clone(),
                })
                .collect(),
            _ => vec![Target {
                ip: None,
                port: tport,
                protocol,
                pod,
            }],
        };
        let pre = server
            .or_else(|| s.cluster_ips.first().copied())
            .map(|ip| Target {
                ip: Some(ip),
                port: Some(sp.map_or(53, |p| p.port)),
                protocol,
                pod: PodInfo::None,
            });
        Flow { targets, pre }
    }

    /// TCP to the database, one flow per address (a Service IP: its endpoints on the
    /// target port).
    pub fn db_flows(&self) -> Vec<(IpAddr, Flow)> {
        let Some(db) = &self.db else {
            return Vec::new();
        };
        db.ips
            .iter()
            .map(|ip| match &db.service {
                Some(svc) if svc.cluster_ip == *ip => {
                    let pod = match &svc.selector {
                        None => PodInfo::None,
                        Some(sel) => PodInfo::Known(PodFacts {
                            namespace: svc.namespace.clone(),
                            ns_labels: self.namespaces.view(&svc.namespace),
                            labels: LabelView::partial(sel.clone()),
                            ports: None,
                        }),
                    };
                    let t = |ip| Target {
                        ip,
                        port: Some(svc.target_port),
                        protocol: Protocol::Tcp,
                        pod: pod.clone(),
                    };
                    let targets = match &svc.endpoints {
                        Some(eps) if !eps.is_empty() => eps.iter().map(|e| t(Some(*e))).collect(),
                        _ => vec![t(None)],
                    };
                    let pre = Some(Target {
                        ip: Some(svc.cluster_ip),
                        port: Some(svc.port),
                        protocol: Protocol::Tcp,
                        pod: PodInfo::None,
                    });
                    (*ip, Flow { targets, pre })
                }
                _ if db.unread_service.is_some() => (
                    *ip,
                    Flow {
                        targets: vec![Target {
                            ip: None,
                            port: None,
                            protocol: Protocol::Tcp,
                            pod: PodInfo::Unknown,
                        }],
                        pre: Some(Target {
                            ip: Some(*ip),
                            port: Some(db.port),
                            protocol: Protocol::Tcp,
                            pod: PodInfo::None,
                        }),
                    },
                ),
                _ => (*ip, Flow::external(*ip, db.port, Protocol::Tcp)),
            })
            .collect()
    }

    /// Whether the destination of a kind is itself unknown (then even the safe rule
    /// may leave "cannot tell").
    pub fn dest_unknown(&self, kind: FlowKind) -> bool {
        match kind {
            FlowKind::Dns => self.dns.service.is_none(),
            FlowKind::Db => self.db.as_ref().is_some_and(|d| {
                d.unread_service.is_some()
                    || d.service.as_ref().is_some_and(|s| s.endpoints.is_none())
            }),
        }
    }

    /// The Service an address is the ClusterIP of, as `namespace/name`.
    pub fn service_ip_owner(&self, ip: IpAddr) -> Option<String> {
        if let Some(s) = &self.dns.service {
            if s.cluster_ips.contains(&ip) {
                return Some(s.label());
            }
        }
        let svc = self.db.as_ref()?.service.as_ref()?;
        (svc.cluster_ip == ip).then(|| format!("{}/{}", svc.namespace, svc.name))
    }
}
