//! Peak memory and wall time of `analyze` on huge and hostile bundles, each printed
//! next to the same run's input sizes (issue 11 targets: a 1 GB bundle of many
//! namespaces within 256 MB RSS; a tiny-pod bomb ending in seconds with DOC001; an
//! 80 MB pod list of an unrelated namespace within 2x its size).
//!
//! The inputs are generated into a temporary directory at bench time and deleted after
//! (several GB of disk while it runs). Run: cargo bench --bench bundles
//! (DSSC_BENCH_ONLY=unrelated,bomb,bomb-own,many picks rows.) Each input is run twice:
//! as given (Smart Check's namespace found by a first pass) and with `-n trendmicro`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A ~4.1 KB pod as kubectl writes it (compact), name and namespace to fill in.
const POD: &str = include_str!("ordinary_pod.json");

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-dssc_doctor"))
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/bundles")
        .join(name)
}

fn copy_tree(from: &Path, to: &Path) {
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

/// Writes a pods List of `n` pods made by `pod(i)` to `path`.
fn write_list(path: &Path, n: usize, pod: impl Fn(usize) -> String) {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    w.write_all(b"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n")
        .unwrap();
    for i in 0..n {
        if i > 0 {
            w.write_all(b",\n").unwrap();
        }
        w.write_all(pod(i).as_bytes()).unwrap();
    }
    w.write_all(b"\n]}\n").unwrap();
    w.flush().unwrap();
}

fn ordinary(i: usize, ns: &str) -> String {
    POD.replace("web-00000-00000000", &format!("web-{:05}-{i:08x}", i / 10))
        .replace("NSX", ns)
}

fn tiny(i: usize, ns: &str) -> String {
    format!("{{\"metadata\":{{\"name\":\"p{i}\",\"namespace\":\"{ns}\"}}}}")
}

/// The AUTH001 install plus `extra(dir)`, packed as `<name>.tar.gz` (gzip -1); the
/// unpacked tree is removed. Returns (archive, unpacked bytes, archive bytes).
fn bundle(tmp: &Path, name: &str, extra: impl Fn(&Path)) -> (PathBuf, u64, u64) {
    let d = tmp.join(name);
    copy_tree(&testdata("auth001"), &d);
    extra(&d);
    let unpacked = du(&d);
    let out = tmp.join(format!("{name}.tar.gz"));
    let st = Command::new("tar")
        .args(["-I", "gzip -1", "-cf"])
        .arg(&out)
        .arg("-C")
        .arg(&d)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_dir_all(&d).unwrap();
    let packed = std::fs::metadata(&out).unwrap().len();
    (out, unpacked, packed)
}

fn du(d: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(d).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        n += if m.is_dir() { du(&e.path()) } else { m.len() };
    }
    n
}

/// Runs the binary; returns (exit code, peak RSS in bytes, wall time, DOC001 present).
/// The child is reaped by `wait4`, which also gives its peak RSS.
#[allow(clippy::zombie_processes)]
fn measure(args: &[&str]) -> (Option<i32>, u64, Duration, bool) {
    let t = Instant::now();
    let child = Command::new(bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut out).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let doc001 = String::from_utf8_lossy(&out).contains("\"DOC001\"");
    (code, ru.ru_maxrss as u64 * 1024, t.elapsed(), doc001)
}

fn mb(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

/// What a row adds to the base install.
type Extra = Box<dyn Fn(&Path)>;

fn main() {
    let only = std::env::var("DSSC_BENCH_ONLY").unwrap_or_default();
    let want = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
    let tmp = tempfile::Builder::new()
        .prefix("dssc-bench-bundles-")
        .tempdir()
        .unwrap();
    println!(
        "{:<42} {:>10} {:>10} {:>10} {:>7} {:>4} {:>6} | {:>10} {:>7} {:>4}",
        "input",
        "unpacked",
        "archive",
        "peak RSS",
        "wall",
        "exit",
        "DOC001",
        "-n: RSS",
        "wall",
        "exit"
    );
    let mut rows: Vec<(&str, Extra)> = Vec::new();
    if want("unrelated") {
        rows.push((
            "unrelated (20,000 pods, 1 ns)",
            Box::new(|d: &Path| {
                write_list(
                    &d.join("cluster-resources/pods/apps-prod.json"),
                    20_000,
                    |i| ordinary(i, "apps-prod"),
                )
            }),
        ));
    }
    if want("bomb") {
        rows.push((
            "bomb (6 M tiny pods)",
            Box::new(|d: &Path| {
                write_list(
                    &d.join("cluster-resources/pods/bomb.json"),
                    6_000_000,
                    |i| tiny(i, "bomb"),
                )
            }),
        ));
    }
    if want("bomb-own") {
        rows.push((
            "bomb-own (3 M tiny pods, Smart Check's ns)",
            Box::new(|d: &Path| {
                let f = d.join("cluster-resources/pods/trendmicro.json");
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
                let real: Vec<String> = v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.to_string())
                    .collect();
                write_list(&f, real.len() + 3_000_000, |i| match real.get(i) {
                    Some(p) => p.clone(),
                    None => tiny(i, "trendmicro"),
                })
            }),
        ));
    }
    if want("many") {
        rows.push((
            "many (50 ns x 5,000 pods)",
            Box::new(|d: &Path| {
                for n in 0..50 {
                    let ns = format!("apps-{n:02}");
                    write_list(
                        &d.join(format!("cluster-resources/pods/{ns}.json")),
                        5_000,
                        |i| ordinary(i, &ns),
                    );
                }
            }),
        ));
    }
    for (i, (label, extra)) in rows.iter().enumerate() {
        let (tgz, unpacked, packed) = bundle(tmp.path(), &format!("b{i}"), extra);
        let t = tgz.to_str().unwrap();
        let (code, rss, wall, doc001) = measure(&["analyze", t, "-o", "json"]);
        // With -n the namespace is known: no first pass over the pods files.
        let (ncode, nrss, nwall, _) = measure(&["analyze", t, "-n", "trendmicro", "-o", "json"]);
        let exit = |c: Option<i32>| c.map_or("sig".into(), |c| c.to_string());
        println!(
            "{:<42} {:>10} {:>10} {:>10} {:>6.1}s {:>4} {:>6} | {:>10} {:>6.1}s {:>4}",
            label,
            mb(unpacked),
            mb(packed),
            mb(rss),
            wall.as_secs_f64(),
            exit(code),
            if doc001 { "yes" } else { "no" },
            mb(nrss),
            nwall.as_secs_f64(),
            exit(ncode)
        );
        std::fs::remove_file(&tgz).unwrap();
    }
}
