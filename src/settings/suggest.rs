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
        .map(|k| (osa_distance(&w, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[n][m]
}
