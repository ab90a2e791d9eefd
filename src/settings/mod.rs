//! Helm values for Smart Check: one or more `overrides.yaml` files merged in order like
//! `helm install -f a.yaml -f b.yaml` (maps merge deeply, later wins, `null` removes a
//! key), then `--set` strings with Helm's syntax. From the merged values comes a typed
//! view of the `db:` section and `networkPolicy`, and the checks that need nothing but
//! the values (`checks/values.toml`, IDs `VAL…`).
//!
//! ```no_run
//! # use std::path::PathBuf;
//! # fn main() -> Result<(), dssc_doctor::model::error::InputError> {
//! let v = dssc_doctor::settings::load(&[PathBuf::from("overrides.yaml")], &["db.port=5433".into()])?;
//! for issue in dssc_doctor::settings::check(&v) {
//!     println!("{} {}: {}", issue.id, issue.subject, issue.evidence);
//! }
//! # Ok(()) }
//! ```
//!
//! The database password is kept out of every `Debug` output and evidence text; the only
//! way to read it is [`Values::password`].

pub mod helm;
pub mod pod_env;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use serde_yaml::{Mapping, Value};

use crate::catalogue::Catalogue;
use crate::model::error::InputError;
use crate::model::findings::{FindingSet, Hit, Origin, Subject};
use crate::redact::HIDDEN;

/// PostgreSQL's port, the chart's default for `db.port`.
pub const DEFAULT_PORT: u16 = 5432;

/// The suffix of Azure Database for PostgreSQL (single server) host names.
pub const AZURE_SUFFIX: &str = ".postgres.database.azure.com";

/// `db.tls.mode`, which becomes `PGSSLMODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsMode {
    Disable,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    pub const ALL: [TlsMode; 4] = [
        TlsMode::Disable,
        TlsMode::Require,
        TlsMode::VerifyCa,
        TlsMode::VerifyFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// Parses the exact spelling PostgreSQL drivers accept.
    pub fn parse(s: &str) -> Option<TlsMode> {
        TlsMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// A secret string. `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
struct Hidden(String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(HIDDEN)
    }
}

/// The typed `db:` section. Unset (or wrongly typed) keys are `None`.
#[derive(Clone, Debug, Default)]
pub struct Db {
    pub user: Option<String>,
    password: Option<Hidden>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls_mode: Option<TlsMode>,
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
    pub sslmode: TlsMode,
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

/// A problem found in the values: a catalogue ID, the key path it is about, the
/// evidence text (never a secret) and the template variables of the rule's `fix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueIssue {
    pub id: &'static str,
    /// The key path, e.g. `db.tls.mode`.
    pub subject: String,
    pub evidence: String,
    pub captures: Vec<(String, String)>,
}

impl ValueIssue {
    fn new(id: &'static str, subject: &str, evidence: String) -> ValueIssue {
        ValueIssue {
            id,
            subject: subject.to_string(),
            evidence,
            captures: vec![("key".into(), subject.to_string())],
        }
    }

    fn with(mut self, k: &str, v: impl Into<String>) -> ValueIssue {
        self.captures.push((k.to_string(), v.into()));
        self
    }

    /// A capture by name.
    pub fn capture(&self, name: &str) -> Option<&str> {
        self.captures
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Merged Helm values with a typed view of what the doctor needs.
pub struct Values {
    merged: Mapping,
    /// Key path → the source (file or `--set`) that set it last.
    origins: BTreeMap<String, String>,
    pub db: Db,
    /// `networkPolicy.enabled` (chart default: true).
    pub network_policy_enabled: bool,
    /// `networkPolicy.additionalOutboundPorts`: TCP ports the chart's policies open to
    /// any destination.
    pub additional_outbound_ports: Vec<u16>,
    /// Type errors and unknown keys found while reading the typed view.
    problems: Vec<ValueIssue>,
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
        self.db.password.as_ref().map(|h| h.0.as_str())
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
                self.db.tls_mode.unwrap_or(TlsMode::VerifyFull)
            } else {
                TlsMode::Disable
            },
            ca_kind,
            ca_name: r.and_then(|r| r.name.clone()),
            ca_key: r.and_then(|r| r.key.clone()),
        }
    }

    /// The CA reference the chart uses: the Secret when it has a name, else the
    /// ConfigMap when it has one.
    fn effective_ca(&self) -> (Option<CaKind>, Option<&KeyRef>) {
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

    fn at(&self, path: &str) -> String {
        self.origin(path)
            .map(|o| format!(" (from {o})"))
            .unwrap_or_default()
    }
}

/// Loads and merges values like `helm install -f FILE… --set SET…`. A file `-` is
/// stdin. Unreadable files, malformed YAML (reported as `file:line:column: message`)
/// and malformed `--set` strings are input errors (exit code 2).
pub fn load(files: &[PathBuf], sets: &[String]) -> Result<Values, InputError> {
    let mut b = Builder::default();
    for f in files {
        let name = f.display().to_string();
        let text = if name == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| InputError::new(format!("stdin: {e}")))?;
            s
        } else {
            std::fs::read_to_string(f).map_err(|e| InputError::new(format!("{name}: {e}")))?
        };
        b.add_yaml(&name, &text)?;
    }
    for s in sets {
        b.add_set(s)?;
    }
    Ok(b.finish())
}

#[derive(Default)]
struct Builder {
    merged: Mapping,
    origins: BTreeMap<String, String>,
}

impl Builder {
    fn add_yaml(&mut self, name: &str, text: &str) -> Result<(), InputError> {
        let mut v: Value = serde_yaml::from_str(text).map_err(|e| yaml_error(name, &e))?;
        v.apply_merge().map_err(|e| yaml_error(name, &e))?;
        let map = match v {
            Value::Null => Mapping::new(),
            Value::Mapping(m) => m,
            other => {
                return Err(InputError::new(format!(
                    "{name}: the values must be a map of keys, not {}",
                    kind_of(&other)
                )))
            }
        };
        self.overlay(name, map);
        Ok(())
    }

