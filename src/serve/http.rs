//! HTTP/1.1 glue: listening, one task per connection (at most [`MAX_CONNECTIONS`] at
//! once, each dropped when its peer sends no request within [`HEADER_TIMEOUT`] or stops
//! reading a response for [`WRITE_STALL`]), the optional latency, the kubeconfig
//! pointing at the server, and a handle that stops it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tokio::time::Sleep;

use super::*;

/// A running server; dropping it stops accepting connections.
#[derive(Debug)]
pub struct ServerHandle {
    pub(crate) addr: SocketAddr,
    pub(crate) namespace: String,
    pub(crate) stop: Option<oneshot::Sender<()>>,
    pub(crate) task: Option<JoinHandle<()>>,
    pub(crate) server: Arc<Server>,
}

impl ServerHandle {
    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: what a client should connect to.
    pub fn url(&self) -> String {
        server_url(self.addr)
    }

    /// A kubeconfig for this server, defaulting to the bundle's namespace.
    pub fn kubeconfig(&self) -> String {
        kubeconfig(self.addr, &self.namespace)
    }

    /// A `kube` client configuration for this server (default namespace: the bundle's),
    /// with connect and read timeouts.
    pub fn kube_config(&self) -> anyhow::Result<kube::Config> {
        let uri: hyper::Uri = self.url().parse().context("server URL")?;
        let mut c = kube::Config::new(uri);
        c.default_namespace = self.namespace.clone();
        c.connect_timeout = Some(Duration::from_secs(5));
        c.read_timeout = Some(Duration::from_secs(30));
        Ok(c)
    }

