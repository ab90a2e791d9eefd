//! The report of a probe run on its own (`probe`): stages, probe JSON, findings, and the
//! settings it ran with (the password only as set or not).

use std::collections::BTreeMap;

use super::{ProbeConfig, ProbeResult};
use crate::catalogue::Catalogue;
use crate::model::evidence::{Setting, SourceKind};
use crate::model::findings::FindingSet;
use crate::report::{Report, SourceInfo};
use crate::settings::pod_env::{CHART, DEFAULT_RELEASE};

/// The report of a probe run on its own: stages, probe JSON, findings.
pub fn standalone(
    cat: &Catalogue,
    cfg: &ProbeConfig,
    res: &ProbeResult,
    namespace: Option<String>,
    release: Option<String>,
) -> Report {
    let mut set = FindingSet::new(cat);
    super::add_findings(cat, &mut set, res);
    let rel = release.clone().unwrap_or_else(|| DEFAULT_RELEASE.into());
    let mut defaults = BTreeMap::new();
    defaults.insert("release".to_string(), rel.clone());
    defaults.insert("chart".to_string(), CHART.to_string());
    if let Some(ns) = &namespace {
        defaults.insert("namespace".to_string(), ns.clone());
    }
    // The chart's documented names for the CA reference, and every pod of the release.
    defaults.insert("ca_kind".to_string(), "configmap".to_string());
    defaults.insert("ca_name".to_string(), "dssc-db-trust".to_string());
    defaults.insert("ca_key".to_string(), "ca".to_string());
    defaults.insert("pods".to_string(), format!("-l release={rel}"));
    let findings = set.finish(&defaults);
    let mut report = Report::new(
        SourceInfo {
            kind: SourceKind::Probe,
            origin: format!("probe {}:{}", res.host, res.port),
            namespace,
            release,
            scope: None,
        },
        findings,
    );
    let from = "probe arguments".to_string();
    let mut set_ = |k: &str, v: String| {
        report.settings.insert(
            k.into(),
            Setting {
                value: v,
                from: from.clone(),
            },
        );
    };
    set_("host", cfg.host.clone());
    set_("port", cfg.port.to_string());
    set_("user", cfg.user.clone());
    set_("database", cfg.database.clone());
    set_("sslmode", cfg.sslmode.as_str().into());
    if let Some(o) = &cfg.ca_origin {
        set_("ca", o.clone());
    }
    set_(
        "password",
        if cfg.password.is_some() {
            "(set)"
        } else {
            "(none)"
        }
        .into(),
    );
    super::attach(&mut report, res);
    report
}
