//! Parser for OTLP/JSON `ExportTraceServiceRequest`s and `ExportLogsServiceRequest`s
//! (one per line, or a whole file); logs are read by [`logs`].
//!
//! Understands the OpenTelemetry GenAI semantic conventions (old and new
//! attribute names, message events, `gen_ai.*.messages` as JSON inside a
//! string) and OpenInference attributes (`openinference.span.kind`,
//! flattened `llm.input_messages.N.message.*`, `tool.name`, `input.value`).
//!
//! * run = `gen_ai.conversation.id` / `session.id` when present, else the
//!   trace id (remembered per trace, so later spans of a trace follow it);
//! * ids are lower-cased hex; times (`*TimeUnixNano`, string or number) → ms;
//! * status code 2 (or `STATUS_CODE_ERROR`, or `error.type`) → error;
//! * attributes not mapped onto span fields are kept in `attributes`.

use super::common::{as_i64, as_u64, str_of, RunTracker};
use super::{Format, FormatError, FormatParser, Record};
use crate::hash::{HashMap, HashSet};
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};

mod attrs;
mod logs;
mod text;

pub use attrs::any_to_json;
use attrs::Attrs;
use text::{event_messages, note_user, openinference_messages, push_line, render_messages};

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct OtlpParser {
    /// trace id → run id (conversation id once seen).
    traces: HashMap<String, String>,
    /// run id → (latest end emitted, titled).
    runs: RunTracker,
    /// LLM spans whose tokens were counted, and the parents of those spans:
    /// stacked instrumentations nest one model call in another, and the
    /// second of the pair to arrive keeps its usage as attributes only.
    counted: HashSet<String>,
    counted_parents: HashSet<String>,
}

/// Attribute keys whose content becomes span fields (not copied into `attributes`).
const CONSUMED: &[&str] = &[
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "input.value",
    "output.value",
];

fn nanos_ms(v: Option<&Value>) -> Option<Millis> {
    let n = v.and_then(as_u64)?;
    (n > 0).then_some((n / 1_000_000) as Millis)
}

