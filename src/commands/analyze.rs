//! `kubectl dssc-doctor analyze PATH…`: bundles, log files or stdin, diagnosed offline.
//! Several paths are analysed in parallel (at most `--jobs`, default the CPUs), each
//! report printed in the order given, then a summary table (bundle, namespace, release,
//! top finding, errors, warnings); `-o json` prints one compact report per line (JSON
//! Lines; an unreadable path is `{"origin": PATH, "error": …}`). The exit status is the
//! worst of them: 1 (internal) over 2 (unreadable) over 3 (errors) over 4 (warnings)
//! over 0.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::analysis::{self, scan::Scanner};
use crate::catalogue::Catalogue;
use crate::cli::{AnalyzeArgs, Global};
use crate::model::error::{input_err, InputError};
use crate::model::evidence::Evidence;
use crate::report::{Format, Report};
use crate::sources;

pub fn run(g: &Global, a: &AnalyzeArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let scanner = Scanner::new(cat);
    if let [path] = a.paths.as_slice() {
        let ev = input(g, path, a.container.as_deref(), cat, &scanner)?;
        let report = analysis::build_report(cat, &ev);
        super::emit(&report.render(g.format()))?;
        return Ok(report.exit_code());
    }
    let format = g.format();
    if matches!(format, Format::Junit | Format::OpenMetrics) {
        return input_err(
            "-o junit and -o openmetrics take one PATH; use text, json or markdown for several",
        );
    }
    let jobs = a
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let results = analyse_all(g, a, cat, &scanner, jobs);
    let mut out = String::new();
    let mut rows = Vec::new();
    let mut worst = 0;
    for (path, res) in a.paths.iter().zip(&results) {
        let (code, row) = match res {
            Ok(report) => {
                match format {
                    Format::Json => {
                        out.push_str(&serde_json::to_string(report).unwrap_or_default());
                        out.push('\n');
                    }
                    _ => {
                        out.push_str(&header(path, format));
                        out.push_str(&report.render(format));
                        out.push('\n');
                    }
                }
                (report.exit_code(), Row::of(path, report))
            }
            Err(e) => {
                let msg = format!("{e:#}");
                eprintln!("error: {msg}");
                if format == Format::Json {
                    let line =
                        serde_json::json!({"origin": path.display().to_string(), "error": msg});
                    out.push_str(&line.to_string());
                    out.push('\n');
                }
                let code = if e.downcast_ref::<InputError>().is_some() {
                    2
                } else {
                    1
                };
                (code, Row::unreadable(path))
            }
        };
        worst = worse(worst, code);
        rows.push(row);
    }
    if format != Format::Json {
        out.push_str(&summary(&rows, format));
    }
    super::emit(&out)?;
    Ok(worst)
}

/// Every path analysed by `jobs` threads; results in the order of the paths.
fn analyse_all(
    g: &Global,
    a: &AnalyzeArgs,
    cat: &Catalogue,
    scanner: &Scanner,
    jobs: usize,
) -> Vec<anyhow::Result<Report>> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<anyhow::Result<Report>>>> =
        a.paths.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, a.paths.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = a.paths.get(i) else { break };
                let r = input(g, path, a.container.as_deref(), cat, scanner)
                    .map(|ev| analysis::build_report(cat, &ev));
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| Err(anyhow::anyhow!("not analysed")))
        })
        .collect()
}

/// The worse of two exit codes: 1 > 2 > 3 > 4 > 0.
fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        0 => 0,
        4 => 1,
        3 => 2,
        2 => 3,
        _ => 4,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// One line of the summary table.
struct Row {
    bundle: String,
    namespace: String,
    release: String,
    top: String,
    errors: String,
    warnings: String,
}

