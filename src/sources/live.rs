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
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::de::DeserializeOwned;

use super::access::Access;
use super::cluster_error::{self, ClusterError, Identity};
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

/// The `User-Agent` of every request, so audit logs show who read what.
pub const USER_AGENT: &str = concat!("dssc-doctor/", env!("CARGO_PKG_VERSION"));

/// A client for the configured cluster and what the kubeconfig says about it.
pub struct Target {
    pub client: Client,
    /// The context's default namespace (`default` when it names none).
    pub context_namespace: String,
    /// A name for reports: `cluster https://…`.
    pub origin: String,
    pub identity: Identity,
    /// The configuration the client was built from (for a second, watching client).
    pub config: Config,
}

/// The kubeconfig's names for the context, its user and exec plugin command.
fn identity_from(kc: &Kubeconfig, context: Option<&str>) -> Identity {
    let ctx_name = context
        .map(str::to_string)
        .or_else(|| kc.current_context.clone());
    let user = ctx_name.as_deref().and_then(|n| {
        kc.contexts
            .iter()
            .find(|c| c.name == n)
            .and_then(|c| c.context.as_ref()?.user.clone())
    });
    let exec_command = user.as_deref().and_then(|u| {
        kc.auth_infos
            .iter()
            .find(|a| a.name == u)
            .and_then(|a| a.auth_info.as_ref()?.exec.as_ref()?.command.clone())
    });
    Identity {
        server: String::new(),
        context: ctx_name,
        user,
        exec_command,
    }
}

/// A client for the configured cluster, with its default namespace and a name for
/// reports.
pub async fn client(opts: &Options) -> anyhow::Result<(Client, String, String)> {
    let t = target(opts).await?;
    let ns = opts
        .namespace
        .clone()
        .unwrap_or_else(|| t.context_namespace.clone());
    Ok((t.client, ns, t.origin))
}

/// Reads the kubeconfig (or the in-cluster configuration) and builds the client; the
/// exec credential plugin, if any, runs here.
pub async fn target(opts: &Options) -> anyhow::Result<Target> {
    let kco = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    let (mut cfg, mut identity) = match &opts.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| InputError::new(format!("kubeconfig {}: {e}", path.display())))?;
            let id = identity_from(&kc, opts.context.as_deref());
            let cfg = Config::from_custom_kubeconfig(kc, &kco)
                .await
                .map_err(|e| InputError::new(format!("kubeconfig {}: {e}", path.display())))?;
            (cfg, id)
        }
        None => {
            let kc = Kubeconfig::read().ok();
            let id = kc
                .as_ref()
                .map(|kc| identity_from(kc, opts.context.as_deref()))
                .unwrap_or_default();
            let cfg = if opts.context.is_some() {
                Config::from_kubeconfig(&kco)
                    .await
                    .map_err(|e| InputError::new(format!("kubeconfig: {e}")))?
            } else {
                Config::infer().await.map_err(|e| {
                    InputError::new(format!(
                        "no cluster configured ({e}); pass --kubeconfig, set KUBECONFIG, or run inside a pod"
                    ))
                })?
            };
            (cfg, id)
        }
    };
    // The connection (TCP and TLS handshake) must fail before the read's overall
    // deadline does, so a server that cannot be reached is said as such (with its
    // cause), not as a read that timed out.
    cfg.connect_timeout = Some(opts.timeout.mul_f64(0.75));
    cfg.read_timeout = Some(opts.timeout);
    cfg.headers.push((
        hyper::header::USER_AGENT,
        hyper::header::HeaderValue::from_static(USER_AGENT),
    ));
    identity.server = cfg
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let origin = format!("cluster {}", cfg.cluster_url);
    let context_namespace = cfg.default_namespace.clone();
    let client = Client::try_from(cfg.clone()).map_err(|e| match &e {
        kube::Error::Auth(a) => anyhow::Error::from(cluster_error::auth_plugin(&identity, a)),
        _ => InputError::new(format!("cluster client: {e}")).into(),
    })?;
    Ok(Target {
        client,
        context_namespace,
        origin,
        identity,
        config: cfg,
    })
}

