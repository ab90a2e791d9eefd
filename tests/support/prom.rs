//! Debian's Prometheus and Pushgateway on free loopback ports (each in a temporary
//! directory, the port read from its "Listening on" log line), a process whose stderr
//! names the address it listens on, and a small HTTP/1.0 client for their APIs. Every
//! wait has a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ci;

pub const PROMETHEUS: &str = "/usr/bin/prometheus";
pub const PROMTOOL: &str = "/usr/bin/promtool";
pub const PUSHGATEWAY: &str = "/usr/bin/prometheus-pushgateway";

/// Whether `bin` is installed (under `CI=true` its absence fails the test).
pub fn require(bin: &str) -> bool {
    ci::require(bin, Path::new(bin).exists())
}

/// A process listening on `addr`, killed when dropped; its stderr is kept in `log`.
pub struct Daemon {
    child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<String>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// Starts `cmd` and waits (at most 20 s) for a stderr line that `find` turns into
    /// the listening address.
    pub fn start(
        mut cmd: Command,
        dir: Option<tempfile::TempDir>,
        find: fn(&str) -> Option<SocketAddr>,
    ) -> Daemon {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(a) = find(&line) {
                    let _ = tx.send(a);
                }
                let mut l = keep.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("{cmd:?} did not listen:\n{}", log.lock().unwrap());
            }
        };
        Daemon {
            child,
            addr,
            log,
            _dir: dir,
        }
    }

    /// SIGTERM, then the exit status (at most 10 s later).
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = libc::pid_t::try_from(self.child.id()).ok()?;
        // SAFETY: signalling a child this struct owns and has not reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// `… msg="Listening on" address=127.0.0.1:41117` (Prometheus, Pushgateway).
fn listening_on(line: &str) -> Option<SocketAddr> {
    if !line.contains("Listening on") {
        return None;
    }
    let rest = line.split("address=").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// The Pushgateway, in memory only.
pub fn pushgateway() -> Daemon {
    let mut cmd = Command::new(PUSHGATEWAY);
    cmd.args(["--web.listen-address=127.0.0.1:0", "--persistence.file="]);
    let d = Daemon::start(cmd, None, listening_on);
    wait_ok(d.addr, "/-/ready");
    d
}

/// Prometheus scraping every second: `exporter` (when given) and `pushgateway` (when
/// given, with honor_labels so the pushed labels are kept).
pub fn prometheus(exporter: Option<SocketAddr>, pushgateway: Option<SocketAddr>) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg =
        String::from("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n");
    if let Some(a) = exporter {
        cfg.push_str(&format!(
            "  - job_name: exporter\n    static_configs: [{{targets: [\"{a}\"]}}]\n"
        ));
    }
    if let Some(a) = pushgateway {
        cfg.push_str(&format!(
            "  - job_name: pushgateway\n    honor_labels: true\n    static_configs: [{{targets: [\"{a}\"]}}]\n"
        ));
    }
    let conf = dir.path().join("prometheus.yml");
    std::fs::write(&conf, cfg).unwrap();
    let mut cmd = Command::new(PROMETHEUS);
    cmd.arg(format!("--config.file={}", conf.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0");
    let d = Daemon::start(cmd, Some(dir), listening_on);
    wait_ok(d.addr, "/-/ready");
    d
}

/// An HTTP/1.0 request: (status, content type, body). Panics after 10 s.
pub fn http(
    method: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read the response");
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let ctype = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ctype, body.to_string())
}

/// `GET path` as JSON.
pub fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, _, body) = http("GET", addr, path, &[], "");
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Prometheus's instant query: the result vector.
pub fn query(prom: SocketAddr, q: &str) -> Vec<Value> {
    let enc: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let v = get_json(prom, &format!("/api/v1/query?query={enc}"));
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// Polls `f` every 200 ms until it gives a value; panics with `what` after `limit`.
pub fn eventually<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits (at most 20 s) until `GET path` answers 200.
pub fn wait_ok(addr: SocketAddr, path: &str) {
    eventually(
        &format!("GET {path} on {addr}"),
        Duration::from_secs(20),
        || {
            let s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
            drop(s);
            (http("GET", addr, path, &[], "").0 == 200).then_some(())
        },
    )
}
