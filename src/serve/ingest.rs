//! Bundle ingestion: every file of a bundle (directory or tar.gz) read once into
//! memory and sorted into objects per resource and container logs.

use super::*;
use crate::sources::layout::Entry;

/// A container log in the bundle.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct LogKey {
    pub(crate) namespace: String,
    pub(crate) pod: String,
    pub(crate) container: String,
    pub(crate) previous: bool,
}

/// The largest file read into memory.
pub(crate) const MAX_FILE: u64 = 512 * 1024 * 1024;

/// A support bundle held in memory and answered as a Kubernetes API.
#[derive(Debug, Default)]
pub struct BundleApi {
    /// Objects per entry of [`RESOURCES`], each with `kind` and `apiVersion` set.
    pub(crate) objects: Vec<Vec<Value>>,
    pub(crate) logs: HashMap<LogKey, Bytes>,
    pub(crate) version: Option<Value>,
    pub(crate) namespace_hint: Option<String>,
    pub(crate) resource_version: String,
    /// Files that could not be read, with why.
    pub skipped: Vec<(String, String)>,
    /// Resources answered with 403 Forbidden, as an account without those
    /// permissions would see them (plural names: `secrets`, `nodes`).
    pub forbidden: BTreeSet<String>,
    /// Serve Secret values (see [`BundleApi::with_secret_values`]).
    pub(crate) secret_values: bool,
}

impl BundleApi {
    /// Reads every file of a bundle (directory or tar.gz) into memory.
    pub fn load(path: &Path) -> anyhow::Result<BundleApi> {
        let kind = sources::classify(path)?;
        if !matches!(kind, InputKind::BundleDir | InputKind::BundleTarGz) {
            return Err(InputError::new(format!(
                "{}: not a support bundle (a directory with cluster-resources/ or a .tar.gz of one)",
                path.display()
            ))
            .into());
        }
        let mut files = Vec::new();
        // The same budgets as `analyze`: a file over the per-file cap, a second copy of
        // a path and what is past the total are left out (and listed as skipped).
        let budget = sources::limits::Budget::new(sources::limits::Limits::default());
        let file_cap = budget.limits.file.min(MAX_FILE);
        let skips = sources::walk(path, &kind, &budget, |rel, r| {
            let mut buf = Vec::new();
            r.take(file_cap).read_to_end(&mut buf)?;
            files.push((rel.to_string(), buf));
            Ok(())
        })?;
        let mut api = BundleApi::from_files(files);
        api.skipped.extend(skips);
        if api.object_count() == 0 && api.logs.is_empty() && api.version.is_none() {
            return Err(InputError::new(format!(
                "{}: no support-bundle files found (expected cluster-resources/…)",
                path.display()
            ))
            .into());
        }
        Ok(api)
    }

    /// Builds the API from bundle-relative paths and file contents.
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> BundleApi {
        Self::build(files, false)
    }

    /// Like [`BundleApi::from_files`], but Secrets are served with their values, as a
    /// real API server does. Only for tests that stand in for a live cluster (Helm
    /// release decoding, redaction of what the collector reads); `serve` never uses it.
    pub fn with_secret_values(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> BundleApi {
        Self::build(files, true)
    }

    pub(crate) fn build(
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
        secret_values: bool,
    ) -> BundleApi {
        let mut api = BundleApi {
            objects: RESOURCES.iter().map(|_| Vec::new()).collect(),
            secret_values,
            ..Default::default()
        };
        let mut max_rv: u64 = 0;
        for (rel, data) in files {
            match sources::layout::parse(&rel) {
                Entry::Log {
                    namespace: ns,
                    pod,
                    container,
                    previous,
                } => {
                    api.logs.insert(
                        LogKey {
                            namespace: ns.to_string(),
                            pod: pod.to_string(),
                            container: container.to_string(),
                            previous,
                        },
                        Bytes::from(data),
                    );
                }
                Entry::Namespaced { dir, namespace: ns } => {
                    if let Some(i) = RESOURCES
                        .iter()
                        .position(|d| d.namespaced && d.bundle_names.contains(&dir))
                    {
                        api.add_list(i, &rel, &data, Some(ns), &mut max_rv);
                    }
                }
                Entry::ClusterScoped { name: stem } => {
                    if let Some(i) = RESOURCES
                        .iter()
                        .position(|d| !d.namespaced && d.bundle_names.contains(&stem))
                    {
                        api.add_list(i, &rel, &data, None, &mut max_rv);
                    }
                }
                Entry::ClusterVersion => match serde_json::from_slice::<Value>(&data) {
                    Ok(v) => {
                        let info = v.get("info").cloned().unwrap_or(v);
                        if info.is_object() {
                            api.version = Some(info);
                        }
                    }
                    Err(e) => api
                        .skipped
                        .push((rel.clone(), format!("invalid JSON: {e}"))),
                },
                Entry::Doctor("source.json") => {
                    if let Ok(v) = serde_json::from_slice::<Value>(&data) {
                        api.namespace_hint = v
                            .get("namespace")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string);
                    }
                }
                _ => {}
            }
        }
        if let (Some(core), Some(v1)) = (
            RESOURCES
                .iter()
                .position(|d| d.kind == "Event" && d.group.is_empty()),
            RESOURCES.iter().position(|d| d.group == "events.k8s.io"),
        ) {
            let converted: Vec<Value> = api.objects[core].iter().map(to_events_v1).collect();
            api.objects[v1] = converted;
        }
        for list in &mut api.objects {
            list.sort_by(|a, b| {
                let k = |o: &Value| {
                    (
                        field_str(o, "metadata.namespace"),
                        field_str(o, "metadata.name"),
                    )
                };
                k(a).cmp(&k(b))
            });
        }
        api.resource_version = if max_rv > 0 {
            max_rv.to_string()
        } else {
            "1".into()
        };
        api
    }

