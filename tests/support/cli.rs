//! Running the built binary, and serving a bundle for it as the cluster: the
//! scaffolding every end-to-end test shares (serve on its own runtime, a kubeconfig in
//! a temporary file, `kubectl dssc-doctor --kubeconfig …`, or `serve` as a process).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dssc_doctor::serve::{self, BundleApi, ServerHandle};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-dssc_doctor");

/// A bundle of `testdata/bundles/`.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/bundles")
        .join(name)
}

/// Copies a directory tree (a bundle to edit in a test).
#[allow(dead_code)]
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Runs the binary with `args`.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// An output for an assertion message.
pub fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Writes a kubeconfig for `h` into `dir`; returns its path.
pub fn kubeconfig_in(h: &ServerHandle, dir: &Path) -> PathBuf {
    let kc = dir.join("kubeconfig");
    std::fs::write(&kc, h.kubeconfig()).unwrap();
    kc
}

/// The bundle server on its own runtime, with its kubeconfig in a temporary file.
pub struct Served {
    pub rt: tokio::runtime::Runtime,
    pub handle: Option<ServerHandle>,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

/// Serves `api` on a free loopback port.
pub fn serve_api(api: BundleApi) -> Served {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt
        .block_on(serve::start(
            Arc::new(api),
            "127.0.0.1:0".parse().unwrap(),
            Duration::ZERO,
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_in(&handle, dir.path());
    Served {
        rt,
        handle: Some(handle),
        kubeconfig,
        _dir: dir,
    }
}

/// `kubectl dssc-doctor serve BUNDLE` as a process, until dropped.
pub struct ServeProcess {
    child: std::process::Child,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve BUNDLE EXTRA…` and waits (at most 20 s) for its kubeconfig.
pub fn serve_bin(bundle: &str, extra: &[&str]) -> ServeProcess {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let child = Command::new(BIN)
        .args(["serve", bundle, "--kubeconfig-out"])
        .arg(&kubeconfig)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::fs::read_to_string(&kubeconfig)
        .unwrap_or_default()
        .is_empty()
    {
        assert!(t.elapsed() < Duration::from_secs(20), "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    ServeProcess {
        child,
        kubeconfig,
        _dir: dir,
    }
}
