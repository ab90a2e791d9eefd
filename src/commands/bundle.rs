//! `kubectl dssc-doctor bundle`: collect, analyse, redact, write.

use anyhow::Context as _;

use crate::analysis;
use crate::catalogue::Catalogue;
use crate::cli::{BundleArgs, Global, Output};
use crate::model::error::input_err;
use crate::report::Format;

pub fn run(g: &Global, b: &BundleArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let out = match (&b.dir, &g.output) {
        (Some(_), Output::File(_)) => {
            return input_err("give either -o FILE.tar.gz or --dir DIR, not both")
        }
        (Some(d), _) => d.clone(),
        (None, Output::File(p)) => p.clone(),
        _ => std::path::PathBuf::from(format!(
            "dssc-support-bundle-{}.tar.gz",
            chrono::Utc::now().format("%Y-%m-%dT%H_%M_%S")
        )),
    };
    let ev = super::runtime()?.block_on(super::diagnose::collect_live(g, &b.values, cat, true))?;
    let report = analysis::build_report(cat, &ev);
    crate::sources::write(&ev, &report.render(Format::Json), &out)
        .with_context(|| format!("writing the bundle {}", out.display()))?;
    eprintln!(
        "wrote {} ({} pods, {} events, {} logs; {} item(s) skipped, see dssc/collection.log)",
        out.display(),
        ev.pods.len(),
        ev.events.len(),
        ev.logs.len(),
        ev.skipped.len()
    );
    super::emit(&report.render(g.format()))?;
    Ok(0)
}
