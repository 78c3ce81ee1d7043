//! A borrowed JSON tree for the parsers: strings and keys point into the line
//! they were read from, and objects are slices of pairs. The direct reader
//! puts a line's arrays, objects and unescaped strings in a per-parser arena
//! (reset per line), so building the tree costs no heap allocation and
//! dropping it costs nothing; trees built through serde or from a
//! `serde_json::Value` own their vectors and strings instead.
//!
//! The API mirrors the parts of `serde_json::Value` the parsers use (`get`,
//! `as_str`, indexing that yields `Null` when absent, ...). Duplicate keys
//! resolve as in `serde_json`: the last one wins.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// One JSON value borrowing from its input.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Array(Array<'a>),
    Object(Object<'a>),
}

/// Items or members: in an arena (borrowed, nothing to drop) or owned.
#[derive(Clone)]
enum Seq<'a, T> {
    Borrowed(&'a [T]),
    Owned(Vec<T>),
}

impl<T> Deref for Seq<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Seq::Borrowed(s) => s,
            Seq::Owned(v) => v,
        }
    }
}

/// A JSON array: its items in input order (derefs to a slice).
#[derive(Clone)]
pub struct Array<'a>(Seq<'a, Value<'a>>);

impl<'a> Array<'a> {
    /// An array owning these items.
    pub fn from_vec(items: Vec<Value<'a>>) -> Array<'a> {
        Array(Seq::Owned(items))
    }

    /// An array of items that live elsewhere (an arena).
    pub(super) fn from_slice(items: &'a [Value<'a>]) -> Array<'a> {
        Array(Seq::Borrowed(items))
    }
}

impl Default for Array<'_> {
    fn default() -> Self {
        Array(Seq::Borrowed(&[]))
    }
}

impl<'a> Deref for Array<'a> {
    type Target = [Value<'a>];
    fn deref(&self) -> &[Value<'a>] {
        &self.0
    }
}

impl<'b, 'a> IntoIterator for &'b Array<'a> {
    type Item = &'b Value<'a>;
    type IntoIter = std::slice::Iter<'b, Value<'a>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl PartialEq for Array<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

/// As the items' slice (the same text whether borrowed or owned).
impl fmt::Debug for Array<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// One object member: key and value.
pub(super) type Member<'a> = (Cow<'a, str>, Value<'a>);

/// A JSON object: its members in input order.
#[derive(Clone)]
pub struct Object<'a>(Seq<'a, Member<'a>>);

impl Default for Object<'_> {
    fn default() -> Self {
        Object(Seq::Borrowed(&[]))
    }
}

impl PartialEq for Object<'_> {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}

/// As `Object([(key, value), ...])` (the same text whether borrowed or owned).
impl fmt::Debug for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Object").field(&&*self.0).finish()
    }
}

static NULL: Value<'static> = Value::Null;

impl<'a> Object<'a> {
    /// An object of these members (in input order).
    pub(super) fn from_members(members: Vec<Member<'a>>) -> Object<'a> {
        Object(Seq::Owned(members))
    }

    /// An object of members that live elsewhere (an arena).
    pub(super) fn from_slice(members: &'a [Member<'a>]) -> Object<'a> {
        Object(Seq::Borrowed(members))
    }

    /// The member named `key` (the last one when the key repeats).
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// Members in input order (a repeated key appears each time).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    pub fn values(&self) -> impl Iterator<Item = &Value<'a>> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An owned `serde_json` map (for span attributes).
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
    }
}

