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

use super::out::{Out, Sep};
use super::wire::{text, Fields, Val};
use base64::Engine;

/// Why a request could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("not an OTLP protobuf traces request")]
    Decode,
    #[error("more than {0} spans")]
    TooManySpans(usize),
    #[error("more than {0} JSON values")]
    TooManyValues(usize),
    #[error("values nested deeper than {0} levels")]
    TooDeep(usize),
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
        depth: 0,
        values: 0,
        max_values,
        spans: 0,
        max_spans,
    };
    out.open(b'{')?;
    list(&mut out, "resourceSpans", body, 1, resource_spans)?;
    out.close(b'}');
    Ok(out.buf)
}

/// A message's payload writer.
type Write = fn(&mut Out, &[u8]) -> Result<(), ProtoError>;

/// `"key":[…]`: each message in field `number` of `b`, written by `write`.
fn list(out: &mut Out, key: &str, b: &[u8], number: u32, write: Write) -> Result<(), ProtoError> {
    out.key(key)?;
    out.open(b'[')?;
    elements(out, b, number, write, &mut Sep::default())?;
    out.close(b']');
    Ok(())
}

/// The messages in field `number` of `b` as array elements (after those `sep` has seen).
fn elements(
    out: &mut Out,
    b: &[u8],
    number: u32,
    write: Write,
    sep: &mut Sep,
) -> Result<(), ProtoError> {
    for f in Fields::new(b) {
        match f? {
            (n, Val::Len(m)) if n == number => {
                sep.next(out);
                write(out, m)?;
            }
            (n, _) if n == number => return Err(ProtoError::Decode),
            _ => {}
        }
    }
    Ok(())
}

/// `"key":"value",`
fn member(out: &mut Out, key: &str, value: &str) -> Result<(), ProtoError> {
    out.key(key)?;
    out.string(value)?;
    out.buf.push(b',');
    Ok(())
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
                elements(out, r, 1, key_value, &mut sep)?;
            }
        }
        out.close(b']');
        out.close(b'}');
        out.buf.push(b',');
    }
    list(out, "scopeSpans", b, 2, scope_spans)?;
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
        member(out, "name", name)?;
        out.key("version")?;
        out.string(version)?;
        out.close(b'}');
        out.buf.push(b',');
    }
    list(out, "spans", b, 2, span)?;
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
    out.spans += 1;
    if out.spans > out.max_spans {
        return Err(ProtoError::TooManySpans(out.max_spans));
    }
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
    member(out, "traceId", &hex::encode(h.trace_id))?;
    member(out, "spanId", &hex::encode(h.span_id))?;
    if !h.parent.is_empty() {
        member(out, "parentSpanId", &hex::encode(h.parent))?;
    }
    member(out, "name", h.name)?;
    out.key("kind")?;
    out.number(h.kind)?;
    out.buf.push(b',');
    member(out, "startTimeUnixNano", &h.start.to_string())?;
    member(out, "endTimeUnixNano", &h.end.to_string())?;
    list(out, "attributes", b, 9, key_value)?;
    if h.events {
        out.buf.push(b',');
        list(out, "events", b, 11, event)?;
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
    member(out, "timeUnixNano", &time.to_string())?;
    member(out, "name", name)?;
    list(out, "attributes", b, 3, key_value)?;
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
    member(out, "key", key)?;
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
        Some((n @ (5 | 6), Val::Len(list_bytes))) => {
            out.key(if n == 5 { "arrayValue" } else { "kvlistValue" })?;
            out.open(b'{')?;
            let write: Write = if n == 5 { any_value } else { key_value };
            list(out, "values", list_bytes, 1, write)?;
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
    use crate::ingest::otlp_proto::tests::kv;
    use crate::ingest::otlp_proto::*;
    use prost::Message;
    use serde_json::{json, Value};

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

    /// An attribute value of arrays in arrays, `depth` deep.
    fn nested(depth: usize) -> ExportTraceServiceRequest {
        let mut v = any_value::Value::StringValue("x".into());
        for _ in 0..depth {
            v = any_value::Value::ArrayValue(ArrayValue {
                values: vec![AnyValue { value: Some(v) }],
            });
        }
        one_span(vec![kv("k", v)])
    }

    #[test]
    fn values_nested_past_the_json_readers_depth_stop_there_and_the_stack_holds() {
        // Within the JSON reader's depth: written whole, read back.
        let ok = nested(35);
        assert!(json_of(&ok).to_string().contains("\"x\""));
        // Past it: refused at the bound, never descended.
        let max = super::super::out::MAX_DEPTH;
        assert_eq!(
            to_json(&nested(40).encode_to_vec()),
            Err(ProtoError::TooDeep(max))
        );
        // 100,000 deep on the wire (built outside in: `prost` would recurse
        // to write it) overflowed the stack before; now it stops at the bound.
        let core = b"\x0a\x01x"; // AnyValue { string_value: "x" }
        let (mut len, mut heads) = (core.len(), Vec::new());
        for _ in 0..100_000 {
            let values = [&[0x0a][..], &varint(len)].concat(); // ArrayValue { values }
            len += values.len();
            let array = [&[0x2a][..], &varint(len)].concat(); // AnyValue { array_value }
            len += array.len();
            heads.push([array, values].concat());
        }
        heads.reverse();
        let value = [heads.concat(), core.to_vec()].concat();
        let field = |tag: u8, body: &[u8]| [&[tag][..], &varint(body.len()), body].concat();
        let attr = [field(0x0a, b"k"), field(0x12, &value)].concat();
        let span = [
            field(0x0a, &[1; 16]),
            field(0x12, &[2; 8]),
            field(0x4a, &attr),
        ]
        .concat();
        let body = field(0x0a, &field(0x12, &field(0x12, &span)));
        assert_eq!(to_json(&body), Err(ProtoError::TooDeep(max)));
    }

    fn varint(mut n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while n >= 0x80 {
            out.push(n as u8 | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out
    }
}
