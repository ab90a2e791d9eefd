//! Hostile input through the binary and the library: out-of-range flags, a TLS peer that
//! trickles one byte a second, absurd `--set` keys, bombs and malformed archives. Every
//! case ends in exit 0/2/3/4 within a time and memory bound, never a panic or a hang.

use crate::support::cli::copy_tree;
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

#[test]
fn endless_or_oversized_small_files_are_refused_at_once() {
    // /dev/zero never ends: each small input (CA bundle, values file, serve script)
    // is read up to its cap and refused in one line, before memory grows.
    let big = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(big.path(), vec![b'#'; 5 << 20]).unwrap();
    let big = big.path().to_str().unwrap();
    let ok = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ok.path(), "db:\n  host: db.example.com\n").unwrap();
    let big_ok = ok.path().to_str().unwrap();
    let bundle = testdata("mnt001");
    let b = bundle.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["probe", "--host", "127.0.0.1", "--ca-file", "/dev/zero"],
            "--ca-file /dev/zero: larger than 1 MiB, not a CA bundle",
        ),
        (
            &[
                "preflight",
                "--offline",
                "-f",
                big_ok,
                "--ca-file",
                "/dev/zero",
            ],
            "larger than 1 MiB, not a CA bundle",
        ),
        (
            &["preflight", "--offline", "-f", "/dev/zero"],
            "/dev/zero: larger than 4 MiB, not a values file",
        ),
        (
            &["preflight", "--offline", "-f", big],
            "larger than 4 MiB, not a values file",
        ),
        (
            &["serve", b, "--port", "0", "--script", "/dev/zero"],
            "larger than 1 MiB, not a serve script",
        ),
    ];
    for (args, want) in cases {
        let (out, took) = bounded(args, Duration::from_secs(20));
        assert_usage_error(&out, want);
        assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
    }
    let (out, _) = bounded_stdin(
        &["preflight", "--offline", "-f", "-"],
        Duration::from_secs(20),
        Some(b"db:\n  host: \xff\xfe\n"),
    );
    assert_usage_error(&out, "-: not UTF-8 text");
}

#[test]
fn error_lines_are_one_short_line_with_control_characters_escaped() {
    let ok = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ok.path(), "db:\n  host: db.example.com\n").unwrap();
    let f = ok.path().to_str().unwrap();
    let long = format!("db.host={}", "{".repeat(100_000));
    let (out, _) = bounded(
        &["preflight", "--offline", "-f", f, "--set", &long],
        Duration::from_secs(20),
    );
    assert_usage_error(&out, "--set db.host={{{");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.len() < 400, "{} bytes: {err:.400}", err.len());
    let (out, _) = bounded(
        &[
            "preflight",
            "--offline",
            "-f",
            f,
            "--set",
            "db.\u{1b}[2J\nx",
        ],
        Duration::from_secs(20),
    );
    assert_usage_error(&out, "--set db.^[[2J^Jx");
    assert!(!out.stderr.contains(&0x1b), "{}", show(&out));
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

/// A pods List of `n` tiny pods in namespace `ns`, as one JSON file.
fn tiny_pods(n: usize, ns: &str) -> String {
    let mut s = String::with_capacity(n * 64 + 64);
    s.push_str("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"metadata\":{{\"name\":\"p{i}\",\"namespace\":\"{ns}\"}}}}"
        ));
    }
    s.push_str("]}");
    s
}

/// `dir` packed as `<dir>.tar.gz` with the system tar (gzip -1).
fn tar_gz(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.with_extension("tar.gz");
    let st = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(dir)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    out
}

fn json_report(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", show(out)))
}

fn skipped_text(v: &serde_json::Value) -> String {
    serde_json::to_string(&v["skipped"]).unwrap()
}

