//! Why the cluster could not be read, said the way kubectl says it: the server URL and
//! the cause of a failed connection (refused, timed out, DNS, TLS: unknown authority,
//! name mismatch, expired), rejected credentials (401) naming the user and context, and
//! a failing exec credential plugin with its own message. Built by walking the error's
//! `source()` chain, since every connection failure displays as the same
//! `client error (Connect)` on top.

use std::error::Error as StdError;

use serde::Serialize;

/// Who is asking, as the kubeconfig names it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Identity {
    /// `https://host:port` of the API server.
    pub server: String,
    pub context: Option<String>,
    pub user: Option<String>,
    /// The exec credential plugin's command (never its arguments or environment).
    #[serde(skip)]
    pub exec_command: Option<String>,
}

/// The live run cannot go on: nothing (or nothing more) can be read from the cluster.
#[derive(Clone, Debug, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ClusterError {
    /// `unreachable`, `tls`, `unauthorized`, `auth-plugin`, `namespace-not-found`,
    /// `release-not-found`, `ambiguous`, `discovery`.
    pub kind: &'static str,
    pub server: String,
    pub message: String,
}

impl ClusterError {
    pub fn new(kind: &'static str, who: &Identity, message: impl Into<String>) -> Self {
        ClusterError {
            kind,
            server: who.server.clone(),
            message: message.into(),
        }
    }
}

fn who(id: &Identity) -> String {
    match (&id.user, &id.context) {
        (Some(u), Some(c)) => format!("user \"{u}\" of context \"{c}\""),
        (Some(u), None) => format!("user \"{u}\""),
        (None, Some(c)) => format!("context \"{c}\""),
        (None, None) => "the configured credentials".into(),
    }
}

/// A 401 from the API server: the credentials are wrong or expired (not an RBAC gap).
pub fn unauthorized(id: &Identity) -> ClusterError {
    ClusterError::new(
        "unauthorized",
        id,
        format!(
            "the API server {} rejected the credentials of {} (401 Unauthorized): the token or \
             certificate is wrong or has expired; log in again (refresh the kubeconfig, e.g. \
             your cloud CLI's get-credentials, or `kubectl config set-credentials`) and retry; \
             `kubectl get pods` fails the same way",
            id.server,
            who(id)
        ),
    )
}

/// The exec credential plugin (or auth provider) failed before any request was sent.
pub fn auth_plugin(id: &Identity, e: &kube::client::AuthError) -> ClusterError {
    use kube::client::AuthError as A;
    let cmd = id
        .exec_command
        .clone()
        .unwrap_or_else(|| "the credential plugin".into());
    let detail = match e {
        A::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let line = stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| format!(": {}", short(&crate::redact::redact_text(l))))
                .unwrap_or_default();
            match out.status.code() {
                Some(c) => format!("exec plugin {cmd} failed with exit code {c}{line}"),
                None => format!("exec plugin {cmd} was killed by a signal{line}"),
            }
        }
        A::AuthExecStart(io) => format!("cannot run exec plugin {cmd}: {io}"),
        A::ExecPluginFailed => {
            format!("exec plugin {cmd} returned no credentials (no status in its ExecCredential)")
        }
        A::AuthExecParse(_) => {
            format!("exec plugin {cmd} printed something that is not an ExecCredential")
        }
        other => format!("getting credentials: {other}"),
    };
    ClusterError::new(
        "auth-plugin",
        id,
        format!(
            "cannot get credentials for {} to reach {}: {detail}; run the plugin by hand \
             (or log in again) and retry",
            who(id),
            id.server
        ),
    )
}

/// A failure to reach the server at all: its URL and the cause, as kubectl names it.
pub fn connect(id: &Identity, e: &kube::Error) -> ClusterError {
    if let kube::Error::Auth(a) = e {
        return auth_plugin(id, a);
    }
    if let Some(a) = find_source::<kube::client::AuthError>(e) {
        return auth_plugin(id, a);
    }
    let (kind, cause) = cause(e);
    ClusterError::new(
        kind,
        id,
        format!("cannot reach the API server {}: {cause}", id.server),
    )
}

fn find_source<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    for _ in 0..16 {
        let c = cur?;
        if let Some(t) = c.downcast_ref::<T>() {
            return Some(t);
        }
        cur = c.source();
    }
    None
}

/// `(kind, cause)` of a connection failure.
fn cause(e: &kube::Error) -> (&'static str, String) {
    let mut chain: Vec<&(dyn StdError + 'static)> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(c) = cur {
        if chain.len() >= 16 {
            break;
        }
        chain.push(c);
        cur = c.source();
    }
    // TLS: the level whose source is the openssl error carries the verify result as
    // text after the source's own text.
    for (i, c) in chain.iter().enumerate() {
        let Some(next) = chain.get(i + 1) else {
            break;
        };
        if next.downcast_ref::<openssl::ssl::Error>().is_none() {
            continue;
        }
        let whole = c.to_string();
        let inner = next.to_string();
        let verify = whole
            .strip_prefix(&inner)
            .map(|r| r.trim_start_matches(':').trim())
            .unwrap_or("")
            .to_string();
        let v = verify.to_ascii_lowercase();
        let what = if v.contains("issuer") || v.contains("self-signed") || v.contains("self signed")
        {
            "TLS: certificate signed by unknown authority (the kubeconfig's certificate-authority-data does not trust the server's certificate)"
        } else if v.contains("mismatch") {
            "TLS: the server's certificate is not valid for this host name or IP (name mismatch)"
        } else if v.contains("expired") {
            "TLS: the server's certificate has expired"
        } else if v.contains("not yet valid") {
            "TLS: the server's certificate is not yet valid"
        } else {
            "TLS handshake failed"
        };
        let detail = if verify.is_empty() || verify == "ok" {
            inner
        } else {
            verify
        };
        return ("tls", format!("{what} ({detail})"));
    }
    for c in &chain {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => {
                    return (
                        "unreachable",
                        "connection refused - did you specify the right host or port?".into(),
                    )
                }
                K::TimedOut => return ("unreachable", "connection timed out".into()),
                K::ConnectionReset | K::ConnectionAborted => {
                    return ("unreachable", format!("connection reset ({io})"))
                }
                _ => {}
            }
        }
        let s = c.to_string();
        if s == "dns error" {
            let inner = c.source().map(|x| x.to_string()).unwrap_or_default();
            return ("unreachable", format!("DNS lookup failed: {inner}"));
        }
        if s.contains("deadline has elapsed") {
            return ("unreachable", "connection timed out".into());
        }
    }
    let last = chain.last().map(|c| c.to_string()).unwrap_or_default();
    ("unreachable", last)
}

/// At most 300 characters of one line.
fn short(s: &str) -> String {
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
