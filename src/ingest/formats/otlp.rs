//! Parser for OTLP/JSON `ExportTraceServiceRequest`s (one per line, or a whole file).
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

use super::common::{as_i64, as_u64, run_update, str_of, title_of};
use super::{Format, FormatError, FormatParser, Record};
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct OtlpParser {
    /// trace id → run id (conversation id once seen).
    traces: HashMap<String, String>,
    /// run id → (latest end emitted, titled).
    runs: HashMap<String, (Option<Millis>, bool)>,
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

/// One span's attributes, by reference: `(key, AnyValue)`.
struct Attrs<'a>(Vec<(&'a str, &'a Value)>);

impl<'a> Attrs<'a> {
    fn from(v: Option<&'a Value>) -> Attrs<'a> {
        let mut out = Vec::new();
        if let Some(Value::Array(items)) = v {
            out.reserve(items.len());
            for kv in items {
                if let (Some(k), Some(val)) = (str_of(kv, "key"), kv.get("value")) {
                    out.push((k, val));
                }
            }
        }
        Attrs(out)
    }

    fn any(&self, key: &str) -> Option<&'a Value> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn str(&self, key: &str) -> Option<&'a str> {
        self.any(key)
            .and_then(|v| v.get("stringValue"))
            .and_then(Value::as_str)
    }

    /// First present of several keys, as a string (other scalar kinds rendered).
    fn text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| {
            self.any(k).and_then(|v| match any_to_json(v) {
                Value::String(s) => Some(s),
                Value::Null => None,
                other => Some(other.to_string()),
            })
        })
    }

    fn int(&self, keys: &[&str]) -> Option<u64> {
        keys.iter().find_map(|k| {
            let v = self.any(k)?;
            v.get("intValue")
                .or_else(|| v.get("doubleValue"))
                .or_else(|| v.get("stringValue"))
                .and_then(as_u64)
        })
    }
}

/// OTLP AnyValue → plain JSON (`intValue` strings become numbers).
pub fn any_to_json(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    if let Some(s) = o.get("stringValue") {
        return s.clone();
    }
    if let Some(i) = o.get("intValue") {
        return as_i64(i).map(Value::from).unwrap_or_else(|| i.clone());
    }
    if let Some(d) = o.get("doubleValue") {
        return match d {
            Value::String(s) => s
                .parse::<f64>()
                .ok()
                .map(Value::from)
                .unwrap_or(Value::Null),
            other => other.clone(),
        };
    }
    if let Some(b) = o.get("boolValue") {
        return b.clone();
    }
    if let Some(a) = o.get("arrayValue") {
        let vals = a.get("values").and_then(Value::as_array);
        return Value::Array(
            vals.map(|x| x.iter().map(any_to_json).collect())
                .unwrap_or_default(),
        );
    }
    if let Some(kv) = o.get("kvlistValue") {
        let mut m = Map::new();
        if let Some(Value::Array(items)) = kv.get("values") {
            for item in items {
                if let (Some(k), Some(val)) = (str_of(item, "key"), item.get("value")) {
                    m.insert(k.to_owned(), any_to_json(val));
                }
            }
        }
        return Value::Object(m);
    }
    if let Some(b) = o.get("bytesValue") {
        return b.clone();
    }
    Value::Null
}

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

/// Renders GenAI message JSON (`[{role, parts:[...]}]`, or OpenAI-style
/// `[{role, content}]`) as `role: text` lines. Non-JSON text is kept as is.
fn render_messages(
    raw: &str,
    bare_role: Option<&str>,
    out: &mut String,
    first_user: &mut Option<String>,
) {
    let Ok(v) = serde_json::from_str::<Value>(raw) else {
        push_line(out, None, raw);
        return;
    };
    let msgs: &[Value] = match &v {
        Value::Array(a) => a,
        Value::Object(_) => std::slice::from_ref(&v),
        _ => {
            push_line(out, None, raw);
            return;
        }
    };
    for m in msgs {
        let role = str_of(m, "role");
        if let Some(Value::Array(parts)) = m.get("parts") {
            for p in parts {
                render_part(p, role, out, first_user);
            }
        } else if m.get("type").is_some() && role.is_none() {
            render_part(m, bare_role, out, first_user); // system_instructions: bare parts
        } else if let Some(c) = m.get("content") {
            match c {
                Value::String(s) => {
                    note_user(role, s, first_user);
                    push_line(out, role, s);
                }
                Value::Array(parts) => parts
                    .iter()
                    .for_each(|p| render_part(p, role, out, first_user)),
                _ => {}
            }
            if let Some(Value::Array(calls)) = m.get("tool_calls") {
                for c in calls {
                    let f = c.get("function").unwrap_or(c);
                    let line = format!(
                        "[tool_call {} {}]",
                        str_of(f, "name").unwrap_or_default(),
                        str_of(f, "arguments").unwrap_or_default()
                    );
                    push_line(out, role, &line);
                }
            }
        }
    }
}

