//! The real connection (stage 6) with `tokio-postgres` + `postgres-native-tls` in the
//! configured sslmode, its failures classified by SQLSTATE (28P01 AUTH001, 28000
//! AUTH002, 3D000 AUTH003, 53300 DB004, 57P03 DB005), and the readiness checks (stage
//! 7): supported version (DB001), `ssl` (DB006), the user's right to create roles and
//! databases (DB002) and free connection slots versus the pool budget (DB003).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use regex::Regex;
use tokio::time::timeout;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};
use x509_parser::pem::Pem;

use super::{dur_label, ProbeConfig, Recorder, SslMode, StageResult, Verify};
use crate::catalogue::ids;

fn hba_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?:no pg_hba\.conf entry|pg_hba\.conf (?P<hba_verdict>rejects connection)) for host "(?P<hba_addr>[^"]*)", user "(?P<hba_user>[^"]*)", database "(?P<hba_db>[^"]*)"(?:, (?P<hba_ssl>SSL on|SSL off|SSL encryption|no encryption|GSS encryption))?"#)
            .expect("the pg_hba pattern is valid")
    })
}

/// The role named by `role "…" does not exist`.
fn missing_role(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("role \"")?;
    let name = rest.strip_suffix("\" does not exist")?;
    (!name.is_empty()).then(|| name.to_string())
}

fn tls_connector(cfg: &ProbeConfig, verify: Verify) -> Result<native_tls::TlsConnector, String> {
    let mut b = native_tls::TlsConnector::builder();
    match verify {
        Verify::None => {
            b.danger_accept_invalid_certs(true);
            b.danger_accept_invalid_hostnames(true);
        }
        Verify::Ca | Verify::Full => {
            if let Some(pem) = &cfg.ca_pem {
                b.disable_built_in_roots(true);
                for p in Pem::iter_from_buffer(pem).map_while(Result::ok) {
                    if p.label != "CERTIFICATE" {
                        continue;
                    }
                    if let Ok(c) = native_tls::Certificate::from_der(&p.contents) {
                        b.add_root_certificate(c);
                    }
                }
            }
            if verify == Verify::Ca {
                b.danger_accept_invalid_hostnames(true);
            }
        }
    }
    b.build().map_err(|e| e.to_string())
}

enum ConnErr {
    Timeout,
    Pg(tokio_postgres::Error),
    Other(String),
}

/// Connects within `limit` and drives the connection in the background.
async fn login<T>(
    pc: &tokio_postgres::Config,
    tls: T,
    limit: std::time::Duration,
) -> Result<Client, ConnErr>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    match timeout(limit, pc.connect(tls)).await {
        Ok(Ok((client, conn))) => {
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(client)
        }
        Ok(Err(e)) => Err(ConnErr::Pg(e)),
        Err(_) => Err(ConnErr::Timeout),
    }
}

