//! TLS handshake stage: after the server's `S`, a handshake with verification off (so
//! a bad certificate is still captured and analysed), on a blocking socket inside
//! `spawn_blocking` under one deadline for the whole handshake (a peer trickling one byte
//! at a time cannot hold it longer). Captures the presented chain as DER.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use openssl::ssl::{HandshakeError, SslConnector, SslMethod, SslVerifyMode};
use tokio::net::TcpStream;

use super::{addr_label, dur_label, ProbeConfig, Recorder, StageResult};
use crate::catalogue::ids;

/// What the handshake produced.
pub struct Handshake {
    /// The presented certificates, leaf first, as DER.
    pub chain: Vec<Vec<u8>>,
    pub version: String,
    pub cipher: String,
}

enum Outcome {
    Done(Handshake),
    Timeout,
    Failed(String),
}

/// Stage 4. Returns the presented chain (leaf first).
pub(crate) async fn handshake_stage(
    cfg: &ProbeConfig,
    host: &str,
    addr: SocketAddr,
    stream: TcpStream,
    r: &mut Recorder,
) -> Option<Vec<Vec<u8>>> {
    let t0 = Instant::now();
    let limit = cfg.connect_timeout;
    let sni = host
        .parse::<std::net::IpAddr>()
        .is_err()
        .then(|| host.to_string());
    let outcome = match stream.into_std() {
        Ok(std_stream) => {
            let task = tokio::task::spawn_blocking(move || handshake(std_stream, sni, limit));
            // Backstop: the socket deadline ends the handshake; this only guards against
            // a blocking call that ignores it.
            match tokio::time::timeout(limit + Duration::from_millis(500), task).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => Outcome::Failed(format!("handshake task: {e}")),
                Err(_) => Outcome::Timeout,
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    };
    match outcome {
        Outcome::Done(h) => {
            r.stage(
                "tls-handshake",
                StageResult::Pass,
                Some(t0),
                format!(
                    "{} {}, {} certificate(s) presented",
                    h.version,
                    h.cipher,
                    h.chain.len()
                ),
            );
            r.res.server.tls_version = Some(h.version);
            r.res.server.cipher = Some(h.cipher);
            Some(h.chain)
        }
        Outcome::Timeout => {
            let waited = dur_label(limit);
            r.stage(
                "tls-handshake",
                StageResult::Fail,
                Some(t0),
                format!("no TLS handshake answer within {waited}"),
            );
            r.hit(
                ids::NET006,
                &[
                    ("dbaddr", addr.ip().to_string()),
                    ("dbport", addr.port().to_string()),
                ],
                format!(
                    "{} agreed to TLS but did not complete the handshake within {waited}",
                    addr_label(&addr)
                ),
            );
            None
        }
        Outcome::Failed(msg) => {
            r.stage("tls-handshake", StageResult::Fail, Some(t0), msg.clone());
            let text = format!("TLS handshake with {}: {msg}", addr_label(&addr));
            match classify_failure(&msg) {
                TlsFailure::Version => r.hit(ids::TLS013, &[], text),
                TlsFailure::ClientCert => r.hit(ids::AUTH004, &[], text),
                TlsFailure::Alert(alert) => r.hit(ids::TLS014, &[("alert", alert)], text),
                TlsFailure::NotTls => r.hit(ids::NET009, &[], text),
                TlsFailure::Other => r.hit(
                    ids::PRB001,
                    &[("stage", "tls-handshake".into()), ("message", msg.clone())],
                    text,
                ),
            }
            None
        }
    }
}

/// A blocking socket whose every read and write gets only the time left until one
/// deadline, so the whole exchange ends by then however the peer paces its bytes.
pub(crate) struct DeadlineStream {
    inner: std::net::TcpStream,
    deadline: Instant,
}

impl DeadlineStream {
    pub(crate) fn new(inner: std::net::TcpStream, deadline: Instant) -> io::Result<Self> {
        inner.set_nonblocking(false)?;
        Ok(DeadlineStream { inner, deadline })
    }

    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline reached"));
        }
        Ok(left)
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.inner.set_read_timeout(Some(left))?;
        self.inner.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.inner.set_write_timeout(Some(left))?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn handshake(stream: std::net::TcpStream, sni: Option<String>, limit: Duration) -> Outcome {
    let deadline = Instant::now() + limit;
    let setup = || -> Result<_, String> {
        let stream = DeadlineStream::new(stream, deadline).map_err(|e| e.to_string())?;
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
        b.set_verify(SslVerifyMode::NONE);
        let mut conf = b.build().configure().map_err(|e| e.to_string())?;
        conf.set_verify_hostname(false);
        conf.set_use_server_name_indication(sni.is_some());
        Ok((conf, stream))
    };
    let (conf, stream) = match setup() {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(e),
    };
    let name = sni.unwrap_or_default();
    let mut res = conf.connect(&name, stream);
    loop {
        match res {
            Ok(s) => {
                let ssl = s.ssl();
                let mut chain: Vec<Vec<u8>> = Vec::new();
                if let Some(leaf) = ssl.peer_certificate().and_then(|c| c.to_der().ok()) {
                    chain.push(leaf);
                }
                if let Some(stack) = ssl.peer_cert_chain() {
                    for c in stack {
                        if let Ok(der) = c.to_der() {
                            if !chain.contains(&der) {
                                chain.push(der);
                            }
                        }
                    }
                }
                let version = ssl.version_str().to_string();
                let cipher = ssl
                    .current_cipher()
                    .map(|c| c.name().to_string())
                    .unwrap_or_default();
                if chain.is_empty() {
                    return Outcome::Failed("the server presented no certificate".into());
                }
                return Outcome::Done(Handshake {
                    chain,
                    version,
                    cipher,
                });
            }
            Err(HandshakeError::WouldBlock(mid)) => {
                // A read or write timed out on the blocking socket.
                if Instant::now() >= deadline {
                    return Outcome::Timeout;
                }
                res = mid.handshake();
            }
            Err(HandshakeError::Failure(mid)) => {
                let e = mid.error();
                if e.io_error().is_some_and(|io| {
                    matches!(
                        io.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                }) {
                    return Outcome::Timeout;
                }
                return Outcome::Failed(e.to_string());
            }
            Err(HandshakeError::SetupFailure(e)) => return Outcome::Failed(e.to_string()),
        }
    }
}

/// What a failed handshake means, read from OpenSSL's reason.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TlsFailure {
    /// No protocol version in common (TLS013).
    Version,
    /// The server wants a client certificate (AUTH004).
    ClientCert,
    /// Another alert from the server (TLS014), named as Go names it.
    Alert(String),
    /// The answer after `S` is not TLS (NET009).
    NotTls,
    Other,
}

/// Classifies OpenSSL's handshake error text (`… tlsv1 alert protocol version …`,
/// `… wrong version number …`).
pub(crate) fn classify_failure(msg: &str) -> TlsFailure {
    let m = msg.to_ascii_lowercase();
    if let Some(i) = m.find(" alert ") {
        let alert = m[i + " alert ".len()..]
            .split(':')
            .next()
            .unwrap_or_default()
            .trim();
        return match alert {
            "protocol version" => TlsFailure::Version,
            "certificate required" => TlsFailure::ClientCert,
            "" => TlsFailure::Other,
            // Go's names for OpenSSL's.
            "unknown ca" => TlsFailure::Alert("unknown certificate authority".into()),
            "decrypt error"
            | "decode error"
            | "internal error"
            | "handshake failure"
            | "bad certificate"
            | "access denied"
            | "insufficient security" => TlsFailure::Alert(alert.into()),
            other => TlsFailure::Alert(other.into()),
        };
    }
    // "legacy sigalg disallowed": the server negotiated TLS 1.1 or older, whose
    // signatures OpenSSL (like Go, which stops at TLS 1.2) no longer takes.
    if m.contains("unsupported protocol")
        || m.contains("no protocols available")
        || m.contains("legacy sigalg disallowed")
    {
        return TlsFailure::Version;
    }
    if m.contains("wrong version number")
        || m.contains("packet length too long")
        || m.contains("record layer failure")
        || m.contains("http request")
    {
        return TlsFailure::NotTls;
    }
    TlsFailure::Other
}

#[cfg(test)]
mod classify_tests {
    use super::*;

    #[test]
    fn openssl_reasons_map_to_rules() {
        assert_eq!(
            classify_failure("error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../ssl/record/rec_layer_s3.c:1605:SSL alert number 70"),
            TlsFailure::Version
        );
        assert_eq!(
            classify_failure("error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1605:SSL alert number 40"),
            TlsFailure::Alert("handshake failure".into())
        );
        assert_eq!(
            classify_failure("error:0A00014D:SSL routines:tls_process_key_exchange:legacy sigalg disallowed or unsupported:../ssl/statem/statem_clnt.c:2254:"),
            TlsFailure::Version
        );
        assert_eq!(
            classify_failure("error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record/ssl3_record.c:354:"),
            TlsFailure::NotTls
        );
    }
}
