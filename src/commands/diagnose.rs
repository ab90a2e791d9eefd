//! `kubectl dssc-doctor` without a subcommand: diagnose the live install, probing the
//! database with the discovered settings unless `--no-probe`.

use crate::analysis::{self, scan::Scanner};
use crate::catalogue::Catalogue;
use crate::cli::{Global, ValuesArgs};
use crate::model::evidence::Evidence;

pub fn run(g: &Global, v: &ValuesArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let rt = super::runtime()?;
    let ev = rt.block_on(collect_live(g, v, cat, false))?;
    let probe = if g.probe.no_probe {
        None
    } else {
        probe_config(g, &ev).map(|cfg| rt.block_on(crate::probe::run(&cfg)))
    };
    let report = analysis::build_report_with_probe(cat, &ev, probe.as_ref());
    super::emit(&report.render(g.format()))?;
    Ok(report.exit_code())
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
    let mut cfg = crate::probe::from_evidence(
        ev,
        &crate::probe::DiscoverOptions {
            connect_timeout: g.probe.probe_timeout,
            samples: g.probe.probe_samples,
        },
    )?;
    crate::sources::secret_ca::use_in_probe(ev, &mut cfg);
    Some(cfg)
}
