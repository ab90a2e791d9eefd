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
//!   database against the cluster DNS and namespaces as read: TCP to the database's
//!   resolved addresses (NET004), DNS over UDP (NET005) and over TCP only (NET010), or
//!   cannot tell (NET011), naming the isolating policies and a rule for exactly the pods
//!   they isolate.
//! * **database**: the staged probe (`probe::run`) with the values' settings and the CA
//!   read from the cluster (or, with `--ca-file`, the CA about to be installed; a CA
//!   object not created yet is then PRE002 with the command), as db-init would connect.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Secret};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams};

use crate::catalogue::{Catalogue, RuleId, Severity};
use crate::model::evidence::{Setting, Skipped, SourceKind};
use crate::model::findings::{FindingSet, Hit, Origin, Subject};
use crate::netpol::{self, SourcePod, DB_SERVICES};
use crate::probe::{self, ProbeConfig, SslMode, VersionRange};
use crate::report::{CheckLine, Report, SourceInfo};
use crate::settings::pod_env::{CHART, DEFAULT_RELEASE};
use crate::settings::{self, CaKind, DbSettings, Values};

mod values;
use values::*;
mod cluster;
use cluster::*;
mod ca;
use ca::*;
mod network;
use network::*;
mod database;
use database::*;

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
    /// `--ca-file`: the CA the CA object is to hold; the probe uses it.
    pub ca_file: Option<CaFile>,
}

/// A CA bundle read from a file (`--ca-file`), as given on the command line.
#[derive(Clone, Debug)]
pub struct CaFile {
    /// The path as the user wrote it (it goes into the `kubectl create` command).
    pub path: String,
    pub pem: Vec<u8>,
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

pub(crate) struct Run<'a> {
    cat: &'a Catalogue,
    set: FindingSet<'a>,
    rows: Vec<CheckLine>,
    skipped: Vec<Skipped>,
    context: BTreeMap<String, String>,
    namespace: String,
    release: String,
    /// `--ca-file` as given, when set.
    ca_file: Option<String>,
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

    fn hit(&mut self, id: RuleId, subject: &str, text: String, captures: Vec<(String, String)>) {
        id.check_vars(captures.iter().map(|(k, _)| k.as_str()));
        let Some(rule) = self.cat.index_of(id.as_str()) else {
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
        ca_file: o.ca_file.as_ref().map(|f| f.path.clone()),
    };

    values_group(&mut run, o, vals);
    let ca_file = o.ca_file.as_ref().and_then(|f| ca_file_checks(&mut run, f));

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

    // The CA of --ca-file is the one the pods are to get; else the cluster's.
    let ca = ca_file.or_else(|| cluster.as_ref().and_then(|c| c.ca.clone()));
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
            scope: None,
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
