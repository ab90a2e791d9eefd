//! Certificates for tests, made with the `openssl` crate: a CA, and server certificates
//! with chosen SANs, key type and validity.

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Builder, X509NameBuilder, X509};

/// A certificate and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// A test certificate authority.
pub struct Ca {
    pub cert: X509,
    key: PKey<Private>,
}

/// Key type of an issued certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Rsa,
    EcP256,
}

/// One Subject Alternative Name.
#[derive(Clone, Debug)]
pub enum San {
    Dns(&'static str),
    Ip(&'static str),
}

fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

fn serial() -> Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    bn.rand(64, openssl::bn::MsbOption::MAYBE_ZERO, false)
        .unwrap();
    bn.to_asn1_integer().unwrap()
}

fn name(cn: &str) -> openssl::x509::X509Name {
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    n.build()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Ca {
    /// A self-signed RSA root valid from yesterday for ten years.
    pub fn new(cn: &str) -> Ca {
        let key = rsa_key();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name(cn)).unwrap();
        b.set_issuer_name(&name(cn)).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::from_unix(now() - 86400).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(3650).unwrap())
            .unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        Ca {
            cert: b.build(),
            key,
        }
    }

    pub fn pem(&self) -> Vec<u8> {
        self.cert.to_pem().unwrap()
    }

    /// The CA's private key (PKCS#8 PEM), for tests that plant one where it must not leak.
    pub fn key_pem(&self) -> Vec<u8> {
        self.key.private_key_to_pem_pkcs8().unwrap()
    }

    /// A server certificate valid now.
    pub fn server(&self, cn: &str, sans: &[San], key: Key) -> Issued {
        self.server_valid(cn, sans, key, now() - 86400, now() + 365 * 86400)
    }

    /// A server certificate valid from `not_before` to `not_after` (Unix seconds).
    pub fn server_valid(
        &self,
        cn: &str,
        sans: &[San],
        key: Key,
        not_before: i64,
        not_after: i64,
    ) -> Issued {
        let pkey = match key {
            Key::Rsa => rsa_key(),
            Key::EcP256 => {
                let g = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
                PKey::from_ec_key(EcKey::generate(&g).unwrap()).unwrap()
            }
        };
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name(cn)).unwrap();
        b.set_issuer_name(self.cert.subject_name()).unwrap();
        b.set_pubkey(&pkey).unwrap();
        b.set_not_before(&Asn1Time::from_unix(not_before).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::from_unix(not_after).unwrap())
            .unwrap();
        b.append_extension(BasicConstraints::new().build().unwrap())
            .unwrap();
        if !sans.is_empty() {
            let mut s = SubjectAlternativeName::new();
            for n in sans {
                match n {
                    San::Dns(d) => s.dns(d),
                    San::Ip(i) => s.ip(i),
                };
            }
            let ext = s.build(&b.x509v3_context(Some(&self.cert), None)).unwrap();
            b.append_extension(ext).unwrap();
        }
        b.sign(&self.key, MessageDigest::sha256()).unwrap();
        Issued {
            cert_pem: b.build().to_pem().unwrap(),
            key_pem: pkey.private_key_to_pem_pkcs8().unwrap(),
        }
    }
}
