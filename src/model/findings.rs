//! Findings: what the checks concluded, one per root cause, with the evidence behind it,
//! why it matters and the fix with the real names filled in. `FindingSet` does the
//! correlation: hits with the same rule and the same identifying captures become one
//! finding that lists every affected subject.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalogue::{render_template, Catalogue, RuleId, Severity};

/// Where a piece of evidence was seen.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Event,
    Log,
    Cluster,
    Probe,
    Values,
    Collector,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Event => "event",
            Origin::Log => "log",
            Origin::Cluster => "cluster",
            Origin::Probe => "probe",
            Origin::Values => "values",
            Origin::Collector => "collector",
        }
    }
}

/// One observation backing a finding. Identical texts are merged and counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub source: Origin,
    pub text: String,
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// The subjects this text was seen on (`namespace/pod/container` for logs).
    pub seen_on: Vec<String>,
}

/// A finding as reported.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub subjects: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub why: String,
    pub fix: Vec<String>,
    pub reference: String,
    pub confirmed_by: Vec<Origin>,
}

/// A subject of a finding: a pod (for event and log evidence) or any named object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Pod { namespace: String, name: String },
    Other(String),
}

impl Subject {
    pub fn label(&self) -> String {
        match self {
            Subject::Pod { namespace, name } if namespace.is_empty() => name.clone(),
            Subject::Pod { namespace, name } => format!("{namespace}/{name}"),
            Subject::Other(s) => s.clone(),
        }
    }
}

/// A hit to be added to the set.
#[derive(Clone, Debug)]
pub struct Hit {
    pub rule: usize,
    pub captures: Vec<(String, String)>,
    pub subject: Option<Subject>,
    pub evidence: Evidence,
    /// Context values (namespace, ca_name, …) known for this subject.
    pub context: BTreeMap<String, String>,
}

impl Hit {
    /// One observation seen once, on `subject`: what code checks, the probe, values and
    /// NetworkPolicy reasoning raise (logs and events carry counts and times instead).
    pub fn single(
        rule: usize,
        captures: Vec<(String, String)>,
        subject: Option<Subject>,
        source: Origin,
        text: String,
        context: BTreeMap<String, String>,
    ) -> Hit {
        let seen_on = subject.iter().map(Subject::label).collect();
        Hit {
            rule,
            captures,
            subject,
            evidence: Evidence {
                source,
                text,
                count: 1,
                first_seen: None,
                last_seen: None,
                seen_on,
            },
            context,
        }
    }
}

struct Building {
    rule: usize,
    captures: BTreeMap<String, String>,
    subjects: BTreeSet<Subject>,
    evidence: Vec<Evidence>,
    context: BTreeMap<String, String>,
    origins: BTreeSet<Origin>,
}

/// Correlates hits into findings.
pub struct FindingSet<'c> {
    cat: &'c Catalogue,
    items: Vec<Building>,
    index: BTreeMap<(usize, Vec<String>), usize>,
}

impl<'c> FindingSet<'c> {
    pub fn new(cat: &'c Catalogue) -> Self {
        FindingSet {
            cat,
            items: Vec::new(),
            index: BTreeMap::new(),
        }
    }

