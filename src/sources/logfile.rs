//! A single container log (a file, a `.gz` of one, or stdin) read into evidence, and
//! what `analyze` was given turned into evidence whatever it is.

use std::io::Read;
use std::path::Path;

use crate::analysis::scan::Scanner;
use crate::catalogue::Catalogue;
use crate::model::error::{input_err, InputError};
use crate::model::evidence::{Evidence, Log, SourceKind};

use super::limits::{Budget, Counted, Limits};
use super::InputKind;

/// Reads a bundle directory, a `.tar.gz`, a log file or stdin (`-`) into evidence;
/// `container` names the container a log came from (limits the rules to its own).
pub fn read_input(
    path: &Path,
    container: Option<&str>,
    cat: &Catalogue,
    scanner: &Scanner,
) -> anyhow::Result<Evidence> {
    read_input_within(
        path,
        container,
        cat,
        scanner,
        &Limits::default(),
        &super::scope::Focus::default(),
    )
}

/// [`read_input`] within `limits`: a log is read up to the input budget (the scan of
/// what was read is kept, with DOC001 naming the limit), a bundle as in
/// [`super::load_within`] (limited to `focus`).
pub fn read_input_within(
    path: &Path,
    container: Option<&str>,
    cat: &Catalogue,
    scanner: &Scanner,
    limits: &Limits,
    focus: &super::scope::Focus,
) -> anyhow::Result<Evidence> {
    let kind = super::classify(path)?;
    let budget = Budget::new(limits.clone());
    let mut ev = match kind {
        InputKind::BundleDir | InputKind::BundleTarGz => {
            return super::load_within(path, &kind, cat, scanner, false, limits, focus)
        }
        InputKind::Stdin => {
            let stdin = std::io::stdin();
            let r = Counted::unpacked(stdin.lock(), &budget);
            read_log(cat, scanner, r, "-", container)?
        }
        InputKind::LogFile { gzip } => {
            let f = std::fs::File::open(path)
                .map_err(|e| InputError::new(format!("{}: {e}", path.display())))?;
            let origin = path.display().to_string();
            let f = std::io::BufReader::new(f);
            if gzip {
                let gz = flate2::read::MultiGzDecoder::new(Counted::packed(f, &budget));
                read_log(
                    cat,
                    scanner,
                    Counted::unpacked(gz, &budget),
                    &origin,
                    container,
                )?
            } else {
                read_log(
                    cat,
                    scanner,
                    Counted::unpacked(f, &budget),
                    &origin,
                    container,
                )?
            }
        }
    };
    if let Some(why) = budget.hit() {
        let origin = ev.origin.clone();
        ev.skip(origin, why);
    }
    Ok(ev)
}

/// One log as evidence; binary data is a usage error.
pub fn read_log(
    cat: &Catalogue,
    scanner: &Scanner,
    r: impl Read,
    origin: &str,
    container: Option<&str>,
) -> anyhow::Result<Evidence> {
    let scan = scanner
        .scan(cat, r, container)
        .map_err(|e| InputError::new(format!("{origin}: {e}")))?;
    if scan.binary {
        return input_err(format!(
            "{origin}: binary data, not a text log (pass a container log, a support bundle directory or a .tar.gz)"
        ));
    }
    let mut ev = Evidence::new(SourceKind::Log, origin);
    ev.logs.push(Log {
        namespace: None,
        pod: None,
        container: container.map(str::to_string),
        previous: false,
        scan,
        raw: None,
        origin: origin.to_string(),
    });
    Ok(ev)
}
