//! Feeds a support bundle made of arbitrary files to what `analyze BUNDLE.tar.gz` runs.
//! The input is records (`=== <path>\n<contents>`, see the crate docs) packed into a
//! valid tar.gz, so the fuzzer explores paths and contents (Lists of every kind, logs,
//! `cluster_version.json`, the doctor's `dssc/*.json`) rather than tar checksums; the
//! archive goes through `sources::logfile::read_input_within` with the default limits
//! (and, when the first byte is odd, `-n trendmicro`, so the one-pass read is reached
//! too), then `analysis::build_report`, rendered in every format.
//!
//! Must hold: no panic, memory bounded (`-rss_limit_mb=512`); a bundle that reads
//! keeps no more pods or logs than it holds files for, and its report renders (JSON
//! that parses); a bundle that does not read is an input error (exit code 2).
#![no_main]

use dssc_doctor::report::Format;
use dssc_doctor::sources::{limits::Limits, logfile, scope::Focus};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cat, scanner) = dssc_doctor_fuzz::catalogue();
    let records = dssc_doctor_fuzz::records(data);
    let tgz = dssc_doctor_fuzz::tar_gz(&records);
    let path = dssc_doctor_fuzz::scratch_file("bundle.tar.gz", &tgz);
    let focus = Focus {
        namespace: (data.first().is_some_and(|b| b & 1 == 1)).then(|| "trendmicro".into()),
        release: None,
    };
    let read = logfile::read_input_within(&path, None, cat, scanner, &Limits::default(), &focus);
    let formats = [
        Format::Text,
        Format::Markdown,
        Format::Junit,
        Format::OpenMetrics,
    ];
    if let Some(ev) = dssc_doctor_fuzz::check_read(cat, read, &formats) {
        // Each log is one tar entry; a second copy of a path is ignored.
        assert!(ev.logs.len() <= records.len());
    }
});
