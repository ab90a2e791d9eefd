//! The command line: one clap definition that produces `--help`, the man page
//! (`man/kubectl-dssc_doctor.1`), the shell completions and the parsed arguments. Every
//! clap type lives under this module; the engine below never sees one.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

mod duration;
mod fleet;
mod preflight;
mod probe;
mod ranges;

pub use duration::{parse_duration, parse_timeout};
pub use fleet::{ExporterArgs, FleetArgs};
pub use preflight::PreflightArgs;
pub use probe::{LatencyArgs, ProbeArgs, SslModeArg};

const AFTER_HELP: &str = "\
Exit status:
  0  nothing above info     4  warnings only     3  at least one error finding
  2  bad usage or unreadable input                1  internal failure

Examples:
  kubectl dssc-doctor analyze support-bundle.tar.gz
  kubectl logs auth-7d78dccff7-nfh97 -c db-init | kubectl dssc-doctor analyze -
  kubectl dssc-doctor explain MNT001";

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-dssc_doctor",
    bin_name = "kubectl dssc-doctor",
    version,
    about = "Diagnoses failed Deep Security Smart Check installations",
    long_about = "Diagnoses failed Deep Security Smart Check installations: reads the pods' events and \
db-init logs (from a support bundle, a log file or stdin), finds the root cause in a catalogue of \
known failures, and prints the exact command that fixes it.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write).
    #[arg(short = 'o', long, default_value = "text", global = true, value_parser = parse_output, value_name = "FORMAT")]
    pub output: Output,
    /// When to colour text output (NO_COLOR, when set and not empty, means never).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Same as --color never.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Extra rule files: every *.toml in DIR is added to the built-in catalogue.
    #[arg(long = "checks", value_name = "DIR", global = true)]
    pub checks_dirs: Vec<PathBuf>,
    /// Namespace of the Smart Check install (default: the one its pods are in).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected).
    #[arg(long, global = true)]
    pub release: Option<String>,
    /// Unpacked bytes read at most from one input (bundle, log, stdin); one file may
    /// take a sixteenth of it. What is over is skipped with DOC001.
    #[arg(long, global = true, default_value = "4GiB", value_parser = ranges::parse_input_size, value_name = "SIZE")]
    pub max_input_size: u64,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub probe: ProbeFlags,
    #[command(flatten)]
    pub watch: WatchFlags,
}

/// `--watch`: follow the install as it comes up (the live diagnosis only).
#[derive(Debug, Args)]
#[command(next_help_heading = "Watch")]
pub struct WatchFlags {
    /// Watch the namespace's pods and events and print each finding as its evidence
    /// appears; exit 0 once every Smart Check pod is Ready, 3 once a root cause has held
    /// for --settle with no pod progressing (or at --watch-timeout).
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// How long a root cause must hold, with no pod progressing, before --watch gives up.
    #[arg(long, default_value = "60s", value_parser = parse_timeout, value_name = "DURATION")]
    pub settle: std::time::Duration,
    /// The longest --watch runs.
    #[arg(long, default_value = "30m", value_parser = parse_timeout, value_name = "DURATION")]
    pub watch_timeout: std::time::Duration,
}

/// The database probe a diagnosis runs with the discovered settings (from this
/// machine, not from the pods; never for the built-in database).
#[derive(Debug, Args)]
#[command(next_help_heading = "Database probe")]
pub struct ProbeFlags {
    /// Do not connect to the database (diagnose and preflight).
    #[arg(long, global = true)]
    pub no_probe: bool,
    /// Latency samples of the diagnosis probe (0 skips the latency stage).
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100))]
    pub probe_samples: usize,
    /// Limit of each network operation of the diagnosis probe.
    #[arg(long, default_value = "5s", value_parser = parse_timeout, value_name = "DURATION")]
    pub probe_timeout: std::time::Duration,
}

/// How to reach and read the cluster (kubectl conventions; KUBECONFIG and in-cluster
/// configuration are honoured when --kubeconfig is not given).
#[derive(Debug, Args)]
#[command(next_help_heading = "Cluster")]
pub struct ClusterArgs {
    /// Path to the kubeconfig file.
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Limit for each request to the cluster (and each network operation).
    #[arg(long, global = true, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    /// Lines to read from the end of each container log.
    #[arg(long, global = true, default_value_t = 5000, allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub tail: i64,
    /// Bytes to read at most from each container log.
    #[arg(long, global = true, default_value_t = 2 << 20, allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(1024..=1 << 30))]
    pub max_log_bytes: i64,
    /// Requests to the cluster in flight at once (one HTTP/1.1 connection each).
    #[arg(long, global = true, default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

/// `-o`: a report format, or (for `bundle`) a file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Format(Format),
    File(PathBuf),
}

