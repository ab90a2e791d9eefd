//! What an input is, by looking at it: a bundle directory, a bundle `.tar.gz`, a log
//! file (gzip or not) or stdin.

use super::*;

/// What a path given to `analyze` holds.
#[derive(Debug, PartialEq, Eq)]
pub enum InputKind {
    BundleDir,
    BundleTarGz,
    /// A single log, possibly gzip-compressed.
    LogFile {
        gzip: bool,
    },
    Stdin,
}

/// Decides what `path` is by looking at it, not at its name.
pub fn classify(path: &Path) -> Result<InputKind, InputError> {
    if path.as_os_str() == "-" {
        return Ok(InputKind::Stdin);
    }
    let meta = std::fs::metadata(path)
        .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?;
    if meta.is_dir() {
        if path.join("cluster-resources").is_dir() || path.join("cluster-info").is_dir() {
            return Ok(InputKind::BundleDir);
        }
        // A directory holding one bundle folder, as an unpacked troubleshoot archive.
        let inner = std::fs::read_dir(path)
            .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?
            .filter_map(|e| e.ok())
            .find(|e| e.path().join("cluster-resources").is_dir());
        return match inner {
            Some(_) => Ok(InputKind::BundleDir),
            None => Err(InputError::new(format!(
                "{}: not a support bundle (no cluster-resources/ or cluster-info/ inside)",
                path.display()
            ))),
        };
    }
    let mut head = [0u8; 2];
    let mut f = File::open(path)
        .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?;
    let n = f.read(&mut head).unwrap_or(0);
    if n == 2 && head == [0x1f, 0x8b] {
        // gzip: a tar inside has "ustar" at offset 257 of the first block.
        let mut block = [0u8; 512];
        let mut gz = MultiGzDecoder::new(
            File::open(path)
                .map_err(|e| InputError::new(format!("{}: {}", path.display(), io_msg(&e))))?,
        );
        let got = read_up_to(&mut gz, &mut block)
            .map_err(|e| InputError::new(format!("{}: corrupt gzip data: {e}", path.display())))?;
        if got >= 262 && &block[257..262] == b"ustar" {
            return Ok(InputKind::BundleTarGz);
        }
        return Ok(InputKind::LogFile { gzip: true });
    }
    Ok(InputKind::LogFile { gzip: false })
}

pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

pub(crate) fn io_msg(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
