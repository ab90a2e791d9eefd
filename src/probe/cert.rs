//! Certificate analysis (stage 5) with `x509-parser` on the presented chain and the
//! configured CA bundle, with libpq's sslmode semantics: the chain must lead to the CA
//! (TLS001, naming the issuer the bundle lacks), the host must match an IP SAN (TLS002)
//! or a DNS SAN (TLS004), the dates must cover now (TLS005), the key must be RSA
//! (TLS006, DSSC's limit), and the bundle's entries must be CAs (TLS007), current
//! (TLS008) and parse (TLS009); a name only in the Common Name is TLS010, a SHA-1 or
//! MD5 signature TLS011. Signature checks use OpenSSL's verifier.

use std::net::IpAddr;

use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509StoreContext, X509};
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

use super::{ProbeConfig, Recorder, StageResult, Verify};
use crate::catalogue::ids;

/// What the certificate stage saw, for the report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub key: String,
    /// Subjects of the presented chain, leaf first.
    pub chain: Vec<String>,
    /// Subjects of the CA bundle's certificates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ca_bundle: Vec<String>,
}

/// One parsed entry of the CA bundle.
struct CaEntry {
    subject: String,
    der: Vec<u8>,
}

fn date(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}

fn now_ts() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The names a certificate is valid for: SANs (`DNS:…`, `IP:…`).
fn sans(c: &X509Certificate) -> (Vec<String>, Vec<IpAddr>) {
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    if let Ok(Some(ext)) = c.subject_alternative_name() {
        for n in &ext.value.general_names {
            match n {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => ips.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())),
                    16 => ips.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    (dns, ips)
}

/// Whether the certificate has a subjectAltName extension (even an empty one).
fn has_san_extension(c: &X509Certificate) -> bool {
    c.extensions()
        .iter()
        .any(|e| e.oid.to_id_string() == "2.5.29.17")
}

/// Go's name for a signature algorithm it rejects as insecure (SHA-1, MD5).
fn insecure_signature(c: &X509Certificate) -> Option<&'static str> {
    Some(
        match c.signature_algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "SHA1-RSA",
            "1.2.840.113549.1.1.4" => "MD5-RSA",
            "1.2.840.10045.4.1" => "ECDSA-SHA1",
            "1.2.840.10040.4.3" => "DSA-SHA1",
            _ => return None,
        },
    )
}

fn common_name(c: &X509Certificate) -> Option<String> {
    c.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string)
}

fn key_type(c: &X509Certificate) -> (bool, String) {
    match c.public_key().parsed() {
        Ok(PublicKey::RSA(k)) => (true, format!("RSA {} bits", k.key_size())),
        Ok(PublicKey::EC(p)) => {
            let curve = c
                .public_key()
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| curve_name(&o.to_id_string()))
                .unwrap_or_else(|| "unknown curve".into());
            (false, format!("ECDSA {curve} ({} bits)", p.key_size()))
        }
        Ok(PublicKey::DSA(_)) => (false, "DSA".into()),
        _ => {
            let oid = c.public_key().algorithm.algorithm.to_id_string();
            let name = match oid.as_str() {
                "1.3.101.112" => "Ed25519".to_string(),
                "1.3.101.113" => "Ed448".to_string(),
                _ => format!("key algorithm {oid}"),
            };
            (false, name)
        }
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        o => o.into(),
    }
}

/// Whether `host` (a DNS name) matches a SAN pattern (`*.example.com` covers one label).
pub fn dns_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = p.strip_prefix("*.") {
        match h.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail == rest,
            None => false,
        }
    } else {
        p == h
    }
}

