//! A path-tracking, tolerant reader over `serde_json::Value`.
//!
//! HNS and hcsshim decode with Go's `encoding/json`, which matches keys case-insensitively
//! (hns-schema.md §1), and real callers send numbers or strings for enums. serde's derive can do
//! neither and loses the JSON path on error, so every HNS struct is read through [`Obj`]: each
//! field is taken by name (any case, with aliases), type errors carry `$.A[0].B`, and whatever is
//! left over becomes the struct's `extra` map so nothing is lost.
//!
//! Speed (issue 6: 100,000 endpoint documents per programming run): the parsed `Value` is
//! consumed, never cloned — an [`Obj`] owns its map and moves each field out; a JSON path is a
//! chain of borrowed segments ([`Path`]) that is only formatted when an error is made; and
//! strings already in HNS's canonical GUID/MAC form are kept as they are.

use super::common::Extra;
use crate::hresult::{HResult, HcnError};
use crate::ids::{Guid, Mac};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// A document that does not fit the HNS schema: where, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at {path}: expected {expected}, found {found}")]
pub struct DocError {
    /// JSON path like `$.Ipams[0].Subnets[1].IpAddressPrefix`.
    pub path: String,
    pub expected: String,
    pub found: String,
}

impl DocError {
    /// The HCN error a real call would return for this document.
    pub fn to_hcn_error(&self) -> HcnError {
        HcnError::new(HResult::HCN_E_INVALID_JSON, self.to_string())
    }
}

pub(crate) type R<T> = Result<T, DocError>;

/// Parse JSON text; a syntax error says where (line and column).
pub fn parse_json(json: &str) -> Result<Value, DocError> {
    serde_json::from_str(json).map_err(|e| DocError {
        path: "$".into(),
        expected: "well-formed JSON".into(),
        found: format!("{e}"),
    })
}

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

pub(crate) fn err(path: impl fmt::Display, expected: impl Into<String>, found: &Value) -> DocError {
    DocError {
        path: path.to_string(),
        expected: expected.into(),
        found: describe(found),
    }
}

/// A JSON path like `$.Ipams[0].Subnets[1].IpAddressPrefix`, as a chain of borrowed segments
/// that costs nothing until an error formats it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'a> {
    /// The document (`$`), or a path already formatted.
    Root(&'a str),
    /// `.Key`, or `["odd key"]` when the key is not plain.
    Key(&'a Path<'a>, &'a str),
    /// `[i]`.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub const ROOT: Path<'static> = Path::Root("$");

    pub fn key<'b>(&'b self, key: &'b str) -> Path<'b> {
        Path::Key(self, key)
    }

    pub fn index(&self, i: usize) -> Path<'_> {
        Path::Index(self, i)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(s) => f.write_str(s),
            Path::Key(parent, key) => {
                parent.fmt(f)?;
                let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if plain {
                    write!(f, ".{key}")
                } else {
                    write!(f, "[{key:?}]")
                }
            }
            Path::Index(parent, i) => {
                parent.fmt(f)?;
                write!(f, "[{i}]")
            }
        }
    }
}

/// Implemented by every HNS struct: read it from a JSON object at `path`, consuming the value.
pub(crate) trait ReadDoc: Sized {
    /// What the object is, for "expected … object" messages.
    const WHAT: &'static str;
    fn read_obj(o: Obj<'_>) -> R<Self>;

    fn read(v: Value, path: Path<'_>) -> R<Self> {
        Self::read_obj(Obj::new(v, path, Self::WHAT)?)
    }
}

/// `impl Deserialize` by way of [`ReadDoc`] (or of a reader `fn(Value, Path) -> R<T>` given as
/// `T => reader`), so `serde_json::from_str::<Subnet>` is as tolerant as the document decoders
/// (it only loses the structured path, which is in the message).
macro_rules! deserialize_via_read {
    ($($t:ty),* $(,)?) => {
        $crate::schema::read::deserialize_via_read!(
            $($t => <$t as $crate::schema::read::ReadDoc>::read),*
        );
    };
    ($($t:ty => $read:expr),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                $read(v, $crate::schema::read::Path::ROOT).map_err(<D::Error as serde::de::Error>::custom)
            }
        }
    )*};
}
pub(crate) use deserialize_via_read;

/// Which entries of an object's map have been taken (bit i = entry i), without allocating for
/// the first 64 keys.
#[derive(Default)]
struct Taken {
    low: u64,
    high: Vec<u64>,
}

