//! Label and field selectors of list requests, parsed and matched against JSON
//! objects.

use super::*;
use kube::core::{Expression, SelectorExt};

/// Splits on commas outside parentheses, honouring backslash escapes.
pub(crate) fn split_terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth <= 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// One requirement of a label selector: a set-based or equality requirement (matched
/// by `kube::core`, as NetworkPolicy selectors are), or kubectl's numeric `>`/`<`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelReq {
    Expr(Expression),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed `labelSelector` (requirements ANDed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<LabelReq>);

pub(crate) fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        for t in split_terms(s) {
            let key_ok = |k: &str| -> Result<String, String> {
                let k = k.trim();
                if valid_key(k) {
                    Ok(k.to_string())
                } else {
                    Err(format!("invalid label key \"{k}\" in \"{t}\""))
                }
            };
            let req = if let Some(open) = t.find('(') {
                let head = &t[..open];
                let Some(body) = t[open + 1..].strip_suffix(')') else {
                    return Err(format!("found '{t}', expected: ')'"));
                };
                let vals: Vec<String> = body
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect();
                let words: Vec<&str> = head.split_whitespace().collect();
                match words.as_slice() {
                    [k, "in"] => {
                        LabelReq::Expr(Expression::In(key_ok(k)?, vals.into_iter().collect()))
                    }
                    [k, "notin"] => {
                        LabelReq::Expr(Expression::NotIn(key_ok(k)?, vals.into_iter().collect()))
                    }
                    _ => return Err(format!("found '{t}', expected: in, notin")),
                }
            } else if let Some(k) = t.strip_prefix('!') {
                LabelReq::Expr(Expression::DoesNotExist(key_ok(k)?))
            } else if let Some((k, v)) = t.split_once("!=") {
                LabelReq::Expr(Expression::NotEqual(key_ok(k)?, v.trim().to_string()))
            } else if let Some((k, v)) = t.split_once("==") {
                LabelReq::Expr(Expression::Equal(key_ok(k)?, v.trim().to_string()))
            } else if let Some((k, v)) = t.split_once('=') {
                LabelReq::Expr(Expression::Equal(key_ok(k)?, v.trim().to_string()))
            } else if let Some((k, v)) = t.split_once('>') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid number in \"{t}\""))?;
                LabelReq::Gt(key_ok(k)?, n)
            } else if let Some((k, v)) = t.split_once('<') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid number in \"{t}\""))?;
                LabelReq::Lt(key_ok(k)?, n)
            } else {
                LabelReq::Expr(Expression::Exists(key_ok(&t)?))
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels: BTreeMap<String, String> = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let number = |k: &str| labels.get(k).and_then(|x| x.parse::<i64>().ok());
        self.0.iter().all(|r| match r {
            LabelReq::Expr(e) => e.matches(&labels),
            LabelReq::Gt(k, n) => number(k).is_some_and(|x| x > *n),
            LabelReq::Lt(k, n) => number(k).is_some_and(|x| x < *n),
        })
    }
}

/// A parsed `fieldSelector`: `path=value`, `path==value`, `path!=value`, ANDed. Any
/// dotted path of the object can be used (`involvedObject.name`, `status.phase`…).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl FieldSelector {
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for t in split_terms(s) {
            let (k, eq, v) = if let Some((k, v)) = t.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = t.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = t.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!("invalid selector: '{t}'; can't understand '{t}'"));
            };
            let k = k.trim();
            if !valid_key(k) {
                return Err(format!("invalid field path \"{k}\""));
            }
            reqs.push((k.to_string(), eq, unescape(v.trim())));
        }
        Ok(FieldSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0
            .iter()
            .all(|(k, eq, v)| (field_str(obj, k) == *v) == *eq)
    }
}
