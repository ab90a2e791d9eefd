//! Redaction: nothing secret leaves the doctor. Secret values are dropped as soon as
//! they are read; text that may carry credentials is masked before it is printed or
//! written.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;

/// What replaces a hidden value.
pub const HIDDEN: &str = "***HIDDEN***";

/// Keeps a Secret's keys and drops its values (`data` and `stringData`, and the
/// last-applied-configuration annotation), on the typed object the collection reads.
pub fn secret_keys_only(s: &mut Secret) {
    // One implementation for typed Secrets and the JSON `serve` answers with.
    let masked = serde_json::to_value(&*s).ok().and_then(|mut v| {
        secret_json_keys_only(&mut v);
        serde_json::from_value(v).ok()
    });
    match masked {
        Some(m) => *s = m,
        None => {
            s.data = None;
            s.string_data = None;
            s.metadata.annotations = None;
        }
    }
}

/// Keeps a Secret's keys and drops its values, on its JSON: `data` values become
/// `***HIDDEN***` (base64-encoded), `stringData` values `***HIDDEN***`, and the
/// annotations are masked as [`redact_meta`] does (`kubectl apply` keeps a copy of the
/// whole Secret, values included, in last-applied-configuration).
pub fn secret_json_keys_only(obj: &mut serde_json::Value) {
    use base64::Engine as _;
    use serde_json::Value;
    let b64 = base64::engine::general_purpose::STANDARD.encode(HIDDEN);
    if let Some(Value::Object(d)) = obj.get_mut("data") {
        for v in d.values_mut() {
            if !is_public_ca_pem(v, true) {
                *v = Value::String(b64.clone());
            }
        }
    }
    if let Some(Value::Object(d)) = obj.get_mut("stringData") {
        for v in d.values_mut() {
            if !is_public_ca_pem(v, false) {
                *v = Value::String(HIDDEN.to_string());
            }
        }
    }
    annotations_json(obj);
}

/// Masks the annotations of an object's JSON (and of its pod template) as
/// [`redact_meta`] does: last-applied-configuration hidden whole (it copies env values
/// and Secret data), the others through [`redact_text`]. `serve` applies it to every
/// object it answers with.
pub fn annotations_json(obj: &mut serde_json::Value) {
    use serde_json::Value;
    let mask = |a: &mut Value| {
        if let Value::Object(a) = a {
            for (k, v) in a.iter_mut() {
                if k == LAST_APPLIED {
                    *v = Value::String(HIDDEN.to_string());
                } else if let Value::String(s) = v {
                    if let Cow::Owned(r) = redact_text(s) {
                        *s = r;
                    }
                }
            }
        }
    };
    if let Some(a) = obj.pointer_mut("/metadata/annotations") {
        mask(a);
    }
    if let Some(a) = obj.pointer_mut("/spec/template/metadata/annotations") {
        mask(a);
    }
}

/// Redacts one object's JSON (what `serve` answers with) by the same rules the bundle
/// writer applies to the typed objects: Secrets keep their keys only
/// ([`secret_json_keys_only`]), pods and Deployments' pod templates have secret env
/// values and credentials in args masked ([`redact_pod`], [`redact_pod_spec`]),
/// ConfigMaps as [`redact_configmap`], event messages through [`redact_text`], and every
/// object's annotations as [`annotations_json`]. An object that does not parse as its
/// kind's type has every string masked through [`redact_json_strings`].
pub fn object_json(kind: &str, obj: &mut serde_json::Value) {
    use k8s_openapi::api::apps::v1::Deployment;
    fn typed<T>(obj: &mut serde_json::Value, f: impl FnOnce(&mut T))
    where
        T: serde::de::DeserializeOwned + serde::Serialize,
    {
        match serde_json::from_value::<T>(obj.clone()) {
            Ok(mut t) => {
                f(&mut t);
                match serde_json::to_value(&t) {
                    Ok(v) => *obj = v,
                    Err(_) => redact_json_strings(obj),
                }
            }
            Err(_) => redact_json_strings(obj),
        }
    }
    match kind {
        "Secret" => return secret_json_keys_only(obj),
        "Pod" => typed::<Pod>(obj, redact_pod),
        "ConfigMap" => typed::<ConfigMap>(obj, redact_configmap),
        "Deployment" => typed::<Deployment>(obj, |d| {
            if let Some(s) = d.spec.template.spec.as_mut() {
                redact_pod_spec(s);
            }
        }),
        "Event" => {
            for field in ["message", "note"] {
                if let Some(serde_json::Value::String(m)) = obj.get_mut(field) {
                    if let Cow::Owned(r) = redact_text(m) {
                        *m = r;
                    }
                }
            }
        }
        _ => {}
    }
    annotations_json(obj);
}

