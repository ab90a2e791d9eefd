//! Helpers shared by the fuzz targets: the catalogue and scanner `analyze` builds (once
//! per process), a scratch file rewritten on every run, and the "records" format some
//! targets read their input in: bundle files as `=== <path>\n<contents>` one after the
//! other, so that the fuzzer mutates file contents and paths, not tar headers and
//! checksums.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dssc_doctor::analysis::{self, scan::Scanner};
use dssc_doctor::catalogue::Catalogue;
use dssc_doctor::model::error::InputError;
use dssc_doctor::model::evidence::Evidence;
use dssc_doctor::report::Format;

/// The built-in catalogue and its scanner, as `analyze` builds them without
/// `--checks-dir`.
pub fn catalogue() -> &'static (Catalogue, Scanner) {
    static CAT: OnceLock<(Catalogue, Scanner)> = OnceLock::new();
    CAT.get_or_init(|| {
        let cat = Catalogue::builtin().expect("the built-in catalogue loads");
        let scanner = Scanner::new(&cat);
        (cat, scanner)
    })
}

/// A directory of this process's own, removed at exit by the OS's tmp cleaning only
/// (libFuzzer ends the process with `exit`, so no destructor runs).
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::Builder::new()
            .prefix("dssc-fuzz-")
            .tempdir()
            .expect("a temp dir");
        d.keep()
    })
}

/// Writes `data` to the scratch file `name` and returns its path.
pub fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let p = scratch_dir().join(name);
    std::fs::write(&p, data).expect("the scratch file is writable");
    p
}

/// Splits `=== path\ncontents` records. Text before the first header is ignored.
pub fn records(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    const MARK: &[u8] = b"=== ";
    let mut out = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    if data.starts_with(MARK) {
        starts.push(0);
    }
    let mut i = 0;
    while let Some(j) = find(&data[i..], b"\n=== ") {
        starts.push(i + j + 1);
        i += j + 1;
    }
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(data.len(), |&e| e - 1);
        let rec = &data[s + MARK.len()..end.max(s + MARK.len())];
        let (path, body) = match rec.iter().position(|&b| b == b'\n') {
            Some(n) => (&rec[..n], &rec[n + 1..]),
            None => (rec, &rec[rec.len()..]),
        };
        out.push((String::from_utf8_lossy(path).into_owned(), body.to_vec()));
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A tar.gz of the records, with valid headers (regular files only).
pub fn tar_gz(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, body) in records {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        if b.append_data(&mut h, path, &body[..]).is_ok() {
            continue;
        }
        // Names the tar crate refuses to write (absolute, with `..`) are written raw
        // into the header, as a hostile archive holds them.
        let name = path.as_bytes();
        let n = name.len().min(100);
        h.as_old_mut().name = [0; 100];
        h.as_old_mut().name[..n].copy_from_slice(&name[..n]);
        h.set_cksum();
        b.append(&h, &body[..]).expect("writing to memory");
    }
    b.into_inner()
        .and_then(|gz| gz.finish())
        .expect("writing to memory")
}

/// What must hold of a read as `analyze` does it: evidence that reads gives a report
/// that renders in `formats` and as JSON that parses, with exit code 0, 3 or 4; what
/// does not read is an input error (exit code 2), never an internal failure. Returns
/// the evidence for further checks.
pub fn check_read(
    cat: &Catalogue,
    read: anyhow::Result<Evidence>,
    formats: &[Format],
) -> Option<Evidence> {
    match read {
        Ok(ev) => {
            let report = analysis::build_report(cat, &ev);
            for f in formats {
                let _ = report.render(*f);
            }
            let json = report.render(Format::Json);
            assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
            assert!(matches!(report.exit_code(), 0 | 3 | 4));
            Some(ev)
        }
        Err(e) => {
            assert!(
                e.downcast_ref::<InputError>().is_some(),
                "not an input error: {e:#}"
            );
            None
        }
    }
}
