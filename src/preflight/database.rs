//! The `database` group: the staged probe with the values' settings and the CA read
//! from the cluster, as db-init would connect.

use super::*;

pub(crate) async fn database_group(
    run: &mut Run<'_>,
    o: &Options,
    no_probe: bool,
    timeout: Duration,
    vals: &Values,
    s: &DbSettings,
    ca: Option<(Vec<u8>, String)>,
) -> Option<serde_json::Value> {
    if no_probe {
        run.row("database", "probe", "skip", "--no-probe".into(), None);
        return None;
    }
    if !s.external {
        run.row(
            "database",
            "probe",
            "skip",
            "built-in database: nothing to probe before install".into(),
            None,
        );
        return None;
    }
    let (ca_pem, ca_origin) = match ca {
        Some((p, o)) => (Some(p), Some(o)),
        None => (None, None),
    };
    let cfg = ProbeConfig {
        host: s.host.clone(),
        port: s.port,
        user: s.user.clone().unwrap_or_else(|| "postgres".into()),
        password: vals.password().map(crate::redact::SecretString::from),
        database: "postgres".into(),
        sslmode: s.sslmode,
        ca_pem,
        ca_origin,
        connect_timeout: timeout,
        samples: o.samples,
        latency: o.latency,
        services: u32::try_from(DB_SERVICES.len()).unwrap_or(6),
        max_open_connections: vals
            .db
            .max_open_connections
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(25),
        supported_versions: o.supported_versions,
        ..ProbeConfig::default()
    };
    let res = probe::run(&cfg).await;
    probe::add_findings(run.cat, &mut run.set, &res);
    run.rows.extend(probe::check_lines(&res));
    serde_json::to_value(&res).ok()
}
