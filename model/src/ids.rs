//! GUIDs and MAC addresses in the forms HNS writes them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A GUID. HNS emits GUIDs in upper case (`404947AC-…`); we parse any case, with or without braces.
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub u128);

impl Guid {
    pub const ZERO: Guid = Guid(0);
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

impl Guid {
    /// `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`, upper case, in a stack buffer (every create reply
    /// and every reference is written this way, so not through the formatting machinery).
    fn hyphenated(&self) -> [u8; 36] {
        let mut out = [b'-'; 36];
        let mut digit = 0;
        for (i, c) in out.iter_mut().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                continue;
            }
            *c = HEX[((self.0 >> (124 - 4 * digit)) & 0xF) as usize];
            digit += 1;
        }
        out
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ASCII only, so this cannot fail.
        f.write_str(std::str::from_utf8(&self.hyphenated()).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a GUID like 01234567-89AB-CDEF-0123-456789ABCDEF, found {0:?}")]
pub struct GuidParseError(pub String);

impl Guid {
    /// Whether `s` is exactly `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` (hex digits in any case).
    pub fn is_hyphenated(s: &str) -> bool {
        s.len() == 36
            && s.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    }
}

/// Hex digit values; 0xFF for any other byte.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        t[b"0123456789abcdef"[i] as usize] = i as u8;
        t[HEX[i] as usize] = i as u8;
        i += 1;
    }
    t
};

impl Guid {
    /// `s` in the form HNS writes (`XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`, hex digits in any
    /// case), else `None`. One table lookup per digit and no branch per digit: every GUID
    /// reference of every document is read this way (a tenth of an LB create went to parsing
    /// its backends' GUIDs).
    pub fn parse_hyphenated(s: &str) -> Option<Guid> {
        let b = s.as_bytes();
        if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
            return None;
        }
        // Fixed ranges into two 64-bit halves: the loops unroll and need no bounds checks.
        fn digits(run: &[u8], acc: &mut u64, bad: &mut u8) {
            for &c in run {
                let d = HEX_VALUE[c as usize];
                *bad |= d;
                *acc = (*acc << 4) | u64::from(d & 0xF);
            }
        }
        let (mut hi, mut lo, mut bad) = (0u64, 0u64, 0u8);
        digits(&b[..8], &mut hi, &mut bad);
        digits(&b[9..13], &mut hi, &mut bad);
        digits(&b[14..18], &mut hi, &mut bad);
        digits(&b[19..23], &mut lo, &mut bad);
        digits(&b[24..36], &mut lo, &mut bad);
        let v = (u128::from(hi) << 64) | u128::from(lo);
        (bad & 0xF0 == 0).then_some(Guid(v))
    }
}

/// The value of a hex digit (callers check `is_ascii_hexdigit` first; anything else is 0).
fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