/// Stage 6: a real login. Returns the client for the later stages.
pub(crate) async fn connect_stage(
    cfg: &ProbeConfig,
    host: &str,
    addr: SocketAddr,
    verify: Verify,
    offered: bool,
    r: &mut Recorder,
) -> Option<Client> {
    let t0 = Instant::now();
    let mut pc = tokio_postgres::Config::new();
    pc.host(host)
        .hostaddr(addr.ip())
        .port(addr.port())
        .user(&cfg.user)
        .dbname(&cfg.database)
        .application_name("dssc-doctor")
        .connect_timeout(cfg.connect_timeout);
    if let Some(p) = &cfg.password {
        pc.password(crate::redact::ExposeSecret::expose_secret(p));
    }
    let tls = match cfg.sslmode {
        SslMode::Disable => false,
        SslMode::Allow | SslMode::Prefer => offered,
        _ => true,
    };
    pc.ssl_mode(if tls {
        tokio_postgres::config::SslMode::Require
    } else {
        tokio_postgres::config::SslMode::Disable
    });
    let limit = cfg.connect_timeout;
    let res: Result<Client, ConnErr> = if tls {
        match tls_connector(cfg, verify) {
            Ok(c) => login(&pc, postgres_native_tls::MakeTlsConnector::new(c), limit).await,
            Err(e) => Err(ConnErr::Other(e)),
        }
    } else {
        login(&pc, NoTls, limit).await
    };
    let took = t0.elapsed();
    match res {
        Ok(client) => {
            let mut result = StageResult::Pass;
            let detail = format!(
                "logged in as {} to database {} {} in {}",
                cfg.user,
                cfg.database,
                if tls { "over TLS" } else { "without TLS" },
                dur_label(took)
            );
            if took * 2 >= cfg.pgconnect_timeout {
                result = StageResult::Warn;
                r.hit(
                    ids::LAT002,
                    &[
                        ("took", dur_label(took)),
                        ("limit", dur_label(cfg.pgconnect_timeout)),
                    ],
                    format!(
                        "TCP connect, TLS and authentication took {} (db-init gives up after PGCONNECT_TIMEOUT={})",
                        dur_label(took),
                        dur_label(cfg.pgconnect_timeout)
                    ),
                );
            }
            r.stage("connect", result, Some(t0), detail);
            Some(client)
        }
        Err(ConnErr::Timeout) => {
            let waited = dur_label(limit);
            let msg = format!("login did not complete within {waited}");
            r.stage("connect", StageResult::Fail, Some(t0), msg.clone());
            r.hit(
                ids::NET006,
                &[
                    ("dbaddr", addr.ip().to_string()),
                    ("dbport", addr.port().to_string()),
                    ("waited", waited),
                ],
                format!("{addr}: {msg} (TCP connect, TLS and authentication)"),
            );
            None
        }
        Err(ConnErr::Other(msg)) => {
            other(r, t0, msg);
            None
        }
        Err(ConnErr::Pg(e)) => {
            classify(cfg, host, offered, &e, r, t0);
            None
        }
    }
}

fn other(r: &mut Recorder, t0: Instant, msg: String) {
    r.stage("connect", StageResult::Fail, Some(t0), msg.clone());
    r.hit(
        ids::PRB001,
        &[("stage", "connect".into()), ("message", msg.clone())],
        msg,
    );
}

/// The full error text, causes included.
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

fn classify(
    cfg: &ProbeConfig,
    host: &str,
    offered: bool,
    e: &tokio_postgres::Error,
    r: &mut Recorder,
    t0: Instant,
) {
    let Some(db) = e.as_db_error() else {
        let text = error_text(e);
        let timed_out = text.contains("timed out") || text.contains("timeout");
        if timed_out {
            r.stage("connect", StageResult::Fail, Some(t0), text.clone());
            r.hit(
                ids::NET006,
                &[
                    ("dbaddr", host.to_string()),
                    ("dbport", cfg.port.to_string()),
                    ("waited", dur_label(cfg.connect_timeout)),
                ],
                text,
            );
        } else {
            other(r, t0, text);
        }
        return;
    };
    let code = db.code().code().to_string();
    let msg = db.message().to_string();
    let detail = format!("SQLSTATE {code}: {msg}");
    r.stage("connect", StageResult::Fail, Some(t0), detail.clone());
    let c = db.code();
    if *c == SqlState::INVALID_PASSWORD {
        r.hit(
            ids::AUTH001,
            &[("dbuser", cfg.user.clone())],
            format!("pq: {msg} (SQLSTATE {code})"),
        );
    } else if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
        if let Some(caps) = hba_regex().captures(&msg) {
            let caps: Vec<(&str, String)> =
                ["hba_addr", "hba_user", "hba_db", "hba_ssl", "hba_verdict"]
                    .iter()
                    .filter_map(|n| caps.name(n).map(|v| (*n, v.as_str().to_string())))
                    .collect();
            let mut text = format!("pq: {msg} (SQLSTATE {code})");
            if cfg.sslmode == SslMode::Disable && offered {
                text.push_str(
                    "; the server offers TLS and sslmode is disable: pg_hba.conf probably admits only hostssl connections, set db.tls.mode: verify-full (with the CA) in overrides.yaml",
                );
            }
            r.hit(ids::AUTH002, &caps, text);
        } else if msg.contains("requires a valid client certificate")
            || msg.contains("certificate authentication failed")
        {
            r.hit(ids::AUTH004, &[], format!("pq: {msg} (SQLSTATE {code})"));
        } else if let Some(role) = missing_role(&msg) {
            r.hit(
                ids::AUTH001,
                &[("dbuser", role.clone()), ("missing_role", role)],
                format!("pq: {msg} (SQLSTATE {code})"),
            );
        } else {
            // Other login refusals.
            r.hit(
                ids::AUTH001,
                &[("dbuser", cfg.user.clone())],
                format!("pq: {msg} (SQLSTATE {code})"),
            );
        }
    } else if *c == SqlState::INVALID_CATALOG_NAME {
        r.hit(
            ids::AUTH003,
            &[("missing_db", cfg.database.clone())],
            format!("pq: {msg} (SQLSTATE {code})"),
        );
    } else if *c == SqlState::TOO_MANY_CONNECTIONS {
        r.hit(
            ids::DB004,
            &[("message", msg.clone())],
            format!("pq: {msg} (SQLSTATE {code})"),
        );
    } else if *c == SqlState::CANNOT_CONNECT_NOW {
        r.hit(
            ids::DB005,
            &[("message", msg.clone())],
            format!("pq: {msg} (SQLSTATE {code})"),
        );
    } else {
        r.hit(
            ids::PRB001,
            &[("stage", "connect".into()), ("message", detail.clone())],
            detail,
        );
    }
}

