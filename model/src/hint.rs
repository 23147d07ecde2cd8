//! "Did you mean": the nearest candidate to a misspelt name, shared by every input check.

/// The closest candidate by edit distance (ignoring case, `_` read as `-`), if it is close
/// enough to be a likely typo.
pub fn suggest(found: &str, candidates: &[impl AsRef<str>]) -> Option<String> {
    let f = found.to_ascii_lowercase().replace('_', "-");
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let c = c.as_ref();
        let d = edit_distance(&f, &c.to_ascii_lowercase().replace('_', "-"));
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (found.chars().count().max(c.chars().count()) / 3).max(2);
    (d <= limit).then(|| c.to_string())
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `"; did you mean `X`?"` when a candidate is close, else nothing.
pub fn did_you_mean(found: &str, candidates: &[impl AsRef<str>]) -> String {
    suggest(found, candidates)
        .map(|b| format!("; did you mean `{b}`?"))
        .unwrap_or_default()
}

/// Why `s` is not an address prefix: `prefix length 33 > 32 in `10.0.0.0/33``, or what an
/// address prefix looks like.
pub fn explain_prefix(s: &str) -> String {
    if let Some((addr, len)) = s.trim().split_once('/') {
        if let (Ok(a), Ok(n)) = (addr.parse::<std::net::IpAddr>(), len.parse::<u32>()) {
            let max = if a.is_ipv4() { 32 } else { 128 };
            if n > max {
                return format!("prefix length {n} > {max} in `{s}`");
            }
        }
    }
    format!("expected an address prefix like 10.0.0.0/24, found `{s}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            suggest("expect_eror", &["expect-error", "expect", "host"]).as_deref(),
            Some("expect-error")
        );
        assert_eq!(suggest("zzzzzz", &["host", "as"]), None);
        assert_eq!(
            explain_prefix("10.0.0.0/33"),
            "prefix length 33 > 32 in `10.0.0.0/33`"
        );
        assert_eq!(
            explain_prefix("fd00::/129"),
            "prefix length 129 > 128 in `fd00::/129`"
        );
        assert_eq!(
            explain_prefix("10.0.0/8"),
            "expected an address prefix like 10.0.0.0/24, found `10.0.0/8`"
        );
        assert_eq!(
            did_you_mean("RemoteAddress", &["RemoteAddresses", "Action"]),
            "; did you mean `RemoteAddresses`?"
        );
    }
}
