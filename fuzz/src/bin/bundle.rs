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

use dssc_doctor::analysis;
use dssc_doctor::model::error::InputError;
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
    match logfile::read_input_within(&path, None, cat, scanner, &Limits::default(), &focus) {
        Ok(ev) => {
            // Each log is one tar entry; a second copy of a path is ignored.
            assert!(ev.logs.len() <= records.len());
            let report = analysis::build_report(cat, &ev);
            for f in [
                Format::Text,
                Format::Markdown,
                Format::Junit,
                Format::OpenMetrics,
            ] {
                let _ = report.render(f);
            }
            let json = report.render(Format::Json);
            assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
            assert!(matches!(report.exit_code(), 0 | 3 | 4));
        }
        Err(e) => assert!(
            e.downcast_ref::<InputError>().is_some(),
            "not an input error: {e:#}"
        ),
    }
});
