//! The CA context of TLS and MNT findings: which ConfigMap or Secret the pods
//! reference, what keys it has, and the command that creates it.

use super::*;

/// Adds what the cluster shows about a pod's CA reference: the keys the object does
/// have and the one closest to the key asked for, the same name in another namespace,
/// or an object of the other kind with that name.
pub(crate) fn ca_context(
    ev: &Evidence,
    mut ctx: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let (Some(kind), Some(name)) = (ctx.get("ca_kind").cloned(), ctx.get("ca_name").cloned())
    else {
        return ctx;
    };
    let ns = ctx.get("namespace").cloned().unwrap_or_default();
    ctx.insert("ca_create".into(), create_kind(&kind).into());
    let key = ctx.get("ca_key").cloned().unwrap_or_default();
    let named = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.name.as_deref() == Some(name.as_str())
    };
    let keys: Option<Vec<String>> = if kind == "configmap" {
        ev.configmaps
            .iter()
            .find(|c| named(&c.metadata) && c.metadata.namespace.as_deref() == Some(&ns))
            .map(|c| {
                let mut k: Vec<String> = c.data.iter().flat_map(|d| d.keys().cloned()).collect();
                k.extend(c.binary_data.iter().flat_map(|d| d.keys().cloned()));
                k
            })
    } else {
        ev.secrets
            .iter()
            .find(|s| named(&s.metadata) && s.metadata.namespace.as_deref() == Some(&ns))
            .map(|s| s.data.iter().flat_map(|d| d.keys().cloned()).collect())
    };
    match keys {
        Some(keys) => {
            if !keys.is_empty() {
                ctx.insert("found_keys".into(), keys.join(", "));
            }
            if !keys.contains(&key) {
                if let Some(c) = crate::settings::closest_key(&key, keys.iter().map(String::as_str))
                {
                    ctx.insert("closest".into(), c.to_string());
                }
            }
        }
        None => {
            let elsewhere = if kind == "configmap" {
                ev.configmaps
                    .iter()
                    .find(|c| named(&c.metadata) && c.metadata.namespace.as_deref() != Some(&ns))
                    .and_then(|c| c.metadata.namespace.clone())
            } else {
                ev.secrets
                    .iter()
                    .find(|c| named(&c.metadata) && c.metadata.namespace.as_deref() != Some(&ns))
                    .and_then(|c| c.metadata.namespace.clone())
            };
            if let Some(o) = elsewhere {
                ctx.insert("other_ns".into(), o);
            }
            let other_kind = if kind == "configmap" {
                ev.secrets
                    .iter()
                    .any(|s| named(&s.metadata) && s.metadata.namespace.as_deref() == Some(&ns))
                    .then_some("secret")
            } else {
                ev.configmaps
                    .iter()
                    .any(|c| named(&c.metadata) && c.metadata.namespace.as_deref() == Some(&ns))
                    .then_some("configmap")
            };
            if let Some(k) = other_kind {
                ctx.insert("other_kind".into(), k.into());
            }
        }
    }
    ctx
}

/// The `kubectl create` sub-command for a CA object kind.
pub(crate) fn create_kind(kind: &str) -> &'static str {
    if kind == "secret" {
        "secret generic"
    } else {
        "configmap"
    }
}
