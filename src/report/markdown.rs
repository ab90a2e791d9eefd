//! The Markdown renderer: a report to paste into a ticket.

use super::*;

impl Report {
    /// The Markdown report, control characters shown as `cat -v` would.
    pub(crate) fn markdown(&self) -> String {
        super::sanitize::terminal(&self.markdown_raw()).into_owned()
    }

    fn markdown_raw(&self) -> String {
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
        if let Some(d) = self.source.scope.as_ref().and_then(|s| s.describe()) {
            let _ = writeln!(o, "- {d}");
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
}

pub(crate) fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
