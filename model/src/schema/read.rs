//! A path-tracking, tolerant reader over `serde_json::Value`.
//!
//! HNS and hcsshim decode with Go's `encoding/json`, which matches keys case-insensitively
//! (hns-schema.md §1), and real callers send numbers or strings for enums. serde's derive can do
//! neither and loses the JSON path on error, so every HNS struct is read through [`Obj`]: each
//! field is taken by name (any case, with aliases), type errors carry `$.A[0].B`, and whatever is
//! left over becomes the struct's `extra` map so nothing is lost.

use super::common::Extra;
use crate::document::DocError;
use crate::ids::{Guid, Mac};
use serde_json::{Map, Value};

pub(crate) type R<T> = Result<T, DocError>;

/// A short description of a JSON value for error messages.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let mut t: String = s.chars().take(60).collect();
            if t.len() < s.len() {
                t.push('…');
            }
            format!("{t:?}")
        }
        Value::Array(a) => format!("an array of {} item(s)", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

pub(crate) fn err(path: &str, expected: impl Into<String>, found: &Value) -> DocError {
    DocError {
        path: path.to_string(),
        expected: expected.into(),
        found: describe(found),
    }
}

pub(crate) fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{key:?}]")
    }
}

/// Implemented by every HNS struct: read it from a JSON object at `path`.
pub(crate) trait ReadDoc: Sized {
    /// What the object is, for "expected … object" messages.
    const WHAT: &'static str;
    fn read_obj(o: Obj) -> R<Self>;

    fn read(v: &Value, path: &str) -> R<Self> {
        Self::read_obj(Obj::new(v, path, Self::WHAT)?)
    }
}

/// `impl Deserialize` by way of [`ReadDoc`], so `serde_json::from_str::<Network>` is as tolerant
/// as `document::decode_network` (it only loses the structured path, which is in the message).
macro_rules! deserialize_via_read {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                <$t as $crate::schema::read::ReadDoc>::read(&v, "$")
                    .map_err(<D::Error as serde::de::Error>::custom)
            }
        }
    )*};
}
pub(crate) use deserialize_via_read;

/// The fields of one JSON object, taken out one by one.
pub(crate) struct Obj {
    pub path: String,
    map: Map<String, Value>,
}

impl Obj {
    pub fn new(v: &Value, path: &str, what: &str) -> R<Obj> {
        match v {
            Value::Object(m) => Ok(Obj {
                path: path.to_string(),
                map: m.clone(),
            }),
            other => Err(err(path, format!("{what} object"), other)),
        }
    }

    /// Whether a key (any case, any of the names) is present.
    pub fn has(&self, names: &[&str]) -> bool {
        self.find(names).is_some()
    }

    fn find(&self, names: &[&str]) -> Option<String> {
        // An exact match wins over a case-insensitive one ("ID" and "Id" may both be present).
        for n in names {
            if self.map.contains_key(*n) {
                return Some((*n).to_string());
            }
        }
        for n in names {
            if let Some(k) = self.map.keys().find(|k| k.eq_ignore_ascii_case(n)) {
                return Some(k.clone());
            }
        }
        None
    }

    /// Remove a field; returns its path and value. `null` counts as absent.
    /// Case variants of the same key (`"Type"` and `"type"`) are duplicates: the exact spelling
    /// wins and the others are dropped, so they cannot reappear from `extra`.
    pub fn take(&mut self, names: &[&str]) -> Option<(String, Value)> {
        let k = self.find(names)?;
        let v = self.map.shift_remove(&k)?;
        self.map
            .retain(|key, _| !names.iter().any(|n| key.eq_ignore_ascii_case(n)));
        if v.is_null() {
            return None;
        }
        Some((key_path(&self.path, &k), v))
    }

    /// What was not taken: the struct's `extra`. `null`s are dropped (null = absent, as for
    /// every modelled field), so a case-variant duplicate like `"type":null` does not linger.
    pub fn rest(self) -> Extra {
        self.map.into_iter().filter(|(_, v)| !v.is_null()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.map)
    }

    pub fn raw(&mut self, names: &[&str]) -> Option<Value> {
        self.take(names).map(|(_, v)| v)
    }

