//! Live collection: reads a Smart Check install from the API server into the same
//! evidence model a bundle gives. Everything that does not depend on something else is
//! fetched at once (pods, events, ConfigMaps, Secrets, services, deployments,
//! NetworkPolicies, namespaces, nodes, version); then the logs of every container worth
//! reading, with a bounded number of requests in flight. A 403 is recorded as skipped
//! and the run goes on; read-only calls only (get/list).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use futures::{stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams, LogParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::de::DeserializeOwned;

use super::access::Access;
use crate::analysis::scan::Scanner;
use crate::catalogue::Catalogue;
use crate::model::error::InputError;
use crate::model::evidence::{has_db_init, is_db_init, Evidence, Log, SourceKind};
use crate::redact::{self, SecretString};

/// How to reach the cluster and how much to read.
#[derive(Clone, Debug)]
pub struct Options {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// `None`: the chart's default, with auto-detection as fallback.
    pub release: Option<String>,
    pub timeout: Duration,
    pub tail: i64,
    pub max_log_bytes: i64,
    pub concurrency: usize,
    /// Keep the raw logs (for writing a bundle).
    pub keep_raw: bool,
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kubeconfig: None,
            context: None,
            namespace: None,
            release: None,
            timeout: Duration::from_secs(10),
            tail: 5000,
            max_log_bytes: 2 << 20,
            // Every log of a typical install (15 to 25 pods) in one round; 200 pods in two
            // (the collection bench: 125x the sequential baseline, 1.8x the 3-round-trip
            // bound at 200 pods / 20 ms). Log reads are long-running requests, which the
            // API server does not count against its in-flight limits.
            concurrency: 128,
            keep_raw: false,
            progress: false,
        }
    }
}

/// A client for the configured cluster, with its default namespace and a name for
/// reports.
pub async fn client(opts: &Options) -> anyhow::Result<(Client, String, String)> {
    let kco = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    let mut cfg = match &opts.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| {
                InputError::new(format!("kubeconfig {}: {e}", path.display()))
            })?;
            Config::from_custom_kubeconfig(kc, &kco)
                .await
                .map_err(|e| InputError::new(format!("kubeconfig {}: {e}", path.display())))?
        }
        None if opts.context.is_some() => Config::from_kubeconfig(&kco)
            .await
            .map_err(|e| InputError::new(format!("kubeconfig: {e}")))?,
        None => Config::infer().await.map_err(|e| {
            InputError::new(format!(
                "no cluster configured ({e}); pass --kubeconfig, set KUBECONFIG, or run inside a pod"
            ))
        })?,
    };
    cfg.connect_timeout = Some(opts.timeout);
    cfg.read_timeout = Some(opts.timeout);
    let name = format!("cluster {}", cfg.cluster_url);
    let ns = opts
        .namespace
        .clone()
        .unwrap_or_else(|| cfg.default_namespace.clone());
    let client =
        Client::try_from(cfg).map_err(|e| InputError::new(format!("cluster client: {e}")))?;
    Ok((client, ns, name))
}

/// Result of one read: the objects, or why there are none.
enum Got<T> {
    Ok(Vec<T>),
    Skipped(String),
}

async fn list<K>(api: Api<K>, timeout: Duration) -> Result<Got<K>, anyhow::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match super::access::read(timeout, api.list(&ListParams::default())).await {
        Access::Ok(l) => Ok(Got::Ok(l.items)),
        Access::Forbidden(why) | Access::NotFound(why) | Access::TimedOut(why) => {
            Ok(Got::Skipped(why))
        }
        Access::Error(e) => Err(unreachable(e)),
    }
}

fn unreachable(e: kube::Error) -> anyhow::Error {
    InputError::new(format!("cannot read from the cluster: {e}")).into()
}

