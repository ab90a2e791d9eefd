//! NetworkPolicy reasoning: may a pod open a connection to a destination?
//!
//! Kubernetes semantics for egress: policies are additive allow-lists. A pod that no
//! policy of its namespace isolates for egress (Egress among the policy types, which
//! the API server defaults to Ingress plus Egress when there are egress rules) may
//! connect anywhere. Once a policy isolates it, a connection is allowed iff some egress
//! rule of an isolating policy matches both its `to` (empty = anywhere) and its `ports`
//! (empty = every port). Each answer is three-valued ([`Tri`]): a fact that decides it
//! but could not be read (the DNS endpoints, a namespace's labels) gives "cannot tell".
//!
//! Used before install (preflight: the cluster's policies plus the ones the chart will
//! add, [`chart_policies`]) and by diagnose to explain a db-init timeout:
//!
//! ```
//! use dssc_doctor::netpol::{self, Flow, Protocol, SourcePod, Tri};
//! let pod = SourcePod::chart_pod("trendmicro", "deepsecurity-smartcheck", "auth");
//! let flow = Flow::external("10.1.2.3".parse().unwrap(), 5432, Protocol::Tcp);
//! let v = netpol::flow3(&[], &pod, &flow);
//! assert!(v.value == Tri::Yes && v.isolating.is_empty());
//! ```

use std::collections::{BTreeMap, BTreeSet};
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

#[cfg(test)]
mod tests;

mod eval;
pub use eval::*;
mod describe;
pub use describe::*;
mod chart;
pub use chart::*;
mod facts;
pub use facts::*;
mod assess;
pub use assess::*;
mod objects;
pub use objects::*;
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

    pub fn parse(s: &str) -> Option<Protocol> {
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
