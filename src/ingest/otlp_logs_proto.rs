//! OTLP protobuf logs (`opentelemetry/proto/collector/logs/v1`
//! `ExportLogsServiceRequest`), as Claude Code, Codex and the OpenTelemetry
//! SDKs send them with `http/protobuf`: decoded with `prost` and rewritten in
//! the OTLP/JSON form the OTLP parser reads (hex ids, nanoseconds as strings,
//! `AnyValue` objects), so both encodings go through the same parsing.

use super::otlp_proto::{any_value, AnyValue, InstrumentationScope, KeyValue, Resource};
use prost::Message;
use serde_json::{json, Map, Value};

#[derive(Clone, PartialEq, Message)]
pub struct ExportLogsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_logs: Vec<ResourceLogs>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResourceLogs {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_logs: Vec<ScopeLogs>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ScopeLogs {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub log_records: Vec<LogRecord>,
}

#[derive(Clone, PartialEq, Message)]
pub struct LogRecord {
    #[prost(fixed64, tag = "1")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "11")]
    pub observed_time_unix_nano: u64,
    #[prost(int32, tag = "2")]
    pub severity_number: i32,
    #[prost(string, tag = "3")]
    pub severity_text: String,
    #[prost(message, optional, tag = "5")]
    pub body: Option<AnyValue>,
    #[prost(message, repeated, tag = "6")]
    pub attributes: Vec<KeyValue>,
    #[prost(bytes = "vec", tag = "9")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "10")]
    pub span_id: Vec<u8>,
    #[prost(string, tag = "12")]
    pub event_name: String,
}

/// Decodes a protobuf `ExportLogsServiceRequest` into its OTLP/JSON form.
pub fn to_json(body: &[u8]) -> Result<Vec<u8>, prost::DecodeError> {
    let req = ExportLogsServiceRequest::decode(body)?;
    let logs: Vec<Value> = req.resource_logs.iter().map(resource_logs).collect();
    Ok(json!({ "resourceLogs": logs }).to_string().into_bytes())
}

fn resource_logs(rl: &ResourceLogs) -> Value {
    let mut o = Map::new();
    if let Some(r) = &rl.resource {
        o.insert(
            "resource".into(),
            json!({ "attributes": attrs(&r.attributes) }),
        );
    }
    let scopes: Vec<Value> = rl
        .scope_logs
        .iter()
        .map(|sl| {
            let mut s = Map::new();
            if let Some(sc) = &sl.scope {
                s.insert(
                    "scope".into(),
                    json!({ "name": sc.name, "version": sc.version }),
                );
            }
            s.insert(
                "logRecords".into(),
                sl.log_records.iter().map(record).collect(),
            );
            Value::Object(s)
        })
        .collect();
    o.insert("scopeLogs".into(), scopes.into());
    Value::Object(o)
}

fn record(r: &LogRecord) -> Value {
    let mut o = Map::new();
    o.insert("timeUnixNano".into(), r.time_unix_nano.to_string().into());
    o.insert(
        "observedTimeUnixNano".into(),
        r.observed_time_unix_nano.to_string().into(),
    );
    o.insert("severityNumber".into(), r.severity_number.into());
    if !r.severity_text.is_empty() {
        o.insert("severityText".into(), r.severity_text.clone().into());
    }
    if !r.event_name.is_empty() {
        o.insert("eventName".into(), r.event_name.clone().into());
    }
    if let Some(b) = &r.body {
        o.insert("body".into(), any(b));
    }
    o.insert("attributes".into(), attrs(&r.attributes));
    if !r.trace_id.is_empty() {
        o.insert("traceId".into(), hex::encode(&r.trace_id).into());
    }
    if !r.span_id.is_empty() {
        o.insert("spanId".into(), hex::encode(&r.span_id).into());
    }
    Value::Object(o)
}

fn attrs(kvs: &[KeyValue]) -> Value {
    let pairs = kvs.iter().map(|kv| {
        let v = kv.value.as_ref().map_or(json!({}), any);
        json!({ "key": kv.key, "value": v })
    });
    Value::Array(pairs.collect())
}

/// An `AnyValue` in its OTLP/JSON form (64-bit ints as strings, bytes base64).
fn any(v: &AnyValue) -> Value {
    use any_value::Value as V;
    let (key, val) = match &v.value {
        Some(V::StringValue(s)) => ("stringValue", json!(s)),
        Some(V::BoolValue(b)) => ("boolValue", json!(b)),
        Some(V::IntValue(i)) => ("intValue", json!(i.to_string())),
        Some(V::DoubleValue(d)) => ("doubleValue", json!(d)),
        Some(V::ArrayValue(a)) => (
            "arrayValue",
            json!({ "values": a.values.iter().map(any).collect::<Vec<_>>() }),
        ),
        Some(V::KvlistValue(l)) => ("kvlistValue", json!({ "values": attrs(&l.values) })),
        Some(V::BytesValue(b)) => {
            use base64::Engine;
            let text = base64::engine::general_purpose::STANDARD.encode(b);
            ("bytesValue", json!(text))
        }
        None => return json!({}),
    };
    let mut o = Map::new();
    o.insert(key.into(), val);
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, v: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
        }
    }

    #[test]
    fn a_protobuf_logs_request_reads_as_its_json_form() {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", "claude-code")],
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "com.anthropic.claude_code.events".into(),
                        version: "2.0.61".into(),
                    }),
                    log_records: vec![LogRecord {
                        time_unix_nano: 1_765_015_200_000_000_000,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(
                                "claude_code.tool_result".into(),
                            )),
                        }),
                        attributes: vec![kv("event.name", "tool_result"), kv("success", "true")],
                        trace_id: vec![0xab; 16],
                        ..Default::default()
                    }],
                }],
            }],
        };
        let out = to_json(&req.encode_to_vec()).expect("decodes");
        let v: Value = serde_json::from_slice(&out).expect("json");
        let rec = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(rec["timeUnixNano"], "1765015200000000000");
        assert_eq!(rec["body"]["stringValue"], "claude_code.tool_result");
        assert_eq!(rec["attributes"][1]["value"]["stringValue"], "true");
        assert_eq!(rec["traceId"], "ab".repeat(16));
        assert_eq!(
            v["resourceLogs"][0]["resource"]["attributes"][0]["key"],
            "service.name"
        );
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        assert!(to_json(&[0xff, 0xff, 0xff, 0x01]).is_err());
    }
}
