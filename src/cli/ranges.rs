//! Value parsers for numeric flags whose range clap's integer parsers cannot state:
//! millisecond thresholds (finite, above 0) and PostgreSQL major-version ranges (no
//! overflow in the `server_version_num` arithmetic).

use crate::probe::VersionRange;

/// `--max-input-size`: 1 MiB to 1 TiB, binary units (`4GiB`, `512MiB`).
pub fn parse_input_size(s: &str) -> Result<u64, String> {
    let n = crate::sources::limits::parse_size(s)?;
    if !(1 << 20..=1 << 40).contains(&n) {
        return Err(format!("{s}: out of range (1MiB to 1TiB)"));
    }
    Ok(n)
}

/// A latency threshold in milliseconds: finite, more than 0, at most one minute.
pub fn parse_ms(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n <= 60_000.0 => Ok(n),
        Ok(_) => Err(format!("{s}: out of range (more than 0, at most 60000 ms)")),
        Err(_) => Err(format!("{s}: not a number of milliseconds")),
    }
}

/// `MIN-MAX` major versions (`9.6-13`), each major 7 to 99 and each minor 0 to 99.
pub fn parse_versions(s: &str) -> Result<VersionRange, String> {
    for part in s.split('-') {
        let p = part.trim();
        let (major, minor) = p.split_once('.').unwrap_or((p, "0"));
        let ok = |x: &str, lo: u32, hi: u32| {
            x.len() <= 2 && x.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
        };
        if !ok(major, 7, 99) || !ok(minor, 0, 99) {
            let shown: String = p.chars().take(20).collect();
            return Err(format!(
                "{shown}: not a PostgreSQL major version (7 to 99, e.g. 9.6 or 13)"
            ));
        }
    }
    VersionRange::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms() {
        assert_eq!(parse_ms("10").unwrap(), 10.0);
        assert!(parse_ms("NaN").is_err());
        assert!(parse_ms("-1").is_err());
        assert!(parse_ms("0").is_err());
        assert!(parse_ms("inf").is_err());
    }

    #[test]
    fn versions() {
        assert_eq!(parse_versions("9.6-13").unwrap(), VersionRange::DSSC);
        assert!(parse_versions("9.6-999999").is_err());
        assert!(parse_versions("429497-13").is_err());
        assert!(parse_versions("13").is_err());
    }
}