fn render_part(p: &Value, role: Option<&str>, out: &mut String, first_user: &mut Option<String>) {
    match str_of(p, "type") {
        Some("text" | "reasoning" | "input_text" | "output_text") | None => {
            if let Some(t) = str_of(p, "content").or_else(|| str_of(p, "text")) {
                note_user(role, t, first_user);
                push_line(out, role, t);
            }
        }
        Some("tool_call") => {
            let args = p
                .get("arguments")
                .map(super::common::text_of)
                .unwrap_or_default();
            let line = format!(
                "[tool_call {} {args}]",
                str_of(p, "name").unwrap_or_default()
            );
            push_line(out, role, &line);
        }
        Some("tool_call_response") => {
            let r = p
                .get("response")
                .map(super::common::text_of)
                .unwrap_or_default();
            push_line(out, role, &r);
        }
        Some(other) => push_line(out, role, &format!("[{other}]")),
    }
}

fn note_user(role: Option<&str>, text: &str, first_user: &mut Option<String>) {
    if role == Some("user") && first_user.is_none() && !text.trim().is_empty() {
        *first_user = Some(text.to_owned());
    }
}

fn push_line(out: &mut String, role: Option<&str>, text: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    if let Some(r) = role {
        out.push_str(r);
        out.push_str(": ");
    }
    out.push_str(text);
}

