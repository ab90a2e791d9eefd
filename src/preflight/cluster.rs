//! The `cluster` group: server version, nodes, namespace, CA ConfigMap/Secret, all
//! read concurrently on one client under one deadline; a forbidden read is a skip.

use super::*;
use crate::catalogue::ids;
use crate::sources::access::Access;

/// What the cluster group learned, for the later groups.
pub(crate) struct ClusterFacts {
    /// The NetworkPolicies of the namespace, when readable.
    pub(crate) policies: Option<Vec<NetworkPolicy>>,
    /// The CA bundle (PEM) and where it came from, when readable.
    pub(crate) ca: Option<(Vec<u8>, String)>,
    /// The cluster DNS and the namespaces' labels, for the network group.
    pub(crate) dns: crate::sources::dns::DnsObjects,
}

/// A ConfigMap's or Secret's entries, as bytes by key.
pub(crate) type KeyData = BTreeMap<String, Vec<u8>>;

/// How a read ended.
pub(crate) enum Read<T> {
    Ok(T),
    Forbidden(String),
    Failed(String),
}

pub(crate) async fn timed<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Read<T> {
    match crate::sources::access::read(timeout, f).await {
        Access::Ok(v) => Read::Ok(v),
        Access::Forbidden(why) => Read::Forbidden(why),
        Access::NotFound(why) | Access::TimedOut(why) => Read::Failed(why),
        Access::Error(e) => Read::Failed(e.to_string()),
    }
}

pub(crate) async fn cluster_group(
    run: &mut Run<'_>,
    client: &kube::Client,
    s: &DbSettings,
    timeout: Duration,
) -> Option<ClusterFacts> {
    let ns = run.namespace.clone();
    let t0 = Instant::now();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let nodes: Api<Node> = Api::all(client.clone());
    let pols: Api<NetworkPolicy> = Api::namespaced(client.clone(), &ns);
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let ca_name = s.ca_name.clone().unwrap_or_default();
    let want_ca = s.ca_kind.is_some() && !ca_name.is_empty();
    let lp = ListParams::default();
    let (version, node_list, ns_obj, pol_list, cm, secret) = futures::join!(
        timed(timeout, client.apiserver_version()),
        timed(timeout, nodes.list(&lp)),
        timed(timeout, namespaces.get_opt(&ns)),
        timed(timeout, pols.list(&lp)),
        async {
            if want_ca && s.ca_kind == Some(CaKind::ConfigMap) {
                Some(timed(timeout, cms.get_opt(&ca_name)).await)
            } else {
                None
            }
        },
        async {
            if want_ca && s.ca_kind == Some(CaKind::Secret) {
                Some(timed(timeout, secrets.get_opt(&ca_name)).await)
            } else {
                None
            }
        },
    );
    let ms = Some(t0);
    match version {
        Read::Ok(v) => run.row(
            "cluster",
            "api server",
            "pass",
            format!("Kubernetes {}", v.git_version),
            ms,
        ),
        Read::Forbidden(e) => run.row("cluster", "api server", "skip", e, ms),
        Read::Failed(e) => {
            // Nothing else can have worked either: one line, not six.
            run.row(
                "cluster",
                "api server",
                "skip",
                format!("cluster unreachable: {e}"),
                ms,
            );
            run.skipped.push(Skipped {
                what: "cluster and network checks".into(),
                why: format!("cluster unreachable: {e}"),
            });
            return None;
        }
    }
    match node_list {
        Read::Ok(l) if l.items.is_empty() => run.row(
            "cluster",
            "nodes",
            "warn",
            "the cluster has no nodes: no pod can be scheduled".into(),
            ms,
        ),
        Read::Ok(l) => {
            let ready = l
                .items
                .iter()
                .filter(|n| {
                    n.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
                })
                .count();
            run.row(
                "cluster",
                "nodes",
                "pass",
                format!("{} node(s), {ready} ready", l.items.len()),
                ms,
            )
        }
        Read::Forbidden(e) | Read::Failed(e) => {
            run.skipped.push(Skipped {
                what: "nodes".into(),
                why: e.clone(),
            });
            run.row("cluster", "nodes", "skip", e, ms)
        }
    }
    let mut ns_missing = false;
    let sc_ns = match &ns_obj {
        Read::Ok(Some(n)) => Some(n.clone()),
        _ => None,
    };
    match ns_obj {
        Read::Ok(Some(_)) => run.row("cluster", "namespace", "pass", format!("{ns} exists"), ms),
        Read::Ok(None) => {
            ns_missing = true;
            let text = format!("namespace {ns} does not exist");
            run.hit(
                ids::PRE001,
                &format!("namespace {ns}"),
                text.clone(),
                vec![],
            );
            run.row("cluster", "namespace", "warn", text, ms)
        }
        Read::Forbidden(e) | Read::Failed(e) => {
            run.skipped.push(Skipped {
                what: "namespaces".into(),
                why: e.clone(),
            });
            run.row("cluster", "namespace", "skip", e, ms)
        }
    }
    let policies = match pol_list {
        Read::Ok(l) => {
            let names: Vec<String> = l
                .items
                .iter()
                .filter_map(|p| p.metadata.name.clone())
                .collect();
            run.row(
                "cluster",
                "network policies",
                "pass",
                if names.is_empty() {
                    format!("none in {ns}")
                } else {
                    format!("{} in {ns}: {}", names.len(), names.join(", "))
                },
                ms,
            );
            Some(l.items)
        }
        Read::Forbidden(e) | Read::Failed(e) => {
            run.skipped.push(Skipped {
                what: "networkpolicies".into(),
                why: e.clone(),
            });
            run.row("cluster", "network policies", "skip", e, ms);
            None
        }
    };
    // The CA object: (kind, data as bytes by key) when found.
    let ca_obj: Option<Read<Option<KeyData>>> = match (cm, secret) {
        (Some(r), _) => Some(map_read(r, |c: ConfigMap| {
            let mut m: BTreeMap<String, Vec<u8>> = c
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect();
            for (k, v) in c.binary_data.unwrap_or_default() {
                m.insert(k, v.0);
            }
            m
        })),
        (None, Some(r)) => Some(map_read(r, |c: Secret| {
            let mut m: BTreeMap<String, Vec<u8>> = c
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            for (k, v) in c.string_data.unwrap_or_default() {
                m.insert(k, v.into_bytes());
            }
            m
        })),
        (None, None) => None,
    };
    let ca = match ca_obj {
        None => {
            let detail = if s.sslmode == SslMode::Disable || !s.external {
                "no CA referenced (not needed)".to_string()
            } else {
                "no CA referenced in db.tls.ca.valueFrom".to_string()
            };
            run.row("cluster", "ca object", "skip", detail, None);
            None
        }
        Some(r) => ca_checks(run, s, r, ns_missing, ms),
    };
    let mut dns = crate::sources::dns::read_dns(client, timeout, true).await;
    dns.namespaces.extend(sc_ns);
    Some(ClusterFacts { policies, ca, dns })
}

pub(crate) fn map_read<T, U>(r: Read<Option<T>>, f: impl FnOnce(T) -> U) -> Read<Option<U>> {
    match r {
        Read::Ok(v) => Read::Ok(v.map(f)),
        Read::Forbidden(e) => Read::Forbidden(e),
        Read::Failed(e) => Read::Failed(e),
    }
}
