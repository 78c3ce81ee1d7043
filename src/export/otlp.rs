//! OTLP/JSON export: runs and their spans as OpenTelemetry traces, one
//! `ExportTraceServiceRequest` per line (what an OpenTelemetry Collector's
//! `otlpjsonfile` receiver reads, and what `skilltrace import` reads back).
//!
//! Attributes follow the GenAI semantic conventions (`gen_ai.operation.name`,
//! `gen_ai.conversation.id` = the run, `gen_ai.request.model`, `gen_ai.usage.*`,
//! `gen_ai.tool.*`); span text goes in `input.value`. OTLP ids are hex of fixed
//! width, so trace and span ids are derived from the run and span ids (SHA-256,
//! stable across exports) and the originals kept as `skilltrace.run.id` /
//! `skilltrace.span.id`. Findings become span events named `skilltrace.finding`.
//! A run's spans are written in requests of at most [`SPANS_PER_LINE`], so no
//! line grows past what an importer takes. Values come from the store, so they
//! are already redacted.

use super::ExportError;
use crate::model::{Finding, Span, SpanKind, SpanStatus};
use crate::store::{FindingFilter, RunRow, Store};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

/// Spans per `ExportTraceServiceRequest` line.
pub const SPANS_PER_LINE: usize = 500;

/// How much was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OtlpStats {
    pub runs: u64,
    pub spans: u64,
    pub events: u64,
}

/// Writes `run_id` (or every run, newest first) to `out` as OTLP/JSON lines.
pub fn write(
    store: &Store,
    run_id: Option<&str>,
    out: &mut dyn Write,
) -> Result<OtlpStats, ExportError> {
    let mut stats = OtlpStats::default();
    super::for_each_run(store, run_id, |run| write_run(store, run, out, &mut stats))?;
    out.flush()?;
    Ok(stats)
}

/// Lower-case hex of the first `bytes` bytes of SHA-256 over `parts`, never all zeros
/// (OTLP reads an all-zero id as "no id").
fn hex_id(parts: &[&str], bytes: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let mut d = h.finalize()[..bytes].to_vec();
    if d.iter().all(|b| *b == 0) {
        d[bytes - 1] = 1;
    }
    hex::encode(d)
}

/// The OTLP trace id of a run.
pub fn trace_id(run_id: &str) -> String {
    hex_id(&["skilltrace-run", run_id], 16)
}

/// The OTLP span id of a span.
pub fn span_id(run_id: &str, span_id: &str) -> String {
    hex_id(&["skilltrace-span", run_id, span_id], 8)
}

fn kv(key: &str, value: Value) -> Value {
    json!({ "key": key, "value": value })
}

fn string(key: &str, v: &str) -> Value {
    kv(key, json!({ "stringValue": v }))
}

fn int(key: &str, v: i64) -> Value {
    // OTLP/JSON writes 64-bit integers as strings.
    kv(key, json!({ "intValue": v.to_string() }))
}

/// An arbitrary JSON attribute value as an OTLP `AnyValue`.
fn any(v: &Value) -> Value {
    match v {
        Value::String(s) => json!({ "stringValue": s }),
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => json!({ "intValue": i.to_string() }),
            None => json!({ "doubleValue": n.as_f64().unwrap_or(0.0) }),
        },
        Value::Array(a) => {
            json!({ "arrayValue": { "values": a.iter().map(any).collect::<Vec<_>>() } })
        }
        Value::Object(o) => {
            json!({ "kvlistValue": { "values": o.iter().map(|(k, v)| kv(k, any(v))).collect::<Vec<_>>() } })
        }
        Value::Null => json!({}),
    }
}

fn nanos(ms: i64) -> String {
    (i128::from(ms) * 1_000_000).max(0).to_string()
}

