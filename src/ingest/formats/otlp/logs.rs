//! OTLP/JSON logs (`ExportLogsServiceRequest`, `resourceLogs`): the telemetry
//! events Claude Code (`claude_code.*`) and Codex (`codex.*`) emit, mapped to
//! runs and spans.
//!
//! * run = `session.id` (Claude Code) / `conversation.id` (Codex), else
//!   `gen_ai.conversation.id`, else the record's trace id;
//! * `user_prompt` → a user message (the prompt when the agent logs it);
//!   `tool_result` → a tool span (name, success, duration, parameters, output);
//!   `tool_decision` → an event; `api_request` (Claude Code) and Codex's
//!   `sse_event` `response.completed` → an `llm` span with model and tokens
//!   (input counts cached tokens once), cost as an attribute; `api_error` and
//!   failed requests → error spans; Codex's per-chunk `sse_event`s are skipped;
//! * a span's id is a digest of the record (stable across re-reads), so the
//!   same event imported from a file or received over HTTP is stored once;
//! * every other attribute is kept in `attributes` (redaction runs on them as
//!   on everything else before the store).

use super::attrs::{any_to_json, Attrs};
use super::{hex_id, nanos_ms, OtlpParser};
use crate::ingest::formats::common::{as_u64, str_of};
use crate::ingest::formats::json::Value;
use crate::ingest::formats::{FormatError, Record};
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};
use serde_json::Value as Json;

/// Attributes read into span fields (not copied into `attributes`).
const CONSUMED: &[&str] = &[
    "prompt",
    "tool_parameters",
    "tool_input",
    "arguments",
    "output",
];

/// Which agent wrote an event, from its name's prefix or the service name.
fn agent_of(event: &str, service: Option<&str>) -> AgentKind {
    if event.starts_with("claude_code.") || service == Some("claude-code") {
        AgentKind::ClaudeCode
    } else if event.starts_with("codex.") || service.is_some_and(|s| s.starts_with("codex")) {
        AgentKind::Codex
    } else {
        AgentKind::Otel
    }
}

/// The event's name: `eventName`, else the `event.name` attribute, else a
/// string body; Claude Code's unprefixed `event.name` takes its body's prefix.
fn event_name(rec: &Value, a: &Attrs) -> String {
    let body = rec
        .get("body")
        .and_then(|b| b.get("stringValue"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let named = str_of(rec, "eventName")
        .filter(|s| !s.is_empty())
        .or_else(|| a.str("event.name"))
        .unwrap_or(body);
    if !named.contains('.') && body.ends_with(&format!(".{named}")) {
        return body.to_owned();
    }
    named.to_owned()
}

/// A boolean attribute written as a bool or as "true"/"false".
fn flag(a: &Attrs, key: &str) -> Option<bool> {
    let v = a.any(key)?;
    if let Some(b) = v.get("boolValue").and_then(Value::as_bool) {
        return Some(b);
    }
    match v.get("stringValue").and_then(Value::as_str)? {
        "true" | "True" | "1" => Some(true),
        "false" | "False" | "0" => Some(false),
        _ => None,
    }
}

/// A number attribute (double, int or numeric string).
fn number(a: &Attrs, key: &str) -> Option<f64> {
    let v = a.any(key)?;
    if let Some(d) = v.get("doubleValue").and_then(Value::as_f64) {
        return Some(d);
    }
    v.get("intValue")
        .or_else(|| v.get("stringValue"))
        .and_then(|x| match x {
            Value::String(s) => s.trim().parse().ok(),
            other => other.as_f64(),
        })
}

/// A stable span id: a digest of what identifies the record.
fn record_id(parts: &[&str]) -> String {
    record_id_with(parts, None)
}

/// [`record_id`] of `parts`, then (when given) one more part: the attributes' text,
/// `key=json` lines joined by `\n`, written straight into the digest (the
/// same bytes as the joined text, without building it).
fn record_id_with(parts: &[&str], attrs: Option<&[(&str, Json)]>) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    /// Feeds formatted text to the digest.
    struct Feed(Sha256);
    impl std::fmt::Write for Feed {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.update(s.as_bytes());
            Ok(())
        }
    }
    let mut h = Feed(Sha256::new());
    for p in parts {
        h.0.update(p.as_bytes());
        h.0.update([0]);
    }
    if let Some(attrs) = attrs {
        for (i, (k, v)) in attrs.iter().enumerate() {
            if i > 0 {
                h.0.update(b"\n");
            }
            // Writing into the digest cannot fail.
            let _ = write!(h, "{k}={v}");
        }
        h.0.update([0]);
    }
    hex::encode(&h.0.finalize()[..8])
}