    pub fn str(&mut self, names: &[&str]) -> R<String> {
        match self.take(names) {
            None => Ok(String::new()),
            Some((_, Value::String(s))) => Ok(s),
            Some((p, v)) => Err(err(&p, "a string", &v)),
        }
    }

    /// A string field that callers also send as a number (ports, protocol lists).
    pub fn str_or_num(&mut self, names: &[&str]) -> R<String> {
        match self.take(names) {
            None => Ok(String::new()),
            Some((_, Value::String(s))) => Ok(s),
            Some((_, Value::Number(n))) => Ok(n.to_string()),
            Some((p, v)) => Err(err(&p, "a string or number", &v)),
        }
    }

    pub fn uint(&mut self, names: &[&str], max: u64) -> R<u64> {
        match self.take(names) {
            None => Ok(0),
            Some((p, v)) => uint_value(&v, &p, max),
        }
    }
    pub fn u64(&mut self, names: &[&str]) -> R<u64> {
        self.uint(names, u64::MAX)
    }
    pub fn u32(&mut self, names: &[&str]) -> R<u32> {
        self.uint(names, u32::MAX as u64).map(|v| v as u32)
    }
    pub fn u16(&mut self, names: &[&str]) -> R<u16> {
        self.uint(names, u16::MAX as u64).map(|v| v as u16)
    }

    pub fn bool(&mut self, names: &[&str]) -> R<bool> {
        match self.take(names) {
            None => Ok(false),
            Some((p, v)) => bool_value(&v, &p),
        }
    }

    /// A protocol: a number, a numeric string, or a name (`TCP`, `udp`, `ICMPv6`, …).
    pub fn protocol(&mut self, names: &[&str]) -> R<u32> {
        match self.take(names) {
            None => Ok(0),
            Some((p, v)) => protocol_value(&v, &p),
        }
    }

    /// An enum carried as a string: matched to a canonical spelling in any case, or given as
    /// its index in `variants` (numeric forms are list order — inferred, hns-schema.md §1).
    /// Unknown names are kept as sent.
    pub fn enum_str(&mut self, names: &[&str], variants: &[&str]) -> R<String> {
        match self.take(names) {
            None => Ok(String::new()),
            Some((p, v)) => enum_value(&v, &p, variants),
        }
    }

    /// A numeric enum that callers also send by name: `by_name` maps a (trimmed) name to its
    /// value; anything else must be an integer.
    pub fn named_u32(&mut self, names: &[&str], by_name: impl Fn(&str) -> Option<u32>) -> R<u32> {
        match self.take(names) {
            None => Ok(0),
            Some((p, v)) => match v.as_str().and_then(|s| by_name(s.trim())) {
                Some(x) => Ok(x),
                None => uint_value(&v, &p, u32::MAX as u64).map(|n| n as u32),
            },
        }
    }

    /// A list of strings; a single comma-separated string is accepted too (v1 style).
    pub fn strings(&mut self, names: &[&str]) -> R<Vec<String>> {
        match self.take(names) {
            None => Ok(Vec::new()),
            Some((_, Value::String(s))) => Ok(split_commas(&s)),
            Some((p, Value::Array(a))) => a
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(err(&format!("{p}[{i}]"), "a string", other)),
                })
                .collect(),
            Some((p, v)) => Err(err(&p, "an array of strings", &v)),
        }
    }

    /// A GUID-valued string field holding a reference (kept as a string; upper-cased when it
    /// parses, as HNS writes GUIDs).
    pub fn guid_ref(&mut self, names: &[&str]) -> R<String> {
        Ok(canon_guid(&self.str(names)?))
    }

    pub fn guid_refs(&mut self, names: &[&str]) -> R<Vec<String>> {
        Ok(self.strings(names)?.iter().map(|s| canon_guid(s)).collect())
    }

    /// A MAC-valued string field (dash form when it parses).
    pub fn mac(&mut self, names: &[&str]) -> R<String> {
        Ok(canon_mac(&self.str(names)?))
    }

    /// An object's `ID`: a GUID (empty string = zero GUID).
    pub fn id(&mut self) -> R<Guid> {
        match self.take(&["ID"]) {
            None => Ok(Guid::ZERO),
            Some((_, Value::String(s))) if s.trim().is_empty() => Ok(Guid::ZERO),
            Some((p, Value::String(s))) => s.parse().map_err(|_| {
                err(
                    &p,
                    "a GUID like 01234567-89AB-CDEF-0123-456789ABCDEF",
                    &Value::String(s),
                )
            }),
            Some((p, v)) => Err(err(&p, "a GUID string", &v)),
        }
    }

    pub fn object<T: ReadDoc>(&mut self, names: &[&str]) -> R<Option<T>> {
        match self.take(names) {
            None => Ok(None),
            Some((p, v)) => T::read(&v, &p).map(Some),
        }
    }

    pub fn list<T: ReadDoc>(&mut self, names: &[&str]) -> R<Vec<T>> {
        self.list_with(names, T::read)
    }

    pub fn list_with<T>(&mut self, names: &[&str], mut f: impl FnMut(&Value, &str) -> R<T>) -> R<Vec<T>> {
        match self.take(names) {
            None => Ok(Vec::new()),
            Some((p, Value::Array(a))) => a
                .iter()
                .enumerate()
                .map(|(i, v)| f(v, &format!("{p}[{i}]")))
                .collect(),
            Some((p, v)) => Err(err(&p, "an array", &v)),
        }
    }
}

