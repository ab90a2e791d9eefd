//! Feeds arbitrary bytes, written to a file, to what `analyze FILE` runs: the input is
//! classified by its contents (a `.tar.gz` bundle, a gzip log or a plain log), read
//! within the default limits (`sources::logfile::read_input_within`), analysed
//! (`analysis::build_report`) and rendered as text and JSON.
//!
//! Must hold: no panic, memory bounded (run with `-rss_limit_mb=512`), and an input
//! that reads is either a log or a bundle whose report renders; what does not read is
//! an input error (exit code 2), never an internal failure.
#![no_main]

use dssc_doctor::report::Format;
use dssc_doctor::sources::{limits::Limits, logfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cat, scanner) = dssc_doctor_fuzz::catalogue();
    let path = dssc_doctor_fuzz::scratch_file("input", data);
    let read = logfile::read_input_within(
        &path,
        None,
        cat,
        scanner,
        &Limits::default(),
        &Default::default(),
    );
    dssc_doctor_fuzz::check_read(cat, read, &[Format::Text]);
});