async fn text_row(cfg: &ProbeConfig, client: &Client, sql: &str) -> Result<Vec<String>, String> {
    match timeout(cfg.connect_timeout, client.query_opt(sql, &[])).await {
        Ok(Ok(Some(row))) => (0..row.len())
            .map(|i| {
                row.try_get::<_, Option<String>>(i)
                    .map(|v| v.unwrap_or_default())
                    .map_err(|e| e.to_string())
            })
            .collect(),
        Ok(Ok(None)) => Err("no row".into()),
        Ok(Err(e)) => Err(error_text(&e)),
        Err(_) => Err(format!(
            "no answer within {}",
            dur_label(cfg.connect_timeout)
        )),
    }
}

/// Stage 7. Returns whether the probe goes on.
pub(crate) async fn readiness_stage(cfg: &ProbeConfig, client: &Client, r: &mut Recorder) -> bool {
    let t0 = Instant::now();
    let settings = match text_row(
        cfg,
        client,
        "SELECT current_setting('server_version_num'), current_setting('server_version'), \
         current_setting('ssl'), current_setting('max_connections'), \
         current_setting('superuser_reserved_connections'), \
         coalesce(current_setting('reserved_connections', true), '0')",
    )
    .await
    {
        Ok(v) if v.len() == 6 => v,
        Ok(_) => {
            other_ready(r, t0, "unexpected answer to the settings query".into());
            return false;
        }
        Err(e) => {
            other_ready(r, t0, format!("reading server settings: {e}"));
            return false;
        }
    };
    let num: u32 = settings[0].trim().parse().unwrap_or(0);
    let version = settings[1].clone();
    let ssl = settings[2] == "on";
    let max: i64 = settings[3].trim().parse().unwrap_or(0);
    let reserved: i64 = settings[4].trim().parse::<i64>().unwrap_or(0)
        + settings[5].trim().parse::<i64>().unwrap_or(0);
    let f = &mut r.res.server;
    f.version = Some(version.clone());
    f.version_num = Some(num);
    f.ssl = Some(ssl);
    f.max_connections = Some(max);
    f.reserved_connections = Some(reserved);

    let mut problems: Vec<String> = Vec::new();
    let mut failed = false;
    let mut warned = false;
    if !cfg.supported_versions.contains(num) {
        warned = true;
        problems.push(format!(
            "version {version} not in {}",
            cfg.supported_versions.label()
        ));
        r.hit(
            ids::DB001,
            &[
                ("server_version", version.clone()),
                ("supported", cfg.supported_versions.label()),
            ],
            format!(
                "server_version_num {num} ({version}) is outside the supported {}",
                cfg.supported_versions.label()
            ),
        );
    }
    if !ssl {
        warned = true;
        problems.push("ssl is off".into());
        r.hit(ids::DB006, &[], "SHOW ssl: off".into());
    }

    // The master user's rights.
    match text_row(
        cfg,
        client,
        "SELECT r.rolsuper::text, r.rolcreaterole::text, r.rolcreatedb::text, \
         coalesce((SELECT string_agg(g.rolname, ',') FROM pg_roles g \
                   WHERE g.rolname IN ('rds_superuser', 'azure_pg_admin') \
                   AND pg_has_role(current_user, g.oid, 'member')), '') \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .await
    {
        Ok(v) if v.len() == 4 => {
            let (sup, cr, cd) = (v[0] == "true", v[1] == "true", v[2] == "true");
            let mut privs = Vec::new();
            if sup {
                privs.push("SUPERUSER".to_string());
            }
            if cr {
                privs.push("CREATEROLE".to_string());
            }
            if cd {
                privs.push("CREATEDB".to_string());
            }
            for g in v[3].split(',').filter(|g| !g.is_empty()) {
                privs.push(format!("member of {g}"));
            }
            r.res.server.user_privileges = privs.clone();
            let admin = !v[3].is_empty();
            if !(sup || admin || (cr && cd)) {
                let mut missing = Vec::new();
                if !cr {
                    missing.push("CREATEROLE");
                }
                if !cd {
                    missing.push("CREATEDB");
                }
                let missing = missing.join(" and ");
                failed = true;
                problems.push(format!("{} lacks {missing}", cfg.user));
                r.hit(
                    ids::DB002,
                    &[("dbuser", cfg.user.clone()), ("missing", missing.clone())],
                    format!(
                        "role {} has {} but lacks {missing} (and is neither superuser nor a member of rds_superuser or azure_pg_admin)",
                        cfg.user,
                        if privs.is_empty() { "no privileges".to_string() } else { privs.join(", ") }
                    ),
                );
            }
        }
        Ok(_) => problems.push("could not read the user's privileges".into()),
        Err(e) => problems.push(format!("could not read the user's privileges: {e}")),
    }

    // Connection budget.
    let count_sql = if num >= 100000 {
        "SELECT count(*)::text FROM pg_stat_activity WHERE backend_type = 'client backend'"
    } else {
        "SELECT count(*)::text FROM pg_stat_activity"
    };
    match text_row(cfg, client, count_sql).await {
        Ok(v) if !v.is_empty() => {
            let current: i64 = v[0].trim().parse().unwrap_or(0);
            let free = max - reserved - current;
            let budget = i64::from(cfg.services) * i64::from(cfg.max_open_connections);
            let f = &mut r.res.server;
            f.current_connections = Some(current);
            f.free_connections = Some(free);
            f.pool_budget = Some(budget);
            if free < budget {
                warned = true;
                let needed = budget + reserved + current;
                problems.push(format!("{free} free connections < pool budget {budget}"));
                r.hit(
                    ids::DB003,
                    &[
                        ("free", free.to_string()),
                        ("budget", budget.to_string()),
                        ("needed", needed.to_string()),
                    ],
                    format!(
                        "max_connections {max} - reserved {reserved} - open {current} = {free} free slots; the pools need up to {budget} ({} services x db.maxOpenConnections {})",
                        cfg.services, cfg.max_open_connections
                    ),
                );
            }
        }
        _ => problems.push("could not count the open connections".into()),
    }
    let result = if failed {
        StageResult::Fail
    } else if warned {
        StageResult::Warn
    } else {
        StageResult::Pass
    };
    let mut detail = format!(
        "PostgreSQL {version}, ssl {}, max_connections {max}",
        if ssl { "on" } else { "off" }
    );
    if !problems.is_empty() {
        detail = format!("{}; {detail}", problems.join("; "));
    }
    r.stage("readiness", result, Some(t0), detail);
    !failed
}

fn other_ready(r: &mut Recorder, t0: Instant, msg: String) {
    r.stage("readiness", StageResult::Fail, Some(t0), msg.clone());
    r.hit(
        ids::PRB001,
        &[("stage", "readiness".into()), ("message", msg.clone())],
        msg,
    );
}
