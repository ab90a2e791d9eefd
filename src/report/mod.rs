//! The report model (source, findings, check lines, settings, pods, probe) and the
//! exit code from the worst severity. One renderer per format, one file each: coloured
//! [`text`] for a terminal, [`json`] (a stable, versioned schema), [`markdown`] to
//! paste into a ticket, [`junit`] XML for CI gates; a new format is one more file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use colored::Colorize;
use serde::Serialize;

use crate::catalogue::Severity;
use crate::model::evidence::{PodRow, Scope, Setting, Skipped, SourceKind};
use crate::model::findings::Finding;

pub mod build;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod openmetrics;
pub mod sanitize;
pub mod schema;
pub mod text;

/// Version of the JSON report schema; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The report formats; each has its renderer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Junit,
    /// Prometheus series (OpenMetrics text, `# EOF`-terminated).
    OpenMetrics,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub kind: SourceKind,
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// A bundle read in part: the namespaces read in full and how many others it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// One pass/warn/fail line of a check list (preflight, probe stages).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckLine {
    pub group: String,
    pub name: String,
    /// `pass`, `warn`, `fail` or `skip`.
    #[schemars(extend("enum" = ["pass", "warn", "fail", "skip"]))]
    pub result: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
}

#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// Everything a run reports.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    /// The version, commit and catalogue size of the doctor that made the report.
    pub build: build::Build,
    pub source: SourceInfo,
    pub settings: BTreeMap<String, Setting>,
    pub pods: Vec<PodRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckLine>,
    /// The probe's stages and measurements (`probe`, `preflight`, a diagnosis).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
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
            build: build::Build::current(),
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
            Format::Json => self.json(),
            Format::Markdown => self.markdown(),
            Format::Junit => self.junit(),
            Format::OpenMetrics => self.openmetrics(),
        }
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
