//! The `kubectl dssc-doctor probe` subcommand: its arguments, reading the password
//! (PGPASSWORD or --password-stdin only) and the CA file, a tokio runtime for this path
//! only, and the report (stage table, probe JSON, findings, exit code).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{ProbeConfig, SslMode, VersionRange};
use crate::catalogue::Catalogue;
use crate::cli::Global;
use crate::discover::{CHART, DEFAULT_RELEASE};
use crate::evidence::{Setting, SourceKind};
use crate::findings::FindingSet;
use crate::input::InputError;
use crate::report::{Report, SourceInfo};

/// Arguments of `probe`. The password is never an argument: it comes from PGPASSWORD or
/// from the first line of standard input with --password-stdin.
#[derive(Debug, Args)]
#[command(after_help = "\
The password is read from PGPASSWORD or, with --password-stdin, from the first line of
standard input; it is never printed.

Examples:
  PGPASSWORD=... kubectl dssc-doctor probe --host db.example.com --user postgres --ca-file ca.pem
  kubectl get secret deepsecurity-smartcheck-db -n trendmicro -o jsonpath='{.data.database-password}' \\
    | base64 -d | kubectl dssc-doctor probe --host 10.0.0.5 --sslmode require --password-stdin")]
pub struct ProbeArgs {
    /// Database host name or IP address (db.host). Without it, every setting (host,
    /// port, user, TLS mode, CA, password) is discovered from the live install in the
    /// namespace, as the diagnosis does.
    #[arg(long, env = "PGHOST")]
    pub host: Option<String>,
    /// Database port (db.port).
    #[arg(long, env = "PGPORT", default_value_t = 5432)]
    pub port: u16,
    /// Database user (db.user), the master user db-init logs in as.
    #[arg(long, env = "PGUSER", default_value = "postgres")]
    pub user: String,
    /// Database to log in to (db-init uses postgres).
    #[arg(long, env = "PGDATABASE", default_value = "postgres")]
    pub database: String,
    /// TLS mode as in libpq and db.tls.mode.
    #[arg(long, env = "PGSSLMODE", value_enum, default_value_t = SslMode::VerifyFull)]
    pub sslmode: SslMode,
    /// CA bundle (PEM) to verify the server certificate with (db.tls.ca).
    #[arg(long, env = "PGSSLROOTCERT", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Limit of each network operation and of the whole login (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s", value_parser = crate::cli::parse_timeout)]
    pub connect_timeout: Duration,
    /// Latency samples (TCP connect and SELECT 1); 0 skips the latency stage.
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    #[command(flatten)]
    pub latency: LatencyArgs,
    /// Smart Check services with a database pool (pool budget = services x max-open).
    #[arg(long, default_value_t = 6)]
    pub services: u32,
    /// db.maxOpenConnections of each service.
    #[arg(long, default_value_t = 25)]
    pub max_open_connections: u32,
    /// Supported server versions, MIN-MAX major versions.
    #[arg(long, default_value = "9.6-13", value_parser = VersionRange::parse)]
    pub supported_versions: VersionRange,
}

/// The latency thresholds of LAT001, shared by `probe` and `preflight`.
#[derive(Debug, Clone, clap::Args)]
pub struct LatencyArgs {
    /// LAT001 when a p50 round trip to the database exceeds this many milliseconds.
    #[arg(long, default_value_t = 10.0, value_name = "MS")]
    pub max_p50_ms: f64,
    /// LAT001 when a p95 round trip to the database exceeds this many milliseconds.
    #[arg(long, default_value_t = 25.0, value_name = "MS")]
    pub max_p95_ms: f64,
}

impl LatencyArgs {
    pub fn thresholds(&self) -> super::LatencyThresholds {
        super::LatencyThresholds {
            p50_ms: self.max_p50_ms,
            p95_ms: self.max_p95_ms,
        }
    }
}

