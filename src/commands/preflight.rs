//! `kubectl dssc-doctor preflight -f overrides.yaml`: the values loaded (a usage error
//! when malformed), the run's options from the command line, the report and exit code.

use std::io::Read as _;

use crate::catalogue::Catalogue;
use crate::cli::{Global, PreflightArgs};
use crate::model::error::InputError;
use crate::preflight;

/// A CA bundle is a few kilobytes; anything larger is not one.
const MAX_CA_FILE: u64 = 1 << 20;

pub fn run(g: &Global, a: &PreflightArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let vals = crate::settings::load(&a.files, &a.sets)?;
    let ca_file = match &a.ca_file {
        None => None,
        Some(p) => {
            let shown = p.display().to_string();
            let mut pem = Vec::new();
            std::fs::File::open(p)
                .and_then(|f| f.take(MAX_CA_FILE + 1).read_to_end(&mut pem))
                .map_err(|e| InputError::new(format!("--ca-file {shown}: {e}")))?;
            if pem.len() as u64 > MAX_CA_FILE {
                return Err(InputError::new(format!(
                    "--ca-file {shown}: larger than {MAX_CA_FILE} bytes, not a CA bundle"
                ))
                .into());
            }
            Some(preflight::CaFile { path: shown, pem })
        }
    };
    let opts = preflight::Options {
        cluster: super::cluster_options(g, false),
        offline: a.offline,
        no_probe: g.probe.no_probe,
        files: a.files.len(),
        sets: a.sets.len(),
        samples: a.samples,
        latency: a.latency.thresholds(),
        supported_versions: a.supported_versions,
        ca_file,
    };
    let report = super::runtime()?.block_on(preflight::preflight(&opts, cat, &vals));
    super::emit(&report.render(g.format()))?;
    Ok(preflight::exit_code(&report))
}
