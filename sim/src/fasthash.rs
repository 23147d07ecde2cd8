//! A small, fast, deterministic hasher for the packet path's lookup tables (flow table, LB index,
//! MAC table, neighbour cache). std's SipHash resists hash flooding, which a simulator fed by its
//! own user does not need, and costs several times more per probe on short keys. The tables
//! are only probed, never iterated into output (ARCHITECTURE "Determinism rules").

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-xor over 64-bit words, finished with a folded 128-bit multiply so that both the low
/// bits (bucket index) and the high bits (hashbrown's control byte) depend on every input bit.
#[derive(Copy, Clone, Default)]
pub struct FastHasher {
    h: u64,
}

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xD6E8_FEB8_6659_FD93;

impl FastHasher {
    #[inline(always)]
    fn word(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(K1).rotate_left(29);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.word(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.word(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.word(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.word(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.word(i as u64);
        self.word((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        let m = (self.h as u128).wrapping_mul(K2 as u128);
        (m as u64) ^ ((m >> 64) as u64)
    }
}

pub type FastBuild = BuildHasherDefault<FastHasher>;
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;
pub type FastSet<K> = HashSet<K, FastBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn h<T: Hash>(t: T) -> u64 {
        FastBuild::default().hash_one(t)
    }

    #[test]
    fn deterministic_and_spreads_low_and_high_bits() {
        assert_eq!(h((1u32, 2u16)), h((1u32, 2u16)));
        let hs: Vec<u64> = (0u32..4096).map(h).collect();
        let low: FastSet<u64> = hs.iter().map(|x| x & 0xfff).collect();
        let high: FastSet<u64> = hs.iter().map(|x| x >> 57).collect();
        assert!(low.len() > 2400, "low bits: {}", low.len());
        assert_eq!(high.len(), 128, "every control byte value is used");
    }
}
