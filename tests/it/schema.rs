//! The report contract: `schema/report.schema.json` is generated from the report types
//! and fails here when stale (regenerate with BLESS=1 cargo test --test it schema),
//! `kubectl dssc-doctor schema` prints it, it is a valid draft 2020-12 schema, and the
//! validator every JSON-producing test runs (`support::report::json`) rejects reports
//! that break it. `--version` and the reports' `build` name the same build.

use serde_json::{json, Value};

use crate::support::cli::{run, show, testdata};
use crate::support::report;

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");

#[test]
fn schema_file_is_current() {
    let text = dssc_doctor::report::schema::report_schema_text();
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(SCHEMA).parent().unwrap()).unwrap();
        std::fs::write(SCHEMA, &text).unwrap();
    }
    assert!(
        std::fs::read_to_string(SCHEMA).ok().as_deref() == Some(text.as_str()),
        "schema/report.schema.json is stale: run BLESS=1 cargo test --test it schema"
    );
}

#[test]
fn schema_command_prints_the_shipped_schema() {
    let o = run(&["schema"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        std::fs::read_to_string(SCHEMA).unwrap()
    );
    let schema: Value = serde_json::from_slice(&o.stdout).unwrap();
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("not a valid JSON Schema: {e}"));
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    // The serde renames are what the schema names.
    let props = schema["properties"].as_object().unwrap();
    for field in [
        "schemaVersion",
        "tool",
        "build",
        "source",
        "findings",
        "summary",
    ] {
        assert!(props.contains_key(field), "no {field} in {props:?}");
    }
    let finding = &schema["$defs"]["Finding"]["properties"];
    assert!(finding["confirmedBy"].is_object(), "{finding}");
    assert_eq!(
        schema["$defs"]["Severity"]["enum"],
        json!(["info", "warn", "error"])
    );
}

/// The validator is real: a report that breaks the contract in any of these ways fails.
#[test]
fn reports_that_break_the_schema_are_rejected() {
    let o = run(&[
        "analyze",
        testdata("auth001").to_str().unwrap(),
        "-o",
        "json",
    ]);
    let good = report::json(&o.stdout, &show(&o));
    assert!(!good["findings"].as_array().unwrap().is_empty());
    type Break = (&'static str, fn(&mut Value));
    let breaks: [Break; 5] = [
        ("severity outside the enum", |r| {
            r["findings"][0]["severity"] = "fatal".into()
        }),
        ("a required field missing", |r| {
            r.as_object_mut().unwrap().remove("summary");
        }),
        ("a count of the wrong type", |r| {
            r["summary"]["errors"] = "1".into()
        }),
        ("an undocumented field", |r| {
            r["findings"][0]["undocumented"] = true.into()
        }),
        ("build without its commit", |r| {
            r["build"].as_object_mut().unwrap().remove("commit");
        }),
    ];
    for (what, f) in breaks {
        let mut bad = good.clone();
        f(&mut bad);
        assert!(
            !report::violations(&bad).is_empty(),
            "{what}: accepted by the schema"
        );
    }
}

/// `--version`: the version, the commit the binary was built from and the number of
/// built-in rules; a JSON report carries the same as `build`.
#[test]
fn version_names_the_commit_and_the_rule_count() {
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let line = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let rules = dssc_doctor::catalogue::Catalogue::builtin()
        .unwrap()
        .rules
        .len();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if !crate::support::ci::require("git (the commit --version names)", commit.is_some()) {
        return;
    }
    let commit = commit.unwrap();
    let want = format!(
        "kubectl-dssc_doctor {} (commit {commit}, {rules} rules)",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(line, want);

    let o = run(&[
        "analyze",
        testdata("healthy").to_str().unwrap(),
        "-o",
        "json",
    ]);
    let r = report::json(&o.stdout, &show(&o));
    assert_eq!(
        r["build"],
        json!({"version": env!("CARGO_PKG_VERSION"), "commit": commit, "rules": rules})
    );
    // schemaVersion 1 consumers still find the tool string where it was.
    assert_eq!(r["schemaVersion"], 1);
    assert_eq!(
        r["tool"],
        format!("dssc-doctor {}", env!("CARGO_PKG_VERSION"))
    );
}
