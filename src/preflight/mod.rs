//! `kubectl dssc-doctor preflight -f overrides.yaml`: will this install come up? Checked
//! before `helm install`, in four groups of pass/warn/fail/skip lines, then findings:
//!
//! * **values**: the merged overrides (malformed YAML is a usage error, exit 2) and the
//!   checks on the values alone (`settings::check`).
//! * **cluster** (skipped under `--offline` or when the API server cannot be reached):
//!   server version, nodes, the namespace, the CA ConfigMap/Secret and its key (MNT001 /
//!   MNT002 before any pod fails) and the CA bundle itself (TLS007-009). All reads run
//!   concurrently on one client under `--timeout`; a forbidden read is a `skip` line.
//! * **network**: the NetworkPolicies in the namespace plus the chart's own
//!   (`netpol::chart_policies`), evaluated for every pod of the chart that uses the
//!   database: egress to the database's resolved addresses on db.port (NET004) and DNS
//!   (NET005), naming the blocking policies and the rule that would allow the traffic.
//! * **database**: the staged probe (`probe::run`) with the values' settings and the CA
//!   read from the cluster, as db-init would connect.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Secret};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams};

use crate::catalogue::{Catalogue, Severity};
use crate::model::evidence::{Setting, Skipped, SourceKind};
use crate::model::findings::{FindingSet, Hit, Origin, Subject};
use crate::netpol::{self, Peer, PodRef, DB_SERVICES};
use crate::probe::{self, ProbeConfig, SslMode, VersionRange};
use crate::report::{CheckLine, Report, SourceInfo};
use crate::settings::pod_env::{CHART, DEFAULT_RELEASE};
use crate::settings::{self, CaKind, DbSettings, TlsMode, Values};

/// What a preflight run is told: how to reach the cluster, what to skip, and the
/// probe's limits.
#[derive(Clone, Debug)]
pub struct Options {
    pub cluster: crate::sources::live::Options,
    /// Values only: no cluster reads, no network checks, no database probe.
    pub offline: bool,
    pub no_probe: bool,
    /// How many values files and `--set` strings were merged (for the `load` line).
    pub files: usize,
    pub sets: usize,
    pub samples: usize,
    pub latency: probe::LatencyThresholds,
    pub supported_versions: VersionRange,
}

/// 3 when a check failed or an error finding exists, else 4 with a warning, else 0.
pub fn exit_code(r: &Report) -> i32 {
    let by_rows = if r.checks.iter().any(|c| c.result == "fail") {
        3
    } else if r.checks.iter().any(|c| c.result == "warn") {
        4
    } else {
        0
    };
    match (r.exit_code(), by_rows) {
        (3, _) | (_, 3) => 3,
        (4, _) | (_, 4) => 4,
        _ => 0,
    }
}

struct Run<'a> {
    cat: &'a Catalogue,
    set: FindingSet<'a>,
    rows: Vec<CheckLine>,
    skipped: Vec<Skipped>,
    context: BTreeMap<String, String>,
    namespace: String,
    release: String,
}

impl Run<'_> {
    fn row(&mut self, group: &str, name: &str, result: &str, detail: String, t0: Option<Instant>) {
        self.rows.push(CheckLine {
            group: group.into(),
            name: name.into(),
            result: result.into(),
            detail,
            ms: t0.map(|t| t.elapsed().as_secs_f64() * 1000.0),
        });
    }

    fn hit(&mut self, id: &str, subject: &str, text: String, captures: Vec<(String, String)>) {
        let Some(rule) = self.cat.index_of(id) else {
            return;
        };
        self.set.add(Hit::single(
            rule,
            captures,
            Some(Subject::Other(subject.to_string())),
            Origin::Cluster,
            text,
            self.context.clone(),
        ));
    }
}

fn severity_result(s: Severity) -> &'static str {
    match s {
        Severity::Error => "fail",
        Severity::Warn => "warn",
        _ => "pass",
    }
}

