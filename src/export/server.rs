//! The HTTP endpoint a Prometheus scrapes: `GET /metrics` (OpenMetrics when the
//! scraper's Accept header asks for it, else the 0.0.4 text format) and `GET /healthz`
//! (200 while the process serves). Read-only: other methods are 405. At most 64
//! connections at once, each with a header-read timeout and an overall deadline.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::report::openmetrics::Exposition;

/// What `/metrics` serves, rendered in the format asked for.
pub type Metrics = Arc<dyn Fn(Exposition) -> String + Send + Sync>;

/// Connections served at once; more are closed on arrival.
const MAX_CONNECTIONS: usize = 64;

/// Accepts connections until aborted.
pub async fn serve(listener: TcpListener, metrics: Metrics) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let metrics = metrics.clone();
                tokio::spawn(async move {
                    let _slot = slot;
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let metrics = metrics.clone();
                        async move { Ok::<_, Infallible>(respond(&*metrics, &req)) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(TokioIo::new(stream), svc);
                    // A scrape that takes longer than a minute is dropped.
                    let _ = tokio::time::timeout(Duration::from_secs(60), conn).await;
                });
            }
            // Out of file descriptors and the like: back off, keep serving.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

fn respond(
    metrics: &(dyn Fn(Exposition) -> String + Send + Sync),
    req: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (status, ctype, body) = match (req.method().as_str(), req.uri().path()) {
        ("GET" | "HEAD", "/healthz") => {
            (StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into())
        }
        ("GET" | "HEAD", "/metrics") => {
            let how = exposition(req.headers().get(ACCEPT));
            let body = metrics(how);
            (StatusCode::OK, how.content_type(), body)
        }
        ("GET" | "HEAD", _) => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: /metrics and /healthz are served\n".into(),
        ),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "read-only: GET only\n".into(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

/// OpenMetrics when the scraper's Accept header asks for it, else the 0.0.4 text format.
fn exposition(accept: Option<&HeaderValue>) -> Exposition {
    match accept.and_then(|v| v.to_str().ok()) {
        Some(a) if a.contains("application/openmetrics-text") => Exposition::OpenMetrics,
        _ => Exposition::Text,
    }
}
