//! What came from the cluster made safe to show: control characters rewritten as
//! `cat -v` shows them (ESC as `^[`, C1 as `M-^[`), bidirectional and invisible format
//! characters as `<U+202E>`, and the characters XML 1.0 forbids made visible the same
//! way. Applied once to each rendered report, not field by field.

use std::borrow::Cow;

/// Whether `c` would be rewritten by [`terminal`] (`\n` and `\t` are kept).
fn unsafe_char(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}') || bidi(c)
}

fn bidi(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
    )
}

/// Pushes the visible form of a control character: `^[` for ESC, `^?` for DEL,
/// `M-^[` for U+009B, `<U+202E>` for a format character.
fn push_visible(o: &mut String, c: char) {
    match c {
        '\0'..='\x1f' => {
            o.push('^');
            o.push(char::from(c as u8 ^ 0x40));
        }
        '\x7f' => o.push_str("^?"),
        '\u{80}'..='\u{9f}' => {
            o.push_str("M-^");
            o.push(char::from((c as u32 - 0x80) as u8 ^ 0x40));
        }
        _ => o.push_str(&format!("<U+{:04X}>", c as u32)),
    }
}

/// `s` with every control and format character except `\n` and `\t` shown escaped.
pub fn terminal(s: &str) -> Cow<'_, str> {
    terminal_keeping(s, false)
}

/// As [`terminal`], but ESC is kept when `keep_esc` (the renderer's own colours, when
/// nothing in the report holds an ESC).
pub(crate) fn terminal_keeping(s: &str, keep_esc: bool) -> Cow<'_, str> {
    let bad = |c: char| unsafe_char(c) && !(keep_esc && c == '\x1b');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if bad(c) {
            push_visible(&mut o, c);
        } else {
            o.push(c);
        }
    }
    Cow::Owned(o)
}

/// `s` without SGR sequences (`ESC [ digits ; m`), the only ones the renderer writes.
pub(crate) fn strip_sgr(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        o.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let n = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[n..].starts_with('m') {
            rest = &after[n + 1..];
        } else {
            o.push('\x1b');
            rest = &rest[i + 1..];
        }
    }
    o.push_str(rest);
    o
}

/// Text for XML 1.0 character data and attribute values: characters XML forbids
/// shown as in [`terminal`], markup characters and CR escaped.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\r' => o.push_str("&#13;"),
            '\t' | '\n' => o.push(c),
            '\0'..='\x1f' | '\u{fffe}' | '\u{ffff}' => push_visible(&mut o, c),
            c if unsafe_char(c) => push_visible(&mut o, c),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_cat_v() {
        assert_eq!(terminal("a\x1b]0;x\x07b"), "a^[]0;x^Gb");
        assert_eq!(terminal("x\u{9b}2J\x7f\r"), "xM-^[2J^?^M");
        assert_eq!(terminal("ok\tline\n"), "ok\tline\n");
        assert!(matches!(terminal("clean"), Cow::Borrowed(_)));
        assert_eq!(terminal("a\u{202e}b"), "a<U+202E>b");
        assert_eq!(terminal_keeping("\x1b[1mx\x08", true), "\x1b[1mx^H");
    }

    #[test]
    fn sgr_stripped_other_escapes_kept() {
        assert_eq!(strip_sgr("\x1b[1;31merr\x1b[0m \x1b[2J"), "err \x1b[2J");
    }

    #[test]
    fn xml_has_no_forbidden_characters() {
        let x = xml("a\x1b[2J\0<&>\"'\r\u{ffff}");
        assert_eq!(x, "a^[[2J^@&lt;&amp;&gt;&quot;&apos;&#13;<U+FFFF>");
    }
}
