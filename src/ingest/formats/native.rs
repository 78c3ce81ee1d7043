//! skilltrace's native JSONL: reader and writer (see `docs/native-format.md`).
//!
//! Every line is `{"skilltrace":1,"type":T,T:<payload>}` with `T` one of
//! `run`, `span`, `finding`, `triage`; the payload is the serde JSON of the
//! model type. [`encode`] writes exactly what [`NativeParser`] reads back.

use super::{Format, FormatError, FormatParser, Record};
use crate::ingest::formats::json::Value;
use crate::model::{Finding, Origin, Run, Span, TriageStatus};
use serde::{Deserialize, Serialize};

/// The format version written in the `skilltrace` key.
pub const VERSION: u64 = 1;

/// Parser state for one file of this format (none: every line stands alone).
#[derive(Debug, Default)]
pub struct NativeParser {}

/// The triage payload: `{"fingerprint","status","note"}`.
#[derive(Debug, Serialize, Deserialize)]
struct TriageLine<'a> {
    fingerprint: std::borrow::Cow<'a, str>,
    status: TriageStatus,
    #[serde(default)]
    note: Option<std::borrow::Cow<'a, str>>,
}

/// `{"skilltrace":1,"type":kind,kind:value}`, written in that key order.
struct Line<'a, T> {
    kind: &'static str,
    value: &'a T,
}

impl<T: Serialize> Serialize for Line<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("skilltrace", &VERSION)?;
        m.serialize_entry("type", self.kind)?;
        m.serialize_entry(self.kind, self.value)?;
        m.end()
    }
}

fn line<T: Serialize>(kind: &'static str, value: &T) -> String {
    // Serialising the model types cannot fail: string keys only, and
    // serde_json writes non-finite floats as null.
    serde_json::to_string(&Line { kind, value }).unwrap_or_default()
}

/// One native JSONL line for `record` (no trailing newline).
pub fn encode(record: &Record) -> String {
    match record {
        Record::Run(r) => line("run", r),
        Record::Span(s) => line("span", s),
        Record::Finding(f) => line("finding", f.as_ref()),
        Record::Triage {
            fingerprint,
            status,
            note,
        } => line(
            "triage",
            &TriageLine {
                fingerprint: fingerprint.as_str().into(),
                status: *status,
                note: note.as_deref().map(Into::into),
            },
        ),
    }
}

fn shape(what: &str, e: serde_json::Error) -> FormatError {
    // serde_json names the field and position, never the value.
    FormatError::Shape(format!("skilltrace {what}: {e}"))
}