/// One span as an OTLP span object.
fn otlp_span(s: &Span, findings: &[&Finding]) -> Value {
    let mut attrs = vec![
        string("gen_ai.conversation.id", &s.run_id),
        string("skilltrace.run.id", &s.run_id),
        string("skilltrace.span.id", &s.id),
        string("skilltrace.span.kind", s.kind.as_str()),
        string("skilltrace.origin.path", &s.origin.path),
        int("skilltrace.origin.line", s.origin.line as i64),
    ];
    let op = match s.kind {
        SpanKind::Llm => Some("chat"),
        SpanKind::Tool => Some("execute_tool"),
        SpanKind::Agent => Some("invoke_agent"),
        _ => None,
    };
    if let Some(op) = op {
        attrs.push(string("gen_ai.operation.name", op));
    }
    if let Some(m) = &s.model {
        attrs.push(string("gen_ai.request.model", m));
    }
    if let Some(t) = s.input_tokens {
        attrs.push(int("gen_ai.usage.input_tokens", t as i64));
    }
    if let Some(t) = s.output_tokens {
        attrs.push(int("gen_ai.usage.output_tokens", t as i64));
    }
    if let Some(t) = s.cache_read_tokens {
        attrs.push(int("gen_ai.usage.cache_read.input_tokens", t as i64));
    }
    if let Some(t) = s.cache_write_tokens {
        attrs.push(int("gen_ai.usage.cache_creation.input_tokens", t as i64));
    }
    // The call's cost in US dollars from the offline price table; left out
    // (never 0) when the table does not know the model.
    if let Some(c) = crate::pricing::Cost::of_span(&crate::pricing::table(), s) {
        if !c.has_unknown() {
            attrs.push(kv(
                "gen_ai.usage.cost",
                json!({ "doubleValue": c.money.usd() }),
            ));
        }
    }
    if s.kind == SpanKind::Tool || s.tool_name.is_some() {
        if let Some(t) = s
            .tool_name
            .as_deref()
            .or(Some(s.name.as_str()))
            .filter(|t| !t.is_empty())
        {
            attrs.push(string("gen_ai.tool.name", t));
        }
        if let Some(t) = &s.tool_call_id {
            attrs.push(string("gen_ai.tool.call.id", t));
        }
        if let Some(t) = &s.tool_input {
            attrs.push(string("gen_ai.tool.call.arguments", t));
        }
        if let Some(t) = &s.tool_output {
            attrs.push(string("gen_ai.tool.call.result", t));
        }
    }
    if let Some(t) = &s.text {
        attrs.push(string("input.value", t));
    }
    for (k, v) in &s.attributes {
        // The span's own attributes, except where they would shadow the ones above.
        if !attrs.iter().any(|a| a["key"] == k.as_str()) && !v.is_null() {
            attrs.push(kv(k, any(v)));
        }
    }
    let mut o = Map::new();
    o.insert("traceId".into(), trace_id(&s.run_id).into());
    o.insert("spanId".into(), span_id(&s.run_id, &s.id).into());
    if let Some(p) = &s.parent_id {
        o.insert("parentSpanId".into(), span_id(&s.run_id, p).into());
    }
    o.insert("name".into(), s.name.clone().into());
    // SPAN_KIND_INTERNAL: these are steps inside an agent, not RPCs.
    o.insert("kind".into(), 1.into());
    let start = s.start_ms.or(s.end_ms).unwrap_or(0);
    o.insert("startTimeUnixNano".into(), nanos(start).into());
    o.insert(
        "endTimeUnixNano".into(),
        nanos(s.end_ms.unwrap_or(start).max(start)).into(),
    );
    o.insert("attributes".into(), attrs.into());
    if !findings.is_empty() {
        let events: Vec<Value> = findings
            .iter()
            .map(|f| {
                json!({
                    "timeUnixNano": nanos(f.ts_ms.or(s.start_ms).unwrap_or(start)),
                    "name": "skilltrace.finding",
                    "attributes": [
                        string("skilltrace.finding.rule_id", &f.rule_id),
                        string("skilltrace.finding.severity", f.severity.as_str()),
                        string("skilltrace.finding.title", &f.title),
                        string("skilltrace.finding.message", &f.message),
                        string("skilltrace.finding.fingerprint", &f.fingerprint),
                    ],
                })
            })
            .collect();
        o.insert("events".into(), events.into());
    }
    let code = match s.status {
        SpanStatus::Unset => 0,
        SpanStatus::Ok => 1,
        SpanStatus::Error => 2,
    };
    o.insert("status".into(), json!({ "code": code }));
    Value::Object(o)
}

/// One `ExportTraceServiceRequest` holding `spans` of `run`.
fn request(run: &RunRow, spans: Vec<Value>) -> Value {
    let mut res = vec![string("service.name", "skilltrace")];
    if let Some(a) = run.run.agent {
        res.push(string("skilltrace.agent", a.as_str()));
    }
    if !run.run.source.is_empty() {
        res.push(string("skilltrace.source", &run.run.source));
    }
    json!({
        "resourceSpans": [{
            "resource": { "attributes": res },
            "scopeSpans": [{
                "scope": { "name": "skilltrace", "version": env!("CARGO_PKG_VERSION") },
                "spans": spans,
            }],
        }],
    })
}

