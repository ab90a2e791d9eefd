//! `serve --script FILE`: timed changes to the served bundle, so a test can play an
//! install that comes up, gets stuck or gets fixed while clients watch. YAML:
//!
//! ```yaml
//! steps:
//!   - after: 2s            # since the previous step (the first: since serve started)
//!     apply: [ {apiVersion: v1, kind: ConfigMap, metadata: {name: ca, namespace: ns}} ]
//!     patch: [ {kind: Pod, namespace: ns, name: p, merge: {status: {phase: Running}}} ]
//!     delete: [ {kind: Pod, namespace: ns, name: old} ]
//!     logs: [ {namespace: ns, pod: p, container: db-init, text: "…", restart: true} ]
//!     compact: true        # forget history: resuming watches get 410 Expired
//!     drop_watches: true   # abort open watch connections
//! ```
//!
//! `patch` is a JSON merge patch (RFC 7386). `restart` moves the container's current
//! log to its previous one first, as a new instance starts.

use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub apply: Vec<Value>,
    #[serde(default)]
    pub patch: Vec<Patch>,
    #[serde(default)]
    pub delete: Vec<Ref>,
    #[serde(default)]
    pub logs: Vec<LogStep>,
    #[serde(default)]
    pub compact: bool,
    #[serde(default)]
    pub drop_watches: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub kind: String,
    #[serde(default, rename = "apiVersion")]
    pub api_version: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
    pub merge: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ref {
    pub kind: String,
    #[serde(default, rename = "apiVersion")]
    pub api_version: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogStep {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub text: String,
    #[serde(default)]
    pub restart: bool,
}

/// A parsed script with its delays.
pub struct Timed {
    steps: Vec<(Duration, Step)>,
}

/// The longest a script may run in all.
const MAX_TOTAL: Duration = Duration::from_secs(3600);

/// Reads and checks a script (one-line errors).
pub fn load_script(path: &Path) -> anyhow::Result<Timed> {
    let name = format!("--script {}", path.display());
    let bytes = crate::sources::limits::read_file_capped(path, &name, 1 << 20, "a serve script")?;
    let text =
        String::from_utf8(bytes).map_err(|_| InputError::new(format!("{name}: not UTF-8 text")))?;
    let s: Script = serde_saphyr::from_str(&text)
        .map_err(|e| InputError::new(format!("--script {}: {e}", path.display())))?;
    let mut total = Duration::ZERO;
    let mut steps = Vec::new();
    for (n, st) in s.steps.into_iter().enumerate() {
        let d = match &st.after {
            None => Duration::ZERO,
            Some(a) => crate::model::duration::parse_go(a)
                .map(|(_, d)| d)
                .map_err(|e| {
                    InputError::new(format!(
                        "--script {}: step {}: after: {e}",
                        path.display(),
                        n + 1
                    ))
                })?,
        };
        total += d;
        if total > MAX_TOTAL {
            return Err(InputError::new(format!(
                "--script {}: the steps add up to more than 1h",
                path.display()
            ))
            .into());
        }
        for o in &st.apply {
            resource_of(
                o.get("kind").and_then(Value::as_str).unwrap_or(""),
                o.get("apiVersion").and_then(Value::as_str),
            )
            .ok_or_else(|| {
                InputError::new(format!(
                    "--script {}: step {}: apply: unknown kind {}",
                    path.display(),
                    n + 1,
                    o.get("kind").unwrap_or(&Value::Null)
                ))
            })?;
        }
        steps.push((d, st));
    }
    Ok(Timed { steps })
}

/// The resource of a kind (and apiVersion, when given).
fn resource_of(kind: &str, api_version: Option<&str>) -> Option<usize> {
    RESOURCES
        .iter()
        .position(|d| d.kind == kind && api_version.is_none_or(|v| d.api_version() == v))
}

/// RFC 7386 merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

fn find(api: &BundleApi, i: usize, ns: Option<&str>, name: &str) -> Option<Value> {
    api.objects[i]
        .iter()
        .find(|o| {
            field_str(o, "metadata.name") == name
                && ns.is_none_or(|ns| field_str(o, "metadata.namespace") == ns)
        })
        .cloned()
}

impl Timed {
    /// Plays the steps on `server` (spawned; returns at once).
    pub fn spawn(self, server: Arc<Server>) -> JoinHandle<()> {
        tokio::spawn(async move {
            for (d, st) in self.steps {
                tokio::time::sleep(d).await;
                play(&server, st);
            }
        })
    }
}

fn play(server: &Server, st: Step) {
    let api = server.snapshot();
    let mut edits = Vec::new();
    for mut o in st.apply {
        let kind = o
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let av = o
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(i) = resource_of(&kind, av.as_deref()) {
            if let Some(m) = o.as_object_mut() {
                m.insert("kind".into(), json!(RESOURCES[i].kind));
                m.insert("apiVersion".into(), json!(RESOURCES[i].api_version()));
            }
            edits.push(Edit::Put(i, o));
        }
    }
    for p in st.patch {
        let Some(i) = resource_of(&p.kind, p.api_version.as_deref()) else {
            eprintln!("warning: --script: patch: unknown kind {}", p.kind);
            continue;
        };
        match find(&api, i, p.namespace.as_deref(), &p.name) {
            Some(mut o) => {
                merge(&mut o, &p.merge);
                edits.push(Edit::Put(i, o));
            }
            None => eprintln!("warning: --script: patch: {} {} not found", p.kind, p.name),
        }
    }
    for r in st.delete {
        if let Some(i) = resource_of(&r.kind, r.api_version.as_deref()) {
            if let Some(o) = find(&api, i, r.namespace.as_deref(), &r.name) {
                edits.push(Edit::Delete(i, o));
            }
        }
    }
    for l in st.logs {
        let key = |previous| LogKey {
            namespace: l.namespace.clone(),
            pod: l.pod.clone(),
            container: l.container.clone(),
            previous,
        };
        if l.restart {
            if let Some(cur) = api.logs.get(&key(false)) {
                edits.push(Edit::Log(key(true), cur.clone()));
            }
        }
        edits.push(Edit::Log(
            key(false),
            Bytes::from(l.text.clone().into_bytes()),
        ));
    }
    server.apply(edits);
    if st.compact {
        server.compact();
    }
    if st.drop_watches {
        server.drop_watches();
    }
}
