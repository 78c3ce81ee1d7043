//! The bodies of the fuzz targets, one function per parser, each checking the
//! parser's promises beyond "does not panic". Each target in `fuzz_targets/`
//! is one call to one of these.

use prost::Message;
use serde_json::{json, Map, Value};
use skilltrace::ingest::formats::{FileParser, Format};
use skilltrace::ingest::otlp_proto::{
    any_value, to_json, AnyValue, ExportTraceServiceRequest, KeyValue, ResourceSpans, Span,
};
use std::sync::OnceLock;

/// A format parser (forced, or sniffing with `None`) over the input as JSON
/// Lines and as one whole document; for OTLP, the request census too.
pub fn format(data: &[u8], forced: Option<Format>) {
    let mut p = FileParser::new("fuzz.jsonl", forced);
    let mut out = Vec::new();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let _ = p.line(line, i as u64 + 1, &mut out);
    }
    p.finish(&mut out);
    let mut d = FileParser::new("fuzz.json", forced);
    let _ = d.document(data, &mut out);
    d.finish(&mut out);
    if forced == Some(Format::Otlp) {
        census(data);
    }
}

/// The OTLP/JSON census agrees with the plain value count, and stops at its limits.
fn census(data: &[u8]) {
    use skilltrace::ingest::otlp_census::census;
    use skilltrace::limits::json::count_values;
    if let (Ok(c), Ok(n)) = (
        census(data, usize::MAX, usize::MAX),
        count_values(data, usize::MAX),
    ) {
        assert_eq!(c.values, n, "census and count disagree");
        if c.spans > 0 {
            assert!(census(data, c.spans - 1, usize::MAX).is_err());
        }
        assert!(census(data, c.spans, c.values).is_ok());
    }
}

/// The protobuf transcoder: valid JSON out, counted as written, read by the
/// OTLP parser, and equal to the `prost` reference on canonical input.
pub fn otlp_proto(data: &[u8]) {
    use skilltrace::ingest::otlp_proto::{to_json_limited, ProtoError};
    if let Ok(json) = to_json(data) {
        let n = skilltrace::limits::json::count_values(&json, usize::MAX)
            .expect("the transcoder writes valid JSON");
        assert!(to_json_limited(data, usize::MAX, n).is_ok());
        assert_eq!(
            to_json_limited(data, usize::MAX, n - 1),
            Err(ProtoError::TooManyValues(n - 1))
        );
        let mut p = FileParser::new("otlp://fuzz", Some(Format::Otlp));
        let _ = p.line(&json, 1, &mut Vec::new());
    }
    if let Ok(req) = ExportTraceServiceRequest::decode(data) {
        let canonical = req.encode_to_vec();
        let ours = match to_json(&canonical) {
            // Nesting past the JSON reader's depth, which prost's own limit allows.
            Err(ProtoError::TooDeep(_)) => return,
            r => r.expect("prost decodes what the transcoder refuses"),
        };
        let ours: Value = serde_json::from_slice(&ours).expect("valid JSON");
        assert_eq!(ours, reference_json(&req), "transcoder and prost differ");
    }
}

/// The OTLP parser on a logs request (`resourceLogs`), as a line and as a
/// document, twice: the same records each time.
pub fn otlp_logs(data: &[u8]) {
    let read = || {
        let mut out = Vec::new();
        let mut p = FileParser::new("fuzz.jsonl", Some(Format::Otlp));
        let _ = p.line(data, 1, &mut out);
        p.finish(&mut out);
        let mut d = FileParser::new("fuzz.json", Some(Format::Otlp));
        let _ = d.document(data, &mut out);
        d.finish(&mut out);
        out
    };
    assert_eq!(read(), read(), "the same logs request read twice differs");
}

/// The protobuf logs decoder: valid JSON out, read by the OTLP parser, and the
/// same JSON for the request's canonical encoding (unknown fields, field order and
/// packing never change what is read).
pub fn otlp_logs_proto(data: &[u8]) {
    use skilltrace::ingest::otlp_logs_proto::{to_json, ExportLogsServiceRequest};
    let Ok(json) = to_json(data) else {
        return;
    };
    let _: Value = serde_json::from_slice(&json).expect("the decoder writes valid JSON");
    let mut p = FileParser::new("otlp://fuzz", Some(Format::Otlp));
    let _ = p.line(&json, 1, &mut Vec::new());
    if let Ok(req) = ExportLogsServiceRequest::decode(data) {
        let canonical = to_json(&req.encode_to_vec()).expect("a re-encoded request decodes");
        assert_eq!(
            json, canonical,
            "a request and its canonical encoding differ"
        );
    }
}

