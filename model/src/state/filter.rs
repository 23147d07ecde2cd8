//! HostComputeQuery filters (hns-schema.md §4.4): a flat JSON map of field → value. A key names a
//! field of the object's v2 document (case-insensitively); endpoints also answer the v1 keys
//! `VirtualNetwork`, `VirtualNetworkName` and `IsRemoteEndpoint`. Values compare as GUIDs when
//! both sides are GUIDs, otherwise as case-insensitive text; an array field matches when any
//! element does. An unknown key matches nothing (inferred).

use crate::ids::Guid;
use serde_json::Value;

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn values_equal(field: &Value, wanted: &Value) -> bool {
    if let Value::Array(items) = field {
        return items.iter().any(|i| values_equal(i, wanted));
    }
    let (a, b) = (text(field), text(wanted));
    match (a.parse::<Guid>(), b.parse::<Guid>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim().eq_ignore_ascii_case(b.trim()),
    }
}

/// The value of a field of a document, looked up case-insensitively.
pub(crate) fn field<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    doc.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}
