//! Which namespace and release to diagnose when the user did not say, or said one that
//! is not there: the context's namespace first; if it holds no Smart Check pods, one
//! cluster-wide pod list with a label selector (like `kubectl get pods -A -l release`),
//! grouped by namespace and release. One install is chosen and the reason said; several
//! are listed and `-n` asked for. A namespace given with `-n` is looked up itself (a
//! list in a missing namespace is an empty 200, by the API's design).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams};
use kube::Client;

use super::cluster_error::{ClusterError, Identity};
use super::live::read;
use crate::model::evidence::has_db_init;

/// The labels every Smart Check pod carries (chart templates).
const SELECTOR: &str = "release,service";

/// The namespace chosen, and what to tell the user about the choice.
#[derive(Clone, Debug)]
pub struct Choice {
    pub namespace: String,
    /// Why this namespace (for stderr), when it was not given.
    pub note: Option<String>,
    /// A read that could not be made while choosing (becomes DOC001).
    pub skipped: Option<(String, String)>,
}

/// One install found: namespace, release, Smart Check pods.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Install {
    pub namespace: String,
    pub release: String,
    pub pods: usize,
}

/// Whether a pod is Smart Check's: its chart label, or a db-init init container.
pub fn is_smartcheck(p: &Pod) -> bool {
    let chart = p
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("chart"))
        .is_some_and(|c| c.starts_with("smartcheck-"));
    chart || has_db_init(p)
}

fn release_of(p: &Pod) -> String {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("release"))
        .cloned()
        .unwrap_or_default()
}

/// Groups Smart Check pods by (namespace, release).
pub fn installs(pods: &[Pod]) -> Vec<Install> {
    let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in pods.iter().filter(|p| is_smartcheck(p)) {
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        *m.entry((ns, release_of(p))).or_default() += 1;
    }
    m.into_iter()
        .map(|((namespace, release), pods)| Install {
            namespace,
            release,
            pods,
        })
        .collect()
}

fn list_installs(is: &[Install]) -> String {
    is.iter()
        .map(|i| {
            format!(
                "{} (release {}, {} pod{})",
                i.namespace,
                if i.release.is_empty() {
                    "?"
                } else {
                    &i.release
                },
                i.pods,
                if i.pods == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Smart Check installs across the cluster: `Ok(None)` when the account may not list
/// pods cluster-wide (with the server's message).
async fn cluster_wide(
    client: &Client,
    t: Duration,
    who: &Identity,
) -> Result<Result<Vec<Install>, String>, ClusterError> {
    let api: Api<Pod> = Api::all(client.clone());
    Ok(
        read(t, who, api.list(&ListParams::default().labels(SELECTOR)))
            .await?
            .map(|l| installs(&l.items)),
    )
}

/// Chooses the namespace to diagnose.
pub async fn choose(
    client: &Client,
    given: Option<&str>,
    context_ns: &str,
    release: Option<&str>,
    t: Duration,
    who: &Identity,
) -> Result<Choice, ClusterError> {
    let matches_release = |i: &Install| release.is_none_or(|r| i.release == r);
    if let Some(ns) = given {
        let api: Api<Namespace> = Api::all(client.clone());
        match super::access::read(t, api.get(ns)).await {
            super::access::Access::NotFound(_) => {
                let found = match cluster_wide(client, t, who).await? {
                    Ok(is) if is.is_empty() => "no namespace holds Smart Check pods".to_string(),
                    Ok(is) => format!("Smart Check pods are in: {}", list_installs(&is)),
                    Err(why) => format!("cannot list pods cluster-wide to find them ({why})"),
                };
                return Err(ClusterError::new(
                    "namespace-not-found",
                    who,
                    format!("namespace \"{ns}\" not found; {found}"),
                ));
            }
            super::access::Access::Forbidden(why) if why.starts_with("forbidden (401)") => {
                return Err(super::cluster_error::unauthorized(who))
            }
            super::access::Access::Error(e) => return Err(super::cluster_error::connect(who, &e)),
            // Found, or the account may not get namespaces (it cannot tell): go on.
            _ => {}
        }
        return Ok(Choice {
            namespace: ns.to_string(),
            note: None,
            skipped: None,
        });
    }
    let here: Api<Pod> = Api::namespaced(client.clone(), context_ns);
    let local = match read(t, who, here.list(&ListParams::default())).await? {
        Ok(l) => installs(&l.items),
        // The account may not list pods here: the collection says so (DOC001).
        Err(_) => {
            return Ok(Choice {
                namespace: context_ns.to_string(),
                note: None,
                skipped: None,
            })
        }
    };
    if local.iter().any(matches_release) {
        return Ok(Choice {
            namespace: context_ns.to_string(),
            note: None,
            skipped: None,
        });
    }
    match cluster_wide(client, t, who).await? {
        Err(why) => Ok(Choice {
            namespace: context_ns.to_string(),
            note: Some(format!(
                "no Smart Check pods in the context's namespace \"{context_ns}\", and the account \
                 cannot list pods in all namespaces to find them; pass -n NAMESPACE"
            )),
            skipped: Some((
                "pods in all namespaces (to find the install; pass -n NAMESPACE)".to_string(),
                why,
            )),
        }),
        Ok(all) => {
            let wanted: Vec<Install> = all.iter().filter(|i| matches_release(i)).cloned().collect();
            let mut namespaces: Vec<&str> = wanted.iter().map(|i| i.namespace.as_str()).collect();
            namespaces.dedup();
            match namespaces.as_slice() {
                [] => Ok(Choice {
                    namespace: context_ns.to_string(),
                    note: (!all.is_empty()).then(|| {
                        format!(
                            "no Smart Check pods of release {} anywhere; installs found: {}",
                            release.unwrap_or("?"),
                            list_installs(&all)
                        )
                    }),
                    skipped: None,
                }),
                [ns] => {
                    let pods: usize = wanted.iter().map(|i| i.pods).sum();
                    let rels: Vec<&str> = wanted.iter().map(|i| i.release.as_str()).collect();
                    Ok(Choice {
                        namespace: ns.to_string(),
                        note: Some(format!(
                            "diagnosing namespace \"{ns}\": it holds {pods} Smart Check pod{} of \
                             release {} (the context's namespace \"{context_ns}\" has none)",
                            if pods == 1 { "" } else { "s" },
                            rels.join(", ")
                        )),
                        skipped: None,
                    })
                }
                _ => Err(ClusterError::new(
                    "ambiguous",
                    who,
                    format!(
                        "several Smart Check installs found and none in the context's namespace \
                         \"{context_ns}\": {}; choose one with -n NAMESPACE (and --release NAME)",
                        list_installs(&wanted)
                    ),
                )),
            }
        }
    }
}

/// With `--release` given: an error naming the releases found when none of the
/// namespace's Smart Check pods belongs to it.
pub fn check_release(
    pods: &[Pod],
    namespace: &str,
    release: &str,
    who: &Identity,
) -> Result<(), ClusterError> {
    let found = installs(pods);
    if found.is_empty() || found.iter().any(|i| i.release == release) {
        return Ok(());
    }
    let names: Vec<&str> = found
        .iter()
        .map(|i| i.release.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    Err(ClusterError::new(
        "release-not-found",
        who,
        format!(
            "release \"{release}\" matches no Smart Check pod in namespace \"{namespace}\"; \
             releases found there: {}; pass --release with one of them",
            if names.is_empty() {
                "none labelled".to_string()
            } else {
                names.join(", ")
            }
        ),
    ))
}