impl ProbeArgs {
    /// The probe configuration, with the password from PGPASSWORD or stdin and the CA
    /// file read.
    pub fn config(&self) -> Result<ProbeConfig, InputError> {
        let password = if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| InputError::new(format!("reading the password from stdin: {e}")))?;
            Some(line.trim_end_matches(['\r', '\n']).to_string())
        } else {
            std::env::var("PGPASSWORD").ok()
        };
        let ca_pem = match &self.ca_file {
            Some(p) => Some(
                std::fs::read(p).map_err(|e| InputError::new(format!("{}: {e}", p.display())))?,
            ),
            None => None,
        };
        Ok(ProbeConfig {
            host: self.host.clone().unwrap_or_default(),
            port: self.port,
            user: self.user.clone(),
            password,
            database: self.database.clone(),
            sslmode: self.sslmode,
            ca_pem,
            ca_origin: self.ca_file.as_ref().map(|p| p.display().to_string()),
            connect_timeout: self.connect_timeout,
            samples: self.samples,
            latency: self.latency.thresholds(),
            services: self.services,
            max_open_connections: self.max_open_connections,
            supported_versions: self.supported_versions,
            ..ProbeConfig::default()
        })
    }
}

/// Runs `probe`: returns the rendered report and the exit code.
pub fn run(g: &Global, a: &ProbeArgs, cat: &Catalogue) -> anyhow::Result<(String, i32)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cfg = match a.host.as_deref().map(str::trim) {
        Some("") => return Err(InputError::new("--host is empty").into()),
        Some(_) => a.config()?,
        None => rt.block_on(discover(g, a, cat))?,
    };
    let res = rt.block_on(super::run(&cfg));
    let report = build_report(cat, &cfg, &res, g.namespace.clone(), g.release.clone());
    Ok((report.render(g.format()), report.exit_code()))
}

/// The probe's settings from the live install (Helm release, pods, CA ConfigMap, the
/// DB Secret), with this command's timeouts, samples and thresholds.
async fn discover(g: &Global, a: &ProbeArgs, cat: &Catalogue) -> anyhow::Result<ProbeConfig> {
    let ev = crate::app::collect_live(g, &crate::cli::ValuesArgs::default(), cat, false).await?;
    let ns = ev.namespace.clone().unwrap_or_default();
    let mut cfg = super::from_evidence(
        &ev,
        &super::DiscoverOptions {
            connect_timeout: a.connect_timeout,
            samples: a.samples,
        },
    )
    .ok_or_else(|| {
        InputError::new(format!(
            "no external database configured for the install in namespace {ns} (no db-init pods or Helm release with db.host); pass --host"
        ))
    })?;
    cfg.latency = a.latency.thresholds();
    cfg.services = a.services;
    cfg.max_open_connections = a.max_open_connections;
    cfg.supported_versions = a.supported_versions;
    Ok(cfg)
}

/// The report of a probe run on its own: stages, probe JSON, findings.
pub fn build_report(
    cat: &Catalogue,
    cfg: &ProbeConfig,
    res: &super::ProbeResult,
    namespace: Option<String>,
    release: Option<String>,
) -> Report {
    let mut set = FindingSet::new(cat);
    super::add_findings(cat, &mut set, res);
    let rel = release.clone().unwrap_or_else(|| DEFAULT_RELEASE.into());
    let mut defaults = BTreeMap::new();
    defaults.insert("release".to_string(), rel.clone());
    defaults.insert("chart".to_string(), CHART.to_string());
    if let Some(ns) = &namespace {
        defaults.insert("namespace".to_string(), ns.clone());
    }
    // The chart's documented names for the CA reference, and every pod of the release.
    defaults.insert("ca_kind".to_string(), "configmap".to_string());
    defaults.insert("ca_name".to_string(), "dssc-db-trust".to_string());
    defaults.insert("ca_key".to_string(), "ca".to_string());
    defaults.insert("pods".to_string(), format!("-l release={rel}"));
    let findings = set.finish(&defaults);
    let mut report = Report::new(
        SourceInfo {
            kind: SourceKind::Probe,
            origin: format!("probe {}:{}", res.host, res.port),
            namespace,
            release,
        },
        findings,
    );
    let from = "probe arguments".to_string();
    let mut set_ = |k: &str, v: String| {
        report.settings.insert(
            k.into(),
            Setting {
                value: v,
                from: from.clone(),
            },
        );
    };
    set_("host", cfg.host.clone());
    set_("port", cfg.port.to_string());
    set_("user", cfg.user.clone());
    set_("database", cfg.database.clone());
    set_("sslmode", cfg.sslmode.as_str().into());
    if let Some(o) = &cfg.ca_origin {
        set_("ca", o.clone());
    }
    set_(
        "password",
        if cfg.password.is_some() {
            "(set)"
        } else {
            "(none)"
        }
        .into(),
    );
    super::attach(&mut report, res);
    report
}
