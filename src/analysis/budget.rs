//! Context values of connection and login findings that no single line shows: Smart
//! Check's pool budget (services × db.maxOpenConnections from the values or the Helm
//! release) against the server's max_connections (when a probe read it), and the
//! database user (the chart keeps PGUSER in a Secret, so it comes from that Secret or
//! from what the clients print).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use crate::model::evidence::Evidence;
use crate::netpol::DB_SERVICES;
use crate::probe::ProbeResult;

/// db.maxOpenConnections when nothing sets it (the chart's default).
const DEFAULT_MAX_OPEN: u64 = 25;

/// db.maxOpenConnections from --values, else the release's values, else the chart's
/// defaults in the release, else 25.
pub(crate) fn max_open(ev: &Evidence) -> u64 {
    let from = |v: &serde_json::Value| v.pointer("/db/maxOpenConnections").and_then(number);
    ev.values
        .as_ref()
        .and_then(from)
        .or_else(|| ev.helm.as_ref().and_then(|h| from(&h.config)))
        .or_else(|| ev.helm.as_ref().and_then(|h| from(&h.defaults)))
        .unwrap_or(DEFAULT_MAX_OPEN)
}

fn number(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Adds `services`, `max_open`, `pool_budget` and, from a probe that read them,
/// `max_connections` and `reserved`.
pub(crate) fn add_budget(
    ev: &Evidence,
    probe: Option<&ProbeResult>,
    d: &mut BTreeMap<String, String>,
) {
    let services = DB_SERVICES.len() as u64;
    let max_open = max_open(ev);
    d.insert("services".into(), services.to_string());
    d.insert("max_open".into(), max_open.to_string());
    d.insert(
        "pool_budget".into(),
        services.saturating_mul(max_open).to_string(),
    );
    if let Some(s) = probe.map(|p| &p.server) {
        if let Some(m) = s.max_connections {
            d.insert("max_connections".into(), m.to_string());
            d.insert(
                "reserved".into(),
                s.reserved_connections.unwrap_or(0).to_string(),
            );
        }
    }
}

/// The database user a client printed: pgx's ``failed to connect to `host=… user=…` ``
/// or lib/pq's `for user "…"`.
pub(crate) fn user_in_text(text: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?:`host=[^`]*? user=(?P<pgx>[^ `]+)|for user \\?"(?P<pq>[^"\\]+)\\?")"#)
            .expect("the user pattern is valid")
    });
    let c = re.captures(text)?;
    c.name("pgx")
        .or_else(|| c.name("pq"))
        .map(|m| m.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_from_client_texts() {
        assert_eq!(
            user_in_text(
                "failed to connect to `host=10.0.0.5 user=dssc database=postgres`: server error"
            )
            .as_deref(),
            Some("dssc")
        );
        assert_eq!(
            user_in_text(r#"pq: password authentication failed for user "smart""#).as_deref(),
            Some("smart")
        );
        assert_eq!(user_in_text("dial tcp 10.0.0.5:5432: i/o timeout"), None);
    }

    #[test]
    fn budget_from_values_or_default() {
        let mut ev = Evidence::new(crate::model::evidence::SourceKind::Bundle, "t");
        let mut d = BTreeMap::new();
        add_budget(&ev, None, &mut d);
        assert_eq!(d["pool_budget"], (DB_SERVICES.len() * 25).to_string());
        assert!(!d.contains_key("max_connections"));
        ev.values = Some(serde_json::json!({"db": {"maxOpenConnections": 10}}));
        add_budget(&ev, None, &mut d);
        assert_eq!(d["max_open"], "10");
        assert_eq!(d["pool_budget"], (DB_SERVICES.len() * 10).to_string());
    }
}
