//! Helm's `--set` syntax (`a.b=c,d=e`, `\` escapes, `list={x,y}`, `list[0]=x`,
//! typed scalars), hand-written: no crate parses it.

use super::*;

/// Values nest far less deep than this; the limit keeps the nested merge off the end
/// of the stack.
const MAX_KEY_PARTS: usize = 64;
/// The longest `--set` argument read.
const MAX_SET_BYTES: usize = 64 * 1024;

/// Parses one `--set` argument with Helm's syntax: `a.b=c,d=e`, `\` escapes the next
/// character (`a\.b=c` is the key `a.b`), `list={x,y}`, `list[0]=x`; values `true`,
/// `false`, `null` and integers (without a leading 0) are typed, the rest are strings.
pub fn parse_set(s: &str) -> Result<Mapping, String> {
    if s.len() > MAX_SET_BYTES {
        return Err(format!("longer than {} KiB", MAX_SET_BYTES / 1024));
    }
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Mapping::new();
    while i < chars.len() {
        // Key up to the unescaped '='.
        let mut segs: Vec<(String, Option<usize>)> = Vec::new();
        let mut cur = String::new();
        let mut index: Option<usize> = None;
        loop {
            let Some(&c) = chars.get(i) else {
                return Err(format!("key \"{}\" has no value", render_key(&segs, &cur)));
            };
            i += 1;
            match c {
                '\\' => {
                    if let Some(&n) = chars.get(i) {
                        cur.push(n);
                        i += 1;
                    }
                }
                '.' => {
                    segs.push((std::mem::take(&mut cur), index.take()));
                    if segs.len() >= MAX_KEY_PARTS {
                        return Err(format!("key has more than {MAX_KEY_PARTS} parts"));
                    }
                }
                '[' => {
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == ']')
                        .ok_or("unclosed [ in key")?;
                    let num: String = chars[i..i + end].iter().collect();
                    let n: usize = num
                        .parse()
                        .map_err(|_| format!("list index {num:?} is not a number"))?;
                    if n > 10_000 {
                        return Err(format!("list index {n} is too large"));
                    }
                    if index.is_some() {
                        return Err("nested list indexes are not supported".into());
                    }
                    index = Some(n);
                    i += end + 1;
                }
                ',' => {
                    return Err(format!("key \"{}\" has no value", render_key(&segs, &cur)));
                }
                '=' => break,
                c => cur.push(c),
            }
        }
        segs.push((cur, index));
        if segs.iter().any(|(k, _)| k.is_empty()) {
            return Err("empty key".into());
        }
        // Value: a {list} or text up to the unescaped ','.
        let value = if chars.get(i) == Some(&'{') {
            i += 1;
            let mut items = Vec::new();
            let mut item = String::new();
            loop {
                let Some(&c) = chars.get(i) else {
                    return Err("unclosed { in list value".into());
                };
                i += 1;
                match c {
                    '\\' => {
                        if let Some(&n) = chars.get(i) {
                            item.push(n);
                            i += 1;
                        }
                    }
                    ',' => items.push(typed(&std::mem::take(&mut item))),
                    '}' => {
                        if !item.is_empty() || !items.is_empty() {
                            items.push(typed(&item));
                        }
                        break;
                    }
                    c => item.push(c),
                }
            }
            match chars.get(i) {
                None => {}
                Some(',') => i += 1,
                Some(c) => return Err(format!("unexpected {c:?} after a list value")),
            }
            Value::Sequence(items)
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.get(i) {
                i += 1;
                match c {
                    '\\' => {
                        if let Some(&n) = chars.get(i) {
                            text.push(n);
                            i += 1;
                        }
                    }
                    ',' => break,
                    c => text.push(c),
                }
            }
            typed(&text)
        };
        set_path(&mut out, &segs, value)?;
    }
    Ok(out)
}

fn render_key(segs: &[(String, Option<usize>)], cur: &str) -> String {
    let mut parts: Vec<String> = segs
        .iter()
        .map(|(k, i)| match i {
            Some(i) => format!("{k}[{i}]"),
            None => k.clone(),
        })
        .collect();
    parts.push(cur.to_string());
    parts.join(".")
}

/// Helm's typing of `--set` values.
fn typed(s: &str) -> Value {
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        "0" => Value::Number(0.into()),
        _ => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if !digits.is_empty() && !digits.starts_with('0') {
                if let Ok(n) = s.parse::<i64>() {
                    return Value::Number(n.into());
                }
            }
            Value::String(s.to_string())
        }
    }
}

fn set_path(m: &mut Mapping, segs: &[(String, Option<usize>)], v: Value) -> Result<(), String> {
    let Some(((key, index), rest)) = segs.split_first() else {
        return Ok(());
    };
    let k = Value::String(key.clone());
    match index {
        None if rest.is_empty() => {
            m.insert(k, v);
        }
        None => {
            if !matches!(m.get(&k), Some(Value::Mapping(_))) {
                m.insert(k.clone(), Value::Mapping(Mapping::new()));
            }
            if let Some(Value::Mapping(sub)) = m.get_mut(&k) {
                set_path(sub, rest, v)?;
            }
        }
        Some(i) => {
            if !matches!(m.get(&k), Some(Value::Sequence(_))) {
                m.insert(k.clone(), Value::Sequence(Vec::new()));
            }
            if let Some(Value::Sequence(seq)) = m.get_mut(&k) {
                if seq.len() <= *i {
                    seq.resize(i + 1, Value::Null);
                }
                if rest.is_empty() {
                    seq[*i] = v;
                } else {
                    if !matches!(seq[*i], Value::Mapping(_)) {
                        seq[*i] = Value::Mapping(Mapping::new());
                    }
                    if let Value::Mapping(sub) = &mut seq[*i] {
                        set_path(sub, rest, v)?;
                    }
                }
            }
        }
    }
    Ok(())
}
