//! The YAML tree the values are merged in: an ordered map with any scalar keys, read by
//! `serde-saphyr` (maintained, reports line:column; the one kube already uses).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

pub use serde_json::Number;

/// One YAML node.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Sequence(Vec<Value>),
    Mapping(Mapping),
}

/// A YAML mapping, in document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping(Vec<(Value, Value)>);

/// What a mapping can be looked up by: a string or a node.
pub trait Key {
    fn is(&self, k: &Value) -> bool;
}

impl Key for str {
    fn is(&self, k: &Value) -> bool {
        matches!(k, Value::String(s) if s == self)
    }
}

impl Key for String {
    fn is(&self, k: &Value) -> bool {
        self.as_str().is(k)
    }
}

impl Key for Value {
    fn is(&self, k: &Value) -> bool {
        self == k
    }
}

impl Mapping {
    pub fn new() -> Mapping {
        Mapping(Vec::new())
    }

    pub fn get<K: Key + ?Sized>(&self, k: &K) -> Option<&Value> {
        self.0.iter().find(|(x, _)| k.is(x)).map(|(_, v)| v)
    }

    pub fn get_mut<K: Key + ?Sized>(&mut self, k: &K) -> Option<&mut Value> {
        self.0.iter_mut().find(|(x, _)| k.is(x)).map(|(_, v)| v)
    }

    /// Sets `k` (in place when present, else at the end); returns the old value.
    pub fn insert(&mut self, k: Value, v: Value) -> Option<Value> {
        match self.get_mut(&k) {
            Some(old) => Some(std::mem::replace(old, v)),
            None => {
                self.0.push((k, v));
                None
            }
        }
    }

    pub fn remove<K: Key + ?Sized>(&mut self, k: &K) -> Option<Value> {
        let i = self.0.iter().position(|(x, _)| k.is(x))?;
        Some(self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn contains_key<K: Key + ?Sized>(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for Mapping {
    type Item = (Value, Value);
    type IntoIter = std::vec::IntoIter<(Value, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Mapping {
    type Item = (&'a Value, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Value, Value)>,
        fn(&'a (Value, Value)) -> (&'a Value, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_mapping(&self) -> bool {
        matches!(self, Value::Mapping(_))
    }

    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self {
            Value::Mapping(m) => Some(m),
            _ => None,
        }
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

/// Parses one YAML document; an empty one is `Null`.
pub fn from_str(text: &str) -> Result<Value, serde_saphyr::Error> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str(text)
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
                // .nan and .inf have no JSON number: kept as their YAML spelling.
                Ok(Number::from_f64(n)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(n.to_string())))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::String(s))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Deserialize::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(Value::Sequence(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut m = Mapping::new();
                while let Some((k, v)) = a.next_entry::<Value, Value>()? {
                    m.insert(k, v);
                }
                Ok(Value::Mapping(m))
            }
        }
        d.deserialize_any(V).map_err(de::Error::custom)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(x) => s.serialize_str(x),
            Value::Sequence(v) => v.serialize(s),
            Value::Mapping(m) => m.serialize(s),
        }
    }
}

impl Serialize for Mapping {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
