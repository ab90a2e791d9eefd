//! A single container log (a file, a `.gz` of one, or stdin) read into evidence, and
//! what `analyze` was given turned into evidence whatever it is.

use std::io::Read;
use std::path::Path;

use crate::analysis::scan::Scanner;
use crate::catalogue::Catalogue;
use crate::model::error::{input_err, InputError};
use crate::model::evidence::{Evidence, Log, SourceKind};

use super::InputKind;

/// Reads a bundle directory, a `.tar.gz`, a log file or stdin (`-`) into evidence;
/// `container` names the container a log came from (limits the rules to its own).
pub fn read_input(
    path: &Path,
    container: Option<&str>,
    cat: &Catalogue,
    scanner: &Scanner,
) -> anyhow::Result<Evidence> {
    let kind = super::classify(path)?;
    Ok(match kind {
        InputKind::BundleDir | InputKind::BundleTarGz => {
            super::load(path, &kind, cat, scanner, false)?
        }
        InputKind::Stdin => {
            let stdin = std::io::stdin();
            read_log(cat, scanner, stdin.lock(), "-", container)?
        }
        InputKind::LogFile { gzip } => {
            let f = std::fs::File::open(path)
                .map_err(|e| InputError::new(format!("{}: {e}", path.display())))?;
            let origin = path.display().to_string();
            if gzip {
                read_log(
                    cat,
                    scanner,
                    flate2::read::MultiGzDecoder::new(f),
                    &origin,
                    container,
                )?
            } else {
                read_log(cat, scanner, f, &origin, container)?
            }
        }
    })
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

/// Keeps only the objects and logs of one namespace (cluster-scoped objects stay).
pub fn restrict_namespace(ev: &mut Evidence, ns: &str) {
    let keep = |m: &Option<String>| m.as_deref().is_none_or(|x| x == ns);
    ev.pods.retain(|p| keep(&p.metadata.namespace));
    ev.events.retain(|e| keep(&e.metadata.namespace));
    ev.configmaps.retain(|c| keep(&c.metadata.namespace));
    ev.secrets.retain(|c| keep(&c.metadata.namespace));
    ev.services.retain(|c| keep(&c.metadata.namespace));
    ev.deployments.retain(|c| keep(&c.metadata.namespace));
    ev.network_policies.retain(|c| keep(&c.metadata.namespace));
    ev.logs.retain(|l| keep(&l.namespace));
    ev.namespace = Some(ns.to_string());
}
