//! The `values` group: the merged overrides and the checks on the values alone.

use super::*;

pub(crate) fn values_group(run: &mut Run, o: &Options, vals: &Values) {
    let sources = vals.sources();
    run.row(
        "values",
        "load",
        "pass",
        format!(
            "{} file(s){}{}",
            o.files,
            if o.sets == 0 {
                String::new()
            } else {
                format!(", {} --set", o.sets)
            },
            if sources.is_empty() {
                String::new()
            } else {
                format!(": {}", sources.join(", "))
            }
        ),
        None,
    );
    let issues = settings::check(vals);
    settings::add_findings(run.cat, &mut run.set, vals, &issues);
    if issues.is_empty() {
        run.row(
            "values",
            "db settings",
            "pass",
            "no problems found".into(),
            None,
        );
    }
    for i in &issues {
        let sev = run
            .cat
            .get(i.id.as_str())
            .map(|r| r.severity)
            .unwrap_or(Severity::Warn);
        run.row(
            "values",
            &format!("{} {}", i.id, i.subject),
            severity_result(sev),
            i.evidence.clone(),
            None,
        );
    }
}
