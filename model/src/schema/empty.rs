//! Whether a value serialises to nothing (`null`, or a map with no entries), found without
//! serialising it: a policy's `Settings` is omitted when empty (hcsshim's `omitempty` on a
//! `json.RawMessage`), and building a `serde_json::Value` per policy just to look was most of the
//! cost of encoding an endpoint reply.

use serde::ser::{self, Impossible, Serialize};
use std::fmt;

/// `true` when `v` serialises as `null`/unit/none or as a map or struct with no entries.
pub(crate) fn serializes_empty<T: Serialize + ?Sized>(v: &T) -> bool {
    v.serialize(Probe).unwrap_or(false)
}

/// The answer "not empty", as an error so that any serialisation shape can give it early.
#[derive(Debug)]
struct NotEmpty;

impl fmt::Display for NotEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not empty")
    }
}

impl std::error::Error for NotEmpty {}

impl ser::Error for NotEmpty {
    fn custom<M: fmt::Display>(_: M) -> Self {
        NotEmpty
    }
}

struct Probe;

/// A map or struct: empty until a key (or a field that is not skipped) is written.
struct Entries;

impl ser::SerializeMap for Entries {
    type Ok = bool;
    type Error = NotEmpty;
    fn serialize_key<K: Serialize + ?Sized>(&mut self, _: &K) -> Result<(), NotEmpty> {
        Err(NotEmpty)
    }
    fn serialize_value<V: Serialize + ?Sized>(&mut self, _: &V) -> Result<(), NotEmpty> {
        Err(NotEmpty)
    }
    fn end(self) -> Result<bool, NotEmpty> {
        Ok(true)
    }
}

impl ser::SerializeStruct for Entries {
    type Ok = bool;
    type Error = NotEmpty;
    fn serialize_field<V: Serialize + ?Sized>(&mut self, _: &'static str, _: &V) -> Result<(), NotEmpty> {
        Err(NotEmpty)
    }
    fn end(self) -> Result<bool, NotEmpty> {
        Ok(true)
    }
}

macro_rules! not_empty {
    ($($f:ident($($t:ty),*);)*) => {$(
        fn $f(self, $(_: $t),*) -> Result<bool, NotEmpty> {
            Ok(false)
        }
    )*};
}

impl ser::Serializer for Probe {
    type Ok = bool;
    type Error = NotEmpty;
    type SerializeSeq = Impossible<bool, NotEmpty>;
    type SerializeTuple = Impossible<bool, NotEmpty>;
    type SerializeTupleStruct = Impossible<bool, NotEmpty>;
    type SerializeTupleVariant = Impossible<bool, NotEmpty>;
    type SerializeMap = Entries;
    type SerializeStruct = Entries;
    type SerializeStructVariant = Impossible<bool, NotEmpty>;

    not_empty! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_none(self) -> Result<bool, NotEmpty> {
        Ok(true)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<bool, NotEmpty> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<bool, NotEmpty> {
        Ok(true)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<bool, NotEmpty> {
        Ok(true)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<bool, NotEmpty> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, NotEmpty> {
        Ok(false)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotEmpty> {
        Err(NotEmpty)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotEmpty> {
        Err(NotEmpty)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotEmpty> {
        Err(NotEmpty)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotEmpty> {
        Err(NotEmpty)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Entries, NotEmpty> {
        Ok(Entries)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Entries, NotEmpty> {
        Ok(Entries)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotEmpty> {
        Err(NotEmpty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The definition this replaces: serialise to a `Value` and look.
    fn by_value<T: Serialize>(v: &T) -> bool {
        match serde_json::to_value(v).unwrap() {
            Value::Null => true,
            Value::Object(o) => o.is_empty(),
            _ => false,
        }
    }

    #[test]
    fn agrees_with_serialising_to_a_value() {
        use crate::schema::*;
        let values = [
            json!(null),
            json!({}),
            json!({"a": null}),
            json!([]),
            json!(""),
            json!(0),
            json!(false),
        ];
        for v in &values {
            assert_eq!(serializes_empty(v), by_value(v), "{v}");
        }
        let empty_pa = ProviderAddressPolicy::default();
        let pa = ProviderAddressPolicy {
            provider_address: "10.0.0.1".into(),
            ..Default::default()
        };
        let mut extra_only = EmptySettings::default();
        extra_only.extra.insert("X".into(), json!(1));
        // A field that is always written (no skip) makes the settings non-empty.
        let port = VxlanPortPolicy::default();
        assert!(serializes_empty(&empty_pa) && by_value(&empty_pa));
        assert!(!serializes_empty(&pa) && !by_value(&pa));
        assert!(serializes_empty(&EmptySettings::default()));
        assert!(!serializes_empty(&extra_only) && !by_value(&extra_only));
        assert!(!serializes_empty(&port) && !by_value(&port));
        assert_eq!(serializes_empty(&Some(1)), by_value(&Some(1)));
        assert_eq!(serializes_empty(&None::<u8>), by_value(&None::<u8>));
    }
}
