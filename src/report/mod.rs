//! The report model and its renderers: coloured text for a terminal, JSON (a stable,
//! versioned schema), Markdown to paste into a ticket, and JUnit XML for CI gates. The
//! exit code comes from the worst severity.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use colored::Colorize;
use serde::Serialize;

use crate::catalogue::Severity;
use crate::model::evidence::{PodRow, Setting, Skipped, SourceKind};
use crate::model::findings::Finding;

/// Version of the JSON report schema; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The report formats; each has its renderer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Junit,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub kind: SourceKind,
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

/// One pass/warn/fail line of a check list (preflight, probe stages).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckLine {
    pub group: String,
    pub name: String,
    /// `pass`, `warn`, `fail` or `skip`.
    pub result: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// Everything a run reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    pub source: SourceInfo,
    pub settings: BTreeMap<String, Setting>,
    pub pods: Vec<PodRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<serde_json::Value>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub summary: Summary,
}

impl Report {
    pub fn new(source: SourceInfo, mut findings: Vec<Finding>) -> Report {
        // Evidence quotes logs and events verbatim; a password in them must not reach
        // any output format (nor a bundle's analysis.json), whichever command built
        // the report.
        findings.iter_mut().for_each(crate::redact::redact_finding);
        let mut r = Report {
            schema_version: SCHEMA_VERSION,
            tool: format!("dssc-doctor {}", env!("CARGO_PKG_VERSION")),
            source,
            settings: BTreeMap::new(),
            pods: Vec::new(),
            checks: Vec::new(),
            probe: None,
            findings,
            skipped: Vec::new(),
            summary: Summary::default(),
        };
        r.summarize();
        r
    }

