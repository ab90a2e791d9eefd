//! Merging the probe's findings into a diagnosis: which IDs only hold from the
//! doctor's vantage point (confirmed, not raised, from here), and PRB002.

use super::*;
use crate::catalogue::{ids, ProbePolicy};

/// Adds a probe run from the doctor's machine to the findings. Hits that agree with a
/// log or event finding confirm it. The rule's `probe` policy in the catalogue says
/// how else it counts: vantage-dependent failures (`vantage`) with no finding of the
/// same ID become one info finding (PRB002) with the probe's evidence; a
/// `confirm-when-ca-withheld` hit (TLS001) only confirms when the CA could not be read
/// here (a Secret); an `info-from-here` measurement (LAT…) becomes PRB003. Every other
/// hit is a finding of its own.
pub fn add_probe(cat: &Catalogue, set: &mut FindingSet, res: &ProbeResult) {
    let mut from_here = Vec::new();
    for h in &res.hits {
        let Some(hit) = probe::to_hit(cat, res, h) else {
            continue;
        };
        let policy = cat.rules[hit.rule].probe;
        // Latency from here is not the pods' latency: information, not a warning.
        if policy == Some(ProbePolicy::InfoFromHere) {
            if let Some(rule) = cat.index_of(ids::PRB003.as_str()) {
                set.add(Hit::single(
                    rule,
                    vec![(
                        "measured".into(),
                        h.captures
                            .iter()
                            .find(|(k, _)| k == "measured")
                            .map(|(_, v)| v.clone())
                            .unwrap_or_else(|| h.evidence.clone()),
                    )],
                    Some(probe::subject(res)),
                    Origin::Probe,
                    format!("from this machine: {} ({})", h.evidence, h.id),
                    h.context.clone(),
                ));
            }
            continue;
        }
        let vantage = policy == Some(ProbePolicy::Vantage);
        let confirm_only =
            vantage || (policy == Some(ProbePolicy::ConfirmWhenCaWithheld) && res.ca_withheld);
        match set.confirm(hit, vantage) {
            None => {}
            Some(hit) if !confirm_only => set.add(hit),
            Some(_) if vantage => from_here.push(h),
            Some(_) => {}
        }
    }
    let Some(rule) = cat.index_of(ids::PRB002.as_str()) else {
        return;
    };
    let mut ids: Vec<&str> = from_here.iter().map(|h| h.id.as_str()).collect();
    crate::model::unique_in_order(&mut ids);
    let ids = ids.join(", ");
    let failed: Vec<&str> = res
        .stages
        .iter()
        .filter(|s| !s.ok)
        .map(|s| s.name.as_str())
        .collect();
    let failed = if failed.is_empty() {
        "connect".to_string()
    } else {
        failed.join(", ")
    };
    let subj = probe::subject(res);
    for h in from_here {
        set.add(Hit {
            rule,
            captures: vec![
                ("ids".into(), ids.clone()),
                ("stage".into(), failed.clone()),
            ],
            subject: Some(subj.clone()),
            evidence: findings::Evidence {
                source: Origin::Probe,
                text: format!("from this machine: {} ({})", h.evidence, h.id),
                count: 1,
                first_seen: None,
                last_seen: None,
                seen_on: vec![subj.label()],
            },
            context: h.context.clone(),
        });
    }
}
