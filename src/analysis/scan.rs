//! Streaming log scanner: runs every log pattern of the catalogue over a container log
//! in bounded memory. A `RegexSet` over all patterns first rejects whole blocks of
//! lines, so the cost does not grow with rules × lines; only lines in blocks that may
//! match are looked at one by one. A stuck db-init logs the same error on every retry:
//! a line whose text less its timestamp was seen before costs one hash lookup (count
//! and last-seen only), never a regex. Hits are keyed on the rule's `group_by`
//! captures, so a value that changes on every retry (the current time) is not a new
//! hit.

use std::collections::HashMap;
use std::io::{self, Read};

use regex::bytes::{Regex, RegexSet, RegexSetBuilder};

use crate::catalogue::{Catalogue, Source};

/// Bytes read at a time; the unit of the block prefilter.
const BLOCK: usize = 1 << 20;
/// The compiled size the prefilter may take (the regex crate's default).
const SET_SIZE_LIMIT: usize = 10 << 20;
/// Longer lines are cut here (their tail is skipped), so one giant line cannot grow
/// memory without bound.
pub const MAX_LINE: usize = 64 * 1024;
/// Evidence text longer than this is shortened in reports.
const MAX_TEXT: usize = 600;
/// Lines seen before are remembered up to this many (then forgotten and learnt again),
/// and only lines up to this long: the memory of repeats stays below a few MB.
const SEEN_MAX: usize = 1024;
const SEEN_LINE_MAX: usize = 2048;
/// Blocks that may match are tested again in pieces of this size before lines are
/// looked at one by one.
const SUB_BLOCK: usize = 64 * 1024;

pub use crate::model::evidence::{LogHit, LogScan};

struct Pattern {
    rule: usize,
    regex: Regex,
    matcher: usize,
}

/// The compiled log patterns of a catalogue.
pub struct Scanner {
    /// The block prefilter; `None` when the patterns are too many for one set (each
    /// line is then tried against every pattern: slower, never silently blind).
    set: Option<RegexSet>,
    patterns: Vec<Pattern>,
}

impl Scanner {
    pub fn new(cat: &Catalogue) -> Scanner {
        Self::with_set_limit(cat, SET_SIZE_LIMIT)
    }

