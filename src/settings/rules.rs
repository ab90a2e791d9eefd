//! The checks on the values alone (`checks/values.toml`, IDs `VAL…`) and their
//! findings.

use super::*;
use crate::catalogue::{ids, RuleId};

/// A problem found in the values: a catalogue ID, the key path it is about, the
/// evidence text (never a secret) and the template variables of the rule's `fix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueIssue {
    pub id: RuleId,
    /// The key path, e.g. `db.tls.mode`.
    pub subject: String,
    pub evidence: String,
    pub captures: Vec<(String, String)>,
}

impl ValueIssue {
    pub(crate) fn new(id: RuleId, subject: &str, evidence: String) -> ValueIssue {
        ValueIssue {
            id,
            subject: subject.to_string(),
            evidence,
            captures: vec![("key".into(), subject.to_string())],
        }
    }

    pub(crate) fn with(mut self, k: &str, v: impl Into<String>) -> ValueIssue {
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

/// What `require` and `disable` give up compared with verify-full (`allow` and
/// `prefer` are not `db.tls.mode` values; they may fall back to no TLS).
pub(crate) fn tls_loss(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable | SslMode::Allow | SslMode::Prefer => {
            "the master password and all data cross the network unencrypted, and nothing proves the server is your database"
        }
        SslMode::Require => {
            "the traffic is encrypted but the server certificate is neither checked against your CA nor for db.host, so an interceptor can pose as the database"
        }
        SslMode::VerifyCa => "the server name is not checked",
        SslMode::VerifyFull => "nothing",
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
            ids::VAL010,
            "db.host",
            format!(
                "db.host is {}{}: the chart deploys its built-in database (no TLS, not for production)",
                if db.host.is_some() { "empty" } else { "not set" },
                values.at("db.host")
            ),
        )),
        Some(host) => {
            let mode = db.tls_mode.unwrap_or(SslMode::VerifyFull);
            let mode_src = if db.tls_mode.is_some() {
                values.at("db.tls.mode")
            } else {
                " (the default)".into()
            };
            match mode {
                SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => out.push(
                    ValueIssue::new(
                        ids::VAL011,
                        "db.tls.mode",
                        format!(
                            "db.tls.mode: {mode}{mode_src}: {}",
                            tls_loss(mode)
                        ),
                    )
                    .with("value", mode.as_str())
                    .with("lost", tls_loss(mode)),
                ),
                SslMode::VerifyCa => out.push(ValueIssue::new(
                    ids::VAL012,
                    "db.tls.mode",
                    format!("db.tls.mode: verify-ca{mode_src}: {}", tls_loss(mode)),
                )),
                SslMode::VerifyFull => {}
            }
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let (SslMode::VerifyFull, Ok(ip)) = (mode, bare.parse::<IpAddr>()) {
                out.push(
                    ValueIssue::new(
                        ids::VAL013,
                        "db.host",
                        format!(
                            "db.host: {host}{} is an IP address and db.tls.mode is verify-full{mode_src}: the server certificate must list IP Address:{ip} in its subjectAltName",
                            values.at("db.host")
                        ),
                    )
                    .with("ip", ip.to_string()),
                );
            }
            if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
                && db.config_map_ref.is_none()
                && db.secret_ref.is_none()
            {
                out.push(
                    ValueIssue::new(
                        ids::VAL019,
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
                            ids::VAL014,
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
                    ids::VAL020,
                    "db.user",
                    format!(
                        "db.user is {} while db.host is {host}: the chart derives a user name from auth.masterPassword that the server does not know",
                        if db.user.is_some() { "empty" } else { "not set" }
                    ),
                ));
            }
            if values.password().is_none_or(str::is_empty) {
                out.push(ValueIssue::new(
                    ids::VAL015,
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
                ids::VAL016,
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
                    ids::VAL018,
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
                    ids::VAL017,
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
        .filter(|i| i.id == ids::VAL001)
        .filter_map(|i| i.capture("suggestion").map(str::to_string))
        .collect();
    out.retain(|i| {
        !([ids::VAL010, ids::VAL015, ids::VAL020].contains(&i.id) && misspelt.contains(&i.subject))
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
        let Some(rule) = cat.index_of(i.id.as_str()) else {
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