impl Taken {
    fn get(&self, i: usize) -> bool {
        if i < 64 {
            self.low & (1 << i) != 0
        } else {
            self.high
                .get(i / 64 - 1)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        }
    }

    fn set(&mut self, i: usize) {
        if i < 64 {
            self.low |= 1 << i;
        } else {
            let w = i / 64 - 1;
            if self.high.len() <= w {
                self.high.resize(w + 1, 0);
            }
            self.high[w] |= 1 << (i % 64);
        }
    }
}

/// The fields of one JSON object, taken out one by one. The map is owned (moved out of the
/// parsed document); a taken entry stays in place, marked, so its key can name the path.
pub(crate) struct Obj<'p> {
    pub path: Path<'p>,
    map: Map<String, Value>,
    taken: Taken,
    /// [`key_bit`] of every key: most probes are for keys a document does not have (a v2
    /// document has none of the ~20 v1 keys probed), and this answers them without a scan.
    bits: u64,
    /// While [`collect_unknown_keys`] runs: what the object is and every name asked for, the
    /// candidates of a "did you mean". `None` otherwise, so the hot path pays one branch.
    asked: Option<Box<(String, Vec<String>)>>,
}

/// A key of an HNS object that the reader did not take: kept in `extra` (round-trips
/// losslessly) but ignored by HNS. `object` is what the reader expected (`Network`, `ACL
/// policy settings`, …), `path` the JSON path of the object, `known` the names it asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftoverKey {
    pub object: String,
    pub path: String,
    pub key: String,
    pub known: Vec<String>,
}

