//! `kubectl dssc-doctor exporter --listen :9464 --interval 5m`: re-diagnoses the live
//! install on an interval (read-only, each run cut off after one interval, the next one
//! a random 0-10% later) and serves the latest metrics on `/metrics` and its health on
//! `/healthz`, for a Prometheus that scrapes. `/healthz` answers 200 as soon as the
//! port is open, before the first diagnosis ends. A diagnosis that fails keeps the last
//! good series, with `dssc_doctor_up` 0. Stops on SIGTERM or Ctrl-C.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use crate::catalogue::Catalogue;
use crate::cli::{ExporterArgs, FleetArgs, Global, ValuesArgs};
use crate::model::error::InputError;
use crate::report::openmetrics::{failure_metrics, Exposition, RunMeta};
use crate::report::Report;

/// What `/metrics` serves: the last report that ran, and how the latest run went.
struct State {
    report: Option<Report>,
    meta: RunMeta,
    namespace: Option<String>,
    release: Option<String>,
}

impl State {
    fn body(&self, how: Exposition) -> String {
        match &self.report {
            Some(r) => r.metrics(&self.meta, how),
            None if self.meta.duration.is_some() => failure_metrics(
                &self.meta,
                self.namespace.as_deref(),
                self.release.as_deref(),
                how,
            ),
            // Before the first diagnosis ends: no series yet.
            None if how == Exposition::OpenMetrics => "# EOF\n".into(),
            None => String::new(),
        }
    }
}

pub fn run(g: &Global, f: &FleetArgs, a: &ExporterArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    super::runtime()?.block_on(async {
        let listener = TcpListener::bind(a.listen)
            .await
            .map_err(|e| InputError::new(format!("cannot listen on {}: {e}", a.listen)))?;
        let addr = listener.local_addr()?;
        let stop = stop_signal();
        eprintln!("exporter listening on {addr} (/metrics, /healthz)");
        let state = Arc::new(Mutex::new(State {
            report: None,
            meta: RunMeta {
                cluster: f.cluster_name.clone(),
                ..RunMeta::default()
            },
            namespace: g.namespace.clone(),
            release: g.release.clone(),
        }));
        let metrics = {
            let state = state.clone();
            move |how: Exposition| state.lock().unwrap_or_else(|p| p.into_inner()).body(how)
        };
        let server = tokio::spawn(crate::export::server::serve(listener, Arc::new(metrics)));
        let values = ValuesArgs::default();
        tokio::pin!(stop);
        loop {
            let start = Instant::now();
            let run = tokio::select! {
                r = tokio::time::timeout(a.interval, super::diagnose::diagnose(g, &values, cat)) => r,
                _ = &mut stop => break,
            };
            let duration = start.elapsed();
            let line = {
                let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                st.meta.duration = Some(duration);
                match run {
                    Ok(Ok(report)) => {
                        st.meta.failing = false;
                        st.meta.last_success = Some(super::push::unix_now());
                        let s = &report.summary;
                        let line = format!(
                            "diagnosis: {} error(s), {} warning(s) in {:.1}s",
                            s.errors,
                            s.warnings,
                            duration.as_secs_f64()
                        );
                        st.report = Some(report);
                        line
                    }
                    Ok(Err(e)) => {
                        st.meta.failing = true;
                        format!("diagnosis failed: {e:#}")
                    }
                    Err(_) => {
                        st.meta.failing = true;
                        format!(
                            "diagnosis failed: not done within the interval ({}s)",
                            a.interval.as_secs_f64()
                        )
                    }
                }
            };
            eprintln!("{line}");
            tokio::select! {
                _ = tokio::time::sleep(a.interval + jitter(a.interval)) => {}
                _ = &mut stop => break,
            }
        }
        server.abort();
        Ok(0)
    })
}

/// A random 0-10% of the interval.
fn jitter(interval: Duration) -> Duration {
    let r = RandomState::new().build_hasher().finish();
    interval.mul_f64((r % 1000) as f64 / 10_000.0)
}

/// SIGTERM (Kubernetes stopping the pod) or Ctrl-C. The SIGTERM handler is installed
/// at the call, so a signal that arrives before the future is first polled still counts.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
