//! Log-scan throughput: the full catalogue over two generated corpora of container log
//! lines, a sparse one (a few planted errors in 256 MB) and a dense one (300 MB in which
//! every third line is a db-init error that differs only by its timestamp, as a stuck
//! db-init logs), each compared in the same run with `grep -E -c -f` over the same
//! patterns and with the naive approach (every rule's regex on every line). Each corpus
//! lives in a temp dir, deleted before the next is written.
//!
//! Run: cargo bench --bench scan   (DSSC_BENCH_MB / DSSC_BENCH_DENSE_MB for other sizes)

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use dssc_doctor::analysis::scan::Scanner;
use dssc_doctor::catalogue::{Catalogue, Source};

fn main() {
    let mb: usize = std::env::var("DSSC_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let dense_mb: usize = std::env::var("DSSC_BENCH_DENSE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let cat = Catalogue::builtin().expect("catalogue");
    let scanner = Scanner::new(&cat);
    println!("patterns: {}", scanner.pattern_count());
    // One corpus at a time, deleted before the next (the disk is shared).
    for (name, size, dense) in [("sparse", mb, false), ("dense", dense_mb, true)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let corpus = dir.path().join("corpus.log");
        let (lines, planted) = generate(&corpus, size << 20, dense);
        println!();
        run(name, &cat, &scanner, dir.path(), &corpus, lines, planted);
    }
}

/// Benchmarks one corpus: dssc-doctor, grep -E -c -f and the naive scan.
fn run(
    name: &str,
    cat: &Catalogue,
    scanner: &Scanner,
    dir: &std::path::Path,
    corpus: &std::path::Path,
    lines: u64,
    planted: u64,
) {
    let size = std::fs::metadata(corpus).expect("corpus").len() as f64 / 1e6;
    println!("{name} corpus: {size:.0} MB, {lines} lines, {planted} planted error lines");

    // dssc-doctor: best of 3.
    let mut best = f64::MAX;
    let mut hits = 0;
    for _ in 0..3 {
        let f = std::fs::File::open(corpus).expect("open");
        let t = Instant::now();
        let r = scanner.scan(cat, f, Some("db-init")).expect("scan");
        best = best.min(t.elapsed().as_secs_f64());
        hits = r.hits.iter().map(|h| h.count).sum::<u64>();
        assert_eq!(r.lines, lines);
    }
    let rss = peak_rss_kb();
    println!(
        "{name} dssc-doctor scan: {:.2} s, {:.0} MB/s, {hits} matching lines, peak RSS {:.1} MB",
        best,
        size / best,
        rss as f64 / 1024.0
    );

    // grep -E -c -f over the same patterns, translated to POSIX ERE.
    let pats = dir.join("patterns.ere");
    let ere: Vec<String> = cat
        .rules
        .iter()
        .flat_map(|r| r.matchers.iter())
        .filter(|m| m.source == Source::Log)
        .map(|m| to_ere(m.regex.as_str()))
        .collect();
    std::fs::write(&pats, ere.join("\n") + "\n").expect("patterns");
    let mut gbest = f64::MAX;
    let mut gcount = String::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = std::process::Command::new("grep")
            .args(["-E", "-c", "-f"])
            .arg(&pats)
            .arg(corpus)
            .env("LC_ALL", "C")
            .output()
            .expect("run grep");
        gbest = gbest.min(t.elapsed().as_secs_f64());
        gcount = String::from_utf8_lossy(&out.stdout).trim().to_string();
    }
    let grss = children_peak_rss_kb();
    println!(
        "{name} grep -E -c -f:     {:.2} s, {:.0} MB/s, {gcount} matching lines, peak RSS {:.1} MB (LC_ALL=C)",
        gbest,
        size / gbest,
        grss as f64 / 1024.0
    );

    // Naive: each rule regex on each line (what the RegexSet prefilter avoids).
    let regexes: Vec<regex::Regex> = cat
        .rules
        .iter()
        .flat_map(|r| r.matchers.iter())
        .filter(|m| m.source == Source::Log)
        .map(|m| m.regex.clone())
        .collect();
    let t = Instant::now();
    let mut naive_hits = 0u64;
    let mut line = String::new();
    let mut rd = BufReader::new(std::fs::File::open(corpus).expect("open"));
    while rd.read_line(&mut line).expect("read") > 0 {
        if regexes.iter().any(|r| r.is_match(&line)) {
            naive_hits += 1;
        }
        line.clear();
    }
    let naive = t.elapsed().as_secs_f64();
    println!(
        "{name} naive per-line:    {:.2} s, {:.0} MB/s, {naive_hits} matching lines",
        naive,
        size / naive
    );
    println!(
        "{name} ratio: dssc-doctor is {:.1}x grep -E -c -f and {:.1}x the naive scan",
        gbest / best,
        naive / best
    );
}

