//! The per-packet meter stage: an endpoint's `QOS` policy (`MaximumOutgoingBandwidthInBytes`) as
//! a token bucket on virtual time. It runs on every packet leaving the endpoint's port, before
//! the flow-table lookup, so established flows are metered as well as first packets; a packet
//! that finds too few tokens is dropped (`Disposition::RateLimited`) and installs nothing.
//!
//! Inferred (HNS documents only the field): the limit is in bytes per second of Ethernet frames
//! leaving the vNIC, 0 means no limit, and the bucket holds `DataplaneSettings::qos_burst_ns` of
//! traffic at that rate (at least one 1,514-byte frame, so every frame can pass eventually). See
//! docs/qos.md.

/// The largest Ethernet frame without FCS: a bucket never holds less.
const MIN_DEPTH: u64 = 1514;

/// A token bucket in bytes, refilled continuously on virtual time. Credit is kept in
/// byte-nanoseconds (bytes × 10⁹), so refills never round away a fraction of a byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate: u64,
    depth: u128,
    credit: u128,
    last: u64,
}

const NS: u128 = 1_000_000_000;

impl TokenBucket {
    /// A full bucket for `rate` bytes per second holding `burst_ns` of traffic at that rate.
    pub fn new(rate: u64, burst_ns: u64, now: u64) -> TokenBucket {
        let depth = (rate as u128 * burst_ns as u128 / NS).max(MIN_DEPTH as u128) * NS;
        TokenBucket {
            rate,
            depth,
            credit: depth,
            last: now,
        }
    }

    /// The configured rate (bytes per second).
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Refill up to `now`, then take `bytes` if the bucket holds them. False = drop the packet
    /// (the bucket is left as it was).
    pub fn take(&mut self, bytes: u64, now: u64) -> bool {
        let elapsed = now.saturating_sub(self.last) as u128;
        self.last = self.last.max(now);
        self.credit = (self.credit + elapsed * self.rate as u128).min(self.depth);
        let cost = bytes as u128 * NS;
        if cost > self.credit {
            return false;
        }
        self.credit -= cost;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_full_bucket_passes_its_depth_then_drops() {
        // 100,000 B/s, 100 ms burst: a depth of 10,000 bytes = 10 frames of 1,000 bytes.
        let mut b = TokenBucket::new(100_000, 100 * MS, 0);
        let passed = (0..12).filter(|_| b.take(1_000, 0)).count();
        assert_eq!(passed, 10);
        assert!(!b.take(1, 0));
    }

    #[test]
    fn virtual_time_refills_at_the_rate_and_caps_at_the_depth() {
        let mut b = TokenBucket::new(100_000, 100 * MS, 0);
        while b.take(1_000, 0) {}
        // 10 ms at 100,000 B/s = 1,000 bytes.
        assert!(!b.take(1_000, 9 * MS));
        assert!(b.take(1_000, 10 * MS));
        assert!(!b.take(1, 10 * MS));
        // A long pause refills to the depth only.
        let passed = (0..20).filter(|_| b.take(1_000, 10_000 * MS)).count();
        assert_eq!(passed, 10);
    }

    #[test]
    fn a_small_rate_still_holds_one_full_frame() {
        let mut b = TokenBucket::new(10, MS, 0);
        assert!(b.take(1514, 0));
        assert!(!b.take(1, 0));
        // 1,514 bytes at 10 B/s take 151.4 s.
        assert!(!b.take(1514, 151_399 * MS));
        assert!(b.take(1514, 151_400 * MS));
    }

    #[test]
    fn time_never_runs_backwards() {
        let mut b = TokenBucket::new(1_000, 1_000 * MS, 5 * MS);
        assert!(b.take(1_514, 5 * MS));
        // An earlier `now` refills nothing.
        assert!(!b.take(1, 0));
    }
}
