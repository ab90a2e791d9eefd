//! The typed reader: walks the merged values, builds the typed view and collects
//! type errors and unknown keys (with did-you-mean).

use super::*;
use crate::catalogue::ids;

pub(crate) const SECRET_PATHS: &[&str] = &["db.password", "db.secret"];

pub(crate) const DB_KEYS: &[&str] = &[
    "user",
    "password",
    "host",
    "port",
    "tls",
    "secret",
    "maxOpenConnections",
    "maxIdleConnections",
    "connMaxLifetime",
];
pub(crate) const TLS_KEYS: &[&str] = &["mode", "ca"];
pub(crate) const CA_KEYS: &[&str] = &["valueFrom"];
pub(crate) const VALUE_FROM_KEYS: &[&str] = &["configMapKeyRef", "secretKeyRef"];
pub(crate) const REF_KEYS: &[&str] = &["name", "key"];
pub(crate) const NETPOL_KEYS: &[&str] = &["enabled", "additionalOutboundPorts"];

/// Reads the typed view and collects type errors and unknown keys.
pub(crate) struct Reader<'a> {
    pub(crate) origins: &'a BTreeMap<String, String>,
    pub(crate) issues: Vec<ValueIssue>,
}

impl Reader<'_> {
    pub(crate) fn at(&self, path: &str) -> String {
        let mut p = path;
        loop {
            if let Some(o) = self.origins.get(p) {
                return format!(" (from {o})");
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return String::new(),
            }
        }
    }

    pub(crate) fn read(&mut self, root: &Mapping) -> (Db, bool, Vec<u16>) {
        // Top-level keys that look like `db` or `networkPolicy` in another spelling.
        for (k, _) in root {
            let k = key_str(k);
            for want in ["db", "networkPolicy"] {
                let close = if want == "db" {
                    k.eq_ignore_ascii_case("db") || k.eq_ignore_ascii_case("database")
                } else {
                    did_you_mean(&k, &[want]).is_some() || k.eq_ignore_ascii_case("networkPolicies")
                };
                if k != want && close && !root.contains_key(want) {
                    let at = self.at(&k);
                    self.issues.push(
                        ValueIssue::new(
                            ids::VAL001,
                            &k,
                            format!("unknown key {k}{at}; did you mean {want}?"),
                        )
                        .with("suggestion", want),
                    );
                }
            }
        }
        let mut db = Db::default();
        if let Some(m) = self.map(root, "", "db") {
            self.unknown(m, "db", DB_KEYS);
            db.user = self.text(m, "db", "user");
            db.password = self
                .text(m, "db", "password")
                .map(crate::redact::SecretString::from);
            db.host = self.string(m, "db", "host").map(|h| h.trim().to_string());
            db.port = self.port(m);
            let _ = self.string(m, "db", "secret");
            db.max_open_connections = self.count(m, "db", "maxOpenConnections");
            db.max_idle_connections = self.count(m, "db", "maxIdleConnections");
            db.conn_max_lifetime = self.duration(m, "db", "connMaxLifetime");
            if let Some(tls) = self.map(m, "db", "tls") {
                self.unknown(tls, "db.tls", TLS_KEYS);
                if let Some(mode) = self.string(tls, "db.tls", "mode") {
                    match SslMode::parse_chart(&mode) {
                        Some(t) => db.tls_mode = Some(t),
                        None => {
                            let at = self.at("db.tls.mode");
                            self.issues.push(
                                ValueIssue::new(
                                    ids::VAL003,
                                    "db.tls.mode",
                                    format!(
                                        "db.tls.mode: {mode}{at} is not one of disable, require, verify-ca, verify-full"
                                    ),
                                )
                                .with("value", show(&Value::String(mode.clone()))),
                            );
                        }
                    }
                }
                if let Some(ca) = self.map(tls, "db.tls", "ca") {
                    self.unknown(ca, "db.tls.ca", CA_KEYS);
                    if let Some(vf) = self.map(ca, "db.tls.ca", "valueFrom") {
                        let p = "db.tls.ca.valueFrom";
                        self.unknown(vf, p, VALUE_FROM_KEYS);
                        db.config_map_ref = self.key_ref(vf, p, "configMapKeyRef");
                        db.secret_ref = self.key_ref(vf, p, "secretKeyRef");
                    }
                }
            }
        }
        let mut enabled = true;
        let mut ports = Vec::new();
        if let Some(np) = self.map(root, "", "networkPolicy") {
            self.unknown(np, "networkPolicy", NETPOL_KEYS);
            if let Some(v) = np.get("enabled") {
                match v {
                    Value::Bool(b) => enabled = *b,
                    Value::String(s) if s == "true" || s == "false" => enabled = s == "true",
                    Value::Null => {}
                    other => self.wrong("networkPolicy.enabled", other, "true or false"),
                }
            }
            if let Some(v) = np.get("additionalOutboundPorts") {
                match v {
                    Value::Sequence(s) => {
                        for p in s {
                            match port_of(p) {
                                Some(p) => ports.push(p),
                                None => self.wrong(
                                    "networkPolicy.additionalOutboundPorts",
                                    v,
                                    "a list of port numbers (1-65535)",
                                ),
                            }
                        }
                    }
                    Value::Null => {}
                    other => self.wrong(
                        "networkPolicy.additionalOutboundPorts",
                        other,
                        "a list of port numbers (1-65535)",
                    ),
                }
            }
        }
        crate::model::unique_in_order(&mut ports);
        (db, enabled, ports)
    }

    pub(crate) fn wrong(&mut self, path: &str, v: &Value, expected: &str) {
        let at = self.at(path);
        let shown = show_at(path, v);
        self.issues.push(
            ValueIssue::new(
                ids::VAL004,
                path,
                format!("{path}: {shown}{at} is {}, expected {expected}", kind_of(v)),
            )
            .with("expected", expected)
            .with("value", shown),
        );
    }

    pub(crate) fn unknown(&mut self, m: &Mapping, prefix: &str, known: &[&str]) {
        for (k, _) in m {
            let k = key_str(k);
            if known.contains(&k.as_str()) {
                continue;
            }
            let path = join(prefix, &k);
            let at = self.at(&path);
            let suggestion = did_you_mean(&k, known).map(|s| join(prefix, s));
            let text = match &suggestion {
                Some(s) => format!("unknown key {path}{at}; did you mean {s}?"),
                None => format!("unknown key {path}{at}; {prefix} has {}", known.join(", ")),
            };
            let mut issue =
                ValueIssue::new(ids::VAL001, &path, text).with("known", known.join(", "));
            if let Some(s) = suggestion {
                issue = issue.with("suggestion", s);
            }
            self.issues.push(issue);
        }
    }

    pub(crate) fn map<'m>(
        &mut self,
        m: &'m Mapping,
        prefix: &str,
        key: &str,
    ) -> Option<&'m Mapping> {
        match m.get(key)? {
            Value::Mapping(x) => Some(x),
            Value::Null => None,
            other => {
                self.wrong(&join(prefix, key), other, "a map of keys");
                None
            }
        }
    }

    /// A value the chart base64-encodes as it is (`db.user`, `db.password`): Helm's
    /// `b64enc` only takes strings, so an unquoted number or true/false breaks
    /// `helm install`. Reported, and kept as text for the rest of the tool.
    pub(crate) fn text(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<String> {
        let v = m.get(key)?;
        if matches!(v, Value::Number(_) | Value::Bool(_)) {
            self.wrong(
                &join(prefix, key),
                v,
                "a quoted string (helm's b64enc rejects numbers and true/false)",
            );
        }
        self.string(m, prefix, key)
    }

    pub(crate) fn string(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<String> {
        match m.get(key)? {
            Value::String(s) => Some(s.clone()),
            // Helm renders scalars as text; a numeric password or user is fine.
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            other => {
                self.wrong(&join(prefix, key), other, "a string");
                None
            }
        }
    }

    pub(crate) fn port(&mut self, m: &Mapping) -> Option<u16> {
        let v = m.get("port")?;
        if matches!(v, Value::Null) {
            return None;
        }
        if let Some(p) = port_of(v) {
            return Some(p);
        }
        let at = self.at("db.port");
        let why = match v {
            Value::Number(_) => "is out of range (1-65535)".to_string(),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => {
                "is out of range (1-65535)".to_string()
            }
            other => format!("is {}, not a port number", kind_of(other)),
        };
        self.issues.push(
            ValueIssue::new(
                ids::VAL002,
                "db.port",
                format!("db.port: {}{at} {why}", show(v)),
            )
            .with("value", show(v)),
        );
        None
    }

    pub(crate) fn count(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<u64> {
        let v = m.get(key)?;
        match v {
            Value::Null => None,
            Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
            Value::String(s) if s.trim().parse::<u64>().is_ok() => s.trim().parse().ok(),
            other => {
                self.wrong(&join(prefix, key), other, "a whole number (0 or more)");
                None
            }
        }
    }

    pub(crate) fn duration(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<String> {
        let v = m.get(key)?;
        let s = match v {
            Value::Null => return None,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        if crate::model::duration::is_go_duration(&s) {
            Some(s)
        } else {
            self.wrong(
                &join(prefix, key),
                v,
                "a duration such as 10m, 1h30m or 90s",
            );
            None
        }
    }

    pub(crate) fn key_ref(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<KeyRef> {
        let path = join(prefix, key);
        match m.get(key)? {
            Value::Null => Some(KeyRef::default()),
            Value::Mapping(r) => {
                self.unknown(r, &path, REF_KEYS);
                Some(KeyRef {
                    name: self.string(r, &path, "name").filter(|s| !s.is_empty()),
                    key: self.string(r, &path, "key").filter(|s| !s.is_empty()),
                })
            }
            other => {
                self.wrong(&path, other, "a map with name and key");
                None
            }
        }
    }
}

pub(crate) fn port_of(v: &Value) -> Option<u16> {
    let n: i64 = match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(n).ok().filter(|p| *p > 0)
}
