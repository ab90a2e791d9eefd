//! The staged database probe: proves from this machine what db-init sees, stage by
//! stage (DNS → TCP → SSLRequest → TLS handshake → certificate → connection → readiness
//! → latency), stopping at the first stage that fails. Each stage is timed; every
//! network operation has a timeout. Findings are raised with the same IDs as the log
//! rules, so a log finding can be "confirmed by probe".
//!
//! Library API: build a [`ProbeConfig`], call [`run`], then [`add_findings`] to merge
//! the hits into a [`FindingSet`] and [`attach`] to put the stage table and the probe's
//! JSON into a [`Report`]. The `probe` subcommand lives in [`command`].
//!
//! Submodules: [`net`] (DNS, TCP, SSLRequest), [`tls`] (handshake, chain capture),
//! [`cert`] (certificate and CA bundle analysis), [`db`] (connection, SQLSTATE
//! classification, readiness), [`latency`] (samples and percentiles).

pub mod cert;
pub mod db;
pub mod discovered;
pub mod latency;
pub mod net;
pub mod report;
pub mod tls;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::catalogue::{Catalogue, RuleId};
use crate::model::findings::{FindingSet, Hit, Origin, Subject};
use crate::report::{CheckLine, Report};

pub use discovered::{from_evidence, DiscoverOptions};
pub use latency::Stats;

pub use crate::model::tls::{SslMode, Verify};

/// Supported server versions as `server_version_num` bounds (inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VersionRange {
    pub min: u32,
    pub max: u32,
}

impl VersionRange {
    /// 9.6 to 13 as in the vendor guide.
    pub const DSSC: VersionRange = VersionRange {
        min: 90600,
        max: 139999,
    };

    pub fn contains(&self, num: u32) -> bool {
        (self.min..=self.max).contains(&num)
    }

    /// Parses `9.6-13` (major versions; a bare major covers all its minors).
    pub fn parse(s: &str) -> Result<VersionRange, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("{s}: expected MIN-MAX, e.g. 9.6-13"))?;
        let lo = major_num(a.trim()).ok_or_else(|| format!("{a}: not a version"))?;
        let hi = major_num(b.trim()).ok_or_else(|| format!("{b}: not a version"))?;
        let max = if hi >= 100000 { hi + 9999 } else { hi + 99 };
        if lo > max {
            return Err(format!("{s}: the minimum is above the maximum"));
        }
        Ok(VersionRange { min: lo, max })
    }

    pub fn label(&self) -> String {
        format!("{} to {}", version_label(self.min), version_label(self.max))
    }
}

fn major_num(s: &str) -> Option<u32> {
    let mut it = s.split('.');
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = match it.next() {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    if it.next().is_some() {
        return None;
    }
    Some(if major >= 10 {
        major * 10000
    } else {
        major * 10000 + minor * 100
    })
}

fn version_label(num: u32) -> String {
    if num >= 100000 {
        format!("{}", num / 10000)
    } else {
        format!("{}.{}", num / 10000, (num / 100) % 100)
    }
}

/// Latency thresholds for LAT001 (milliseconds, TCP connect and `SELECT 1`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LatencyThresholds {
    pub p50_ms: f64,
    pub p95_ms: f64,
}

impl Default for LatencyThresholds {
    fn default() -> Self {
        LatencyThresholds {
            p50_ms: 10.0,
            p95_ms: 25.0,
        }
    }
}

