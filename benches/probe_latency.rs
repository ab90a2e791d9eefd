//! Probe accuracy: the latency stage against a real PostgreSQL behind the test delay
//! proxy at 0, 5, 20 and 50 ms each way. Prints the measured `SELECT 1` p50 against the
//! injected round trip (2 x one-way); target: within 5 % or 0.5 ms once the path's own
//! round trip (the same probe through the proxy at 0 ms) is taken off.
//!
//! Run: `cargo bench --bench probe_latency` (needs PostgreSQL binaries, see
//! tests/support/pg.rs).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use dssc_doctor::probe::{self, ProbeConfig, SslMode};
use support::delay::DelayProxy;
use support::pg::{self, PgOptions, MASTER};

fn main() {
    if !pg::available() {
        return;
    }
    let server = pg::start(&PgOptions::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let samples: usize = std::env::var("PROBE_BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let cfg = |port: u16| ProbeConfig {
        host: "127.0.0.1".into(),
        port,
        user: MASTER.0.into(),
        password: Some(MASTER.1.into()),
        sslmode: SslMode::Disable,
        samples,
        ..ProbeConfig::default()
    };
    // The path's own round trip: the probe through the proxy at 0 ms, best p50 of three
    // runs (the least disturbed by other load on the machine).
    let zero = DelayProxy::start(server.addr(), Duration::ZERO);
    let direct = || {
        (0..3)
            .map(|_| {
                let r = rt.block_on(probe::run(&cfg(zero.addr.port())));
                r.latency.as_ref().map(|l| l.select1.p50_ms).unwrap_or(0.0)
            })
            .fold(f64::INFINITY, f64::min)
    };
    direct(); // warm-up
    println!("probe latency accuracy, {samples} samples per delay, SELECT 1 round trip");
    println!("(base: the path's own round trip, probe through the proxy at 0 ms, best p50 of 3 runs before each delay)");
    println!(
        "{:>9} {:>12} {:>10} {:>13} {:>10} {:>8}  within 5% or 0.5 ms  {:>16}",
        "one-way", "injected RTT", "base", "measured p50", "p50-RTT", "error %", "p50-RTT-base"
    );
    let mut all_ok = true;
    for d in [0u64, 5, 20, 50] {
        let base = direct();
        let proxy = DelayProxy::start(server.addr(), Duration::from_millis(d));
        let r = rt.block_on(probe::run(&cfg(proxy.addr.port())));
        let Some(lat) = r.latency.as_ref() else {
            println!("{d:>6} ms: probe failed: {:?}", r.ids());
            all_ok = false;
            continue;
        };
        let injected = 2.0 * d as f64;
        let p50 = lat.select1.p50_ms;
        let err = p50 - injected;
        let pct = if injected > 0.0 {
            100.0 * err / injected
        } else {
            0.0
        };
        // The path's own round trip is real latency, not error.
        let added = err - base;
        let ok = added.abs() <= 0.5 || (injected > 0.0 && (100.0 * added / injected).abs() <= 5.0);
        all_ok &= ok;
        println!(
            "{:>6} ms {:>9.3} ms {:>7.3} ms {:>10.3} ms {:>7.3} ms {:>7.2}%  {:<19} {:>10.3} ms",
            d,
            injected,
            base,
            p50,
            err,
            pct,
            if ok { "yes" } else { "NO" },
            added
        );
    }
    println!(
        "{}",
        if all_ok {
            "all within target"
        } else {
            "some outside target"
        }
    );
}
