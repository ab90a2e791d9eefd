//! The CA of `db.tls.ca.valueFrom.secretKeyRef` for the live probe. A CA certificate is
//! public data, so of that ONE Secret the ONE key the pods mount as `ca.pem` is read,
//! and kept only when it is PEM certificates only (no private key, nothing else); every
//! other key of the Secret is dropped unread the moment the reply is parsed, and no
//! Secret value is ever logged, stored or printed.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::model::evidence::Evidence;
use crate::probe::ProbeConfig;

/// Reads the Secret-held CA the discovered settings name into `ev.secret_ca`; a CA that
/// cannot be read or is not PEM certificates only is recorded as skipped.
pub async fn read(client: &Client, namespace: &str, ev: &mut Evidence, timeout: Duration) {
    if ev.setting("ca_kind") != Some("secret") {
        return;
    }
    let (Some(name), Some(key)) = (ev.setting("ca_name"), ev.setting("ca_key")) else {
        return;
    };
    let (name, key) = (name.to_string(), key.to_string());
    if name.is_empty() || key.is_empty() {
        return;
    }
    let what = format!("secret {name} key {key} (the database CA)");
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let got = match tokio::time::timeout(timeout, api.get_opt(&name)).await {
        Ok(Ok(Some(s))) => one_key(s, &key),
        Ok(Ok(None)) => return ev.skip(what, "not found"),
        Ok(Err(e)) => {
            return ev.skip(
                what,
                crate::redact::redact_text(&e.to_string()).into_owned(),
            )
        }
        Err(_) => return ev.skip(what, format!("timed out after {timeout:?}")),
    };
    match got {
        Some(pem) if crate::model::pem::is_certificates_only(&pem) => {
            ev.secret_ca = Some((pem, format!("secret {name} key {key}")))
        }
        Some(_) => ev.skip(
            what,
            "not PEM certificates only: not used, not kept (only a CA bundle is read from a Secret)",
        ),
        None => ev.skip(what, "the Secret has no such key"),
    }
}

/// The value of `key`, the rest of the Secret dropped.
fn one_key(s: Secret, key: &str) -> Option<Vec<u8>> {
    let Secret {
        data, string_data, ..
    } = s;
    data.and_then(|mut d| d.remove(key).map(|b| b.0))
        .or_else(|| string_data.and_then(|mut d| d.remove(key).map(String::into_bytes)))
}

/// Lets the discovered probe verify the chain against the Secret-held CA (the probe's
/// discovery withholds any CA in a Secret, since Secret values are otherwise not kept).
pub fn use_in_probe(ev: &Evidence, cfg: &mut ProbeConfig) {
    let Some((pem, origin)) = &ev.secret_ca else {
        return;
    };
    cfg.ca_pem = Some(pem.clone());
    cfg.ca_origin = Some(origin.clone());
    cfg.ca_withheld = false;
    cfg.notes.retain(|n| !n.starts_with("the CA is in secret"));
}
