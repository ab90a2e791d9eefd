//! The rule catalogue: loads the declarative rules in `checks/*.toml` (embedded at build
//! time, plus optional extra directories), validates them, and documents them for
//! `checks` and `explain`.

pub mod ids;

pub use ids::RuleId;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;

/// The files compiled into the binary: `(file name, contents)`.
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// Context variables a `fix` template may use besides the rule's own captures.
/// Context variables known only when the evidence shows them (e.g. the keys a
/// ConfigMap does have); a fix line using one is dropped when it is unknown.
pub const OPTIONAL_VARS: &[&str] = &[
    "found_keys",
    "other_ns",
    "other_kind",
    // The server's connection settings, when a probe read them.
    "max_connections",
    "reserved",
];

pub const CONTEXT_VARS: &[&str] = &[
    "ca_create",
    "namespace",
    "release",
    "pods",
    "pod",
    "container",
    "ca_kind",
    "ca_name",
    "ca_key",
    "host",
    "port",
    "user",
    "sslmode",
    "chart",
    // Smart Check's connection pools: services x db.maxOpenConnections.
    "services",
    "max_open",
    "pool_budget",
];

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Event,
    Log,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title: String,
    severity: Severity,
    why: String,
    fix: Vec<String>,
    reference: String,
    #[serde(default)]
    code: bool,
    #[serde(default)]
    group_by: Option<Vec<String>>,
    #[serde(default)]
    explains: Vec<String>,
    /// The variables code supplies to `fix` (like pattern captures): a code check's
    /// values, or what the probe adds to a pattern rule's hit (`waited`).
    #[serde(default)]
    vars: Vec<String>,
    #[serde(default)]
    probe: Option<ProbePolicy>,
    #[serde(default, rename = "match")]
    matches: Vec<RawMatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    source: Source,
    pattern: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    containers: Vec<String>,
}

/// How a hit of the database probe, run from the doctor's machine, counts in a
/// diagnosis of the pods (`probe = "…"` in a rule).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ProbePolicy {
    /// The outcome depends on where the client stands (DNS view, network path, the
    /// client address pg_hba.conf matches): it only confirms a log or event finding;
    /// unconfirmed, it becomes PRB002 (info).
    Vantage,
    /// Only confirms when the probe could not read the CA the pods use (a Secret).
    ConfirmWhenCaWithheld,
    /// Measured from here, not the pods' view: PRB003 (info) instead.
    InfoFromHere,
}

/// One entry of the catalogue.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub why: String,
    pub fix: Vec<String>,
    pub reference: String,
    /// Logic lives in `src/`; no patterns.
    pub code: bool,
    /// Captures that identify one root cause.
    pub group_by: Vec<String>,
    /// Rules whose evidence is folded into this finding for the same pod.
    pub explains: Vec<String>,
    pub matchers: Vec<Matcher>,
    /// How a probe hit of this rule counts in a live diagnosis (none: a finding).
    pub probe: Option<ProbePolicy>,
    /// Which file the rule came from (for error messages).
    pub file: String,
}

/// One pattern of a rule.
#[derive(Debug)]
pub struct Matcher {
    pub source: Source,
    pub reason: Option<String>,
    pub regex: Regex,
    containers: Option<GlobSet>,
    pub container_globs: Vec<String>,
}

impl Matcher {
    /// Whether a log of `container` is in scope. An unknown container (a plain log file
    /// or stdin) is in scope of every log rule.
    pub fn applies_to_container(&self, container: Option<&str>) -> bool {
        match (&self.containers, container) {
            (Some(set), Some(c)) => set.is_match(c),
            _ => true,
        }
    }
}

/// The whole catalogue.
#[derive(Debug)]
pub struct Catalogue {
    pub rules: Vec<Rule>,
}

/// A catalogue problem: which file, which rule, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("rule catalogue {file}: {msg}")]
pub struct CatalogueError {
    pub file: String,
    pub msg: String,
}

