//! Feeds Helm values as `preflight -f FILE --set …` reads them: the input up to the
//! first `\n--set\n` line is a values file (written to disk, read by
//! `settings::load`), each line after it one `--set` argument (also parsed on its own by
//! `settings::parse_set`). The merged values then go through the value checks
//! (`settings::check`), the DB settings the chart would wire, and the redacted JSON
//! a report or bundle keeps (`settings::apply_values`).
//!
//! Must hold: no panic, no stack overflow on deep nesting; what does not parse is an
//! error message; the password (`db.password`) never survives redaction.
#![no_main]

use dssc_doctor::model::evidence::{Evidence, SourceKind};
use dssc_doctor::redact::HIDDEN;
use dssc_doctor::settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (yaml, sets) = match text.split_once("\n--set\n") {
        Some((y, s)) => (y, s.lines().map(str::to_string).collect::<Vec<_>>()),
        None => (text, Vec::new()),
    };
    for s in &sets {
        let _ = settings::parse_set(s);
    }
    let path = dssc_doctor_fuzz::scratch_file("values.yaml", yaml.as_bytes());
    let Ok(values) = settings::load(&[path], &sets) else {
        return;
    };
    let issues = settings::check(&values);
    let _ = values.db_settings().pairs();
    let mut ev = Evidence::new(SourceKind::Bundle, "fuzz");
    settings::apply_values(&mut ev, &values);
    let _ = issues.len();
    if let (Some(pw), Some(kept)) = (values.password(), ev.values.as_ref()) {
        if !pw.is_empty() && pw != HIDDEN {
            let at = kept.pointer("/db/password");
            assert!(
                at.and_then(|v| v.as_str()) != Some(pw),
                "db.password kept in the redacted values"
            );
        }
    }
});