    pub(crate) fn add_list(
        &mut self,
        i: usize,
        rel: &str,
        data: &[u8],
        ns: Option<&str>,
        max_rv: &mut u64,
    ) {
        let def = &RESOURCES[i];
        let v: Value = match serde_json::from_slice(data) {
            Ok(v) => v,
            Err(e) => {
                self.skipped
                    .push((rel.to_string(), format!("invalid JSON: {e}")));
                return;
            }
        };
        if let Some(rv) = v
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
        {
            *max_rv = (*max_rv).max(rv);
        }
        let items = match v {
            Value::Object(mut o) => match o.remove("items") {
                Some(Value::Array(a)) => a,
                Some(Value::Null) | None => Vec::new(),
                Some(_) => {
                    self.skipped
                        .push((rel.to_string(), "items is not a list".into()));
                    return;
                }
            },
            Value::Array(a) => a,
            _ => {
                self.skipped
                    .push((rel.to_string(), "not a kubectl List".into()));
                return;
            }
        };
        for mut it in items {
            let Some(o) = it.as_object_mut() else {
                continue;
            };
            o.insert("kind".into(), Value::String(def.kind.into()));
            o.insert("apiVersion".into(), Value::String(def.api_version()));
            let meta = o
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Some(ns), Some(m)) = (ns, meta.as_object_mut()) {
                if !m.get("namespace").is_some_and(Value::is_string) {
                    m.insert("namespace".into(), Value::String(ns.to_string()));
                }
            }
            if !self.secret_values {
                // The bundle writer's rules, so a third-party bundle is served as
                // redacted as one this tool wrote.
                crate::redact::object_json(def.kind, &mut it);
            }
            self.objects[i].push(it);
        }
    }

    /// How many objects are served, over all resources.
    pub fn object_count(&self) -> usize {
        self.objects.iter().map(Vec::len).sum()
    }

    /// How many container logs are served.
    pub fn log_count(&self) -> usize {
        self.logs.len()
    }

    /// The objects of one resource (plural name, e.g. `pods`).
    pub fn objects(&self, resource: &str) -> &[Value] {
        RESOURCES
            .iter()
            .position(|d| d.name == resource)
            .and_then(|i| self.objects.get(i))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The namespace a kubeconfig should default to: the bundle's own record of it,
    /// else the namespace of a pod with a `db-init` init container, else the busiest
    /// namespace, else `default`.
    pub fn default_namespace(&self) -> String {
        if let Some(ns) = &self.namespace_hint {
            return ns.clone();
        }
        let pods = self.objects("pods");
        let db_init = pods.iter().find(|p| {
            p.pointer("/spec/initContainers")
                .and_then(Value::as_array)
                .is_some_and(|ics| {
                    ics.iter().any(|c| {
                        c.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(crate::model::evidence::is_db_init)
                    })
                })
        });
        if let Some(p) = db_init {
            return field_str(p, "metadata.namespace");
        }
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for p in pods {
            *count.entry(field_str(p, "metadata.namespace")).or_default() += 1;
        }
        count
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(ns, _)| ns)
            .unwrap_or_else(|| "default".into())
    }
}