/// Collects the evidence of the Smart Check install in `namespace`.
pub async fn collect(
    client: &Client,
    namespace: &str,
    origin: &str,
    opts: &Options,
    cat: &Catalogue,
    scanner: &Scanner,
) -> anyhow::Result<Evidence> {
    let t = opts.timeout;
    let ns_api = |c: &Client| (c.clone(), namespace.to_string());
    let (c, ns) = ns_api(client);
    // Round 1: everything independent, at once.
    let (pods, events, cms, secrets, svcs, deps, nps, nss, nodes, version) = tokio::join!(
        list(Api::<Pod>::namespaced(c.clone(), &ns), t),
        list(Api::<Event>::namespaced(c.clone(), &ns), t),
        list(Api::<ConfigMap>::namespaced(c.clone(), &ns), t),
        list(Api::<Secret>::namespaced(c.clone(), &ns), t),
        list(Api::<Service>::namespaced(c.clone(), &ns), t),
        list(Api::<Deployment>::namespaced(c.clone(), &ns), t),
        list(Api::<NetworkPolicy>::namespaced(c.clone(), &ns), t),
        list(Api::<Namespace>::all(c.clone()), t),
        list(Api::<Node>::all(c.clone()), t),
        tokio::time::timeout(t, c.apiserver_version()),
    );
    let mut ev = Evidence::new(SourceKind::Cluster, origin);
    ev.namespace = Some(namespace.to_string());
    macro_rules! take {
        ($got:expr, $field:ident, $what:expr) => {
            match $got? {
                Got::Ok(v) => ev.$field = v,
                Got::Skipped(why) => ev.skip(format!("{} in namespace {namespace}", $what), why),
            }
        };
        (cluster $got:expr, $field:ident, $what:expr) => {
            match $got? {
                Got::Ok(v) => ev.$field = v,
                Got::Skipped(why) => ev.skip($what.to_string(), why),
            }
        };
    }
    take!(pods, pods, "pods");
    take!(events, events, "events");
    take!(cms, configmaps, "configmaps");
    take!(svcs, services, "services");
    take!(deps, deployments, "deployments");
    take!(nps, network_policies, "networkpolicies");
    take!(cluster nss, namespaces, "namespaces");
    take!(cluster nodes, nodes, "nodes");
    match version {
        Ok(Ok(v)) => ev.version = Some(v),
        Ok(Err(e)) => ev.skip("server version", e.to_string()),
        Err(_) => ev.skip("server version", format!("timed out after {t:?}")),
    }
    ev.release = crate::settings::pod_env::detect_release(&ev.pods, opts.release.as_deref());
    match secrets? {
        Got::Ok(mut v) => {
            take_secret_values(&mut ev, &mut v);
            ev.secrets = v;
        }
        Got::Skipped(why) => ev.skip(format!("secrets in namespace {namespace}"), why),
    }

    // Round 2: logs, bounded concurrency. The requests run in a task of their own and
    // hand each log over as it arrives; this task scans it meanwhile, so scanning (CPU)
    // overlaps the requests still in flight. Scanning inside the request stream would
    // hold back the next request by the scan's time (a slot is refilled only once its
    // future, scan included, is done); scanning after the last log has arrived would add
    // every scan to the wall time.
    let wanted_logs = log_targets(&ev);
    let total = wanted_logs.len();
    let progress = opts.progress && std::io::stderr().is_terminal();
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let (tail, max_bytes) = (opts.tail, opts.max_log_bytes);
    let concurrency = opts.concurrency.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Dropping the set (this future cancelled) aborts the requests.
    let mut fetch = tokio::task::JoinSet::new();
    fetch.spawn(async move {
        stream::iter(wanted_logs)
            .map(|(pod, container, previous)| {
                let api = pods_api.clone();
                async move {
                    let lp = LogParams {
                        container: Some(container.clone()),
                        previous,
                        tail_lines: Some(tail),
                        limit_bytes: Some(max_bytes),
                        ..Default::default()
                    };
                    let r = tokio::time::timeout(t, api.logs(&pod, &lp)).await;
                    (pod, container, previous, r)
                }
            })
            .buffer_unordered(concurrency)
            .for_each(|got| {
                let _ = tx.send(got);
                async {}
            })
            .await;
    });
    let mut results = Vec::with_capacity(total);
    while let Some((pod, container, previous, r)) = rx.recv().await {
        let r = r.map(|r| {
            r.map(|text| {
                let scan = scanner.scan(cat, text.as_bytes(), Some(&container));
                (text, scan)
            })
        });
        results.push((pod, container, previous, r));
        if progress {
            eprint!("\rcollecting logs {}/{total}   ", results.len());
        }
    }
    // The channel closes when the fetch task ends, also by a panic: pass that on.
    if let Some(Err(e)) = fetch.join_next().await {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    for (pod, container, previous, r) in results {
        let what = format!(
            "log {namespace}/{pod}/{container}{}",
            if previous { " (previous)" } else { "" }
        );
        let (text, scan) = match r {
            Err(_) => {
                ev.skip(what, format!("timed out after {t:?}"));
                continue;
            }
            Ok(Err(kube::Error::Api(s))) if s.code == 400 || s.code == 404 => continue, // not started yet / no previous
            Ok(Err(kube::Error::Api(s))) => {
                ev.skip(what, format!("{}: {}", s.reason, s.message));
                continue;
            }
            Ok(Err(e)) => {
                ev.skip(what, e.to_string());
                continue;
            }
            Ok(Ok((text, scan))) => (text, scan?),
        };
        ev.logs.push(Log {
            namespace: Some(namespace.to_string()),
            pod: Some(pod.clone()),
            container: Some(container.clone()),
            previous,
            scan,
            raw: opts.keep_raw.then(|| text.into_bytes()),
            origin: format!(
                "/api/v1/namespaces/{namespace}/pods/{pod}/log?container={container}{}",
                if previous { "&previous=true" } else { "" }
            ),
        });
    }
    ev.logs.sort_by(|a, b| {
        (&a.pod, &a.container, a.previous).cmp(&(&b.pod, &b.container, b.previous))
    });
    crate::settings::pod_env::from_pods(&mut ev);
    super::secret_ca::read(client, namespace, &mut ev, t).await;
    Ok(ev)
}

/// Keeps what the doctor needs from Secret values and drops the rest: the latest Helm
/// release of Smart Check (decoded, values redacted) and the DB password (in memory,
/// for the probe). Every Secret is then reduced to its keys.
fn take_secret_values(ev: &mut Evidence, secrets: &mut [Secret]) {
    let release = ev
        .release
        .clone()
        .unwrap_or_else(|| crate::settings::pod_env::DEFAULT_RELEASE.into());
    if let Some(s) = crate::settings::helm::latest(secrets, &release) {
        match crate::settings::helm::decode_release_with_password(s) {
            Ok((rel, pw)) => {
                for (k, v) in crate::settings::helm::db_settings(&rel) {
                    ev.set(k, v, format!("helm release {} v{}", rel.name, rel.revision));
                }
                ev.db_password = pw;
                ev.helm = Some(rel);
            }
            Err(e) => ev.skip(
                format!(
                    "helm release secret {}",
                    s.metadata.name.clone().unwrap_or_default()
                ),
                e,
            ),
        }
    }
    // The Secrets db-init's PGPASSWORD and PGUSER come from (the chart's
    // `<fullname>-db`), else that Secret by its conventional name.
    let refs = ev
        .dssc_pods()
        .into_iter()
        .filter(|p| has_db_init(p))
        .map(crate::settings::pod_env::db_init_secret_refs)
        .find(|r| r.contains_key("PGPASSWORD"))
        .unwrap_or_default();
    let value = |name: &str, key: &str| {
        secrets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
            .and_then(|s| s.data.as_ref()?.get(key))
            .and_then(|b| String::from_utf8(b.0.clone()).ok())
            .filter(|v| !v.is_empty() && v != redact::HIDDEN)
    };
    if ev.db_password.is_none() {
        if let Some((name, key)) = refs.get("PGPASSWORD") {
            ev.db_password = value(name, key).map(SecretString::from);
        }
    }
    if let Some((name, key)) = refs.get("PGUSER") {
        ev.db_user = value(name, key);
    }
    if ev.db_password.is_none() {
        let fullname = fullname(&release);
        if let Some(pw) = secrets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(&format!("{fullname}-db")))
            .and_then(|s| s.data.as_ref()?.get("database-password"))
            .and_then(|b| String::from_utf8(b.0.clone()).ok())
        {
            ev.db_password = Some(SecretString::from(pw));
        }
    }
    for s in secrets.iter_mut() {
        redact::secret_keys_only(s);
    }
}