#[test]
fn million_tiny_pods_are_bounded_with_doc001_not_an_abort() {
    // In Smart Check's own namespace, after its real pods: read up to the kept cap.
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("bomb");
    copy_tree(&testdata("auth001"), &d);
    let pods = d.join("cluster-resources/pods/trendmicro.json");
    let real: serde_json::Value = serde_json::from_slice(&std::fs::read(&pods).unwrap()).unwrap();
    let real = serde_json::to_string(&real["items"]).unwrap();
    let bomb = tiny_pods(1_000_000, "trendmicro");
    let joined = bomb.replacen(
        "\"items\":[",
        &format!("\"items\":{},", &real[..real.len() - 1]),
        1,
    );
    std::fs::write(&pods, joined).unwrap();
    let tgz = tar_gz(&d);
    let (out, _) = bounded(
        &["analyze", tgz.to_str().unwrap(), "-o", "json"],
        Duration::from_secs(120),
    );
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let v = json_report(&out);
    let ids = crate::support::report::ids(&v);
    assert!(ids.contains(&"AUTH001".to_string()), "{ids:?}");
    assert!(ids.contains(&"DOC001".to_string()), "{ids:?}");
    let sk = skipped_text(&v);
    assert!(
        sk.contains("pods/trendmicro.json") && sk.contains("kept per kind"),
        "{sk}"
    );
}

#[test]
fn an_unrelated_namespace_is_not_read_and_the_report_says_so() {
    // A million pods in another namespace: not read at all (Smart Check's namespace is
    // found by its db-init pods), so no budget is reached; the report names the scope.
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("bomb");
    copy_tree(&testdata("auth001"), &d);
    std::fs::write(
        d.join("cluster-resources/pods/bomb.json"),
        tiny_pods(1_000_000, "bomb"),
    )
    .unwrap();
    std::fs::write(
        d.join("cluster-resources/events/bomb.json"),
        "{\"items\":[{\"metadata\":{\"name\":\"e\",\"namespace\":\"bomb\"},\"reason\":\"FailedMount\",\"type\":\"Warning\",\"message\":\"MountVolume.SetUp failed for volume \\\"x\\\" : configmap \\\"x\\\" not found\",\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p1\",\"namespace\":\"bomb\"}}]}",
    )
    .unwrap();
    let tgz = tar_gz(&d);
    for input in [tgz.as_path(), d.as_path()] {
        let (out, _) = bounded(
            &["analyze", input.to_str().unwrap(), "-o", "json"],
            Duration::from_secs(120),
        );
        assert_eq!(out.status.code(), Some(3), "{}", show(&out));
        let v = json_report(&out);
        let ids = crate::support::report::ids(&v);
        assert_eq!(ids, ["AUTH001"], "{}", show(&out));
        let scope = &v["source"]["scope"];
        assert_eq!(
            scope["namespaces"],
            serde_json::json!(["trendmicro"]),
            "{scope}"
        );
        assert_eq!(scope["otherNamespaces"], 1, "{scope}");
        assert!(v["pods"].as_array().unwrap().len() < 20, "{}", v["pods"]);
    }
    // -n names the namespace to read; one the bundle does not hold is an error.
    let (out, _) = bounded(
        &["analyze", tgz.to_str().unwrap(), "-n", "bomb", "-o", "json"],
        Duration::from_secs(120),
    );
    let v = json_report(&out);
    assert!(
        crate::support::report::ids(&v).contains(&"DOC001".to_string()),
        "{}",
        show(&out)
    );
    let (out, _) = bounded(
        &["analyze", tgz.to_str().unwrap(), "-n", "nosuch"],
        Duration::from_secs(120),
    );
    assert_usage_error(
        &out,
        "-n nosuch: the bundle holds no namespace nosuch (it holds bomb,",
    );
}

#[test]
fn entry_over_the_file_limit_is_skipped_by_name_and_the_rest_analysed() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("big");
    copy_tree(&testdata("auth001"), &d);
    // In Smart Check's namespace (another namespace's file would not be read at all).
    std::fs::create_dir_all(d.join("cluster-resources/endpoints")).unwrap();
    std::fs::write(
        d.join("cluster-resources/endpoints/trendmicro.json"),
        tiny_pods(400_000, "trendmicro"),
    )
    .unwrap();
    let tgz = tar_gz(&d);
    for input in [d.as_path(), tgz.as_path()] {
        let (out, took) = bounded(
            &[
                "analyze",
                input.to_str().unwrap(),
                "-o",
                "json",
                "--max-input-size",
                "64MiB",
            ],
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(3), "{}", show(&out));
        let v = json_report(&out);
        let ids = crate::support::report::ids(&v);
        assert!(ids.contains(&"AUTH001".to_string()), "{ids:?}");
        let sk = skipped_text(&v);
        assert!(
            sk.contains("cluster-resources/endpoints/trendmicro.json")
                && sk.contains("over the per-file limit of 4 MiB"),
            "{sk}"
        );
        assert!(took < Duration::from_secs(30), "{took:?}");
    }
    // Cut inside the big entry: a corrupt archive (exit 2), not an internal failure.
    let bytes = std::fs::read(&tgz).unwrap();
    let cut = t.path().join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let (out, _) = bounded(&["analyze", cut.to_str().unwrap()], Duration::from_secs(60));
    assert_usage_error(&out, "truncated or corrupt archive");
}

