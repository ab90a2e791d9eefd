//! HTTP/1.1 glue: listening, one task per connection, the optional latency, the
//! kubeconfig pointing at the server, and a handle that stops it.

use super::*;

/// A running server; dropping it stops accepting connections.
#[derive(Debug)]
pub struct ServerHandle {
    pub(crate) addr: SocketAddr,
    pub(crate) namespace: String,
    pub(crate) stop: Option<oneshot::Sender<()>>,
    pub(crate) task: Option<JoinHandle<()>>,
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
  user: {{}}
preferences: {{}}
",
        url = server_url(addr)
    )
}

/// How long a client may take to send its request headers.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Binds `addr` (port 0 picks a free port) and serves `api` until the handle is shut
/// down or dropped; every response waits `latency` first.
pub async fn start(
    api: Arc<BundleApi>,
    addr: SocketAddr,
    latency: Duration,
) -> io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let namespace = api.default_namespace();
    let (tx, mut rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                acc = listener.accept() => match acc {
                    Ok((stream, _)) => {
                        conns.spawn(serve_conn(api.clone(), stream, latency));
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
    })
}

pub(crate) async fn serve_conn(api: Arc<BundleApi>, stream: TcpStream, latency: Duration) {
    let _ = stream.set_nodelay(true);
    let svc = service_fn(move |req: Request<Incoming>| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(handle(&api, req, latency).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}

pub(crate) async fn handle(
    api: &BundleApi,
    req: Request<Incoming>,
    latency: Duration,
) -> Response<Full<Bytes>> {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let reply = api.respond(req.method().as_str(), target, accept);
    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(reply.content_type),
    );
    resp
}