/// The chart's fullname: `<release>-smartcheck` unless the release name already
/// contains `smartcheck`.
pub fn fullname(release: &str) -> String {
    if release.contains("smartcheck") {
        release.to_string()
    } else {
        format!("{release}-smartcheck")
    }
}

/// The logs worth reading, as (pod, container, previous): every init container of the
/// release's pods (db-init first in the guide's order), and every container that has
/// restarted, current and previous.
fn log_targets(ev: &Evidence) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for p in ev.dssc_pods() {
        let name = p.metadata.name.clone().unwrap_or_default();
        let status = p.status.as_ref();
        let mut restarts: BTreeMap<String, bool> = BTreeMap::new();
        for cs in status
            .and_then(|s| s.init_container_statuses.as_ref())
            .into_iter()
            .flatten()
            .chain(
                status
                    .and_then(|s| s.container_statuses.as_ref())
                    .into_iter()
                    .flatten(),
            )
        {
            let started =
                cs.state.as_ref().is_some_and(|s| s.waiting.is_none()) || cs.restart_count > 0;
            let prev = cs.restart_count > 0
                || cs
                    .last_state
                    .as_ref()
                    .is_some_and(|s| s.terminated.is_some());
            if started || prev {
                restarts.insert(cs.name.clone(), prev);
            }
        }
        let spec = p.spec.as_ref();
        for c in spec
            .and_then(|s| s.init_containers.as_ref())
            .into_iter()
            .flatten()
        {
            let Some(&prev) = restarts.get(&c.name) else {
                continue;
            };
            if is_db_init(&c.name) || prev {
                out.push((name.clone(), c.name.clone(), false));
                if prev {
                    out.push((name.clone(), c.name.clone(), true));
                }
            }
        }
        for c in spec.map(|s| s.containers.as_slice()).unwrap_or_default() {
            if restarts.get(&c.name) == Some(&true) {
                out.push((name.clone(), c.name.clone(), false));
                out.push((name.clone(), c.name.clone(), true));
            }
        }
    }
    out
}
