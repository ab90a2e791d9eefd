//! The JSON Schema (draft 2020-12) of the `-o json` report, generated from the report
//! types themselves (their serde names and doc comments), so the published contract
//! (`schema/report.schema.json`, `kubectl dssc-doctor schema`) cannot drift from what
//! is printed. The schema describes schema version [`super::SCHEMA_VERSION`]; objects
//! may gain fields without a version bump, so it does not forbid unknown ones. Each line
//! of a JSON Lines batch is one report and follows the same schema.

use schemars::generate::SchemaSettings;

use super::Report;

/// The schema as a JSON value.
pub fn report_schema() -> serde_json::Value {
    let mut schema = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Report>();
    schema.insert("title".into(), "dssc-doctor report".into());
    schema.to_value()
}

/// The schema as shipped: pretty-printed, with a final newline.
pub fn report_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&report_schema())
        .unwrap_or_else(|e| format!("{{\"error\": \"schema could not be serialised: {e}\"}}"));
    s.push('\n');
    s
}
