//! `kubectl dssc-doctor checks` and `explain ID`: the catalogue, listed and explained.

use crate::catalogue::{Catalogue, Rule};
use crate::model::error::input_err;
use crate::report::Format;

/// `explain ID`: the documentation of one check.
pub fn explain(cat: &Catalogue, id: &str) -> anyhow::Result<i32> {
    match cat.get(id) {
        Some(rule) => {
            super::emit(&cat.explain(rule))?;
            Ok(0)
        }
        None => input_err(format!(
            "no check with ID {id}; `kubectl dssc-doctor checks` lists them"
        )),
    }
}

/// `checks`: every rule by ID, as text, JSON or a Markdown table.
pub fn list(cat: &Catalogue, format: Format) -> String {
    // By ID, as rule registries list their codes, whatever file a rule lives in.
    let mut rules: Vec<&Rule> = cat.rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    match format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "severity": r.severity, "title": r.title,
                        "kind": if r.code { "code" } else { "pattern" },
                        "reference": r.reference,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Markdown => {
            let mut s = String::from("| id | severity | title |\n|---|---|---|\n");
            for r in &rules {
                s.push_str(&format!("| {} | {} | {} |\n", r.id, r.severity, r.title));
            }
            s
        }
        _ => {
            let mut s = String::new();
            for r in &rules {
                s.push_str(&format!(
                    "{:<8} {:<6} {}\n",
                    r.id,
                    r.severity.to_string(),
                    r.title
                ));
            }
            s
        }
    }
}
