//! Byte budgets for reading input: a total of unpacked bytes per input, a cap per file
//! or tar entry, a cap per object in a List, a cap on what is kept per kind, and a
//! compression-ratio backstop. A reader stops at a budget (end of data, with the reason
//! latched) so the caller keeps what it read and reports the rest as skipped.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};

/// The budgets of one input.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Unpacked bytes read from one input (bundle, log file, stdin).
    pub total: u64,
    /// Bytes of one file or tar entry.
    pub file: u64,
    /// Bytes of one object of a List (a larger one ends the file).
    pub object: u64,
    /// Estimated memory kept per kind of object; past it objects are counted, not kept.
    pub kept_per_kind: u64,
    /// Unpacked to packed ratio above which reading stops (past `ratio_floor` bytes).
    pub ratio: u64,
    pub ratio_floor: u64,
}

/// 4 GiB per input, as `--max-input-size` defaults to.
pub const DEFAULT_TOTAL: u64 = 4 << 30;

impl Default for Limits {
    fn default() -> Self {
        Limits::with_total(DEFAULT_TOTAL)
    }
}

impl Limits {
    /// The budgets for a total: one file may take a sixteenth of it (256 MiB of the
    /// default 4 GiB), and the kept cap grows with it.
    pub fn with_total(total: u64) -> Limits {
        let file = (total / 16).max(1 << 20);
        Limits {
            total,
            file,
            object: 8 << 20,
            kept_per_kind: (64u64 << 20).max(total / 64),
            ratio: 1000,
            ratio_floor: 64 << 20,
        }
    }
}

/// Counts what one input has read; shared by the readers stacked over it.
#[derive(Default)]
pub struct Budget {
    pub limits: Limits,
    unpacked: Cell<u64>,
    packed: Cell<u64>,
    hit: RefCell<Option<String>>,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            ..Default::default()
        }
    }

    /// Why reading stopped, once a budget was reached.
    pub fn hit(&self) -> Option<String> {
        self.hit.borrow().clone()
    }

    pub fn unpacked(&self) -> u64 {
        self.unpacked.get()
    }

    fn stop(&self, why: String) {
        self.hit.borrow_mut().get_or_insert(why);
    }

    fn add(&self, n: usize, packed: bool) {
        let n = n as u64;
        if packed {
            self.packed.set(self.packed.get().saturating_add(n));
            return;
        }
        let u = self.unpacked.get().saturating_add(n);
        self.unpacked.set(u);
        let l = &self.limits;
        if u > l.total {
            self.stop(format!(
                "stopped reading after {} unpacked: over the input limit of {} (raise with --max-input-size)",
                size_label(u),
                size_label(l.total)
            ));
        } else if u > l.ratio_floor && self.packed.get() > 0 && u / self.packed.get() > l.ratio {
            self.stop(format!(
                "stopped reading after {} unpacked from {} packed: expands more than {}:1 (a compression bomb?)",
                size_label(u),
                size_label(self.packed.get()),
                l.ratio
            ));
        }
    }
}

/// A reader that counts its bytes against a [`Budget`] and ends (reads 0) once any
/// budget is reached.
pub struct Counted<'b, R> {
    inner: R,
    budget: &'b Budget,
    packed: bool,
}

impl<'b, R: Read> Counted<'b, R> {
    /// Counts unpacked bytes (what the doctor parses).
    pub fn unpacked(inner: R, budget: &'b Budget) -> Self {
        Counted {
            inner,
            budget,
            packed: false,
        }
    }

    /// Counts packed bytes (for the ratio check).
    pub fn packed(inner: R, budget: &'b Budget) -> Self {
        Counted {
            inner,
            budget,
            packed: true,
        }
    }
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.packed && self.budget.hit.borrow().is_some() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.budget.add(n, self.packed);
        Ok(n)
    }
}

/// A CA bundle is a few kilobytes; anything larger is not one.
pub const MAX_CA_FILE: u64 = 1 << 20;

/// A values file (Smart Check's own overrides are a few KiB, its chart's full
/// values.yaml under 64 KiB).
pub const MAX_VALUES_FILE: u64 = 4 << 20;

/// Reads a small input whole (a CA bundle, a values file, a script): at most `limit`
/// bytes, so `/dev/zero` or a wrong path to a large file is refused at once.
/// `name` starts the one-line error (`--ca-file ca.pem`), `what` says what was expected.
pub fn read_capped(
    r: impl Read,
    name: &str,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, crate::model::error::InputError> {
    let mut buf = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| crate::model::error::InputError::new(format!("{name}: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(crate::model::error::InputError::new(format!(
            "{name}: larger than {}, not {what}",
            size_label(limit)
        )));
    }
    Ok(buf)
}

/// [`read_capped`] of a file by path (`-` is not special here).
pub fn read_file_capped(
    path: &std::path::Path,
    name: &str,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, crate::model::error::InputError> {
    let f = std::fs::File::open(path)
        .map_err(|e| crate::model::error::InputError::new(format!("{name}: {e}")))?;
    read_capped(f, name, limit, what)
}

/// `12.3 MiB`, `4 GiB`, `512 B`.
pub fn size_label(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Parses a size flag: `256MiB`, `4GiB`, `512k`, `2Mi`, a bare number of bytes (binary
/// units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:.40}: not a size (e.g. 512MiB, 4GiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "ki" | "kib" | "kb" => 10,
        "m" | "mi" | "mib" | "mb" => 20,
        "g" | "gi" | "gib" | "gb" => 30,
        "t" | "ti" | "tib" | "tb" => 40,
        _ => {
            return Err(format!(
                "{s:.40}: unknown size unit (use KiB, MiB, GiB or TiB)"
            ))
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:.40}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999TiB").is_err());
        assert_eq!(size_label(256 << 20), "256 MiB");
    }

    #[test]
    fn read_capped_refuses_what_is_over() {
        let e = read_capped(
            std::io::repeat(0),
            "--ca-file /dev/zero",
            1 << 20,
            "a CA bundle",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--ca-file /dev/zero: larger than 1 MiB, not a CA bundle"
        );
        assert_eq!(read_capped(&b"abc"[..], "x", 3, "y").unwrap(), b"abc");
    }

    #[test]
    fn counted_stops_at_the_total() {
        let b = Budget::new(Limits {
            total: 10,
            ..Limits::default()
        });
        let mut out = Vec::new();
        Counted::unpacked(&[7u8; 100][..], &b)
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.len() < 100);
        assert!(b.hit().unwrap().contains("input limit"));
    }
}