/// The whole run, as a report.
pub async fn preflight(o: &Options, cat: &Catalogue, vals: &Values) -> Report {
    let settings = vals.db_settings();
    let release = o
        .cluster
        .release
        .clone()
        .unwrap_or_else(|| DEFAULT_RELEASE.into());
    let timeout = o.cluster.timeout;
    let client = if o.offline {
        None
    } else {
        let opts = o.cluster.clone();
        Some(
            crate::sources::live::client(&opts)
                .await
                .map_err(|e| format!("{e:#}")),
        )
    };
    let namespace = match &client {
        Some(Ok((_, ns, _))) => ns.clone(),
        _ => o
            .cluster
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
    };
    let mut context: BTreeMap<String, String> = settings
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    context.insert("namespace".into(), namespace.clone());
    context.insert("release".into(), release.clone());
    context.insert("chart".into(), CHART.into());
    let mut run = Run {
        cat,
        set: FindingSet::new(cat),
        rows: Vec::new(),
        skipped: Vec::new(),
        context,
        namespace: namespace.clone(),
        release: release.clone(),
    };

    values_group(&mut run, o, vals);

    let mut cluster = None;
    match client {
        None => {
            run.row(
                "cluster",
                "cluster",
                "skip",
                "--offline: no cluster, network or database checks".into(),
                None,
            );
        }
        Some(Err(e)) => {
            run.row(
                "cluster",
                "cluster",
                "skip",
                format!("no cluster access: {e}"),
                None,
            );
            run.skipped.push(Skipped {
                what: "cluster checks".into(),
                why: e,
            });
        }
        Some(Ok((c, _, _))) => cluster = cluster_group(&mut run, &c, &settings, timeout).await,
    }

    let ca = cluster.as_ref().and_then(|c| c.ca.clone());
    let mut probe_json = None;
    if !o.offline {
        network_group(&mut run, vals, &settings, cluster.as_ref(), timeout).await;
        probe_json = database_group(&mut run, o, o.no_probe, timeout, vals, &settings, ca).await;
    }

    let mut defaults = run.context.clone();
    defaults.remove("pods");
    let findings = run.set.finish(&defaults);
    let mut report = Report::new(
        SourceInfo {
            kind: SourceKind::Preflight,
            origin: format!("preflight {}", vals.sources().join(" ")),
            namespace: Some(namespace),
            release: Some(release),
        },
        findings,
    );
    for (k, v) in settings.pairs() {
        let path = match k {
            "host" => "db.host",
            "port" => "db.port",
            "user" => "db.user",
            "sslmode" => "db.tls.mode",
            _ => "db.tls.ca",
        };
        report.settings.insert(
            k.to_string(),
            Setting {
                value: v,
                from: vals.origin(path).unwrap_or("default").to_string(),
            },
        );
    }
    report.settings.insert(
        "password".into(),
        Setting {
            value: if vals.password().is_some_and(|p| !p.is_empty()) {
                "(set)"
            } else {
                "(none)"
            }
            .into(),
            from: vals.origin("db.password").unwrap_or("default").to_string(),
        },
    );
    report.checks = run.rows;
    report.probe = probe_json;
    report.skipped = run.skipped;
    report.summarize();
    report
}

fn values_group(run: &mut Run, o: &Options, vals: &Values) {
    let sources = vals.sources();
    run.row(
        "values",
        "load",
        "pass",
        format!(
            "{} file(s){}{}",
            o.files,
            if o.sets == 0 {
                String::new()
            } else {
                format!(", {} --set", o.sets)
            },
            if sources.is_empty() {
                String::new()
            } else {
                format!(": {}", sources.join(", "))
            }
        ),
        None,
    );
    let issues = settings::check(vals);
    settings::add_findings(run.cat, &mut run.set, vals, &issues);
    if issues.is_empty() {
        run.row(
            "values",
            "db settings",
            "pass",
            "no problems found".into(),
            None,
        );
    }
    for i in &issues {
        let sev = run
            .cat
            .get(i.id)
            .map(|r| r.severity)
            .unwrap_or(Severity::Warn);
        run.row(
            "values",
            &format!("{} {}", i.id, i.subject),
            severity_result(sev),
            i.evidence.clone(),
            None,
        );
    }
}

