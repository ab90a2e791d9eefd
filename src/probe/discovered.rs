//! The probe's configuration from what a live diagnosis discovered: the DB settings
//! (Helm release, db-init env), the CA from the referenced ConfigMap and the password
//! from the Helm release or the `<fullname>-db` Secret.
//!
//! The probe runs where the doctor runs, not in the pods: the notes say so, and the
//! checks treat the stages that depend on the client's network position accordingly.

use std::time::Duration;

use super::{ProbeConfig, SslMode};
use crate::model::evidence::Evidence;

/// How a discovered probe runs.
#[derive(Clone, Debug)]
pub struct DiscoverOptions {
    /// Limit of each network operation.
    pub connect_timeout: Duration,
    /// Latency samples (small in a diagnosis).
    pub samples: usize,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            connect_timeout: Duration::from_secs(5),
            samples: 5,
        }
    }
}

/// Whether db.host names the chart's built-in database: empty, its Service `db`, or
/// that Service's in-cluster names (`db.<namespace>`, `db.<namespace>.svc…`).
pub fn is_builtin_host(host: &str, namespace: Option<&str>) -> bool {
    let h = host.trim().trim_end_matches('.');
    let Some(rest) = h.strip_prefix("db.") else {
        return h.is_empty() || h == "db";
    };
    let (ns, tail) = rest.split_once('.').unwrap_or((rest, ""));
    namespace == Some(ns) && (tail.is_empty() || tail == "svc" || tail.starts_with("svc."))
}

/// The probe configuration for the discovered settings, or `None` when there is
/// nothing to probe from here: no host, or the built-in database (a Service inside
/// the cluster, unreachable from here by design).
pub fn from_evidence(ev: &Evidence, opts: &DiscoverOptions) -> Option<ProbeConfig> {
    let host = ev.setting("host")?.trim().to_string();
    if is_builtin_host(&host, ev.namespace.as_deref()) {
        return None;
    }
    let from = |k: &str| {
        ev.settings
            .get(k)
            .map(|s| s.from.clone())
            .unwrap_or_else(|| "default".into())
    };
    let mut notes = vec![format!(
        "run from where the doctor runs, not from the pods: DNS, TCP and pg_hba results may differ from what db-init sees (host from {})",
        from("host")
    )];
    let port = match ev.setting("port").map(str::trim) {
        None | Some("") => 5432,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => {
                notes.push(format!("port {p:?} is not a port number; probed 5432"));
                5432
            }
        },
    };
    let user = ev
        .setting("user")
        .or(ev.db_user.as_deref())
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or("postgres")
        .to_string();
    let sslmode = match ev.setting("sslmode") {
        Some(m) => m.trim().parse::<SslMode>().unwrap_or_else(|_| {
            notes.push(format!(
                "sslmode {m:?} is not a libpq mode; probed with verify-full (the chart's default)"
            ));
            SslMode::VerifyFull
        }),
        None => SslMode::VerifyFull,
    };
    let (ca_pem, ca_origin, ca_withheld) = ca(ev, &mut notes);
    let password = ev.db_password.clone();
    if password.is_none() {
        notes.push(
            "no database password found (Helm release or the <fullname>-db Secret): the login is tried without one"
                .into(),
        );
    }
    Some(ProbeConfig {
        host,
        port,
        user,
        password,
        database: "postgres".into(),
        sslmode,
        ca_pem,
        ca_origin,
        connect_timeout: opts.connect_timeout,
        samples: opts.samples,
        notes,
        ca_withheld,
        ..ProbeConfig::default()
    })
}

