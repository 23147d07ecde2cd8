use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Unknown keys of an object, kept in their original order.
pub type Extra = IndexMap<String, Value>;

pub(crate) fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}
pub(crate) fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}
pub(crate) fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

/// `SchemaVersion` and the HNS service version: `{"Major":2,"Minor":0}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    #[serde(default)]
    pub major: u32,
    #[serde(default)]
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

/// A route: `{NextHop, DestinationPrefix, Metric}`. A default gateway is a route to `0.0.0.0/0` / `::/0`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_hop: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub destination_prefix: String,
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub metric: u16,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `Dns` of a network or endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dns {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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