/// What to probe and how. The password stays in memory: it is never printed, logged,
/// serialised or shown by `Debug`.
#[derive(Clone)]
pub struct ProbeConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// `secrecy`: redacted in `Debug`, zeroed on drop.
    pub password: Option<crate::redact::SecretString>,
    pub database: String,
    pub sslmode: SslMode,
    /// The CA bundle (PEM), from a file or the cluster's ConfigMap/Secret.
    pub ca_pem: Option<Vec<u8>>,
    /// Where the CA came from, for evidence texts (`ca.pem`, `configmap dssc-db-trust`).
    pub ca_origin: Option<String>,
    /// Limit of each network operation (DNS, TCP, each read, the whole login).
    pub connect_timeout: Duration,
    /// db-init's PGCONNECT_TIMEOUT; LAT002 warns at half of it.
    pub pgconnect_timeout: Duration,
    /// Latency samples of TCP connect and `SELECT 1`; 0 skips the latency stage.
    pub samples: usize,
    pub latency: LatencyThresholds,
    /// Pool budget: services × db.maxOpenConnections.
    pub services: u32,
    pub max_open_connections: u32,
    pub supported_versions: VersionRange,
    /// What the caller wants said about how the settings were found (copied to the
    /// result's `notes`).
    pub notes: Vec<String>,
    /// A CA is configured but its value is not available here (a Secret): the chain
    /// cannot be verified as the pods verify it, so TLS001 only confirms a log finding.
    pub ca_withheld: bool,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            host: String::new(),
            port: 5432,
            user: "postgres".into(),
            password: None,
            database: "postgres".into(),
            sslmode: SslMode::VerifyFull,
            ca_pem: None,
            ca_origin: None,
            connect_timeout: Duration::from_secs(5),
            pgconnect_timeout: Duration::from_secs(5),
            samples: 20,
            latency: LatencyThresholds::default(),
            services: 6,
            max_open_connections: 25,
            supported_versions: VersionRange::DSSC,
            notes: Vec::new(),
            ca_withheld: false,
        }
    }
}

impl fmt::Debug for ProbeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("sslmode", &self.sslmode)
            .field("ca_origin", &self.ca_origin)
            .field("connect_timeout", &self.connect_timeout)
            .field("samples", &self.samples)
            .finish_non_exhaustive()
    }
}

/// Outcome of one stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageResult {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl StageResult {
    pub fn as_str(self) -> &'static str {
        match self {
            StageResult::Pass => "pass",
            StageResult::Warn => "warn",
            StageResult::Fail => "fail",
            StageResult::Skip => "skip",
        }
    }
}

/// One stage as reported.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    /// `dns`, `tcp`, `ssl-request`, `tls-handshake`, `certificate`, `connect`,
    /// `readiness`, `latency`.
    pub name: String,
    pub result: StageResult,
    /// Not failed (pass, warn or skip).
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A finding the probe raises: a catalogue ID, the values its fix uses, and what was
/// observed.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeHit {
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub captures: Vec<(String, String)>,
    #[serde(skip)]
    pub context: BTreeMap<String, String>,
    pub evidence: String,
}

/// Latency statistics of the latency stage.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyReport {
    pub tcp_connect: Stats,
    pub select1: Stats,
    /// The same as `select1.p50_ms`, for the report contract.
    pub p50_ms: f64,
}

/// What the server told about itself.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_connections: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_connections: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_connections: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_budget: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_privileges: Vec<String>,
}

/// The probe's whole result: the `probe` object of the JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeResult {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
    pub sslmode: SslMode,
    /// What was verified of the certificate (libpq semantics).
    pub verify: Verify,
    pub addresses: Vec<String>,
    pub stages: Vec<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyReport>,
    pub server: ServerFacts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<cert::CertFacts>,
    pub hits: Vec<ProbeHit>,
    /// Wall time of the whole probe.
    pub total_ms: f64,
    /// Remarks on the settings the probe ran with (where they came from, what is missing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The configured CA could not be read here (see [`ProbeConfig::ca_withheld`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ca_withheld: bool,
}

impl ProbeResult {
    /// The stage of that name.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The IDs raised, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.hits.iter().map(|h| h.id.as_str()).collect()
    }

    /// Whether every stage passed or was skipped by design.
    pub fn ok(&self) -> bool {
        self.stages.iter().all(|s| s.ok)
    }
}

/// Collects stages and hits while the probe runs.
pub(crate) struct Recorder {
    pub(crate) res: ProbeResult,
    pub(crate) context: BTreeMap<String, String>,
}

impl Recorder {
    pub(crate) fn stage(
        &mut self,
        name: &str,
        result: StageResult,
        t0: Option<Instant>,
        detail: String,
    ) {
        self.res.stages.push(Stage {
            name: name.into(),
            result,
            ok: result != StageResult::Fail,
            ms: t0.map(ms_since),
            detail,
        });
    }

    pub(crate) fn hit(&mut self, id: RuleId, captures: &[(&str, String)], evidence: String) {
        id.check_vars(captures.iter().map(|(k, _)| *k));
        self.res.hits.push(ProbeHit {
            id: id.as_str().into(),
            captures: captures
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            context: self.context.clone(),
            evidence,
        });
    }