/// The one exemption from masking Secret values: a value that is PEM certificates only
/// (a CA bundle, public by nature; `base64` when it is `data`). Anything else, a
/// private key or a password included, stays hidden.
fn is_public_ca_pem(v: &serde_json::Value, base64: bool) -> bool {
    use base64::Engine as _;
    let Some(s) = v.as_str() else {
        return false;
    };
    if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .is_ok_and(|b| crate::model::pem::is_certificates_only(&b))
    } else {
        crate::model::pem::is_certificates_only(s.as_bytes())
    }
}

/// A secret value held in memory (the DB password for the probe): `secrecy`'s string,
/// whose `Debug` is redacted and which is zeroed when dropped; read it only with
/// `expose_secret()`, to hand it to a database driver.
pub use secrecy::{ExposeSecret, SecretString};

use std::borrow::Cow;
use std::sync::LazyLock;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use regex::{Captures, Regex};

/// The annotation `kubectl apply` leaves behind: a full copy of the object as applied,
/// Secret values and env included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Words that mark a name (of a key, a variable, a flag) as naming a credential in text.
const TEXT_WORDS: &str = "password|passwd|secret|token";

/// `"password": "…"` in JSON, plain or escaped inside another JSON string.
static JSON_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)("[^"\\]*(?:{TEXT_WORDS})[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*""#
    ))
    .expect("valid regex")
});
static JSON_PAIR_ESCAPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)(\\"[^"\\]*(?:{TEXT_WORDS})[^"\\]*\\"\s*:\s*)\\"[^"\\]*\\""#
    ))
    .expect("valid regex")
});
/// `password=…`, `PGPASSWORD=…`, `--service-password=…`, `password: …`, `Password=…;`.
static KV_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)([\w.-]*(?:{TEXT_WORDS})[\w.-]*\s*(?:=|:\s))\s*(\\"(?:[^"\\]|\\[^"])*\\"|"[^"]*"|'[^']*'|[^\s,;&"'\\`]+)"#
    ))
    .expect("valid regex")
});
/// `scheme://user:pass@host`.
static URL_CREDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"'`]*):[^\s@"'`]+@"#).expect("valid regex")
});

/// Masks credentials in free text (a log line, an event message, an argument):
/// `password=…` pairs (any case, `passwd`, `secret`, `token`, `PGPASSWORD`,
/// `--service-password`, connection strings), JSON `"password": "…"` fields and the
/// password of `scheme://user:pass@host` URLs. Borrows when nothing was hidden.
pub fn redact_text(s: &str) -> Cow<'_, str> {
    let lower_hit = {
        let l = s.to_ascii_lowercase();
        l.contains("pass") || l.contains("secret") || l.contains("token") || l.contains("://")
    };
    if !lower_hit {
        return Cow::Borrowed(s);
    }
    let mut out: Cow<'_, str> = Cow::Borrowed(s);
    let json = |c: &Captures| format!("{}\"{HIDDEN}\"", &c[1]);
    if let Cow::Owned(o) = JSON_PAIR.replace_all(&out, json) {
        out = Cow::Owned(o);
    }
    let json_esc = |c: &Captures| format!("{}\\\"{HIDDEN}\\\"", &c[1]);
    if let Cow::Owned(o) = JSON_PAIR_ESCAPED.replace_all(&out, json_esc) {
        out = Cow::Owned(o);
    }
    let kv = |c: &Captures| {
        let v = &c[2];
        if v.contains(HIDDEN) || is_reference(v) {
            c[0].to_string()
        } else {
            format!("{}{HIDDEN}", &c[1])
        }
    };
    if let Cow::Owned(o) = KV_PAIR.replace_all(&out, kv) {
        out = Cow::Owned(o);
    }
    let url = |c: &Captures| format!("{}:{HIDDEN}@", &c[1]);
    if let Cow::Owned(o) = URL_CREDS.replace_all(&out, url) {
        out = Cow::Owned(o);
    }
    out
}