/// Checks the CA bundle's entries (TLS007, TLS008, TLS009). Returns the usable entries.
fn bundle_entries(cfg: &ProbeConfig, r: &mut Recorder) -> Vec<CaEntry> {
    let Some(pem) = cfg.ca_pem.as_deref() else {
        return Vec::new();
    };
    let origin = cfg
        .ca_origin
        .clone()
        .unwrap_or_else(|| "the CA bundle".into());
    let mut out = Vec::new();
    let mut n = 0;
    for (i, item) in Pem::iter_from_buffer(pem).enumerate() {
        let p = match item {
            Ok(p) => p,
            Err(x509_parser::error::PEMError::MissingHeader) if i > 0 => break,
            Err(x509_parser::error::PEMError::MissingHeader) => break,
            Err(e) => {
                let problem = format!("entry {} of {origin} is not valid PEM ({e})", i + 1);
                r.hit(ids::TLS009, &[("problem", problem.clone())], problem);
                break;
            }
        };
        if p.label != "CERTIFICATE" && p.label != "TRUSTED CERTIFICATE" {
            continue;
        }
        n += 1;
        let parsed = X509Certificate::from_der(&p.contents);
        let c = match parsed {
            Ok((_, c)) => c,
            Err(e) => {
                let problem = format!("certificate {} of {origin} does not parse ({e})", i + 1);
                r.hit(ids::TLS009, &[("problem", problem.clone())], problem);
                continue;
            }
        };
        let subject = c.subject().to_string();
        let self_signed = c.subject() == c.issuer();
        let is_ca = match c.basic_constraints() {
            Ok(Some(bc)) => bc.value.ca,
            // A v1 or extension-less self-signed root is treated as a CA by clients.
            _ => self_signed && c.basic_constraints().is_ok(),
        };
        if !is_ca {
            r.hit(
                ids::TLS007,
                &[("ca_subject", subject.clone())],
                format!("{origin}: certificate {} ({subject}) is not a CA certificate (no basicConstraints CA:TRUE)", i + 1),
            );
        }
        let not_after = c.validity().not_after.timestamp();
        if not_after < now_ts() {
            r.hit(
                ids::TLS008,
                &[
                    ("ca_subject", subject.clone()),
                    ("not_after", date(not_after)),
                ],
                format!(
                    "{origin}: CA certificate {subject} expired on {}",
                    date(not_after)
                ),
            );
        }
        out.push(CaEntry {
            subject,
            der: p.contents.clone(),
        });
    }
    if n == 0 {
        let problem = format!("{origin} contains no PEM certificate");
        r.hit(ids::TLS009, &[("problem", problem.clone())], problem);
    }
    out
}

/// Checks the bundle when TLS is not used (the bundle is mounted all the same).
pub(crate) fn check_bundle(cfg: &ProbeConfig, r: &mut Recorder) {
    let _ = bundle_entries(cfg, r);
}

/// Analyses a CA bundle on its own, without a server (preflight, before install): the
/// hits (TLS007 not a CA, TLS008 expired, TLS009 unusable) and the subjects of the
/// certificates that parse.
pub fn bundle_findings(pem: &[u8], origin: &str) -> (Vec<super::ProbeHit>, Vec<String>) {
    let cfg = ProbeConfig {
        ca_pem: Some(pem.to_vec()),
        ca_origin: Some(origin.to_string()),
        ..ProbeConfig::default()
    };
    let mut r = offline_recorder(&cfg, Verify::None);
    let entries = bundle_entries(&cfg, &mut r);
    (r.res.hits, entries.into_iter().map(|e| e.subject).collect())
}

/// The certificate stage on its own, off the network: the chain a server presented
/// (DER, leaf first) checked against `ca_pem` (or the system trust store) for `host`
/// as `verify` asks. Returns the hits and whether the probe would go on.
pub fn chain_findings(
    chain: &[Vec<u8>],
    ca_pem: Option<&[u8]>,
    host: &str,
    verify: Verify,
) -> (Vec<super::ProbeHit>, bool) {
    let cfg = ProbeConfig {
        host: host.to_string(),
        ca_pem: ca_pem.map(<[u8]>::to_vec),
        ca_origin: ca_pem.map(|_| "ca.pem".to_string()),
        ..ProbeConfig::default()
    };
    let mut r = offline_recorder(&cfg, verify);
    let go_on = certificate_stage(&cfg, host, verify, chain, &mut r);
    (r.res.hits, go_on)
}

/// A recorder for checks run without a connection.
fn offline_recorder(cfg: &ProbeConfig, verify: Verify) -> Recorder {
    Recorder {
        res: super::ProbeResult {
            host: cfg.host.clone(),
            port: cfg.port,
            user: String::new(),
            database: String::new(),
            sslmode: cfg.sslmode,
            verify,
            addresses: Vec::new(),
            stages: Vec::new(),
            latency: None,
            server: super::ServerFacts::default(),
            certificate: None,
            hits: Vec::new(),
            total_ms: 0.0,
            notes: Vec::new(),
            ca_withheld: false,
        },
        context: Default::default(),
    }
}

/// Verifies the chain against the bundle (or the system trust store when there is
/// none), ignoring dates (TLS005 reports those). `Err` carries OpenSSL's reason.
fn verify_chain(chain: &[Vec<u8>], ca: Option<&[CaEntry]>) -> Result<(), String> {
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let mut sb = X509StoreBuilder::new().map_err(e)?;
    match ca {
        Some(entries) => {
            for c in entries {
                if let Ok(x) = X509::from_der(&c.der) {
                    let _ = sb.add_cert(x);
                }
            }
        }
        None => sb.set_default_paths().map_err(e)?,
    }
    sb.set_flags(X509VerifyFlags::PARTIAL_CHAIN | X509VerifyFlags::NO_CHECK_TIME)
        .map_err(e)?;
    let store = sb.build();
    let leaf = X509::from_der(chain.first().ok_or("no certificate")?).map_err(e)?;
    let mut untrusted = Stack::new().map_err(e)?;
    for d in chain.iter().skip(1) {
        if let Ok(x) = X509::from_der(d) {
            untrusted.push(x).map_err(e)?;
        }
    }
    let mut ctx = X509StoreContext::new().map_err(e)?;
    let (ok, err) = ctx
        .init(&store, &leaf, &untrusted, |c| {
            let ok = c.verify_cert()?;
            Ok((ok, c.error()))
        })
        .map_err(e)?;
    if ok {
        Ok(())
    } else {
        Err(err.error_string().to_string())
    }
}

