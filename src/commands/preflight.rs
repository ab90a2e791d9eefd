//! `kubectl dssc-doctor preflight -f overrides.yaml`: the values loaded (a usage error
//! when malformed), the run's options from the command line, the report and exit code.

use crate::catalogue::Catalogue;
use crate::cli::{Global, PreflightArgs};
use crate::preflight;
use crate::sources::limits::{read_file_capped, MAX_CA_FILE};

pub fn run(g: &Global, a: &PreflightArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let vals = crate::settings::load(&a.files, &a.sets)?;
    let ca_file = match &a.ca_file {
        None => None,
        Some(p) => {
            let shown = p.display().to_string();
            let pem =
                read_file_capped(p, &format!("--ca-file {shown}"), MAX_CA_FILE, "a CA bundle")?;
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
