//! `kubectl dssc-doctor` without a subcommand: diagnose the live install, probing the
//! database with the discovered settings unless `--no-probe`.

use crate::analysis::{self, scan::Scanner};
use crate::catalogue::Catalogue;
use crate::cli::{Global, ValuesArgs};
use crate::model::evidence::Evidence;
use crate::report::Report;

pub fn run(g: &Global, v: &ValuesArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let report = super::runtime()?.block_on(diagnose(g, v, cat))?;
    super::emit(&report.render(g.format()))?;
    Ok(report.exit_code())
}

/// One diagnosis of the live install, probe included: the report (also what `--push`
/// and `exporter` turn into metrics).
pub async fn diagnose(g: &Global, v: &ValuesArgs, cat: &Catalogue) -> anyhow::Result<Report> {
    let ev = collect_live(g, v, cat, false).await?;
    let probe = match probe_config(g, &ev).filter(|_| !g.probe.no_probe) {
        Some(cfg) => Some(crate::probe::run(&cfg).await),
        None => None,
    };
    Ok(analysis::build_report_with_probe(cat, &ev, probe.as_ref()))
}

/// Reads the live install into evidence; settings from `--values` take precedence.
pub async fn collect_live(
    g: &Global,
    v: &ValuesArgs,
    cat: &Catalogue,
    keep_raw: bool,
) -> anyhow::Result<Evidence> {
    // Bad values files are a usage error before anything is read from the cluster.
    let values = if v.files.is_empty() && v.sets.is_empty() {
        None
    } else {
        Some(crate::settings::load(&v.files, &v.sets)?)
    };
    let opts = super::cluster_options(g, keep_raw);
    let (client, ns, origin) = crate::sources::live::client(&opts).await?;
    let scanner = Scanner::new(cat);
    let mut ev = crate::sources::live::collect(&client, &ns, &origin, &opts, cat, &scanner).await?;
    if let Some(values) = values {
        crate::settings::apply_values(&mut ev, &values);
    }
    Ok(ev)
}

/// The diagnosis probe's configuration, when the discovered settings allow one.
pub fn probe_config(g: &Global, ev: &Evidence) -> Option<crate::probe::ProbeConfig> {
    crate::probe::from_evidence(
        ev,
        &crate::probe::DiscoverOptions {
            connect_timeout: g.probe.probe_timeout,
            samples: g.probe.probe_samples,
        },
    )
}
