//! Feeds a Helm 3 release Secret's `data.release` to the decoder the collector and
//! `analyze` use (`settings::helm::decode_release_with_password`, then
//! `settings::helm::db_settings`). The first byte picks how the rest arrives: as is
//! (any bytes), or as the release JSON that the harness encodes the way Helm does
//! (gzip, then base64; or base64 twice, as a Secret read without the Kubernetes
//! decoding holds it), so the fuzzer reaches the JSON past the encodings.
//!
//! Must hold: no panic, bounded memory (a gzip bomb stops at the release cap); a
//! decoded release never keeps the DB password in its values (`db.password` of the
//! config and of the chart defaults is redacted).
#![no_main]

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine as _;
use dssc_doctor::redact::HIDDEN;
use dssc_doctor::settings::helm;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use libfuzzer_sys::fuzz_target;

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).expect("memory");
    e.finish().expect("memory")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let b64 = |b: &[u8]| {
        base64::engine::general_purpose::STANDARD
            .encode(b)
            .into_bytes()
    };
    let release = match mode % 4 {
        0 => rest.to_vec(),
        1 => b64(&gzip(rest)),
        2 => b64(&b64(&gzip(rest))),
        _ => b64(rest),
    };
    let mut secret = Secret::default();
    secret.metadata.name = Some("sh.helm.release.v1.deepsecurity-smartcheck.v3".into());
    secret.metadata.namespace = Some("trendmicro".into());
    secret.type_ = Some(helm::SECRET_TYPE.into());
    secret.data = Some(BTreeMap::from([(
        "release".to_string(),
        ByteString(release),
    )]));
    let Ok((rel, password)) = helm::decode_release_with_password(&secret) else {
        return;
    };
    let _ = helm::db_settings(&rel);
    let _ = serde_json::to_string(&rel).expect("a release serialises");
    for v in [&rel.config, &rel.defaults] {
        if let Some(kept) = v.pointer("/db/password") {
            assert!(
                kept.is_null()
                    || kept.is_boolean()
                    || kept.as_str().is_some_and(|s| s.is_empty() || s == HIDDEN)
                    || kept.is_object()
                    || kept.is_array(),
                "db.password kept in the decoded release: {kept}"
            );
        }
    }
    drop(password);
});