impl Catalogue {
    /// The catalogue compiled into the binary.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Self::from_sources(EMBEDDED.iter().map(|(n, s)| (n.to_string(), s.to_string())))
    }

    /// The built-in catalogue plus every `*.toml` file in `dirs`. A rule in an extra
    /// file may not reuse a built-in ID.
    pub fn load(dirs: &[impl AsRef<Path>]) -> Result<Catalogue, CatalogueError> {
        let mut sources: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        for dir in dirs {
            let dir = dir.as_ref();
            let err = |e: std::io::Error| CatalogueError {
                file: dir.display().to_string(),
                msg: e.to_string(),
            };
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .map_err(err)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f).map_err(|e| CatalogueError {
                    file: f.display().to_string(),
                    msg: e.to_string(),
                })?;
                sources.push((f.display().to_string(), text));
            }
        }
        Self::from_sources(sources.into_iter())
    }

    /// Parses and validates rule files.
    pub fn from_sources(
        sources: impl Iterator<Item = (String, String)>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut rules = Vec::new();
        let mut seen = HashSet::new();
        for (file, text) in sources {
            let raw: RawFile = toml::from_str(&text).map_err(|e| CatalogueError {
                file: file.clone(),
                msg: e.to_string().trim().replace('\n', " "),
            })?;
            for r in raw.rule {
                let rule = compile(r, &file)?;
                if !seen.insert(rule.id.clone()) {
                    return Err(CatalogueError {
                        file,
                        msg: format!("duplicate rule id {}", rule.id),
                    });
                }
                rules.push(rule);
            }
        }
        let ids: HashSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        for r in &rules {
            for e in &r.explains {
                if !ids.contains(e.as_str()) {
                    return Err(CatalogueError {
                        file: r.file.clone(),
                        msg: format!("{}: explains unknown rule {e}", r.id),
                    });
                }
            }
        }
        Ok(Catalogue { rules })
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id.eq_ignore_ascii_case(id))
    }

    /// Index of a rule by ID; code checks use it to raise their findings.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }

    /// The rule documentation printed by `explain ID`.
    pub fn explain(&self, rule: &Rule) -> String {
        let mut s = format!(
            "{}: {}\n\nseverity: {}\n",
            rule.id, rule.title, rule.severity
        );
        s.push_str(&format!("reference: {}\n\nWhy\n", rule.reference));
        for line in rule.why.trim().lines() {
            s.push_str(&format!("    {line}\n"));
        }
        s.push_str("\nFix\n");
        for line in &rule.fix {
            s.push_str(&format!("    {line}\n"));
        }
        if !rule.matchers.is_empty() {
            s.push_str("\nMatches\n");
            for m in &rule.matchers {
                let scope = match m.source {
                    Source::Event => format!(
                        "event{}",
                        m.reason
                            .as_ref()
                            .map(|r| format!(" reason={r}"))
                            .unwrap_or_default()
                    ),
                    Source::Log if m.container_globs.is_empty() => "log (any container)".into(),
                    Source::Log => format!("log of {}", m.container_globs.join(", ")),
                };
                s.push_str(&format!("    {scope}: {}\n", m.regex.as_str()));
            }
        } else if rule.code {
            s.push_str("\nChecked by the doctor's code (no log pattern).\n");
        }
        s
    }
}

fn compile(r: RawRule, file: &str) -> Result<Rule, CatalogueError> {
    let fail = |msg: String| CatalogueError {
        file: file.to_string(),
        msg: format!("{}: {msg}", r.id),
    };
    let id_ok = !r.id.is_empty()
        && r.id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && r.id.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    if !id_ok {
        return Err(fail(
            "id must be upper-case letters then digits, e.g. NET004".into(),
        ));
    }
    for (name, v) in [
        ("title", &r.title),
        ("why", &r.why),
        ("reference", &r.reference),
    ] {
        if v.trim().is_empty() {
            return Err(fail(format!("{name} is empty")));
        }
    }
    if r.fix.is_empty() {
        return Err(fail("fix is empty".into()));
    }
    if r.code && !r.matches.is_empty() {
        return Err(fail("a code check has no match patterns".into()));
    }
    if !r.code && r.matches.is_empty() {
        return Err(fail(
            "a pattern rule needs at least one [[rule.match]]".into(),
        ));
    }
    let mut matchers = Vec::new();
    let mut captures: BTreeSet<String> = r.vars.iter().cloned().collect();
    for m in &r.matches {
        let regex = Regex::new(&m.pattern).map_err(|e| fail(format!("pattern: {e}")))?;
        captures.extend(regex.capture_names().flatten().map(str::to_string));
        let containers = if m.containers.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for g in &m.containers {
                b.add(Glob::new(g).map_err(|e| fail(format!("container glob {g}: {e}")))?);
            }
            Some(b.build().map_err(|e| fail(e.to_string()))?)
        };
        if m.source == Source::Log && m.reason.is_some() {
            return Err(fail("reason applies to event matches only".into()));
        }
        matchers.push(Matcher {
            source: m.source,
            reason: m.reason.clone(),
            regex,
            containers,
            container_globs: m.containers.clone(),
        });
    }
    let group_by = match r.group_by {
        Some(g) => {
            for c in &g {
                if !captures.contains(c) {
                    return Err(fail(format!(
                        "group_by names {c}, which no pattern captures"
                    )));
                }
            }
            g
        }
        None => captures.iter().cloned().collect(),
    };
    for line in &r.fix {
        for var in template_vars(line) {
            if !captures.contains(var)
                && !CONTEXT_VARS.contains(&var)
                && !OPTIONAL_VARS.contains(&var)
            {
                return Err(fail(format!("fix uses unknown variable {{{var}}}")));
            }
        }
    }
    Ok(Rule {
        id: r.id,
        title: r.title,
        severity: r.severity,
        why: r.why.trim().to_string(),
        fix: r.fix,
        reference: r.reference,
        code: r.code,
        group_by,
        explains: r.explains,
        matchers,
        probe: r.probe,
        file: file.to_string(),
    })
}

