//! `kubectl dssc-doctor analyze PATH`: a bundle, a log file or stdin, diagnosed offline.

use crate::analysis::{self, scan::Scanner};
use crate::catalogue::Catalogue;
use crate::cli::{AnalyzeArgs, Global};
use crate::model::evidence::Evidence;
use crate::sources;

pub fn run(g: &Global, a: &AnalyzeArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let ev = input(g, a, cat)?;
    let report = analysis::build_report(cat, &ev);
    super::emit(&report.render(g.format()))?;
    Ok(report.exit_code())
}

/// Reads whatever `analyze` was given into evidence, limited to `-n` and with `--release`.
pub fn input(g: &Global, a: &AnalyzeArgs, cat: &Catalogue) -> anyhow::Result<Evidence> {
    let scanner = Scanner::new(cat);
    let mut ev = sources::logfile::read_input(&a.path, a.container.as_deref(), cat, &scanner)?;
    // An empty log is no evidence of health: most likely the wrong pod or container.
    if ev.kind == crate::model::evidence::SourceKind::Log
        && ev.logs.iter().all(|l| l.scan.bytes == 0)
    {
        return crate::model::error::input_err(format!(
            "{}: the input is empty (no log lines to analyse; check the pod and container it came from)",
            ev.origin
        ));
    }
    if let Some(ns) = &g.namespace {
        sources::logfile::restrict_namespace(&mut ev, ns);
    }
    if let Some(r) = &g.release {
        ev.release = Some(r.clone());
    }
    Ok(ev)
}