/// Claude Code's `tool_parameters` name a shell command `full_command` /
/// `bash_command`; the detection engine reads shell input as `command`.
fn tool_input(a: &Attrs) -> Option<String> {
    let raw = a.text(&["tool_input", "tool_parameters", "arguments"])?;
    let Ok(serde_json::Value::Object(mut o)) = serde_json::from_str::<serde_json::Value>(&raw)
    else {
        return Some(raw);
    };
    if !o.contains_key("command") {
        let cmd = o
            .get("full_command")
            .or_else(|| o.get("bash_command"))
            .cloned();
        if let Some(c) = cmd {
            o.insert("command".into(), c);
            return Some(serde_json::Value::Object(o).to_string());
        }
    }
    Some(raw)
}

impl OtlpParser {
    /// Reads one `resourceLogs` array.
    pub(super) fn logs(
        &mut self,
        resource_logs: &[Value],
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        for rl in resource_logs {
            let res = Attrs::from(rl.get("resource").and_then(|r| r.get("attributes")));
            let Some(Value::Array(scopes)) = rl.get("scopeLogs") else {
                continue;
            };
            for sl in scopes {
                let Some(Value::Array(records)) = sl.get("logRecords") else {
                    continue;
                };
                for rec in records {
                    self.log_record(rec, &res, origin, out);
                }
            }
        }
        Ok(())
    }