impl<'a> Value<'a> {
    /// Parses JSON text, borrowing strings from it where possible.
    pub fn parse(text: &'a str) -> Result<Value<'a>, serde_json::Error> {
        match super::fastjson::parse(text) {
            Some(v) => Ok(v),
            None => serde_json::from_str(text),
        }
    }

    /// Parses JSON bytes: the direct reader when the bytes are UTF-8 and it
    /// is sure of the result, else `serde_json` (same tree, or its error).
    pub fn from_slice(bytes: &'a [u8]) -> Result<Value<'a>, serde_json::Error> {
        if let Some(v) = std::str::from_utf8(bytes)
            .ok()
            .and_then(super::fastjson::parse)
        {
            return Ok(v);
        }
        serde_json::from_slice(bytes)
    }

    /// `self[key]` for objects; `None` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(o) => o.get(key),
            _ => None,
        }
    }

    /// `self[i]` for arrays.
    pub fn get_index(&self, i: usize) -> Option<&Value<'a>> {
        match self {
            Value::Array(a) => a.get(i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// An owned `serde_json::Value` of the same JSON (for span attributes).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_value).collect()),
            Value::Object(o) => serde_json::Value::Object(o.to_map()),
        }
    }
}

/// An owned tree from a `serde_json::Value` (tests and callers that hold one).
impl From<serde_json::Value> for Value<'static> {
    fn from(v: serde_json::Value) -> Value<'static> {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(Cow::Owned(s)),
            serde_json::Value::Array(a) => {
                Value::Array(Array::from_vec(a.into_iter().map(Value::from).collect()))
            }
            serde_json::Value::Object(o) => Value::Object(Object::from_members(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Value::from(v)))
                    .collect(),
            )),
        }
    }
}

impl<'a> std::ops::Index<&str> for Value<'a> {
    type Output = Value<'a>;
    /// `v["key"]`: the member, or `Null` when absent (as `serde_json`).
    fn index(&self, key: &str) -> &Value<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

impl<'a> std::ops::Index<usize> for Value<'a> {
    type Output = Value<'a>;
    fn index(&self, i: usize) -> &Value<'a> {
        self.get_index(i).unwrap_or(&NULL)
    }
}

/// Compact JSON text, as `serde_json::Value`'s `Display`.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(t) => s.serialize_str(t),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a.iter() {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(o) => o.serialize(s),
        }
    }
}

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value<'de>, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(Array::from_vec(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some((k, v)) = map.next_entry::<Key<'de>, Value<'de>>()? {
            members.push((k.0, v));
        }
        Ok(Value::Object(Object::from_members(members)))
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value<'de>, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// An object key, borrowed unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_serde_json_and_borrows_plain_strings() {
        let text = r#"{"a":"plain","b":"esc\"aped","n":[1,-2,2.5,18446744073709551615],"o":{"x":null,"y":true},"a":"last"}"#;
        let v = Value::parse(text).unwrap();
        let reference: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            v.to_value(),
            reference,
            "same JSON as serde_json (last key wins)"
        );
        assert_eq!(v["a"].as_str(), Some("last"));
        assert!(matches!(&v["b"], Value::String(Cow::Owned(s)) if s == "esc\"aped"));
        assert!(matches!(&v["o"]["y"], Value::Bool(true)));
        assert!(v.get("o").and_then(|o| o.get("missing")).is_none());
        assert!(v["nope"]["deeper"].is_null());
        assert_eq!(v["n"][3].as_u64(), Some(u64::MAX));
        assert_eq!(v["n"][1].as_i64(), Some(-2));
        assert_eq!(v["n"][2].as_f64(), Some(2.5));
        let Value::Object(o) = &v else {
            panic!("object")
        };
        let Some((_, Value::String(Cow::Borrowed(_)))) = o.iter().next() else {
            panic!("an unescaped string should borrow from the input");
        };
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b", "n", "o", "a"]);
    }

    #[test]
    fn serialises_back_to_the_same_json() {
        let text = r#"{"k":[1,{"x":"y\n"}],"e":{},"f":1.5}"#;
        let v = Value::parse(text).unwrap();
        assert_eq!(v.to_string(), text);
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(5000);
        assert!(Value::parse(&deep).is_err());
        let deep_objects = "{\"a\":".repeat(5000);
        assert!(Value::parse(&deep_objects).is_err());
    }
}
