//! Feeds a server's certificate chain to the probe's certificate stage, off the network
//! (`probe::cert::chain_findings`): the chain checked against a CA bundle (or the
//! system trust store), the host name or IP, the key type and the dates, as the probe
//! does after a TLS handshake. The first byte picks the verify mode, the host (a name,
//! an IPv4 or an IPv6 address) and whether the last DER block is the CA bundle; the
//! rest is DER blocks split at `\0\0\0\0`, leaf first, so the fuzzer mutates the X.509
//! structure itself.
//!
//! Must hold: no panic; every hit is a TLS rule or PRB001; a stage that stops the probe
//! says why (at least one hit).
#![no_main]

use base64::Engine as _;
use dssc_doctor::model::tls::Verify;
use dssc_doctor::probe::cert::chain_findings;
use libfuzzer_sys::fuzz_target;

fn split4(d: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut rest = d;
    while let Some(i) = rest.windows(4).position(|w| w == [0, 0, 0, 0]) {
        v.push(rest[..i].to_vec());
        rest = &rest[i + 4..];
    }
    v.push(rest.to_vec());
    v
}

fn pem(der: &[u8]) -> Vec<u8> {
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out.into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let verify = match mode & 3 {
        0 => Verify::None,
        1 => Verify::Ca,
        _ => Verify::Full,
    };
    let host = match (mode >> 2) & 3 {
        0 => "localhost",
        1 => "127.0.0.1",
        2 => "::1",
        _ => "db.example.com",
    };
    let mut chain = split4(rest);
    let ca = if mode & 16 != 0 && chain.len() > 1 {
        chain.pop().map(|d| pem(&d))
    } else {
        None
    };
    let (hits, go_on) = chain_findings(&chain, ca.as_deref(), host, verify);
    for h in &hits {
        assert!(
            h.id.starts_with("TLS") || h.id == "PRB001",
            "unexpected rule {}",
            h.id
        );
    }
    assert!(
        go_on || !hits.is_empty(),
        "the stage stopped the probe without a finding"
    );
});
