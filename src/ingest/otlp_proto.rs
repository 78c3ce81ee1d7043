//! OTLP protobuf traces, as OpenTelemetry SDKs send them by default
//! (`http/protobuf`): the messages of `opentelemetry/proto/collector/trace/v1`
//! that traces use (as `prost` types, for whoever builds requests), and their
//! rewriting in the OTLP/JSON form (hex ids, nanoseconds as strings, `AnyValue`
//! objects) the OTLP parser reads, so both encodings go through exactly the
//! same parsing. The rewriting reads the wire bytes directly ([`transcode`]),
//! so a request never exists in memory as a tree of messages.

mod out;
mod transcode;
mod wire;

pub use transcode::{to_json, to_json_limited, ProtoError};

use prost::Message;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    pub(super) fn kv(key: &str, v: any_value::Value) -> KeyValue {
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
