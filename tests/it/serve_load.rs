//! `serve` under load and faults, as a process over real HTTP on loopback: many
//! concurrent kubectl-style clients (lists, gets, tables, logs), clients that hang up
//! after a few bytes of a large answer, slow readers, and half-open connections that
//! never send a request. A normal request keeps succeeding within a deadline during and
//! after every round, and serve's resident memory stays flat across rounds (VmRSS from
//! /proc; a generous bound, so the test asserts behaviour, not timing).

use crate::support::cli::copy_tree;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::cli::{testdata, BIN};

/// A ~4.1 KB pod as kubectl writes it; name and namespace filled in.
const POD: &str = include_str!("../../benches/ordinary_pod.json");
const NS: &str = "trendmicro";
const LOG_POD: &str = "auth-7d78dccff7-nfh97";
/// Pods in the large list, and lines in the large log.
const PODS: usize = 200;
const LOG_LINES: usize = 40_000;

const CLIENTS: usize = 200;
const HANGUPS: usize = 24;
const SLOW: usize = 6;
const HALF_OPEN: usize = 48;
const ROUNDS: usize = 4;
/// What a normal request may take while all of the above go on.
const DEADLINE: Duration = Duration::from_secs(15);

/// The AUTH001 install with a large pod list in another namespace and a large log.
fn load_bundle(root: &Path) {
    copy_tree(&testdata("auth001"), root);
    let items: Vec<String> = (0..PODS)
        .map(|i| {
            POD.replace("web-00000-00000000", &format!("web-{:05}-{i:08x}", i / 10))
                .replace("NSX", "apps-prod")
        })
        .collect();
    std::fs::write(
        root.join("cluster-resources/pods/apps-prod.json"),
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}",
            items.join(",")
        ),
    )
    .unwrap();
    let log = root.join(format!(
        "cluster-resources/pods/logs/{NS}/{LOG_POD}/db-init-previous.log"
    ));
    let mut text = std::fs::read_to_string(&log).unwrap();
    for i in 0..LOG_LINES {
        text.push_str(&format!(
            "2026-11-23T02:10:{:02}.000Z INFO waiting for the database, attempt {i}\n",
            i % 60
        ));
    }
    std::fs::write(&log, text).unwrap();
}

