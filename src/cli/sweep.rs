//! `hnsim run` at suite scale: seed sweeps (`--seeds A..B`), deterministic shards
//! (`--shard I/N`) of the (scenario, seed) pairs, a progress bar on a terminal, and PASS/FAIL in
//! colour on a terminal (never when `NO_COLOR` is set to a non-empty value).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// The most seeds one `--seeds` range may hold (a typo like `1..1000000000` is an error, not
/// a run that never ends).
pub const MAX_SEEDS: u64 = 1_000_000;

/// `A..B` (B excluded) or `A..=B` (B included).
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds: expected a range like `1..11` or `1..=10`, found {s:?}");
    let (a, b, inclusive) = match s.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => {
            let (a, b) = s.split_once("..").ok_or_else(bad)?;
            (a, b, false)
        }
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = if inclusive {
        b.checked_add(1).ok_or_else(bad)?
    } else {
        b
    };
    if end <= a {
        return Err(format!("--seeds: the range {s:?} holds no seed"));
    }
    if end - a > MAX_SEEDS {
        return Err(format!(
            "--seeds: expected at most {MAX_SEEDS} seeds, found {} in {s:?}",
            end - a
        ));
    }
    Ok((a..end).collect())
}

/// `I/N`, 1 ≤ I ≤ N: this process runs shard I of N.
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("--shard: expected I/N with 1 <= I <= N (e.g. 2/4), found {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: u64 = i.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The (scenario index, seed) pairs to run, in order: every scenario under every seed (or its
/// own seed), then only every N-th pair starting at the I-th for `--shard I/N` — a
/// deterministic split that gives each shard the same share whatever the folder sizes.
pub fn plan(scenarios: usize, seeds: Option<&[u64]>, shard: Option<(u64, u64)>) -> Vec<(usize, Option<u64>)> {
    let per: Vec<Option<u64>> = match seeds {
        Some(s) => s.iter().copied().map(Some).collect(),
        None => vec![None],
    };
    (0..scenarios)
        .flat_map(|i| per.iter().map(move |s| (i, *s)))
        .enumerate()
        .filter(|(k, _)| shard.is_none_or(|(i, n)| *k as u64 % n == i - 1))
        .map(|(_, p)| p)
        .collect()
}

/// A progress bar on standard error when it is a terminal (and not `--quiet`); otherwise
/// nothing is drawn.
pub struct Progress {
    bar: Option<ProgressBar>,
    failed: usize,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios {msg}") {
                b.set_style(style);
            }
            b
        });
        Progress { bar, failed: 0 }
    }

    /// One scenario finished.
    pub fn done(&mut self, ok: bool) {
        if !ok {
            self.failed += 1;
        }
        if let Some(b) = &self.bar {
            b.set_message(format!("({} failed)", self.failed));
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Colour on standard output: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The text report with each scenario's leading PASS green and FAIL red.
pub fn colour_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("PASS ") {
            out.push_str("\x1b[32mPASS\x1b[0m ");
            out.push_str(rest);
        } else if let Some(rest) = line.strip_prefix("FAIL ") {
            out.push_str("\x1b[31mFAIL\x1b[0m ");
            out.push_str(rest);
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_and_shards() {
        assert_eq!(parse_seeds("3..6"), Ok(vec![3, 4, 5]));
        assert_eq!(parse_seeds("3..=5"), Ok(vec![3, 4, 5]));
        for bad in ["5..5", "6..3", "x..4", "4", "0..2000000"] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1/0", "1", "a/b"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let all = plan(3, Some(&[1, 2]), None);
        assert_eq!(all.len(), 6);
        let mut union: Vec<_> = (1..=4)
            .flat_map(|i| plan(3, Some(&[1, 2]), Some((i, 4))))
            .collect();
        union.sort();
        assert_eq!(union, all, "the shards cover every pair once");
        assert_eq!(plan(3, None, Some((2, 2))), vec![(1, None)]);
        assert_eq!(
            colour_text("PASS a\nx\nFAIL b\n"),
            "\x1b[32mPASS\x1b[0m a\nx\n\x1b[31mFAIL\x1b[0m b\n"
        );
    }
}
