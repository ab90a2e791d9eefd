//! Duration flags (`--timeout`, `--latency`, …): Go's syntax as kubectl takes it
//! (`250ms`, `1.5s`, `1m30s`), a bare number meaning seconds, 0 to 1 hour.

use std::time::Duration;

use crate::model::duration::parse_go;

/// Parses a duration flag: Go's syntax (the one parser of [`crate::model::duration`]),
/// or a bare number of seconds. 0 to 1 hour.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = match s.parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=3600.0).contains(&n) => Duration::from_secs_f64(n),
        Ok(_) => return Err(format!("duration '{s}' out of range (0 to 1h)")),
        Err(_) => match parse_go(s)? {
            (true, d) if !d.is_zero() => {
                return Err(format!("duration '{s}' out of range (0 to 1h)"))
            }
            (_, d) => d,
        },
    };
    if d > Duration::from_secs(3600) {
        return Err(format!("duration '{s}' out of range (0 to 1h)"));
    }
    Ok(d)
}

/// A [`parse_duration`] that must not be zero: every network operation has a limit.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("timeout '{s}' must be more than 0")),
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20ms").unwrap(), Duration::from_millis(20));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_timeout("0s").is_err());
        assert_eq!(parse_timeout("5s").unwrap(), Duration::from_secs(5));
    }

    /// The flags and the values' VAL checks read durations with one parser: Go's
    /// `1m30s` used to be a valid `db` duration but an invalid `--timeout`.
    #[test]
    fn compound_go_duration_is_a_valid_flag() {
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert!(crate::model::duration::is_go_duration("1m30s"));
    }
}
