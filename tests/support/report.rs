//! Reading what the doctor printed: the finding IDs of a JSON report, base64 as the
//! API server encodes Secret data.

use base64::Engine as _;
use serde_json::Value;

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
