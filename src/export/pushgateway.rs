//! A Prometheus Pushgateway client: the grouping key in the URL path (every value
//! base64url-encoded, so `/` and empty values are safe), `PUT` to replace a whole group
//! (a fixed finding disappears), `POST` to replace only the families in the body, all
//! within one overall deadline. `http` and `https` (OpenSSL, the system's CAs); a user
//! and password in the URL become basic authentication and are never printed.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openssl::ssl::{SslConnector, SslMethod};
use url::Url;

use crate::model::error::InputError;

/// The `job` label of every group the doctor pushes.
pub const JOB: &str = "dssc-doctor";

/// How a push replaces what the group holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Replace the whole group.
    Put,
    /// Replace the families present in the body only.
    Post,
}

/// A Pushgateway and one group in it.
#[derive(Clone, Debug)]
pub struct Target {
    /// The group's URL, without credentials.
    url: Url,
    /// `user:password` from the URL, for basic authentication.
    auth: Option<String>,
}

impl Target {
    /// The group `job=dssc-doctor` plus `labels` (in order) at the Pushgateway `base`
    /// (`http://host:9091`, optionally with a path prefix).
    pub fn new(base: &str, labels: &[(&str, &str)]) -> Result<Target, InputError> {
        let mut url = Url::parse(base)
            .map_err(|e| InputError::new(format!("--push {}: {e}", redact_url(base))))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(InputError::new(format!(
                "--push {}: not an http:// or https:// URL",
                redact_url(base)
            )));
        }
        let auth = (!url.username().is_empty() || url.password().is_some()).then(|| {
            let user = percent_decode(url.username());
            let pass = percent_decode(url.password().unwrap_or(""));
            format!("{user}:{pass}")
        });
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_query(None);
        url.set_fragment(None);
        let mut path = url.path().trim_end_matches('/').to_string();
        path.push_str("/metrics");
        for (k, v) in std::iter::once(("job", JOB)).chain(labels.iter().copied()) {
            // `=` is how the Pushgateway spells an empty value.
            let enc = if v.is_empty() {
                "=".to_string()
            } else {
                URL_SAFE_NO_PAD.encode(v)
            };
            path.push_str(&format!("/{k}@base64/{enc}"));
        }
        url.set_path(&path);
        Ok(Target { url, auth })
    }

    /// The group's URL (no credentials): for messages.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Sends `body` (Prometheus text format 0.0.4) within `deadline`.
    pub async fn push(&self, mode: Mode, body: String, deadline: Duration) -> anyhow::Result<()> {
        match tokio::time::timeout(deadline, self.send(mode, body, deadline)).await {
            Ok(r) => r,
            Err(_) => anyhow::bail!(
                "pushing to {}: no answer within {}s",
                self.url,
                deadline.as_secs_f64()
            ),
        }
    }

    async fn send(&self, mode: Mode, body: String, deadline: Duration) -> anyhow::Result<()> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(deadline));
        let mut ssl = SslConnector::builder(SslMethod::tls())?;
        // The client speaks HTTP/1.1 only.
        ssl.set_alpn_protos(b"\x08http/1.1")?;
        let https = hyper_openssl::client::legacy::HttpsConnector::with_connector(http, ssl)?;
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
        let method = match mode {
            Mode::Put => Method::PUT,
            Mode::Post => Method::POST,
        };
        let mut req = Request::builder()
            .method(method)
            .uri(self.url.as_str())
            .header(CONTENT_TYPE, crate::report::openmetrics::TEXT_CONTENT_TYPE);
        if let Some(a) = &self.auth {
            req = req.header(AUTHORIZATION, format!("Basic {}", STANDARD.encode(a)));
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        let resp = client
            .request(req)
            .await
            .map_err(|e| anyhow::anyhow!("pushing to {}: {}", self.url, error_chain(&e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        // The Pushgateway explains a rejected push in the body; read a bounded part.
        let text = match Limited::new(resp.into_body(), 4096).collect().await {
            Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
            Err(_) => String::new(),
        };
        let text: String = text.chars().filter(|c| !c.is_control()).take(500).collect();
        anyhow::bail!("pushing to {}: HTTP {status}: {text}", self.url)
    }
}

/// An error with its causes, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// A URL for messages: anything before an `@` (credentials) replaced by `***`.
fn redact_url(s: &str) -> String {
    match s.rfind('@') {
        Some(at) => {
            let start = s
                .find("://")
                .map(|j| j + 3)
                .filter(|&j| j <= at)
                .unwrap_or(0);
            format!("{}***{}", &s[..start], &s[at..])
        }
        None => s.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_key_is_base64url_in_order() {
        let t = Target::new(
            "http://pgw:9091/prefix/",
            &[
                ("cluster", "prod/eu-1"),
                ("namespace", "trendmicro"),
                ("release", ""),
            ],
        )
        .unwrap();
        assert_eq!(
            t.url(),
            "http://pgw:9091/prefix/metrics/job@base64/ZHNzYy1kb2N0b3I/cluster@base64/cHJvZC9ldS0x/namespace@base64/dHJlbmRtaWNybw/release@base64/="
        );
    }

    #[test]
    fn credentials_become_basic_auth_and_are_not_printed() {
        let t = Target::new("https://u:p%40ss@pgw/", &[]).unwrap();
        assert_eq!(t.auth.as_deref(), Some("u:p@ss"));
        assert_eq!(t.url(), "https://pgw/metrics/job@base64/ZHNzYy1kb2N0b3I");
        let e = Target::new("ftp://u:secret@pgw/", &[]).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        let e = Target::new("u:secret@pgw", &[]).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert_eq!(redact_url("http://a:b@h/x"), "http://***@h/x");
    }
}
