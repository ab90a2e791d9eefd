//! The staged database probe: proves from this machine what db-init sees, stage by
//! stage (DNS → TCP → SSLRequest → TLS handshake → certificate → connection → readiness
//! → latency), stopping at the first stage that fails. Each stage is timed; every
//! network operation has a timeout. Findings are raised with the same IDs as the log
//! rules, so a log finding can be "confirmed by probe".
//!
//! Library API: build a [`ProbeConfig`], call [`run`], then [`add_findings`] to merge
//! the hits into a [`FindingSet`] and [`attach`] to put the stage table and the probe's
//! JSON into a [`Report`]. The `probe` subcommand lives in `commands::probe`.
//!
//! This file holds the result types and the run; one file per stage: [`net`] (DNS,
//! TCP, SSLRequest), [`tls`] (handshake, chain capture), [`cert`] (certificate and CA
//! bundle analysis), [`db`] (connection, SQLSTATE classification, readiness),
//! [`latency`] (samples and percentiles); around them [`config`], the run's record
//! (`recorder`), [`findings`], settings [`discovered`] from a live install and the
//! standalone [`report`].

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

pub mod config;
pub use config::*;
mod recorder;
use recorder::*;
pub mod findings;
pub use findings::*;

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
