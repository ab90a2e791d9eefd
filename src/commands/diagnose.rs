//! `kubectl dssc-doctor` without a subcommand: diagnose the live install, probing the
//! database with the discovered settings unless `--no-probe`; `--watch` follows it.

use crate::analysis::{self, scan::Scanner};
use crate::catalogue::Catalogue;
use crate::cli::{Global, ValuesArgs};
use crate::model::error::InputError;
use crate::model::evidence::Evidence;
use crate::report::{Format, Report};
use crate::sources::cluster_error::ClusterError;

pub fn run(g: &Global, v: &ValuesArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let rt = super::runtime()?;
    if g.watch.watch {
        return rt
            .block_on(super::watch::run(g, v, cat))
            .map_err(|e| json_error(g, e));
    }
    let report = rt
        .block_on(diagnose(g, v, cat))
        .map_err(|e| json_error(g, e))?;
    super::emit(&report.render(g.format()))?;
    Ok(report.exit_code())
}

/// With `-o json`, a cluster that cannot be read still gives a JSON report (its source
/// and the error) on stdout, so scripts see why; the one-line error goes to stderr.
pub fn json_error(g: &Global, e: anyhow::Error) -> anyhow::Error {
    let Some(c) = e.downcast_ref::<ClusterError>() else {
        return e;
    };
    if g.format() == Format::Json {
        let doc = serde_json::json!({
            "schemaVersion": 1,
            "source": {"kind": "cluster", "origin": format!("cluster {}", c.server)},
            "error": c,
            "findings": [],
        });
        let _ = super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    }
    InputError::new(c.message.clone()).into()
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
    let values = load_values(v)?;
    let opts = super::cluster_options(g, keep_raw);
    let (target, choice) = connect(&opts).await?;
    let scanner = Scanner::new(cat);
    let mut ev = crate::sources::live::collect_as(
        &target.client,
        &choice.namespace,
        &target.origin,
        &target.identity,
        &opts,
        cat,
        &scanner,
    )
    .await?;
    if let Some((what, why)) = choice.skipped {
        ev.skip(what, why);
    }
    if let Some(values) = values {
        crate::settings::apply_values(&mut ev, &values);
    }
    Ok(ev)
}

/// `--values`/`--set`, loaded before anything is read from the cluster.
pub fn load_values(v: &ValuesArgs) -> anyhow::Result<Option<crate::settings::Values>> {
    Ok(if v.files.is_empty() && v.sets.is_empty() {
        None
    } else {
        Some(crate::settings::load(&v.files, &v.sets)?)
    })
}

/// The client and the namespace to read (said on stderr when it was discovered).
pub async fn connect(
    opts: &crate::sources::live::Options,
) -> anyhow::Result<(
    crate::sources::live::Target,
    crate::sources::namespace::Choice,
)> {
    let target = crate::sources::live::target(opts).await?;
    let choice = crate::sources::namespace::choose(
        &target.client,
        opts.namespace.as_deref(),
        &target.context_namespace,
        opts.release.as_deref(),
        opts.timeout,
        &target.identity,
    )
    .await?;
    if let Some(note) = &choice.note {
        eprintln!("note: {note}");
    }
    Ok((target, choice))
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