/// The `{name}` variables of a template (`{{` is not special: templates are commands,
/// not format strings, and never contain braces otherwise).
pub fn template_vars(t: &str) -> impl Iterator<Item = &str> {
    t.split('{').skip(1).filter_map(|s| {
        let end = s.find('}')?;
        let name = &s[..end];
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then_some(name)
    })
}

/// Fills a template; `None` when a variable has no value (the line is then dropped).
pub fn render_template(t: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && end > 0 =>
            {
                let v = lookup(&after[..end])?;
                if v.is_empty() {
                    return None;
                }
                out.push_str(&v);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_loads_and_ids_are_unique() {
        let c = Catalogue::builtin().unwrap();
        let mut ids: Vec<_> = c.rules.iter().map(|r| r.id.clone()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for id in [
            "MNT001", "MNT002", "NET001", "NET002", "NET003", "AUTH001", "AUTH002", "TLS001",
            "TLS002", "TLS003", "TLS004", "TLS005",
        ] {
            assert!(c.get(id).is_some(), "{id} missing");
        }
    }

    /// The families real clients print: each documented by `explain` and listed in
    /// README's catalogue table.
    #[test]
    fn new_families_are_explained_and_listed() {
        let c = Catalogue::builtin().unwrap();
        let readme = std::fs::read_to_string("README.md").unwrap();
        for id in [
            "AUTH004", "NET006", "NET007", "NET008", "NET009", "TLS010", "TLS011", "TLS012",
            "TLS013", "TLS014", "DB004", "DB005",
        ] {
            let r = c.get(id).unwrap_or_else(|| panic!("{id} missing"));
            let e = c.explain(r);
            assert!(e.contains("\nWhy\n") && e.contains("\nFix\n"), "{e}");
            assert!(readme.contains(id), "README's table does not list {id}");
        }
    }

    #[test]
    fn pattern_rules_may_declare_probe_vars() {
        let c = Catalogue::builtin().unwrap();
        assert!(c
            .get("NET006")
            .unwrap()
            .fix
            .iter()
            .any(|l| l.contains("(waited {waited})")));
        assert!(ids::NET006.vars().contains(&"waited"));
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let text = std::fs::read_to_string("checks/net.toml").unwrap();
        let err = Catalogue::from_sources(
            [("a.toml".into(), text.clone()), ("b.toml".into(), text)].into_iter(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("duplicate rule id NET001"),
            "{err}"
        );
    }

    #[test]
    fn unknown_template_variable_is_rejected() {
        let text = r#"
[[rule]]
id = "X001"
title = "t"
severity = "warn"
why = "w"
fix = ["kubectl get cm {nope}"]
reference = "r"
[[rule.match]]
source = "log"
pattern = "boom"
"#;
        let err =
            Catalogue::from_sources([("x.toml".into(), text.into())].into_iter()).unwrap_err();
        assert!(err.to_string().contains("{nope}"), "{err}");
    }

    #[test]
    fn templates_render_or_drop() {
        let f = |k: &str| (k == "a").then(|| "1".to_string());
        assert_eq!(render_template("x {a} y", f).as_deref(), Some("x 1 y"));
        assert_eq!(render_template("x {b} y", f), None);
        assert_eq!(
            render_template("awk '{ print }'", f).as_deref(),
            Some("awk '{ print }'")
        );
    }
}
