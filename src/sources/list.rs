//! Streaming a kubectl List (`{"items": [...]}`) or a bare array one object at a time,
//! so memory follows what is kept, not the file: each object is held as raw JSON only
//! until it is parsed into its kept form (whole, or reduced to what the analysis uses
//! of another namespace) or counted as left out.

use std::io::{BufReader, Read};

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess};
use serde::de::{SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::limits::{size_label, Limits};
use crate::model::evidence::Evidence;

/// The Lists of one input read so far: the budgets, and the estimated memory kept per
/// kind (by the kept type).
pub(crate) struct Lists<'l> {
    limits: &'l Limits,
    kept: std::collections::BTreeMap<&'static str, u64>,
}

/// How much of a List's objects is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Whole objects, with the whole kept cap of their kind (Smart Check's namespace).
    Whole,
    /// Whole objects within a quarter of the cap (other namespaces' Services, …), so
    /// they cannot crowd out Smart Check's own.
    Aside,
}

/// Reads the List in `r` into `field(ev)`, each object parsed by `parse` (the whole
/// object, or a reduced form: see [`pod_labels_and_ports`], [`name_only`]). Objects that
/// do not parse, objects over the per-object cap and objects past the kept cap of their
/// kind are counted and recorded as skipped; a file cut short keeps the objects read
/// before the cut.
impl<'l> Lists<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Self {
        Lists {
            limits,
            kept: Default::default(),
        }
    }

    pub(crate) fn list_as<T>(
        &mut self,
        ev: &mut Evidence,
        rel: &str,
        r: &mut dyn Read,
        keep: Keep,
        field: impl Fn(&mut Evidence) -> &mut Vec<T>,
        parse: fn(&str) -> serde_json::Result<T>,
    ) {
        let limits = self.limits;
        let cost = self.kept.entry(std::any::type_name::<T>()).or_insert(0);
        let cap = limits.kept_per_kind;
        let room = match keep {
            Keep::Whole => cap,
            Keep::Aside => cap / 4,
        };
        let out = field(ev);
        let base = std::mem::size_of::<T>() as u64;
        let mut take = |s: &str| -> Result<bool, serde_json::Error> {
            // A typed object takes about twice its compact JSON, plus its own size.
            let c = s.len() as u64 * 2 + base;
            if cost.saturating_add(c) > room {
                return Ok(false);
            }
            out.push(parse(s)?);
            *cost += c;
            Ok(true)
        };
        let counts = stream(r, limits, &mut take);
        counts.report(ev, rel, limits);
    }

    /// Reads `field(ev)`'s kind whole (see [`Lists::list_as`]).
    pub(crate) fn list_into<T: DeserializeOwned>(
        &mut self,
        ev: &mut Evidence,
        rel: &str,
        r: &mut dyn Read,
        keep: Keep,
        field: impl Fn(&mut Evidence) -> &mut Vec<T>,
    ) {
        self.list_as(ev, rel, r, keep, field, |s| serde_json::from_str::<T>(s))
    }
}

/// What one List held and what was left out of it.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) seen: usize,
    bad: usize,
    over_size: usize,
    over_keep: usize,
    first_err: Option<String>,
    /// Why the file ended early, or was not a List at all.
    end: Option<serde_json::Error>,
}

impl Counts {
    fn report(self, ev: &mut Evidence, rel: &str, limits: &Limits) {
        let seen = self.seen;
        if let Some(e) = self.end {
            let why = if e.is_data() && seen == 0 {
                let m = e.to_string();
                if m.contains("a list of items") {
                    "items is not a list".to_string()
                } else if m.contains("a kubectl List") {
                    "not a kubectl List".to_string()
                } else {
                    format!("invalid JSON: {e}")
                }
            } else if seen > 0 {
                format!("invalid JSON: {e}; the {seen} object(s) before it were read")
            } else {
                format!("invalid JSON: {e}")
            };
            ev.skip(rel.to_string(), why);
        }
        if self.bad > 0 {
            ev.skip(
                rel.to_string(),
                format!(
                    "{} item(s) unreadable: {}",
                    self.bad,
                    self.first_err.unwrap_or_default()
                ),
            );
        }
        if self.over_size > 0 {
            ev.skip(
                rel.to_string(),
                format!(
                    "{} of {seen} object(s) not read: each over the per-object limit of {}",
                    self.over_size,
                    size_label(limits.object)
                ),
            );
        }
        if self.over_keep > 0 {
            ev.skip(
                rel.to_string(),
                format!(
                    "{} of {seen} object(s) not read: over the {} kept per kind ({} for other namespaces' objects; raise with --max-input-size)",
                    self.over_keep,
                    size_label(limits.kept_per_kind),
                    size_label(limits.kept_per_kind / 4)
                ),
            );
        }
    }
}

/// Streams the objects of a List to `take` as raw JSON text: `Ok(true)` kept,
/// `Ok(false)` over the kept cap, `Err` unreadable as its kind.
pub(crate) fn stream(
    r: &mut dyn Read,
    limits: &Limits,
    take: &mut dyn FnMut(&str) -> Result<bool, serde_json::Error>,
) -> Counts {
    let mut sink = Sink {
        take,
        limits,
        counts: Counts::default(),
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 << 10, r));
    let res = ListSeed(&mut sink)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    let mut counts = sink.counts;
    counts.end = res.err();
    counts
}

/// Where the objects of one List go, with the counts of what was left out.
struct Sink<'a> {
    take: &'a mut dyn FnMut(&str) -> Result<bool, serde_json::Error>,
    limits: &'a Limits,
    counts: Counts,
}