    /// A scanner whose prefilter may take `size_limit` bytes of compiled program.
    pub fn with_set_limit(cat: &Catalogue, size_limit: usize) -> Scanner {
        let mut patterns = Vec::new();
        for (ri, rule) in cat.rules.iter().enumerate() {
            for (mi, m) in rule.matchers.iter().enumerate() {
                if m.source == Source::Log {
                    // The catalogue already compiled this pattern as a str regex, so
                    // the bytes version compiles too.
                    if let Ok(regex) = Regex::new(m.regex.as_str()) {
                        patterns.push(Pattern {
                            rule: ri,
                            regex,
                            matcher: mi,
                        });
                    }
                }
            }
        }
        // multi_line so that `^`/`$` mean line ends when a whole block is tested; the
        // block test then accepts every block in which some line would match.
        let set = RegexSetBuilder::new(patterns.iter().map(|p| p.regex.as_str()))
            .multi_line(true)
            .size_limit(size_limit)
            .build()
            .ok();
        Scanner { set, patterns }
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Scans one log. `container` limits the rules to those whose container globs
    /// match; `None` (a plain file, stdin) applies every log rule.
    pub fn scan<R: Read>(
        &self,
        cat: &Catalogue,
        mut r: R,
        container: Option<&str>,
    ) -> io::Result<LogScan> {
        let active: Vec<bool> = self
            .patterns
            .iter()
            .map(|p| cat.rules[p.rule].matchers[p.matcher].applies_to_container(container))
            .collect();
        let mut out = LogScan::default();
        if !active.iter().any(|a| *a) {
            // Nothing applies: count bytes only so the report can say what was read.
            out.bytes = io::copy(&mut r, &mut io::sink())?;
            return Ok(out);
        }
        let group_by: Vec<Vec<String>> = cat.rules.iter().map(|r| r.group_by.clone()).collect();
        let mut st = State {
            index: HashMap::new(),
            seen: HashMap::new(),
            group_by,
            out,
        };
        let mut buf: Vec<u8> = Vec::new();
        // Reads grow from 64 KiB to a block, so a small log (most of them) does not pay
        // for zeroing a megabyte.
        let mut chunk = 64 * 1024;
        let mut first = true;
        let mut skipping_long = false;
        loop {
            let start = buf.len();
            buf.resize(start + chunk, 0);
            let n = read_full(&mut r, &mut buf[start..])?;
            buf.truncate(start + n);
            if n == chunk {
                chunk = (chunk * 2).min(BLOCK);
            }
            let eof = n == 0;
            if first && !buf.is_empty() {
                first = false;
                let probe = &buf[..buf.len().min(8192)];
                if memchr::memchr(0, probe).is_some() {
                    st.out.binary = true;
                    st.out.bytes = buf.len() as u64 + io::copy(&mut r, &mut io::sink())?;
                    return Ok(st.out);
                }
            }
            st.out.bytes += n as u64;
            // Whole lines in this block; the partial tail waits for more input.
            let end = if eof {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', &buf) {
                    Some(i) => i + 1,
                    None if buf.len() >= MAX_LINE => buf.len(),
                    None => continue,
                }
            };
            let mut block_start = 0;
            if skipping_long {
                // Drop the rest of an over-long line.
                match memchr::memchr(b'\n', &buf[..end]) {
                    Some(i) => {
                        block_start = i + 1;
                        skipping_long = false;
                    }
                    None => block_start = end,
                }
            }
            let block = &buf[block_start..end];
            if !block.is_empty() {
                self.scan_block(block, &active, &mut st);
            }
            if end == buf.len() && !eof && memchr::memrchr(b'\n', &buf).is_none_or(|i| i + 1 != end)
            {
                // The block ended inside an over-long line.
                skipping_long = true;
            }
            buf.drain(..end);
            if eof {
                break;
            }
        }
        Ok(st.out)
    }

    fn scan_block(&self, block: &[u8], active: &[bool], st: &mut State) {
        if self.rejects(block) {
            st.out.lines += count_lines(block);
            return;
        }
        // Test again in smaller pieces (cut at line ends): a sparse log then looks at
        // the lines of one piece only.
        let mut rest = block;
        while !rest.is_empty() {
            let cut = if rest.len() <= SUB_BLOCK {
                rest.len()
            } else {
                memchr::memchr(b'\n', &rest[SUB_BLOCK..])
                    .map(|i| SUB_BLOCK + i + 1)
                    .unwrap_or(rest.len())
            };
            let (piece, tail) = rest.split_at(cut);
            rest = tail;
            if cut < block.len() && self.rejects(piece) {
                st.out.lines += count_lines(piece);
                continue;
            }
            for line in piece.split_inclusive(|b| *b == b'\n') {
                st.out.lines += 1;
                let line = trim_eol(line);
                let line = &line[..line.len().min(MAX_LINE)];
                self.scan_line(line, active, st);
            }
        }
    }

    /// Whether no line of `text` can match (JSON escapes may hide a match from the
    /// raw text, so text with a backslash is never rejected whole).
    fn rejects(&self, text: &[u8]) -> bool {
        memchr::memchr(b'\\', text).is_none()
            && self.set.as_ref().is_some_and(|s| !s.is_match(text))
    }

