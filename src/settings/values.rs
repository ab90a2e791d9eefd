//! The merged values and their typed view: the `db:` section (host, port, user, TLS
//! mode, CA reference, password kept out of `Debug`), `networkPolicy`, and the settings
//! they give a diagnosis.

use super::*;

/// PostgreSQL's port, the chart's default for `db.port`.
pub const DEFAULT_PORT: u16 = 5432;

/// The suffix of Azure Database for PostgreSQL (single server) host names.
pub const AZURE_SUFFIX: &str = ".postgres.database.azure.com";

/// `db.tls.mode` (one of [`SslMode::CHART`]) is the probe's [`SslMode`]: one type.
pub use crate::model::tls::SslMode;
use crate::redact::{ExposeSecret, SecretString};

/// Where the database CA comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaKind {
    ConfigMap,
    Secret,
}

impl CaKind {
    /// `configmap` or `secret`, as `kubectl create` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CaKind::ConfigMap => "configmap",
            CaKind::Secret => "secret",
        }
    }

    /// The key under `db.tls.ca.valueFrom`.
    pub fn values_key(self) -> &'static str {
        match self {
            CaKind::ConfigMap => "configMapKeyRef",
            CaKind::Secret => "secretKeyRef",
        }
    }
}

/// `db.tls.ca.valueFrom.configMapKeyRef` or `.secretKeyRef`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyRef {
    pub name: Option<String>,
    pub key: Option<String>,
}

/// The typed `db:` section. Unset (or wrongly typed) keys are `None`.
#[derive(Clone, Debug, Default)]
pub struct Db {
    pub user: Option<String>,
    /// `secrecy`: `Debug` never shows it.
    pub(crate) password: Option<SecretString>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls_mode: Option<SslMode>,
    pub config_map_ref: Option<KeyRef>,
    pub secret_ref: Option<KeyRef>,
    pub max_open_connections: Option<u64>,
    pub max_idle_connections: Option<u64>,
    pub conn_max_lifetime: Option<String>,
}

/// The DB settings the chart hands to db-init, for the rest of the tool (probe,
/// evidence `settings`, fix templates). No password: see [`Values::password`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbSettings {
    /// `PGHOST`: db.host, or `db` (the built-in database's Service) when empty.
    pub host: String,
    /// Whether db.host names an external server.
    pub external: bool,
    /// `PGPORT`: db.port, 5432 when unset or invalid (VAL002 reports invalid ones).
    pub port: u16,
    pub user: Option<String>,
    /// `PGSSLMODE`: db.tls.mode (default verify-full), `disable` for the built-in DB.
    pub sslmode: SslMode,
    /// The CA the chart mounts (the Secret wins when both refs have a name).
    pub ca_kind: Option<CaKind>,
    pub ca_name: Option<String>,
    pub ca_key: Option<String>,
}

impl DbSettings {
    /// The settings as `(name, value)` pairs named like `Evidence::settings` and the
    /// catalogue's context variables (`host`, `port`, `user`, `sslmode`, `ca_kind`,
    /// `ca_name`, `ca_key`); unknown ones are left out.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("host", self.host.clone()),
            ("port", self.port.to_string()),
            ("sslmode", self.sslmode.as_str().to_string()),
        ];
        if let Some(u) = &self.user {
            v.push(("user", u.clone()));
        }
        if let Some(k) = self.ca_kind {
            v.push(("ca_kind", k.as_str().to_string()));
        }
        if let Some(n) = &self.ca_name {
            v.push(("ca_name", n.clone()));
        }
        if let Some(k) = &self.ca_key {
            v.push(("ca_key", k.clone()));
        }
        v
    }
}

/// Merged Helm values with a typed view of what the doctor needs.
pub struct Values {
    pub(crate) merged: Mapping,
    /// Key path → the source (file or `--set`) that set it last.
    pub(crate) origins: BTreeMap<String, String>,
    pub db: Db,
    /// `networkPolicy.enabled` (chart default: true).
    pub network_policy_enabled: bool,
    /// `networkPolicy.additionalOutboundPorts`: TCP ports the chart's policies open to
    /// any destination.
    pub additional_outbound_ports: Vec<u16>,
    /// Type errors and unknown keys found while reading the typed view.
    pub(crate) problems: Vec<ValueIssue>,
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Values")
            .field("db", &self.db)
            .field("network_policy_enabled", &self.network_policy_enabled)
            .field("additional_outbound_ports", &self.additional_outbound_ports)
            .field("sources", &self.sources())
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

impl Values {
    /// Values from YAML text (one source named `name`), for tests and callers that
    /// already hold the text.
    pub fn from_yaml(name: &str, text: &str) -> Result<Values, InputError> {
        let mut b = Builder::default();
        b.add_yaml(name, text)?;
        Ok(b.finish())
    }

