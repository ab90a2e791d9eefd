//! Durations in Go's `time.ParseDuration` syntax (`300ms`, `1.5h`, `1m30s`, `0`): the
//! one parser behind the command line's flags and the values' duration checks.

use std::time::Duration;

const UNITS: &[(&str, f64)] = &[
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("μs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

/// Parses Go's syntax: an optional sign, then `0` or one or more `<number><unit>`.
/// Returns the sign (true for negative) and the magnitude.
pub fn parse_go(s: &str) -> Result<(bool, Duration), String> {
    let bad = || format!("invalid duration '{s}' (e.g. 500ms, 5s, 1m30s)");
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body == "0" {
        return Ok((neg, Duration::ZERO));
    }
    if body.is_empty() {
        return Err(bad());
    }
    let mut nanos = 0f64;
    let mut rest = body;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(bad());
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        rest = &rest[end..];
        let Some((unit, scale)) = UNITS
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())
        else {
            return Err(format!(
                "invalid duration unit in '{s}' (use ns, us, ms, s, m or h)"
            ));
        };
        rest = &rest[unit.len()..];
        nanos += n * scale;
    }
    // Go's Duration is an int64 of nanoseconds.
    if !nanos.is_finite() || nanos > i64::MAX as f64 {
        return Err(format!("duration '{s}' out of range"));
    }
    Ok((neg, Duration::from_nanos(nanos as u64)))
}

/// Whether `s` is a valid Go duration (as the product's Go services read it).
pub fn is_go_duration(s: &str) -> bool {
    parse_go(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_syntax() {
        for ok in ["10m", "1h30m", "90s", "0", "1.5h", "300ms", "-5s", "+1m30s"] {
            assert!(is_go_duration(ok), "{ok}");
        }
        for bad in ["", "10", "ten minutes", "1d", "m", "1..5s", "-"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
        assert_eq!(parse_go("1m30s").unwrap(), (false, Duration::from_secs(90)));
        assert_eq!(
            parse_go("1.5s").unwrap(),
            (false, Duration::from_millis(1500))
        );
    }
}