/// `serve BUNDLE --port 0` as a child; its address from the kubeconfig it writes.
struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bundle: &Path, kubeconfig: &Path) -> Serve {
    let child = Command::new(BIN)
        .arg("serve")
        .arg(bundle)
        .args(["--port", "0", "--kubeconfig-out"])
        .arg(kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut serve = Serve {
        child,
        addr: "127.0.0.1:1".parse().unwrap(),
    };
    let t = Instant::now();
    loop {
        let kc = std::fs::read_to_string(kubeconfig).unwrap_or_default();
        if let Some(url) = kc
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: http://"))
        {
            serve.addr = url.trim().parse().unwrap();
            return serve;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "serve did not start");
        assert!(
            serve.child.try_wait().unwrap().is_none(),
            "serve exited early"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// VmRSS of `pid` in bytes.
fn rss(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/// The requests kubectl makes: (path, Accept).
fn kubectl_request(i: usize) -> (String, &'static str) {
    match i % 5 {
        0 => (
            "/api/v1/namespaces/apps-prod/pods".into(),
            "application/json",
        ),
        1 => (format!("/api/v1/namespaces/{NS}/pods?limit=500"), TABLE),
        2 => (
            format!("/api/v1/namespaces/{NS}/pods/{LOG_POD}/log?container=db-init"),
            "*/*",
        ),
        3 => (format!("/api/v1/namespaces/{NS}/pods/{LOG_POD}"), TABLE),
        _ => (
            "/api/v1/pods?labelSelector=app%3Dweb".into(),
            "application/json",
        ),
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn send(s: &mut TcpStream, path: &str, accept: &str) {
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: kubectl/v1.31.0 (linux/amd64)\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
}

/// One request to the end: (status code, whole response length).
fn get(addr: SocketAddr, path: &str, accept: &str) -> (u16, usize) {
    let mut s = connect(addr);
    send(&mut s, path, accept);
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..buf.len().min(64)]).into_owned();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, buf.len())
}

/// A normal `kubectl get pod` must answer 200 within DEADLINE.
fn probe(addr: SocketAddr) -> Duration {
    let t = Instant::now();
    let (code, _) = get(
        addr,
        &format!("/api/v1/namespaces/{NS}/pods/{LOG_POD}"),
        TABLE,
    );
    let took = t.elapsed();
    assert_eq!(code, 200, "a normal request failed under load");
    assert!(took < DEADLINE, "a normal request took {took:?} under load");
    took
}

/// One round of everything at once; returns the slowest normal request seen during it.
fn round(addr: SocketAddr) -> Duration {
    // Half-open peers first: connected, then silent (one sends half a request line).
    let mut half_open: Vec<TcpStream> = (0..HALF_OPEN).map(|_| connect(addr)).collect();
    half_open[0].write_all(b"GET /api/v1/pod").unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let prober = {
        let done = done.clone();
        thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !done.load(Ordering::Relaxed) {
                worst = worst.max(probe(addr));
                thread::sleep(Duration::from_millis(100));
            }
            worst
        })
    };
    let mut jobs = Vec::new();
    for i in 0..CLIENTS {
        jobs.push(thread::spawn(move || {
            let (path, accept) = kubectl_request(i);
            let (code, len) = get(addr, &path, accept);
            assert_eq!(code, 200, "{path}");
            len
        }));
    }
    for i in 0..HANGUPS {
        jobs.push(thread::spawn(move || {
            let (path, accept) = kubectl_request(if i % 2 == 0 { 0 } else { 2 });
            let mut s = connect(addr);
            send(&mut s, &path, accept);
            let mut few = [0u8; 16];
            let _ = s.read(&mut few);
            0 // dropped here: closed a few bytes into a large answer
        }));
    }
    for i in 0..SLOW {
        jobs.push(thread::spawn(move || {
            let (path, accept) = kubectl_request(if i % 2 == 0 { 0 } else { 2 });
            let s = connect(addr);
            let mut s = s;
            send(&mut s, &path, accept);
            let mut chunk = [0u8; 4096];
            for _ in 0..15 {
                if s.read(&mut chunk).unwrap_or(0) == 0 {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            0
        }));
    }
    let mut lens = Vec::new();
    for j in jobs {
        lens.push(j.join().unwrap());
    }
    // The large answers really were large (the list and log are what the faults hit).
    assert!(
        lens[..CLIENTS].iter().step_by(5).all(|&l| l > 800_000),
        "the pod list was not served in full"
    );
    assert!(
        lens[2..CLIENTS].iter().step_by(5).all(|&l| l > 2_000_000),
        "the log was not served in full: {:?}",
        &lens[..10]
    );
    done.store(true, Ordering::Relaxed);
    let worst = prober.join().unwrap();
    drop(half_open);
    worst
}

/// Concurrent clients, hang-ups, slow readers and half-open peers: serve keeps
/// answering a normal request within the deadline and its RSS stays flat.
#[test]
fn serve_under_load_and_faults_keeps_serving_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    load_bundle(&bundle);
    let serve = start(&bundle, &dir.path().join("kubeconfig"));
    let pid = serve.child.id();
    let addr = serve.addr;
    probe(addr);
    let before = rss(pid);
    let mut after_round = Vec::new();
    let mut worst = Duration::ZERO;
    for _ in 0..ROUNDS {
        worst = worst.max(round(addr));
        probe(addr);
        after_round.push(rss(pid));
    }
    let after = *after_round.last().unwrap();
    let mb = |b: u64| b as f64 / 1e6;
    eprintln!(
        "serve VmRSS: before {:.1} MB, after each of {ROUNDS} rounds {:?} MB; \
         slowest normal request during load {worst:?}",
        mb(before),
        after_round
            .iter()
            .map(|&b| format!("{:.1}", mb(b)))
            .collect::<Vec<_>>()
    );
    assert!(
        after < 2 * before + 32_000_000,
        "serve's memory grew: {:.1} MB before, {:.1} MB after {ROUNDS} rounds",
        mb(before),
        mb(after)
    );
    // Rounds after the first reuse what the first one allocated.
    assert!(
        after < 2 * after_round[0] + 32_000_000,
        "serve's memory grew across rounds: {after_round:?}"
    );
    assert!(serve_alive(pid), "serve exited");
}

fn serve_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A peer that connects and never sends a request is closed by serve once the header
/// timeout (30 s) has passed, rather than holding its connection for ever.
#[test]
fn serve_closes_a_half_open_peer() {
    let dir = tempfile::tempdir().unwrap();
    let serve = start(&testdata("auth001"), &dir.path().join("kubeconfig"));
    let mut silent = connect(serve.addr);
    let t = Instant::now();
    let mut buf = [0u8; 256];
    // EOF (or a reset) from serve's side; the 60 s read timeout would be an Err(WouldBlock).
    let r = silent.read(&mut buf);
    assert!(
        matches!(r, Ok(0))
            || matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "a silent peer was not closed: {r:?} after {:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(50), "{:?}", t.elapsed());
    probe(serve.addr);
}