    fn log_record(&mut self, rec: &Value, res: &Attrs, origin: &Origin, out: &mut Vec<Record>) {
        let a = Attrs::from(rec.get("attributes"));
        let event = event_name(rec, &a);
        let service = res.str("service.name");
        let agent = agent_of(&event, service);
        let short = event.rsplit('.').next().unwrap_or(&event);
        if event == "codex.sse_event"
            && a.str("event.kind") != Some("response.completed")
            && a.any("error.message").is_none()
        {
            return; // one per streamed chunk: the completed one carries the usage
        }
        let trace = hex_id(rec.get("traceId"));
        let Some(run) = a
            .str("session.id")
            .or_else(|| a.str("conversation.id"))
            .or_else(|| a.str("gen_ai.conversation.id"))
            .or_else(|| res.str("session.id"))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or(trace.clone())
        else {
            return; // an event of no session cannot be placed in a run
        };
        let time = rec
            .get("timeUnixNano")
            .filter(|t| nanos_ms(Some(t)).is_some());
        let nanos = time
            .or_else(|| rec.get("observedTimeUnixNano"))
            .and_then(as_u64)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let at = nanos_ms(time.or_else(|| rec.get("observedTimeUnixNano")));
        let seq = a.text(&["event.sequence"]).unwrap_or_default();
        // Attribute values as plain JSON, so protobuf and JSON encodings agree;
        // converted once, for the id and for `attributes`.
        let json: Vec<(&str, Json)> = a.0.iter().map(|(k, v)| (*k, any_to_json(v))).collect();
        let id = record_id_with(&[&run, &event, &nanos, &seq], Some(&json));
        let tool = a.text(&["tool_name", "gen_ai.tool.name"]);
        let (kind, name) = match short {
            "user_prompt" => (SpanKind::Message, "user".to_owned()),
            "tool_result" => (SpanKind::Tool, tool.clone().unwrap_or_else(|| short.into())),
            "api_request" if agent == AgentKind::ClaudeCode => (SpanKind::Llm, event.clone()),
            "api_request" => (SpanKind::Http, event.clone()),
            "api_error" => (SpanKind::Llm, event.clone()),
            "sse_event" => (SpanKind::Llm, event.clone()),
            "tool_decision" => (
                SpanKind::Event,
                format!("tool_decision {}", tool.as_deref().unwrap_or(""))
                    .trim_end()
                    .to_owned(),
            ),
            _ => (SpanKind::Event, event.clone()),
        };
        let mut s = Span::new(id, run.as_str(), kind, name, origin.clone());
        let duration = number(&a, "duration_ms").map(|d| d.max(0.0) as Millis);
        s.end_ms = at;
        s.start_ms = match (at, duration) {
            (Some(t), Some(d)) if kind != SpanKind::Message => Some(t.saturating_sub(d)),
            _ => at,
        };
        if let Some(p) = a.str("prompt.id").filter(|p| !p.is_empty()) {
            // Claude Code ties a prompt's requests and tools to it by prompt.id.
            let prompt_span = record_id(&[&run, "prompt", p]);
            if short == "user_prompt" {
                s.id = prompt_span;
            } else {
                s.parent_id = Some(prompt_span);
            }
        }
        s.model = a
            .text(&["model", "gen_ai.response.model", "gen_ai.request.model"])
            .filter(|m| !m.is_empty());
        let failed = flag(&a, "success") == Some(false)
            || short == "api_error"
            || a.text(&["error", "error.message"])
                .is_some_and(|e| !e.is_empty());
        s.status = if failed {
            SpanStatus::Error
        } else if short == "tool_result" || short == "api_request" || short == "sse_event" {
            SpanStatus::Ok
        } else {
            SpanStatus::Unset
        };
        let mut first_user = None;
        match short {
            "user_prompt" => {
                // Without OTEL_LOG_USER_PROMPTS the agents log a placeholder (or nothing).
                s.text = a
                    .text(&["prompt"])
                    .filter(|p| !p.is_empty() && p != "[REDACTED]" && p != "<REDACTED>");
                first_user = s.text.clone();
            }
            "tool_result" | "tool_decision" => {
                s.tool_name = tool;
                s.tool_call_id = a
                    .text(&["tool_use_id", "call_id", "gen_ai.tool.call.id"])
                    .filter(|c| !c.is_empty());
                if short == "tool_result" {
                    s.tool_input = tool_input(&a);
                    s.tool_output = a.text(&["output", "tool_output"]);
                }
            }
            _ => {}
        }
        if kind == SpanKind::Llm && !failed {
            let int = |k: &str| a.int(&[k]);
            if agent == AgentKind::Codex {
                s.input_tokens = int("input_token_count");
                s.output_tokens = int("output_token_count");
            } else {
                let cached = int("cache_read_tokens").unwrap_or(0)
                    + int("cache_creation_tokens").unwrap_or(0);
                s.input_tokens = int("input_tokens").map(|i| i + cached);
                s.output_tokens = int("output_tokens");
            }
        }
        for (k, v) in json {
            if !CONSUMED.contains(&k) {
                s.attributes.insert(k.to_owned(), v);
            }
        }
        s.attributes
            .insert("event.name".into(), event.clone().into());
        if let Some(svc) = service {
            s.attributes.insert("service.name".into(), svc.into());
        }
        if let Some(t) = trace.filter(|t| *t != run) {
            s.attributes.insert("trace_id".into(), t.into());
        }
        self.runs.touch(
            &run,
            agent,
            s.start_ms,
            s.end_ms,
            first_user.as_deref(),
            origin,
            out,
        );
        out.push(Record::Span(s));
    }
}