    /// One line: a repeat of a line seen before (same text less its timestamp) only
    /// counts; anything else goes through the patterns.
    fn scan_line(&self, line: &[u8], active: &[bool], st: &mut State) {
        let (before, ts_raw, after) = split_timestamp(line);
        let cacheable = line.len() <= SEEN_LINE_MAX;
        let key = cacheable.then(|| line_hash(before, after));
        if let Some(k) = key {
            if let Some(entries) = st.seen.get(&k) {
                if let Some((_, hits)) = entries.iter().find(|(l, _)| same_text(l, before, after)) {
                    let lineno = st.out.lines;
                    let ts = ts_raw.map(|t| String::from_utf8_lossy(t).into_owned());
                    for &i in hits {
                        let h = &mut st.out.hits[i];
                        h.count += 1;
                        h.last_line = lineno;
                        if ts.is_some() {
                            h.last_ts = ts.clone();
                        }
                    }
                    return;
                }
            }
        }
        let hits = self.match_line(line, active, st);
        if let (Some(k), false) = (key, hits.is_empty()) {
            if st.seen.len() >= SEEN_MAX {
                st.seen.clear();
            }
            let mut text = Vec::with_capacity(before.len() + after.len());
            text.extend_from_slice(before);
            text.extend_from_slice(after);
            st.seen.entry(k).or_default().push((text, hits));
        }
    }

    /// Runs the patterns on a line; returns the indices of the hits it counted in.
    fn match_line(&self, line: &[u8], active: &[bool], st: &mut State) -> Vec<usize> {
        let mut counted = Vec::new();
        let json = line.first() == Some(&b'{');
        let decoded = if json && memchr::memchr(b'\\', line).is_some() {
            json_text(line).map(|(t, _)| t)
        } else {
            None
        };
        let text: &[u8] = decoded.as_deref().map(str::as_bytes).unwrap_or(line);
        let candidates: Vec<usize> = match &self.set {
            Some(set) if !set.is_match(text) => return counted,
            Some(set) => set.matches(text).into_iter().collect(),
            None => (0..self.patterns.len())
                .filter(|&i| active[i] && self.patterns[i].regex.is_match(text))
                .collect(),
        };
        let mut done_rules: Vec<usize> = Vec::new();
        for idx in candidates {
            if !active[idx] {
                continue;
            }
            let p = &self.patterns[idx];
            if done_rules.contains(&p.rule) {
                continue;
            }
            // The set runs multi-line; recheck with the single-line regex.
            let Some(caps) = p.regex.captures(text) else {
                continue;
            };
            done_rules.push(p.rule);
            let captures: Vec<(String, String)> = p
                .regex
                .capture_names()
                .flatten()
                .filter_map(|n| {
                    caps.name(n).map(|m| {
                        (
                            n.to_string(),
                            String::from_utf8_lossy(m.as_bytes()).into_owned(),
                        )
                    })
                })
                .collect();
            let lineno = st.out.lines;
            let group = &st.group_by[p.rule];
            let key = (
                p.rule,
                captures
                    .iter()
                    .filter(|(n, _)| group.contains(n))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            let ts = if json {
                json_text(line).and_then(|(_, ts)| ts)
            } else {
                None
            };
            match st.index.get(&key) {
                Some(&i) => {
                    counted.push(i);
                    let h = &mut st.out.hits[i];
                    h.count += 1;
                    h.last_line = lineno;
                    if ts.is_some() {
                        h.last_ts = ts;
                    }
                }
                None => {
                    let shown = if json {
                        json_text(line).map(|(t, _)| t)
                    } else {
                        None
                    }
                    .unwrap_or_else(|| String::from_utf8_lossy(line).trim().to_string());
                    counted.push(st.out.hits.len());
                    st.index.insert(key, st.out.hits.len());
                    st.out.hits.push(LogHit {
                        rule: p.rule,
                        captures,
                        text: shorten(&shown),
                        count: 1,
                        first_line: lineno,
                        last_line: lineno,
                        first_ts: ts.clone(),
                        last_ts: ts,
                    });
                }
            }
        }
        counted
    }
}

/// Lines seen before, by the hash of their text less the timestamp: the text and
/// the hits each repeat counts in.
type Seen = HashMap<u64, Vec<(Vec<u8>, Vec<usize>)>>;

struct State {
    index: HashMap<(usize, Vec<(String, String)>), usize>,
    seen: Seen,
    /// Each rule's `group_by` (the captures that identify a hit).
    group_by: Vec<Vec<String>>,
    out: LogScan,
}

/// A line cut around its timestamp: the text before it, the timestamp, the text
/// after it. A JSON line's `"timestamp"`/`"time"`/`"ts"` string value, or a leading
/// RFC 3339 time (`kubectl logs --timestamps`, Go's log prefix); else the whole line.
fn split_timestamp(line: &[u8]) -> (&[u8], Option<&[u8]>, &[u8]) {
    if line.first() == Some(&b'{') {
        for key in [&b"\"timestamp\":\""[..], b"\"time\":\"", b"\"ts\":\""] {
            if let Some(i) = memchr::memmem::find(line, key) {
                let start = i + key.len();
                if let Some(len) = memchr::memchr(b'"', &line[start..]) {
                    return (
                        &line[..start],
                        Some(&line[start..start + len]),
                        &line[start + len..],
                    );
                }
            }
        }
        return (line, None, &[]);
    }
    let n = leading_time(line);
    if n > 0 {
        return (&[], Some(&line[..n]), &line[n..]);
    }
    (line, None, &[])
}

/// The length of a leading `2026-11-23T02:00:00.123Z` or `2026/11/23 02:00:00` time.
fn leading_time(line: &[u8]) -> usize {
    let d = |i: usize| line.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: &[u8]| line.get(i).is_some_and(|b| c.contains(b));
    let date = (0..4).all(d)
        && at(4, b"-/")
        && d(5)
        && d(6)
        && at(7, b"-/")
        && d(8)
        && d(9)
        && at(10, b"T ")
        && d(11)
        && d(12)
        && at(13, b":")
        && d(14)
        && d(15)
        && at(16, b":")
        && d(17)
        && d(18);
    if !date {
        return 0;
    }
    let mut i = 19;
    while line
        .get(i)
        .is_some_and(|b| b.is_ascii_digit() || b".,Z+-:".contains(b))
    {
        i += 1;
    }
    i
}

/// FxHash-style hash of two slices read as one.
fn line_hash(a: &[u8], b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = (a.len() + b.len()) as u64;
    for part in [a, b] {
        let mut chunks = part.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &x in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(x)).wrapping_mul(K);
        }
        h = (h.rotate_left(5) ^ 0xff).wrapping_mul(K);
    }
    h
}