/// What the cluster group learned, for the later groups.
struct ClusterFacts {
    /// The NetworkPolicies of the namespace, when readable.
    policies: Option<Vec<NetworkPolicy>>,
    /// The CA bundle (PEM) and where it came from, when readable.
    ca: Option<(Vec<u8>, String)>,
}

/// A ConfigMap's or Secret's entries, as bytes by key.
type KeyData = BTreeMap<String, Vec<u8>>;

/// How a read ended.
enum Read<T> {
    Ok(T),
    Forbidden(String),
    Failed(String),
}

async fn timed<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Read<T> {
    match tokio::time::timeout(timeout, f).await {
        Err(_) => Read::Failed(format!("no answer within {timeout:?}")),
        Ok(Ok(v)) => Read::Ok(v),
        Ok(Err(kube::Error::Api(s))) if s.code == 401 || s.code == 403 => {
            Read::Forbidden(format!("forbidden ({}): {}", s.code, s.message))
        }
        Ok(Err(e)) => Read::Failed(e.to_string()),
    }
}

async fn cluster_group(
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
    match ns_obj {
        Read::Ok(Some(_)) => run.row("cluster", "namespace", "pass", format!("{ns} exists"), ms),
        Read::Ok(None) => {
            ns_missing = true;
            let text = format!("namespace {ns} does not exist");
            run.hit("PRE001", &format!("namespace {ns}"), text.clone(), vec![]);
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
            let detail = if s.sslmode == TlsMode::Disable || !s.external {
                "no CA referenced (not needed)".to_string()
            } else {
                "no CA referenced in db.tls.ca.valueFrom".to_string()
            };
            run.row("cluster", "ca object", "skip", detail, None);
            None
        }
        Some(r) => ca_checks(run, s, r, ns_missing, ms),
    };
    Some(ClusterFacts { policies, ca })
}

fn map_read<T, U>(r: Read<Option<T>>, f: impl FnOnce(T) -> U) -> Read<Option<U>> {
    match r {
        Read::Ok(v) => Read::Ok(v.map(f)),
        Read::Forbidden(e) => Read::Forbidden(e),
        Read::Failed(e) => Read::Failed(e),
    }
}

/// The existing key nearest to `want`: one that starts with it (`ca` → `ca.pem`), else
/// the smallest edit distance.
pub fn closest_key<'k>(want: &str, keys: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    keys.into_iter().min_by_key(|k| {
        let prefix = k.starts_with(want) || want.starts_with(*k);
        (!prefix, settings::osa_distance(want, k), k.len())
    })
}

