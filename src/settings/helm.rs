//! Helm 3 release Secrets (`sh.helm.release.v1.<release>.v<N>`, type
//! `helm.sh/release.v1`): finding the deployed revision and decoding it into a
//! [`HelmRelease`] whose values are redacted, the DB password kept apart for the probe.
//!
//! `data.release` (already base64-decoded once by the Kubernetes JSON) holds Helm's own
//! base64 of a gzip of the release JSON; plain (non-gzipped) JSON is accepted too.

use std::io::Read;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;

use crate::model::evidence::HelmRelease;
use crate::redact::{redact_values, SecretString};

/// The name prefix of Helm 3 release Secrets.
pub const SECRET_PREFIX: &str = "sh.helm.release.v1.";
/// The Secret type Helm 3 gives them.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// The most a decompressed release may hold (a chart with its templates is well
/// under a few MiB).
const MAX_RELEASE: u64 = 64 * 1024 * 1024;

/// `(release, revision)` from a Secret name `sh.helm.release.v1.<release>.v<N>`.
pub fn parse_secret_name(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix(SECRET_PREFIX)?;
    let (release, n) = rest.rsplit_once(".v")?;
    Some((release, n.parse().ok()?))
}

/// The Secret of the deployed revision of `release`: the highest N whose `status`
/// label is `deployed` (after a failed upgrade, the one still running), else the
/// highest N (a first install that failed, or Secrets without Helm's labels). Other
/// releases and Secrets of another type are ignored.
pub fn latest<'a>(secrets: &'a [Secret], release: &str) -> Option<&'a Secret> {
    let revisions: Vec<(u32, &Secret)> = secrets
        .iter()
        .filter(|s| s.type_.as_deref().is_none_or(|t| t == SECRET_TYPE))
        .filter_map(|s| {
            let (r, n) = parse_secret_name(s.metadata.name.as_deref()?)?;
            (r == release).then_some((n, s))
        })
        .collect();
    let deployed = |s: &Secret| {
        s.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("status"))
            .is_some_and(|st| st == "deployed")
    };
    revisions
        .iter()
        .filter(|(_, s)| deployed(s))
        .max_by_key(|(n, _)| *n)
        .or_else(|| revisions.iter().max_by_key(|(n, _)| *n))
        .map(|(_, s)| *s)
}

/// The release JSON inside a release Secret.
fn release_json(secret: &Secret) -> Result<Value, String> {
    let name = secret.metadata.name.as_deref().unwrap_or("(unnamed)");
    let raw = secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get("release"))
                .map(|s| s.as_bytes().to_vec())
        })
        .ok_or_else(|| format!("secret {name}: no data.release"))?;
    // Helm's base64; a Secret read without the Kubernetes decoding holds it twice.
    let mut bytes = raw;
    for _ in 0..2 {
        if is_gzip(&bytes) || bytes.first() == Some(&b'{') {
            break;
        }
        let src: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        bytes = base64::engine::general_purpose::STANDARD
            .decode(&src)
            .map_err(|e| format!("secret {name}: data.release is not base64: {e}"))?;
    }
    if is_gzip(&bytes) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(MAX_RELEASE)
            .read_to_end(&mut out)
            .map_err(|e| format!("secret {name}: data.release is corrupt gzip: {e}"))?;
        bytes = out;
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("secret {name}: release is not JSON: {e}"))
}

fn is_gzip(b: &[u8]) -> bool {
    b.starts_with(&[0x1f, 0x8b])
}

/// Decodes a release Secret; every secret value of its config and chart defaults is
/// redacted. See [`decode_release_with_password`] for the DB password.
pub fn decode_release(secret: &Secret) -> Result<HelmRelease, String> {
    decode_release_with_password(secret).map(|(r, _)| r)
}

