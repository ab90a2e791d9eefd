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

/// How long a client may take to send its request headers.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

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
        loop {
            tokio::select! {
                _ = &mut rx => break,
                acc = listener.accept() => match acc {
                    Ok((stream, _)) => {
                        conns.spawn(serve_conn(srv.clone(), stream, latency));
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
        .serve_connection(TokioIo::new(stream), svc)
        .await;
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
    reply(api.respond(method, target, accept))
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