    /// Adds a hit: merged into the finding of the same rule and identifying captures,
    /// or a new finding.
    pub fn add(&mut self, hit: Hit) {
        let key = (hit.rule, self.key_vals(&hit));
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.items.push(Building {
                    rule: hit.rule,
                    captures: BTreeMap::new(),
                    subjects: BTreeSet::new(),
                    evidence: Vec::new(),
                    context: BTreeMap::new(),
                    origins: BTreeSet::new(),
                });
                self.index.insert(key, self.items.len() - 1);
                self.items.len() - 1
            }
        };
        self.merge_into(i, hit);
    }

    /// Merges a hit into a finding of the same rule that is already there, when one
    /// agrees with it: the same identifying captures, or values that differ only where
    /// one side has none (a log line without the user name, say). With `any_of_rule`, a
    /// finding of the same rule that disagrees is taken too. Gives the hit back when
    /// there is no such finding (nothing was added).
    pub fn confirm(&mut self, hit: Hit, any_of_rule: bool) -> Option<Hit> {
        let vals = self.key_vals(&hit);
        let same_rule = || self.index.iter().filter(|((r, _), _)| *r == hit.rule);
        let exact = self.index.get(&(hit.rule, vals.clone())).copied();
        let compatible = || {
            same_rule()
                .find(|((_, k), _)| {
                    k.iter()
                        .zip(&vals)
                        .all(|(a, b)| a == b || a.is_empty() || b.is_empty())
                })
                .map(|(_, &i)| i)
        };
        let first = || same_rule().map(|(_, &i)| i).min().filter(|_| any_of_rule);
        let Some(i) = exact.or_else(compatible).or_else(first) else {
            return Some(hit);
        };
        self.merge_into(i, hit);
        None
    }

    /// The values of the rule's `group_by` captures (empty when absent).
    fn key_vals(&self, hit: &Hit) -> Vec<String> {
        self.cat.rules[hit.rule]
            .group_by
            .iter()
            .map(|g| {
                hit.captures
                    .iter()
                    .find(|(k, _)| k == g)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn merge_into(&mut self, i: usize, hit: Hit) {
        let b = &mut self.items[i];
        for (k, v) in hit.captures {
            b.captures.entry(k).or_insert(v);
        }
        for (k, v) in hit.context {
            b.context.entry(k).or_insert(v);
        }
        if let Some(s) = hit.subject {
            b.subjects.insert(s);
        }
        b.origins.insert(hit.evidence.source);
        merge_evidence(&mut b.evidence, hit.evidence);
    }

    /// Adds a finding raised by code (the rule's metadata still comes from the
    /// catalogue); `captures` are the values of the rule's `vars` that identify the root
    /// cause, named as the rule declares them (checked in debug builds).
    pub fn add_code(
        &mut self,
        id: RuleId,
        subject: Option<Subject>,
        origin: Origin,
        text: String,
        context: BTreeMap<String, String>,
        captures: Vec<(String, String)>,
    ) {
        id.check_vars(captures.iter().map(|(k, _)| k.as_str()));
        if let Some(rule) = self.cat.index_of(id.as_str()) {
            self.add(Hit::single(rule, captures, subject, origin, text, context));
        }
    }

    /// The rule IDs already raised for a pod.
    pub fn ids_for_pod(&self, namespace: &str, name: &str) -> Vec<&str> {
        let s = Subject::Pod {
            namespace: namespace.into(),
            name: name.into(),
        };
        self.items
            .iter()
            .filter(|b| b.subjects.contains(&s))
            .map(|b| self.cat.rules[b.rule].id.as_str())
            .collect()
    }

    /// Whether any finding of at least `min` severity names this pod.
    pub fn explains_pod(&self, namespace: &str, name: &str, min: Severity) -> bool {
        self.ids_for_pod(namespace, name)
            .iter()
            .any(|id| self.cat.get(id).is_some_and(|r| r.severity >= min))
    }

    /// Folds hits of rules that only restate another finding's cause (`explains`) into
    /// that finding, when both are seen on the same pod.
    fn fold_secondary(&mut self) {
        let mut remove = Vec::new();
        for i in 0..self.items.len() {
            let rule = &self.cat.rules[self.items[i].rule];
            if rule.explains.is_empty() {
                continue;
            }
            let target = (0..self.items.len()).find(|&j| {
                j != i
                    && rule
                        .explains
                        .contains(&self.cat.rules[self.items[j].rule].id)
                    && self.items[i]
                        .subjects
                        .iter()
                        .all(|s| self.items[j].subjects.contains(s))
            });
            if let Some(j) = target {
                // A restated symptom is one line of evidence, however many pods
                // repeat it in their own words.
                let mut ev = std::mem::take(&mut self.items[i].evidence).into_iter();
                if let Some(mut first) = ev.next() {
                    for e in ev {
                        first.count += e.count;
                        first.seen_on.extend(e.seen_on);
                        merge_times(&mut first, e.first_seen, e.last_seen);
                    }
                    merge_evidence(&mut self.items[j].evidence, first);
                }
                remove.push(i);
            }
        }
        for i in remove.into_iter().rev() {
            self.items.remove(i);
        }
    }

    /// The findings, most severe first, with their fixes rendered.
    pub fn finish(mut self, defaults: &BTreeMap<String, String>) -> Vec<Finding> {
        self.fold_secondary();
        let mut out: Vec<Finding> = self
            .items
            .into_iter()
            .map(|b| {
                let rule = &self.cat.rules[b.rule];
                let pods: Vec<&Subject> = b
                    .subjects
                    .iter()
                    .filter(|s| matches!(s, Subject::Pod { .. }))
                    .collect();
                let pod_names: Vec<String> = pods
                    .iter()
                    .filter_map(|s| match s {
                        Subject::Pod { name, .. } => Some(name.clone()),
                        _ => None,
                    })
                    .collect();
                let lookup = |k: &str| -> Option<String> {
                    if let Some(v) = b.captures.get(k) {
                        return Some(v.clone());
                    }
                    match k {
                        "pods" if !pod_names.is_empty() => return Some(pod_names.join(" ")),
                        "pod" if !pod_names.is_empty() => return Some(pod_names[0].clone()),
                        _ => {}
                    }
                    if let Some(v) = b.context.get(k).or_else(|| defaults.get(k)) {
                        return Some(v.clone());
                    }
                    // `kubectl create` wants `secret generic` where the kind is `secret`.
                    if k == "ca_create" {
                        let kind = b
                            .captures
                            .get("objkind")
                            .or_else(|| b.context.get("ca_kind"))
                            .or_else(|| defaults.get("ca_kind"));
                        if let Some(kind) = kind {
                            return Some(
                                if kind == "secret" {
                                    "secret generic"
                                } else {
                                    "configmap"
                                }
                                .into(),
                            );
                        }
                    }
                    // A rule capture that did not take part in the match: drop the line.
                    // A context value that is unknown here: a visible placeholder.
                    if crate::catalogue::OPTIONAL_VARS.contains(&k) {
                        return None;
                    }
                    crate::catalogue::CONTEXT_VARS
                        .contains(&k)
                        .then(|| format!("<{k}>"))
                };
                let fix = rule
                    .fix
                    .iter()
                    .filter_map(|t| render_template(t, lookup))
                    .collect();
                let mut evidence = b.evidence;
                for e in &mut evidence {
                    e.seen_on.sort();
                }
                evidence.sort_by(|a, b| a.source.cmp(&b.source).then(b.count.cmp(&a.count)));
                Finding {
                    id: rule.id.clone(),
                    severity: rule.severity,
                    title: rule.title.clone(),
                    subjects: b.subjects.iter().map(Subject::label).collect(),
                    evidence,
                    why: rule.why.clone(),
                    fix,
                    reference: rule.reference.clone(),
                    confirmed_by: b.origins.into_iter().collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        out
    }
}

/// Widens `x`'s time span by another observation's: the earliest first time and the
/// latest last time, where an observation without a time says nothing (`None` is not
/// "earlier than everything").
fn merge_times(x: &mut Evidence, first: Option<String>, last: Option<String>) {
    if first.is_some() && (x.first_seen.is_none() || first < x.first_seen) {
        x.first_seen = first;
    }
    if last > x.last_seen {
        x.last_seen = last;
    }
}

fn merge_evidence(list: &mut Vec<Evidence>, e: Evidence) {
    if let Some(x) = list
        .iter_mut()
        .find(|x| x.source == e.source && x.text == e.text)
    {
        x.count += e.count;
        merge_times(x, e.first_seen, e.last_seen);
        for s in e.seen_on {
            if !x.seen_on.contains(&s) {
                x.seen_on.push(s);
            }
        }
    } else {
        list.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folding a secondary finding's evidence kept `Option::min` of the times, so one
    /// observation without a timestamp erased the earliest time of the others.
    #[test]
    fn folded_evidence_keeps_the_earliest_time_when_one_has_none() {
        let cat = Catalogue::builtin().unwrap();
        let pod = Subject::Pod {
            namespace: "ns".into(),
            name: "p".into(),
        };
        let ev = |text: &str, t: Option<&str>| Evidence {
            source: Origin::Event,
            text: text.into(),
            count: 1,
            first_seen: t.map(Into::into),
            last_seen: t.map(Into::into),
            seen_on: vec![pod.label()],
        };
        let hit = |id: crate::catalogue::RuleId, e: Evidence| Hit {
            rule: cat.index_of(id.as_str()).unwrap(),
            captures: vec![],
            subject: Some(pod.clone()),
            evidence: e,
            context: BTreeMap::new(),
        };
        use crate::catalogue::ids;
        let mut set = FindingSet::new(&cat);
        set.add(hit(
            ids::MNT001,
            ev("not found", Some("2024-01-01T00:00:05Z")),
        ));
        set.add(hit(ids::MNT003, ev("no time", None)));
        set.add(hit(ids::MNT003, ev("later", Some("2024-01-01T00:00:02Z"))));
        let f = set.finish(&BTreeMap::new());
        let mnt001 = f.iter().find(|f| f.id == "MNT001").expect("MNT001");
        let folded = mnt001
            .evidence
            .iter()
            .find(|e| e.text == "no time")
            .expect("MNT003 folded into MNT001");
        assert_eq!(folded.first_seen.as_deref(), Some("2024-01-01T00:00:02Z"));
    }
}