/// Stage 5. Returns whether the probe goes on.
pub(crate) fn certificate_stage(
    cfg: &ProbeConfig,
    host: &str,
    verify: Verify,
    chain: &[Vec<u8>],
    r: &mut Recorder,
) -> bool {
    let t0 = std::time::Instant::now();
    let hits_before = r.res.hits.len();
    let entries = bundle_entries(cfg, r);
    let parsed: Vec<X509Certificate> = chain
        .iter()
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect();
    let Some(leaf) = parsed.first() else {
        let msg = "the server's certificate does not parse".to_string();
        r.stage("certificate", StageResult::Fail, Some(t0), msg.clone());
        r.hit(
            ids::PRB001,
            &[("stage", "certificate".into()), ("message", msg.clone())],
            msg,
        );
        return false;
    };
    let (dns, ips) = sans(leaf);
    let mut san_list: Vec<String> = dns.iter().map(|d| format!("DNS:{d}")).collect();
    san_list.extend(ips.iter().map(|i| format!("IP:{i}")));
    let (is_rsa, key) = key_type(leaf);
    let subject = leaf.subject().to_string();
    let issuer = leaf.issuer().to_string();
    let (nb, na) = (
        leaf.validity().not_before.timestamp(),
        leaf.validity().not_after.timestamp(),
    );
    r.res.certificate = Some(CertFacts {
        subject: subject.clone(),
        issuer: issuer.clone(),
        sans: san_list.clone(),
        not_before: date(nb),
        not_after: date(na),
        key: key.clone(),
        chain: parsed.iter().map(|c| c.subject().to_string()).collect(),
        ca_bundle: entries.iter().map(|e| e.subject.clone()).collect(),
    });
    let host_ip = host.parse::<IpAddr>().ok();
    let san_for_host = match host_ip {
        Some(ip) => format!("IP:{ip}"),
        None => format!("DNS:{host}"),
    };
    let mut blocking = Vec::new();

    // TLS006: DSSC supports RSA server keys only, whatever the mode.
    if !is_rsa {
        r.hit(
            ids::TLS006,
            &[("key_type", key.clone()), ("san", san_for_host.clone())],
            format!("the server certificate {subject} has a {key} key; Smart Check supports RSA keys only"),
        );
    }

    if verify != Verify::None {
        // TLS005: dates, leaf and presented intermediates.
        let now = now_ts();
        for (i, c) in parsed.iter().enumerate() {
            let (nb, na) = (
                c.validity().not_before.timestamp(),
                c.validity().not_after.timestamp(),
            );
            let what = if i == 0 {
                "the server certificate"
            } else {
                "the chain certificate"
            };
            if na < now || nb > now {
                let state = if na < now {
                    "has expired"
                } else {
                    "is not yet valid"
                };
                r.hit(
                    ids::TLS005,
                    &[],
                    format!(
                        "x509: certificate has expired or is not yet valid: {what} {} {state}: valid from {} to {}, now {}",
                        c.subject(),
                        date(nb),
                        date(na),
                        date(now)
                    ),
                );
                blocking.push(format!(
                    "{what} {state} (valid {} to {})",
                    date(nb),
                    date(na)
                ));
            }
        }
        // TLS011: a signature Go refuses (SHA-1, MD5), on any presented certificate
        // but a self-signed root (whose signature nobody checks).
        for c in &parsed {
            if c.subject() == c.issuer() {
                continue;
            }
            if let Some(alg) = insecure_signature(c) {
                r.hit(
                    ids::TLS011,
                    &[("sigalg", alg.to_string())],
                    format!(
                        "x509: cannot verify signature: insecure algorithm {alg}: {} is signed with {alg}",
                        c.subject()
                    ),
                );
                blocking.push(format!("{} signed with {alg}", c.subject()));
            }
        }
        // TLS001: the chain leads to the CA.
        let ca = cfg.ca_pem.as_ref().map(|_| entries.as_slice());
        if let Err(reason) = verify_chain(chain, ca) {
            // The issuer the bundle lacks: the issuer of the topmost presented cert.
            let mut top = leaf;
            for _ in 0..parsed.len() {
                match parsed
                    .iter()
                    .find(|c| c.subject() == top.issuer() && c.subject() != top.subject())
                {
                    Some(next) => top = next,
                    None => break,
                }
            }
            let missing = top.issuer().to_string();
            let trusted = match &cfg.ca_pem {
                Some(_) => format!(
                    "{} has {}",
                    cfg.ca_origin.as_deref().unwrap_or("the CA bundle"),
                    if entries.is_empty() {
                        "no certificate".to_string()
                    } else {
                        entries
                            .iter()
                            .map(|e| e.subject.clone())
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                ),
                None => {
                    "no CA is configured (db.tls.ca), so only the system trust store applies".into()
                }
            };
            r.hit(
                ids::TLS001,
                &[],
                format!(
                    "x509: certificate signed by unknown authority: the server certificate {subject} is issued by {issuer}; the chain needs the CA certificate of {missing}, but {trusted} ({reason})"
                ),
            );
            blocking.push(format!("not signed by a trusted CA: needs {missing}"));
        }
    }
    if verify == Verify::Full {
        match host_ip {
            Some(ip) if !ips.contains(&ip) => {
                let valid_for = if san_list.is_empty() {
                    common_name(leaf)
                        .map(|cn| format!("CN={cn} (no SANs)"))
                        .unwrap_or_else(|| "no names".into())
                } else {
                    san_list.join(", ")
                };
                let text = if ips.is_empty() {
                    format!("x509: cannot validate certificate for {ip} because it doesn't contain any IP SANs (valid for {valid_for})")
                } else {
                    format!("x509: certificate is valid for {valid_for}, not {ip}")
                };
                r.hit(
                    ids::TLS002,
                    &[("ip", ip.to_string()), ("valid_for", valid_for.clone())],
                    text,
                );
                blocking.push(format!("no IP SAN for {ip} (valid for {valid_for})"));
            }
            Some(_) => {}
            // No subjectAltName at all, the name only in the CN: Go says "relies on
            // legacy Common Name field" (TLS010).
            None if dns.is_empty()
                && ips.is_empty()
                && common_name(leaf).is_some_and(|cn| dns_matches(&cn, host))
                && !has_san_extension(leaf) =>
            {
                let cn = common_name(leaf).unwrap_or_default();
                r.hit(
                    ids::TLS010,
                    &[],
                    format!("x509: certificate relies on legacy Common Name field, use SANs instead: the server certificate {subject} names {cn} in its Common Name only (no subjectAltName)"),
                );
                blocking.push(format!("{host} only in the Common Name (no SAN)"));
            }
            None if !dns.iter().any(|d| dns_matches(d, host)) => {
                let (valid_for, text) = if dns.is_empty() {
                    match common_name(leaf) {
                        Some(cn) => (
                            format!("CN={cn} only (Go clients ignore the Common Name since Go 1.15)"),
                            format!("x509: certificate relies on legacy Common Name field ({cn}); it has no DNS SAN for {host}"),
                        ),
                        None => (
                            "no names".to_string(),
                            format!("x509: certificate is not valid for any names, but wanted to match {host}"),
                        ),
                    }
                } else {
                    let v = dns.join(", ");
                    (
                        v.clone(),
                        format!("x509: certificate is valid for {v}, not {host}"),
                    )
                };
                r.hit(
                    ids::TLS004,
                    &[
                        ("dbhost", host.to_string()),
                        ("valid_for", valid_for.clone()),
                    ],
                    text,
                );
                blocking.push(format!("not valid for {host} (valid for {valid_for})"));
            }
            None => {}
        }
    }
    let summary = format!(
        "{subject}, issued by {issuer}, {key}, valid to {}{}; verify {}",
        date(na),
        if san_list.is_empty() {
            String::new()
        } else {
            format!(", SAN {}", san_list.join(" "))
        },
        match verify {
            Verify::None => "none (encryption only)",
            Verify::Ca => "chain (verify-ca)",
            Verify::Full => "chain and host (verify-full)",
        }
    );
    if !blocking.is_empty() {
        r.stage(
            "certificate",
            StageResult::Fail,
            Some(t0),
            format!("{}: {summary}", blocking.join("; ")),
        );
        return false;
    }
    let warned = r.res.hits.len() > hits_before;
    r.stage(
        "certificate",
        if warned {
            StageResult::Warn
        } else {
            StageResult::Pass
        },
        Some(t0),
        summary,
    );
    true
}

#[cfg(test)]
mod tests {
    use super::dns_matches;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(dns_matches("*.example.com", "db.example.com"));
        assert!(!dns_matches("*.example.com", "a.db.example.com"));
        assert!(!dns_matches("*.example.com", "example.com"));
        assert!(dns_matches("DB.example.com.", "db.example.com"));
    }
}