fn ca_checks(
    run: &mut Run,
    s: &DbSettings,
    r: Read<Option<KeyData>>,
    ns_missing: bool,
    ms: Option<Instant>,
) -> Option<(Vec<u8>, String)> {
    let ns = run.namespace.clone();
    let kind = s.ca_kind.map(CaKind::as_str).unwrap_or("configmap");
    let name = s.ca_name.clone().unwrap_or_default();
    let key = s.ca_key.clone().unwrap_or_default();
    let subject = format!("{kind} {ns}/{name}");
    let data = match r {
        Read::Forbidden(e) | Read::Failed(e) => {
            run.skipped.push(Skipped {
                what: format!("{kind} {name}"),
                why: e.clone(),
            });
            run.row("cluster", "ca object", "skip", e, ms);
            return None;
        }
        Read::Ok(None) => {
            let text = format!(
                "MountVolume.SetUp failed for volume \"database-ca\" : {kind} \"{name}\" not found (before install: {kind} {name} does not exist in namespace {ns}{})",
                if ns_missing { ", which does not exist yet" } else { "" }
            );
            run.hit(
                "MNT001",
                &subject,
                text.clone(),
                vec![
                    ("volume".into(), "database-ca".into()),
                    ("objkind".into(), kind.into()),
                    ("object".into(), name.clone()),
                ],
            );
            run.row(
                "cluster",
                "ca object",
                "fail",
                format!("{kind} {name} not found in namespace {ns}"),
                ms,
            );
            return None;
        }
        Read::Ok(Some(d)) => d,
    };
    let Some(pem) = data.get(&key) else {
        let closest = closest_key(&key, data.keys().map(String::as_str)).map(str::to_string);
        let have = if data.is_empty() {
            "it has no keys".to_string()
        } else {
            format!(
                "it has {}",
                data.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        let mut captures = vec![
            ("objkind".to_string(), kind.to_string()),
            ("key".to_string(), key.clone()),
        ];
        if let Some(c) = &closest {
            captures.push(("closest".into(), c.clone()));
        }
        let text = format!(
            "{kind} references non-existent config key: {key}{} (before install: {kind} {name} in namespace {ns} has no key {key}; {have})",
            closest
                .as_ref()
                .map(|c| format!(" (closest existing key: {c})"))
                .unwrap_or_default()
        );
        run.hit("MNT002", &subject, text, captures);
        run.row(
            "cluster",
            "ca object",
            "fail",
            format!(
                "{kind} {name} has no key {key}; {have}{}",
                closest
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default()
            ),
            ms,
        );
        return None;
    };
    run.row(
        "cluster",
        "ca object",
        "pass",
        format!("{kind} {name} in {ns} has key {key}"),
        ms,
    );
    if pem.as_slice() == crate::redact::HIDDEN.as_bytes() {
        run.row(
            "cluster",
            "ca certificate",
            "skip",
            format!("the value of {kind} {name} is hidden"),
            None,
        );
        return None;
    }
    let origin = format!("{kind} {name} key {key}");
    let (hits, subjects) = probe::cert::bundle_findings(pem, &origin);
    let mut worst = "pass";
    let mut problems = Vec::new();
    for h in &hits {
        if let Some(rule) = run.cat.get(&h.id) {
            let r = severity_result(rule.severity);
            if r == "fail" || (r == "warn" && worst == "pass") {
                worst = r;
            }
        }
        problems.push(h.evidence.clone());
        run.hit(&h.id, &subject, h.evidence.clone(), h.captures.clone());
    }
    let detail = if problems.is_empty() {
        format!(
            "{} CA certificate(s): {}",
            subjects.len(),
            subjects.join("; ")
        )
    } else {
        problems.join("; ")
    };
    run.row("cluster", "ca certificate", worst, detail, None);
    if subjects.is_empty() {
        None
    } else {
        Some((pem.clone(), origin))
    }
}

/// The database's addresses: the IP itself, or db.host resolved under `timeout`.
async fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((bare, port))).await {
        Err(_) => Err(format!("{bare} did not resolve within {timeout:?}")),
        Ok(Err(e)) => Err(format!("{bare} does not resolve: {e}")),
        Ok(Ok(addrs)) => {
            let set: BTreeSet<IpAddr> = addrs.map(|a| a.ip()).collect();
            Ok(set.into_iter().collect())
        }
    }
}

