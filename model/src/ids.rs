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

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            v & 0xFFFF_FFFF_FFFF
        )
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

impl FromStr for Guid {
    type Err = GuidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('{').trim_end_matches('}');
        let groups: Vec<&str> = t.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        // from_str_radix would also take a leading `+`; a GUID is hex digits only.
        let hex_group = |(g, l): (&&str, usize)| g.len() == l && g.bytes().all(|b| b.is_ascii_hexdigit());
        if groups.len() != 5 || !groups.iter().zip(lens).all(hex_group) {
            return Err(GuidParseError(s.to_string()));
        }
        let hex: String = groups.concat();
        u128::from_str_radix(&hex, 16)
            .map(Guid)
            .map_err(|_| GuidParseError(s.to_string()))
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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
        let m = self.0;
        write!(
            f,
            "{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
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
        let parts: Vec<&str> = s.trim().split(['-', ':']).collect();
        if parts.len() != 6 {
            return Err(MacParseError(s.to_string()));
        }
        let mut m = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(MacParseError(s.to_string()));
            }
            m[i] = u8::from_str_radix(p, 16).map_err(|_| MacParseError(s.to_string()))?;
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

    #[test]
    fn mac_forms() {
        let m: Mac = "0e:2a:0a:f4:01:0a".parse().unwrap();
        assert_eq!(m.to_string(), "0E-2A-0A-F4-01-0A");
        assert_eq!(Mac::from_u64(m.to_u64()), m);
        assert!("0E-2A-0A".parse::<Mac>().is_err());
        assert!("+E-2A-0A-F4-01-0A".parse::<Mac>().is_err());
    }
}
