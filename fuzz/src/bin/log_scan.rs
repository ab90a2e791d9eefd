//! Feeds arbitrary bytes to the log scanner as `analyze` builds it (the built-in
//! catalogue, `Scanner::new`), as the log of a plain file (every log rule) or of a
//! named container, in small reads as a pipe delivers them. The first byte picks the
//! container (bits 0-1), the read size (bits 2-4) and whether the rest is repeated
//! past the scanner's 64 KiB line cap or its 1 MiB block (bits 5-7 = 6 or 7), so
//! that over-long lines and block edges are reached without megabyte inputs.
//!
//! Must hold: no panic; every byte is counted; a hit names a rule of the catalogue,
//! counts at least once, and its first and last lines lie within the lines counted;
//! and the block prefilter never hides a hit: a scanner without it (every line tried
//! against every pattern) finds the same hits.
#![no_main]

use std::io::Read;
use std::sync::OnceLock;

use dssc_doctor::analysis::scan::{LogScan, Scanner};
use libfuzzer_sys::fuzz_target;

/// A reader returning at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn summary(s: &LogScan) -> Vec<(usize, u64, u64, u64, String)> {
    let mut v: Vec<_> = s
        .hits
        .iter()
        .map(|h| (h.rule, h.count, h.first_line, h.last_line, h.text.clone()))
        .collect();
    v.sort();
    v
}

fuzz_target!(|data: &[u8]| {
    let (cat, scanner) = dssc_doctor_fuzz::catalogue();
    static NO_SET: OnceLock<Scanner> = OnceLock::new();
    let plain = NO_SET.get_or_init(|| Scanner::with_set_limit(cat, 0));
    let Some((&sel, log)) = data.split_first() else {
        return;
    };
    let container = match sel % 4 {
        0 => None,
        1 => Some("db-init"),
        2 => Some("vulnerabilityscan-db-init"),
        _ => Some("auth"),
    };
    let step = 1 + ((sel as usize >> 2) & 7) * 997;
    let target = match sel >> 5 {
        6 => 70 << 10,
        7 => (1 << 20) + (100 << 10),
        _ => 0,
    };
    let repeated;
    let log = if target > 0 && !log.is_empty() {
        repeated = log.repeat(target / log.len() + 1);
        &repeated[..]
    } else {
        log
    };
    let scan = scanner
        .scan(cat, Trickle { data: log, step }, container)
        .expect("reading memory cannot fail");
    assert_eq!(scan.bytes, log.len() as u64);
    for h in &scan.hits {
        assert!(h.rule < cat.rules.len());
        assert!(h.count >= 1);
        assert!(1 <= h.first_line && h.first_line <= h.last_line && h.last_line <= scan.lines);
        assert!(h.count <= scan.lines);
    }
    let other = plain.scan(cat, log, container).expect("reading memory");
    assert_eq!(scan.binary, other.binary);
    assert_eq!(scan.lines, other.lines);
    assert_eq!(
        summary(&scan),
        summary(&other),
        "the prefilter changed the hits"
    );
});
