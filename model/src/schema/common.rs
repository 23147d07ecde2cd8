use super::read::{deserialize_via_read, Obj, ReadDoc, R};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// Unknown keys of an object, kept in their original order.
pub type Extra = IndexMap<String, Value>;

pub(crate) fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}
pub(crate) fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}
pub(crate) fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}
pub(crate) fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}
pub(crate) fn is_false(v: &bool) -> bool {
    !*v
}

/// `SchemaVersion` and the HNS service version: `{"Major":2,"Minor":0}`. `{}` and `0.0` are
/// accepted (hcsshim sends them, hns-schema.md §1); so are numeric strings and `"2.0"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32) -> Self {
        Version { major, minor }
    }
    pub const V1: Version = Version::new(1, 0);
    pub const V2: Version = Version::new(2, 0);
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl ReadDoc for Version {
    const WHAT: &'static str = "a {\"Major\":…,\"Minor\":…} version";
    fn read(v: &Value, path: &str) -> R<Self> {
        if let Value::String(s) = v {
            let mut it = s.trim().splitn(2, '.');
            let major = it.next().and_then(|m| m.parse().ok());
            let minor = it.next().map_or(Some(0), |m| m.parse().ok());
            if let (Some(major), Some(minor)) = (major, minor) {
                return Ok(Version { major, minor });
            }
        }
        Self::read_obj(Obj::new(v, path, Self::WHAT)?)
    }
    fn read_obj(mut o: Obj) -> R<Self> {
        // Unknown keys in a version are dropped: the type has no room for them and HNS ignores them.
        Ok(Version {
            major: o.u32(&["Major"])?,
            minor: o.u32(&["Minor"])?,
        })
    }
}

/// A route: `{NextHop, DestinationPrefix, Metric}`. A default gateway is a route to `0.0.0.0/0` / `::/0`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub next_hop: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub destination_prefix: String,
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub metric: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReadDoc for Route {
    const WHAT: &'static str = "a route {NextHop, DestinationPrefix, Metric}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(Route {
            next_hop: o.str(&["NextHop"])?,
            destination_prefix: o.str(&["DestinationPrefix"])?,
            metric: o.u16(&["Metric"])?,
            extra: o.rest(),
        })
    }
}

/// `Dns` of a network or endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dns {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server_list: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Dns {
    pub fn is_empty(&self) -> bool {
        self.domain.is_empty()
            && self.search.is_empty()
            && self.server_list.is_empty()
            && self.options.is_empty()
            && self.extra.is_empty()
    }
}

impl ReadDoc for Dns {
    const WHAT: &'static str = "a Dns {Domain, Search, ServerList, Options}";
    fn read_obj(mut o: Obj) -> R<Self> {
        Ok(Dns {
            // [doc2018] called the domain `Suffix`.
            domain: o.str(&["Domain", "Suffix"])?,
            search: o.strings(&["Search"])?,
            server_list: o.strings(&["ServerList"])?,
            options: o.strings(&["Options"])?,
            extra: o.rest(),
        })
    }
}

deserialize_via_read!(Version, Route, Dns);
