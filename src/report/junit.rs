//! The JUnit XML renderer: one test case per check and finding, for CI gates.

use super::*;

impl Report {
    pub(crate) fn junit(&self) -> String {
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

/// Report text as XML 1.0 (see [`super::sanitize::xml`]).
pub(crate) fn xml(s: &str) -> String {
    super::sanitize::xml(s)
}
