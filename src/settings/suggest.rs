//! Did-you-mean: the closest known key to a misspelt one, for unknown values keys
//! and for the CA key of MNT002 (one rule for preflight and diagnosis).

/// Names people write for a key, from other tools' vocabulary.
pub(crate) const ALIASES: &[(&str, &str)] = &[
    ("sslmode", "tls"),
    ("ssl", "tls"),
    ("username", "user"),
    ("hostname", "host"),
    ("server", "host"),
    ("address", "host"),
    ("pass", "password"),
    ("passwd", "password"),
    ("pwd", "password"),
    ("sslMode", "mode"),
    ("configMapRef", "configMapKeyRef"),
    ("configMap", "configMapKeyRef"),
    ("secretRef", "secretKeyRef"),
    ("secretName", "name"),
];

/// The closest known key: case-insensitive Damerau-Levenshtein (optimal string
/// alignment) within 1 edit for short words, 2 for longer ones, or a known alias.
pub fn did_you_mean<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    if let Some((_, to)) = ALIASES.iter().find(|(a, _)| a.eq_ignore_ascii_case(word)) {
        if let Some(k) = known.iter().find(|k| *k == to) {
            return Some(k);
        }
    }
    let w = word.to_ascii_lowercase();
    let limit = if w.chars().count() <= 4 { 1 } else { 2 };
    known
        .iter()
        .map(|k| (strsim::osa_distance(&w, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The existing key nearest to `want` (the CA key of MNT002, in preflight and in a
/// diagnosis alike): one that starts with it (`ca` → `ca.pem`), else the smallest edit
/// distance, shorter keys first on a tie. `None` only when there is no key.
pub fn closest_key<'k>(want: &str, keys: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    keys.into_iter().min_by_key(|k| {
        let prefix = k.starts_with(want) || want.starts_with(*k);
        (!prefix, strsim::osa_distance(want, k), k.len())
    })
}
