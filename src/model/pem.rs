//! Whether a value is public CA material: PEM `CERTIFICATE` blocks that each parse as an
//! X.509 certificate, and nothing else (no private key, no other text). Such a value
//! may be read from a Secret and kept; any other Secret value never is.

use base64::Engine as _;

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// True when `value` holds one or more PEM certificates and only whitespace besides.
pub fn is_certificates_only(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    let mut count = 0;
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match &mut body {
            None if line.is_empty() => {}
            None if line == BEGIN => body = Some(String::new()),
            None => return false,
            Some(b) if line == END => {
                let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b.as_bytes()) else {
                    return false;
                };
                match x509_parser::parse_x509_certificate(&der) {
                    Ok(([], _)) => count += 1,
                    _ => return false,
                }
                body = None;
            }
            Some(b) => {
                if line.starts_with("-----") {
                    return false;
                }
                b.push_str(line);
            }
        }
    }
    body.is_none() && count > 0
}

#[cfg(test)]
mod tests {
    use super::is_certificates_only;

    fn pem(label: &str, der: &[u8]) -> String {
        use base64::Engine as _;
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    fn cert_and_key() -> (String, String) {
        use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "Unit Test CA").unwrap();
        let name = name.build();
        let mut b = x509::X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = String::from_utf8(b.build().to_pem().unwrap()).unwrap();
        let key = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        (cert, key)
    }

    #[test]
    fn certificates_only() {
        let (cert, key) = cert_and_key();
        assert!(is_certificates_only(cert.as_bytes()));
        assert!(is_certificates_only(format!("{cert}\n{cert}").as_bytes()));
        assert!(is_certificates_only(cert.replace('\n', "\r\n").as_bytes()));
        for bad in [
            key.clone(),
            format!("{cert}{key}"),
            format!("{key}{cert}"),
            format!("# the CA\n{cert}"),
            format!("{cert}password=s3cret\n"),
            "s3cret".to_string(),
            String::new(),
            cert.replace("-----END CERTIFICATE-----\n", ""),
            pem("CERTIFICATE", b"not a certificate"),
        ] {
            assert!(!is_certificates_only(bad.as_bytes()), "{bad}");
        }
        assert!(!is_certificates_only(&[0xff, 0xfe]));
    }
}