async fn network_group(
    run: &mut Run<'_>,
    vals: &Values,
    s: &DbSettings,
    cluster: Option<&ClusterFacts>,
    timeout: Duration,
) {
    let Some(existing) = cluster.and_then(|c| c.policies.as_ref()) else {
        run.row(
            "network",
            "network policies",
            "skip",
            "the namespace's NetworkPolicies could not be read".into(),
            None,
        );
        return;
    };
    let (ns, release) = (run.namespace.clone(), run.release.clone());
    let mut policies = existing.clone();
    let chart = netpol::chart_policies(vals, &ns, &release);
    let chart_note = if chart.is_empty() {
        "the chart's policies are off (networkPolicy.enabled: false)"
    } else {
        "with the chart's own policies"
    };
    policies.extend(chart);
    let pods: Vec<PodRef> = DB_SERVICES
        .iter()
        .map(|svc| PodRef::chart_pod(&ns, &release, svc))
        .collect();
    let ctx = run.context.clone();

    // DNS first: the pods need it to find db.host.
    let t0 = Instant::now();
    let mut issues = Vec::new();
    let dns_peer = Peer::kube_dns();
    for p in &pods {
        issues.extend(netpol::check_dns(&policies, p, &release, &dns_peer));
    }
    match issues.first() {
        None => run.row(
            "network",
            "dns egress",
            "pass",
            format!("DNS (UDP/TCP 53) to {dns_peer} is allowed ({chart_note})"),
            Some(t0),
        ),
        Some(i) => {
            let detail = format!(
                "blocked by {} for {} of {} pods; allow it with:\n{}",
                i.capture("policies").unwrap_or("?"),
                issues.len(),
                pods.len(),
                i.allow.apply
            );
            run.row("network", "dns egress", "fail", detail, Some(t0));
        }
    }
    netpol::add_findings(run.cat, &mut run.set, &issues, Origin::Cluster, None, &ctx);

    if !s.external {
        run.row(
            "network",
            "database egress",
            "skip",
            "built-in database (db.host is empty)".into(),
            None,
        );
        return;
    }
    let t0 = Instant::now();
    let ips = match resolve(&s.host, s.port, timeout).await {
        Ok(ips) if !ips.is_empty() => ips,
        r => {
            let why = r
                .err()
                .unwrap_or_else(|| format!("{} has no address", s.host));
            run.row(
                "network",
                "database egress",
                "skip",
                format!("cannot evaluate: {why} from here"),
                Some(t0),
            );
            return;
        }
    };
    let mut issues = Vec::new();
    for p in &pods {
        for ip in &ips {
            issues.extend(netpol::check_db_egress(&policies, p, &release, *ip, s.port));
        }
    }
    let addrs = ips
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match issues.first() {
        None => run.row(
            "network",
            "database egress",
            "pass",
            format!("TCP {} to {addrs} is allowed ({chart_note})", s.port),
            Some(t0),
        ),
        Some(i) => {
            let detail = format!(
                "TCP {} to {} is blocked by {} for {} of {} pods; allow it with:\n{}",
                s.port,
                i.capture("dbaddr").unwrap_or("?"),
                i.capture("policies").unwrap_or("?"),
                issues.len() / ips.len().max(1),
                pods.len(),
                i.allow.apply
            );
            run.row("network", "database egress", "fail", detail, Some(t0));
        }
    }
    netpol::add_findings(run.cat, &mut run.set, &issues, Origin::Cluster, None, &ctx);
}

fn ssl_mode(m: TlsMode) -> SslMode {
    match m {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Require => SslMode::Require,
        TlsMode::VerifyCa => SslMode::VerifyCa,
        TlsMode::VerifyFull => SslMode::VerifyFull,
    }
}

async fn database_group(
    run: &mut Run<'_>,
    o: &Options,
    no_probe: bool,
    timeout: Duration,
    vals: &Values,
    s: &DbSettings,
    ca: Option<(Vec<u8>, String)>,
) -> Option<serde_json::Value> {
    if no_probe {
        run.row("database", "probe", "skip", "--no-probe".into(), None);
        return None;
    }
    if !s.external {
        run.row(
            "database",
            "probe",
            "skip",
            "built-in database: nothing to probe before install".into(),
            None,
        );
        return None;
    }
    let (ca_pem, ca_origin) = match ca {
        Some((p, o)) => (Some(p), Some(o)),
        None => (None, None),
    };
    let cfg = ProbeConfig {
        host: s.host.clone(),
        port: s.port,
        user: s.user.clone().unwrap_or_else(|| "postgres".into()),
        password: vals.password().map(str::to_string),
        database: "postgres".into(),
        sslmode: ssl_mode(s.sslmode),
        ca_pem,
        ca_origin,
        connect_timeout: timeout,
        samples: o.samples,
        latency: o.latency,
        services: u32::try_from(DB_SERVICES.len()).unwrap_or(6),
        max_open_connections: vals
            .db
            .max_open_connections
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(25),
        supported_versions: o.supported_versions,
        ..ProbeConfig::default()
    };
    let res = probe::run(&cfg).await;
    probe::add_findings(run.cat, &mut run.set, &res);
    run.rows.extend(probe::check_lines(&res));
    serde_json::to_value(&res).ok()
}