    pub fn summarize(&mut self) {
        let count = |s| self.findings.iter().filter(|f| f.severity == s).count();
        self.summary = Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warn),
            infos: count(Severity::Info),
        };
    }

    /// 3 with any error, 4 with warnings only, 0 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self.findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => 3,
            Some(Severity::Warn) => 4,
            _ => 0,
        }
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.text(),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
                    format!("{{\"error\": \"report could not be serialised: {e}\"}}")
                });
                s.push('\n');
                s
            }
            Format::Markdown => self.markdown(),
            Format::Junit => self.junit(),
        }
    }

    fn text(&self) -> String {
        let mut o = String::new();
        let src = &self.source;
        let _ = write!(o, "{} {}", "dssc-doctor".bold(), src.origin);
        if let Some(ns) = &src.namespace {
            let _ = write!(o, "  namespace {ns}");
        }
        if let Some(r) = &src.release {
            let _ = write!(o, "  release {r}");
        }
        o.push('\n');
        if !self.settings.is_empty() {
            o.push_str("\nDatabase settings\n");
            for (k, s) in &self.settings {
                let _ = writeln!(
                    o,
                    "  {k:<12} {:<40} {}",
                    s.value,
                    format!("({})", s.from).dimmed()
                );
            }
        }
        let bad: Vec<&PodRow> = self.pods.iter().filter(|p| !p.ok).collect();
        if !self.pods.is_empty() {
            let _ = writeln!(
                o,
                "\nPods: {} of {} ready",
                self.pods.len() - bad.len(),
                self.pods.len()
            );
            if !bad.is_empty() {
                let w = bad.iter().map(|p| p.name.len()).max().unwrap_or(4).max(4);
                let _ = writeln!(
                    o,
                    "  {:<w$}  {:<5}  {:<22}  RESTARTS",
                    "NAME", "READY", "STATUS"
                );
                for p in bad {
                    let status =
                        if p.in_init || p.status.contains("BackOff") || p.status.contains("Err") {
                            p.status.yellow().to_string()
                        } else {
                            p.status.clone()
                        };
                    let pad = 22usize.saturating_sub(p.status.chars().count());
                    let _ = writeln!(
                        o,
                        "  {:<w$}  {:<5}  {}{}  {}",
                        p.name,
                        p.ready,
                        status,
                        " ".repeat(pad),
                        p.restarts
                    );
                }
            }
        }
        if !self.checks.is_empty() {
            let mut group = "";
            for c in &self.checks {
                if c.group != group {
                    group = &c.group;
                    let _ = writeln!(o, "\n{}", capitalize(group).bold());
                }
                let mark = match c.result.as_str() {
                    "pass" => "PASS".green(),
                    "warn" => "WARN".yellow(),
                    "fail" => "FAIL".red(),
                    _ => "SKIP".dimmed(),
                };
                let ms = c.ms.map(|m| format!(" ({m:.1} ms)")).unwrap_or_default();
                let _ = write!(o, "  [{mark}] {}{ms}", c.name);
                if !c.detail.is_empty() {
                    let _ = write!(o, ": {}", c.detail);
                }
                o.push('\n');
            }
        }
        if self.findings.is_empty() {
            let _ = writeln!(o, "\n{}", "No problems found.".green());
        }
        for f in &self.findings {
            let sev = match f.severity {
                Severity::Error => "error".red().bold(),
                Severity::Warn => "warn".yellow().bold(),
                Severity::Info => "info".blue().bold(),
            };
            let _ = writeln!(o, "\n{sev}[{}] {}", f.id.bold(), f.title);
            if !f.subjects.is_empty() {
                let _ = writeln!(
                    o,
                    "  {} {}",
                    "affects:".dimmed(),
                    list_short(&f.subjects, 8)
                );
            }
            for e in f.evidence.iter().take(5) {
                let count = match (e.count, e.seen_on.len()) {
                    (c, n) if n > 1 => format!(" (x{c} on {n} subjects)"),
                    (c, _) if c > 1 => format!(" (x{c})"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    o,
                    "  {} {}{count}",
                    format!("{}:", e.source.as_str()).dimmed(),
                    e.text
                );
            }
            if f.evidence.len() > 5 {
                let _ = writeln!(
                    o,
                    "  … and {} more pieces of evidence",
                    f.evidence.len() - 5
                );
            }
            let _ = writeln!(o, "  {}", "why:".dimmed());
            for l in f.why.lines() {
                let _ = writeln!(o, "    {l}");
            }
            let _ = writeln!(o, "  {}", "fix:".dimmed());
            for l in &f.fix {
                if l.starts_with('#') {
                    let _ = writeln!(o, "    {}", l.dimmed());
                } else {
                    let _ = writeln!(o, "    {}", l.cyan());
                }
            }
            let _ = writeln!(
                o,
                "  {} kubectl dssc-doctor explain {}",
                "more:".dimmed(),
                f.id
            );
        }
        let s = &self.summary;
        let _ = writeln!(
            o,
            "\n{} error(s), {} warning(s), {} info",
            s.errors, s.warnings, s.infos
        );
        if !self.skipped.is_empty() {
            let _ = writeln!(
                o,
                "{} item(s) could not be read (see DOC001)",
                self.skipped.len()
            );
        }
        o
    }

    fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "## dssc-doctor report\n");
        let _ = writeln!(
            o,
            "- source: `{}` ({:?})",
            self.source.origin, self.source.kind
        );
        if let Some(ns) = &self.source.namespace {
            let _ = writeln!(o, "- namespace: `{ns}`");
        }
        if let Some(r) = &self.source.release {
            let _ = writeln!(o, "- release: `{r}`");
        }
        let s = &self.summary;
        let _ = writeln!(
            o,
            "- result: **{} error(s), {} warning(s), {} info**",
            s.errors, s.warnings, s.infos
        );
        if !self.settings.is_empty() {
            let _ = writeln!(
                o,
                "\n### Database settings\n\n| setting | value | from |\n|---|---|---|"
            );
            for (k, v) in &self.settings {
                let _ = writeln!(
                    o,
                    "| {k} | `{}` | {} |",
                    md_cell(&v.value),
                    md_cell(&v.from)
                );
            }
        }
        let bad: Vec<&PodRow> = self.pods.iter().filter(|p| !p.ok).collect();
        if !bad.is_empty() {
            let _ = writeln!(
                o,
                "\n### Pods not ready\n\n| pod | ready | status | restarts |\n|---|---|---|---|"
            );
            for p in bad {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    p.name, p.ready, p.status, p.restarts
                );
            }
        }
        if !self.checks.is_empty() {
            let _ = writeln!(
                o,
                "\n### Checks\n\n| group | check | result | detail |\n|---|---|---|---|"
            );
            for c in &self.checks {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    c.group,
                    md_cell(&c.name),
                    c.result,
                    md_cell(&c.detail)
                );
            }
        }
        let _ = writeln!(o, "\n### Findings");
        if self.findings.is_empty() {
            let _ = writeln!(o, "\nNo problems found.");
        }
        for f in &self.findings {
            let _ = writeln!(o, "\n#### {} `{}`: {}\n", f.severity, f.id, f.title);
            if !f.subjects.is_empty() {
                let _ = writeln!(
                    o,
                    "Affects: {}\n",
                    f.subjects
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let _ = writeln!(o, "Evidence:\n\n```");
            for e in &f.evidence {
                let _ = writeln!(
                    o,
                    "[{}{}] {}",
                    e.source.as_str(),
                    if e.count > 1 {
                        format!(" x{}", e.count)
                    } else {
                        String::new()
                    },
                    e.text
                );
            }
            let _ = writeln!(
                o,
                "```\n\nWhy: {}\n\nFix:\n\n```sh",
                f.why.replace('\n', " ")
            );
            for l in &f.fix {
                let _ = writeln!(o, "{l}");
            }
            let _ = writeln!(o, "```");
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(o, "\n### Not read\n");
            for s in &self.skipped {
                let _ = writeln!(o, "- `{}`: {}", s.what, s.why);
            }
        }
        o
    }

    fn junit(&self) -> String {
        let mut cases = String::new();
        let mut failures = 0;
        let mut n = 0;
        for c in &self.checks {
            n += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"dssc-doctor.{}\" name=\"{}\"",
                xml(&c.group),
                xml(&c.name)
            );
            if let Some(ms) = c.ms {
                let _ = write!(cases, " time=\"{:.3}\"", ms / 1000.0);
            }
            match c.result.as_str() {
                "fail" => {
                    failures += 1;
                    let _ = writeln!(
                        cases,
                        ">\n      <failure message=\"{}\"/>\n    </testcase>",
                        xml(&c.detail)
                    );
                }
                "skip" => {
                    let _ = writeln!(
                        cases,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml(&c.detail)
                    );
                }
                "warn" => {
                    let _ = writeln!(
                        cases,
                        ">\n      <system-out>WARN: {}</system-out>\n    </testcase>",
                        xml(&c.detail)
                    );
                }
                _ => cases.push_str("/>\n"),
            }
        }
        for f in &self.findings {
            n += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"dssc-doctor.findings\" name=\"{} {}\"",
                xml(&f.id),
                xml(&f.title)
            );
            let body = format!(
                "{}\n\nEvidence:\n{}\n\nFix:\n{}",
                f.why,
                f.evidence
                    .iter()
                    .map(|e| format!("[{}] {}", e.source.as_str(), e.text))
                    .collect::<Vec<_>>()
                    .join("\n"),
                f.fix.join("\n")
            );
            if f.severity == Severity::Error {
                failures += 1;
                let _ = writeln!(
                    cases,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    f.id,
                    xml(&f.title),
                    xml(&body)
                );
            } else {
                let _ = writeln!(
                    cases,
                    ">\n      <system-out>{}: {}</system-out>\n    </testcase>",
                    f.severity,
                    xml(&body)
                );
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dssc-doctor\" tests=\"{n}\" failures=\"{failures}\">\n  <testsuite name=\"dssc-doctor\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\">\n{cases}  </testsuite>\n</testsuites>\n"
        )
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn list_short(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