impl FromStr for Guid {
    type Err = GuidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(g) = Guid::parse_hyphenated(s) {
            return Ok(g);
        }
        let t = s.trim().trim_start_matches('{').trim_end_matches('}');
        // Five groups of 8-4-4-4-12 hex digits; hex digits only (no sign, no spaces inside).
        if !Guid::is_hyphenated(t) {
            return Err(GuidParseError(s.to_string()));
        }
        let v = t
            .bytes()
            .filter(|b| *b != b'-')
            .fold(0u128, |v, b| (v << 4) | hex_value(b) as u128);
        Ok(Guid(v))
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.hyphenated();
        s.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A MAC address; HNS writes it with dashes in upper case (`00-15-5D-52-C0-00`). Colons are accepted.
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    pub fn to_u64(self) -> u64 {
        self.0.iter().fold(0u64, |a, b| (a << 8) | *b as u64)
    }
    pub fn from_u64(v: u64) -> Mac {
        let b = v.to_be_bytes();
        Mac([b[2], b[3], b[4], b[5], b[6], b[7]])
    }
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [b'-'; 17];
        for (i, b) in self.0.iter().enumerate() {
            out[3 * i] = HEX[(b >> 4) as usize];
            out[3 * i + 1] = HEX[(b & 0xF) as usize];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a MAC address like 00-15-5D-52-C0-00, found {0:?}")]
pub struct MacParseError(pub String);

impl FromStr for Mac {
    type Err = MacParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The usual form, `xx-xx-xx-xx-xx-xx` (or with colons), read directly.
        let b = s.as_bytes();
        let usual = b.len() == 17
            && b.iter().enumerate().all(|(i, c)| match i % 3 {
                2 => *c == b'-' || *c == b':',
                _ => c.is_ascii_hexdigit(),
            });
        if usual {
            let mut m = [0u8; 6];
            for (i, byte) in m.iter_mut().enumerate() {
                *byte = (hex_value(b[3 * i]) << 4) | hex_value(b[3 * i + 1]);
            }
            return Ok(Mac(m));
        }
        // Six groups of one or two hex digits, separated by `-` or `:`.
        let mut m = [0u8; 6];
        let mut parts = s.trim().split(['-', ':']);
        for byte in m.iter_mut() {
            let p = parts.next().ok_or_else(|| MacParseError(s.to_string()))?;
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(MacParseError(s.to_string()));
            }
            *byte = p.bytes().fold(0u8, |v, b| (v << 4) | hex_value(b));
        }
        if parts.next().is_some() {
            return Err(MacParseError(s.to_string()));
        }
        Ok(Mac(m))
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_roundtrip_upper_case() {
        let g: Guid = "{404947ac-1234-5678-9abc-def012345678}".parse().unwrap();
        assert_eq!(g.to_string(), "404947AC-1234-5678-9ABC-DEF012345678");
        assert!("404947ac-1234".parse::<Guid>().is_err());
        assert!("+04947ac-1234-5678-9abc-def012345678".parse::<Guid>().is_err());
    }

    /// The table-driven reader agrees with the byte-by-byte definition on every position and
    /// on the bytes around each range of hex digits.
    #[test]
    fn parse_hyphenated_is_is_hyphenated() {
        let good = "404947ac-1234-5678-9ABC-def012345678";
        let slow = |t: &str| {
            Guid::is_hyphenated(t).then(|| {
                Guid(
                    t.bytes()
                        .filter(|b| *b != b'-')
                        .fold(0, |v, b| (v << 4) | hex_value(b) as u128),
                )
            })
        };
        assert_eq!(Guid::parse_hyphenated(good), slow(good));
        assert!(slow(good).is_some());
        for i in 0..good.len() {
            for c in *b"/09:@AFG`afg-{ " {
                let mut t = good.as_bytes().to_vec();
                t[i] = c;
                let t = String::from_utf8(t).unwrap();
                assert_eq!(Guid::parse_hyphenated(&t), slow(&t), "{t:?}");
            }
        }
        for t in [
            "",
            "404947ac-1234-5678-9abc-def01234567",
            "{404947ac-1234-5678-9abc-def012345678}",
        ] {
            assert_eq!(Guid::parse_hyphenated(t), None);
        }
    }

    #[test]
    fn mac_forms() {
        let m: Mac = "0e:2a:0a:f4:01:0a".parse().unwrap();
        assert_eq!(m.to_string(), "0E-2A-0A-F4-01-0A");
        assert_eq!(Mac::from_u64(m.to_u64()), m);
        assert!("0E-2A-0A".parse::<Mac>().is_err());
        assert!("+E-2A-0A-F4-01-0A".parse::<Mac>().is_err());
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn display_matches_the_formatting_machinery() {
        let mut x: u128 = 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210;
        for _ in 0..64 {
            let g = Guid(x);
            let want = format!(
                "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}",
                (x >> 96) as u32,
                (x >> 80) as u16,
                (x >> 64) as u16,
                (x >> 48) as u16,
                x & 0xFFFF_FFFF_FFFF
            );
            assert_eq!(g.to_string(), want);
            assert_eq!(want.parse::<Guid>().unwrap(), g);
            assert_eq!(want.to_lowercase().parse::<Guid>().unwrap(), g);
            let m = Mac::from_u64(x as u64 & 0xFFFF_FFFF_FFFF);
            let b = m.0;
            let want = format!(
                "{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}",
                b[0], b[1], b[2], b[3], b[4], b[5]
            );
            assert_eq!(m.to_string(), want);
            assert_eq!(want.parse::<Mac>().unwrap(), m);
            x = x.rotate_left(13).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D;
        }
    }

    #[test]
    fn parse_rejects_what_it_rejected() {
        for s in [
            "",
            "{}",
            "404947ac-1234-5678-9abc",
            "404947ac-1234-5678-9abc-def0123456789",
            "404947ac-12345-678-9abc-def012345678",
        ] {
            assert_eq!(s.parse::<Guid>(), Err(GuidParseError(s.to_string())));
        }
        for s in [
            "",
            "0e-2a-0a-f4-01",
            "0e-2a-0a-f4-01-0a-0b",
            "0e--2a-0a-f4-01-0a",
            "100-2a-0a-f4-01-0a",
        ] {
            assert_eq!(s.parse::<Mac>(), Err(MacParseError(s.to_string())));
        }
        assert_eq!(
            "e-2a-a-f4-1-a".parse::<Mac>().unwrap().to_string(),
            "0E-2A-0A-F4-01-0A"
        );
        assert_eq!(
            "{{404947ac-1234-5678-9abc-def012345678}}"
                .parse::<Guid>()
                .unwrap()
                .to_string(),
            "404947AC-1234-5678-9ABC-DEF012345678"
        );
    }
}
