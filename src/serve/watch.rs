//! Watches as the real API server streams them: `?watch=1|true` on a list path, a
//! chunked `application/json` body with one `{"type","object"}` line per event.
//! Without a resourceVersion (or `0`) every current object comes first as `ADDED`;
//! with one, the changes after it; one older than the kept history gets a single
//! `ERROR` event with a 410 `Expired` Status inside a 200 stream, as the watch cache
//! answers. `BOOKMARK`s only when asked for (`allowWatchBookmarks`); the stream ends
//! after `timeoutSeconds`. Table watches (kubectl) get one-row Tables, column
//! definitions on the first event only.

use futures::stream;
use http_body_util::{combinators::BoxBody, BodyExt, StreamBody};
use hyper::body::Frame;

use super::*;

pub(crate) type Body = BoxBody<Bytes, io::Error>;

/// A resource list path: (resource index, namespace).
pub(crate) fn list_target(segs: &[&str]) -> Option<(usize, Option<String>)> {
    let (group, version, rest) = match segs {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let find = |name: &str| {
        RESOURCES
            .iter()
            .position(|d| d.group == group && d.version == version && d.name == name)
    };
    match rest {
        ["namespaces", ns, res] => find(res)
            .filter(|&i| RESOURCES[i].namespaced)
            .map(|i| (i, Some(ns.to_string()))),
        [res] => find(res).map(|i| (i, None)),
        _ => None,
    }
}

struct Filter {
    resource: usize,
    ns: Option<String>,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    fn matches(&self, resource: usize, o: &Value) -> bool {
        resource == self.resource
            && self
                .ns
                .as_ref()
                .is_none_or(|ns| field_str(o, "metadata.namespace") == *ns)
            && self.labels.as_ref().is_none_or(|s| s.matches(o))
            && self.fields.as_ref().is_none_or(|s| s.matches(o))
    }
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// Answers a watch request (the caller checked access already).
pub(crate) fn watch(
    server: &Arc<Server>,
    resource: usize,
    ns: Option<String>,
    q: &HashMap<String, String>,
    table: bool,
) -> Response<Body> {
    let labels = match q.get("labelSelector").map(|s| LabelSelector::parse(s)) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => return reply(bad_request(format!("unable to parse requirement: {e}"))),
        None => None,
    };
    let fields = match q.get("fieldSelector").map(|s| FieldSelector::parse(s)) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => return reply(bad_request(format!("invalid field selector: {e}"))),
        None => None,
    };
    let since = match q.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return reply(bad_request(format!("invalid resource version: \"{s}\""))),
        },
    };
    let bookmarks = truthy(q.get("allowWatchBookmarks"));
    let deadline = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(server.opts.watch_max)
        .min(server.opts.watch_max);
    let filter = Filter {
        resource,
        ns,
        labels,
        fields,
    };
    // Subscribe before reading the state, so no change falls between the two.
    let mut rx = server.tx.subscribe();
    let snapshot = server.snapshot();
    let (start_rv, initial, expired) = {
        let h = match server.history.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match since {
            None => (
                h.rv,
                snapshot.objects[resource]
                    .iter()
                    .filter(|o| filter.matches(resource, o))
                    .map(|o| ("ADDED", o.clone()))
                    .collect::<Vec<_>>(),
                None,
            ),
            Some(n) if n + 1 < h.oldest => (h.rv, Vec::new(), Some((n, h.oldest))),
            Some(n) => (
                h.rv,
                h.changes
                    .iter()
                    .filter(|c| c.rv > n && filter.matches(c.resource, &c.object))
                    .map(|c| (c.kind, c.object.clone()))
                    .collect(),
                None,
            ),
        }
    };
    let def = &RESOURCES[resource];
    let (tx, out) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, io::Error>>(64);
    let server = server.clone();
    tokio::spawn(async move {
        let mut first = true;
        let render = |o: Value, first: &mut bool| -> Value {
            if !table {
                return o;
            }
            let mut t = snapshot.table(def, &[&o]);
            if !*first {
                if let Some(m) = t.as_object_mut() {
                    m.insert("columnDefinitions".into(), Value::Array(Vec::new()));
                }
            }
            *first = false;
            t
        };
        if let Some((n, oldest)) = expired {
            let st = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "reason": "Expired", "code": 410,
                "message": format!("too old resource version: {n} ({oldest})")});
            let _ = tx.send(Ok(Frame::data(line("ERROR", st)))).await;
            return;
        }
        let mut last = start_rv;
        for (kind, o) in initial {
            let o = render(o, &mut first);
            if tx.send(Ok(Frame::data(line(kind, o)))).await.is_err() {
                return;
            }
        }
        let end = tokio::time::sleep(deadline);
        tokio::pin!(end);
        let mut tick = tokio::time::interval(server.opts.bookmark_interval);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut end => return,
                _ = tick.tick(), if bookmarks => {
                    let b = json!({"kind": def.kind, "apiVersion": def.api_version(),
                        "metadata": {"resourceVersion": last.to_string()}});
                    if tx.send(Ok(Frame::data(line("BOOKMARK", b)))).await.is_err() {
                        return;
                    }
                }
                n = rx.recv() => match n {
                    Ok(Notice::Change(c)) => {
                        if c.rv <= last {
                            continue;
                        }
                        last = last.max(c.rv);
                        if !filter.matches(c.resource, &c.object) {
                            continue;
                        }
                        let o = render(c.object.clone(), &mut first);
                        if tx.send(Ok(Frame::data(line(c.kind, o)))).await.is_err() {
                            return;
                        }
                    }
                    Ok(Notice::Drop) => {
                        let _ = tx.send(Err(io::Error::other("watch dropped"))).await;
                        return;
                    }
                    // A watcher too slow to keep up is ended, as the watch cache does.
                    Err(_) => return,
                }
            }
        }
    });
    let body = StreamBody::new(stream::unfold(out, |mut rx| async move {
        rx.recv().await.map(|x| (x, rx))
    }));
    let mut resp = Response::new(BodyExt::boxed(body));
    let h = resp.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache, private"),
    );
    resp
}

/// A plain reply as a response.
pub(crate) fn reply(r: Reply) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(r.body)
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *resp.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(r.content_type),
    );
    resp
}
