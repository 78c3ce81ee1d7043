//! Parser for OpenAI Agents SDK trace exports (`trace` and `trace.span` objects).
//!
//! Accepts one object per line (what a `TracingProcessor` writing
//! `export()` dicts produces) and the batch shape `{"data":[...]}` that the
//! SDK's `BackendSpanExporter` posts. Spans end before their parents, so
//! children arrive first: each span is emitted as it comes with its
//! `parent_id`, and the store links them once the parent lands.
//!
//! run = `trace_id`; `span_data.type` gives the kind: `generation`/`response`
//! → llm, `function` → tool (input/output kept as text), `agent` and the
//! `custom` task/turn spans → agent, the rest → event. `error` → status error.

use super::common::{nonempty, str_of, text_of, time_ms, RunTracker};
use super::{Format, FormatError, FormatParser, Record};
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Origin, Span, SpanKind, SpanStatus};

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct AgentsParser {
    /// trace id → (latest end emitted, titled).
    runs: RunTracker,
}

impl FormatParser for AgentsParser {
    fn format(&self) -> Format {
        Format::OpenaiAgents
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        if let Some(Value::Array(items)) = v.get("data") {
            let mut first_err = None;
            for item in items {
                if let Err(e) = self.object(item, origin, out) {
                    first_err.get_or_insert(e);
                }
            }
            return first_err.map_or(Ok(()), Err);
        }
        self.object(v, origin, out)
    }
}

impl AgentsParser {
    fn object(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        match str_of(v, "object") {
            Some("trace") => {
                let id = nonempty(v, "id")
                    .ok_or_else(|| FormatError::Shape("openai-agents: trace without id".into()))?;
                self.runs
                    .touch(id, AgentKind::OpenaiAgents, None, None, None, origin, out);
                Ok(())
            }
            Some("trace.span") => self.span(v, origin, out),
            _ => Err(FormatError::NotATrace),
        }
    }

    fn span(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let id = nonempty(v, "id")
            .ok_or_else(|| FormatError::Shape("openai-agents: span without id".into()))?;
        let run = nonempty(v, "trace_id")
            .ok_or_else(|| FormatError::Shape("openai-agents: span without trace_id".into()))?;
        let data = v.get("span_data").unwrap_or(&Value::Null);
        let ty = str_of(data, "type").unwrap_or("custom");
        let name = nonempty(data, "name");
        let (kind, name) = match ty {
            "agent" => (SpanKind::Agent, name.unwrap_or("agent")),
            "generation" => (SpanKind::Llm, "generation"),
            "response" => (SpanKind::Llm, "response"),
            "function" => (SpanKind::Tool, name.unwrap_or("function")),
            "custom" => {
                let sdk = data.get("data").and_then(|d| str_of(d, "sdk_span_type"));
                let k = if matches!(sdk, Some("task" | "turn")) {
                    SpanKind::Agent
                } else {
                    SpanKind::Event
                };
                (k, name.or(sdk).unwrap_or("custom"))
            }
            other => (SpanKind::Event, name.unwrap_or(other)),
        };
        let mut s = Span::new(id, run, kind, name, origin.clone());
        s.parent_id = nonempty(v, "parent_id").map(str::to_owned);
        s.start_ms = v.get("started_at").and_then(time_ms);
        s.end_ms = v.get("ended_at").and_then(time_ms);
        s.status = match v.get("error") {
            Some(e) if !e.is_null() => {
                if let Some(m) = str_of(e, "message") {
                    s.attributes.insert("error.message".into(), m.into());
                }
                if let Some(d) = e.get("data").filter(|d| !d.is_null()) {
                    s.attributes.insert("error.data".into(), d.to_value());
                }
                SpanStatus::Error
            }
            _ if s.end_ms.is_some() => SpanStatus::Ok,
            _ => SpanStatus::Unset,
        };
        s.attributes.insert("span_type".into(), ty.into());
        let mut prompt = None;
        match ty {
            "generation" | "response" => {
                s.model = nonempty(data, "model").map(str::to_owned);
                if let Some(u) = data.get("usage") {
                    usage(u, &mut s);
                }
                let mut text = String::new();
                for k in ["input", "output"] {
                    if let Some(Value::Array(msgs)) = data.get(k) {
                        render(msgs, &mut text, &mut prompt);
                    }
                }
                if !text.is_empty() {
                    s.text = Some(text);
                }
                if let Some(r) = nonempty(data, "response_id") {
                    s.attributes.insert("response_id".into(), r.into());
                }
            }
            "function" => {
                s.tool_name = Some(name.to_owned());
                s.tool_input = data.get("input").filter(|i| !i.is_null()).map(text_of);
                s.tool_output = data.get("output").filter(|o| !o.is_null()).map(text_of);
                if let Some(m) = data.get("mcp_data").filter(|m| !m.is_null()) {
                    s.attributes.insert("mcp_data".into(), m.to_value());
                }
            }
            _ => {
                // Small descriptive fields (agent tools/handoffs, handoff ends,
                // guardrail outcome, custom data, MCP server) stay as attributes.
                if let Some(o) = data.as_object() {
                    for (k, val) in o.iter() {
                        if k != "type" && k != "name" && !val.is_null() {
                            s.attributes.insert(k.to_owned(), val.to_value());
                        }
                    }
                }
            }
        }
        if let Some(Value::Object(m)) = v.get("metadata") {
            s.attributes
                .insert("metadata".into(), serde_json::Value::Object(m.to_map()));
        }
        self.runs.touch(
            run,
            AgentKind::OpenaiAgents,
            s.start_ms,
            s.end_ms,
            prompt.as_deref(),
            origin,
            out,
        );
        out.push(Record::Span(s));
        Ok(())
    }
}

