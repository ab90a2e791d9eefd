//! The served state over time: the bundle as it is now (replaced whole on every
//! change, so plain requests still read one immutable [`BundleApi`]), a resource
//! version bumped per change, a bounded history of changes for watches that resume,
//! and a broadcast of new changes to open watches. Plus the fault injections a real
//! cluster shows (a token that must match, kubelets that cannot be reached) and an
//! access log of request line and User-Agent.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use tokio::sync::broadcast;

use super::*;

/// How `serve` behaves beyond answering from the bundle.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Requests must carry `Authorization: Bearer TOKEN`, else 401 (as a real server
    /// answers a rejected or expired token).
    pub token: Option<String>,
    /// Log reads fail as they do when the API server cannot reach the node's kubelet.
    pub kubelet_unreachable: bool,
    /// Appends `METHOD TARGET UA=…` per request.
    pub access_log: Option<PathBuf>,
    /// How often a watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
    /// The longest a watch stream lasts without `timeoutSeconds`.
    pub watch_max: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            token: None,
            kubelet_unreachable: false,
            access_log: None,
            bookmark_interval: Duration::from_secs(60),
            watch_max: Duration::from_secs(1800),
        }
    }
}

/// One change to one object, as a watch event.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub resource: usize,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    pub object: Value,
}

/// What open watches are told.
#[derive(Clone, Debug)]
pub(crate) enum Notice {
    Change(Arc<Change>),
    /// Abort every open watch connection (no terminating chunk).
    Drop,
}

/// How many changes are kept for watches resuming from an older resourceVersion.
const HISTORY: usize = 10_000;

pub(crate) struct History {
    pub(crate) rv: u64,
    pub(crate) changes: VecDeque<Arc<Change>>,
    /// The oldest resourceVersion a watch may resume from.
    pub(crate) oldest: u64,
}

/// A bundle served over time.
pub struct Server {
    pub(crate) api: RwLock<Arc<BundleApi>>,
    pub(crate) history: Mutex<History>,
    pub(crate) tx: broadcast::Sender<Notice>,
    pub opts: ServeOptions,
    access: Option<Mutex<std::fs::File>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("opts", &self.opts).finish()
    }
}

impl Server {
    pub fn new(api: BundleApi, opts: ServeOptions) -> io::Result<Server> {
        let rv = api.resource_version.parse::<u64>().unwrap_or(1).max(1);
        let access = match &opts.access_log {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            )),
            None => None,
        };
        let (tx, _) = broadcast::channel(4096);
        Ok(Server {
            api: RwLock::new(Arc::new(api)),
            history: Mutex::new(History {
                rv,
                changes: VecDeque::new(),
                oldest: rv,
            }),
            tx,
            opts,
            access,
        })
    }

    /// The bundle as served now.
    pub fn snapshot(&self) -> Arc<BundleApi> {
        match self.api.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub(crate) fn note_request(&self, method: &str, target: &str, ua: &str) {
        if let Some(f) = &self.access {
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{method} {target} UA={ua}");
            }
        }
    }

    /// Applies changes: each object (full, with kind and apiVersion) replaces the one
    /// of the same resource, namespace and name (ADDED when new), or is removed
    /// (`delete`); logs are set per container. Watches see every change.
    pub(crate) fn apply(&self, edits: Vec<Edit>) {
        let mut hist = match self.history.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let old = self.snapshot();
        let mut objects = old.objects.clone();
        let mut logs = old.logs.clone();
        let mut out = Vec::new();
        for e in edits {
            let (i, mut obj, delete) = match e {
                Edit::Put(i, o) => (i, o, false),
                Edit::Delete(i, o) => (i, o, true),
                Edit::Log(key, data) => {
                    logs.insert(key, data);
                    continue;
                }
            };
            if i >= objects.len() {
                continue;
            }
            let key = (
                field_str(&obj, "metadata.namespace"),
                field_str(&obj, "metadata.name"),
            );
            let pos = objects[i].iter().position(|o| {
                (
                    field_str(o, "metadata.namespace"),
                    field_str(o, "metadata.name"),
                ) == key
            });
            let kind = match (pos, delete) {
                (None, true) => continue,
                (Some(p), true) => {
                    obj = objects[i].remove(p);
                    "DELETED"
                }
                (Some(_), false) => "MODIFIED",
                (None, false) => "ADDED",
            };
            hist.rv += 1;
            set_rv(&mut obj, hist.rv);
            match (pos, delete) {
                (Some(p), false) => objects[i][p] = obj.clone(),
                (None, false) => objects[i].push(obj.clone()),
                _ => {}
            }
            out.push(Change {
                rv: hist.rv,
                resource: i,
                kind,
                object: obj,
            });
        }
        // The events.k8s.io view follows the core events.
        let core = RESOURCES
            .iter()
            .position(|d| d.kind == "Event" && d.group.is_empty());
        let v1 = RESOURCES.iter().position(|d| d.group == "events.k8s.io");
        if let (Some(core), Some(v1)) = (core, v1) {
            objects[v1] = objects[core].iter().map(to_events_v1).collect();
            let extra: Vec<Change> = out
                .iter()
                .filter(|c| c.resource == core)
                .map(|c| Change {
                    resource: v1,
                    object: to_events_v1(&c.object),
                    ..c.clone()
                })
                .collect();
            out.extend(extra);
        }
        let next = BundleApi {
            objects,
            logs,
            version: old.version.clone(),
            namespace_hint: old.namespace_hint.clone(),
            resource_version: hist.rv.to_string(),
            forbidden: old.forbidden.clone(),
            secret_values: old.secret_values,
            ..Default::default()
        };
        match self.api.write() {
            Ok(mut g) => *g = Arc::new(next),
            Err(p) => *p.into_inner() = Arc::new(next),
        }
        for c in out {
            let c = Arc::new(c);
            hist.changes.push_back(c.clone());
            if hist.changes.len() > HISTORY {
                if let Some(f) = hist.changes.pop_front() {
                    hist.oldest = f.rv;
                }
            }
            let _ = self.tx.send(Notice::Change(c));
        }
    }

    /// Forgets the history: watches resuming from before now get `410 Expired`.
    pub fn compact(&self) {
        if let Ok(mut h) = self.history.lock() {
            h.changes.clear();
            h.oldest = h.rv + 1;
        }
    }

    /// Aborts every open watch connection, as a dropped connection does.
    pub fn drop_watches(&self) {
        let _ = self.tx.send(Notice::Drop);
    }
}

/// One change to apply.
#[derive(Clone, Debug)]
pub(crate) enum Edit {
    /// Create or replace an object of resource `RESOURCES[i]`.
    Put(usize, Value),
    /// Remove an object (namespace and name are enough).
    Delete(usize, Value),
    /// Set a container log.
    Log(LogKey, Bytes),
}

fn set_rv(obj: &mut Value, rv: u64) {
    if let Some(o) = obj.as_object_mut() {
        let m = o
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(m) = m.as_object_mut() {
            m.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
    }
}