#[test]
fn log_and_stdin_stop_at_the_input_budget() {
    let (out, took) = bounded(
        &["analyze", "/dev/zero", "--max-input-size", "1MiB"],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(took < Duration::from_secs(20), "{took:?}");
    let line = "{\"component\":\"db-init\",\"message\":\"ok\"} some ordinary log text\n";
    let big = line.repeat((3 << 20) / line.len());
    let (out, _) = bounded_stdin(
        &["analyze", "-", "-o", "json", "--max-input-size", "1MiB"],
        Duration::from_secs(30),
        Some(big.as_bytes()),
    );
    let v = json_report(&out);
    assert!(
        skipped_text(&v).contains("input limit of 1 MiB"),
        "{}",
        show(&out)
    );
}

/// A tar entry with a raw name (no path checks), as a hostile packer writes it.
fn raw_entry(b: &mut tar::Builder<impl Write>, name: &str, kind: tar::EntryType, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    let gnu = h.as_gnu_mut().unwrap();
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    if !kind.is_file() {
        h.set_link_name("/etc/passwd").unwrap();
    }
    h.set_cksum();
    b.append(&h, data).unwrap();
}

#[test]
fn tar_with_dotdot_absolute_link_and_duplicate_entries_counts_each_pod_once() {
    let src = testdata("auth001");
    let t = tempfile::tempdir().unwrap();
    let out_path = t.path().join("dup.tar.gz");
    let f = std::fs::File::create(&out_path).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    b.append_dir_all(".", &src).unwrap();
    let pods = std::fs::read(src.join("cluster-resources/pods/trendmicro.json")).unwrap();
    for name in [
        "./cluster-resources/pods/trendmicro.json",
        "../../cluster-resources/pods/trendmicro.json",
        "/abs/cluster-resources/pods/trendmicro.json",
        "x/cluster-resources/pods/../pods/trendmicro.json",
    ] {
        raw_entry(&mut b, name, tar::EntryType::Regular, &pods);
    }
    raw_entry(
        &mut b,
        "cluster-resources/pods/link.json",
        tar::EntryType::Symlink,
        b"",
    );
    raw_entry(
        &mut b,
        "cluster-resources/pods/hard.json",
        tar::EntryType::Link,
        b"",
    );
    b.into_inner().unwrap().finish().unwrap();
    let (out, _) = bounded(
        &["analyze", out_path.to_str().unwrap(), "-o", "json"],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let v = json_report(&out);
    assert_eq!(v["pods"].as_array().unwrap().len(), 7, "{}", v["pods"]);
    assert!(
        skipped_text(&v).contains("second copy"),
        "{}",
        skipped_text(&v)
    );
}

#[test]
fn serve_kubeconfig_is_0600_in_a_fresh_dir_and_removed_on_sigterm() {
    use std::io::BufRead;
    use std::os::unix::fs::PermissionsExt;
    let bundle = testdata("auth001");
    let mut child = Command::new(BIN)
        .args(["serve", bundle.to_str().unwrap(), "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(p) = line.strip_prefix("kubeconfig: ") {
                let _ = tx.send(std::path::PathBuf::from(p.trim()));
            }
        }
    });
    let path = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("no kubeconfig line");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let dir = path.parent().unwrap();
    let dmode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(dmode, 0o700, "{}", dir.display());
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("dssc-doctor-serve-"), "{name}");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "serve ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert!(
        !path.exists() && !dir.exists(),
        "{} left behind",
        path.display()
    );
}

