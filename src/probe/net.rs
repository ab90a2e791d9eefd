//! Network stages: DNS resolution (NET003), TCP connect to each address with a timeout
//! (NET001 timeout, NET002 refused) and the PostgreSQL `SSLRequest` (`S`/`N`; TLS003 when
//! the mode needs TLS and the server says `N`; NET006 when nothing answers in time).

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{addr_label, dur_label, ProbeConfig, Recorder, StageResult};
use crate::catalogue::ids;

/// The `SSLRequest` message: length 8, code 80877103.
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Stage 1: resolves the host (all A/AAAA); a literal IP skips it.
pub(crate) async fn dns_stage(
    cfg: &ProbeConfig,
    host: &str,
    r: &mut Recorder,
) -> Option<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        r.stage(
            "dns",
            StageResult::Skip,
            None,
            format!("{ip} is an IP address"),
        );
        return Some(vec![SocketAddr::new(ip, cfg.port)]);
    }
    let t0 = Instant::now();
    let res = timeout(
        cfg.connect_timeout,
        tokio::net::lookup_host((host.to_string(), cfg.port)),
    )
    .await;
    let err = match res {
        Ok(Ok(it)) => {
            let mut addrs: Vec<SocketAddr> = Vec::new();
            for a in it {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
            if !addrs.is_empty() {
                let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                r.stage("dns", StageResult::Pass, Some(t0), list.join(", "));
                return Some(addrs);
            }
            "no A or AAAA record".to_string()
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {}", dur_label(cfg.connect_timeout)),
    };
    r.stage("dns", StageResult::Fail, Some(t0), format!("{host}: {err}"));
    r.hit(
        ids::NET003,
        &[("dbhost", host.to_string())],
        format!("lookup {host}: {err}"),
    );
    None
}

/// Stage 2: TCP connect to each address in turn; the first that connects is used. The
/// whole stage is bounded by the connect timeout times at most three addresses.
pub(crate) async fn tcp_stage(
    cfg: &ProbeConfig,
    host: &str,
    addrs: &[SocketAddr],
    r: &mut Recorder,
) -> Option<(SocketAddr, TcpStream)> {
    let t0 = Instant::now();
    let mut failures: Vec<(SocketAddr, Failure, String)> = Vec::new();
    let tries = u32::try_from(addrs.len().clamp(1, 3)).unwrap_or(3);
    let stage_deadline = t0 + cfg.connect_timeout.saturating_mul(tries);
    for &a in addrs {
        let t = Instant::now();
        let left = stage_deadline.saturating_duration_since(t);
        let each = cfg.connect_timeout.min(left);
        match timeout(each, TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                let mut detail = format!(
                    "connected to {} in {:.1} ms",
                    addr_label(&a),
                    super::ms_since(t)
                );
                let result = if failures.is_empty() {
                    StageResult::Pass
                } else {
                    for (fa, _, e) in &failures {
                        detail.push_str(&format!("; {}: {e}", addr_label(fa)));
                    }
                    StageResult::Warn
                };
                r.stage("tcp", result, Some(t0), detail);
                return Some((a, s));
            }
            Ok(Err(e)) => failures.push((a, connect_failure(&e), e.to_string())),
            Err(_) => failures.push((
                a,
                Failure::Timeout,
                format!("no answer within {}", dur_label(cfg.connect_timeout)),
            )),
        }
    }
    let detail: Vec<String> = failures
        .iter()
        .map(|(a, _, e)| format!("{}: {e}", addr_label(a)))
        .collect();
    r.stage("tcp", StageResult::Fail, Some(t0), detail.join("; "));
    for (a, kind, e) in failures {
        let ip = a.ip().to_string();
        let caps = [("dbaddr", ip.clone()), ("dbport", a.port().to_string())];
        let via = if host == ip {
            String::new()
        } else {
            format!(" ({host})")
        };
        match kind {
            Failure::Refused => r.hit(
                ids::NET002,
                &caps,
                format!(
                    "dial tcp {}{via}: connect: connection refused",
                    addr_label(&a)
                ),
            ),
            Failure::NoRoute => r.hit(
                ids::NET008,
                &caps,
                format!("dial tcp {}{via}: connect: {e}", addr_label(&a)),
            ),
            Failure::Reset => r.hit(
                ids::NET007,
                &caps,
                format!("dial tcp {}{via}: {e}", addr_label(&a)),
            ),
            Failure::Timeout | Failure::Unreachable => r.hit(
                ids::NET001,
                &caps,
                format!("dial tcp {}{via}: {e}", addr_label(&a)),
            ),
        }
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Refused,
    Timeout,
    /// No route to the host or network (NET008).
    NoRoute,
    /// The connection was reset (NET007).
    Reset,
    Unreachable,
}

/// What a failed `connect` means.
fn connect_failure(e: &std::io::Error) -> Failure {
    match e.kind() {
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => Failure::Reset,
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => Failure::NoRoute,
        _ => Failure::Unreachable,
    }
}

/// Whether a read or write error on an open connection is a reset (NET007).
fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
    )
}