/// The CA bundle the pods mount: (PEM, origin, withheld).
fn ca(ev: &Evidence, notes: &mut Vec<String>) -> (Option<Vec<u8>>, Option<String>, bool) {
    let (Some(kind), Some(name)) = (ev.setting("ca_kind"), ev.setting("ca_name")) else {
        return (None, None, false);
    };
    let key = ev.setting("ca_key").unwrap_or("");
    if kind != "configmap" {
        notes.push(format!(
            "the CA is in {kind} {name}: the doctor does not keep Secret values, so the certificate chain was not verified against it (a TLS001 here only confirms the logs)"
        ));
        return (None, Some(format!("{kind} {name}")), true);
    }
    let ns = ev.namespace.as_deref();
    let Some(cm) = ev.configmaps.iter().find(|c| {
        c.metadata.name.as_deref() == Some(name)
            && ns.is_none_or(|n| c.metadata.namespace.as_deref().is_none_or(|x| x == n))
    }) else {
        notes.push(format!(
            "configmap {name} (the CA) was not found: the certificate chain was not verified"
        ));
        return (None, Some(format!("configmap {name}")), true);
    };
    let data = cm.data.clone().unwrap_or_default();
    let binary = cm.binary_data.clone().unwrap_or_default();
    let value = if key.is_empty() {
        // No items in the volume: every key is a file; take the only one.
        match (data.len(), binary.len()) {
            (1, 0) => data.into_iter().next().map(|(k, v)| (k, v.into_bytes())),
            (0, 1) => binary.into_iter().next().map(|(k, v)| (k, v.0)),
            _ => None,
        }
    } else {
        data.get(key)
            .map(|v| (key.to_string(), v.clone().into_bytes()))
            .or_else(|| binary.get(key).map(|v| (key.to_string(), v.0.clone())))
    };
    match value {
        Some((k, pem)) => (Some(pem), Some(format!("configmap {name} key {k}")), false),
        None => {
            notes.push(format!(
                "configmap {name} has no key {}: the certificate chain was not verified",
                if key.is_empty() { "to use" } else { key }
            ));
            (None, Some(format!("configmap {name}")), true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::evidence::SourceKind;
    use crate::redact::{ExposeSecret, SecretString};
    use k8s_openapi::api::core::v1::ConfigMap;

    fn ev(settings: &[(&str, &str)]) -> Evidence {
        let mut e = Evidence::new(SourceKind::Cluster, "test");
        e.namespace = Some("trendmicro".into());
        for (k, v) in settings {
            e.set(k, *v, "pod auth-1 (db-init env)");
        }
        e
    }

    fn trust(name: &str, key: &str, value: &str) -> ConfigMap {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "trendmicro"},
            "data": {key: value}
        }))
        .unwrap()
    }

    #[test]
    fn builtin_database_is_not_probed() {
        let o = DiscoverOptions::default();
        assert!(from_evidence(&ev(&[]), &o).is_none());
        assert!(from_evidence(&ev(&[("host", "db")]), &o).is_none());
        assert!(from_evidence(&ev(&[("host", "db.trendmicro.svc")]), &o).is_none());
        assert!(from_evidence(&ev(&[("host", "db.trendmicro.svc.cluster.local")]), &o).is_none());
        assert!(from_evidence(&ev(&[("host", "dbhost.example.com")]), &o).is_some());
        assert!(from_evidence(&ev(&[("host", "db.example.com")]), &o).is_some());
    }

    #[test]
    fn settings_ca_and_password() {
        let mut e = ev(&[
            ("host", "10.0.0.5"),
            ("port", "6432"),
            ("sslmode", "verify-ca"),
            ("ca_kind", "configmap"),
            ("ca_name", "dssc-db-trust"),
            ("ca_key", "ca"),
        ]);
        e.configmaps.push(trust("dssc-db-trust", "ca", "PEM"));
        e.db_password = Some(SecretString::from("pw"));
        let c = from_evidence(&e, &DiscoverOptions::default()).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("10.0.0.5", 6432));
        assert_eq!(c.user, "postgres");
        assert_eq!(c.sslmode, SslMode::VerifyCa);
        assert_eq!(c.ca_pem.as_deref(), Some(&b"PEM"[..]));
        assert_eq!(
            c.ca_origin.as_deref(),
            Some("configmap dssc-db-trust key ca")
        );
        assert_eq!(c.password.as_ref().map(|p| p.expose_secret()), Some("pw"));
        assert_eq!(c.samples, 5);
        assert!(!c.ca_withheld);
    }

    #[test]
    fn secret_ca_is_withheld_and_said() {
        let e = ev(&[
            ("host", "db.example.com"),
            ("user", "dssc"),
            ("ca_kind", "secret"),
            ("ca_name", "dssc-db-ca"),
            ("ca_key", "ca.pem"),
        ]);
        let c = from_evidence(&e, &DiscoverOptions::default()).unwrap();
        assert_eq!(c.user, "dssc");
        let mut e2 = ev(&[("host", "db.example.com")]);
        e2.db_user = Some("from-secret".into());
        assert_eq!(
            from_evidence(&e2, &DiscoverOptions::default())
                .unwrap()
                .user,
            "from-secret"
        );
        assert_eq!(c.sslmode, SslMode::VerifyFull);
        assert!(c.ca_pem.is_none() && c.ca_withheld);
        assert!(c
            .notes
            .iter()
            .any(|n| n.contains("does not keep Secret values")));
        assert!(c.notes.iter().any(|n| n.contains("no database password")));
    }

    #[test]
    fn missing_configmap_key_is_withheld() {
        let mut e = ev(&[
            ("host", "10.0.0.5"),
            ("ca_kind", "configmap"),
            ("ca_name", "dssc-db-trust"),
            ("ca_key", "ca"),
        ]);
        e.configmaps.push(trust("dssc-db-trust", "other", "PEM"));
        let c = from_evidence(&e, &DiscoverOptions::default()).unwrap();
        assert!(c.ca_pem.is_none() && c.ca_withheld);
    }
}
