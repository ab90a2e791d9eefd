//! Feeds `serve`'s label and field selectors (`?labelSelector=…&fieldSelector=…` of a
//! list request, after URL decoding): the first line is a label selector, the second
//! a field selector (`serve::LabelSelector::parse`, `serve::FieldSelector::parse`), the
//! rest a JSON object they are matched against.
//!
//! Must hold: no panic; an empty selector matches every object; a selector that
//! parses and is matched twice gives the same answer; ANDing a label selector with
//! itself (`s,s`) changes nothing.
#![no_main]

use dssc_doctor::serve::{FieldSelector, LabelSelector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let (label, field, obj) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let obj: serde_json::Value = serde_json::from_str(obj).unwrap_or_else(|_| {
        serde_json::json!({"metadata": {"name": "db-init", "namespace": "trendmicro",
            "labels": {"app": "auth", "release": "deepsecurity-smartcheck", "n": "7"}},
            "status": {"phase": "Running"}})
    });
    assert!(LabelSelector::default().matches(&obj));
    assert!(FieldSelector::default().matches(&obj));
    if let Ok(l) = LabelSelector::parse(label) {
        let m = l.matches(&obj);
        assert_eq!(m, l.matches(&obj));
        if !label.trim().is_empty() {
            let twice = LabelSelector::parse(&format!("{label},{label}"));
            if let Ok(t) = twice {
                assert_eq!(t.matches(&obj), m, "s,s differs from s");
            }
        }
    }
    if let Ok(f) = FieldSelector::parse(field) {
        let _ = f.matches(&obj);
    }
});