/// Stage 3: sends `SSLRequest` and reads the one-byte answer. Returns whether the
/// server offers TLS, and the stream positioned for the TLS handshake.
pub(crate) async fn ssl_request_stage(
    cfg: &ProbeConfig,
    addr: SocketAddr,
    mut stream: TcpStream,
    r: &mut Recorder,
) -> Option<(bool, TcpStream)> {
    let t0 = Instant::now();
    let exchange = async {
        stream.write_all(&SSL_REQUEST).await?;
        let mut b = [0u8; 1];
        let n = stream.read(&mut b).await?;
        Ok::<_, std::io::Error>((n, b[0]))
    };
    let caps = [
        ("dbaddr", addr.ip().to_string()),
        ("dbport", addr.port().to_string()),
    ];
    let answer = match timeout(cfg.connect_timeout, exchange).await {
        Ok(Ok((1, b))) => b,
        Ok(Ok(_)) => return fail_other(
            r,
            t0,
            "the server closed the connection without answering the SSLRequest (not PostgreSQL?)",
        ),
        Ok(Err(e)) if is_reset(&e) => {
            let msg = format!("SSLRequest: {e}");
            r.stage("ssl-request", StageResult::Fail, Some(t0), msg.clone());
            r.hit(
                ids::NET007,
                &caps,
                format!("read tcp ->{}: read: {e}", addr_label(&addr)),
            );
            return None;
        }
        Ok(Err(e)) => return fail_other(r, t0, &format!("SSLRequest: {e}")),
        Err(_) => {
            let waited = dur_label(cfg.connect_timeout);
            r.stage(
                "ssl-request",
                StageResult::Fail,
                Some(t0),
                format!("connected, but no answer within {waited}"),
            );
            r.hit(
                ids::NET006,
                &[caps[0].clone(), caps[1].clone(), ("waited", waited.clone())],
                format!(
                    "{} accepted the TCP connection but did not answer the PostgreSQL SSLRequest within {waited}",
                    addr_label(&addr)
                ),
            );
            return None;
        }
    };
    r.res.server.ssl_request = Some((answer as char).to_string());
    match answer {
        b'S' => {
            r.stage(
                "ssl-request",
                StageResult::Pass,
                Some(t0),
                "S: the server offers TLS".into(),
            );
            Some((true, stream))
        }
        b'N' if cfg.sslmode.needs_tls() => {
            r.stage(
                "ssl-request",
                StageResult::Fail,
                Some(t0),
                format!(
                    "N: the server does not offer TLS but sslmode is {}",
                    cfg.sslmode.as_str()
                ),
            );
            r.hit(
                ids::TLS003,
                &[],
                format!(
                    "{} answered the SSLRequest with N: SSL is not enabled on the server (sslmode {})",
                    addr_label(&addr),
                    cfg.sslmode.as_str()
                ),
            );
            None
        }
        b'N' => {
            let result = if cfg.sslmode == super::SslMode::Disable {
                StageResult::Pass
            } else {
                StageResult::Warn
            };
            r.stage(
                "ssl-request",
                result,
                Some(t0),
                "N: the server does not offer TLS".into(),
            );
            Some((false, stream))
        }
        other => {
            let msg = if other == b'E' {
                "the server answered the SSLRequest with an error (a PostgreSQL older than 7.0, or not PostgreSQL)".to_string()
            } else {
                format!(
                    "unexpected answer 0x{other:02x} to the SSLRequest: not a PostgreSQL server"
                )
            };
            r.stage("ssl-request", StageResult::Fail, Some(t0), msg.clone());
            r.hit(ids::NET009, &[], format!("{}: {msg}", addr_label(&addr)));
            None
        }
    }
}

fn fail_other<T>(r: &mut Recorder, t0: Instant, msg: &str) -> Option<T> {
    r.stage("ssl-request", StageResult::Fail, Some(t0), msg.into());
    r.hit(
        ids::PRB001,
        &[("stage", "ssl-request".into()), ("message", msg.into())],
        msg.into(),
    );
    None
}