    fn add_set(&mut self, s: &str) -> Result<(), InputError> {
        let map = parse_set(s).map_err(|e| InputError::new(format!("--set {s}: {e}")))?;
        self.overlay("--set", map);
        Ok(())
    }

    fn overlay(&mut self, name: &str, map: Mapping) {
        record_origins(&map, "", name, &mut self.origins);
        merge(&mut self.merged, map);
    }

    fn finish(self) -> Values {
        let mut r = Reader {
            origins: &self.origins,
            issues: Vec::new(),
        };
        let (db, np_enabled, ports) = r.read(&self.merged);
        let problems = r.issues;
        Values {
            merged: self.merged,
            origins: self.origins,
            db,
            network_policy_enabled: np_enabled,
            additional_outbound_ports: ports,
            problems,
        }
    }
}

fn yaml_error(name: &str, e: &serde_yaml::Error) -> InputError {
    let mut msg = e.to_string();
    match e.location() {
        Some(loc) => {
            // The message ends in " at line L column C"; the location goes in front.
            if let Some(i) = msg.find(" at line ") {
                msg.truncate(i);
            }
            InputError::new(format!(
                "{name}:{}:{}: malformed YAML: {msg}",
                loc.line(),
                loc.column()
            ))
        }
        None => InputError::new(format!("{name}: malformed YAML: {msg}")),
    }
}

fn record_origins(map: &Mapping, prefix: &str, name: &str, out: &mut BTreeMap<String, String>) {
    for (k, v) in map {
        let path = join(prefix, &key_str(k));
        out.insert(path.clone(), name.to_string());
        if let Value::Mapping(m) = v {
            record_origins(m, &path, name, out);
        }
    }
}

/// Helm's merge of user values: maps merge key by key, anything else replaces, and
/// `null` deletes the key.
fn merge(base: &mut Mapping, over: Mapping) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (_, Value::Null) => {
                base.remove(&k);
            }
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn key_str(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => show(other),
    }
}

fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untag(&t.value),
        v => v,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match untag(v) {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A value in one line, flow style.
fn show(v: &Value) -> String {
    match untag(v) {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Sequence(s) => format!("[{}]", s.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Mapping(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", key_str(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Tagged(_) => "?".into(),
    }
}

/// `show`, except for keys that hold secrets.
fn show_at(path: &str, v: &Value) -> String {
    if SECRET_PATHS.contains(&path) {
        HIDDEN.into()
    } else {
        show(v)
    }
}

const SECRET_PATHS: &[&str] = &["db.password", "db.secret"];

const DB_KEYS: &[&str] = &[
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
const TLS_KEYS: &[&str] = &["mode", "ca"];
const CA_KEYS: &[&str] = &["valueFrom"];
const VALUE_FROM_KEYS: &[&str] = &["configMapKeyRef", "secretKeyRef"];
const REF_KEYS: &[&str] = &["name", "key"];
const NETPOL_KEYS: &[&str] = &["enabled", "additionalOutboundPorts"];

/// Names people write for a key, from other tools' vocabulary.
const ALIASES: &[(&str, &str)] = &[
    ("sslmode", "tls"),
    ("ssl", "tls"),
    ("username", "user"),
    ("hostname", "host"),
    ("server", "host"),
    ("address", "host"),
    ("pass", "password"),
    ("passwd", "password"),
    ("pwd", "password"),
    ("sslMode", "mode"),
    ("configMapRef", "configMapKeyRef"),
    ("configMap", "configMapKeyRef"),
    ("secretRef", "secretKeyRef"),
    ("secretName", "name"),
];

/// The closest known key: case-insensitive Damerau-Levenshtein (optimal string
/// alignment) within 1 edit for short words, 2 for longer ones, or a known alias.
pub fn did_you_mean<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    if let Some((_, to)) = ALIASES.iter().find(|(a, _)| a.eq_ignore_ascii_case(word)) {
        if let Some(k) = known.iter().find(|k| *k == to) {
            return Some(k);
        }
    }
    let w = word.to_ascii_lowercase();
    let limit = if w.chars().count() <= 4 { 1 } else { 2 };
    known
        .iter()
        .map(|k| (osa_distance(&w, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[n][m]
}

/// Reads the typed view and collects type errors and unknown keys.
struct Reader<'a> {
    origins: &'a BTreeMap<String, String>,
    issues: Vec<ValueIssue>,
}

impl Reader<'_> {
    fn at(&self, path: &str) -> String {
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

    fn read(&mut self, root: &Mapping) -> (Db, bool, Vec<u16>) {
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
                            "VAL001",
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
            db.password = self.text(m, "db", "password").map(Hidden);
            db.host = self.string(m, "db", "host").map(|h| h.trim().to_string());
            db.port = self.port(m);
            let _ = self.string(m, "db", "secret");
            db.max_open_connections = self.count(m, "db", "maxOpenConnections");
            db.max_idle_connections = self.count(m, "db", "maxIdleConnections");
            db.conn_max_lifetime = self.duration(m, "db", "connMaxLifetime");
            if let Some(tls) = self.map(m, "db", "tls") {
                self.unknown(tls, "db.tls", TLS_KEYS);
                if let Some(mode) = self.string(tls, "db.tls", "mode") {
                    match TlsMode::parse(&mode) {
                        Some(t) => db.tls_mode = Some(t),
                        None => {
                            let at = self.at("db.tls.mode");
                            self.issues.push(
                                ValueIssue::new(
                                    "VAL003",
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
                match untag(v) {
                    Value::Bool(b) => enabled = *b,
                    Value::String(s) if s == "true" || s == "false" => enabled = s == "true",
                    Value::Null => {}
                    other => self.wrong("networkPolicy.enabled", other, "true or false"),
                }
            }
            if let Some(v) = np.get("additionalOutboundPorts") {
                match untag(v) {
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
        ports.dedup();
        (db, enabled, ports)
    }

    fn wrong(&mut self, path: &str, v: &Value, expected: &str) {
        let at = self.at(path);
        let shown = show_at(path, v);
        self.issues.push(
            ValueIssue::new(
                "VAL004",
                path,
                format!("{path}: {shown}{at} is {}, expected {expected}", kind_of(v)),
            )
            .with("expected", expected)
            .with("value", shown),
        );
    }

    fn unknown(&mut self, m: &Mapping, prefix: &str, known: &[&str]) {
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
            let mut issue = ValueIssue::new("VAL001", &path, text).with("known", known.join(", "));
            if let Some(s) = suggestion {
                issue = issue.with("suggestion", s);
            }
            self.issues.push(issue);
        }
    }

    fn map<'m>(&mut self, m: &'m Mapping, prefix: &str, key: &str) -> Option<&'m Mapping> {
        match m.get(key).map(untag)? {
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
    fn text(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<String> {
        let v = m.get(key).map(untag)?;
        if matches!(v, Value::Number(_) | Value::Bool(_)) {
            self.wrong(
                &join(prefix, key),
                v,
                "a quoted string (helm's b64enc rejects numbers and true/false)",
            );
        }
        self.string(m, prefix, key)
    }

    fn string(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<String> {
        match m.get(key).map(untag)? {
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

    fn port(&mut self, m: &Mapping) -> Option<u16> {
        let v = m.get("port").map(untag)?;
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
                "VAL002",
                "db.port",
                format!("db.port: {}{at} {why}", show(v)),
            )
            .with("value", show(v)),
        );
        None
    }

    fn count(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<u64> {
        let v = m.get(key).map(untag)?;
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

    fn duration(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<String> {
        let v = m.get(key).map(untag)?;
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

    fn key_ref(&mut self, m: &Mapping, prefix: &str, key: &str) -> Option<KeyRef> {
        let path = join(prefix, key);
        match m.get(key).map(untag)? {
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

fn port_of(v: &Value) -> Option<u16> {
    let n: i64 = match untag(v) {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(n).ok().filter(|p| *p > 0)
}

/// Parses one `--set` argument with Helm's syntax: `a.b=c,d=e`, `\` escapes the next
/// character (`a\.b=c` is the key `a.b`), `list={x,y}`, `list[0]=x`; values `true`,
/// `false`, `null` and integers (without a leading 0) are typed, the rest are strings.
pub fn parse_set(s: &str) -> Result<Mapping, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Mapping::new();
    while i < chars.len() {
        // Key up to the unescaped '='.
        let mut segs: Vec<(String, Option<usize>)> = Vec::new();
        let mut cur = String::new();
        let mut index: Option<usize> = None;
        loop {
            let Some(&c) = chars.get(i) else {
                return Err(format!("key \"{}\" has no value", render_key(&segs, &cur)));
            };
            i += 1;
            match c {
                '\\' => {
                    if let Some(&n) = chars.get(i) {
                        cur.push(n);
                        i += 1;
                    }
                }
                '.' => {
                    segs.push((std::mem::take(&mut cur), index.take()));
                }
                '[' => {
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == ']')
                        .ok_or("unclosed [ in key")?;
                    let num: String = chars[i..i + end].iter().collect();
                    let n: usize = num
                        .parse()
                        .map_err(|_| format!("list index {num:?} is not a number"))?;
                    if n > 10_000 {
                        return Err(format!("list index {n} is too large"));
                    }
                    if index.is_some() {
                        return Err("nested list indexes are not supported".into());
                    }
                    index = Some(n);
                    i += end + 1;
                }
                ',' => {
                    return Err(format!("key \"{}\" has no value", render_key(&segs, &cur)));
                }
                '=' => break,
                c => cur.push(c),
            }
        }
        segs.push((cur, index));
        if segs.iter().any(|(k, _)| k.is_empty()) {
            return Err("empty key".into());
        }
        // Value: a {list} or text up to the unescaped ','.
        let value = if chars.get(i) == Some(&'{') {
            i += 1;
            let mut items = Vec::new();
            let mut item = String::new();
            loop {
                let Some(&c) = chars.get(i) else {
                    return Err("unclosed { in list value".into());
                };
                i += 1;
                match c {
                    '\\' => {
                        if let Some(&n) = chars.get(i) {
                            item.push(n);
                            i += 1;
                        }
                    }
                    ',' => items.push(typed(&std::mem::take(&mut item))),
                    '}' => {
                        if !item.is_empty() || !items.is_empty() {
                            items.push(typed(&item));
                        }
                        break;
                    }
                    c => item.push(c),
                }
            }
            match chars.get(i) {
                None => {}
                Some(',') => i += 1,
                Some(c) => return Err(format!("unexpected {c:?} after a list value")),
            }
            Value::Sequence(items)
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.get(i) {
                i += 1;
                match c {
                    '\\' => {
                        if let Some(&n) = chars.get(i) {
                            text.push(n);
                            i += 1;
                        }
                    }
                    ',' => break,
                    c => text.push(c),
                }
            }
            typed(&text)
        };
        set_path(&mut out, &segs, value)?;
    }
    Ok(out)
}

fn render_key(segs: &[(String, Option<usize>)], cur: &str) -> String {
    let mut parts: Vec<String> = segs
        .iter()
        .map(|(k, i)| match i {
            Some(i) => format!("{k}[{i}]"),
            None => k.clone(),
        })
        .collect();
    parts.push(cur.to_string());
    parts.join(".")
}

/// Helm's typing of `--set` values.
fn typed(s: &str) -> Value {
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        "0" => Value::Number(0.into()),
        _ => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if !digits.is_empty() && !digits.starts_with('0') {
                if let Ok(n) = s.parse::<i64>() {
                    return Value::Number(n.into());
                }
            }
            Value::String(s.to_string())
        }
    }
}

fn set_path(m: &mut Mapping, segs: &[(String, Option<usize>)], v: Value) -> Result<(), String> {
    let Some(((key, index), rest)) = segs.split_first() else {
        return Ok(());
    };
    let k = Value::String(key.clone());
    match index {
        None if rest.is_empty() => {
            m.insert(k, v);
        }
        None => {
            if !matches!(m.get(&k), Some(Value::Mapping(_))) {
                m.insert(k.clone(), Value::Mapping(Mapping::new()));
            }
            if let Some(Value::Mapping(sub)) = m.get_mut(&k) {
                set_path(sub, rest, v)?;
            }
        }
        Some(i) => {
            if !matches!(m.get(&k), Some(Value::Sequence(_))) {
                m.insert(k.clone(), Value::Sequence(Vec::new()));
            }
            if let Some(Value::Sequence(seq)) = m.get_mut(&k) {
                if seq.len() <= *i {
                    seq.resize(i + 1, Value::Null);
                }
                if rest.is_empty() {
                    seq[*i] = v;
                } else {
                    if !matches!(seq[*i], Value::Mapping(_)) {
                        seq[*i] = Value::Mapping(Mapping::new());
                    }
                    if let Value::Mapping(sub) = &mut seq[*i] {
                        set_path(sub, rest, v)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// What `require` and `disable` give up compared with verify-full.
fn tls_loss(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::Disable => {
            "the master password and all data cross the network unencrypted, and nothing proves the server is your database"
        }
        TlsMode::Require => {
            "the traffic is encrypted but the server certificate is neither checked against your CA nor for db.host, so an interceptor can pose as the database"
        }
        TlsMode::VerifyCa => "the server name is not checked",
        TlsMode::VerifyFull => "nothing",
    }
}

/// The checks on the values alone: the problems found while reading them (unknown
/// keys, wrong types) and the semantic checks, in a stable order.
pub fn check(values: &Values) -> Vec<ValueIssue> {
    let mut out = values.problems.clone();
    let db = &values.db;
    let host = db.host.as_deref().filter(|h| !h.is_empty());

    match host {
        None => out.push(ValueIssue::new(
            "VAL010",
            "db.host",
            format!(
                "db.host is {}{}: the chart deploys its built-in database (no TLS, not for production)",
                if db.host.is_some() { "empty" } else { "not set" },
                values.at("db.host")
            ),
        )),
        Some(host) => {
            let mode = db.tls_mode.unwrap_or(TlsMode::VerifyFull);
            let mode_src = if db.tls_mode.is_some() {
                values.at("db.tls.mode")
            } else {
                " (the default)".into()
            };
            match mode {
                TlsMode::Disable | TlsMode::Require => out.push(
                    ValueIssue::new(
                        "VAL011",
                        "db.tls.mode",
                        format!(
                            "db.tls.mode: {mode}{mode_src}: {}",
                            tls_loss(mode)
                        ),
                    )
                    .with("value", mode.as_str())
                    .with("lost", tls_loss(mode)),
                ),
                TlsMode::VerifyCa => out.push(ValueIssue::new(
                    "VAL012",
                    "db.tls.mode",
                    format!("db.tls.mode: verify-ca{mode_src}: {}", tls_loss(mode)),
                )),
                TlsMode::VerifyFull => {}
            }
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let (TlsMode::VerifyFull, Ok(ip)) = (mode, bare.parse::<IpAddr>()) {
                out.push(
                    ValueIssue::new(
                        "VAL013",
                        "db.host",
                        format!(
                            "db.host: {host}{} is an IP address and db.tls.mode is verify-full{mode_src}: the server certificate must list IP Address:{ip} in its subjectAltName",
                            values.at("db.host")
                        ),
                    )
                    .with("ip", ip.to_string()),
                );
            }
            if matches!(mode, TlsMode::VerifyCa | TlsMode::VerifyFull)
                && db.config_map_ref.is_none()
                && db.secret_ref.is_none()
            {
                out.push(
                    ValueIssue::new(
                        "VAL019",
                        "db.tls.ca",
                        format!(
                            "db.tls.mode is {mode}{mode_src} but db.tls.ca.valueFrom is not set: no CA certificate is mounted for db-init"
                        ),
                    )
                    .with("value", mode.as_str()),
                );
            }
            let lower = host.to_ascii_lowercase();
            if lower.ends_with(AZURE_SUFFIX) {
                if let Some(user) = db.user.as_deref().filter(|u| !u.contains('@')) {
                    let server = host.split('.').next().unwrap_or(host);
                    let azure_user = format!("{user}@{server}");
                    out.push(
                        ValueIssue::new(
                            "VAL014",
                            "db.user",
                            format!(
                                "db.user: {user}{} has no @server for the Azure host {host}; Azure expects {azure_user}",
                                values.at("db.user")
                            ),
                        )
                        .with("value", user)
                        .with("azure_user", azure_user)
                        .with("server", server),
                    );
                }
            }
            if db.user.as_deref().is_none_or(str::is_empty) {
                out.push(ValueIssue::new(
                    "VAL020",
                    "db.user",
                    format!(
                        "db.user is {} while db.host is {host}: the chart derives a user name from auth.masterPassword that the server does not know",
                        if db.user.is_some() { "empty" } else { "not set" }
                    ),
                ));
            }
            if values.password().is_none_or(str::is_empty) {
                out.push(ValueIssue::new(
                    "VAL015",
                    "db.password",
                    format!(
                        "db.password is {} while db.host is {host}: the chart derives a password from auth.masterPassword that the server does not know",
                        if values.password().is_some() {
                            "empty"
                        } else {
                            "not set"
                        }
                    ),
                ));
            }
        }
    }

    // CA references matter whether or not db.host is set: the chart mounts them anyway.
    let vf = "db.tls.ca.valueFrom";
    let named = |r: &Option<KeyRef>| r.as_ref().and_then(|r| r.name.clone());
    if let (Some(s), Some(c)) = (named(&db.secret_ref), named(&db.config_map_ref)) {
        out.push(
            ValueIssue::new(
                "VAL016",
                vf,
                format!(
                    "{vf} has both secretKeyRef (name {s}) and configMapKeyRef (name {c}){}: the chart mounts the Secret and ignores the ConfigMap",
                    values.at(vf)
                ),
            )
            .with("secret_name", s)
            .with("configmap_name", c),
        );
    }
    for kind in [CaKind::ConfigMap, CaKind::Secret] {
        let r = match kind {
            CaKind::ConfigMap => &db.config_map_ref,
            CaKind::Secret => &db.secret_ref,
        };
        let Some(r) = r else { continue };
        let refp = format!("{vf}.{}", kind.values_key());
        if r.name.is_none() {
            let key = format!("{refp}.name");
            out.push(
                ValueIssue::new(
                    "VAL018",
                    &key,
                    format!(
                        "{refp} has no name{}: the chart ignores it and mounts no CA",
                        values.at(&refp)
                    ),
                )
                .with("ref", refp.clone()),
            );
        }
    }
    if let (Some(kind), Some(r)) = values.effective_ca() {
        if r.key.is_none() {
            let refp = format!("{vf}.{}", kind.values_key());
            let key = format!("{refp}.key");
            let name = r.name.clone().unwrap_or_default();
            out.push(
                ValueIssue::new(
                    "VAL017",
                    &key,
                    format!(
                        "{refp} names {} {name} but no key{}: helm install fails with \".key is required!\"",
                        kind.as_str(),
                        values.at(&refp)
                    ),
                )
                .with("ref", refp)
                .with("name", name)
                .with("kind", kind.as_str()),
            );
        }
    }
    // A key reported missing because it was misspelt is one root cause: the typo.
    let misspelt: Vec<String> = out
        .iter()
        .filter(|i| i.id == "VAL001")
        .filter_map(|i| i.capture("suggestion").map(str::to_string))
        .collect();
    out.retain(|i| {
        !(matches!(i.id, "VAL010" | "VAL015" | "VAL020") && misspelt.contains(&i.subject))
    });
    out
}

/// Adds value issues to a finding set (origin `values`, subject the key path). The
/// DB settings fill the context (`host`, `port`, …) of the fix templates.
pub fn add_findings(cat: &Catalogue, set: &mut FindingSet, values: &Values, issues: &[ValueIssue]) {
    let context: BTreeMap<String, String> = values
        .db_settings()
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for i in issues {
        let Some(rule) = cat.index_of(i.id) else {
            continue;
        };
        let subject = Subject::Other(i.subject.clone());
        set.add(Hit::single(
            rule,
            i.captures.clone(),
            Some(subject),
            Origin::Values,
            i.evidence.clone(),
            context.clone(),
        ));
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
        ev.db_password = Some(crate::redact::Sensitive::new(pw));
    }
    ev.values = Some(values.redacted_json());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/values")
            .join(name)
    }

    fn load_fixture(names: &[&str], sets: &[&str]) -> Values {
        let files: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        load(&files, &sets).unwrap()
    }

    /// `(id, subject)` of every issue, in order.
    fn ids(v: &Values) -> Vec<(&'static str, String)> {
        check(v).into_iter().map(|i| (i.id, i.subject)).collect()
    }

    fn pair(id: &'static str, s: &str) -> (&'static str, String) {
        (id, s.to_string())
    }

    #[test]
    fn good_values_have_no_issues() {
        let v = load_fixture(&["good.yaml"], &[]);
        assert_eq!(ids(&v), vec![]);
        let s = v.db_settings();
        assert_eq!(
            s,
            DbSettings {
                host: "database.example.com".into(),
                external: true,
                port: 5432,
                user: Some("postgres".into()),
                sslmode: TlsMode::VerifyFull,
                ca_kind: Some(CaKind::ConfigMap),
                ca_name: Some("dssc-db-trust".into()),
                ca_key: Some("ca".into()),
            }
        );
        assert_eq!(v.password(), Some("s3cr3t-pa55"));
        assert_eq!(v.db.max_open_connections, Some(25));
        assert_eq!(v.db.conn_max_lifetime.as_deref(), Some("10m"));
        assert!(v.network_policy_enabled);
        assert_eq!(
            s.pairs().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["host", "port", "sslmode", "user", "ca_kind", "ca_name", "ca_key"]
        );
    }

    #[test]
    fn password_never_in_debug_or_evidence() {
        for f in [
            "good.yaml",
            "typo.yaml",
            "wrong-types.yaml",
            "azure-user.yaml",
        ] {
            let v = load_fixture(&[f], &[]);
            let dbg = format!("{v:?} {:?} {:?}", v.db, v.db_settings());
            assert!(!dbg.contains("s3cr3t"), "{f}: {dbg}");
            assert!(dbg.contains(HIDDEN), "{f}: {dbg}");
            for i in check(&v) {
                assert!(!format!("{i:?}").contains("s3cr3t"), "{f}: {i:?}");
            }
        }
        // A wrongly typed password is not echoed either.
        let v = Values::from_yaml("x.yaml", "db:\n  host: h\n  password: [s3cr3t]\n").unwrap();
        let issues = check(&v);
        assert!(issues
            .iter()
            .any(|i| i.id == "VAL004" && i.subject == "db.password"));
        assert!(!format!("{issues:?}").contains("s3cr3t"), "{issues:?}");
    }

    #[test]
    fn typos_get_did_you_mean() {
        let v = load_fixture(&["typo.yaml"], &[]);
        let issues = check(&v);
        assert_eq!(
            issues
                .iter()
                .map(|i| (i.id, i.subject.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("VAL001", "db.usr"),
                ("VAL001", "db.maxOpenConnection"),
                ("VAL001", "db.tls.mod"),
            ]
        );
        let sugg: Vec<_> = issues.iter().map(|i| i.capture("suggestion")).collect();
        assert_eq!(
            sugg,
            vec![
                Some("db.user"),
                Some("db.maxOpenConnections"),
                Some("db.tls.mode")
            ]
        );
        assert!(
            issues[2].evidence.contains("typo.yaml"),
            "{}",
            issues[2].evidence
        );
        assert!(issues[2].evidence.contains("did you mean db.tls.mode?"));
        // db.user is missing because of the typo: reported once, as the typo.
        assert!(v.db.user.is_none());
        // The misspelt mode is ignored: the chart's default applies.
        assert_eq!(v.db_settings().sslmode, TlsMode::VerifyFull);
    }

    #[test]
    fn did_you_mean_distances() {
        assert_eq!(did_you_mean("mod", TLS_KEYS), Some("mode"));
        assert_eq!(did_you_mean("hots", DB_KEYS), Some("host"));
        assert_eq!(did_you_mean("Host", DB_KEYS), Some("host"));
        assert_eq!(did_you_mean("sslmode", DB_KEYS), Some("tls"));
        assert_eq!(
            did_you_mean("configmapkeyref", VALUE_FROM_KEYS),
            Some("configMapKeyRef")
        );
        assert_eq!(did_you_mean("banana", DB_KEYS), None);
        assert_eq!(osa_distance("ab", "ba"), 1);
        assert_eq!(osa_distance("kitten", "sitting"), 3);
        // No suggestion: the known keys are listed instead.
        let v =
            Values::from_yaml("x.yaml", "db:\n  host: h\n  password: p\n  banana: 1\n").unwrap();
        let i = check(&v).into_iter().find(|i| i.id == "VAL001").unwrap();
        assert_eq!(i.capture("suggestion"), None);
        assert!(
            i.evidence.contains("db has user, password, host"),
            "{}",
            i.evidence
        );
    }

    #[test]
    fn top_level_misspelling_of_db() {
        let v = Values::from_yaml(
            "x.yaml",
            "DB:\n  host: h\nnetworkpolicy:\n  enabled: false\n",
        )
        .unwrap();
        let issues = check(&v);
        assert_eq!(issues[0].id, "VAL001");
        assert_eq!(issues[0].capture("suggestion"), Some("db"));
        assert_eq!(issues[1].capture("suggestion"), Some("networkPolicy"));
        // And db itself is unset: the built-in database.
        assert_eq!(issues[2].id, "VAL010");
    }

    #[test]
    fn wrong_types_are_errors() {
        let v = load_fixture(&["wrong-types.yaml"], &[]);
        assert_eq!(
            ids(&v),
            vec![
                pair("VAL002", "db.port"),
                pair("VAL004", "db.maxOpenConnections"),
                pair("VAL004", "db.connMaxLifetime"),
                pair("VAL003", "db.tls.mode"),
                pair("VAL004", "networkPolicy.enabled"),
            ]
        );
        let issues = check(&v);
        assert_eq!(issues[0].capture("value"), Some("five-four-three-two"));
        assert!(
            issues[0].evidence.contains("not a port number"),
            "{}",
            issues[0].evidence
        );
        assert_eq!(issues[3].capture("value"), Some("verify_full"));
        // Unusable values fall back to the chart's defaults in the settings.
        let s = v.db_settings();
        assert_eq!((s.port, s.sslmode), (5432, TlsMode::VerifyFull));
        for cat in [&Catalogue::builtin().unwrap()] {
            for i in &issues {
                assert_eq!(
                    cat.get(i.id).unwrap().severity,
                    crate::catalogue::Severity::Error
                );
            }
        }
    }

    #[test]
    fn port_range_and_quoted_numbers() {
        let p = |y: &str| {
            let v = Values::from_yaml(
                "x.yaml",
                &format!("db:\n  host: h\n  password: p\n  port: {y}\n"),
            )
            .unwrap();
            (v.db.port, check(&v).iter().any(|i| i.id == "VAL002"))
        };
        assert_eq!(p("5433"), (Some(5433), false));
        assert_eq!(p("\"5433\""), (Some(5433), false));
        assert_eq!(p("0"), (None, true));
        assert_eq!(p("65536"), (None, true));
        assert_eq!(p("-1"), (None, true));
        assert_eq!(p("5432.5"), (None, true));
    }

    #[test]
    fn ip_host_under_verify_full() {
        let v = load_fixture(&["ip-host.yaml"], &[]);
        let issues = check(&v);
        assert_eq!(
            issues
                .iter()
                .map(|i| (i.id, i.subject.as_str()))
                .collect::<Vec<_>>(),
            vec![("VAL013", "db.host")]
        );
        assert_eq!(issues[0].capture("ip"), Some("192.168.2.54"));
        assert!(issues[0].evidence.contains("IP Address:192.168.2.54"));
        assert_eq!(v.db_settings().ca_kind, Some(CaKind::Secret));
        assert_eq!(v.db_settings().ca_key.as_deref(), Some("ca.pem"));
        // Not under verify-ca, and IPv6 in brackets is an IP too.
        let v = load_fixture(&["ip-host.yaml"], &["db.tls.mode=verify-ca"]);
        assert_eq!(ids(&v), vec![pair("VAL012", "db.tls.mode")]);
        let v = load_fixture(&["ip-host.yaml"], &["db.host=[fd00::5]"]);
        assert_eq!(check(&v)[0].capture("ip"), Some("fd00::5"));
    }

    #[test]
    fn azure_user_needs_server() {
        let v = load_fixture(&["azure-user.yaml"], &[]);
        let issues = check(&v);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(
            (issues[0].id, issues[0].subject.as_str()),
            ("VAL014", "db.user")
        );
        assert_eq!(issues[0].capture("azure_user"), Some("dsscadmin@dssc-pg"));
        let v = load_fixture(&["azure-user.yaml"], &["db.user=dsscadmin@dssc-pg"]);
        assert_eq!(ids(&v), vec![]);
    }

    #[test]
    fn malformed_yaml_names_file_line_column() {
        let f = fixture("malformed.yaml");
        let err = load(std::slice::from_ref(&f), &[]).unwrap_err().to_string();
        let want = format!("{}:4:9: malformed YAML: ", f.display());
        assert!(err.starts_with(&want), "{err}");
        assert!(!err.contains(" at line "), "{err}");
        let err = Values::from_yaml("t.yaml", "db: [1, 2\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.yaml:2:1: malformed YAML"), "{err}");
        let err = Values::from_yaml("t.yaml", "- a\n- b\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.yaml: the values must be a map of keys, not a list");
        let err = load(&[fixture("missing.yaml")], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.yaml: "), "{err}");
    }

    #[test]
    fn files_merge_in_order() {
        let v = load_fixture(&["base.yaml", "prod.yaml"], &[]);
        let s = v.db_settings();
        assert_eq!(s.host, "prod-db.example.com");
        assert_eq!(s.sslmode, TlsMode::VerifyFull);
        // Untouched keys of the first file survive the deep merge.
        assert_eq!(s.ca_name.as_deref(), Some("dssc-db-trust"));
        assert_eq!(v.password(), Some("from-base"));
        assert_eq!(
            v.origin("db.tls.mode"),
            Some(fixture("prod.yaml").display().to_string().as_str())
        );
        assert_eq!(
            v.origin("db.tls.ca.valueFrom.configMapKeyRef.key"),
            Some(fixture("base.yaml").display().to_string().as_str())
        );
        assert_eq!(ids(&v), vec![]);
        // The other order: base wins.
        let v = load_fixture(&["prod.yaml", "base.yaml"], &[]);
        assert_eq!(v.db_settings().host, "staging-db.example.com");
        assert_eq!(ids(&v), vec![pair("VAL011", "db.tls.mode")]);
        let i = &check(&v)[0];
        assert!(
            i.evidence.contains("db.tls.mode: require (from"),
            "{}",
            i.evidence
        );
        assert!(i.capture("lost").unwrap().contains("interceptor"));
    }

    #[test]
    fn set_overrides_files() {
        let v = load_fixture(
            &["good.yaml"],
            &[
                "db.port=5433,db.tls.mode=disable",
                "networkPolicy.enabled=false",
            ],
        );
        assert_eq!(v.db.port, Some(5433));
        assert!(!v.network_policy_enabled);
        assert_eq!(v.origin("db.port"), Some("--set"));
        assert_eq!(ids(&v), vec![pair("VAL011", "db.tls.mode")]);
        // null removes a key: back to the built-in database.
        let v = load_fixture(&["good.yaml"], &["db.host=null"]);
        assert_eq!(v.db_settings().host, "db");
        assert_eq!(v.db_settings().sslmode, TlsMode::Disable);
        assert_eq!(ids(&v), vec![pair("VAL010", "db.host")]);
        // --set typos are caught like file typos.
        let v = load_fixture(&["good.yaml"], &["db.tls.mod=disable"]);
        let i = &check(&v)[0];
        assert_eq!(
            (i.id, i.capture("suggestion")),
            ("VAL001", Some("db.tls.mode"))
        );
        assert!(i.evidence.contains("(from --set)"), "{}", i.evidence);
    }

    #[test]
    fn set_syntax_like_helm() {
        let m = parse_set(r"a.b=c,n=42,z=0,lead=007,t=true,neg=-3,e=,esc=x\,y,dot\.ted=1").unwrap();
        let y = serde_yaml::to_string(&m).unwrap();
        assert_eq!(
            y,
            "a:\n  b: c\nn: 42\nz: 0\nlead: '007'\nt: true\nneg: -3\ne: ''\nesc: x,y\ndot.ted: 1\n"
        );
        let m =
            parse_set("networkPolicy.additionalOutboundPorts={443,8443},l[1]=b,o[0].k=v").unwrap();
        let y = serde_yaml::to_string(&m).unwrap();
        assert_eq!(
            y,
            "networkPolicy:\n  additionalOutboundPorts:\n  - 443\n  - 8443\nl:\n- null\n- b\no:\n- k: v\n"
        );
        assert_eq!(parse_set("").unwrap().len(), 0);
        assert!(parse_set("db.host").unwrap_err().contains("has no value"));
        assert!(parse_set("a,b=c")
            .unwrap_err()
            .contains("key \"a\" has no value"));
        assert!(parse_set("l[x]=1").is_err());
        assert!(parse_set("l={1,2").is_err());
        let err = load(&[], &["db.host".into()]).unwrap_err().to_string();
        assert_eq!(err, "--set db.host: key \"db.host\" has no value");
        let v = load(
            &[],
            &["networkPolicy.additionalOutboundPorts={443,8443}".into()],
        )
        .unwrap();
        assert_eq!(v.additional_outbound_ports, vec![443, 8443]);
    }

    #[test]
    fn ca_reference_problems() {
        let v = load_fixture(&["refs.yaml"], &[]);
        assert_eq!(
            ids(&v),
            vec![
                pair("VAL016", "db.tls.ca.valueFrom"),
                pair("VAL017", "db.tls.ca.valueFrom.secretKeyRef.key"),
            ]
        );
        let i = &check(&v)[1];
        assert_eq!(i.capture("kind"), Some("secret"));
        assert_eq!(i.capture("name"), Some("dssc-db-ca"));
        assert_eq!(v.db_settings().ca_kind, Some(CaKind::Secret));
        // A reference without a name is ignored by the chart.
        let v = Values::from_yaml(
            "x.yaml",
            "db:\n  host: h\n  user: u\n  password: p\n  tls:\n    ca:\n      valueFrom:\n        configMapKeyRef:\n          key: ca\n",
        )
        .unwrap();
        assert_eq!(
            ids(&v),
            vec![pair("VAL018", "db.tls.ca.valueFrom.configMapKeyRef.name")]
        );
        assert_eq!(v.db_settings().ca_kind, None);
        // Verification with no CA at all.
        let v = Values::from_yaml("x.yaml", "db:\n  host: h\n  user: u\n  password: p\n").unwrap();
        assert_eq!(ids(&v), vec![pair("VAL019", "db.tls.ca")]);
    }

    #[test]
    fn builtin_database_and_missing_password() {
        let v = load_fixture(&["builtin.yaml"], &[]);
        assert_eq!(ids(&v), vec![pair("VAL010", "db.host")]);
        assert!(!v.db_settings().external);
        let v = load_fixture(&["good.yaml"], &["db.password=null"]);
        assert_eq!(ids(&v), vec![pair("VAL015", "db.password")]);
        assert_eq!(v.password(), None);
        let v = load_fixture(&["good.yaml"], &["db.password="]);
        assert_eq!(ids(&v), vec![pair("VAL015", "db.password")]);
    }

    #[test]
    fn user_and_password_must_be_strings() {
        let v = Values::from_yaml(
            "x.yaml",
            "db:\n  host: h\n  user: 1234\n  password: 98765\n  tls:\n    mode: require\n",
        )
        .unwrap();
        let issues = check(&v);
        assert_eq!(
            issues
                .iter()
                .map(|i| (i.id, i.subject.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("VAL004", "db.user"),
                ("VAL004", "db.password"),
                ("VAL011", "db.tls.mode")
            ]
        );
        assert_eq!(issues[1].capture("value"), Some(HIDDEN));
        assert!(!format!("{issues:?}").contains("98765"));
        // Still usable by the rest of the tool.
        assert_eq!(v.password(), Some("98765"));
        assert_eq!(v.db_settings().user.as_deref(), Some("1234"));
        assert_eq!(
            v.get("db.tls.mode").and_then(Value::as_str),
            Some("require")
        );
        assert_eq!(v.get("db.nope"), None);
        assert!(v.get("db").is_some_and(Value::is_mapping));
    }

    #[test]
    fn external_database_without_user() {
        let v = load_fixture(&["good.yaml"], &["db.user=null"]);
        assert_eq!(ids(&v), vec![pair("VAL020", "db.user")]);
    }

    #[test]
    fn every_value_issue_renders_a_finding() {
        let cat = Catalogue::builtin().unwrap();
        for f in [
            "typo.yaml",
            "wrong-types.yaml",
            "ip-host.yaml",
            "azure-user.yaml",
            "refs.yaml",
            "builtin.yaml",
        ] {
            let v = load_fixture(&[f], &[]);
            let issues = check(&v);
            let mut set = FindingSet::new(&cat);
            add_findings(&cat, &mut set, &v, &issues);
            let found = set.finish(&BTreeMap::new());
            let mut want: Vec<(&str, &str)> =
                issues.iter().map(|i| (i.id, i.subject.as_str())).collect();
            want.sort();
            want.dedup();
            let mut got: Vec<(&str, &str)> = found
                .iter()
                .flat_map(|f| f.subjects.iter().map(move |s| (f.id.as_str(), s.as_str())))
                .collect();
            got.sort();
            assert_eq!(got, want, "{f}");
            for fi in &found {
                assert!(!fi.fix.is_empty(), "{f} {}", fi.id);
                assert_eq!(fi.confirmed_by, vec![Origin::Values]);
                for l in &fi.fix {
                    assert!(!l.contains("{key}") && !l.contains("{ip}"), "{l}");
                }
            }
        }
        // The fixes carry the real key and value.
        let v = load_fixture(&["azure-user.yaml"], &[]);
        let mut set = FindingSet::new(&cat);
        add_findings(&cat, &mut set, &v, &check(&v));
        let f = set.finish(&BTreeMap::new());
        assert_eq!(
            f[0].fix,
            vec!["# in overrides.yaml: db.user: dsscadmin@dssc-pg"]
        );
        let v = load_fixture(&["typo.yaml"], &[]);
        let mut set = FindingSet::new(&cat);
        add_findings(&cat, &mut set, &v, &check(&v));
        let f = set.finish(&BTreeMap::new());
        assert!(
            f.iter()
                .any(|f| f.fix[0] == "# rename db.tls.mod to db.tls.mode in overrides.yaml"),
            "{f:?}"
        );
        let v = load_fixture(&["ip-host.yaml"], &[]);
        let mut set = FindingSet::new(&cat);
        add_findings(&cat, &mut set, &v, &check(&v));
        let f = set.finish(&BTreeMap::new());
        assert!(
            f[0].fix[0].contains("-connect 192.168.2.54:5432 "),
            "{:?}",
            f[0].fix
        );
    }
}
