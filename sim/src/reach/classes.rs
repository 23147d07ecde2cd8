//! Atomic port intervals: the boundaries every rule's port range contributes, and the
//! intervals between them. A class is found from range ends only, so the cost grows with the
//! number of distinct rule boundaries, never with the 65,535 ports.

use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// The lowest and highest port a TCP or UDP packet can carry (port 0 is refused on send).
pub const FIRST_PORT: u16 = 1;
pub const LAST_PORT: u16 = u16::MAX;

/// A partition of [1, 65535] into intervals, kept as the set of interval starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSplit {
    starts: BTreeSet<u16>,
}

impl Default for PortSplit {
    fn default() -> Self {
        PortSplit {
            starts: BTreeSet::from([FIRST_PORT]),
        }
    }
}

impl PortSplit {
    /// Split so that `[lo, hi]` is a union of whole intervals (ranges are clamped to 1..=65535;
    /// an empty range splits nothing).
    pub fn add_range(&mut self, lo: u16, hi: u16) {
        let lo = lo.max(FIRST_PORT);
        if lo > hi {
            return;
        }
        self.starts.insert(lo);
        if hi < LAST_PORT {
            self.starts.insert(hi + 1);
        }
    }

    /// Split out one port.
    pub fn add_port(&mut self, p: u16) {
        self.add_range(p, p);
    }

    /// Split along every boundary of `other` too.
    pub fn refine(&mut self, other: &PortSplit) {
        self.starts.extend(other.starts.iter().copied());
    }

    /// The intervals, in order, covering 1..=65535 exactly once.
    pub fn intervals(&self) -> Vec<Range> {
        let mut out = Vec::with_capacity(self.starts.len());
        let mut it = self.starts.iter().copied().peekable();
        while let Some(lo) = it.next() {
            let hi = it.peek().map(|n| n - 1).unwrap_or(LAST_PORT);
            out.push(Range { lo, hi });
        }
        out
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// An inclusive port interval.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Range {
    pub lo: u16,
    pub hi: u16,
}

impl Range {
    pub fn contains(&self, p: u16) -> bool {
        self.lo <= p && p <= self.hi
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

/// Merge sorted intervals that touch (`1-79` + `80-80` → `1-80`).
pub fn merge(ranges: impl IntoIterator<Item = Range>) -> Vec<Range> {
    let mut v: Vec<Range> = ranges.into_iter().collect();
    v.sort();
    let mut out: Vec<Range> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if u32::from(last.hi) + 1 >= u32::from(r.lo) => last.hi = last.hi.max(r.hi),
            _ => out.push(r),
        }
    }
    out
}

/// `1-79,81-65535`.
pub fn ranges_text(ranges: &[Range]) -> String {
    ranges.iter().map(Range::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(lo: u16, hi: u16) -> Range {
        Range { lo, hi }
    }

    #[test]
    fn empty_split_is_one_interval() {
        assert_eq!(PortSplit::default().intervals(), vec![r(1, 65535)]);
    }

    #[test]
    fn a_single_port_cuts_three_ways() {
        let mut s = PortSplit::default();
        s.add_port(80);
        assert_eq!(s.intervals(), vec![r(1, 79), r(80, 80), r(81, 65535)]);
    }

    #[test]
    fn ranges_at_the_edges_add_no_empty_interval() {
        let mut s = PortSplit::default();
        s.add_range(1, 1023);
        s.add_range(60000, 65535);
        s.add_range(0, 0); // port 0 is no TCP/UDP destination: nothing to split
        assert_eq!(s.intervals(), vec![r(1, 1023), r(1024, 59999), r(60000, 65535)]);
    }

    #[test]
    fn overlapping_ranges_give_atomic_pieces() {
        let mut s = PortSplit::default();
        s.add_range(100, 200);
        s.add_range(150, 300);
        s.add_range(300, 300);
        assert_eq!(
            s.intervals(),
            vec![
                r(1, 99),
                r(100, 149),
                r(150, 200),
                r(201, 299),
                r(300, 300),
                r(301, 65535)
            ]
        );
        // Every rule range is a union of whole intervals.
        for (lo, hi) in [(100, 200), (150, 300), (300, 300)] {
            for i in s.intervals() {
                let inside = lo <= i.lo && i.hi <= hi;
                let outside = i.hi < lo || hi < i.lo;
                assert!(inside || outside, "{i} straddles {lo}-{hi}");
            }
        }
    }

    #[test]
    fn intervals_cover_every_port_once() {
        let mut s = PortSplit::default();
        for p in [7, 7, 8, 65535, 2, 40000] {
            s.add_port(p);
        }
        let iv = s.intervals();
        assert_eq!(iv.first().unwrap().lo, 1);
        assert_eq!(iv.last().unwrap().hi, 65535);
        for w in iv.windows(2) {
            assert_eq!(w[0].hi + 1, w[1].lo);
        }
    }

    #[test]
    fn merge_joins_touching_ranges_only() {
        let m = merge([r(81, 65535), r(1, 79), r(80, 80), r(100, 200)]);
        assert_eq!(m, vec![r(1, 65535)]);
        let m = merge([r(1, 79), r(81, 65535)]);
        assert_eq!(ranges_text(&m), "1-79,81-65535");
    }
}