    /// The password from `db.password`. Never print, log or serialise it; it is meant
    /// for the database probe's login only.
    pub fn password(&self) -> Option<&str> {
        self.db.password.as_ref().map(|h| h.expose_secret())
    }

    /// The merged values as JSON with every secret value replaced (for bundles and
    /// reports).
    pub fn redacted_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.merged).unwrap_or(serde_json::Value::Null);
        crate::redact::redact_values(&mut v);
        v
    }

    /// A value of the merged tree by dotted path (`db.tls.mode`). Note that
    /// `db.password` is reachable here too: treat it like [`Values::password`].
    pub fn get(&self, path: &str) -> Option<&Value> {
        let (parents, last) = match path.rsplit_once('.') {
            Some((p, l)) => (Some(p), l),
            None => (None, path),
        };
        let mut map = &self.merged;
        for seg in parents.into_iter().flat_map(|p| p.split('.')) {
            map = map.get(seg)?.as_mapping()?;
        }
        map.get(last)
    }

    /// Where a key path was set last (a file name or `--set`), or where its nearest
    /// parent was.
    pub fn origin(&self, path: &str) -> Option<&str> {
        let mut p = path;
        loop {
            if let Some(o) = self.origins.get(p) {
                return Some(o);
            }
            p = &p[..p.rfind('.')?];
        }
    }

    /// The sources that were merged, in order.
    pub fn sources(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for o in self.origins.values() {
            if !seen.contains(&o.as_str()) {
                seen.push(o);
            }
        }
        seen
    }

    /// The DB settings as the chart will wire them into db-init.
    pub fn db_settings(&self) -> DbSettings {
        let host = self.db.host.clone().filter(|h| !h.trim().is_empty());
        let external = host.is_some();
        let (ca_kind, r) = self.effective_ca();
        DbSettings {
            host: host.unwrap_or_else(|| "db".into()),
            external,
            port: self.db.port.unwrap_or(DEFAULT_PORT),
            user: self.db.user.clone(),
            sslmode: if external {
                self.db.tls_mode.unwrap_or(SslMode::VerifyFull)
            } else {
                SslMode::Disable
            },
            ca_kind,
            ca_name: r.and_then(|r| r.name.clone()),
            ca_key: r.and_then(|r| r.key.clone()),
        }
    }

    /// The CA reference the chart uses: the Secret when it has a name, else the
    /// ConfigMap when it has one.
    pub(crate) fn effective_ca(&self) -> (Option<CaKind>, Option<&KeyRef>) {
        let named = |r: &Option<KeyRef>| {
            r.as_ref()
                .is_some_and(|r| r.name.as_deref().is_some_and(|n| !n.is_empty()))
        };
        if named(&self.db.secret_ref) {
            (Some(CaKind::Secret), self.db.secret_ref.as_ref())
        } else if named(&self.db.config_map_ref) {
            (Some(CaKind::ConfigMap), self.db.config_map_ref.as_ref())
        } else {
            (None, None)
        }
    }

    pub(crate) fn at(&self, path: &str) -> String {
        self.origin(path)
            .map(|o| format!(" (from {o})"))
            .unwrap_or_default()
    }
}

/// Records the settings of a values file over those from other sources.
pub fn apply_values(ev: &mut crate::model::evidence::Evidence, values: &Values) {
    let from = format!("values {}", values.sources().join(", "));
    for (k, v) in values.db_settings().pairs() {
        ev.settings.insert(
            k.to_string(),
            crate::model::evidence::Setting {
                value: v,
                from: from.clone(),
            },
        );
    }
    if let Some(pw) = values.password() {
        ev.db_password = Some(crate::redact::SecretString::from(pw));
    }
    ev.values = Some(values.redacted_json());
}