/// Decodes a release Secret and takes out the DB password (`db.password` of the
/// user-supplied values, else of the chart defaults) before the values are redacted.
/// The password is for the probe only.
pub fn decode_release_with_password(
    secret: &Secret,
) -> Result<(HelmRelease, Option<SecretString>), String> {
    let mut rel = release_json(secret)?;
    let mut config = rel
        .get_mut("config")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let mut defaults = rel
        .pointer_mut("/chart/values")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let password = [&config, &defaults]
        .into_iter()
        .find_map(|v| scalar(v.pointer("/db/password")?))
        .filter(|p| !p.is_empty())
        .map(SecretString::from);
    redact_values(&mut config);
    redact_values(&mut defaults);
    let text = |p: &str| {
        rel.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (sname, srev) = secret
        .metadata
        .name
        .as_deref()
        .and_then(parse_secret_name)
        .unzip();
    let name = Some(text("/name"))
        .filter(|n| !n.is_empty())
        .or(sname.map(str::to_string))
        .unwrap_or_default();
    let namespace = Some(text("/namespace"))
        .filter(|n| !n.is_empty())
        .or_else(|| secret.metadata.namespace.clone())
        .unwrap_or_default();
    let revision = rel
        .get("version")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .or(srev)
        .unwrap_or(0);
    let (cn, cv) = (
        text("/chart/metadata/name"),
        text("/chart/metadata/version"),
    );
    let chart = match (cn.is_empty(), cv.is_empty()) {
        (false, false) => format!("{cn}-{cv}"),
        _ => format!("{cn}{cv}"),
    };
    let status = text("/info/status");
    Ok((
        HelmRelease {
            name,
            namespace,
            revision,
            chart,
            status,
            config,
            defaults,
        },
        password,
    ))
}

/// A string or number as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A value by `/`-path, from the user-supplied values first, then the chart defaults.
fn lookup<'a>(rel: &'a HelmRelease, path: &str) -> Option<&'a Value> {
    [&rel.config, &rel.defaults]
        .into_iter()
        .find_map(|v| v.pointer(path).filter(|x| !x.is_null()))
}