/// OpenInference `llm.{input,output}_messages.N.message.*` rebuilt in index order.
fn openinference_messages(
    a: &Attrs,
    prefix: &str,
    out: &mut String,
    first_user: &mut Option<String>,
) {
    #[derive(Default)]
    struct Msg<'a> {
        role: Option<&'a str>,
        content: Option<&'a str>,
        parts: BTreeMap<usize, &'a str>,
        calls: BTreeMap<usize, (Option<&'a str>, Option<&'a str>)>,
    }
    let mut msgs: BTreeMap<usize, Msg> = BTreeMap::new();
    for (k, v) in &a.0 {
        let Some(rest) = k.strip_prefix(prefix) else {
            continue;
        };
        let Some((idx, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = idx.parse::<usize>() else {
            continue;
        };
        let Some(s) = v.get("stringValue").and_then(Value::as_str) else {
            continue;
        };
        let m = msgs.entry(i).or_default();
        match field {
            "message.role" => m.role = Some(s),
            "message.content" => m.content = Some(s),
            f => {
                if let Some(r) = f.strip_prefix("message.contents.") {
                    if let Some((j, "message_content.text")) = r.split_once('.') {
                        if let Ok(j) = j.parse() {
                            m.parts.insert(j, s);
                        }
                    }
                } else if let Some(r) = f.strip_prefix("message.tool_calls.") {
                    if let Some((j, tail)) = r.split_once('.') {
                        if let Ok(j) = j.parse() {
                            let c = m.calls.entry(j).or_default();
                            match tail {
                                "tool_call.function.name" => c.0 = Some(s),
                                "tool_call.function.arguments" => c.1 = Some(s),
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
    }
    for m in msgs.values() {
        if let Some(c) = m.content {
            note_user(m.role, c, first_user);
            push_line(out, m.role, c);
        }
        for p in m.parts.values() {
            note_user(m.role, p, first_user);
            push_line(out, m.role, p);
        }
        for (name, args) in m.calls.values() {
            let line = format!(
                "[tool_call {} {}]",
                name.unwrap_or_default(),
                args.unwrap_or_default()
            );
            push_line(out, m.role, &line);
        }
    }
}

/// Older GenAI conventions: content in span events (`gen_ai.user.message`, `gen_ai.choice`, ...).
fn event_messages(
    events: Option<&Value>,
    out: &mut String,
    first_user: &mut Option<String>,
) -> Option<String> {
    let mut exception = None;
    let Some(Value::Array(evs)) = events else {
        return None;
    };
    for e in evs {
        let name = str_of(e, "name").unwrap_or_default();
        let a = Attrs::from(e.get("attributes"));
        if name == "exception" {
            exception = a.text(&["exception.type"]);
            continue;
        }
        if name == "gen_ai.client.inference.operation.details" {
            for (k, role) in [
                ("gen_ai.system_instructions", Some("system")),
                ("gen_ai.input.messages", None),
                ("gen_ai.output.messages", None),
            ] {
                if let Some(s) = a.str(k) {
                    render_messages(s, role, out, first_user);
                }
            }
            continue;
        }
        let role = match name {
            "gen_ai.system.message" => "system",
            "gen_ai.user.message" => "user",
            "gen_ai.assistant.message" => "assistant",
            "gen_ai.tool.message" => "tool",
            "gen_ai.choice" => "assistant",
            _ => continue,
        };
        // Content is an attribute `content` (or a JSON body in `gen_ai.event.content`).
        if let Some(body) = a.str("gen_ai.event.content") {
            render_messages(body, Some(role), out, first_user);
        } else if let Some(c) = a.text(&["content", "message.content", "gen_ai.prompt"]) {
            note_user(Some(role), &c, first_user);
            push_line(out, Some(role), &c);
        } else if let Some(m) = a.any("message") {
            let m = any_to_json(m);
            if let Some(c) = str_of(&m, "content") {
                push_line(out, Some(role), c);
            }
        }
    }
    exception
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
                let role = if k.starts_with("gen_ai.prompt.") && k.ends_with(".content") {
                    "user"
                } else if k.starts_with("gen_ai.completion.") && k.ends_with(".content") {
                    "assistant"
                } else {
                    continue;
                };
                if let Some(t) = v.get("stringValue").and_then(Value::as_str) {
                    note_user(Some(role), t, &mut first_user);
                    push_line(&mut text, Some(role), t);
                }
            }
        }
        if let Some(exc) = event_messages(sp.get("events"), &mut text, &mut first_user) {
            s.status = SpanStatus::Error;
            s.attributes
                .insert("exception.type".into(), Value::String(exc));
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
            s.attributes.insert("trace_id".into(), Value::String(trace));
        }
        if let Some(msg) = sp
            .get("status")
            .and_then(|st| str_of(st, "message"))
            .filter(|m| !m.is_empty())
        {
            s.attributes.insert("status.message".into(), msg.into());
        }
        self.run_update(&run, &s, first_user.as_deref(), origin, out);
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
        } else {
            self.counted.insert(s.id.clone());
            if let Some(p) = &s.parent_id {
                self.counted_parents.insert(p.clone());
            }
        }
    }

    fn run_update(
        &mut self,
        run: &str,
        s: &Span,
        first_user: Option<&str>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) {
        let fresh = !self.runs.contains_key(run);
        if fresh {
            self.runs.insert(run.to_owned(), (None, false));
        }
        let Some((end, titled)) = self.runs.get_mut(run) else {
            return;
        };
        let title = if *titled {
            None
        } else {
            first_user.and_then(title_of)
        };
        let later = s.end_ms.is_some() && s.end_ms > *end;
        if fresh || later || title.is_some() {
            let mut r = run_update(run, AgentKind::Otel, origin);
            r.started_ms = s.start_ms;
            r.ended_ms = s.end_ms;
            if title.is_some() {
                *titled = true;
                r.title = title;
            }
            if later {
                *end = s.end_ms;
            }
            out.push(Record::Run(r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(span: Value) -> Vec<Record> {
        let v = json!({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
            "scopeSpans":[{"scope":{"name":"sc"},"spans":[span]}]}]});
        let mut out = Vec::new();
        OtlpParser::default()
            .value(&v, &Origin::new("t.jsonl", 1), &mut out)
            .unwrap();
        out
    }

    fn span(out: &[Record]) -> &Span {
        out.iter()
            .find_map(|r| match r {
                Record::Span(s) => Some(s),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn old_names_numbers_and_upper_hex() {
        let out = one(
            json!({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
            "parentSpanId":"","name":"chat m","startTimeUnixNano":1544712660000000000u64,"endTimeUnixNano":"1544712661000000000",
            "status":{"code":"STATUS_CODE_ERROR"},
            "attributes":[{"key":"gen_ai.system","value":{"stringValue":"openai"}},
                {"key":"gen_ai.request.model","value":{"stringValue":"gpt"}},
                {"key":"gen_ai.usage.prompt_tokens","value":{"intValue":"12"}},
                {"key":"gen_ai.usage.completion_tokens","value":{"intValue":7}},
                {"key":"gen_ai.request.temperature","value":{"doubleValue":0.5}}],
            "events":[{"name":"gen_ai.user.message","attributes":[{"key":"content","value":{"stringValue":"hi there"}}]}]}),
        );
        let s = span(&out);
        assert_eq!(s.id, "eee19b7ec3c1b174");
        assert_eq!(s.run_id, "5b8efff798038103d269b633813fc60c");
        assert_eq!(s.parent_id, None);
        assert_eq!(s.kind, SpanKind::Llm);
        assert_eq!(
            (s.start_ms, s.end_ms),
            (Some(1_544_712_660_000), Some(1_544_712_661_000))
        );
        assert_eq!((s.input_tokens, s.output_tokens), (Some(12), Some(7)));
        assert_eq!(s.status, SpanStatus::Error);
        assert_eq!(s.text.as_deref(), Some("user: hi there"));
        assert_eq!(s.attributes["gen_ai.request.temperature"], json!(0.5));
        assert_eq!(s.attributes["service.name"], json!("svc"));
        let Record::Run(r) = &out[0] else { panic!() };
        assert_eq!(r.title.as_deref(), Some("hi there"));
    }

    #[test]
    fn conversation_id_groups_the_run() {
        let out = one(json!({"traceId":"aa","spanId":"bb","name":"execute_tool x",
            "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},
                {"key":"gen_ai.conversation.id","value":{"stringValue":"conv-1"}},
                {"key":"gen_ai.tool.name","value":{"stringValue":"x"}},
                {"key":"gen_ai.tool.call.arguments","value":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}}},
                {"key":"gen_ai.tool.call.result","value":{"stringValue":"done"}}]}));
        let s = span(&out);
        assert_eq!(s.run_id, "conv-1");
        assert_eq!(s.tool_input.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(s.tool_output.as_deref(), Some("done"));
        assert_eq!(s.attributes["trace_id"], json!("aa"));
    }
}