pub(crate) fn uint_value(v: &Value, path: &str, max: u64) -> R<u64> {
    let expected = || format!("an integer from 0 to {max}");
    let n = match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            // 5.0 is an integer; 5.5 and -1 are not.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => parse_uint_str(s),
        _ => None,
    };
    match n {
        Some(n) if n <= max => Ok(n),
        _ => Err(err(path, expected(), v)),
    }
}

fn parse_uint_str(s: &str) -> Option<u64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    t.parse().ok()
}

pub(crate) fn bool_value(v: &Value, path: &str) -> R<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        other => Err(err(path, "true or false", other)),
    }
}

/// ProtocolType names (hns-schema.md §3.5); `Any` = 256 as Calico uses it.
const PROTOCOLS: [(&str, u32); 8] = [
    ("TCP", 6),
    ("UDP", 17),
    ("ICMP", 1),
    ("ICMPv4", 1),
    ("ICMPv6", 58),
    ("IGMP", 2),
    ("Any", 256),
    ("Unknown", 0),
];

pub(crate) fn protocol_number(name: &str) -> Option<u32> {
    let t = name.trim();
    if let Some(n) = parse_uint_str(t) {
        return u32::try_from(n).ok();
    }
    PROTOCOLS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(t))
        .map(|(_, v)| *v)
}

pub(crate) fn protocol_value(v: &Value, path: &str) -> R<u32> {
    let n = match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => protocol_number(s),
        _ => None,
    };
    n.ok_or_else(|| {
        err(
            path,
            "a protocol number (6, 17, …) or name (TCP, UDP, ICMPv4, ICMPv6, IGMP)",
            v,
        )
    })
}

/// An ACL `Protocols` list: numbers, or names converted to numbers (as \[wcn\] does).
pub(crate) fn protocol_list(s: &str) -> String {
    if s.trim().is_empty() {
        return String::new();
    }
    s.split(',')
        .map(|p| match protocol_number(p) {
            Some(n) => n.to_string(),
            None => p.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn enum_value(v: &Value, path: &str, variants: &[&str]) -> R<String> {
    match v {
        Value::String(s) => Ok(variants
            .iter()
            .find(|c| c.eq_ignore_ascii_case(s.trim()))
            .map(|c| c.to_string())
            .unwrap_or_else(|| s.clone())),
        Value::Number(n) => n
            .as_u64()
            .and_then(|i| variants.get(i as usize))
            .map(|c| c.to_string())
            .ok_or_else(|| err(path, format!("one of {}", variants.join(", ")), v)),
        other => Err(err(path, format!("one of {}", variants.join(", ")), other)),
    }
}

pub(crate) fn split_commas(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Upper-case a GUID string the way HNS writes it; anything else is kept as is.
pub fn canon_guid(s: &str) -> String {
    match s.parse::<Guid>() {
        Ok(g) => g.to_string(),
        Err(_) => s.to_string(),
    }
}

/// Dash-form, upper-case MAC; anything else is kept as is.
pub fn canon_mac(s: &str) -> String {
    match s.parse::<Mac>() {
        Ok(m) => m.to_string(),
        Err(_) => s.to_string(),
    }
}
