//! Feeds a CA bundle to what checks one before install and in a bundle: the bundle
//! analysis of `preflight --ca-file` and of the cluster's CA object
//! (`probe::cert::bundle_findings`: TLS007 not a CA, TLS008 expired, TLS009
//! unusable) and the test that decides whether a Secret value is public CA material
//! and may be kept (`model::pem::is_certificates_only`). The first byte picks how the
//! rest arrives: as is (PEM text or anything), or as DER that the harness wraps in
//! `CERTIFICATE` PEM blocks (split at `\0\0\0\0`), so the fuzzer mutates the X.509
//! structure itself rather than its base64.
//!
//! Must hold: no panic; a value that is certificates only yields at least one
//! certificate subject; every hit is one of the bundle rules.
#![no_main]

use base64::Engine as _;
use dssc_doctor::model::pem::is_certificates_only;
use dssc_doctor::probe::cert::bundle_findings;
use libfuzzer_sys::fuzz_target;

fn pem(ders: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for der in split4(ders) {
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out.into_bytes()
}

fn split4(d: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut rest = d;
    while let Some(i) = rest.windows(4).position(|w| w == [0, 0, 0, 0]) {
        v.push(&rest[..i]);
        rest = &rest[i + 4..];
    }
    v.push(rest);
    v
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bundle = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        pem(rest)
    };
    let only = is_certificates_only(&bundle);
    let (hits, subjects) = bundle_findings(&bundle, "--ca-file ca.pem");
    for h in &hits {
        assert!(
            matches!(h.id.as_str(), "TLS007" | "TLS008" | "TLS009"),
            "unexpected rule {}",
            h.id
        );
    }
    if only {
        assert!(
            !subjects.is_empty(),
            "certificates only, yet no certificate read: {hits:?}"
        );
    }
});