fn put(out: &mut dyn Write, v: &Value) -> Result<(), ExportError> {
    crate::sanitize::write_json(out, v)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn write_run(
    store: &Store,
    run: &RunRow,
    out: &mut dyn Write,
    stats: &mut OtlpStats,
) -> Result<(), ExportError> {
    let id = run.run.id.as_str();
    // A run's findings, by the span each is about (bounded by the run's own findings).
    let filter = FindingFilter {
        run_id: Some(id.to_string()),
        ..Default::default()
    };
    let (rows, _) = super::load_findings(store, &filter, usize::MAX, |_| true)?;
    let findings: Vec<Finding> = rows.into_iter().map(|r| r.finding).collect();
    let mut by_span: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &findings {
        if let Some(sid) = f.span_ids.first() {
            by_span.entry(sid.as_str()).or_default().push(f);
        }
    }
    stats.runs += 1;
    let mut batch = Vec::new();
    super::for_each_span(store, id, |span| {
        let fs = by_span.get(span.id.as_str()).map_or(&[][..], |v| v);
        stats.events += fs.len() as u64;
        stats.spans += 1;
        batch.push(otlp_span(&span, fs));
        if batch.len() == SPANS_PER_LINE {
            put(out, &request(run, std::mem::take(&mut batch)))?;
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        put(out, &request(run, batch))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    #[test]
    fn ids_are_fixed_width_hex_stable_and_distinct() {
        let t = trace_id("run-1");
        assert_eq!(t.len(), 32);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(t, trace_id("run-1"));
        assert_ne!(t, trace_id("run-2"));
        let s = span_id("run-1", "a");
        assert_eq!(s.len(), 16);
        assert_ne!(s, span_id("run-2", "a"), "span ids are scoped by run");
        assert_ne!(s, span_id("run-1", "b"));
    }

    fn attr(v: &Value, k: &str) -> Option<Value> {
        v["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["key"] == k))
            .map(|x| x["value"].clone())
    }

    #[test]
    fn a_model_call_carries_its_cache_tokens_and_cost_unknown_left_out() {
        let mut s = Span::new("m1", "run-1", SpanKind::Llm, "chat", Origin::new("/f", 1));
        s.model = Some("claude-opus-4-6".into());
        // Opus 4.6 ($5 / $6.25 write / $0.50 read / $25): 3 × 5 + 15,005 × 6.25
        // + 11,442 × 0.5 + 9 × 25 = 99,742.25 per million → $0.09974225
        crate::usage::Usage::anthropic(3, 15_005, 11_442, 0, 9).put(&mut s);
        let v = otlp_span(&s, &[]);
        assert_eq!(
            attr(&v, "gen_ai.usage.cache_read.input_tokens"),
            Some(json!({"intValue":"11442"}))
        );
        assert_eq!(
            attr(&v, "gen_ai.usage.cache_creation.input_tokens"),
            Some(json!({"intValue":"15005"}))
        );
        assert_eq!(
            attr(&v, "gen_ai.usage.cost"),
            Some(json!({"doubleValue":0.09974225}))
        );
        s.model = Some("acme-private-llm".into());
        assert_eq!(
            attr(&otlp_span(&s, &[]), "gen_ai.usage.cost"),
            None,
            "never $0"
        );
    }

    #[test]
    fn a_tool_span_carries_genai_attributes_and_its_findings_as_events() {
        let mut s = Span::new(
            "t1",
            "run-1",
            SpanKind::Tool,
            "Bash",
            Origin::new("/f.jsonl", 7),
        );
        s.parent_id = Some("m1".into());
        s.tool_name = Some("Bash".into());
        s.tool_input = Some("{\"command\":\"ls\"}".into());
        s.start_ms = Some(1_700_000_000_123);
        s.status = SpanStatus::Error;
        s.attributes.insert("cwd".into(), json!("/w"));
        s.attributes.insert("n".into(), json!(3));
        let f = Finding {
            rule_id: "EXF-TRACE-003".into(),
            severity: crate::model::Severity::High,
            confidence: 0.9,
            run_id: "run-1".into(),
            span_ids: vec!["t1".into()],
            title: "credential read".into(),
            message: "m".into(),
            evidence: "e".into(),
            fingerprint: "fp".into(),
            origin: None,
            skill_id: None,
            ts_ms: None,
            related: vec![],
        };
        let v = otlp_span(&s, &[&f]);
        let attr = |k: &str| {
            v["attributes"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["key"] == k))
                .map(|x| x["value"].clone())
        };
        assert_eq!(
            attr("gen_ai.operation.name"),
            Some(json!({"stringValue":"execute_tool"}))
        );
        assert_eq!(
            attr("gen_ai.tool.name"),
            Some(json!({"stringValue":"Bash"}))
        );
        assert_eq!(
            attr("gen_ai.conversation.id"),
            Some(json!({"stringValue":"run-1"}))
        );
        assert_eq!(
            attr("skilltrace.origin.line"),
            Some(json!({"intValue":"7"}))
        );
        assert_eq!(attr("n"), Some(json!({"intValue":"3"})));
        assert_eq!(v["parentSpanId"], json!(span_id("run-1", "m1")));
        assert_eq!(v["startTimeUnixNano"], json!("1700000000123000000"));
        assert_eq!(
            v["endTimeUnixNano"], v["startTimeUnixNano"],
            "no end: zero length"
        );
        assert_eq!(v["status"]["code"], json!(2));
        assert_eq!(v["events"][0]["name"], json!("skilltrace.finding"));
        assert_eq!(
            v["events"][0]["attributes"][0]["value"]["stringValue"],
            json!("EXF-TRACE-003")
        );
    }
}
