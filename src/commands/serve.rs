//! `kubectl dssc-doctor serve BUNDLE`: a support bundle served as a read-only
//! Kubernetes API until Ctrl-C, with a kubeconfig for kubectl written next to it.

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
        let kc = kubeconfig_with_token(handle.addr(), &namespace, a.token.as_deref());
        let (path, temporary) = match &a.kubeconfig_out {
            Some(p) => (p.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "dssc-doctor-serve-{}.kubeconfig",
                    handle.addr().port()
                )),
                true,
            ),
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
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown().await;
        if temporary {
            let _ = std::fs::remove_file(&path);
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(0)
}

fn write_private(path: &Path, s: &str) -> io::Result<()> {
    std::fs::write(path, s)
}
