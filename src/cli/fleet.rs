//! The fleet flags: `--push` and `--cluster-name` of the live diagnosis, and the
//! arguments of `exporter`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::parse_timeout;

/// Pushing the diagnosis to a Prometheus Pushgateway.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Fleet")]
pub struct FleetArgs {
    /// Push the metrics (the series of -o openmetrics) to this Pushgateway
    /// (http[s]://host:9091), replacing the group job=dssc-doctor, cluster, namespace,
    /// release. Exit status is then 0 once the push succeeded, whatever was found; 1 or 2
    /// when the push or the diagnosis failed (a failed diagnosis still pushes
    /// dssc_doctor_up 0).
    #[arg(long, value_name = "URL", requires = "cluster_name")]
    pub push: Option<String>,
    /// Name of this cluster: the `cluster` label of every series (and of the push's
    /// grouping key).
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster_name: Option<String>,
}

/// Arguments of `exporter`.
#[derive(Debug, Args)]
#[command(after_help = "\
Serves /metrics (OpenMetrics when the scraper asks for it, else the Prometheus text
format) and /healthz (200 once listening, before the first diagnosis ends). A diagnosis
that fails keeps the last good series and sets dssc_doctor_up to 0.

Example:
  kubectl dssc-doctor exporter -n trendmicro --listen :9464 --interval 5m")]
pub struct ExporterArgs {
    /// Address to listen on: [HOST]:PORT (`:9464` is every interface).
    #[arg(long, default_value = ":9464", value_parser = parse_listen, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Time between diagnoses (each waits a random 0-10% more, so exporters started
    /// together spread out); a diagnosis is also cut off after this long.
    #[arg(long, default_value = "5m", value_parser = parse_interval, value_name = "DURATION")]
    pub interval: Duration,
}

/// `:9464`, `0.0.0.0:9464`, `127.0.0.1:0`, `[::]:9464`.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_string()
    };
    full.parse()
        .map_err(|_| format!("'{s}' is not [HOST]:PORT (e.g. :9464 or 127.0.0.1:9464)"))
}

/// An interval of at least one second.
fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_timeout(s)?;
    if d < Duration::from_secs(1) {
        return Err(format!("interval '{s}' is below 1s"));
    }
    Ok(d)
}
