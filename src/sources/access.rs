//! How one read of the cluster ended, decided in one place for collection and
//! preflight: the objects, a 401/403 (the account may not read them: a skipped item,
//! never a crash), a 404, no answer within the deadline, or another error.

use std::future::Future;
use std::time::Duration;

/// The outcome of one read under a deadline.
#[derive(Debug)]
pub enum Access<T> {
    Ok(T),
    /// 401 or 403: `forbidden (403): <the server's message>`.
    Forbidden(String),
    /// 404: `not found: <the server's message>`.
    NotFound(String),
    /// No answer within the deadline: `timed out after <deadline>`.
    TimedOut(String),
    /// Anything else (the server cannot be reached, a malformed answer, …).
    Error(kube::Error),
}

/// Runs one read with an overall deadline and sorts out how it ended.
pub async fn read<T>(
    timeout: Duration,
    f: impl Future<Output = Result<T, kube::Error>>,
) -> Access<T> {
    match tokio::time::timeout(timeout, f).await {
        Err(_) => Access::TimedOut(format!("timed out after {timeout:?}")),
        Ok(Ok(v)) => Access::Ok(v),
        Ok(Err(kube::Error::Api(s))) if s.code == 401 || s.code == 403 => {
            Access::Forbidden(format!("forbidden ({}): {}", s.code, s.message))
        }
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
            Access::NotFound(format!("not found: {}", s.message))
        }
        Ok(Err(e)) => Access::Error(e),
    }
}
