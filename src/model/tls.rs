//! TLS modes: libpq's `sslmode` (what the probe takes and db-init gets as
//! `PGSSLMODE`), of which the chart's `db.tls.mode` takes four, and what each verifies.
//! One type for the values, the pods' settings and the probe.

use std::fmt;

use serde::Serialize;

/// libpq's `sslmode` values (db.tls.mode takes disable, require, verify-ca, verify-full).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// The modes the chart's `db.tls.mode` takes (and db-init passes as `PGSSLMODE`).
    pub const CHART: [SslMode; 4] = [
        SslMode::Disable,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    /// A `db.tls.mode` value in the exact spelling PostgreSQL drivers accept.
    pub fn parse_chart(s: &str) -> Option<SslMode> {
        SslMode::CHART.into_iter().find(|m| m.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the mode refuses to go on without TLS.
    pub fn needs_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }

    /// What the client verifies, with libpq's rule that `require` with a root CA
    /// behaves like `verify-ca`.
    pub fn verification(self, ca_present: bool) -> Verify {
        match self {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer => Verify::None,
            SslMode::Require if ca_present => Verify::Ca,
            SslMode::Require => Verify::None,
            SslMode::VerifyCa => Verify::Ca,
            SslMode::VerifyFull => Verify::Full,
        }
    }
}

impl std::str::FromStr for SslMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| format!("invalid sslmode '{s}'"))
    }
}

/// How much of the server certificate the client checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verify {
    /// Encryption only.
    None,
    /// The chain must lead to the CA; the host name is not checked.
    Ca,
    /// Chain and host name.
    Full,
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