/// Writes a realistic mix of Smart Check container logs: JSON audit/info lines,
/// plain lines, and a few planted db-init errors (some with JSON escapes). `dense`:
/// every third line is a db-init error, the same on every retry but for its
/// timestamp (what a stuck db-init logs).
fn generate(path: &std::path::Path, bytes: usize, dense: bool) -> (u64, u64) {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let planted_lines = [
        r#"{"component":"db-init","error":"dial tcp 192.168.19.226:5432: i/o timeout","message":"could not get database connection","severity":"info","timestamp":"2019-06-17T15:48:20Z"}"#,
        r#"{"component":"db-init","error":"x509: certificate signed by unknown authority (possibly because of \"crypto/rsa: verification error\" while trying to verify candidate authority certificate \"database.example.com\")","message":"could not get database connection","severity":"info","timestamp":"2019-06-22T15:33:25Z"}"#,
        r#"Error: could not set up database: database not available: could not get database connection: pq: password authentication failed for user "postgres""#,
    ];
    let (mut written, mut lines, mut planted) = (0usize, 0u64, 0u64);
    while written < bytes {
        let r = next();
        if dense && lines % 3 == 2 {
            let line = format!(
                r#"{{"component":"db-init","error":"dial tcp 192.168.19.226:5432: i/o timeout","message":"could not get database connection","severity":"info","timestamp":"2026-11-23T{:02}:{:02}:{:02}Z"}}"#,
                lines / 3600 % 24,
                lines / 60 % 60,
                lines % 60
            );
            planted += 1;
            w.write_all(line.as_bytes()).expect("write");
            w.write_all(b"\n").expect("write");
            written += line.len() + 1;
            lines += 1;
            continue;
        }
        let line = match r % 10_000 {
            0 => {
                planted += 1;
                planted_lines[(r / 10_000 % 3) as usize].to_string()
            }
            1..=6999 => format!(
                r#"{{"component":"scan","message":"processed layer sha256:{:016x}{:016x} of image registry.example.com/team/app:{}","severity":"info","timestamp":"2026-11-23T02:{:02}:{:02}Z","took_ms":{}}}"#,
                next(),
                next(),
                r % 997,
                r % 60,
                (r >> 8) % 60,
                r % 5000
            ),
            7000..=8999 => format!(
                "2026-11-23T02:{:02}:{:02}.{:06}Z INFO  http request method=GET path=/api/scans/{:x} status=200 bytes={} remote=10.{}.{}.{}:{}",
                r % 60,
                (r >> 6) % 60,
                r % 1_000_000,
                next(),
                r % 100_000,
                r % 256,
                (r >> 8) % 256,
                (r >> 16) % 256,
                r % 65535
            ),
            _ => format!(
                r#"{{"component":"registryviews","message":"connection pool stats","severity":"debug","open":{},"idle":{},"wait_ms":{}}}"#,
                r % 25,
                (r >> 5) % 25,
                r % 100
            ),
        };
        w.write_all(line.as_bytes()).expect("write");
        w.write_all(b"\n").expect("write");
        written += line.len() + 1;
        lines += 1;
    }
    w.flush().expect("flush");
    (lines, planted)
}

/// Rust regex syntax to POSIX ERE, close enough for the catalogue's patterns.
fn to_ere(p: &str) -> String {
    p.replace("(?:", "(")
        .replace("\\d", "[0-9]")
        .replace("\\s", "[[:space:]]")
        .replace("\\S", "[^[:space:]]")
        .replace("\\w", "[[:alnum:]_]")
        .replace("\\b", "")
        .replace("+?", "+")
        .replace("*?", "*")
        .split("(?P<")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                let rest = part.split_once('>').map(|(_, r)| r).unwrap_or(part);
                format!("({rest}")
            }
        })
        .collect()
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn children_peak_rss_kb() -> u64 {
    // SAFETY: getrusage only writes into the struct we pass.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) == 0 {
            ru.ru_maxrss as u64
        } else {
            0
        }
    }
}
