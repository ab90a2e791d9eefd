//! Redaction: nothing secret leaves the doctor. Secret values are dropped as soon as
//! they are read; text that may carry credentials is masked before it is printed or
//! written.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;

/// What replaces a hidden value.
pub const HIDDEN: &str = "***HIDDEN***";

/// Keeps a Secret's keys and drops its values (`data` and `stringData`).
pub fn secret_keys_only(s: &mut Secret) {
    if let Some(d) = &mut s.data {
        for v in d.values_mut() {
            *v = ByteString(HIDDEN.as_bytes().to_vec());
        }
    }
    if let Some(d) = &mut s.string_data {
        for v in d.values_mut() {
            *v = HIDDEN.to_string();
        }
    }
}

/// A secret value held in memory (the DB password for the probe). It has no Display and
/// its Debug output is hidden, so it cannot end up in a report or a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(s: impl Into<String>) -> Self {
        Sensitive(s.into())
    }

    /// The value itself: only for handing to a database driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HIDDEN)
    }
}