/// `$(VAR)` / `${VAR}`: a reference to a variable, not a value.
fn is_reference(v: &str) -> bool {
    let v = v.trim_matches(|c| c == '"' || c == '\'');
    (v.starts_with("$(") && v.ends_with(')')) || (v.starts_with("${") && v.ends_with('}'))
}

/// Whether an environment variable's name says it holds a credential.
pub fn is_secret_env(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    ["password", "passwd", "secret", "token", "key"]
        .iter()
        .any(|w| l.contains(w))
}

/// Whether a text holds a PEM private key.
pub fn looks_like_private_key(s: &str) -> bool {
    s.contains("-----BEGIN") && s.contains("PRIVATE KEY-----")
}

fn redact_container(c: &mut Container) {
    for e in c.env.iter_mut().flatten() {
        if let Some(v) = &mut e.value {
            if is_secret_env(&e.name) {
                *v = HIDDEN.to_string();
            } else if let Cow::Owned(r) = redact_text(v) {
                *v = r;
            }
        }
    }
    for list in [&mut c.args, &mut c.command].into_iter().flatten() {
        let mut hide_next = false;
        for a in list.iter_mut() {
            if hide_next && !is_reference(a) {
                *a = HIDDEN.to_string();
                hide_next = false;
                continue;
            }
            hide_next = false;
            let l = a.to_ascii_lowercase();
            if l.starts_with('-')
                && !l.contains('=')
                && (l.ends_with("password") || l.ends_with("passwd") || l.ends_with("token"))
            {
                // `--password S3cr3t`: the value is the next argument.
                hide_next = true;
            }
            if let Cow::Owned(r) = redact_text(a) {
                *a = r;
            }
        }
    }
}

/// Redacts a pod spec: env values whose names say credential (password, passwd,
/// secret, token, key, `PGPASSWORD`), credentials in the other env values and in
/// args/commands, in containers, init containers and ephemeral containers.
pub fn redact_pod_spec(spec: &mut PodSpec) {
    for c in spec.containers.iter_mut() {
        redact_container(c);
    }
    for c in spec.init_containers.iter_mut().flatten() {
        redact_container(c);
    }
    for c in spec.ephemeral_containers.iter_mut().flatten() {
        for e in c.env.iter_mut().flatten() {
            if e.value.is_some() && is_secret_env(&e.name) {
                e.value = Some(HIDDEN.to_string());
            }
        }
        for a in [&mut c.args, &mut c.command]
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Cow::Owned(r) = redact_text(a) {
                *a = r;
            }
        }
    }
}

/// Redacts a pod: its spec ([`redact_pod_spec`]) and its annotations.
pub fn redact_pod(p: &mut Pod) {
    if let Some(s) = &mut p.spec {
        redact_pod_spec(s);
    }
    redact_meta(&mut p.metadata);
}

/// Hides the `last-applied-configuration` annotation (a full copy of the object) and
/// masks credentials in the other annotation values.
pub fn redact_meta(m: &mut ObjectMeta) {
    if let Some(a) = &mut m.annotations {
        for (k, v) in a.iter_mut() {
            if k == LAST_APPLIED {
                *v = HIDDEN.to_string();
            } else if let Cow::Owned(r) = redact_text(v) {
                *v = r;
            }
        }
    }
}

/// Hides ConfigMap values that hold a private key and masks credentials in the rest.
pub fn redact_configmap(cm: &mut ConfigMap) {
    if let Some(d) = &mut cm.data {
        for v in d.values_mut() {
            if looks_like_private_key(v) {
                *v = HIDDEN.to_string();
            } else if let Cow::Owned(r) = redact_text(v) {
                *v = r;
            }
        }
    }
    if let Some(d) = &mut cm.binary_data {
        for v in d.values_mut() {
            if looks_like_private_key(&String::from_utf8_lossy(&v.0)) {
                *v = ByteString(HIDDEN.as_bytes().to_vec());
            }
        }
    }
    redact_meta(&mut cm.metadata);
}