/// Chat messages (`[{role, content, tool_calls}]`, or Responses input items) as `role: text` lines.
/// A model call's token counts from the SDK's `usage`. The prompt count
/// includes cached tokens (OpenAI's way); the cached part is
/// `input_tokens_details.cached_tokens` (Responses API and the SDK's own
/// `Usage`), `prompt_tokens_details.cached_tokens` (Chat Completions) or a
/// flat `cached_input_tokens`, and the cache writes some providers report are
/// `input_tokens_details.cache_write_tokens` or `cache_write_input_tokens`.
fn usage(u: &Value, s: &mut Span) {
    let n = |a: &str, b: &str| u.get(a).or_else(|| u.get(b)).and_then(Value::as_u64);
    let detail = |k: &str| {
        ["input_tokens_details", "prompt_tokens_details"]
            .iter()
            .find_map(|d| u.get(d).and_then(|d| d.get(k)).and_then(Value::as_u64))
    };
    s.input_tokens = n("input_tokens", "prompt_tokens");
    s.output_tokens = n("output_tokens", "completion_tokens");
    s.cache_read_tokens = detail("cached_tokens").or_else(|| n("cached_input_tokens", ""));
    s.cache_write_tokens =
        detail("cache_write_tokens").or_else(|| n("cache_write_input_tokens", ""));
}

