//! Latency stage (8): N samples of a fresh TCP connect and of a `SELECT 1` round trip on
//! the open connection, reported as p50/p95/p99/max; LAT001 above the thresholds.

use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_postgres::Client;

use super::{ms_since, ProbeConfig, Recorder, StageResult};
use crate::catalogue::ids;

/// Percentiles of a set of samples, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub samples: usize,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Stats {
    /// Nearest-rank percentiles; all zero for no samples.
    pub fn from_samples(samples: &[f64]) -> Stats {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Stats::default();
        }
        v.sort_by(|a, b| a.total_cmp(b));
        let pick = |p: f64| {
            let rank = (p * v.len() as f64).ceil() as usize;
            v[rank.clamp(1, v.len()) - 1]
        };
        Stats {
            samples: v.len(),
            min_ms: v[0],
            p50_ms: pick(0.50),
            p95_ms: pick(0.95),
            p99_ms: pick(0.99),
            max_ms: v[v.len() - 1],
        }
    }

    fn label(&self) -> String {
        format!(
            "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.p50_ms, self.p95_ms, self.p99_ms, self.max_ms
        )
    }
}

/// The longest the latency stage runs: ten connect timeouts (50 s by default), however
/// many samples were asked for.
pub(crate) fn stage_limit(connect_timeout: std::time::Duration) -> std::time::Duration {
    connect_timeout.saturating_mul(10)
}

/// Stage 8.
pub(crate) async fn latency_stage(
    cfg: &ProbeConfig,
    addr: SocketAddr,
    client: &Client,
    r: &mut Recorder,
) {
    if cfg.samples == 0 {
        r.stage("latency", StageResult::Skip, None, "--samples 0".into());
        return;
    }
    let t0 = Instant::now();
    let limit = stage_limit(cfg.connect_timeout);
    let deadline = t0 + limit;
    let mut tcp = Vec::with_capacity(cfg.samples);
    let mut q = Vec::with_capacity(cfg.samples);
    let mut errors = Vec::new();
    let mut stopped = None;
    // Each wait gets --connect-timeout or what is left of the stage, whichever is less:
    // a peer that answers each round trip just inside the timeout cannot hold the
    // stage for samples × timeout.
    let wait = || {
        deadline
            .saturating_duration_since(Instant::now())
            .min(cfg.connect_timeout)
    };
    let over = |done: usize| {
        format!(
            "stopped after {done} of {} samples: the latency stage's limit is {} (10 × --connect-timeout)",
            cfg.samples,
            super::findings::dur_label(limit)
        )
    };
    for done in 0..cfg.samples {
        if Instant::now() >= deadline {
            stopped = Some(over(done));
            break;
        }
        let t = Instant::now();
        match timeout(wait(), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                tcp.push(ms_since(t));
                drop(s);
            }
            Ok(Err(e)) => errors.push(format!("TCP connect: {e}")),
            Err(_) if Instant::now() >= deadline => {
                stopped = Some(over(done));
                break;
            }
            Err(_) => {
                // A peer that stopped answering: one timeout ends the stage.
                errors.push("TCP connect timed out".into());
                break;
            }
        }
        let t = Instant::now();
        match timeout(wait(), client.simple_query("SELECT 1")).await {
            Ok(Ok(_)) => q.push(ms_since(t)),
            Ok(Err(e)) => errors.push(format!("SELECT 1: {e}")),
            Err(_) if Instant::now() >= deadline => {
                stopped = Some(over(done));
                break;
            }
            Err(_) => {
                errors.push("SELECT 1 timed out".into());
                break;
            }
        }
    }
    let tcp = Stats::from_samples(&tcp);
    let q = Stats::from_samples(&q);
    let th = cfg.latency;
    let mut over = Vec::new();
    for (what, s) in [("SELECT 1", &q), ("TCP connect", &tcp)] {
        if s.samples == 0 {
            continue;
        }
        if s.p50_ms > th.p50_ms {
            over.push((
                format!("{what} p50 {:.1} ms", s.p50_ms),
                format!("p50 {} ms", th.p50_ms),
            ));
        } else if s.p95_ms > th.p95_ms {
            over.push((
                format!("{what} p95 {:.1} ms", s.p95_ms),
                format!("p95 {} ms", th.p95_ms),
            ));
        }
    }
    let detail = format!(
        "{} samples; SELECT 1 {}; TCP connect {}{}{}",
        cfg.samples,
        q.label(),
        tcp.label(),
        if errors.is_empty() {
            String::new()
        } else {
            format!("; {} error(s): {}", errors.len(), errors[0])
        },
        stopped
            .as_deref()
            .map(|s| format!("; {s}"))
            .unwrap_or_default()
    );
    let result = if over.is_empty() && errors.is_empty() && stopped.is_none() {
        StageResult::Pass
    } else {
        StageResult::Warn
    };
    if !over.is_empty() {
        let measured: Vec<String> = over.iter().map(|o| o.0.clone()).collect();
        let threshold: Vec<String> = over.iter().map(|o| o.1.clone()).collect();
        r.hit(
            ids::LAT001,
            &[
                ("measured", measured.join(", ")),
                ("threshold", threshold.join(", ")),
            ],
            format!(
                "round trips to {addr}: SELECT 1 {}; TCP connect {}",
                q.label(),
                tcp.label()
            ),
        );
    }
    r.stage("latency", result, Some(t0), detail);
    r.res.latency = Some(super::LatencyReport {
        p50_ms: q.p50_ms,
        tcp_connect: tcp,
        select1: q,
    });
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Stats::from_samples(&v);
        assert_eq!(
            (s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(Stats::from_samples(&[]).samples, 0);
        assert_eq!(Stats::from_samples(&[3.0]).p99_ms, 3.0);
    }
}
