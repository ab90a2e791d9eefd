//! The cluster DNS as the NetworkPolicy reasoning needs it, read from the cluster: the
//! first DNS Service found (kube-system/kube-dns, kube-system/coredns,
//! openshift-dns/dns-default), its EndpointSlices (Endpoints on clusters without the
//! discovery API), its pods (labels and port names) and its namespace. Every read is
//! optional: one that is refused, missing or late becomes a skipped entry, and the
//! reasoning then says "cannot tell" where it matters.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Endpoints, Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use kube::Client;

use super::access::{read, Access};
use crate::model::evidence::{Evidence, Skipped};
use crate::netpol::DNS_SERVICES;

/// What was read of the cluster DNS, and what was not.
#[derive(Clone, Debug, Default)]
pub struct DnsObjects {
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub endpoints: Vec<Endpoints>,
    pub pods: Vec<Pod>,
    /// The DNS Service's namespace, when readable (for its labels).
    pub namespaces: Vec<Namespace>,
    pub skipped: Vec<Skipped>,
}

fn skip<T>(out: &mut DnsObjects, what: String, a: Access<T>) -> Option<T> {
    match a {
        Access::Ok(v) => Some(v),
        Access::Forbidden(why) | Access::TimedOut(why) | Access::NotFound(why) => {
            out.skipped.push(Skipped { what, why });
            None
        }
        Access::Error(e) => {
            out.skipped.push(Skipped {
                what,
                why: e.to_string(),
            });
            None
        }
    }
}

/// Reads the cluster DNS, each request under `timeout`; the DNS pods only when
/// `with_pods` (their labels beyond the selector and their port names).
pub async fn read_dns(client: &Client, timeout: Duration, with_pods: bool) -> DnsObjects {
    let mut out = DnsObjects::default();
    let mut found = None;
    for (ns, name) in DNS_SERVICES {
        let api: Api<Service> = Api::namespaced(client.clone(), ns);
        match read(timeout, api.get_opt(name)).await {
            Access::Ok(Some(s)) => {
                found = Some(s);
                break;
            }
            Access::Ok(None) | Access::NotFound(_) => continue,
            a => {
                skip(&mut out, format!("service {ns}/{name}"), a);
            }
        }
    }
    let Some(svc) = found else {
        if out.skipped.is_empty() {
            out.skipped.push(Skipped {
                what: "the cluster DNS Service".into(),
                why: "none of kube-system/kube-dns, kube-system/coredns, openshift-dns/dns-default exists".into(),
            });
        }
        return out;
    };
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let selector: Vec<String> = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let nss: Api<Namespace> = Api::all(client.clone());
    let by_service = ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
    let by_selector = ListParams::default().labels(&selector.join(","));
    let (sl, po, nso) = futures::join!(
        read(timeout, slices.list(&by_service)),
        async {
            if selector.is_empty() || !with_pods {
                None
            } else {
                Some(read(timeout, pods.list(&by_selector)).await)
            }
        },
        read(timeout, nss.get_opt(&ns)),
    );
    match sl {
        Access::Ok(l) => out.endpoint_slices = l.items,
        // No discovery API (clusters before 1.21): the Endpoints object.
        Access::NotFound(_) => {
            let eps: Api<Endpoints> = Api::namespaced(client.clone(), &ns);
            let what = format!("endpoints {ns}/{name}");
            if let Some(Some(e)) = skip(&mut out, what, read(timeout, eps.get_opt(&name)).await) {
                out.endpoints.push(e);
            }
        }
        a => {
            skip(&mut out, format!("endpointslices in namespace {ns}"), a);
        }
    }
    if let Some(p) = po {
        if let Some(l) = skip(&mut out, format!("pods in namespace {ns}"), p) {
            out.pods = l.items.into_iter().map(strip_pod).collect();
        }
    }
    if let Some(Some(n)) = skip(&mut out, format!("namespace {ns}"), nso) {
        out.namespaces.push(n);
    }
    out.services.push(svc);
    out
}

/// For live collection: the cluster DNS (without its pods) and the EndpointSlices of
/// the Smart Check namespace (a database Service there).
pub async fn read_for_collection(
    client: &Client,
    timeout: Duration,
    namespace: &str,
) -> DnsObjects {
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let lp = ListParams::default();
    let (mut out, local) = futures::join!(
        read_dns(client, timeout, false),
        read(timeout, slices.list(&lp)),
    );
    let what = format!("endpointslices in namespace {namespace}");
    if let Some(l) = skip(&mut out, what, local) {
        let new: Vec<EndpointSlice> = l
            .items
            .into_iter()
            .filter(|s| {
                !out.endpoint_slices.iter().any(|x| {
                    x.metadata.name == s.metadata.name
                        && x.metadata.namespace == s.metadata.namespace
                })
            })
            .collect();
        out.endpoint_slices.extend(new);
    }
    out
}

/// Keeps what the reasoning needs of a DNS pod: its name, labels and container ports.
pub(crate) fn strip_pod(p: Pod) -> Pod {
    let mut keep = Pod::default();
    keep.metadata.name = p.metadata.name;
    keep.metadata.namespace = p.metadata.namespace;
    keep.metadata.labels = p.metadata.labels;
    if let Some(spec) = p.spec {
        let s = k8s_openapi::api::core::v1::PodSpec {
            containers: spec
                .containers
                .into_iter()
                .map(|c| k8s_openapi::api::core::v1::Container {
                    name: c.name,
                    ports: c.ports,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        keep.spec = Some(s);
    }
    keep
}

/// Adds what was read to the evidence (the objects of the DNS namespace beside the
/// Smart Check namespace's; a namespace already listed is kept once). DNS pods are not
/// added: the evidence's pods are the Smart Check namespace's. What could not be read
/// is not a skipped item (the reads are optional): the reasoning names it where the
/// answer depends on it (NET011).
pub fn add_to(ev: &mut Evidence, d: DnsObjects) {
    ev.services.extend(d.services);
    ev.endpoint_slices.extend(d.endpoint_slices);
    ev.endpoints.extend(d.endpoints);
    for n in d.namespaces {
        if !ev
            .namespaces
            .iter()
            .any(|x| x.metadata.name == n.metadata.name)
        {
            ev.namespaces.push(n);
        }
    }
}