fn parse_output(s: &str) -> Result<Output, String> {
    if let Some(f) = parse_format(s) {
        return Ok(Output::Format(f));
    }
    if s.ends_with(".tar.gz") || s.ends_with(".tgz") || s.contains('/') {
        return Ok(Output::File(PathBuf::from(s)));
    }
    Err(format!(
        "unknown output format {s:?}: use text, json, markdown, junit or openmetrics (or, for bundle, a FILE.tar.gz)"
    ))
}

/// A report format by name, as `-o` takes it (any case).
fn parse_format(s: &str) -> Option<Format> {
    [
        ("text", Format::Text),
        ("json", Format::Json),
        ("markdown", Format::Markdown),
        ("junit", Format::Junit),
        ("openmetrics", Format::OpenMetrics),
    ]
    .into_iter()
    .find(|(name, _)| name.eq_ignore_ascii_case(s))
    .map(|(_, f)| f)
}

impl Global {
    /// The report format (text when `-o` named a file).
    pub fn format(&self) -> Format {
        match &self.output {
            Output::Format(f) => *f,
            Output::File(_) => Format::Text,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose a support bundle (directory or .tar.gz), a log file, or stdin (-).
    Analyze(AnalyzeArgs),
    /// List the catalogue of checks.
    Checks,
    /// Print the documentation of one check: title, why, fix and reference.
    Explain {
        /// Check ID, e.g. MNT001.
        id: String,
    },
    /// Collect a redacted support bundle of the live install (troubleshoot.sh layout plus
    /// analysis.json); -o FILE.tar.gz names it.
    Bundle(BundleArgs),
    /// Serve a support bundle as a read-only Kubernetes API (for kubectl and tests).
    Serve(ServeArgs),
    /// Probe the database stage by stage: DNS, TCP, SSLRequest, TLS, certificate, login,
    /// readiness and latency.
    Probe(ProbeArgs),
    /// Before `helm install`: check overrides.yaml, the cluster (namespace, CA
    /// ConfigMap/Secret, NetworkPolicies) and the database as the pods will see them.
    Preflight(PreflightArgs),
    /// Re-diagnose the live install on an interval and serve the metrics on /metrics
    /// (and /healthz), for a Prometheus that scrapes.
    Exporter(ExporterArgs),
    /// Print the JSON Schema of the -o json report (schema/report.schema.json).
    Schema,
}

/// The overrides.yaml the install used (or is meant to use): its DB settings take
/// precedence over the Helm release's and the pods', and are cross-checked with them.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Values")]
pub struct ValuesArgs {
    /// A values file (overrides.yaml); several merge in order, like helm.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A value on the command line, like helm --set (db.host=db.example.com).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Write the bundle as a directory instead of a .tar.gz.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A support-bundle directory, a .tar.gz of one, a log file, or - for stdin. Several
    /// are analysed in parallel: one report each and a summary table (-o json: one
    /// object per line); the exit status is the worst.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Paths analysed at once (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// For a log file or stdin: the container it came from (limits the rules to those
    /// for that container; default: all rules).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A support-bundle directory or a .tar.gz of one.
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    /// Delay added before every response (e.g. 20ms), to mimic a remote API server.
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    pub latency: std::time::Duration,
    /// Write the kubeconfig here (default: a temporary file, removed on exit).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Answer these resources with 403 Forbidden, like an account without read access
    /// to them (comma-separated plural names, e.g. secrets,nodes).
    #[arg(long, value_name = "RESOURCES", value_delimiter = ',')]
    pub forbid: Vec<String>,
    /// Require this bearer token (written into the kubeconfig); any other gets 401
    /// Unauthorized, as a rejected or expired token does.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Fail log reads as the API server does when it cannot reach the node's kubelet.
    #[arg(long)]
    pub kubelet_unreachable: bool,
    /// Append each request (method, path and query, User-Agent) to FILE.
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,
    /// Timed changes to the served bundle (YAML steps: apply, patch, delete, logs,
    /// compact, drop_watches), for watches to see an install change.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// How often a watch that allows bookmarks gets one.
    #[arg(long, default_value = "60s", value_parser = parse_timeout, value_name = "DURATION")]
    pub bookmark_interval: std::time::Duration,
}