impl Row {
    fn of(path: &Path, r: &Report) -> Row {
        Row {
            bundle: path.display().to_string(),
            namespace: r.source.namespace.clone().unwrap_or_else(|| "-".into()),
            release: r.source.release.clone().unwrap_or_else(|| "-".into()),
            top: r
                .findings
                .first()
                .map(|f| {
                    let title: String = f.title.chars().take(60).collect();
                    let more = if title.len() < f.title.len() {
                        "…"
                    } else {
                        ""
                    };
                    format!("{} {title}{more}", f.id)
                })
                .unwrap_or_else(|| "-".into()),
            errors: r.summary.errors.to_string(),
            warnings: r.summary.warnings.to_string(),
        }
    }

    fn unreadable(path: &Path) -> Row {
        Row {
            bundle: path.display().to_string(),
            namespace: "-".into(),
            release: "-".into(),
            top: "(unreadable, see the error above)".into(),
            errors: "-".into(),
            warnings: "-".into(),
        }
    }

    fn cells(&self) -> [&str; 6] {
        [
            &self.bundle,
            &self.namespace,
            &self.release,
            &self.top,
            &self.errors,
            &self.warnings,
        ]
    }
}

const COLUMNS: [&str; 6] = [
    "BUNDLE",
    "NAMESPACE",
    "RELEASE",
    "TOP FINDING",
    "ERRORS",
    "WARNINGS",
];

/// What precedes each report.
fn header(path: &Path, format: Format) -> String {
    match format {
        Format::Markdown => format!("# {}\n\n", path.display()),
        _ => format!("==> {} <==\n", path.display()),
    }
}

/// The table across bundles: aligned columns, or a Markdown table.
fn summary(rows: &[Row], format: Format) -> String {
    let sanitize = |s: &str| s.replace(['|', '\n'], " ");
    if format == Format::Markdown {
        let mut s = format!(
            "# Summary\n\n| {} |\n|{}\n",
            COLUMNS.join(" | "),
            "---|".repeat(6)
        );
        for r in rows {
            let cells: Vec<String> = r.cells().iter().map(|c| sanitize(c)).collect();
            s.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        return s;
    }
    let mut widths = COLUMNS.map(str::len);
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r.cells()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  "));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut s = format!("Summary of {} bundles\n", rows.len());
    s.push_str(&line(COLUMNS));
    for r in rows {
        s.push_str(&line(r.cells()));
    }
    s
}

/// Reads whatever `analyze` was given into evidence, limited to `-n` and with `--release`.
pub fn input(
    g: &Global,
    path: &Path,
    container: Option<&str>,
    cat: &Catalogue,
    scanner: &Scanner,
) -> anyhow::Result<Evidence> {
    let limits = sources::limits::Limits::with_total(g.max_input_size);
    let focus = sources::scope::Focus {
        namespace: g.namespace.clone(),
        release: g.release.clone(),
    };
    let mut ev =
        sources::logfile::read_input_within(path, container, cat, scanner, &limits, &focus)?;
    // An empty log is no evidence of health: most likely the wrong pod or container.
    if ev.kind == crate::model::evidence::SourceKind::Log
        && ev.logs.iter().all(|l| l.scan.bytes == 0)
    {
        return crate::model::error::input_err(format!(
            "{}: the input is empty (no log lines to analyse; check the pod and container it came from)",
            ev.origin
        ));
    }
    if let Some(ns) = &g.namespace {
        // A bundle was read limited to it; a single log is of that namespace.
        ev.namespace = Some(ns.clone());
    }
    if let Some(r) = &g.release {
        ev.release = Some(r.clone());
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::worse;

    #[test]
    fn worst_exit_code() {
        assert_eq!([0, 4, 0].into_iter().fold(0, worse), 4);
        assert_eq!([4, 3, 0].into_iter().fold(0, worse), 3);
        assert_eq!([3, 2, 4].into_iter().fold(0, worse), 2);
        assert_eq!([2, 1, 3].into_iter().fold(0, worse), 1);
        assert_eq!([0, 0].into_iter().fold(0, worse), 0);
    }
}