thread_local! {
    static LEFTOVERS: std::cell::RefCell<Option<Vec<LeftoverKey>>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` (a decode) and return, with its result, every key the readers left over.
pub fn collect_unknown_keys<T>(f: impl FnOnce() -> T) -> (T, Vec<LeftoverKey>) {
    let outer = LEFTOVERS.with(|c| c.borrow_mut().replace(Vec::new()));
    let out = f();
    let found = LEFTOVERS.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    (out, found.unwrap_or_default())
}

fn collecting() -> bool {
    LEFTOVERS.with(|c| c.borrow().is_some())
}

/// A bit standing for a key's length and first letter, in any case.
fn key_bit(k: &str) -> u64 {
    let first = k.as_bytes().first().map_or(0, |b| b.to_ascii_lowercase()) as usize;
    1 << ((k.len() * 7 + first) % 64)
}

/// The entry of `map` that `names` selects: an exact match wins over a case-insensitive one
/// ("ID" and "Id" may both be present), the first name over later ones; taken entries do not
/// count. Also whether other live keys match one of the names (case variants to drop).
fn find(map: &Map<String, Value>, taken: &Taken, bits: u64, names: &[&str]) -> Option<(usize, bool)> {
    if let [n] = names {
        if bits & key_bit(n) == 0 {
            return None;
        }
        // One pass: the exact spelling, else the first case variant.
        let (mut exact, mut first, mut matches) = (None, None, 0);
        for (i, k) in map.keys().enumerate() {
            if k.len() != n.len() || taken.get(i) {
                continue;
            }
            if k == n {
                exact = exact.or(Some(i));
            } else if k.eq_ignore_ascii_case(n) {
                first = first.or(Some(i));
            } else {
                continue;
            }
            matches += 1;
        }
        return exact.or(first).map(|i| (i, matches > 1));
    }
    let names = || names.iter().filter(|n| bits & key_bit(n) != 0);
    let live = |i: usize, k: &str, n: &str| !taken.get(i) && k.eq_ignore_ascii_case(n);
    let at = names()
        .find_map(|n| map.keys().enumerate().position(|(i, k)| k == n && !taken.get(i)))
        .or_else(|| names().find_map(|n| map.keys().enumerate().position(|(i, k)| live(i, k, n))))?;
    let matches = map
        .keys()
        .enumerate()
        .filter(|(i, k)| names().any(|n| live(*i, k, n)))
        .count();
    Some((at, matches > 1))
}

/// Take the entry `names` selects, and drop its case variants; its key and value.
fn take_entry<'m>(
    map: &'m mut Map<String, Value>,
    taken: &mut Taken,
    bits: u64,
    names: &[&str],
) -> Option<(&'m str, Value)> {
    let (at, variants) = find(map, taken, bits, names)?;
    if variants {
        for (i, k) in map.keys().enumerate() {
            if i != at && names.iter().any(|n| k.eq_ignore_ascii_case(n)) {
                taken.set(i);
            }
        }
    }
    taken.set(at);
    let (k, v) = map.iter_mut().nth(at)?;
    Some((k.as_str(), std::mem::take(v)))
}

impl<'p> Obj<'p> {
    pub fn new(v: Value, path: Path<'p>, what: &str) -> R<Obj<'p>> {
        match v {
            Value::Object(map) => Ok(Obj {
                path,
                bits: map.keys().fold(0, |b, k| b | key_bit(k)),
                map,
                taken: Taken::default(),
                asked: collecting().then(|| Box::new((what.to_string(), Vec::new()))),
            }),
            other => Err(err(path, format!("{what} object"), &other)),
        }
    }

    /// Whether a key (any case, any of the names) is present.
    pub fn has(&self, names: &[&str]) -> bool {
        // Not recorded as asked: `has` probes for a document's kind, not for its fields.
        names.iter().any(|n| {
            self.bits & key_bit(n) != 0
                && (self.map.keys().enumerate()).any(|(i, k)| k.eq_ignore_ascii_case(n) && !self.taken.get(i))
        })
    }

    /// Remove a field; returns its path and value. `null` counts as absent.
    /// Case variants of the same key (`"Type"` and `"type"`) are duplicates: the exact spelling
    /// wins and the others are dropped, so they cannot reappear from `extra`.
    pub fn take(&mut self, names: &[&str]) -> Option<(Path<'_>, Value)> {
        self.note_asked(names);
        let (k, v) = take_entry(&mut self.map, &mut self.taken, self.bits, names)?;
        if v.is_null() {
            return None;
        }
        Some((Path::Key(&self.path, k), v))
    }

    /// As [`Obj::take`], but returns the key as sent instead of a path borrowing the object, so
    /// the object can be consumed next; a key spelled exactly as in `names` is not copied.
    pub fn take_key(&mut self, names: &[&'static str]) -> Option<(Cow<'static, str>, Value)> {
        self.note_asked(names);
        let (k, v) = take_entry(&mut self.map, &mut self.taken, self.bits, names)?;
        if v.is_null() {
            return None;
        }
        let k = match names.iter().find(|n| **n == k) {
            Some(n) => Cow::Borrowed(*n),
            None => Cow::Owned(k.to_string()),
        };
        Some((k, v))
    }

    fn all_taken(&self) -> bool {
        (0..self.map.len()).all(|i| self.taken.get(i))
    }

    /// What was not taken: the struct's `extra`. `null`s are dropped (null = absent, as for
    /// every modelled field), so a case-variant duplicate like `"type":null` does not linger.
    fn note_asked(&mut self, names: &[&str]) {
        if let Some(a) = &mut self.asked {
            a.1.extend(names.iter().map(|n| n.to_string()));
        }
    }

    /// Tell the collector about the keys left over (when one runs).
    fn report_leftovers(&self) {
        let Some(a) = &self.asked else { return };
        let left: Vec<LeftoverKey> = (self.map.iter().enumerate())
            .filter(|(i, (_, v))| !self.taken.get(*i) && !v.is_null())
            .map(|(_, (k, _))| LeftoverKey {
                object: a.0.clone(),
                path: self.path.to_string(),
                key: k.clone(),
                known: a.1.clone(),
            })
            .collect();
        if !left.is_empty() {
            LEFTOVERS.with(|c| {
                if let Some(v) = c.borrow_mut().as_mut() {
                    v.extend(left)
                }
            });
        }
    }

    pub fn rest(self) -> Extra {
        self.report_leftovers();
        self.take_rest()
    }

    /// As [`Obj::rest`], for leftovers that another reader takes next (a flat v1 policy's
    /// settings): not reported as unknown here.
    pub fn take_rest(self) -> Extra {
        if self.all_taken() {
            return Extra::new();
        }
        let taken = self.taken;
        self.map
            .into_iter()
            .enumerate()
            .filter(|(i, (_, v))| !taken.get(*i) && !v.is_null())
            .map(|(_, kv)| kv)
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.all_taken()
    }

    pub fn into_value(self) -> Value {
        let (mut map, taken) = (self.map, self.taken);
        let mut i = 0;
        map.retain(|_, _| {
            i += 1;
            !taken.get(i - 1)
        });
        Value::Object(map)
    }

    pub fn raw(&mut self, names: &[&str]) -> Option<Value> {
        self.take(names).map(|(_, v)| v)
    }

    pub fn str(&mut self, names: &[&str]) -> R<String> {
        match self.take(names) {
            None => Ok(String::new()),
            Some((_, Value::String(s))) => Ok(s),
            Some((p, v)) => Err(err(p, "a string", &v)),
        }
    }

    /// A string field that callers also send as a number (ports, protocol lists).
    pub fn str_or_num(&mut self, names: &[&str]) -> R<String> {
        match self.take(names) {
            None => Ok(String::new()),
            Some((_, Value::String(s))) => Ok(s),
            Some((_, Value::Number(n))) => Ok(n.to_string()),
            Some((p, v)) => Err(err(p, "a string or number", &v)),
        }
    }

    pub fn uint(&mut self, names: &[&str], max: u64) -> R<u64> {
        match self.take(names) {
            None => Ok(0),
            Some((p, v)) => uint_value(&v, p, max),
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
            Some((p, v)) => bool_value(&v, p),
        }
    }

    /// A protocol: a number, a numeric string, or a name (`TCP`, `udp`, `ICMPv6`, …).
    pub fn protocol(&mut self, names: &[&str]) -> R<u32> {
        match self.take(names) {
            None => Ok(0),
            Some((p, v)) => protocol_value(&v, p),
        }
    }

    /// An enum carried as a string: matched to a canonical spelling in any case, or given as
    /// its index in `variants` (numeric forms are list order — inferred, hns-schema.md §1).
    /// Unknown names are kept as sent.
    pub fn enum_str(&mut self, names: &[&str], variants: &[&str]) -> R<String> {
        match self.take(names) {
            None => Ok(String::new()),
            Some((p, v)) => enum_value(v, p, variants),
        }
    }

    /// A numeric enum that callers also send by name: `by_name` maps a (trimmed) name to its
    /// value; anything else must be an integer.
    pub fn named_u32(&mut self, names: &[&str], by_name: impl Fn(&str) -> Option<u32>) -> R<u32> {
        match self.take(names) {
            None => Ok(0),
            Some((p, v)) => match v.as_str().and_then(|s| by_name(s.trim())) {
                Some(x) => Ok(x),
                None => uint_value(&v, p, u32::MAX as u64).map(|n| n as u32),
            },
        }
    }

    /// A list of strings; a single comma-separated string is accepted too (v1 style).
    pub fn strings(&mut self, names: &[&str]) -> R<Vec<String>> {
        match self.take(names) {
            None => Ok(Vec::new()),
            Some((_, Value::String(s))) => Ok(split_commas(&s)),
            Some((p, Value::Array(a))) => collect_items(a, |v, i| match v {
                Value::String(s) => Ok(s),
                other => Err(err(p.index(i), "a string", &other)),
            }),
            Some((p, v)) => Err(err(p, "an array of strings", &v)),
        }
    }

    /// A GUID-valued string field holding a reference (kept as a string; upper-cased when it
    /// parses, as HNS writes GUIDs).
    pub fn guid_ref(&mut self, names: &[&str]) -> R<String> {
        Ok(canon_guid_owned(self.str(names)?))
    }

    pub fn guid_refs(&mut self, names: &[&str]) -> R<Vec<String>> {
        Ok(self.strings(names)?.into_iter().map(canon_guid_owned).collect())
    }

    /// A MAC-valued string field (dash form when it parses).
    pub fn mac(&mut self, names: &[&str]) -> R<String> {
        Ok(canon_mac_owned(self.str(names)?))
    }

    /// An object's `ID`: a GUID (empty string = zero GUID).
    pub fn id(&mut self) -> R<Guid> {
        match self.take(&["ID"]) {
            None => Ok(Guid::ZERO),
            Some((_, Value::String(s))) if s.trim().is_empty() => Ok(Guid::ZERO),
            Some((p, Value::String(s))) => s.parse().map_err(|_| {
                err(
                    p,
                    "a GUID like 01234567-89AB-CDEF-0123-456789ABCDEF",
                    &Value::String(s),
                )
            }),
            Some((p, v)) => Err(err(p, "a GUID string", &v)),
        }
    }

    pub fn object<T: ReadDoc>(&mut self, names: &[&str]) -> R<Option<T>> {
        match self.take(names) {
            None => Ok(None),
            Some((p, v)) => T::read(v, p).map(Some),
        }
    }

    pub fn list<T: ReadDoc>(&mut self, names: &[&str]) -> R<Vec<T>> {
        self.list_with(names, T::read)
    }

    pub fn list_with<T>(&mut self, names: &[&str], mut f: impl FnMut(Value, Path<'_>) -> R<T>) -> R<Vec<T>> {
        match self.take(names) {
            None => Ok(Vec::new()),
            Some((p, Value::Array(a))) => collect_items(a, |v, i| f(v, p.index(i))),
            Some((p, v)) => Err(err(p, "an array", &v)),
        }
    }
}

/// Map the items of an array, stopping at the first error. (Not `collect()`: that would reuse
/// the array's allocation, sized for `Value`s, and the state keeps these vectors.)
fn collect_items<T>(a: Vec<Value>, mut f: impl FnMut(Value, usize) -> R<T>) -> R<Vec<T>> {
    let mut out = Vec::with_capacity(a.len());
    for (i, v) in a.into_iter().enumerate() {
        out.push(f(v, i)?);
    }
    Ok(out)
}

pub(crate) fn uint_value(v: &Value, path: Path<'_>, max: u64) -> R<u64> {
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
        _ => Err(err(path, format!("an integer from 0 to {max}"), v)),
    }
}

fn parse_uint_str(s: &str) -> Option<u64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    t.parse().ok()
}

pub(crate) fn bool_value(v: &Value, path: Path<'_>) -> R<bool> {
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

pub(crate) fn protocol_value(v: &Value, path: Path<'_>) -> R<u32> {
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

pub(crate) fn enum_value(v: Value, path: Path<'_>, variants: &[&str]) -> R<String> {
    match v {
        Value::String(s) => Ok(match variants.iter().find(|c| c.eq_ignore_ascii_case(s.trim())) {
            Some(c) if **c == *s => s,
            Some(c) => c.to_string(),
            None => s,
        }),
        Value::Number(ref n) => n
            .as_u64()
            .and_then(|i| variants.get(i as usize))
            .map(|c| c.to_string())
            .ok_or_else(|| err(path, format!("one of {}", variants.join(", ")), &v)),
        other => Err(err(path, format!("one of {}", variants.join(", ")), &other)),
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
    canon_guid_owned(s.to_string())
}

/// [`canon_guid`] reusing the string: a GUID already in the 8-4-4-4-12 form (any case) is
/// upper-cased in place; other spellings (braces, spaces) are parsed and re-formatted.
pub(crate) fn canon_guid_owned(mut s: String) -> String {
    if Guid::is_hyphenated(&s) {
        s.make_ascii_uppercase();
        return s;
    }
    match s.parse::<Guid>() {
        Ok(g) => g.to_string(),
        Err(_) => s,
    }
}

/// Dash-form, upper-case MAC; anything else is kept as is.
pub fn canon_mac(s: &str) -> String {
    canon_mac_owned(s.to_string())
}

/// [`canon_mac`] reusing the string: `xx-xx-xx-xx-xx-xx` or `xx:xx:…` (any case) is rewritten in
/// place; other spellings (one-digit groups, spaces) are parsed and re-formatted.
pub(crate) fn canon_mac_owned(s: String) -> String {
    let full = s.len() == 17
        && s.bytes().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                c == b'-' || c == b':'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if !full {
        return match s.parse::<Mac>() {
            Ok(m) => m.to_string(),
            Err(_) => s,
        };
    }
    let mut b = s.into_bytes();
    for (i, c) in b.iter_mut().enumerate() {
        if i % 3 == 2 {
            *c = b'-';
        } else {
            c.make_ascii_uppercase();
        }
    }
    // Only ASCII bytes were rewritten with ASCII, so this cannot fail.
    String::from_utf8(b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Obj<'static> {
        Obj::new(v, Path::ROOT, "a test").unwrap()
    }

    #[test]
    fn paths_format_only_as_before() {
        let ipams = Path::ROOT.key("Ipams");
        let first = ipams.index(0);
        assert_eq!(
            first.key("IpAddressPrefix").to_string(),
            "$.Ipams[0].IpAddressPrefix"
        );
        assert_eq!(first.key("odd key").to_string(), r#"$.Ipams[0]["odd key"]"#);
        assert_eq!(Path::ROOT.key("").to_string(), r#"$[""]"#);
        assert_eq!(Path::ROOT.key("a_b9").to_string(), "$.a_b9");
        assert_eq!(
            Path::Root("$.Settings").key("Policies").index(2).to_string(),
            "$.Settings.Policies[2]"
        );
    }

    #[test]
    fn exact_spelling_wins_and_case_variants_are_dropped() {
        let mut o = obj(json!({"type": "b", "Type": "a", "TYPE": null, "X": 1}));
        let (p, v) = o.take(&["Type"]).unwrap();
        assert_eq!((p.to_string(), v), ("$.Type".to_string(), json!("a")));
        assert!(!o.has(&["type"]));
        assert!(o.take(&["Type"]).is_none());
        assert_eq!(Value::Object(o.rest().into_iter().collect()), json!({"X": 1}));

        // No exact spelling: the first variant in document order, under its own name.
        let mut o = obj(json!({"tYpe": "c", "type": "b"}));
        let (p, v) = o.take(&["Type"]).unwrap();
        assert_eq!((p.to_string(), v), ("$.tYpe".to_string(), json!("c")));
        assert!(o.is_empty());

        // Aliases: an exact later name beats a case variant of the first.
        let mut o = obj(json!({"exceptions": ["a"], "ExceptionList": ["b"]}));
        assert_eq!(o.strings(&["Exceptions", "ExceptionList"]).unwrap(), ["b"]);
        assert!(o.is_empty());
    }

    #[test]
    fn null_is_absent_but_still_a_key() {
        let mut o = obj(json!({"Type": "x", "k": null}));
        assert!(o.has(&["K"]));
        o.take(&["Type"]);
        assert!(!o.is_empty(), "a null key is still there");
        assert!(o.take(&["k"]).is_none());
        assert!(o.is_empty());
        let mut o = obj(json!({"Type": "x", "k": null}));
        o.take(&["Type"]);
        assert!(o.rest().is_empty(), "nulls are not kept in extra");
    }

    #[test]
    fn objects_with_more_than_64_keys() {
        let m: Map<String, Value> = (0..100).map(|i| (format!("k{i}"), json!(i))).collect();
        let mut o = obj(Value::Object(m));
        for i in [99, 64, 3, 70] {
            let (p, v) = o.take(&[&format!("K{i}")]).unwrap();
            assert_eq!((p.to_string(), v), (format!("$.k{i}"), json!(i)));
        }
        assert!(!o.has(&["k70"]) && o.has(&["k71"]));
        let rest = o.into_value();
        let keys: Vec<&str> = rest.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 96);
        assert_eq!(&keys[..5], ["k0", "k1", "k2", "k4", "k5"]);
        assert!(!keys.contains(&"k64") && keys.contains(&"k65"));
    }

    #[test]
    fn key_bits_ignore_case() {
        for (a, b) in [
            ("ID", "id"),
            ("HostComputeNetwork", "hostcomputenetwork"),
            ("", ""),
            ("é", "é"),
        ] {
            assert_eq!(key_bit(a), key_bit(b));
        }
    }

    #[test]
    fn errors_name_the_key_as_sent() {
        let mut o = obj(json!({"flags": "x"}));
        let e = o.u32(&["Flags"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"at $.flags: expected an integer from 0 to 4294967295, found "x""#
        );
        let mut o = obj(json!({"Routes": [{"Metric": 1}, "no"]}));
        let e = o.list::<super::super::Route>(&["Routes"]).unwrap_err();
        assert_eq!(e.path, "$.Routes[1]");
    }

    /// What `canon_guid` / `canon_mac` were before the in-place fast paths: parse and re-format.
    fn reference<T: std::str::FromStr + ToString>(s: &str) -> String {
        s.parse::<T>()
            .map(|x| x.to_string())
            .unwrap_or_else(|_| s.to_string())
    }

    #[test]
    fn canonical_forms_match_parse_and_format() {
        for s in [
            "404947ac-1234-5678-9abc-def012345678",
            "404947AC-1234-5678-9ABC-DEF012345678",
            "{404947ac-1234-5678-9abc-def012345678}",
            " 404947ac-1234-5678-9abc-def012345678 ",
            "+04947ac-1234-5678-9abc-def012345678",
            "404947ac-1234-5678-9abc-def01234567g",
            "404947ac_1234-5678-9abc-def012345678",
            "not a guid",
            "",
        ] {
            assert_eq!(canon_guid(s), reference::<Guid>(s), "{s:?}");
        }
        for s in [
            "0e:2a:0a:f4:01:0a",
            "0E-2A-0A-F4-01-0A",
            "0e-2a:0a-f4:01-0a",
            "e:2a:a:f4:1:a",
            " 0e:2a:0a:f4:01:0a",
            "0e:2a:0a:f4:01:0a:00",
            "0e:2a:0a:f4:01:zz",
            "0e:2a:0a:f4:01:+a",
            "0e.2a.0a.f4.01.0a",
            "",
        ] {
            assert_eq!(canon_mac(s), reference::<Mac>(s), "{s:?}");
        }
    }
}