/// The DB settings the release wires into db-init, named like `Evidence::settings`:
/// `host` (`db`, the built-in database, when db.host is blank), `port` (5432 by
/// default), `user`, `sslmode` (db.tls.mode, default verify-full, `disable` for the
/// built-in database), `ca_kind`/`ca_name`/`ca_key` from `db.tls.ca.valueFrom` (the
/// Secret wins when both refs are named). User values take precedence over defaults.
pub fn db_settings(rel: &HelmRelease) -> Vec<(&'static str, String)> {
    let s = |p: &str| {
        lookup(rel, p)
            .and_then(scalar)
            .map(|x| x.trim().to_string())
    };
    let host = s("/db/host").filter(|h| !h.is_empty());
    let external = host.is_some();
    let mut out = vec![
        ("host", host.unwrap_or_else(|| "db".into())),
        (
            "port",
            s("/db/port")
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "5432".into()),
        ),
    ];
    if let Some(u) = s("/db/user").filter(|u| !u.is_empty()) {
        out.push(("user", u));
    }
    let mode = if external {
        s("/db/tls/mode")
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "verify-full".into())
    } else {
        "disable".into()
    };
    out.push(("sslmode", mode));
    for (kind, key) in [("secret", "secretKeyRef"), ("configmap", "configMapKeyRef")] {
        let base = format!("/db/tls/ca/valueFrom/{key}");
        let Some(name) = s(&format!("{base}/name")).filter(|n| !n.is_empty()) else {
            continue;
        };
        out.push(("ca_kind", kind.into()));
        out.push(("ca_name", name));
        if let Some(k) = s(&format!("{base}/key")).filter(|k| !k.is_empty()) {
            out.push(("ca_key", k));
        }
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PW: &str = "S3cr3t-Planted-Pw!";

    /// A release Secret as the API returns it: data.release = Helm's base64 of gzip.
    fn release_secret(release: &str, n: u32, body: &Value, gzip: bool) -> Secret {
        let json = serde_json::to_vec(body).unwrap();
        let payload = if gzip {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&json).unwrap();
            gz.finish().unwrap()
        } else {
            json
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": format!("sh.helm.release.v1.{release}.v{n}"), "namespace": "trendmicro",
                          "labels": {"owner": "helm", "name": release, "version": n.to_string()}},
            "type": "helm.sh/release.v1",
            "data": {"release": base64::engine::general_purpose::STANDARD.encode(b64)}
        }))
        .unwrap()
    }

    fn body(n: u32) -> Value {
        serde_json::json!({
            "name": "deepsecurity-smartcheck", "namespace": "trendmicro", "version": n,
            "info": {"status": "deployed"},
            "chart": {"metadata": {"name": "smartcheck", "version": "1.2.76"},
                      "values": {"db": {"user": "", "password": "", "host": "", "port": 5432,
                                        "tls": {"mode": "verify-full"}},
                                 "auth": {"masterPassword": "chartdefault"}}},
            "config": {"db": {"user": "postgres", "password": PW, "host": "database.example.com",
                              "tls": {"ca": {"valueFrom": {"configMapKeyRef":
                                  {"name": "dssc-db-trust", "key": "ca"}}}}}}
        })
    }

    #[test]
    fn decodes_and_redacts() {
        for gzip in [true, false] {
            let s = release_secret("deepsecurity-smartcheck", 3, &body(3), gzip);
            let (rel, pw) = decode_release_with_password(&s).unwrap();
            assert_eq!(
                pw.as_ref().map(crate::redact::ExposeSecret::expose_secret),
                Some(PW)
            );
            assert_eq!(rel.name, "deepsecurity-smartcheck");
            assert_eq!(rel.namespace, "trendmicro");
            assert_eq!(rel.revision, 3);
            assert_eq!(rel.chart, "smartcheck-1.2.76");
            assert_eq!(rel.status, "deployed");
            let all = serde_json::to_string(&rel).unwrap();
            assert!(!all.contains(PW) && !all.contains("chartdefault"), "{all}");
            assert_eq!(rel.config["db"]["password"], crate::redact::HIDDEN);
            assert_eq!(decode_release(&s).unwrap(), rel);
            let settings = db_settings(&rel);
            let get = |k| {
                settings
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(get("host"), Some("database.example.com"));
            assert_eq!(get("port"), Some("5432"));
            assert_eq!(get("user"), Some("postgres"));
            assert_eq!(get("sslmode"), Some("verify-full"));
            assert_eq!(get("ca_kind"), Some("configmap"));
            assert_eq!(get("ca_name"), Some("dssc-db-trust"));
            assert_eq!(get("ca_key"), Some("ca"));
        }
    }

    #[test]
    fn builtin_db_settings() {
        let mut b = body(1);
        b["config"] = serde_json::json!({});
        let rel = decode_release(&release_secret("r", 1, &b, true)).unwrap();
        let settings = db_settings(&rel);
        assert!(settings.contains(&("host", "db".into())));
        assert!(settings.contains(&("sslmode", "disable".into())));
        assert!(!settings.iter().any(|(k, _)| *k == "ca_name"));
    }

    #[test]
    fn latest_takes_highest_revision_of_the_release() {
        let secrets: Vec<Secret> = [("dssc", 2), ("dssc", 10), ("dssc", 9), ("other", 11)]
            .iter()
            .map(|(r, n)| release_secret(r, *n, &body(*n), true))
            .collect();
        let s = latest(&secrets, "dssc").unwrap();
        assert_eq!(
            s.metadata.name.as_deref(),
            Some("sh.helm.release.v1.dssc.v10")
        );
        assert!(latest(&secrets, "nope").is_none());
        assert_eq!(
            parse_secret_name("sh.helm.release.v1.a.b.v3"),
            Some(("a.b", 3))
        );
    }

    /// After a failed upgrade the highest revision is `failed`; the running release is
    /// the deployed one below it (the highest N used to win whatever its status).
    #[test]
    fn latest_is_the_deployed_revision_not_a_failed_upgrade() {
        let with_status = |n: u32, status: &str| {
            let mut s = release_secret("dssc", n, &body(n), true);
            s.metadata
                .labels
                .get_or_insert_with(Default::default)
                .insert("status".into(), status.into());
            s
        };
        let secrets = vec![
            with_status(1, "superseded"),
            with_status(2, "deployed"),
            with_status(3, "failed"),
        ];
        assert_eq!(
            latest(&secrets, "dssc").unwrap().metadata.name.as_deref(),
            Some("sh.helm.release.v1.dssc.v2")
        );
        let first_failed = vec![with_status(1, "failed")];
        assert_eq!(
            latest(&first_failed, "dssc")
                .unwrap()
                .metadata
                .name
                .as_deref(),
            Some("sh.helm.release.v1.dssc.v1")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let s: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "sh.helm.release.v1.x.v1"},
            "data": {"release": "bm90IGJhc2U2NCEh"}}))
        .unwrap();
        assert!(decode_release(&s).is_err());
        assert!(decode_release(&Secret::default()).is_err());
    }
}
