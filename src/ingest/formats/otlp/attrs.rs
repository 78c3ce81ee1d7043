//! OTLP attribute access by reference, and AnyValue → plain JSON.

use super::super::common::{as_i64, as_u64, str_of};
use crate::ingest::formats::json::Value;
use serde_json::{Map, Value as Json};

/// One span's attributes, by reference: `(key, AnyValue)`.
pub(super) struct Attrs<'a>(pub(super) Vec<(&'a str, &'a Value<'a>)>);

impl<'a> Attrs<'a> {
    pub(super) fn from(v: Option<&'a Value<'a>>) -> Attrs<'a> {
        let mut out = Vec::new();
        if let Some(Value::Array(items)) = v {
            out.reserve(items.len());
            for kv in items {
                if let (Some(k), Some(val)) = (str_of(kv, "key"), kv.get("value")) {
                    out.push((k, val));
                }
            }
        }
        Attrs(out)
    }

    pub(super) fn any(&self, key: &str) -> Option<&'a Value<'a>> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    pub(super) fn str(&self, key: &str) -> Option<&'a str> {
        self.any(key)
            .and_then(|v| v.get("stringValue"))
            .and_then(Value::as_str)
    }

    /// First present of several keys, as a string (other scalar kinds rendered).
    pub(super) fn text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| {
            self.any(k).and_then(|v| match any_to_json(v) {
                Json::String(s) => Some(s),
                Json::Null => None,
                other => Some(other.to_string()),
            })
        })
    }

    pub(super) fn int(&self, keys: &[&str]) -> Option<u64> {
        keys.iter().find_map(|k| {
            let v = self.any(k)?;
            v.get("intValue")
                .or_else(|| v.get("doubleValue"))
                .or_else(|| v.get("stringValue"))
                .and_then(as_u64)
        })
    }
}

/// OTLP AnyValue → plain JSON (`intValue` strings become numbers).
pub fn any_to_json(v: &Value) -> Json {
    let Some(o) = v.as_object() else {
        return v.to_value();
    };
    if let Some(s) = o.get("stringValue") {
        return s.to_value();
    }
    if let Some(i) = o.get("intValue") {
        return as_i64(i).map(Json::from).unwrap_or_else(|| i.to_value());
    }
    if let Some(d) = o.get("doubleValue") {
        return match d {
            Value::String(s) => s.parse::<f64>().ok().map(Json::from).unwrap_or(Json::Null),
            other => other.to_value(),
        };
    }
    if let Some(b) = o.get("boolValue") {
        return b.to_value();
    }
    if let Some(a) = o.get("arrayValue") {
        let vals = a.get("values").and_then(Value::as_array);
        return Json::Array(
            vals.map(|x| x.iter().map(any_to_json).collect())
                .unwrap_or_default(),
        );
    }
    if let Some(kv) = o.get("kvlistValue") {
        let mut m = Map::new();
        if let Some(Value::Array(items)) = kv.get("values") {
            for item in items {
                if let (Some(k), Some(val)) = (str_of(item, "key"), item.get("value")) {
                    m.insert(k.to_owned(), any_to_json(val));
                }
            }
        }
        return Json::Object(m);
    }
    if let Some(b) = o.get("bytesValue") {
        return b.to_value();
    }
    Json::Null
}
