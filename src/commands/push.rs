//! The live diagnosis as metrics: `-o openmetrics` (with the run's duration and time)
//! and `--push URL --cluster-name NAME`, which PUTs them to a Prometheus Pushgateway
//! (grouping key job=dssc-doctor, cluster, namespace, release), as a CronJob runs it.
//!
//! Exit status with `--push`: 0 once the push succeeded, whatever the diagnosis found
//! (findings are in the metrics; a CronJob's Job must not fail for them); 2 for a bad
//! URL or an unreadable cluster configuration; 1 when the push failed. A diagnosis that
//! fails pushes `dssc_doctor_up 0` with POST, which keeps the last good run's findings
//! and time of success in the group, and exits with the diagnosis's error.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::catalogue::Catalogue;
use crate::cli::{FleetArgs, Global, ValuesArgs};
use crate::export::pushgateway::{Mode, Target};
use crate::report::openmetrics::{failure_metrics, Exposition, RunMeta};
use crate::report::Format;

/// The chart's release name, for the grouping key of a run that found no release.
const DEFAULT_RELEASE: &str = "deepsecurity-smartcheck";

pub fn run(g: &Global, v: &ValuesArgs, f: &FleetArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let cluster = f.cluster_name.clone();
    let push = match &f.push {
        // A bad URL is a usage error before anything is read from the cluster.
        Some(url) => Some((url.as_str(), Target::new(url, &[])?)),
        None => None,
    };
    super::runtime()?.block_on(async {
        let start = Instant::now();
        let result = super::diagnose::diagnose(g, v, cat).await;
        let mut meta = RunMeta {
            cluster: cluster.clone(),
            duration: Some(start.elapsed()),
            last_success: None,
            failing: false,
        };
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                if let Some((url, _)) = push {
                    let ns = g.namespace.as_deref();
                    let rel = g.release.as_deref().unwrap_or(DEFAULT_RELEASE);
                    let target = group(url, cluster.as_deref(), ns, Some(rel))?;
                    let body = failure_metrics(&meta, ns, Some(rel), Exposition::Text);
                    match target.push(Mode::Post, body, g.cluster.timeout).await {
                        Ok(()) => eprintln!("pushed dssc_doctor_up 0 to {}", target.url()),
                        Err(pe) => eprintln!("warning: {pe:#}"),
                    }
                }
                return Err(e);
            }
        };
        meta.last_success = Some(unix_now());
        let ns = report.source.namespace.as_deref();
        let rel = report.source.release.as_deref();
        let out = if g.format() == Format::OpenMetrics {
            report.metrics(&meta, Exposition::OpenMetrics)
        } else {
            report.render(g.format())
        };
        let Some((url, _)) = push else {
            super::emit(&out)?;
            return Ok(report.exit_code());
        };
        let target = group(url, cluster.as_deref(), ns, rel)?;
        target
            .push(
                Mode::Put,
                report.metrics(&meta, Exposition::Text),
                g.cluster.timeout,
            )
            .await?;
        super::emit(&out)?;
        eprintln!(
            "pushed {} finding(s) to {}",
            report.findings.len(),
            target.url()
        );
        Ok(0)
    })
}

/// The group of this cluster, namespace and release.
fn group(
    url: &str,
    cluster: Option<&str>,
    ns: Option<&str>,
    rel: Option<&str>,
) -> anyhow::Result<Target> {
    Ok(Target::new(
        url,
        &[
            ("cluster", cluster.unwrap_or("")),
            ("namespace", ns.unwrap_or("")),
            ("release", rel.unwrap_or("")),
        ],
    )?)
}

/// Now, in Unix seconds.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
