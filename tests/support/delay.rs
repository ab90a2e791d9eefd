//! A TCP proxy on 127.0.0.1 that forwards to a target and adds a fixed delay to every
//! chunk in each direction: one thread per direction reads a chunk, sleeps for the delay
//! and writes it on (no spinning, so parallel tests are not starved). Chunks of one
//! direction are delayed one after the other, which is exact for request/response
//! traffic such as `SELECT 1` round trips, the thing the probe measures.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A running proxy; it lives as long as the process (threads are detached).
pub struct DelayProxy {
    pub addr: SocketAddr,
    /// The delays actually applied (a sleep wakes up late on a busy machine): the
    /// benchmark compares the probe with these, not with the nominal delay.
    applied: Arc<Applied>,
}

#[derive(Default)]
struct Applied {
    total_ns: AtomicU64,
    chunks: AtomicU64,
}

impl DelayProxy {
    /// The mean delay actually added to a chunk so far.
    #[allow(dead_code)]
    pub fn mean_applied(&self) -> Option<Duration> {
        let n = self.applied.chunks.load(Ordering::Relaxed);
        (n > 0).then(|| Duration::from_nanos(self.applied.total_ns.load(Ordering::Relaxed) / n))
    }
}

impl DelayProxy {
    /// Listens on a free loopback port and forwards every connection to `target`.
    pub fn start(target: SocketAddr, one_way: Duration) -> DelayProxy {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = l.local_addr().expect("proxy address");
        let applied = Arc::new(Applied::default());
        let a = applied.clone();
        thread::spawn(move || {
            for c in l.incoming() {
                let Ok(client) = c else { continue };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                pipe(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    one_way,
                    a.clone(),
                );
                pipe(server, client, one_way, a.clone());
            }
        });
        DelayProxy { addr, applied }
    }
}

fn sleep_until(t: Instant) {
    // A plain sleep: Linux timers overshoot by ~0.1 ms when idle. Spinning, yielding or
    // a calibrated early wake-up were measured to be no better on a busy 2-core machine
    // (spinning competes with the server and the client for the CPU).
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration, applied: Arc<Applied>) {
    thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let t0 = Instant::now();
                    sleep_until(t0 + delay);
                    applied
                        .total_ns
                        .fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    applied.chunks.fetch_add(1, Ordering::Relaxed);
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// A listener that accepts connections and never answers (kept open until the process
/// ends).
pub fn silent_listener() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("address");
    thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    addr
}

/// A loopback port with nothing listening.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let p = l.local_addr().expect("address").port();
    drop(l);
    p
}
