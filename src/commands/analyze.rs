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
    let limits = sources::limits::Limits::with_total(g.max_input_size);
    let mut ev = sources::logfile::read_input_within(
        &a.path,
        a.container.as_deref(),
        cat,
        &scanner,
        &limits,
    )?;
    if let Some(ns) = &g.namespace {
        sources::logfile::restrict_namespace(&mut ev, ns);
    }
    if let Some(r) = &g.release {
        ev.release = Some(r.clone());
    }
    Ok(ev)
}