    fn skip_rest(&mut self, names: &[&str], why: &str) {
        for n in names {
            if self.res.stage(n).is_none() {
                self.stage(n, StageResult::Skip, None, why.into());
            }
        }
    }
}

/// Milliseconds since `t0`.
pub(crate) fn ms_since(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

const STAGES: &[&str] = &[
    "dns",
    "tcp",
    "ssl-request",
    "tls-handshake",
    "certificate",
    "connect",
    "readiness",
    "latency",
];

/// Runs every stage against the configured server.
pub async fn run(cfg: &ProbeConfig) -> ProbeResult {
    let started = Instant::now();
    let host = cfg
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let verify = cfg.sslmode.verification(cfg.ca_pem.is_some());
    let mut context = BTreeMap::new();
    context.insert("host".to_string(), host.clone());
    context.insert("port".to_string(), cfg.port.to_string());
    context.insert("user".to_string(), cfg.user.clone());
    context.insert("sslmode".to_string(), cfg.sslmode.as_str().to_string());
    let mut r = Recorder {
        res: ProbeResult {
            host: host.clone(),
            port: cfg.port,
            user: cfg.user.clone(),
            database: cfg.database.clone(),
            sslmode: cfg.sslmode,
            verify,
            addresses: Vec::new(),
            stages: Vec::new(),
            latency: None,
            server: ServerFacts::default(),
            certificate: None,
            hits: Vec::new(),
            total_ms: 0.0,
            notes: cfg.notes.clone(),
            ca_withheld: cfg.ca_withheld,
        },
        context,
    };
    stages(cfg, &host, verify, &mut r).await;
    r.skip_rest(STAGES, "not run: an earlier stage failed");
    r.res.total_ms = ms_since(started);
    r.res
}

async fn stages(cfg: &ProbeConfig, host: &str, verify: Verify, r: &mut Recorder) {
    // 1. DNS
    let Some(addrs) = net::dns_stage(cfg, host, r).await else {
        return;
    };
    r.res.addresses = addrs.iter().map(|a| a.ip().to_string()).collect();
    // 2. TCP
    let Some((addr, stream)) = net::tcp_stage(cfg, host, &addrs, r).await else {
        return;
    };
    // 3. SSLRequest
    let Some((offered, stream)) = net::ssl_request_stage(cfg, addr, stream, r).await else {
        return;
    };
    // 4 + 5. TLS handshake and certificate
    let use_tls = offered && cfg.sslmode != SslMode::Disable;
    if use_tls {
        let Some(chain) = tls::handshake_stage(cfg, host, addr, stream, r).await else {
            return;
        };
        if !cert::certificate_stage(cfg, host, verify, &chain, r) {
            return;
        }
    } else {
        drop(stream);
        let why = if cfg.sslmode == SslMode::Disable {
            "sslmode disable"
        } else {
            "the server does not offer TLS"
        };
        r.stage("tls-handshake", StageResult::Skip, None, why.into());
        r.stage("certificate", StageResult::Skip, None, why.into());
        if cfg.ca_pem.is_some() {
            // The bundle can still be wrong; DSSC mounts it anyway.
            cert::check_bundle(cfg, r);
        }
    }
    // 6. Connection
    let Some(client) = db::connect_stage(cfg, host, addr, verify, offered, r).await else {
        return;
    };
    // 7. Readiness
    if !db::readiness_stage(cfg, &client, r).await {
        return;
    }
    // 8. Latency
    latency::latency_stage(cfg, addr, &client, r).await;
}

/// The subject probe findings name: the database endpoint.
pub fn subject(res: &ProbeResult) -> Subject {
    Subject::Other(format!("database {}:{}", res.host, res.port))
}

/// Adds the probe's hits to a finding set with `Origin::Probe`; a finding with the same
/// ID and identifying values from logs or events becomes "confirmed by probe". IDs not
/// in the catalogue are ignored.
pub fn add_findings(cat: &Catalogue, set: &mut FindingSet, res: &ProbeResult) {
    for h in &res.hits {
        if let Some(hit) = to_hit(cat, res, h) {
            set.add(hit);
        }
    }
}

/// One probe hit as a finding-set hit (`Origin::Probe`, subject the database), or
/// `None` when its ID is not in the catalogue.
pub fn to_hit(cat: &Catalogue, res: &ProbeResult, h: &ProbeHit) -> Option<Hit> {
    let subj = subject(res);
    Some(Hit::single(
        cat.index_of(&h.id)?,
        h.captures.clone(),
        Some(subj),
        Origin::Probe,
        h.evidence.clone(),
        h.context.clone(),
    ))
}

/// The stages as check lines of the group `database`.
pub fn check_lines(res: &ProbeResult) -> Vec<CheckLine> {
    res.stages
        .iter()
        .map(|s| CheckLine {
            group: "database".into(),
            name: s.name.clone(),
            result: s.result.as_str().into(),
            detail: s.detail.clone(),
            ms: s.ms,
        })
        .collect()
}

/// Puts the stage table into `report.checks` and the probe's JSON into `report.probe`.
pub fn attach(report: &mut Report, res: &ProbeResult) {
    report.checks.extend(check_lines(res));
    report.probe = serde_json::to_value(res).ok();
}

/// Formats a socket address for texts (`[::1]:5432`, `10.0.0.5:5432`).
pub(crate) fn addr_label(a: &SocketAddr) -> String {
    a.to_string()
}

/// `1.5 s` or `12.3 ms`.
pub(crate) fn dur_label(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ranges() {
        let r = VersionRange::parse("9.6-13").unwrap();
        assert_eq!(r, VersionRange::DSSC);
        assert!(r.contains(90624) && r.contains(130011) && !r.contains(150004));
        assert!(!r.contains(90500));
        assert_eq!(r.label(), "9.6 to 13");
        assert!(VersionRange::parse("13").is_err());
        assert!(VersionRange::parse("16-9.6").is_err());
    }

    #[test]
    fn libpq_verification_semantics() {
        assert_eq!(SslMode::Require.verification(true), Verify::Ca);
        assert_eq!(SslMode::Require.verification(false), Verify::None);
        assert_eq!(SslMode::VerifyCa.verification(false), Verify::Ca);
        assert_eq!(SslMode::VerifyFull.verification(true), Verify::Full);
        assert_eq!(SslMode::Prefer.verification(true), Verify::None);
    }

    #[test]
    fn probe_hit_confirms_the_log_finding() {
        let cat = Catalogue::builtin().unwrap();
        let mut set = FindingSet::new(&cat);
        set.add(Hit {
            rule: cat.index_of("TLS002").unwrap(),
            captures: vec![("ip".into(), "10.0.0.5".into())],
            subject: Some(Subject::Pod {
                namespace: "trendmicro".into(),
                name: "auth-1".into(),
            }),
            evidence: crate::model::findings::Evidence {
                source: Origin::Log,
                text: "x509: cannot validate certificate for 10.0.0.5 because it doesn't contain any IP SANs".into(),
                count: 3,
                first_seen: None,
                last_seen: None,
                seen_on: vec!["trendmicro/auth-1/db-init".into()],
            },
            context: BTreeMap::new(),
        });
        let res = ProbeResult {
            host: "10.0.0.5".into(),
            port: 5432,
            user: "postgres".into(),
            database: "postgres".into(),
            sslmode: SslMode::VerifyFull,
            verify: Verify::Full,
            addresses: vec!["10.0.0.5".into()],
            stages: Vec::new(),
            latency: None,
            server: ServerFacts::default(),
            certificate: None,
            hits: vec![ProbeHit {
                id: "TLS002".into(),
                captures: vec![
                    ("ip".into(), "10.0.0.5".into()),
                    ("valid_for".into(), "DNS:db.example.com".into()),
                ],
                context: BTreeMap::new(),
                evidence: "no IP SAN".into(),
            }],
            total_ms: 1.0,
            notes: Vec::new(),
            ca_withheld: false,
        };
        add_findings(&cat, &mut set, &res);
        let f = set.finish(&BTreeMap::new());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].confirmed_by, vec![Origin::Log, Origin::Probe]);
        assert!(f[0]
            .subjects
            .contains(&"database 10.0.0.5:5432".to_string()));
        assert!(f[0].fix.iter().any(|l| l.contains("DNS:db.example.com")));
    }

    #[test]
    fn debug_hides_password() {
        let c = ProbeConfig {
            password: Some("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
