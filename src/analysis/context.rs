//! The one context every stage of the pipeline shares: the catalogue, the evidence,
//! the Smart Check pods in kubectl's order with their rows, and each pod's template
//! context (its settings and the CA context) by namespace and name.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Pod;

use super::ca_context;
use crate::catalogue::Catalogue;
use crate::model::evidence::{pod_row, Evidence, PodRow};
use crate::settings::pod_env;

/// A pod's template context, by (namespace, name).
pub type PodContexts = BTreeMap<(String, String), BTreeMap<String, String>>;

pub struct Context<'a> {
    pub cat: &'a Catalogue,
    pub ev: &'a Evidence,
    /// The Smart Check pods, as `kubectl get pods` lists them.
    pub dssc: Vec<&'a Pod>,
    /// Their rows (READY, STATUS, …), in the same order.
    pub pods: Vec<PodRow>,
    pub pod_ctx: PodContexts,
    pub known_pods: BTreeSet<(String, String)>,
}

impl<'a> Context<'a> {
    pub fn new(cat: &'a Catalogue, ev: &'a Evidence) -> Context<'a> {
        let mut dssc = ev.dssc_pods();
        // As `kubectl get pods` lists them, whatever order the source gave.
        dssc.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        let pods: Vec<PodRow> = dssc.iter().map(|p| pod_row(p)).collect();
        let pod_ctx: BTreeMap<(String, String), BTreeMap<String, String>> = ev
            .pods
            .iter()
            .map(|p| {
                (
                    (
                        p.metadata.namespace.clone().unwrap_or_default(),
                        p.metadata.name.clone().unwrap_or_default(),
                    ),
                    ca_context(ev, pod_env::pod_context(p)),
                )
            })
            .collect();
        let known_pods: BTreeSet<(String, String)> = pod_ctx.keys().cloned().collect();
        Context {
            cat,
            ev,
            dssc,
            pods,
            pod_ctx,
            known_pods,
        }
    }
}
