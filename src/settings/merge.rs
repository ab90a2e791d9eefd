//! Loading and merging values files like `helm install -f a.yaml -f b.yaml` (maps
//! merge deeply, later wins, `null` removes a key), then `--set`; malformed YAML is an
//! input error with file:line:column.

use super::*;
use crate::sources::limits::{read_capped, read_file_capped, MAX_VALUES_FILE};

/// Loads and merges values like `helm install -f FILE… --set SET…`. A file `-` is
/// stdin. Unreadable files, malformed YAML (reported as `file:line:column: message`)
/// and malformed `--set` strings are input errors (exit code 2).
pub fn load(files: &[PathBuf], sets: &[String]) -> Result<Values, InputError> {
    let mut b = Builder::default();
    for f in files {
        let name = f.display().to_string();
        let bytes = if name == "-" {
            read_capped(std::io::stdin(), "stdin", MAX_VALUES_FILE, "a values file")?
        } else {
            read_file_capped(f, &name, MAX_VALUES_FILE, "a values file")?
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            InputError::new(format!(
                "{name}: not UTF-8 text (byte {} is invalid); save the values file as UTF-8",
                e.utf8_error().valid_up_to()
            ))
        })?;
        b.add_yaml(&name, &text)?;
    }
    for s in sets {
        b.add_set(s)?;
    }
    Ok(b.finish())
}

#[derive(Default)]
pub(crate) struct Builder {
    pub(crate) merged: Mapping,
    pub(crate) origins: BTreeMap<String, String>,
}

impl Builder {
    pub(crate) fn add_yaml(&mut self, name: &str, text: &str) -> Result<(), InputError> {
        // Merge keys (`<<: *anchor`) are expanded while parsing.
        let v: Value = yaml::from_str(text).map_err(|e| yaml_error(name, &e))?;
        let map = match v {
            Value::Null => Mapping::new(),
            Value::Mapping(m) => m,
            other => {
                return Err(InputError::new(format!(
                    "{name}: the values must be a map of keys, not {}",
                    kind_of(&other)
                )))
            }
        };
        self.overlay(name, map);
        Ok(())
    }

    pub(crate) fn add_set(&mut self, s: &str) -> Result<(), InputError> {
        let map = parse_set(s).map_err(|e| {
            // A long argument is shown by its start only.
            let shown: String = s.chars().take(120).collect();
            let more = if shown.len() < s.len() { "…" } else { "" };
            InputError::new(format!("--set {shown}{more}: {e}"))
        })?;
        self.overlay("--set", map);
        Ok(())
    }

    pub(crate) fn overlay(&mut self, name: &str, map: Mapping) {
        record_origins(&map, "", name, &mut self.origins);
        merge(&mut self.merged, map);
    }

    pub(crate) fn finish(self) -> Values {
        let mut r = Reader {
            origins: &self.origins,
            issues: Vec::new(),
        };
        let (db, np_enabled, ports) = r.read(&self.merged);
        let problems = r.issues;
        Values {
            merged: self.merged,
            origins: self.origins,
            db,
            network_policy_enabled: np_enabled,
            additional_outbound_ports: ports,
            problems,
        }
    }
}

pub(crate) fn yaml_error(name: &str, e: &serde_saphyr::Error) -> InputError {
    let text = e.to_string();
    let mut msg = text.lines().next().unwrap_or_default().to_string();
    // The message names the position as " at line L, column C" (the first one is where
    // the parser stopped); it goes in front, as compilers print it.
    let mut pos = e.location().map(|l| (l.line(), l.column()));
    if let Some(i) = msg.find(" at line ") {
        let rest = &msg[i + " at line ".len()..];
        let nums: Vec<u64> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .take(2)
            .filter_map(|n| n.parse().ok())
            .collect();
        if let [line, column] = nums[..] {
            pos = Some((line, column));
        }
        msg.truncate(i);
    }
    match pos {
        Some((line, column)) => {
            InputError::new(format!("{name}:{line}:{column}: malformed YAML: {msg}"))
        }
        None => InputError::new(format!("{name}: malformed YAML: {msg}")),
    }
}

pub(crate) fn record_origins(
    map: &Mapping,
    prefix: &str,
    name: &str,
    out: &mut BTreeMap<String, String>,
) {
    for (k, v) in map {
        let path = join(prefix, &key_str(k));
        out.insert(path.clone(), name.to_string());
        if let Value::Mapping(m) = v {
            record_origins(m, &path, name, out);
        }
    }
}

/// Helm's merge of user values: maps merge key by key, anything else replaces, and
/// `null` deletes the key.
pub(crate) fn merge(base: &mut Mapping, over: Mapping) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (_, Value::Null) => {
                base.remove(&k);
            }
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

pub(crate) fn key_str(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => show(other),
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
    }
}

/// A value in one line, flow style.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Sequence(s) => format!("[{}]", s.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Mapping(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", key_str(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `show`, except for keys that hold secrets.
pub(crate) fn show_at(path: &str, v: &Value) -> String {
    if SECRET_PATHS.contains(&path) {
        HIDDEN.into()
    } else {
        show(v)
    }
}