fn render(msgs: &[Value], out: &mut String, prompt: &mut Option<String>) {
    for m in msgs {
        let role = str_of(m, "role").unwrap_or_else(|| str_of(m, "type").unwrap_or("item"));
        let mut push = |t: &str| {
            if role == "user" && prompt.is_none() && !t.trim().is_empty() {
                *prompt = Some(t.to_owned());
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(role);
            out.push_str(": ");
            out.push_str(t);
        };
        match m.get("content") {
            Some(Value::String(t)) => push(t),
            Some(Value::Array(parts)) => {
                for p in parts {
                    if let Some(t) = str_of(p, "text") {
                        push(t);
                    }
                }
            }
            _ => {}
        }
        if let Some(Value::Array(calls)) = m.get("tool_calls") {
            for c in calls {
                let f = c.get("function").unwrap_or(c);
                push(&format!(
                    "[tool_call {} {}]",
                    str_of(f, "name").unwrap_or_default(),
                    str_of(f, "arguments").unwrap_or_default()
                ));
            }
        }
        if str_of(m, "type") == Some("function_call") {
            push(&format!(
                "[tool_call {} {}]",
                str_of(m, "name").unwrap_or_default(),
                str_of(m, "arguments").unwrap_or_default()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_and_custom_turn() {
        let mut p = AgentsParser::default();
        let mut out = Vec::new();
        let v = json!({"data":[
            {"object":"trace.span","id":"span_1","trace_id":"trace_1","parent_id":"span_0",
             "started_at":"2025-03-11T16:02:12.254000+00:00","ended_at":"2025-03-11T16:02:13.254000+00:00",
             "span_data":{"type":"function","name":"rm","input":"{\"p\":\"/\"}","output":null},
             "error":{"message":"Error running tool","data":{"tool_name":"rm"}}},
            {"object":"trace.span","id":"span_0","trace_id":"trace_1","parent_id":null,
             "started_at":"2025-03-11T16:02:12Z","ended_at":null,
             "span_data":{"type":"custom","name":"turn","data":{"sdk_span_type":"turn","turn":1}}},
            {"object":"response"}
        ]});
        assert!(matches!(
            p.value(&Value::from(v), &Origin::new("a", 1), &mut out),
            Err(FormatError::NotATrace)
        ));
        let spans: Vec<&Span> = out
            .iter()
            .filter_map(|r| match r {
                Record::Span(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(spans.len(), 2, "good items kept beside the bad one");
        assert_eq!(spans[0].status, SpanStatus::Error);
        assert_eq!(spans[0].duration_ms(), Some(1000));
        assert_eq!(spans[0].tool_output, None);
        assert_eq!(spans[1].kind, SpanKind::Agent);
        assert_eq!(spans[1].status, SpanStatus::Unset);
        assert_eq!(spans[1].attributes["data"]["turn"], json!(1));
    }

    /// The SDK's generation usage (as `openai-agents` 0.24 exports it) with a
    /// cache hit: 1,200 prompt tokens of which 1,024 cached, 300 completion.
    /// At gpt-4o-mini's $0.15 / $0.075 (cached) / $0.60 per million:
    /// 176 x 0.15 + 1,024 x 0.075 + 300 x 0.60 = 26.4 + 76.8 + 180 = 283.2 micro-dollars.
    #[test]
    fn cached_prompt_tokens_are_kept_and_priced_as_cached() {
        let line = |usage: serde_json::Value| {
            let v = json!({"object":"trace.span","id":"span_g","trace_id":"trace_1","parent_id":null,
                "started_at":"2025-03-11T16:02:12Z","ended_at":"2025-03-11T16:02:13Z",
                "span_data":{"type":"generation","model":"gpt-4o-mini","usage":usage}});
            let mut out = Vec::new();
            AgentsParser::default()
                .value(&Value::from(v), &Origin::new("a", 1), &mut out)
                .expect("parses");
            out.into_iter()
                .find_map(|r| match r {
                    Record::Span(s) => Some(s),
                    _ => None,
                })
                .expect("a span")
        };
        let s = line(
            json!({"requests":1,"input_tokens":1200,"output_tokens":300,"total_tokens":1500,
            "input_tokens_details":{"cache_write_tokens":0,"cached_tokens":1024,"cache_write_tokens_details":null},
            "output_tokens_details":{"reasoning_tokens":0}}),
        );
        assert_eq!(
            (
                s.input_tokens,
                s.cache_read_tokens,
                s.cache_write_tokens,
                s.output_tokens
            ),
            (Some(1200), Some(1024), Some(0), Some(300))
        );
        let table = crate::pricing::PriceTable::builtin().expect("the shipped table");
        let u = crate::usage::Usage::of(&s).expect("usage");
        let cost = table.cost("gpt-4o-mini", &u, 0).expect("priced");
        assert_eq!(cost.0, 283_200_000_000, "283.2 micro-dollars exactly");
        let uncached = crate::usage::Usage::openai(1200, 0, 300);
        assert_eq!(
            table.cost("gpt-4o-mini", &uncached, 0).map(|m| m.0),
            Some(360_000_000_000),
            "the same call with nothing cached: 1,200 x 0.15 + 300 x 0.60 = 360 micro-dollars"
        );
        // The same call in the Chat Completions shape, and the flat one of the SDK's turn usage.
        let chat = line(json!({"prompt_tokens":1200,"completion_tokens":300,
            "prompt_tokens_details":{"cached_tokens":1024}}));
        assert_eq!(chat.cache_read_tokens, Some(1024));
        let flat = line(json!({"input_tokens":1200,"output_tokens":300,
            "cached_input_tokens":1024,"cache_write_input_tokens":0}));
        assert_eq!(flat.cache_read_tokens, Some(1024));
    }
}