/// Whether a Helm values key names a secret: it contains password, secret, token or
/// key (any case), except references (`configMapKeyRef`, `secretKeyRef`, …).
fn is_secret_value_key(key: &str, parent: Option<&str>) -> bool {
    let l = key.to_ascii_lowercase();
    if l.ends_with("keyref") || (l.ends_with("ref") && l.contains("secret")) {
        return false;
    }
    if parent.is_some_and(|p| p.to_ascii_lowercase().ends_with("ref"))
        && (l == "key" || l == "name")
    {
        return false;
    }
    ["password", "passwd", "secret", "token", "key"]
        .iter()
        .any(|w| l.contains(w))
}

/// Redacts Helm values in place: every scalar under a key naming a secret
/// (`db.password`, `auth.masterPassword`, `certificate.key`, …) becomes
/// [`HIDDEN`] (booleans and empty strings are kept: `enabled`-like switches and "not
/// set" are not secrets); objects under such keys are walked, so references like
/// `db.tls.ca.valueFrom.secretKeyRef.{name,key}` stay readable. Other strings are
/// masked with [`redact_text`], private keys hidden.
pub fn redact_values(v: &mut serde_json::Value) {
    redact_values_in(v, None, false);
}

fn redact_values_in(v: &mut serde_json::Value, parent: Option<&str>, secret: bool) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let secret = is_secret_value_key(k, parent);
                redact_values_in(child, Some(k), secret);
            }
        }
        Value::Array(a) => {
            for child in a {
                redact_values_in(child, parent, secret);
            }
        }
        Value::Bool(_) | Value::Null => {}
        Value::String(s) if s.is_empty() => {}
        _ if secret => *v = Value::String(HIDDEN.into()),
        Value::String(s) => hide_string(s),
        Value::Number(_) => {}
    }
}

fn hide_string(s: &mut String) {
    if looks_like_private_key(s) {
        *s = HIDDEN.to_string();
    } else if let Cow::Owned(r) = redact_text(s) {
        *s = r;
    }
}

/// Masks credentials in every string of a JSON document ([`redact_text`]), and hides
/// string values under keys naming a password or secret. For documents that are not
/// Helm values (a report, settings).
pub fn redact_json_strings(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let l = k.to_ascii_lowercase();
                let secret = ["password", "passwd", "secret"]
                    .iter()
                    .any(|w| l.contains(w));
                match child {
                    Value::String(s) if secret && !s.is_empty() => *s = HIDDEN.to_string(),
                    _ => redact_json_strings(child),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json_strings),
        Value::String(s) => hide_string(s),
        _ => {}
    }
}