impl Sink<'_> {
    fn offer(&mut self, raw: &RawValue) {
        let c = &mut self.counts;
        c.seen += 1;
        let s = raw.get();
        if s.len() as u64 > self.limits.object {
            c.over_size += 1;
            return;
        }
        match (self.take)(s) {
            Ok(true) => {}
            Ok(false) => c.over_keep += 1,
            Err(e) => {
                c.bad += 1;
                c.first_err.get_or_insert(e.to_string());
            }
        }
    }
}

/// The top of a List file: an object whose `items` are read one by one, or a bare
/// array of objects.
struct ListSeed<'s, 'a>(&'s mut Sink<'a>);

impl<'de> DeserializeSeed<'de> for ListSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a kubectl List")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                map.next_value_seed(ItemsSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        ItemsSeed(self.0).visit_seq(seq)
    }
}

/// The `items` of a List.
struct ItemsSeed<'s, 'a>(&'s mut Sink<'a>);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of items")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            self.0.offer(&raw);
        }
        Ok(())
    }
}

/// An object's name, namespace and labels; every other field is skipped unparsed.
#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, String>>,
}

impl Meta {
    fn object_meta(self, labels: bool) -> ObjectMeta {
        ObjectMeta {
            name: self.name,
            namespace: self.namespace,
            labels: if labels { self.labels } else { None },
            ..Default::default()
        }
    }
}

#[derive(Deserialize, Default)]
struct Named {
    #[serde(default)]
    metadata: Meta,
}

/// A pod reduced to what the NetworkPolicy reasoning reads of a pod outside Smart
/// Check's namespace (the cluster DNS pods), as the live DNS read keeps it.
pub(crate) fn pod_labels_and_ports(s: &str) -> serde_json::Result<Pod> {
    serde_json::from_str::<Pod>(s).map(super::dns::strip_pod)
}

/// A ConfigMap outside Smart Check's namespace: its name only (for "the CA ConfigMap
/// exists in namespace X: copy it").
pub(crate) fn configmap_name(s: &str) -> serde_json::Result<ConfigMap> {
    let n: Named = serde_json::from_str(s)?;
    Ok(ConfigMap {
        metadata: n.metadata.object_meta(false),
        ..Default::default()
    })
}

/// A Secret outside Smart Check's namespace: its name only.
pub(crate) fn secret_name(s: &str) -> serde_json::Result<Secret> {
    let n: Named = serde_json::from_str(s)?;
    Ok(Secret {
        metadata: n.metadata.object_meta(false),
        ..Default::default()
    })
}

/// What the Smart Check search reads of a pod: its namespace, release label and init
/// container names.
#[derive(Deserialize, Default)]
pub(crate) struct PodSketch {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Option<SketchSpec>,
}

#[derive(Deserialize, Default)]
struct SketchSpec {
    #[serde(default, rename = "initContainers")]
    init_containers: Vec<SketchContainer>,
}

#[derive(Deserialize, Default)]
struct SketchContainer {
    #[serde(default)]
    name: String,
}

impl PodSketch {
    pub(crate) fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }

    /// A pod of Smart Check: one of `release` when given, else one with a db-init init
    /// container (as [`Evidence::dssc_pods`] decides).
    pub(crate) fn is_smartcheck(&self, release: Option<&str>) -> bool {
        let of_release = match (release, &self.metadata.labels) {
            (Some(r), Some(l)) => l.get("release").is_some_and(|v| v == r),
            _ => false,
        };
        of_release
            || self.spec.as_ref().is_some_and(|s| {
                s.init_containers
                    .iter()
                    .any(|c| crate::model::evidence::is_db_init(&c.name))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduced_forms_keep_only_what_is_used() {
        let pod = r#"{"metadata":{"name":"coredns-1","namespace":"kube-system","labels":{"k8s-app":"kube-dns"},"annotations":{"a":"b"}},
            "spec":{"containers":[{"name":"coredns","image":"x","env":[{"name":"P","value":"secret"}],"ports":[{"name":"dns","containerPort":53,"protocol":"UDP"}]}]},
            "status":{"phase":"Running"}}"#;
        let p = pod_labels_and_ports(pod).unwrap();
        assert_eq!(p.metadata.name.as_deref(), Some("coredns-1"));
        assert!(p.metadata.annotations.is_none() && p.status.is_none());
        let c = &p.spec.unwrap().containers[0];
        assert!(c.env.is_none() && c.image.is_none());
        assert_eq!(c.ports.as_ref().unwrap()[0].container_port, 53);
        let cm = configmap_name(r#"{"metadata":{"name":"ca","namespace":"default","labels":{"a":"b"}},"data":{"ca.pem":"x"}}"#).unwrap();
        assert!(cm.data.is_none() && cm.metadata.labels.is_none());
        assert_eq!(cm.metadata.name.as_deref(), Some("ca"));
        let s =
            secret_name(r#"{"metadata":{"name":"db"},"data":{"password":"cGFzcw=="}}"#).unwrap();
        assert!(s.data.is_none());
    }

    #[test]
    fn a_sketch_knows_smart_check_pods() {
        let s: PodSketch = serde_json::from_str(
            r#"{"metadata":{"namespace":"t","labels":{"release":"dssc"}},"spec":{"initContainers":[{"name":"auth-db-init"}]}}"#,
        )
        .unwrap();
        assert!(s.is_smartcheck(None) && s.is_smartcheck(Some("dssc")));
        let o: PodSketch =
            serde_json::from_str(r#"{"metadata":{"labels":{"release":"other"}}}"#).unwrap();
        assert!(!o.is_smartcheck(None) && !o.is_smartcheck(Some("dssc")));
        assert!(o.is_smartcheck(Some("other")));
    }
}
