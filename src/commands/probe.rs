//! `kubectl dssc-doctor probe`: reading the password (PGPASSWORD or --password-stdin
//! only) and the CA file, or discovering every setting from the live install, then the
//! report (stage table, probe JSON, findings, exit code).

use std::io::BufRead;

use crate::catalogue::Catalogue;
use crate::cli::{Global, ProbeArgs};
use crate::model::error::InputError;
use crate::probe::ProbeConfig;
use crate::sources::limits::{read_file_capped, MAX_CA_FILE};

/// The probe configuration from the arguments, with the password from PGPASSWORD or
/// stdin and the CA file read.
pub fn config(a: &ProbeArgs) -> Result<ProbeConfig, InputError> {
    let password = if a.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| InputError::new(format!("reading the password from stdin: {e}")))?;
        Some(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        std::env::var("PGPASSWORD").ok()
    };
    let ca_pem = match &a.ca_file {
        Some(p) => Some(read_file_capped(
            p,
            &format!("--ca-file {}", p.display()),
            MAX_CA_FILE,
            "a CA bundle",
        )?),
        None => None,
    };
    Ok(ProbeConfig {
        host: a.host.clone().unwrap_or_default(),
        port: a.port,
        user: a.user.clone(),
        password: password.map(crate::redact::SecretString::from),
        database: a.database.clone(),
        sslmode: a.sslmode.into(),
        ca_pem,
        ca_origin: a.ca_file.as_ref().map(|p| p.display().to_string()),
        connect_timeout: a.connect_timeout,
        samples: a.samples,
        latency: a.latency.thresholds(),
        services: a.services,
        max_open_connections: a.max_open_connections,
        supported_versions: a.supported_versions,
        ..ProbeConfig::default()
    })
}

/// Runs `probe`: prints the report, returns the exit code.
pub fn run(g: &Global, a: &ProbeArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let rt = super::runtime()?;
    let cfg = match a.host.as_deref().map(str::trim) {
        Some("") => return Err(InputError::new("--host is empty").into()),
        Some(_) => config(a)?,
        None => rt.block_on(discover(g, a, cat))?,
    };
    let res = rt.block_on(crate::probe::run(&cfg));
    let report =
        crate::probe::report::standalone(cat, &cfg, &res, g.namespace.clone(), g.release.clone());
    super::emit(&report.render(g.format()))?;
    Ok(report.exit_code())
}

/// The probe's settings from the live install (Helm release, pods, CA ConfigMap, the
/// DB Secret), with this command's timeouts, samples and thresholds.
async fn discover(g: &Global, a: &ProbeArgs, cat: &Catalogue) -> anyhow::Result<ProbeConfig> {
    let ev =
        super::diagnose::collect_live(g, &crate::cli::ValuesArgs::default(), cat, false).await?;
    let ns = ev.namespace.clone().unwrap_or_default();
    let mut cfg = crate::probe::from_evidence(
        &ev,
        &crate::probe::DiscoverOptions {
            connect_timeout: a.connect_timeout,
            samples: a.samples,
        },
    )
    .ok_or_else(|| {
        InputError::new(format!(
            "no external database configured for the install in namespace {ns} (no db-init pods or Helm release with db.host); pass --host"
        ))
    })?;
    crate::sources::secret_ca::use_in_probe(&ev, &mut cfg);
    cfg.latency = a.latency.thresholds();
    cfg.services = a.services;
    cfg.max_open_connections = a.max_open_connections;
    cfg.supported_versions = a.supported_versions;
    Ok(cfg)
}