#[test]
fn serve_masks_last_applied_annotations_of_every_kind() {
    let Some(kubectl) = crate::support::ci::kubectl() else {
        return;
    };
    let secret = format!("S3cret-{}", std::process::id());
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("b");
    copy_tree(&testdata("auth001"), &d);
    let applied = format!(
        "{{\"kind\":\"Deployment\",\"spec\":{{\"template\":{{\"spec\":{{\"containers\":[{{\"env\":[{{\"name\":\"DB_PASSWORD\",\"value\":\"{secret}\"}}]}}]}}}}}}}}"
    );
    let list = serde_json::json!({"kind": "List", "apiVersion": "v1", "items": [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "leaky", "namespace": "trendmicro",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}},
        "data": {"x": "y"}}]});
    std::fs::write(
        d.join("cluster-resources/configmaps/trendmicro.json"),
        serde_json::to_vec(&list).unwrap(),
    )
    .unwrap();
    let served = crate::support::cli::serve_bin(d.to_str().unwrap(), &[]);
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(&served.kubeconfig)
        .args([
            "get",
            "configmap",
            "leaky",
            "-n",
            "trendmicro",
            "-o",
            "yaml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(!yaml.contains(&secret), "{yaml}");
    assert!(yaml.contains("HIDDEN"), "{yaml}");
}

fn auth001_evidence() -> dssc_doctor::model::evidence::Evidence {
    let cat = dssc_doctor::catalogue::Catalogue::builtin().unwrap();
    let scanner = dssc_doctor::analysis::scan::Scanner::new(&cat);
    let p = testdata("auth001");
    let kind = dssc_doctor::sources::classify(&p).unwrap();
    dssc_doctor::sources::load(&p, &kind, &cat, &scanner, true).unwrap()
}

#[test]
fn bundle_dir_refuses_non_empty_and_symlinked_targets_and_never_follows_links() {
    let ev = auth001_evidence();
    let t = tempfile::tempdir().unwrap();
    let victim = t.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("file"), "untouched").unwrap();
    // A non-empty directory holding links into the victim.
    let full = t.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::os::unix::fs::symlink(victim.join("file"), full.join("analysis.json")).unwrap();
    std::os::unix::fs::symlink(&victim, full.join("dssc")).unwrap();
    let err = dssc_doctor::sources::write(&ev, "{}", &full).unwrap_err();
    assert!(err.to_string().contains("not an empty directory"), "{err}");
    // The target itself a symlink to an (empty) directory.
    let empty_victim = t.path().join("empty-victim");
    std::fs::create_dir(&empty_victim).unwrap();
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&empty_victim, &link).unwrap();
    let err = dssc_doctor::sources::write(&ev, "{}", &link).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(&empty_victim).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_to_string(victim.join("file")).unwrap(),
        "untouched"
    );
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1);
    // An empty directory is written, and loads.
    let fresh = t.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    dssc_doctor::sources::write(&ev, "{}", &fresh).unwrap();
    assert!(fresh.join("cluster-resources").is_dir());
    let (out, _) = bounded(
        &["analyze", fresh.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    // A tarball: a planted .partial link is never written through.
    let tgz = t.path().join("out.tar.gz");
    std::os::unix::fs::symlink(victim.join("file"), t.path().join("out.tar.gz.partial")).unwrap();
    dssc_doctor::sources::write(&ev, "{}", &tgz).unwrap();
    assert_eq!(
        std::fs::read_to_string(victim.join("file")).unwrap(),
        "untouched"
    );
    assert!(!std::fs::symlink_metadata(&tgz)
        .unwrap()
        .file_type()
        .is_symlink());
}

/// Random and truncated bytes, deep nesting, NUL and invalid UTF-8 through the library
/// entry points: each is read or refused, never a panic.
mod generated {
    use std::io::Write as _;

    use dssc_doctor::analysis::scan::Scanner;
    use dssc_doctor::catalogue::Catalogue;
    use dssc_doctor::sources::{limits::Limits, logfile};
    use proptest::prelude::*;

    fn read(bytes: &[u8], as_pods: bool) {
        let cat = Catalogue::builtin().unwrap();
        let scanner = Scanner::new(&cat);
        let t = tempfile::tempdir().unwrap();
        let p = if as_pods {
            let d = t.path().join("cluster-resources/pods");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("ns.json"), bytes).unwrap();
            t.path().to_path_buf()
        } else {
            let p = t.path().join("input");
            std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
            p
        };
        let limits = Limits::with_total(8 << 20);
        let _ = logfile::read_input_within(&p, None, &cat, &scanner, &limits, &Default::default());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_as_a_log_or_a_pods_file(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            read(&bytes, false);
            read(&bytes, true);
        }

        #[test]
        fn truncated_lists(n in 0usize..2000) {
            let list = br#"{"kind":"List","items":[{"metadata":{"name":"a","namespace":"x"},"spec":{"initContainers":[{"name":"db-init"}]}},{"metadata":{"name":"b"}}]}"#;
            let cut = &list[..n.min(list.len())];
            read(cut, true);
        }

        #[test]
        fn set_strings_never_panic(s in "[a-z.\\[\\]{}=,\\\\0-9]{0,200}") {
            let _ = dssc_doctor::settings::parse_set(&s);
        }

        #[test]
        fn selectors_never_panic(s in "[a-z0-9=!,()\\- ]{0,120}") {
            let _ = dssc_doctor::serve::LabelSelector::parse(&s);
            let _ = dssc_doctor::serve::FieldSelector::parse(&s);
        }
    }

    #[test]
    fn deep_nesting_nul_and_invalid_utf8() {
        read(&"[".repeat(200_000).into_bytes(), true);
        read(&"{\"items\":".repeat(100_000).into_bytes(), true);
        read(
            b"{\"items\":[{\"metadata\":{\"name\":\"a\0b\"}}]}\0\0",
            true,
        );
        read(&[0xff, 0xfe, b'{', 0xc3, 0x28, b'}'], true);
        read(&[0xc3, 0x28, b'\n', 0], false);
    }

    #[test]
    fn helm_release_decoding_to_hundreds_of_megabytes_is_bounded() {
        use base64::Engine as _;
        use k8s_openapi::api::core::v1::Secret;
        use k8s_openapi::ByteString;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let chunk = vec![b' '; 1 << 20];
        gz.write_all(b"{\"name\":\"x\",\"config\":\"").unwrap();
        for _ in 0..200 {
            gz.write_all(&chunk).unwrap();
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let mut s = Secret::default();
        s.metadata.name = Some("sh.helm.release.v1.dssc.v1".into());
        s.data = Some([("release".to_string(), ByteString(b64.into_bytes()))].into());
        let t = std::time::Instant::now();
        let r = dssc_doctor::settings::helm::decode_release(&s);
        assert!(r.is_err(), "a cut release cannot be JSON");
        assert!(t.elapsed() < std::time::Duration::from_secs(30));
    }

    #[test]
    fn malformed_pem_and_certificates_are_findings_or_errors() {
        let t = tempfile::tempdir().unwrap();
        let cases: [(&str, Vec<u8>); 4] = [
            ("truncated", b"-----BEGIN CERTIFICATE-----\nMIIB".to_vec()),
            (
                "random",
                (0..2048u32).map(|i| (i * 7919 % 251) as u8).collect(),
            ),
            (
                "bad-der",
                b"-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n"
                    .to_vec(),
            ),
            (
                "huge",
                [
                    b"-----BEGIN CERTIFICATE-----\n".to_vec(),
                    vec![b'A'; 8 << 20],
                    b"\n-----END CERTIFICATE-----\n".to_vec(),
                ]
                .concat(),
            ),
        ];
        for (name, pem) in cases {
            let f = t.path().join(name);
            std::fs::write(&f, pem).unwrap();
            let (out, _) = super::bounded(
                &[
                    "probe",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &super::closed_port().to_string(),
                    "--ca-file",
                    f.to_str().unwrap(),
                    "--connect-timeout",
                    "1s",
                    "--samples",
                    "0",
                ],
                std::time::Duration::from_secs(30),
            );
            assert!(
                matches!(out.status.code(), Some(0 | 2 | 3 | 4)),
                "{name}: {}",
                super::show(&out)
            );
        }
    }
}

fn closed_port() -> u16 {
    crate::support::delay::closed_port()
}
