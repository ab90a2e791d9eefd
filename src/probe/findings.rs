//! The probe's outcome as findings and report lines: hits to findings, stages to
//! `database` check lines, the probe JSON in a report.

use super::*;

/// The subject probe findings name: the database endpoint.
pub fn subject(res: &ProbeResult) -> Subject {
    Subject::Other(format!("database {}:{}", res.host, res.port))
}

/// Adds the probe's hits to a finding set with `Origin::Probe`; a finding with the same
/// ID and identifying values from logs or events becomes "confirmed by probe". IDs not
/// in the catalogue are ignored.
pub fn add_findings(cat: &Catalogue, set: &mut FindingSet, res: &ProbeResult) {
    for h in &res.hits {
        if let Some(hit) = to_hit(cat, res, h) {
            set.add(hit);
        }
    }
}

/// One probe hit as a finding-set hit (`Origin::Probe`, subject the database), or
/// `None` when its ID is not in the catalogue.
pub fn to_hit(cat: &Catalogue, res: &ProbeResult, h: &ProbeHit) -> Option<Hit> {
    let subj = subject(res);
    Some(Hit::single(
        cat.index_of(&h.id)?,
        h.captures.clone(),
        Some(subj),
        Origin::Probe,
        h.evidence.clone(),
        h.context.clone(),
    ))
}

/// The stages as check lines of the group `database`.
pub fn check_lines(res: &ProbeResult) -> Vec<CheckLine> {
    res.stages
        .iter()
        .map(|s| CheckLine {
            group: "database".into(),
            name: s.name.clone(),
            result: s.result.as_str().into(),
            detail: s.detail.clone(),
            ms: s.ms,
        })
        .collect()
}

/// Puts the stage table into `report.checks` and the probe's JSON into `report.probe`.
pub fn attach(report: &mut Report, res: &ProbeResult) {
    report.checks.extend(check_lines(res));
    report.probe = serde_json::to_value(res).ok();
}

/// Formats a socket address for texts (`[::1]:5432`, `10.0.0.5:5432`).
pub(crate) fn addr_label(a: &SocketAddr) -> String {
    a.to_string()
}

/// `1.5 s` or `12.3 ms`.
pub(crate) fn dur_label(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}
