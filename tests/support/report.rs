//! Reading what the doctor printed: JSON reports parsed and checked against the shipped
//! report schema (`schema/report.schema.json`, with every object closed, so a field the
//! schema does not document fails too), the finding IDs of a report, base64 as the API
//! server encodes Secret data.

use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::Value;

/// The shipped schema with `additionalProperties: false` on every object it describes
/// field by field: the published schema leaves objects open (fields may be added within
/// a schema version), the tests hold the output to exactly what it documents.
pub fn closed_schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    fn close(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                    m.insert("additionalProperties".into(), Value::Bool(false));
                }
                m.values_mut().for_each(close);
            }
            Value::Array(a) => a.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    schema
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        jsonschema::draft202012::new(&closed_schema())
            .unwrap_or_else(|e| panic!("schema/report.schema.json does not compile: {e}"))
    })
}

/// The schema violations of `report`, one line each (empty when it conforms).
pub fn violations(report: &Value) -> Vec<String> {
    validator()
        .iter_errors(report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Panics, naming every violation, unless `report` conforms to the report schema.
pub fn check(report: &Value) {
    let v = violations(report);
    assert!(
        v.is_empty(),
        "the report breaks schema/report.schema.json:\n  {}\nreport: {report:#}",
        v.join("\n  ")
    );
}

/// A JSON report as printed by `-o json` (or a bundle's analysis.json): parsed and
/// checked against the schema. `context` is shown when it is not JSON (e.g. stderr).
pub fn json(out: impl AsRef<[u8]>, context: &str) -> Value {
    let out = out.as_ref();
    let v: Value = serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}):\n{}\n{context}",
            String::from_utf8_lossy(out)
        )
    });
    check(&v);
    v
}

/// JSON Lines (a batch): one report a line, each checked against the schema.
pub fn json_lines(out: impl AsRef<[u8]>, context: &str) -> Vec<Value> {
    String::from_utf8_lossy(out.as_ref())
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| json(l, context))
        .collect()
}

/// The IDs of the findings of a JSON report, in report order.
pub fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// Standard base64, as Secret `data` holds values.
pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}