impl FormatParser for NativeParser {
    fn format(&self) -> Format {
        Format::Native
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let version = v.get("skilltrace").and_then(Value::as_u64);
        if version != Some(VERSION) {
            return Err(FormatError::Shape(
                "skilltrace: unsupported version (expected 1)".into(),
            ));
        }
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| FormatError::Shape("skilltrace: missing \"type\"".into()))?;
        let payload = v
            .get(kind)
            .ok_or_else(|| FormatError::Shape(format!("skilltrace {kind}: missing payload")))?;
        // The model types deserialise from an owned tree (this format is our own
        // export; the trace formats read the borrowed tree directly).
        let payload = &payload.to_value();
        match kind {
            "run" => {
                let r = Run::deserialize(payload).map_err(|e| shape("run", e))?;
                out.push(Record::Run(r));
            }
            "span" => {
                let mut s = Span::deserialize(payload).map_err(|e| shape("span", e))?;
                if s.origin.path.is_empty() {
                    s.origin = origin.clone();
                }
                out.push(Record::Span(s));
            }
            "finding" => {
                let mut f = Finding::deserialize(payload).map_err(|e| shape("finding", e))?;
                if f.origin.is_none() {
                    f.origin = Some(origin.clone());
                }
                out.push(Record::Finding(Box::new(f)));
            }
            "triage" => {
                let t = TriageLine::deserialize(payload).map_err(|e| shape("triage", e))?;
                out.push(Record::Triage {
                    fingerprint: t.fingerprint.into_owned(),
                    status: t.status,
                    note: t.note.map(|n| n.into_owned()),
                });
            }
            _ => return Err(FormatError::Shape("skilltrace: unknown record type".into())),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::FileParser;
    use crate::model::{AgentKind, Severity, SpanKind, SpanStatus};

    fn samples() -> Vec<Record> {
        let mut span = Span::new(
            "s1",
            "r1",
            SpanKind::Tool,
            "Bash",
            Origin::new("a.jsonl", 3),
        );
        span.parent_id = Some("p".into());
        span.start_ms = Some(5);
        span.end_ms = Some(9);
        span.status = SpanStatus::Error;
        span.tool_name = Some("Bash".into());
        span.tool_input = Some("{\"command\":\"ls\"}".into());
        span.tool_output = Some("a\nb \"quoted\" \u{1F600}".into());
        span.attributes
            .insert("k".into(), serde_json::json!([1, {"x": null}]));
        span.input_tokens = Some(12);
        vec![
            Record::Run(Run {
                id: "r1".into(),
                agent: Some(AgentKind::Proxy),
                source: "proxy://127.0.0.1:8787".into(),
                parent_run_id: Some("r0".into()),
                started_ms: Some(1),
                ended_ms: Some(2),
                title: Some("hello".into()),
                cwd: None,
                ..Run::default()
            }),
            Record::Span(span),
            Record::Finding(Box::new(Finding {
                rule_id: "EXF-TRACE-003".into(),
                severity: Severity::High,
                confidence: 0.5,
                run_id: "r1".into(),
                span_ids: vec!["s1".into(), "s2".into()],
                title: "t".into(),
                message: "m".into(),
                evidence: "[REDACTED:aws]".into(),
                fingerprint: "fp".into(),
                origin: Some(Origin::new("a.jsonl", 3)),
                skill_id: None,
                ts_ms: Some(7),
                related: vec!["fp0".into()],
            })),
            Record::Triage {
                fingerprint: "fp".into(),
                status: TriageStatus::FalsePositive,
                note: Some("benign".into()),
            },
        ]
    }

    #[test]
    fn every_record_round_trips_through_the_file_parser() {
        let mut p = FileParser::new("export.jsonl", None);
        let mut out = Vec::new();
        for (i, r) in samples().iter().enumerate() {
            let line = encode(r);
            assert!(!line.contains('\n'));
            assert!(line.starts_with("{\"skilltrace\":1,\"type\":"), "{line}");
            p.line(line.as_bytes(), i as u64 + 1, &mut out).unwrap();
        }
        assert_eq!(out, samples());
        assert_eq!(p.formats(), vec![Format::Native]);
    }

    #[test]
    fn payload_key_matches_type() {
        let line = encode(&samples()[3]);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"].as_str(), Some("triage"));
        assert_eq!(v["triage"]["status"].as_str(), Some("false-positive"));
        assert_eq!(v["triage"]["note"].as_str(), Some("benign"));
    }

    #[test]
    fn bad_native_lines_are_shape_errors() {
        let mut p = NativeParser::default();
        let o = Origin::new("f", 1);
        let mut out = Vec::new();
        for bad in [
            serde_json::json!({"skilltrace":2,"type":"run","run":{}}),
            serde_json::json!({"skilltrace":1,"type":"span"}),
            serde_json::json!({"skilltrace":1,"type":"span","span":{"id":"x"}}),
            serde_json::json!({"skilltrace":1,"type":"nope","nope":{}}),
            serde_json::json!({"skilltrace":1}),
        ] {
            assert!(matches!(
                p.value(&Value::from(bad), &o, &mut out),
                Err(FormatError::Shape(_))
            ));
        }
        assert!(out.is_empty());
    }

    #[test]
    fn missing_origin_is_filled_from_the_line() {
        let v = serde_json::json!({"skilltrace":1,"type":"span","span":{
            "id":"s","run_id":"r","parent_id":null,"kind":"llm","name":"chat",
            "start_ms":null,"end_ms":null,"status":"ok","model":"m","tool_name":null,
            "tool_call_id":null,"tool_input":null,"tool_output":null,"text":null,
            "input_tokens":1,"output_tokens":2,"origin":{"path":"","line":0}}});
        let mut out = Vec::new();
        NativeParser::default()
            .value(&Value::from(v), &Origin::new("proxy.jsonl", 4), &mut out)
            .unwrap();
        let Record::Span(s) = &out[0] else { panic!() };
        assert_eq!(s.origin, Origin::new("proxy.jsonl", 4));
        assert_eq!(s.kind, SpanKind::Llm);
    }
}
