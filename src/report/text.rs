//! The text renderer: coloured for a terminal (plain when piped or NO_COLOR).

use super::*;

impl Report {
    /// The text report with what came from the cluster shown as `cat -v` would: the
    /// renderer's colours stay unless the report itself holds an ESC, in which case
    /// every colour sequence is dropped and any other ESC shown as `^[`.
    pub(crate) fn text(&self) -> String {
        let painted = self.text_painted();
        let holds_esc = serde_json::to_string(self).map_or(true, |j| j.contains("\\u001b"));
        if holds_esc {
            super::sanitize::terminal(&super::sanitize::strip_sgr(&painted)).into_owned()
        } else {
            super::sanitize::terminal_keeping(&painted, true).into_owned()
        }
    }

    fn text_painted(&self) -> String {
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
        if let Some(d) = src.scope.as_ref().and_then(|s| s.describe()) {
            let _ = writeln!(o, "{}", d.dimmed());
        }
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
                // Log and event evidence is seen on pods (a container's instances
                // count on their pod).
                let on_pods = matches!(
                    e.source,
                    crate::model::findings::Origin::Log | crate::model::findings::Origin::Event
                );
                let unit = if on_pods { "pod" } else { "subject" };
                let count = match (e.count, e.seen_on.len()) {
                    (c, n) if n > 1 => format!(" (x{c} on {n} {unit}s)"),
                    (c, 1) if c > 1 && on_pods => format!(" (x{c} on 1 pod)"),
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
}
