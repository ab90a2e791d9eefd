//! `kubectl dssc-doctor serve BUNDLE`: a support bundle served as a read-only
//! Kubernetes API until Ctrl-C or SIGTERM, with a kubeconfig for kubectl (0600, in a
//! fresh 0700 temporary directory unless `--kubeconfig-out` names a file).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use crate::cli::{Global, ServeArgs};
use crate::model::error::InputError;
use crate::serve::{
    kubeconfig_with_token, load_script, start_server, BundleApi, ServeOptions, Server,
};

/// `serve`: loads the bundle, serves it, writes a kubeconfig and waits for Ctrl-C.
pub fn run(g: &Global, a: &ServeArgs) -> anyhow::Result<i32> {
    let mut api = BundleApi::load(&a.bundle)?;
    api.forbidden = a.forbid.iter().cloned().collect();
    for (what, why) in &api.skipped {
        eprintln!("warning: {what}: {why}");
    }
    let ip: IpAddr = a
        .address
        .parse()
        .map_err(|_| InputError::new(format!("--address {}: not an IP address", a.address)))?;
    let script = a.script.as_deref().map(load_script).transpose()?;
    let opts = ServeOptions {
        token: a.token.clone(),
        kubelet_unreachable: a.kubelet_unreachable,
        access_log: a.access_log.clone(),
        bookmark_interval: a.bookmark_interval,
        ..Default::default()
    };
    super::runtime()?.block_on(async {
        let namespace = g
            .namespace
            .clone()
            .unwrap_or_else(|| api.default_namespace());
        let (objects, logs) = (api.object_count(), api.log_count());
        let server = Arc::new(
            Server::new(api, opts).map_err(|e| InputError::new(format!("--access-log: {e}")))?,
        );
        let handle = start_server(server.clone(), SocketAddr::new(ip, a.port), a.latency)
            .await
            .map_err(|e| InputError::new(format!("cannot listen on {ip}:{}: {e}", a.port)))?;
        // Listen for SIGTERM before anyone is told where the server is.
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let kc = kubeconfig_with_token(handle.addr(), &namespace, a.token.as_deref());
        // Default: a fresh 0700 directory with an unpredictable name, removed on exit.
        let mut temp_dir = None;
        let path = match &a.kubeconfig_out {
            Some(p) => p.clone(),
            None => {
                let d = tempfile::Builder::new()
                    .prefix("dssc-doctor-serve-")
                    .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
                    .tempdir()
                    .map_err(|e| InputError::new(format!("temporary directory: {e}")))?;
                let p = d.path().join("kubeconfig");
                temp_dir = Some(d);
                p
            }
        };
        write_private(&path, &kc)
            .map_err(|e| InputError::new(format!("{}: {e}", path.display())))?;
        eprintln!(
            "Serving {} ({objects} objects, {logs} logs) read-only at {}\n\
             kubeconfig: {}\n  kubectl --kubeconfig {} get pods -n {namespace}\n\
             Press Ctrl-C to stop.",
            a.bundle.display(),
            handle.url(),
            path.display(),
            path.display(),
        );
        let _script = script.map(|s| s.spawn(server.clone()));
        wait_for_stop(term).await;
        handle.shutdown().await;
        drop(temp_dir);
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(0)
}

/// Until Ctrl-C or SIGTERM.
async fn wait_for_stop(term: Option<tokio::signal::unix::Signal>) {
    match term {
        Some(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Writes `s` readable by the owner only (0600): into a new file beside `path`, then
/// renamed onto it, so a symlink planted at `path` is replaced, never followed.
fn write_private(path: &Path, s: &str) -> io::Result<()> {
    use std::io::Write as _;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut f = tempfile::Builder::new()
        .prefix(".kubeconfig-")
        .tempfile_in(parent)?;
    f.write_all(s.as_bytes())?;
    f.as_file().sync_all()?;
    f.persist(path).map_err(|e| e.error)?;
    Ok(())
}