fn same_text(stored: &[u8], a: &[u8], b: &[u8]) -> bool {
    stored.len() == a.len() + b.len() && &stored[..a.len()] == a && &stored[a.len()..] == b
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn count_lines(block: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', block).count() as u64;
    if block.last() == Some(&b'\n') {
        n
    } else {
        n + 1
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The text a JSON log line is about: its `error` field, else `message`, else `msg`;
/// plus its `timestamp`/`time`/`ts` field.
fn json_text(line: &[u8]) -> Option<(String, Option<String>)> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let obj = v.as_object()?;
    let text = ["error", "err", "message", "msg"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(|v| v.as_str()))?
        .to_string();
    let ts = ["timestamp", "time", "ts"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(|v| v.as_str()))
        .map(str::to_string);
    Some((text, ts))
}

fn shorten(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_string();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    type Found = (String, Vec<(String, String)>, u64);

    fn scan(text: &str, container: Option<&str>) -> Vec<Found> {
        let cat = Catalogue::builtin().unwrap();
        let s = Scanner::new(&cat);
        let r = s.scan(&cat, text.as_bytes(), container).unwrap();
        r.hits
            .iter()
            .map(|h| (cat.rules[h.rule].id.clone(), h.captures.clone(), h.count))
            .collect()
    }

    fn ids(text: &str) -> Vec<String> {
        scan(text, Some("db-init"))
            .into_iter()
            .map(|h| h.0)
            .collect()
    }

    #[test]
    fn guide_lines_match_their_ids() {
        assert_eq!(
            ids(
                r#"{"component":"db-init","error":"dial tcp 192.168.19.226:5432: i/o timeout","message":"could not get database connection","severity":"info","timestamp":"2019-06-17T15:48:20Z"}"#
            ),
            ["NET001"]
        );
        assert_eq!(
            ids(
                r#"Error: could not set up database: database not available: could not get database connection: pq: password authentication failed for user "postgres""#
            ),
            ["AUTH001"]
        );
        assert_eq!(
            ids(
                r#"{"component":"db-init","error":"x509: certificate signed by unknown authority (possibly because of \"crypto/rsa: verification error\" while trying to verify candidate authority certificate \"database.example.com\")","message":"could not get database connection","severity":"info","timestamp":"2019-06-22T15:33:25Z"}"#
            ),
            ["TLS001"]
        );
        assert_eq!(
            ids(
                r#"{"component":"db-init","error":"x509: cannot validate certificate for 192.168.2.54 because it doesn't contain any IP SANs","message":"could not get database connection","severity":"info","timestamp":"2019-07-11T11:29:45Z"}"#
            ),
            ["TLS002"]
        );
        assert_eq!(
            ids(
                r#"{"component":"db-init","error":"pq: SSL is not enabled on the server","message":"could not get database connection","severity":"info","timestamp":"2019-06-22T15:26:42Z"}"#
            ),
            ["TLS003"]
        );
    }

    #[test]
    fn other_spellings_match_the_same_meaning() {
        // pgx, Go >= 1.20 TLS wrapping, IPv6.
        assert_eq!(
            ids(
                r#"failed to connect to `host=db.example.com user=postgres database=postgres`: failed SASL auth (FATAL: password authentication failed for user "postgres" (SQLSTATE 28P01))"#
            ),
            ["AUTH001"]
        );
        assert_eq!(
            ids("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
            ["TLS001"]
        );
        assert_eq!(ids("failed to connect to `host=10.0.0.5 user=postgres database=postgres`: failed to write startup message (tls: failed to verify certificate: x509: cannot validate certificate for 10.0.0.5 because it doesn't contain any IP SANs)"), ["TLS002"]);
        assert_eq!(ids("tls: failed to verify certificate: x509: certificate is valid for db1.example.com, db1, not db.example.com"), ["TLS004"]);
        assert_eq!(
            ids("x509: certificate is valid for 10.0.0.6, not 10.0.0.5"),
            ["TLS002"]
        );
        assert_eq!(
            ids("failed to connect to `host=db user=u database=d`: server refused TLS connection"),
            ["TLS003"]
        );
        let h = scan(
            "Error: dial tcp [fd00::54]:5432: i/o timeout",
            Some("db-init"),
        );
        assert_eq!(h[0].0, "NET001");
        assert!(h[0].1.contains(&("dbaddr".into(), "fd00::54".into())));
        assert_eq!(
            ids("dial tcp 10.1.1.1:5432: connect: connection refused"),
            ["NET002"]
        );
        assert_eq!(
            ids("dial tcp: lookup db.nowhere.example on 10.96.0.10:53: no such host"),
            ["NET003"]
        );
        assert_eq!(
            ids(
                r#"pq: no pg_hba.conf entry for host "10.2.3.4", user "postgres", database "postgres", SSL off"#
            ),
            ["AUTH002"]
        );
        assert_eq!(ids("x509: certificate has expired or is not yet valid: current time 2026-11-23T00:00:00Z is after 2025-01-01T00:00:00Z"), ["TLS005"]);
    }

    #[test]
    fn repeats_are_counted_not_repeated() {
        let line = r#"{"component":"db-init","error":"dial tcp 192.168.19.226:5432: i/o timeout","message":"could not get database connection","severity":"info","timestamp":"T"}"#;
        let text = format!("{line}\n{line}\n{line}\n");
        let h = scan(&text, Some("db-init"));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].2, 3);
    }

    #[test]
    fn repeats_differing_by_timestamp_are_one_hit() {
        let mut text = String::new();
        for i in 0..50 {
            text.push_str(&format!(
                "{{\"component\":\"db-init\",\"error\":\"dial tcp 192.168.19.226:5432: i/o timeout\",\"message\":\"could not get database connection\",\"severity\":\"info\",\"timestamp\":\"2026-11-23T02:00:{i:02}Z\"}}\n"
            ));
            text.push_str(&format!("2026-11-23T02:00:{i:02}.123456789Z Error: could not set up database: database not available: could not get database connection: pq: password authentication failed for user \"postgres\"\n"));
        }
        let cat = Catalogue::builtin().unwrap();
        let r = Scanner::new(&cat)
            .scan(&cat, text.as_bytes(), Some("db-init"))
            .unwrap();
        assert_eq!(r.hits.len(), 2, "{:?}", r.hits);
        assert!(r.hits.iter().all(|h| h.count == 50));
        assert_eq!(r.hits[0].first_ts.as_deref(), Some("2026-11-23T02:00:00Z"));
        assert_eq!(r.hits[0].last_ts.as_deref(), Some("2026-11-23T02:00:49Z"));
        assert_eq!(r.lines, 100);
    }

    /// TLS005's detail holds the current time, so every retry differs; the hits are
    /// keyed on the rule's group_by and stay one.
    #[test]
    fn hits_are_keyed_on_group_by() {
        let text = "x509: certificate has expired or is not yet valid: current time 2026-11-23T00:00:01Z is after 2025-01-01T00:00:00Z\nx509: certificate has expired or is not yet valid: current time 2026-11-23T00:00:06Z is after 2025-01-01T00:00:00Z\n";
        let h = scan(text, Some("db-init"));
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].2, 2);
    }

    #[test]
    fn timestamps_are_found() {
        assert_eq!(leading_time(b"2026-11-23T02:00:00.123456789Z Error"), 30);
        assert_eq!(leading_time(b"2026/11/23 02:00:00 Error"), 19);
        assert_eq!(leading_time(b"10.0.0.5:5432 x"), 0);
        let (a, t, b) = split_timestamp(br#"{"a":1,"timestamp":"T1","b":2}"#);
        assert_eq!(
            (a, t, b),
            (
                &br#"{"a":1,"timestamp":""#[..],
                Some(&b"T1"[..]),
                &br#"","b":2}"#[..]
            )
        );
    }

    #[test]
    fn container_globs_limit_rules() {
        let line = "pq: SSL is not enabled on the server";
        assert_eq!(scan(line, Some("vulnerabilityscan-db-init"))[0].0, "TLS003");
        assert!(scan(line, Some("auth")).is_empty());
        assert_eq!(scan(line, None)[0].0, "TLS003");
    }

    /// A prefilter that cannot be built (too many or too large patterns) used to fall
    /// back to an empty set that matches nothing, disabling every log rule.
    #[test]
    fn rules_still_match_when_the_prefilter_cannot_be_built() {
        let cat = Catalogue::builtin().unwrap();
        let sc = Scanner::with_set_limit(&cat, 16);
        assert!(sc.set.is_none(), "a 16-byte limit cannot hold the set");
        let scan = sc
            .scan(
                &cat,
                "pq: password authentication failed for user \"postgres\"\n".as_bytes(),
                Some("db-init"),
            )
            .unwrap();
        let found: Vec<&str> = scan
            .hits
            .iter()
            .map(|h| cat.rules[h.rule].id.as_str())
            .collect();
        assert_eq!(found, vec!["AUTH001"]);
    }

    #[test]
    fn binary_and_long_lines_are_safe() {
        let cat = Catalogue::builtin().unwrap();
        let s = Scanner::new(&cat);
        let r = s.scan(&cat, &b"\x00\x01\x02garbage"[..], None).unwrap();
        assert!(r.binary);
        let mut long = vec![b'a'; 3 * BLOCK];
        long.extend_from_slice(b"\npq: SSL is not enabled on the server\n");
        let r = s.scan(&cat, &long[..], None).unwrap();
        assert_eq!(r.hits.len(), 1);
        assert_eq!(r.lines, 2);
    }
}
