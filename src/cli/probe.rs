//! The arguments of `probe` (and the latency thresholds `preflight` shares), with
//! libpq's `sslmode` names as clap values mapped onto the engine's [`SslMode`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::probe::{LatencyThresholds, SslMode, VersionRange};

/// `--sslmode`: libpq's names, mapped onto [`SslMode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SslModeArg {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl From<SslModeArg> for SslMode {
    fn from(m: SslModeArg) -> SslMode {
        match m {
            SslModeArg::Disable => SslMode::Disable,
            SslModeArg::Allow => SslMode::Allow,
            SslModeArg::Prefer => SslMode::Prefer,
            SslModeArg::Require => SslMode::Require,
            SslModeArg::VerifyCa => SslMode::VerifyCa,
            SslModeArg::VerifyFull => SslMode::VerifyFull,
        }
    }
}

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
    #[arg(long, env = "PGPORT", default_value_t = 5432, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// Database user (db.user), the master user db-init logs in as.
    #[arg(long, env = "PGUSER", default_value = "postgres")]
    pub user: String,
    /// Database to log in to (db-init uses postgres).
    #[arg(long, env = "PGDATABASE", default_value = "postgres")]
    pub database: String,
    /// TLS mode as in libpq and db.tls.mode.
    #[arg(long, env = "PGSSLMODE", value_enum, default_value_t = SslModeArg::VerifyFull)]
    pub sslmode: SslModeArg,
    /// CA bundle (PEM) to verify the server certificate with (db.tls.ca).
    #[arg(long, env = "PGSSLROOTCERT", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Limit of each network operation and of the whole login (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s", value_parser = super::parse_timeout)]
    pub connect_timeout: Duration,
    /// Latency samples (TCP connect and SELECT 1); 0 skips the latency stage.
    #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1000))]
    pub samples: usize,
    #[command(flatten)]
    pub latency: LatencyArgs,
    /// Smart Check services with a database pool (pool budget = services x max-open).
    #[arg(long, default_value_t = 6, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=100))]
    pub services: u32,
    /// db.maxOpenConnections of each service.
    #[arg(long, default_value_t = 25, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=100_000))]
    pub max_open_connections: u32,
    /// Supported server versions, MIN-MAX major versions.
    #[arg(long, default_value = "9.6-13", value_parser = super::ranges::parse_versions)]
    pub supported_versions: VersionRange,
}

/// The latency thresholds of LAT001, shared by `probe` and `preflight`.
#[derive(Debug, Clone, Args)]
pub struct LatencyArgs {
    /// LAT001 when a p50 round trip to the database exceeds this many milliseconds.
    #[arg(long, default_value_t = 10.0, value_name = "MS", allow_negative_numbers = true, value_parser = super::ranges::parse_ms)]
    pub max_p50_ms: f64,
    /// LAT001 when a p95 round trip to the database exceeds this many milliseconds.
    #[arg(long, default_value_t = 25.0, value_name = "MS", allow_negative_numbers = true, value_parser = super::ranges::parse_ms)]
    pub max_p95_ms: f64,
}

impl LatencyArgs {
    pub fn thresholds(&self) -> LatencyThresholds {
        LatencyThresholds {
            p50_ms: self.max_p50_ms,
            p95_ms: self.max_p95_ms,
        }
    }
}