/// Result of one read: the objects, or why there are none.
enum Got<T> {
    Ok(Vec<T>),
    Skipped(String),
}

async fn list<K>(api: Api<K>, timeout: Duration, who: &Identity) -> Result<Got<K>, ClusterError>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    read(timeout, who, api.list(&ListParams::default()))
        .await
        .map(|r| match r {
            Ok(l) => Got::Ok(l.items),
            Err(why) => Got::Skipped(why),
        })
}

/// One read under the deadline: the value, a reason to record it as skipped (403,
/// 404, timed out), or the end of the run (401, the server unreachable).
pub(crate) async fn read<T>(
    timeout: Duration,
    who: &Identity,
    f: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<Result<T, String>, ClusterError> {
    match super::access::read(timeout, f).await {
        Access::Ok(v) => Ok(Ok(v)),
        Access::Forbidden(why) if why.starts_with("forbidden (401)") => {
            Err(cluster_error::unauthorized(who))
        }
        Access::Forbidden(why) | Access::NotFound(why) | Access::TimedOut(why) => Ok(Err(why)),
        Access::Error(kube::Error::Api(s)) => Ok(Err(format!(
            "{} ({}): {}",
            if s.reason.is_empty() {
                "error"
            } else {
                s.reason.as_str()
            },
            s.code,
            s.message
        ))),
        Access::Error(e) => Err(cluster_error::connect(who, &e)),
    }
}

/// Collects the evidence of the Smart Check install in `namespace` (errors name only
/// the report's origin; see [`collect_as`]).
pub async fn collect(
    client: &Client,
    namespace: &str,
    origin: &str,
    opts: &Options,
    cat: &Catalogue,
    scanner: &Scanner,
) -> anyhow::Result<Evidence> {
    let who = Identity {
        server: origin.trim_start_matches("cluster ").to_string(),
        ..Default::default()
    };
    collect_as(client, namespace, origin, &who, opts, cat, scanner).await
}

/// Collects the evidence of the Smart Check install in `namespace`, reading as `who`.
pub async fn collect_as(
    client: &Client,
    namespace: &str,
    origin: &str,
    who: &Identity,
    opts: &Options,
    cat: &Catalogue,
    scanner: &Scanner,
) -> anyhow::Result<Evidence> {
    let t = opts.timeout;
    let ns_api = |c: &Client| (c.clone(), namespace.to_string());
    let (c, ns) = ns_api(client);
    // Round 1: everything independent, at once.
    let (pods, events, cms, secrets, svcs, deps, nps, nss, nodes, version) = tokio::join!(
        list(Api::<Pod>::namespaced(c.clone(), &ns), t, who),
        list(Api::<Event>::namespaced(c.clone(), &ns), t, who),
        list(Api::<ConfigMap>::namespaced(c.clone(), &ns), t, who),
        list(Api::<Secret>::namespaced(c.clone(), &ns), t, who),
        list(Api::<Service>::namespaced(c.clone(), &ns), t, who),
        list(Api::<Deployment>::namespaced(c.clone(), &ns), t, who),
        list(Api::<NetworkPolicy>::namespaced(c.clone(), &ns), t, who),
        list(Api::<Namespace>::all(c.clone()), t, who),
        list(Api::<Node>::all(c.clone()), t, who),
        read(t, who, c.apiserver_version()),
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
    if let Some(r) = opts.release.as_deref() {
        super::namespace::check_release(&ev.pods, namespace, r, who)?;
    }
    take!(events, events, "events");
    take!(cms, configmaps, "configmaps");
    take!(svcs, services, "services");
    take!(deps, deployments, "deployments");
    take!(nps, network_policies, "networkpolicies");
    take!(cluster nss, namespaces, "namespaces");
    take!(cluster nodes, nodes, "nodes");
    match version? {
        Ok(v) => ev.version = Some(v),
        Err(why) => ev.skip("server version", why),
    }
    super::dns::add_to(
        &mut ev,
        super::dns::read_for_collection(client, t, namespace).await,
    );
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
    let log_client = client.clone();
    let log_ns = namespace.to_string();
    let (tail, max_bytes) = (opts.tail, opts.max_log_bytes);
    let concurrency = opts.concurrency.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Dropping the set (this future cancelled) aborts the requests.
    let mut fetch = tokio::task::JoinSet::new();
    fetch.spawn(async move {
        stream::iter(wanted_logs)
            .map(|(pod, container, previous)| {
                let (client, ns) = (log_client.clone(), log_ns.clone());
                async move {
                    let url = log_url(&ns, &pod, &container, previous, tail, max_bytes);
                    let r = tokio::time::timeout(t, read_log(&client, url)).await;
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
            Ok(Err(kube::Error::Api(s))) if s.code == 401 => {
                return Err(cluster_error::unauthorized(who).into())
            }
            Ok(Err(kube::Error::Api(s))) => {
                let node = node_of(&ev, &pod);
                ev.skip(what, log_failure(&s, node.as_deref()));
                continue;
            }
            Ok(Err(e)) => return Err(cluster_error::connect(who, &e).into()),
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

/// Whether `kubectl logs` and `kubectl logs --previous` read the same instance of this
/// container (the kubelet's choice: the running or terminated instance for the current
/// log, the last terminated one when the container waits, `lastState` for previous).
pub fn same_instance(cs: &k8s_openapi::api::core::v1::ContainerStatus) -> bool {
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let prev = cs
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| nonempty(&t.container_id));
    let Some(prev) = prev else {
        return false; // no previous instance at all
    };
    let state = cs.state.as_ref();
    if state.is_some_and(|s| s.running.is_some()) {
        return prev.is_some() && nonempty(&cs.container_id) == prev;
    }
    if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
        return match nonempty(&t.container_id) {
            Some(id) => Some(id) == prev,
            None => true,
        };
    }
    // Waiting (CrashLoopBackOff) or unknown: the last terminated instance.
    true
}

/// `/api/v1/namespaces/NS/pods/POD/log?container=…` with the options in kubectl's order
/// (and no stray `?&`, which kube's own builder leaves in audit logs).
fn log_url(ns: &str, pod: &str, container: &str, previous: bool, tail: i64, max: i64) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("container", container);
    q.append_pair("limitBytes", &max.to_string());
    if previous {
        q.append_pair("previous", "true");
    }
    q.append_pair("tailLines", &tail.to_string());
    format!("/api/v1/namespaces/{ns}/pods/{pod}/log?{}", q.finish())
}

async fn read_log(client: &Client, url: String) -> Result<String, kube::Error> {
    let req = hyper::Request::get(url)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    client.request_text(req).await
}

/// The node a pod runs on.
fn node_of(ev: &Evidence, pod: &str) -> Option<String> {
    ev.pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(pod))
        .and_then(|p| p.spec.as_ref()?.node_name.clone())
}

/// Why a log read failed, with the fix when the API server says why.
fn log_failure(s: &kube::core::Status, node: Option<&str>) -> String {
    let msg = s.message.as_str();
    let kubelet = s.code >= 500
        && (msg.contains("/containerLogs/")
            || msg.contains("error dialing backend")
            || msg.contains(":10250"));
    if kubelet {
        let node = node.map(|n| format!(" on node {n}")).unwrap_or_default();
        return format!(
            "the API server could not reach the node's kubelet{node} to read the log ({msg}); \
             `kubectl logs` fails the same way: check the node (Ready? kubelet running? port \
             10250 reachable from the control plane? kubelet serving certificate approved?)"
        );
    }
    match (s.reason.is_empty(), s.code) {
        (true, c) => format!("error ({c}): {msg}"),
        (false, 403) => format!("forbidden (403): {msg}"),
        (false, c) => format!("{} ({c}): {msg}", s.reason),
    }
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
            // Current and previous are read separately only when they are different
            // instances: while the container waits after a failure, the kubelet serves
            // the last terminated instance for both.
            let prev = prev && !same_instance(cs);
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
