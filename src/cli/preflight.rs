//! The arguments of `preflight`.

use std::path::PathBuf;

use clap::Args;

use crate::probe::VersionRange;

/// Arguments of `preflight`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 every check passed, 4 warnings only, 3 at least one failure, 2 bad usage
or unreadable values (malformed YAML is reported as file:line:column).

Examples:
  kubectl dssc-doctor preflight -f overrides.yaml -n trendmicro
  kubectl dssc-doctor preflight -f overrides.yaml --set db.host=10.0.0.5 --offline
  kubectl dssc-doctor preflight -f overrides.yaml --ca-file ca.pem -n trendmicro
  kubectl dssc-doctor preflight -f overrides.yaml -o junit > preflight.xml")]
pub struct PreflightArgs {
    /// Values file (overrides.yaml); several merge in order like helm's -f (- is stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// A value in helm's --set syntax (db.host=db.example.com), applied after the files.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Check the values only: no cluster reads, no network checks, no database probe.
    #[arg(long)]
    pub offline: bool,
    /// Latency samples of the probe (0 skips the latency stage).
    #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1000))]
    pub samples: usize,
    #[command(flatten)]
    pub latency: super::LatencyArgs,
    /// Supported database server versions, MIN-MAX major versions.
    #[arg(long, default_value = "9.6-13", value_parser = super::ranges::parse_versions)]
    pub supported_versions: VersionRange,
    /// The CA certificate (PEM bundle) the CA ConfigMap/Secret is to hold: the database
    /// is probed with it, and a CA object not created yet is a reminder with the
    /// `kubectl create` command instead of a failure.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}
