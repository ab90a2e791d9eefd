//! A TCP proxy on 127.0.0.1 that forwards to a target and adds a fixed delay to every
//! chunk in each direction. Each direction has a reader thread that stamps chunks on
//! arrival and a writer thread that releases them at arrival + delay (no spinning, so
//! parallel tests are not starved; accurate to well under a millisecond when idle).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A running proxy; it lives as long as the process (threads are detached).
pub struct DelayProxy {
    pub addr: SocketAddr,
}

impl DelayProxy {
    /// Listens on a free loopback port and forwards every connection to `target`.
    pub fn start(target: SocketAddr, one_way: Duration) -> DelayProxy {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = l.local_addr().expect("proxy address");
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
                );
                pipe(server, client, one_way);
            }
        });
        DelayProxy { addr }
    }
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        // Linux high-resolution timers: accurate to tens of microseconds when idle.
        thread::sleep(t - now);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    thread::spawn(move || {
        for (at, data) in rx {
            sleep_until(at);
            if to.write_all(&data).is_err() {
                break;
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
