//! What to probe and how: the configuration (password held by `secrecy`), the supported
//! server versions and the latency thresholds of LAT001.

use super::*;

/// Supported server versions as `server_version_num` bounds (inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VersionRange {
    pub min: u32,
    pub max: u32,
}

impl VersionRange {
    /// 9.6 to 13 as in the vendor guide.
    pub const DSSC: VersionRange = VersionRange {
        min: 90600,
        max: 139999,
    };

    pub fn contains(&self, num: u32) -> bool {
        (self.min..=self.max).contains(&num)
    }

    /// Parses `9.6-13` (major versions; a bare major covers all its minors).
    pub fn parse(s: &str) -> Result<VersionRange, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("{s}: expected MIN-MAX, e.g. 9.6-13"))?;
        let lo = major_num(a.trim()).ok_or_else(|| format!("{a}: not a version"))?;
        let hi = major_num(b.trim()).ok_or_else(|| format!("{b}: not a version"))?;
        let max = if hi >= 100000 { hi + 9999 } else { hi + 99 };
        if lo > max {
            return Err(format!("{s}: the minimum is above the maximum"));
        }
        Ok(VersionRange { min: lo, max })
    }

    pub fn label(&self) -> String {
        format!("{} to {}", version_label(self.min), version_label(self.max))
    }
}

pub(crate) fn major_num(s: &str) -> Option<u32> {
    let mut it = s.split('.');
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = match it.next() {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    if it.next().is_some() {
        return None;
    }
    Some(if major >= 10 {
        major * 10000
    } else {
        major * 10000 + minor * 100
    })
}

pub(crate) fn version_label(num: u32) -> String {
    if num >= 100000 {
        format!("{}", num / 10000)
    } else {
        format!("{}.{}", num / 10000, (num / 100) % 100)
    }
}

/// Latency thresholds for LAT001 (milliseconds, TCP connect and `SELECT 1`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LatencyThresholds {
    pub p50_ms: f64,
    pub p95_ms: f64,
}

impl Default for LatencyThresholds {
    fn default() -> Self {
        LatencyThresholds {
            p50_ms: 10.0,
            p95_ms: 25.0,
        }
    }
}

/// What to probe and how. The password stays in memory: it is never printed, logged,
/// serialised or shown by `Debug`.
#[derive(Clone)]
pub struct ProbeConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// `secrecy`: redacted in `Debug`, zeroed on drop.
    pub password: Option<crate::redact::SecretString>,
    pub database: String,
    pub sslmode: SslMode,
    /// The CA bundle (PEM), from a file or the cluster's ConfigMap/Secret.
    pub ca_pem: Option<Vec<u8>>,
    /// Where the CA came from, for evidence texts (`ca.pem`, `configmap dssc-db-trust`).
    pub ca_origin: Option<String>,
    /// Limit of each network operation (DNS, TCP, each read, the whole login).
    pub connect_timeout: Duration,
    /// db-init's PGCONNECT_TIMEOUT; LAT002 warns at half of it.
    pub pgconnect_timeout: Duration,
    /// Latency samples of TCP connect and `SELECT 1`; 0 skips the latency stage.
    pub samples: usize,
    pub latency: LatencyThresholds,
    /// Pool budget: services × db.maxOpenConnections.
    pub services: u32,
    pub max_open_connections: u32,
    pub supported_versions: VersionRange,
    /// What the caller wants said about how the settings were found (copied to the
    /// result's `notes`).
    pub notes: Vec<String>,
    /// A CA is configured but its value is not available here (a Secret): the chain
    /// cannot be verified as the pods verify it, so TLS001 only confirms a log finding.
    pub ca_withheld: bool,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            host: String::new(),
            port: 5432,
            user: "postgres".into(),
            password: None,
            database: "postgres".into(),
            sslmode: SslMode::VerifyFull,
            ca_pem: None,
            ca_origin: None,
            connect_timeout: Duration::from_secs(5),
            pgconnect_timeout: Duration::from_secs(5),
            samples: 20,
            latency: LatencyThresholds::default(),
            services: 6,
            max_open_connections: 25,
            supported_versions: VersionRange::DSSC,
            notes: Vec::new(),
            ca_withheld: false,
        }
    }
}

impl fmt::Debug for ProbeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("sslmode", &self.sslmode)
            .field("ca_origin", &self.ca_origin)
            .field("connect_timeout", &self.connect_timeout)
            .field("samples", &self.samples)
            .finish_non_exhaustive()
    }
}
