//! Protobuf wire bytes of an `ExportTraceServiceRequest` straight to its
//! OTLP/JSON text, without building the message in memory: fields are read
//! where they lie and written out as they are met, and spans and JSON values
//! are counted as they are written, so a request past either limit stops
//! there. What it holds is the JSON written so far.
//!
//! It reads what the `prost` messages beside it declare, with protobuf's
//! rules: unknown fields are skipped, a scalar sent twice keeps the last,
//! `resource`, `scope` and `status` sent twice are merged. It differs from
//! `prost` only where no SDK goes: groups are refused, and an attribute value
//! sent twice keeps the last rather than merging the two.

use base64::Engine;
use std::io::Write;

/// Why a request could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("not an OTLP protobuf traces request")]
    Decode,
    #[error("more than {0} spans")]
    TooManySpans(usize),
    #[error("more than {0} JSON values")]
    TooManyValues(usize),
}

/// Rewrites a protobuf request as OTLP/JSON, with no limit on its size.
pub fn to_json(body: &[u8]) -> Result<Vec<u8>, ProtoError> {
    to_json_limited(body, usize::MAX, usize::MAX)
}

/// Rewrites a protobuf request as OTLP/JSON, stopping at the first span past
/// `max_spans` or value past `max_values` (values counted as
/// [`crate::limits::json::count_values`] counts them in the JSON written).
pub fn to_json_limited(
    body: &[u8],
    max_spans: usize,
    max_values: usize,
) -> Result<Vec<u8>, ProtoError> {
    let mut out = Out {
        buf: Vec::with_capacity(body.len().saturating_mul(2).min(1 << 20)),
        values: 0,
        max_values,
        spans: 0,
        max_spans,
    };
    out.open(b'{')?;
    out.key("resourceSpans")?;
    out.open(b'[')?;
    let mut sep = Sep::default();
    for f in Fields::new(body) {
        match f? {
            (1, Val::Len(rs)) => {
                sep.next(&mut out);
                resource_spans(&mut out, rs)?;
            }
            (1, _) => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    out.close(b']');
    out.close(b'}');
    Ok(out.buf)
}

/// One field's payload.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Varint(u64),
    I64(u64),
    Len(&'a [u8]),
    I32,
}

/// The fields of one message, in wire order.
struct Fields<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields { buf, failed: false }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(ProtoError::Decode)?;
            self.buf = rest;
            if i == 9 && b > 1 {
                return Err(ProtoError::Decode);
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(ProtoError::Decode)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if n > self.buf.len() {
            return Err(ProtoError::Decode);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn field(&mut self) -> Result<(u32, Val<'a>), ProtoError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| ProtoError::Decode)?;
        if number == 0 {
            return Err(ProtoError::Decode);
        }
        let val = match key & 7 {
            0 => Val::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Val::I64(u64::from_le_bytes(a))
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| ProtoError::Decode)?;
                Val::Len(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Val::I32
            }
            _ => return Err(ProtoError::Decode),
        };
        Ok((number, val))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Val<'a>), ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        let f = self.field();
        self.failed = f.is_err();
        Some(f)
    }
}

fn text(b: &[u8]) -> Result<&str, ProtoError> {
    std::str::from_utf8(b).map_err(|_| ProtoError::Decode)
}

/// JSON being written, with its spans and values counted.
struct Out {
    buf: Vec<u8>,
    values: usize,
    max_values: usize,
    spans: usize,
    max_spans: usize,
}

impl Out {
    fn bump(&mut self) -> Result<(), ProtoError> {
        self.values += 1;
        if self.values > self.max_values {
            return Err(ProtoError::TooManyValues(self.max_values));
        }
        Ok(())
    }

    fn open(&mut self, c: u8) -> Result<(), ProtoError> {
        self.bump()?;
        self.buf.push(c);
        Ok(())
    }

    fn close(&mut self, c: u8) {
        self.buf.push(c);
    }

    /// An object member's key (the member counts as one value).
    fn key(&mut self, k: &str) -> Result<(), ProtoError> {
        self.bump()?;
        self.quoted(k);
        self.buf.push(b':');
        Ok(())
    }

    fn quoted(&mut self, s: &str) {
        let _ = serde_json::to_writer(&mut self.buf, s);
    }

    fn string(&mut self, s: &str) -> Result<(), ProtoError> {
        self.bump()?;
        self.quoted(s);
        Ok(())
    }

    fn number(&mut self, n: impl std::fmt::Display) -> Result<(), ProtoError> {
        self.bump()?;
        let _ = write!(self.buf, "{n}");
        Ok(())
    }

    fn float(&mut self, d: f64) -> Result<(), ProtoError> {
        self.bump()?;
        // Non-finite numbers have no JSON form: `null`, as serde_json writes them.
        let _ = serde_json::to_writer(&mut self.buf, &d);
        Ok(())
    }

    fn boolean(&mut self, b: bool) -> Result<(), ProtoError> {
        self.bump()?;
        self.buf
            .extend_from_slice(if b { b"true" } else { b"false" });
        Ok(())
    }
}

/// Commas between the elements of an array or the members of an object.
#[derive(Default)]
struct Sep(bool);

impl Sep {
    fn next(&mut self, out: &mut Out) {
        if self.0 {
            out.buf.push(b',');
        }
        self.0 = true;
    }
}

fn resource_spans(out: &mut Out, b: &[u8]) -> Result<(), ProtoError> {
    let mut resources = false;
    for f in Fields::new(b) {
        match f? {
            (1, Val::Len(_)) => resources = true,
            (2, Val::Len(_)) => {}
            (3, Val::Len(s)) => {
                text(s)?;
            }
            (1..=3, _) => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    out.open(b'{')?;
    if resources {
        // `resource` sent more than once merges: its attributes add up.
        out.key("resource")?;
        out.open(b'{')?;
        out.key("attributes")?;
        out.open(b'[')?;
        let mut sep = Sep::default();
        for f in Fields::new(b) {
            if let (1, Val::Len(r)) = f? {
                attributes_of(out, r, 1, &mut sep)?;
            }
        }
        out.close(b']');
        out.close(b'}');
        out.buf.push(b',');
    }
    out.key("scopeSpans")?;
    out.open(b'[')?;
    let mut sep = Sep::default();
    for f in Fields::new(b) {
        if let (2, Val::Len(ss)) = f? {
            sep.next(out);
            scope_spans(out, ss)?;
        }
    }
    out.close(b']');
    out.close(b'}');
    Ok(())
}

fn scope_spans(out: &mut Out, b: &[u8]) -> Result<(), ProtoError> {
    let (mut scoped, mut name, mut version) = (false, "", "");
    for f in Fields::new(b) {
        match f? {
            (1, Val::Len(sc)) => {
                scoped = true;
                for g in Fields::new(sc) {
                    match g? {
                        (1, Val::Len(s)) => name = text(s)?,
                        (2, Val::Len(s)) => version = text(s)?,
                        (1 | 2, _) => return Err(ProtoError::Decode),
                        _ => {}
                    }
                }
            }
            (2, Val::Len(_)) => {}
            (1 | 2, _) => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    out.open(b'{')?;
    if scoped {
        out.key("scope")?;
        out.open(b'{')?;
        out.key("name")?;
        out.string(name)?;
        out.buf.push(b',');
        out.key("version")?;
        out.string(version)?;
        out.close(b'}');
        out.buf.push(b',');
    }
    out.key("spans")?;
    out.open(b'[')?;
    let mut sep = Sep::default();
    for f in Fields::new(b) {
        if let (2, Val::Len(sp)) = f? {
            out.spans += 1;
            if out.spans > out.max_spans {
                return Err(ProtoError::TooManySpans(out.max_spans));
            }
            sep.next(out);
            span(out, sp)?;
        }
    }
    out.close(b']');
    out.close(b'}');
    Ok(())
}

/// A span's scalar fields (the last of each), read before it is written.
#[derive(Default)]
struct SpanHead<'a> {
    trace_id: &'a [u8],
    span_id: &'a [u8],
    parent: &'a [u8],
    name: &'a str,
    kind: i32,
    start: u64,
    end: u64,
    events: bool,
    status: bool,
}

fn span(out: &mut Out, b: &[u8]) -> Result<(), ProtoError> {
    let mut h = SpanHead::default();
    for f in Fields::new(b) {
        match f? {
            (1, Val::Len(v)) => h.trace_id = v,
            (2, Val::Len(v)) => h.span_id = v,
            (4, Val::Len(v)) => h.parent = v,
            (5, Val::Len(v)) => h.name = text(v)?,
            // int32 travels as a varint and is truncated to 32 bits, as protobuf does.
            (6, Val::Varint(v)) => h.kind = v as i32,
            (7, Val::I64(v)) => h.start = v,
            (8, Val::I64(v)) => h.end = v,
            (9, Val::Len(_)) => {}
            (11, Val::Len(_)) => h.events = true,
            (15, Val::Len(_)) => h.status = true,
            (1 | 2 | 4 | 5 | 6 | 7 | 8 | 9 | 11 | 15, _) => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    out.open(b'{')?;
    out.key("traceId")?;
    out.string(&hex::encode(h.trace_id))?;
    out.buf.push(b',');
    out.key("spanId")?;
    out.string(&hex::encode(h.span_id))?;
    if !h.parent.is_empty() {
        out.buf.push(b',');
        out.key("parentSpanId")?;
        out.string(&hex::encode(h.parent))?;
    }
    out.buf.push(b',');
    out.key("name")?;
    out.string(h.name)?;
    out.buf.push(b',');
    out.key("kind")?;
    out.number(h.kind)?;
    out.buf.push(b',');
    out.key("startTimeUnixNano")?;
    out.string(&h.start.to_string())?;
    out.buf.push(b',');
    out.key("endTimeUnixNano")?;
    out.string(&h.end.to_string())?;
    out.buf.push(b',');
    out.key("attributes")?;
    out.open(b'[')?;
    attributes_of(out, b, 9, &mut Sep::default())?;
    out.close(b']');
    if h.events {
        out.buf.push(b',');
        out.key("events")?;
        out.open(b'[')?;
        let mut sep = Sep::default();
        for f in Fields::new(b) {
            if let (11, Val::Len(e)) = f? {
                sep.next(out);
                event(out, e)?;
            }
        }
        out.close(b']');
    }
    if h.status {
        status(out, b)?;
    }
    out.close(b'}');
    Ok(())
}

fn event(out: &mut Out, b: &[u8]) -> Result<(), ProtoError> {
    let (mut time, mut name) = (0u64, "");
    for f in Fields::new(b) {
        match f? {
            (1, Val::I64(v)) => time = v,
            (2, Val::Len(v)) => name = text(v)?,
            (3, Val::Len(_)) => {}
            (1..=3, _) => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    out.open(b'{')?;
    out.key("timeUnixNano")?;
    out.string(&time.to_string())?;
    out.buf.push(b',');
    out.key("name")?;
    out.string(name)?;
    out.buf.push(b',');
    out.key("attributes")?;
    out.open(b'[')?;
    attributes_of(out, b, 3, &mut Sep::default())?;
    out.close(b']');
    out.close(b'}');
    Ok(())
}

/// `,"status":{…}` from every `status` field of span `b`, merged.
fn status(out: &mut Out, b: &[u8]) -> Result<(), ProtoError> {
    let (mut message, mut code) = ("", 0i32);
    for f in Fields::new(b) {
        if let (15, Val::Len(st)) = f? {
            for g in Fields::new(st) {
                match g? {
                    (2, Val::Len(v)) => message = text(v)?,
                    (3, Val::Varint(v)) => code = v as i32,
                    (2 | 3, _) => return Err(ProtoError::Decode),
                    _ => {}
                }
            }
        }
    }
    out.buf.push(b',');
    out.key("status")?;
    out.open(b'{')?;
    out.key("code")?;
    out.number(code)?;
    out.buf.push(b',');
    out.key("message")?;
    out.string(message)?;
    out.close(b'}');
    Ok(())
}

/// The `KeyValue`s in field `number` of message `b`, as array elements.
fn attributes_of(out: &mut Out, b: &[u8], number: u32, sep: &mut Sep) -> Result<(), ProtoError> {
    for f in Fields::new(b) {
        match f? {
            (n, Val::Len(kv)) if n == number => {
                sep.next(out);
                key_value(out, kv)?;
            }
            (n, _) if n == number => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    Ok(())
}

fn key_value(out: &mut Out, b: &[u8]) -> Result<(), ProtoError> {
    let (mut key, mut value) = ("", None);
    for f in Fields::new(b) {
        match f? {
            (1, Val::Len(v)) => key = text(v)?,
            (2, Val::Len(v)) => value = Some(v),
            (1 | 2, _) => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    out.open(b'{')?;
    out.key("key")?;
    out.string(key)?;
    out.buf.push(b',');
    out.key("value")?;
    any_value(out, value.unwrap_or_default())?;
    out.close(b'}');
    Ok(())
}

/// An `AnyValue` (the last member of its oneof wins); `{}` when none is set.
fn any_value(out: &mut Out, b: &[u8]) -> Result<(), ProtoError> {
    let mut last = None;
    for f in Fields::new(b) {
        match f? {
            (n @ (1 | 5 | 6 | 7), v @ Val::Len(_)) => last = Some((n, v)),
            (n @ (2 | 3), v @ Val::Varint(_)) => last = Some((n, v)),
            (4, v @ Val::I64(_)) => last = Some((4, v)),
            (1..=7, _) => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    out.open(b'{')?;
    match last {
        None => {}
        Some((1, Val::Len(s))) => {
            out.key("stringValue")?;
            out.string(text(s)?)?;
        }
        Some((2, Val::Varint(v))) => {
            out.key("boolValue")?;
            out.boolean(v != 0)?;
        }
        Some((3, Val::Varint(v))) => {
            out.key("intValue")?;
            out.string(&(v as i64).to_string())?;
        }
        Some((4, Val::I64(v))) => {
            out.key("doubleValue")?;
            out.float(f64::from_bits(v))?;
        }
        Some((5, Val::Len(a))) => {
            out.key("arrayValue")?;
            out.open(b'{')?;
            out.key("values")?;
            out.open(b'[')?;
            let mut sep = Sep::default();
            for f in Fields::new(a) {
                match f? {
                    (1, Val::Len(v)) => {
                        sep.next(out);
                        any_value(out, v)?;
                    }
                    (1, _) => return Err(ProtoError::Decode),
                    _ => {}
                }
            }
            out.close(b']');
            out.close(b'}');
        }
        Some((6, Val::Len(l))) => {
            out.key("kvlistValue")?;
            out.open(b'{')?;
            out.key("values")?;
            out.open(b'[')?;
            attributes_of(out, l, 1, &mut Sep::default())?;
            out.close(b']');
            out.close(b'}');
        }
        Some((_, Val::Len(bytes))) => {
            out.key("bytesValue")?;
            out.string(&base64::engine::general_purpose::STANDARD.encode(bytes))?;
        }
        Some(_) => return Err(ProtoError::Decode),
    }
    out.close(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::otlp_proto::*;
    use prost::Message;
    use serde_json::{json, Value};

    fn kv(key: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
        }
    }

    fn one_span(attributes: Vec<KeyValue>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    scope: None,
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        attributes,
                        ..Span::default()
                    }],
                }],
                schema_url: String::new(),
            }],
        }
    }

    fn json_of(req: &ExportTraceServiceRequest) -> Value {
        serde_json::from_slice(&to_json(&req.encode_to_vec()).unwrap()).unwrap()
    }

    #[test]
    fn every_any_value_kind_is_written() {
        use any_value::Value as V;
        let v = json_of(&one_span(vec![
            kv("s", V::StringValue("é\"\n".into())),
            kv("b", V::BoolValue(true)),
            kv("i", V::IntValue(-7)),
            kv("d", V::DoubleValue(1.5)),
            kv("nan", V::DoubleValue(f64::NAN)),
            kv("bytes", V::BytesValue(vec![0, 255])),
            kv(
                "kv",
                V::KvlistValue(KeyValueList {
                    values: vec![kv("x", V::IntValue(1))],
                }),
            ),
            KeyValue {
                key: "none".into(),
                value: None,
            },
        ]));
        let a = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
        assert_eq!(a[0]["value"], json!({"stringValue": "é\"\n"}));
        assert_eq!(a[1]["value"], json!({"boolValue": true}));
        assert_eq!(a[2]["value"], json!({"intValue": "-7"}));
        assert_eq!(a[3]["value"], json!({"doubleValue": 1.5}));
        assert_eq!(a[4]["value"], json!({"doubleValue": null}));
        assert_eq!(a[5]["value"], json!({"bytesValue": "AP8="}));
        assert_eq!(
            a[6]["value"],
            json!({"kvlistValue": {"values": [{"key": "x", "value": {"intValue": "1"}}]}})
        );
        assert_eq!(a[7]["value"], json!({}));
    }

    #[test]
    fn values_are_counted_as_the_json_counter_counts_them() {
        let req = one_span(vec![kv("k", any_value::Value::StringValue("v".into())); 10]);
        let json = to_json(&req.encode_to_vec()).unwrap();
        let n = crate::limits::json::count_values(&json, usize::MAX).unwrap();
        assert!(to_json_limited(&req.encode_to_vec(), 1, n).is_ok());
        assert_eq!(
            to_json_limited(&req.encode_to_vec(), 1, n - 1),
            Err(ProtoError::TooManyValues(n - 1))
        );
        assert_eq!(
            to_json_limited(&req.encode_to_vec(), 0, n),
            Err(ProtoError::TooManySpans(0))
        );
    }

    #[test]
    fn protobuf_rules_unknown_fields_repeats_and_merges() {
        // A span carrying an unknown field (3, trace_state) and its name twice.
        let mut span = Vec::new();
        prost::encoding::string::encode(3, &"state".to_string(), &mut span);
        prost::encoding::string::encode(5, &"first".to_string(), &mut span);
        prost::encoding::string::encode(5, &"last".to_string(), &mut span);
        // status twice: the fields of both merge
        let mut st1 = Vec::new();
        prost::encoding::string::encode(2, &"boom".to_string(), &mut st1);
        let mut st2 = Vec::new();
        prost::encoding::int32::encode(3, &2, &mut st2);
        prost::encoding::bytes::encode(15, &st1, &mut span);
        prost::encoding::bytes::encode(15, &st2, &mut span);
        let mut scope = Vec::new();
        prost::encoding::bytes::encode(2, &span, &mut scope);
        let mut rs = Vec::new();
        prost::encoding::bytes::encode(2, &scope, &mut rs);
        let mut req = Vec::new();
        prost::encoding::bytes::encode(1, &rs, &mut req);
        let v: Value = serde_json::from_slice(&to_json(&req).unwrap()).unwrap();
        let sp = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(sp["name"], "last");
        assert_eq!(sp["status"], json!({"code": 2, "message": "boom"}));
        // prost reads the same bytes the same way
        let p = ExportTraceServiceRequest::decode(&req[..]).unwrap();
        let ps = &p.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(ps.name, "last");
        assert_eq!(
            ps.status.as_ref().map(|s| (s.code, s.message.as_str())),
            Some((2, "boom"))
        );
    }

    #[test]
    fn malformed_wire_is_a_decode_error() {
        for bad in [
            &b"\x0a\x05\x01"[..],                            // length past the end
            b"\x08\x01",                                     // resource_spans as a varint
            b"\x0a\x02\x12\x00\x00",                         // trailing zero key
            b"\x0b",                                         // a group
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", // varint too long
            b"\x0a\x06\x12\x04\x12\x02\x2a\xff", // a name whose length runs past the end
            b"\x0a\x07\x12\x05\x12\x03\x2a\x01\xff", // a name that is not UTF-8
        ] {
            assert_eq!(to_json(bad), Err(ProtoError::Decode), "{bad:?}");
        }
    }
}