/// Masks credentials ([`redact_text`]) in what a finding quotes from the evidence: its
/// evidence texts (a log line, an event message) and its subjects. The rule's own
/// text (why, fix) is left alone: fixes show commands like
/// `--set db.password="$DB_PASSWORD"` on purpose.
pub fn redact_finding(f: &mut crate::model::findings::Finding) {
    for e in &mut f.evidence {
        if let Cow::Owned(r) = redact_text(&e.text) {
            e.text = r;
        }
    }
    for s in &mut f.subjects {
        if let Cow::Owned(r) = redact_text(s) {
            *s = r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "S3cr3t-Planted-Pw!";

    #[test]
    fn text_pairs_urls_and_json() {
        for line in [
            format!("connecting with password={PW} host=db"),
            format!("Password={PW};Host=db"),
            format!("passwd: {PW}"),
            format!("PGPASSWORD={PW} psql"),
            format!("postgres --service-username=u --service-password={PW} --x"),
            format!("url postgres://postgres:{PW}@db.example.com:5432/auth?sslmode=verify-full"),
            format!(r#"{{"component":"db-init","password":"{PW}","severity":"info"}}"#),
            format!(r#"{{"text":"{{\"password\":\"{PW}\"}}"}}"#),
            format!(r#"{{"message":"dsn: password=\"{PW}\" user=x"}}"#),
            format!("host=db user=postgres password='{PW}' dbname=auth"),
        ] {
            let r = redact_text(&line);
            assert!(!r.contains(PW), "{line} -> {r}");
            assert!(r.contains(HIDDEN), "{line} -> {r}");
        }
        let url = redact_text("postgres://postgres:pw@db:5432/x");
        assert_eq!(url, "postgres://postgres:***HIDDEN***@db:5432/x");
    }

    #[test]
    fn text_keeps_diagnostics() {
        for line in [
            r#"pq: password authentication failed for user "postgres""#,
            r#"MountVolume.SetUp failed for volume "database-ca" : secret "x" not found"#,
            "--service-password=$(SERVICE_PASSWORD)",
            "https://db.example.com:5432/x",
            r#"{"component":"db-init","error":"dial tcp 10.0.0.1:5432: i/o timeout"}"#,
        ] {
            assert_eq!(redact_text(line), line);
        }
    }

    #[test]
    fn finding_quotes_masked_fix_kept() {
        use crate::model::findings::{Evidence, Finding, Origin};
        let fix = r#"helm upgrade -f overrides.yaml --set db.password="$DB_PASSWORD""#;
        let mut f = Finding {
            id: "AUTH001".into(),
            severity: crate::catalogue::Severity::Error,
            title: "t".into(),
            subjects: vec![format!("postgres://u:{PW}@db/x")],
            evidence: vec![Evidence {
                source: Origin::Log,
                text: format!("failed SASL auth user=u password={PW} database=x"),
                count: 1,
                first_seen: None,
                last_seen: None,
                seen_on: vec![],
            }],
            why: String::new(),
            fix: vec![fix.into()],
            reference: String::new(),
            confirmed_by: vec![],
        };
        redact_finding(&mut f);
        let s = format!("{f:?}");
        assert!(!s.contains(PW), "{s}");
        assert!(f.evidence[0]
            .text
            .contains("password=***HIDDEN*** database=x"));
        assert_eq!(f.fix, [fix]);
    }

    #[test]
    fn values_hide_secrets_keep_refs() {
        let mut v = serde_json::json!({
            "db": {"user": "postgres", "password": PW, "host": "db.example.com",
                   "tls": {"mode": "verify-full", "ca": {"valueFrom": {
                       "configMapKeyRef": {"name": "dssc-db-trust", "key": "ca"}}}}},
            "auth": {"masterPassword": PW, "secretSeed": PW, "tokens": [PW]},
            "certificate": {"secret": {"name": "tls", "key": "-----BEGIN RSA PRIVATE KEY-----x"}},
            "networkPolicy": {"enabled": true},
            "apiKeyEnabled": false,
        });
        redact_values(&mut v);
        let s = v.to_string();
        assert!(!s.contains(PW) && !s.contains("PRIVATE"), "{s}");
        assert_eq!(v["db"]["user"], "postgres");
        assert_eq!(v["db"]["password"], HIDDEN);
        let r = &v["db"]["tls"]["ca"]["valueFrom"]["configMapKeyRef"];
        assert_eq!(
            (r["name"].as_str(), r["key"].as_str()),
            (Some("dssc-db-trust"), Some("ca"))
        );
        assert_eq!(v["networkPolicy"]["enabled"], true);
        assert_eq!(v["apiKeyEnabled"], false);
    }

    #[test]
    fn pod_env_and_args() {
        let mut p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "auth", "annotations": {LAST_APPLIED: PW}},
            "spec": {"initContainers": [{"name": "db-init",
                "args": ["--service-password", PW, format!("--service-password={PW}"),
                         "--service-password=$(SERVICE_PASSWORD)"],
                "env": [{"name": "PGPASSWORD", "value": PW}, {"name": "PGHOST", "value": "db"},
                        {"name": "API_KEY", "value": PW},
                        {"name": "DSN", "value": format!("postgres://u:{PW}@db/x")}]}],
              "containers": [{"name": "auth", "env": [{"name": "DB_PASSWORD", "value": PW}]}]}
        }))
        .unwrap();
        redact_pod(&mut p);
        let s = serde_json::to_string(&p).unwrap();
        assert!(!s.contains(PW), "{s}");
        assert!(s.contains(r#""value":"db""#));
        assert!(s.contains("$(SERVICE_PASSWORD)"));
    }
}