/// The SSE parser gives the same events whole or split at any two points, and
/// the three stream folds keep no more than their room.
pub fn sse(data: &[u8]) {
    use skilltrace::proxy::anthropic::MessagesStream;
    use skilltrace::proxy::openai::{ChatStream, ResponsesStream};
    use skilltrace::proxy::room::Room;
    use skilltrace::proxy::sse::{SseEvent, SseParser};
    if data.len() < 2 {
        return;
    }
    let (cut, body) = data.split_at(2);
    let parse = |chunks: &[&[u8]]| {
        let mut p = SseParser::new(4096);
        let mut events: Vec<SseEvent> = Vec::new();
        for c in chunks {
            p.feed(c, &mut |e| events.push(e));
        }
        (events, p.dropped)
    };
    let whole = parse(&[body]);
    let i = usize::from(cut[0]) * body.len() / 256;
    let j = (i + usize::from(cut[1]) * body.len() / 256).min(body.len());
    assert_eq!(
        parse(&[&body[..i], &body[i..j], &body[j..]]),
        whole,
        "split at {i},{j}"
    );
    const ROOM: usize = 512;
    let mut chat = ChatStream::with_room(Room::new(ROOM, 4));
    let mut responses = ResponsesStream::with_room(Room::new(ROOM, 4));
    let mut messages = MessagesStream::with_room(Room::new(ROOM, 4));
    for e in &whole.0 {
        chat.on_data(&e.data);
        responses.on_data(&e.data);
        messages.on_data(&e.data);
    }
    for r in [chat.finish(), responses.finish(), messages.finish()] {
        let kept: usize = r.text.len()
            + r.tool_calls
                .iter()
                .map(|c| c.id.len() + c.name.len() + c.arguments.len())
                .sum::<usize>();
        // "{}" stands in for an empty Anthropic tool input: two bytes per call at most.
        assert!(kept <= ROOM + 2 * r.tool_calls.len(), "kept {kept}");
        assert!(r.tool_calls.len() <= 4);
    }
}

fn taxonomy() -> &'static skilltrace::detect::taxonomy::Taxonomy {
    static TAX: OnceLock<skilltrace::detect::taxonomy::Taxonomy> = OnceLock::new();
    TAX.get_or_init(|| {
        skilltrace::detect::taxonomy::Taxonomy::load(&Default::default())
            .expect("built-in detection data")
    })
}

/// The shell parser front-end on a command line.
pub fn shell(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = skilltrace::detect::shell::parse_script(&text, taxonomy());
}

/// The redactor on free text: redacting what it wrote changes nothing.
pub fn redact(data: &[u8]) {
    use skilltrace::redact::{Mode, Redactor};
    let text = String::from_utf8_lossy(data);
    let once = Redactor::builtin(Mode::Mask)
        .redact_text(&text)
        .into_inner();
    let twice = Redactor::builtin(Mode::Mask)
        .redact_text(&once)
        .into_inner();
    assert_eq!(once, twice, "redacting twice changed the text");
}

/// The OTLP/JSON form of a decoded request, built as the receiver built it
/// before it read the wire directly: the reference the transcoder must match.
fn reference_json(req: &ExportTraceServiceRequest) -> Value {
    json!({ "resourceSpans": req.resource_spans.iter().map(resource_spans).collect::<Vec<_>>() })
}

fn resource_spans(rs: &ResourceSpans) -> Value {
    let mut o = Map::new();
    if let Some(r) = &rs.resource {
        o.insert(
            "resource".into(),
            json!({ "attributes": attrs(&r.attributes) }),
        );
    }
    let scopes: Vec<Value> = rs
        .scope_spans
        .iter()
        .map(|ss| {
            let mut s = Map::new();
            if let Some(sc) = &ss.scope {
                s.insert(
                    "scope".into(),
                    json!({ "name": sc.name, "version": sc.version }),
                );
            }
            s.insert("spans".into(), ss.spans.iter().map(span).collect());
            Value::Object(s)
        })
        .collect();
    o.insert("scopeSpans".into(), scopes.into());
    Value::Object(o)
}

fn span(s: &Span) -> Value {
    let mut o = Map::new();
    o.insert("traceId".into(), hex::encode(&s.trace_id).into());
    o.insert("spanId".into(), hex::encode(&s.span_id).into());
    if !s.parent_span_id.is_empty() {
        o.insert("parentSpanId".into(), hex::encode(&s.parent_span_id).into());
    }
    o.insert("name".into(), s.name.clone().into());
    o.insert("kind".into(), s.kind.into());
    o.insert(
        "startTimeUnixNano".into(),
        s.start_time_unix_nano.to_string().into(),
    );
    o.insert(
        "endTimeUnixNano".into(),
        s.end_time_unix_nano.to_string().into(),
    );
    o.insert("attributes".into(), attrs(&s.attributes));
    if !s.events.is_empty() {
        let events: Vec<Value> = s
            .events
            .iter()
            .map(|e| {
                json!({
                    "timeUnixNano": e.time_unix_nano.to_string(),
                    "name": e.name,
                    "attributes": attrs(&e.attributes),
                })
            })
            .collect();
        o.insert("events".into(), events.into());
    }
    if let Some(st) = &s.status {
        o.insert(
            "status".into(),
            json!({ "code": st.code, "message": st.message }),
        );
    }
    Value::Object(o)
}

fn attrs(kvs: &[KeyValue]) -> Value {
    kvs.iter()
        .map(|kv| json!({ "key": kv.key, "value": kv.value.as_ref().map_or(json!({}), any) }))
        .collect()
}

fn any(v: &AnyValue) -> Value {
    use any_value::Value as V;
    match &v.value {
        Some(V::StringValue(s)) => json!({ "stringValue": s }),
        Some(V::BoolValue(b)) => json!({ "boolValue": b }),
        Some(V::IntValue(i)) => json!({ "intValue": i.to_string() }),
        Some(V::DoubleValue(d)) => json!({ "doubleValue": d }),
        Some(V::ArrayValue(a)) => {
            json!({ "arrayValue": { "values": a.values.iter().map(any).collect::<Vec<_>>() } })
        }
        Some(V::KvlistValue(l)) => json!({ "kvlistValue": { "values": attrs(&l.values) } }),
        Some(V::BytesValue(b)) => {
            use base64::Engine;
            json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        None => json!({}),
    }
}
