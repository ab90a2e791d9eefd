//! Hostile input through the binary and the library: out-of-range flags, a TLS peer that
//! trickles one byte a second, absurd `--set` keys, bombs and malformed archives. Every
//! case ends in exit 0/2/3/4 within a time and memory bound, never a panic or a hang.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{show, testdata, BIN};

/// Address space allowed to the binary in these tests (the doctor must stay far below).
const MEM_CAP: u64 = 1 << 30;

/// Runs the binary under an address-space cap, killed after `limit`; returns its output
/// and wall time.
fn bounded(args: &[&str], limit: Duration) -> (Output, Duration) {
    bounded_stdin(args, limit, None)
}

fn bounded_stdin(args: &[&str], limit: Duration, stdin: Option<&[u8]>) -> (Output, Duration) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: MEM_CAP * 3,
                rlim_max: MEM_CAP * 3,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let t = Instant::now();
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        let mut w = child.stdin.take().unwrap();
        let _ = w.write_all(input);
    }
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if rx.recv_timeout(limit).is_err() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = tx.send(());
    let _ = guard.join();
    let took = t.elapsed();
    assert!(
        took < limit,
        "{args:?} ran past {limit:?} (killed)\n{}",
        show(&out)
    );
    (out, took)
}

/// Exit 2 with a one-line `error:` and no panic.
fn assert_usage_error(out: &Output, want: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", show(out));
    assert!(!err.contains("panicked"), "{}", show(out));
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", show(out));
    assert!(errors[0].contains(want), "want {want:?}\n{}", show(out));
}

#[test]
fn numeric_flags_out_of_range_are_one_line_usage_errors() {
    let probe = ["probe", "--host", "127.0.0.1", "--sslmode", "disable"];
    let cases: &[(&[&str], &str)] = &[
        (&["--samples", "18446744073709551615"], "--samples"),
        (&["--samples", "100000000"], "--samples"),
        (&["--supported-versions", "9.6-999999"], "999999"),
        (&["--supported-versions", "429497-13"], "429497"),
        (&["--max-p50-ms=NaN"], "NaN"),
        (&["--max-p95-ms=-1"], "-1"),
        (&["--max-p50-ms", "-5"], "-5"),
        (&["--services", "0"], "--services"),
        (&["--max-open-connections", "0"], "--max-open-connections"),
        (&["--port", "0"], "--port"),
    ];
    for (extra, want) in cases {
        let mut args: Vec<&str> = probe.to_vec();
        args.extend_from_slice(extra);
        let (out, _) = bounded(&args, Duration::from_secs(20));
        assert_usage_error(&out, want);
    }
    let bundle = testdata("auth001");
    let b = bundle.to_str().unwrap();
    for (flag, want) in [
        ("--tail=-1", "--tail"),
        ("--tail=0", "--tail"),
        ("--max-log-bytes=-1", "--max-log-bytes"),
        ("--max-log-bytes=0", "--max-log-bytes"),
    ] {
        let (out, _) = bounded(&["analyze", b, flag], Duration::from_secs(20));
        assert_usage_error(&out, want);
    }
    let (out, _) = bounded(&["--probe-samples", "101"], Duration::from_secs(20));
    assert_usage_error(&out, "--probe-samples");
}

#[test]
fn set_with_ten_thousand_key_parts_is_refused_not_a_stack_overflow() {
    let deep = format!("db{}=1", ".a".repeat(10_000));
    let values = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(values.path(), "db:\n  host: db.example.com\n").unwrap();
    let f = values.path().to_str().unwrap();
    let (out, _) = bounded(
        &["preflight", "--offline", "-f", f, "--set", &deep],
        Duration::from_secs(20),
    );
    assert_usage_error(&out, "more than 64 parts");
}

/// A fake PostgreSQL that accepts TLS (`S`) and then sends a TLS record header one
/// byte a second, forever (or nothing at all when `silent`).
fn trickle_server(silent: bool) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            std::thread::spawn(move || {
                let mut req = [0u8; 8];
                if c.read_exact(&mut req).is_err() || c.write_all(b"S").is_err() {
                    return;
                }
                let mut hello = [0u8; 4096];
                let _ = c.read(&mut hello);
                if silent {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                let head = [0x16u8, 3, 3, 0x40, 0];
                for b in head.into_iter().chain(std::iter::repeat(0)) {
                    if c.write_all(&[b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
        }
    });
    addr
}

#[test]
fn trickling_tls_peer_is_net006_within_the_connect_timeout() {
    for silent in [false, true] {
        let addr = trickle_server(silent);
        let port = addr.port().to_string();
        let (out, took) = bounded(
            &[
                "probe",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--sslmode",
                "require",
                "--connect-timeout",
                "1s",
                "--samples",
                "0",
                "-o",
                "json",
            ],
            Duration::from_secs(15),
        );
        assert_eq!(out.status.code(), Some(3), "{}", show(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ids = crate::support::report::ids(&v);
        assert!(
            ids.contains(&"NET006".to_string()),
            "{ids:?}\n{}",
            show(&out)
        );
        assert!(
            took < Duration::from_millis(2500),
            "silent={silent}: took {took:?}"
        );
    }
}

/// Copies a directory tree.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The AUTH001 bundle with terminal escapes (OSC title, clear screen, BEL, BS, DEL) in
/// the user name of every db-init error line.
fn escape_bundle() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&testdata("auth001"), d.path());
    let logs = d.path().join("cluster-resources/pods/logs/trendmicro");
    for pod in std::fs::read_dir(&logs).unwrap() {
        for f in std::fs::read_dir(pod.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            let s = std::fs::read_to_string(&p).unwrap();
            let s = s.replace(
                "user \"postgres\"",
                "user \"post\x1b]0;pwned\x07\x1b[2J\x08\x7f\u{9b}1mgres\"",
            );
            std::fs::write(&p, s).unwrap();
        }
    }
    d
}

#[test]
fn cluster_text_with_escapes_is_shown_escaped_and_junit_is_valid_xml() {
    let d = escape_bundle();
    let b = d.path().to_str().unwrap();
    for (fmt, color) in [
        ("text", "never"),
        ("text", "always"),
        ("markdown", "never"),
        ("junit", "never"),
    ] {
        let (out, _) = bounded(
            &["analyze", b, "-o", fmt, "--color", color],
            Duration::from_secs(30),
        );
        assert_eq!(out.status.code(), Some(3), "{}", show(&out));
        let bad: Vec<u8> = out
            .stdout
            .iter()
            .copied()
            .filter(|&c| matches!(c, 0..=8 | 0x0b..=0x1f | 0x7f))
            .collect();
        assert!(bad.is_empty(), "{fmt}/{color}: raw control bytes {bad:?}");
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(!s.contains('\u{9b}'), "{fmt}: raw CSI");
        assert!(s.contains("AUTH001"), "{fmt}: {s}");
        assert!(s.contains("^[]0;pwned^G^[[2J^H^?M-^[1m"), "{fmt}: {s}");
        if fmt == "junit" {
            let have = Command::new("xmllint").arg("--version").output().is_ok();
            if crate::support::ci::require("xmllint (libxml2-utils)", have) {
                let f = d.path().join("report.xml");
                std::fs::write(&f, &out.stdout).unwrap();
                let lint = Command::new("xmllint")
                    .arg("--noout")
                    .arg(&f)
                    .output()
                    .unwrap();
                assert!(lint.status.success(), "{}", show(&lint));
            }
        }
    }
}
