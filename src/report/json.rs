//! The JSON renderer: the report serialised as is, with a stable, versioned schema
//! ([`super::SCHEMA_VERSION`]).

use super::Report;

impl Report {
    pub(super) fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"report could not be serialised: {e}\"}}"));
        s.push('\n');
        s
    }
}
