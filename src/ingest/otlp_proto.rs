//! OTLP protobuf traces, as OpenTelemetry SDKs send them by default
//! (`http/protobuf`): the messages of `opentelemetry/proto/collector/trace/v1`
//! that traces use, decoded with `prost` and rewritten in the OTLP/JSON form
//! (hex ids, nanoseconds as strings, `AnyValue` objects) the OTLP parser reads,
//! so both encodings go through exactly the same parsing.

use prost::Message;
use serde_json::{json, Map, Value};

#[derive(Clone, PartialEq, Message)]
pub struct ExportTraceServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResourceSpans {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_spans: Vec<ScopeSpans>,
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ScopeSpans {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub spans: Vec<Span>,
}

#[derive(Clone, PartialEq, Message)]
pub struct InstrumentationScope {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Span {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub parent_span_id: Vec<u8>,
    #[prost(string, tag = "5")]
    pub name: String,
    #[prost(int32, tag = "6")]
    pub kind: i32,
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(message, repeated, tag = "11")]
    pub events: Vec<Event>,
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Event {
    #[prost(fixed64, tag = "1")]
    pub time_unix_nano: u64,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Status {
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(int32, tag = "3")]
    pub code: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AnyValue {
    #[prost(oneof = "any_value::Value", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<any_value::Value>,
}

pub mod any_value {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(bool, tag = "2")]
        BoolValue(bool),
        #[prost(int64, tag = "3")]
        IntValue(i64),
        #[prost(double, tag = "4")]
        DoubleValue(f64),
        #[prost(message, tag = "5")]
        ArrayValue(super::ArrayValue),
        #[prost(message, tag = "6")]
        KvlistValue(super::KeyValueList),
        #[prost(bytes = "vec", tag = "7")]
        BytesValue(Vec<u8>),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ArrayValue {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct KeyValueList {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<KeyValue>,
}

/// Decodes a protobuf `ExportTraceServiceRequest` into its OTLP/JSON form.
pub fn to_json(body: &[u8]) -> Result<Vec<u8>, prost::DecodeError> {
    let req = ExportTraceServiceRequest::decode(body)?;
    let v = json!({ "resourceSpans": req.resource_spans.iter().map(resource_spans).collect::<Vec<_>>() });
    Ok(v.to_string().into_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
        }
    }

    #[test]
    fn a_protobuf_request_reads_as_the_same_json_request() {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv(
                        "service.name",
                        any_value::Value::StringValue("agent".into()),
                    )],
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "lib".into(),
                        version: "1".into(),
                    }),
                    spans: vec![Span {
                        trace_id: vec![0xab; 16],
                        span_id: vec![0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08],
                        parent_span_id: vec![],
                        name: "execute_tool bash".into(),
                        kind: 1,
                        start_time_unix_nano: 1_700_000_000_000_000_000,
                        end_time_unix_nano: 1_700_000_001_000_000_000,
                        attributes: vec![
                            kv(
                                "gen_ai.tool.name",
                                any_value::Value::StringValue("bash".into()),
                            ),
                            kv("n", any_value::Value::IntValue(-3)),
                            kv(
                                "list",
                                any_value::Value::ArrayValue(ArrayValue {
                                    values: vec![AnyValue {
                                        value: Some(any_value::Value::BoolValue(true)),
                                    }],
                                }),
                            ),
                        ],
                        events: vec![],
                        status: Some(Status {
                            message: "boom".into(),
                            code: 2,
                        }),
                    }],
                }],
                schema_url: String::new(),
            }],
        };
        let v: Value =
            serde_json::from_slice(&to_json(&req.encode_to_vec()).expect("decode")).expect("json");
        let sp = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(sp["traceId"], json!("ab".repeat(16)));
        assert_eq!(sp["spanId"], json!("0102030405060708"));
        assert!(sp.get("parentSpanId").is_none());
        assert_eq!(sp["startTimeUnixNano"], json!("1700000000000000000"));
        assert_eq!(
            sp["attributes"][1],
            json!({"key":"n","value":{"intValue":"-3"}})
        );
        assert_eq!(
            sp["attributes"][2]["value"],
            json!({"arrayValue":{"values":[{"boolValue":true}]}})
        );
        assert_eq!(sp["status"], json!({"code":2,"message":"boom"}));
        assert_eq!(
            v["resourceSpans"][0]["resource"]["attributes"][0]["value"],
            json!({"stringValue":"agent"})
        );
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        assert!(to_json(b"\xff\xff\xff\xff\xff").is_err());
        assert!(to_json(&[0x0a, 0x05, 0x01]).is_err(), "truncated");
        // An empty body is a valid, empty request.
        assert_eq!(to_json(b"").expect("empty"), br#"{"resourceSpans":[]}"#);
    }
}