    /// The served state, to change it while clients watch.
    pub fn server(&self) -> Arc<Server> {
        self.server.clone()
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The address a client uses for `addr`: an unspecified bind address becomes loopback.
pub(crate) fn client_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// `http://HOST:PORT` for a bound address.
pub fn server_url(addr: SocketAddr) -> String {
    format!("http://{}", client_addr(addr))
}

/// A kubeconfig (cluster, context with `namespace`, a user without credentials) for a
/// server bound at `addr`, usable by kubectl and the `kube` crate.
pub fn kubeconfig(addr: SocketAddr, namespace: &str) -> String {
    kubeconfig_with_token(addr, namespace, None)
}

/// [`kubeconfig`] whose user presents `token`.
pub fn kubeconfig_with_token(addr: SocketAddr, namespace: &str, token: Option<&str>) -> String {
    let user = match token {
        Some(t) => format!(
            "{{token: {}}}",
            serde_json::to_string(t).unwrap_or_else(|_| "\"\"".into())
        ),
        None => "{}".into(),
    };
    let ns = serde_json::to_string(namespace).unwrap_or_else(|_| "\"default\"".into());
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: dssc-bundle
  cluster:
    server: {url}
contexts:
- name: dssc-bundle
  context:
    cluster: dssc-bundle
    user: dssc-bundle
    namespace: {ns}
current-context: dssc-bundle
users:
- name: dssc-bundle
  user: {user}
preferences: {{}}
",
        url = server_url(addr)
    )
}

/// How long a client may take to send its request headers. hyper starts this timer
/// whenever the connection waits for a request head, so it also closes half-open peers
/// that never send one and keep-alive connections left idle between requests: neither
/// holds a task, a socket and a connection slot for longer than this.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How many connections are served at once. Every connection may hold a response body
/// (a list is serialised per request), so this is what bounds serve's memory under
/// many clients; a connection beyond it waits in the listen backlog until a slot frees
/// (kubectl opens a handful, the live collector at most `--concurrency`, 128 by default).
pub(crate) const MAX_CONNECTIONS: usize = 512;

/// How long a write may make no progress before the connection is dropped: a client
/// that stops reading (or vanished without a FIN) would otherwise keep its response
/// buffered forever. A slow reader that takes a chunk now and then is not affected, and
/// an idle watch has no write pending.
pub(crate) const WRITE_STALL: Duration = Duration::from_secs(60);

/// Binds `addr` (port 0 picks a free port) and serves `api` until the handle is shut
/// down or dropped; every response waits `latency` first.
pub async fn start(
    api: Arc<BundleApi>,
    addr: SocketAddr,
    latency: Duration,
) -> io::Result<ServerHandle> {
    let api = Arc::try_unwrap(api).unwrap_or_else(|a| BundleApi {
        objects: a.objects.clone(),
        logs: a.logs.clone(),
        version: a.version.clone(),
        namespace_hint: a.namespace_hint.clone(),
        resource_version: a.resource_version.clone(),
        forbidden: a.forbidden.clone(),
        secret_values: a.secret_values,
        ..Default::default()
    });
    start_server(
        Arc::new(Server::new(api, ServeOptions::default())?),
        addr,
        latency,
    )
    .await
}

/// Like [`start`], for a [`Server`] (options, changes over time).
pub async fn start_server(
    server: Arc<Server>,
    addr: SocketAddr,
    latency: Duration,
) -> io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let namespace = server.snapshot().default_namespace();
    let (tx, mut rx) = oneshot::channel::<()>();
    let srv = server.clone();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            // A slot first, then a connection: at the cap, new peers wait in the backlog.
            let slot = tokio::select! {
                _ = &mut rx => break,
                s = slots.clone().acquire_owned() => match s {
                    Ok(s) => s,
                    Err(_) => break,
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            };
            tokio::select! {
                _ = &mut rx => break,
                acc = listener.accept() => match acc {
                    Ok((stream, _)) => {
                        let srv = srv.clone();
                        conns.spawn(async move {
                            serve_conn(srv, stream, latency).await;
                            drop(slot);
                        });
                    }
                    // Out of file descriptors and the like: back off, keep serving.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        conns.abort_all();
    });
    Ok(ServerHandle {
        addr: bound,
        namespace,
        stop: Some(tx),
        task: Some(task),
        server,
    })
}

pub(crate) async fn serve_conn(server: Arc<Server>, stream: TcpStream, latency: Duration) {
    let _ = stream.set_nodelay(true);
    let svc = service_fn(move |req: Request<Incoming>| {
        let server = server.clone();
        async move { Ok::<_, Infallible>(handle(&server, req, latency).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(StallGuard::new(stream)), svc)
        .await;
}

/// A stream whose writes fail with `TimedOut` once one has stayed pending for
/// [`WRITE_STALL`] (hyper has no write timeout of its own); reads pass through.
struct StallGuard<T> {
    io: T,
    limit: Duration,
    stall: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    fn new(io: T) -> Self {
        Self::with_limit(io, WRITE_STALL)
    }

    fn with_limit(io: T, limit: Duration) -> Self {
        StallGuard {
            io,
            limit,
            stall: None,
        }
    }

    /// Runs one write-side poll; a pending one arms (or checks) the stall timer, any
    /// progress disarms it.
    fn guard<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut T>, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>>
    where
        T: Unpin,
    {
        match op(Pin::new(&mut self.io), cx) {
            Poll::Pending => {
                let limit = self.limit;
                let timer = self
                    .stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    )));
                }
                Poll::Pending
            }
            done => {
                self.stall = None;
                done
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().guard(cx, |io, cx| io.poll_write(cx, b))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guard(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard(cx, |io, cx| io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard(cx, |io, cx| io.poll_shutdown(cx))
    }
}

pub(crate) async fn handle(
    server: &Arc<Server>,
    req: Request<Incoming>,
    latency: Duration,
) -> Response<Body> {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let header = |h: hyper::header::HeaderName| {
        req.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let accept = header(hyper::header::ACCEPT);
    let method = req.method().as_str();
    server.note_request(method, target, header(hyper::header::USER_AGENT));
    if let Some(token) = &server.opts.token {
        if header(hyper::header::AUTHORIZATION) != format!("Bearer {token}") {
            return reply(status(401, "Unauthorized", "Unauthorized", None));
        }
    }
    let api = server.snapshot();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if (method == "GET") && truthy(q.get("watch")) && api.forbidden_resource(&segs).is_none() {
        if let Some((i, ns)) = list_target(&segs) {
            return watch(server, i, ns, &q, accept.contains("as=Table"));
        }
    }
    if server.opts.kubelet_unreachable && method == "GET" {
        if let ["api", "v1", "namespaces", ns, "pods", pod, "log"] = segs.as_slice() {
            if let Some(r) = kubelet_unreachable(&api, ns, pod, &q) {
                return reply(r);
            }
        }
    }
    // An answer is CPU work (a list filtered, serialised, perhaps made a Table): it runs
    // on the blocking pool, so a large one shares the CPU with a small one instead of
    // holding one of the runtime's few workers while every other connection waits.
    let (method, target, accept) = (method.to_string(), target.to_string(), accept.to_string());
    match tokio::task::spawn_blocking(move || api.respond(&method, &target, &accept)).await {
        Ok(r) => reply(r),
        Err(_) => reply(status(500, "InternalError", "the answer failed", None)),
    }
}

/// A log read as the API server answers it when it cannot dial the pod's kubelet:
/// 500 with no reason and Go's `Get "https://…": dial tcp …` text.
fn kubelet_unreachable(
    api: &BundleApi,
    ns: &str,
    pod: &str,
    q: &HashMap<String, String>,
) -> Option<Reply> {
    let p = api.objects("pods").iter().find(|o| {
        field_str(o, "metadata.name") == pod && field_str(o, "metadata.namespace") == ns
    })?;
    let node_name = field_str(p, "spec.nodeName");
    let node = api
        .objects("nodes")
        .iter()
        .find(|n| field_str(n, "metadata.name") == node_name);
    let ip = node
        .and_then(|n| n.pointer("/status/addresses")?.as_array())
        .and_then(|a| {
            a.iter()
                .find(|x| x.get("type").and_then(Value::as_str) == Some("InternalIP"))
        })
        .and_then(|x| x.get("address")?.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            if node_name.is_empty() {
                "10.0.0.5".into()
            } else {
                node_name.clone()
            }
        });
    let port = node
        .and_then(|n| {
            n.pointer("/status/daemonEndpoints/kubeletEndpoint/Port")?
                .as_u64()
        })
        .unwrap_or(10250);
    let container = q.get("container").cloned().unwrap_or_default();
    let mut keys: Vec<(&String, &String)> = q.iter().filter(|(k, _)| *k != "container").collect();
    keys.sort();
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in keys {
        ser.append_pair(k, v);
    }
    let query = ser.finish();
    let mut body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!(
            "Get \"https://{ip}:{port}/containerLogs/{ns}/{pod}/{container}{}{query}\": dial tcp {ip}:{port}: connect: connection refused",
            if query.is_empty() { "" } else { "?" }
        ),
        "code": 500});
    if let Some(o) = body.as_object_mut() {
        o.remove("reason");
    }
    Some(Reply::json(500, &body))
}

#[cfg(test)]
mod stall_tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    const LIMIT: Duration = Duration::from_millis(200);

    /// A peer that never reads: the write fails after the limit instead of hanging.
    #[tokio::test]
    async fn a_write_the_peer_never_reads_times_out() {
        let (a, _b) = tokio::io::duplex(1024);
        let mut g = StallGuard::with_limit(a, LIMIT);
        let t = std::time::Instant::now();
        let err = g.write_all(&[0u8; 4096]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    /// A reader that keeps taking bytes, however slowly, is never cut off.
    #[tokio::test]
    async fn a_slow_reader_is_not_cut_off() {
        use tokio::io::AsyncReadExt;
        let (a, mut b) = tokio::io::duplex(1024);
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0u8; 512];
            while got < 8 * 1024 {
                tokio::time::sleep(LIMIT / 4).await;
                got += b.read(&mut buf).await.unwrap();
            }
            got
        });
        let mut g = StallGuard::with_limit(a, LIMIT);
        g.write_all(&[1u8; 8 * 1024]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 8 * 1024);
    }
}