/// Lower-cased hex id; `None` for empty or all-zero ids.
fn hex_id(v: Option<&Value>) -> Option<String> {
    let s = v.and_then(Value::as_str)?.trim();
    if s.is_empty() || s.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

fn kind_of(a: &Attrs) -> SpanKind {
    if let Some(op) = a.str("gen_ai.operation.name") {
        return match op {
            "chat" | "text_completion" | "generate_content" | "embeddings" => SpanKind::Llm,
            "execute_tool" | "retrieval" => SpanKind::Tool,
            "invoke_agent" | "create_agent" | "invoke_workflow" | "unknown" => SpanKind::Agent,
            _ => SpanKind::Event,
        };
    }
    if let Some(k) = a.str("openinference.span.kind") {
        return match k.to_ascii_uppercase().as_str() {
            "LLM" | "EMBEDDING" => SpanKind::Llm,
            "TOOL" | "RETRIEVER" | "RERANKER" => SpanKind::Tool,
            "AGENT" | "CHAIN" => SpanKind::Agent,
            _ => SpanKind::Event,
        };
    }
    if a.any("gen_ai.tool.name").is_some() || a.any("tool.name").is_some() {
        SpanKind::Tool
    } else if a.any("gen_ai.request.model").is_some() || a.any("llm.model_name").is_some() {
        SpanKind::Llm
    } else if a.any("http.request.method").is_some() || a.any("http.method").is_some() {
        SpanKind::Http
    } else {
        SpanKind::Event
    }
}

impl FormatParser for OtlpParser {
    fn format(&self) -> Format {
        Format::Otlp
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        if let Some(Value::Array(resource_logs)) = v.get("resourceLogs") {
            return self.logs(resource_logs, origin, out);
        }
        let Some(Value::Array(resource_spans)) = v.get("resourceSpans") else {
            return Err(FormatError::Shape(
                "otlp: resourceSpans is not an array".into(),
            ));
        };
        for rs in resource_spans {
            let res = Attrs::from(rs.get("resource").and_then(|r| r.get("attributes")));
            let Some(Value::Array(scopes)) = rs
                .get("scopeSpans")
                .or_else(|| rs.get("instrumentationLibrarySpans"))
            else {
                continue;
            };
            for ss in scopes {
                let scope = ss
                    .get("scope")
                    .or_else(|| ss.get("instrumentationLibrary"))
                    .and_then(|s| str_of(s, "name"))
                    .filter(|s| !s.is_empty());
                let Some(Value::Array(spans)) = ss.get("spans") else {
                    continue;
                };
                for sp in spans {
                    self.span(sp, &res, scope, origin, out)?;
                }
            }
        }
        Ok(())
    }
}

impl OtlpParser {
    fn span(
        &mut self,
        sp: &Value,
        res: &Attrs,
        scope: Option<&str>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let trace = hex_id(sp.get("traceId"))
            .ok_or_else(|| FormatError::Shape("otlp: span without traceId".into()))?;
        let id = hex_id(sp.get("spanId"))
            .ok_or_else(|| FormatError::Shape("otlp: span without spanId".into()))?;
        let a = Attrs::from(sp.get("attributes"));
        let conv = a
            .str("gen_ai.conversation.id")
            .or_else(|| a.str("session.id"))
            .or_else(|| res.str("session.id"))
            .filter(|s| !s.is_empty());
        let run = match (conv, self.traces.get(&trace)) {
            (Some(c), Some(r)) if r == c => r.clone(),
            (Some(c), _) => {
                self.traces.insert(trace.clone(), c.to_owned());
                c.to_owned()
            }
            (None, Some(r)) => r.clone(),
            (None, None) => {
                self.traces.insert(trace.clone(), trace.clone());
                trace.clone()
            }
        };
        let kind = kind_of(&a);
        let name = str_of(sp, "name").unwrap_or_default();
        let mut s = Span::new(id, run.as_str(), kind, name, origin.clone());
        s.parent_id = hex_id(sp.get("parentSpanId"));
        s.start_ms = nanos_ms(sp.get("startTimeUnixNano"));
        s.end_ms = nanos_ms(sp.get("endTimeUnixNano"));
        let code = sp.get("status").and_then(|st| st.get("code"));
        s.status = match code {
            Some(Value::String(c)) if c.ends_with("ERROR") => SpanStatus::Error,
            Some(Value::String(c)) if c.ends_with("OK") => SpanStatus::Ok,
            Some(c) => match as_i64(c) {
                Some(2) => SpanStatus::Error,
                Some(1) => SpanStatus::Ok,
                _ => SpanStatus::Unset,
            },
            None => SpanStatus::Unset,
        };
        if a.any("error.type").is_some() {
            s.status = SpanStatus::Error;
        }
        s.model = a.text(&[
            "gen_ai.response.model",
            "gen_ai.request.model",
            "llm.model_name",
            "llm.response.model_name",
            "llm.request.model_name",
        ]);
        s.input_tokens = a.int(&[
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "llm.token_count.prompt",
        ]);
        s.output_tokens = a.int(&[
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
        ]);
        s.cache_read_tokens = a.int(&[
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_read_input_tokens",
            "gen_ai.usage.cached_tokens",
            "llm.token_count.prompt_details.cache_read",
        ]);
        s.cache_write_tokens = a.int(&[
            "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.cache_creation_input_tokens",
            "llm.token_count.prompt_details.cache_write",
        ]);
        if kind == SpanKind::Llm && (s.input_tokens.is_some() || s.output_tokens.is_some()) {
            self.count_once(&mut s);
        }
        if kind == SpanKind::Tool {
            s.tool_name = a
                .text(&["gen_ai.tool.name", "tool.name"])
                .or_else(|| Some(name.to_owned()));
            s.tool_call_id = a.text(&["gen_ai.tool.call.id", "tool.id", "tool_call.id"]);
            s.tool_input = a.text(&["gen_ai.tool.call.arguments", "input.value"]);
            s.tool_output = a.text(&["gen_ai.tool.call.result", "output.value"]);
        }
        // Text: GenAI messages, OpenInference messages, legacy events, flat prompts.
        let mut text = String::new();
        let mut first_user = None;
        if let Some(raw) = a.str("gen_ai.system_instructions") {
            render_messages(raw, Some("system"), &mut text, &mut first_user);
        }
        for k in ["gen_ai.input.messages", "gen_ai.output.messages"] {
            if let Some(raw) = a.str(k) {
                render_messages(raw, None, &mut text, &mut first_user);
            }
        }
        if text.is_empty() {
            openinference_messages(&a, "llm.input_messages.", &mut text, &mut first_user);
            openinference_messages(&a, "llm.output_messages.", &mut text, &mut first_user);
        }
        if text.is_empty() {
            for (k, v) in &a.0 {
                // OpenLLMetry: gen_ai.prompt.N.{role,content}, gen_ai.completion.N.{role,content}.
                let Some(stem) = k.strip_suffix(".content") else {
                    continue;
                };
                let default = if stem.starts_with("gen_ai.prompt.") {
                    "user"
                } else if stem.starts_with("gen_ai.completion.") {
                    "assistant"
                } else {
                    continue;
                };
                let role_key = format!("{stem}.role");
                let role = a.str(&role_key).unwrap_or(default);
                if let Some(t) = v.get("stringValue").and_then(Value::as_str) {
                    note_user(Some(role), t, &mut first_user);
                    push_line(&mut text, Some(role), t);
                }
            }
        }
        if let Some(exc) = event_messages(sp.get("events"), &mut text, &mut first_user) {
            s.status = SpanStatus::Error;
            s.attributes
                .insert("exception.type".into(), serde_json::Value::String(exc));
        }
        if text.is_empty() && kind != SpanKind::Tool {
            for k in ["input.value", "output.value"] {
                if let Some(t) = a.text(&[k]) {
                    push_line(&mut text, None, &t);
                }
            }
        }
        if !text.is_empty() {
            s.text = Some(text);
        }
        // Everything else stays, as plain JSON.
        for (k, v) in &a.0 {
            if CONSUMED.contains(k)
                || k.starts_with("llm.input_messages.")
                || k.starts_with("llm.output_messages.")
            {
                continue;
            }
            s.attributes.insert((*k).to_owned(), any_to_json(v));
        }
        if let Some(svc) = res.str("service.name") {
            s.attributes.insert("service.name".into(), svc.into());
        }
        if let Some(sc) = scope {
            s.attributes.insert("otel.scope.name".into(), sc.into());
        }
        if trace != run {
            s.attributes
                .insert("trace_id".into(), serde_json::Value::String(trace));
        }
        if let Some(msg) = sp
            .get("status")
            .and_then(|st| str_of(st, "message"))
            .filter(|m| !m.is_empty())
        {
            s.attributes.insert("status.message".into(), msg.into());
        }
        self.runs.touch(
            &run,
            AgentKind::Otel,
            s.start_ms,
            s.end_ms,
            first_user.as_deref(),
            origin,
            out,
        );
        out.push(Record::Span(s));
        Ok(())
    }

    /// Keeps a nested model call's usage from being counted twice.
    fn count_once(&mut self, s: &mut Span) {
        let nested = self.counted_parents.contains(&s.id)
            || s.parent_id
                .as_ref()
                .is_some_and(|p| self.counted.contains(p));
        if nested {
            if let Some(i) = s.input_tokens.take() {
                s.attributes
                    .insert("usage.nested_input_tokens".into(), i.into());
            }
            if let Some(o) = s.output_tokens.take() {
                s.attributes
                    .insert("usage.nested_output_tokens".into(), o.into());
            }
            s.cache_read_tokens = None;
            s.cache_write_tokens = None;
            s.cache_write_1h_tokens = None;
        } else {
            self.counted.insert(s.id.clone());
            if let Some(p) = &s.parent_id {
                self.counted_parents.insert(p.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests;
