//! Parser for OpenCode's storage folder (`~/.local/share/opencode/storage/`)
//! and for `opencode export` documents.
//!
//! OpenCode keeps a session in many small JSON documents, each rewritten in
//! place as it changes: `session/<project>/<session>.json` (title, folder,
//! parent session), `message/<session>/<message>.json` (role, model, tokens,
//! times) and `part/<message>/<part>.json` (text, reasoning, tool calls with
//! their state). Every document carries the ids that place it (a part names
//! its session and message), so each file is read on its own and the store
//! joins them by id; re-reading a changed file updates the same spans.
//! `opencode export <session>` prints the same objects nested:
//! `{info: session, messages: [{info: message, parts: [...]}]}`.
//!
//! * run = session id; `parentID` (a subagent's session) → `parent_run_id`;
//!   the session's title and `directory` give the run's title and folder;
//! * a user message is a `message` span; an assistant message is an `llm`
//!   span (model `<provider>/<model>`; tokens: input + cache read + cache
//!   write, output + reasoning) under the user message it answers;
//! * a `text` part is a `message` span, `reasoning` a `thinking` one, under
//!   their message;
//! * a `tool` part is a `tool` span (id = part id, call id, input = `state.input`,
//!   output = `state.output` or the error, status from `state.status`, times
//!   from `state.time`); a `task` call names the child session it ran
//!   (`subagent_run_id`);
//! * `patch`, `file`, `compaction`, `subtask`, `agent` and `retry` parts are
//!   `event` spans; step markers are skipped (their tokens are the message's).

use super::common::{json_text, nonempty, run_update, str_of, title_of, Problems};
use super::{Format, FormatError, FormatParser, Record};
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};

const AGENT: AgentKind = AgentKind::Opencode;

/// Parser state for one file of this format (none is needed across files).
#[derive(Debug, Default)]
pub struct OpencodeParser;

impl FormatParser for OpencodeParser {
    fn format(&self) -> Format {
        Format::Opencode
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        if let (Some(info), Some(msgs)) = (v.get("info"), v.get("messages")) {
            return export(info, msgs, origin, out);
        }
        if v.get("messageID").is_some() {
            return part(v, origin, out);
        }
        if v.get("role").is_some() {
            return message(v, origin, out);
        }
        if v.get("projectID").is_some() {
            return session(v, origin, out);
        }
        Err(FormatError::NotATrace)
    }
}

fn shape(why: &str) -> FormatError {
    FormatError::Shape(format!("opencode: {why}"))
}

/// A `time` field in ms (`time.<key>`).
fn time(v: &Value, key: &str) -> Option<Millis> {
    v.get("time")
        .and_then(|t| t.get(key))
        .and_then(Value::as_i64)
}

fn run_id<'a>(v: &'a Value) -> Result<&'a str, FormatError> {
    nonempty(v, "sessionID").ok_or_else(|| shape("no sessionID"))
}

/// Titles OpenCode gives a session before it has one of its own.
fn placeholder_title(t: &str) -> bool {
    t.starts_with("New session - ") || t.starts_with("Child session - ")
}

fn session(v: &Value, origin: &Origin, out: &mut Vec<Record>) -> Result<(), FormatError> {
    let id = nonempty(v, "id").ok_or_else(|| shape("session without id"))?;
    let mut r = run_update(id, AGENT, origin);
    r.started_ms = time(v, "created");
    r.ended_ms = time(v, "updated");
    r.parent_run_id = nonempty(v, "parentID").map(str::to_owned);
    r.cwd = nonempty(v, "directory").map(str::to_owned);
    r.title = nonempty(v, "title")
        .filter(|t| !placeholder_title(t))
        .and_then(title_of);
    out.push(Record::Run(r));
    Ok(())
}

fn message(v: &Value, origin: &Origin, out: &mut Vec<Record>) -> Result<(), FormatError> {
    let id = nonempty(v, "id").ok_or_else(|| shape("message without id"))?;
    let run = run_id(v)?;
    let created = time(v, "created");
    let mut r = run_update(run, AGENT, origin);
    r.cwd = v
        .get("path")
        .and_then(|p| nonempty(p, "cwd"))
        .map(str::to_owned);
    out.push(Record::Run(r));
    let s = match str_of(v, "role") {
        Some("user") => {
            let mut s = Span::new(id, run, SpanKind::Message, "user", origin.clone());
            s.start_ms = created;
            s.end_ms = created;
            s
        }
        Some("assistant") => assistant(v, id, run, origin),
        _ => return Err(shape("message role is neither user nor assistant")),
    };
    out.push(Record::Span(s));
    Ok(())
}

fn assistant(v: &Value, id: &str, run: &str, origin: &Origin) -> Span {
    let mut s = Span::new(id, run, SpanKind::Llm, "chat", origin.clone());
    s.parent_id = nonempty(v, "parentID").map(str::to_owned);
    s.start_ms = time(v, "created");
    s.end_ms = time(v, "completed");
    let nested = v.get("model");
    let provider =
        nonempty(v, "providerID").or_else(|| nested.and_then(|m| nonempty(m, "providerID")));
    let model = nonempty(v, "modelID").or_else(|| nested.and_then(|m| nonempty(m, "modelID")));
    s.model = match (provider, model) {
        (Some(p), Some(m)) => Some(format!("{p}/{m}")),
        (None, Some(m)) => Some(m.to_owned()),
        _ => None,
    };
    if let Some(t) = v.get("tokens").filter(|t| t.is_object()) {
        let n = |x: Option<&Value>| x.and_then(Value::as_u64).unwrap_or(0);
        let cache = t.get("cache");
        let (read, write) = (
            n(cache.and_then(|c| c.get("read"))),
            n(cache.and_then(|c| c.get("write"))),
        );
        // `input` leaves out the cache reads and writes, as Anthropic counts.
        crate::usage::Usage::anthropic(
            n(t.get("input")),
            write,
            read,
            0,
            n(t.get("output")) + n(t.get("reasoning")),
        )
        .put(&mut s);
        s.attributes
            .insert("cache_read_input_tokens".into(), read.into());
        s.attributes
            .insert("cache_creation_input_tokens".into(), write.into());
    }
    if let Some(c) = v.get("cost").filter(|c| matches!(c, Value::Number(_))) {
        s.attributes.insert("cost".into(), c.to_value());
    }
    for k in ["mode", "agent", "finish"] {
        if let Some(x) = nonempty(v, k) {
            s.attributes.insert(k.into(), x.into());
        }
    }
    if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
        s.status = SpanStatus::Error;
        s.attributes.insert("error".into(), e.to_value());
    } else if s.end_ms.is_some() {
        s.status = SpanStatus::Ok;
    }
    s
}

fn part(v: &Value, origin: &Origin, out: &mut Vec<Record>) -> Result<(), FormatError> {
    let id = nonempty(v, "id").ok_or_else(|| shape("part without id"))?;
    let run = run_id(v)?;
    let msg = nonempty(v, "messageID").ok_or_else(|| shape("part without messageID"))?;
    out.push(Record::Run(run_update(run, AGENT, origin)));
    let ty = str_of(v, "type").ok_or_else(|| shape("part without type"))?;
    let start = time(v, "start");
    let mut s = match ty {
        "text" | "reasoning" => {
            let name = if ty == "text" { "text" } else { "thinking" };
            let mut s = Span::new(id, run, SpanKind::Message, name, origin.clone());
            s.text = str_of(v, "text").map(str::to_owned);
            s.start_ms = start;
            s.end_ms = time(v, "end").or(start);
            if v.get("synthetic").and_then(Value::as_bool) == Some(true) {
                s.attributes.insert("synthetic".into(), true.into());
            }
            s
        }
        "tool" => tool(v, id, run, origin)?,
        "step-start" | "step-finish" | "snapshot" => return Ok(()),
        other => {
            let mut s = Span::new(id, run, SpanKind::Event, other, origin.clone());
            s.start_ms = start;
            for k in [
                "filename",
                "url",
                "mime",
                "hash",
                "prompt",
                "description",
                "agent",
                "name",
            ] {
                if let Some(x) = nonempty(v, k) {
                    s.attributes.insert(k.into(), x.into());
                }
            }
            if let Some(f) = v.get("files").filter(|f| f.is_array()) {
                s.attributes.insert("files".into(), f.to_value());
            }
            if other == "retry" {
                s.status = SpanStatus::Error;
            }
            s
        }
    };
    s.parent_id = Some(msg.to_owned());
    out.push(Record::Span(s));
    Ok(())
}

fn tool(v: &Value, id: &str, run: &str, origin: &Origin) -> Result<Span, FormatError> {
    let name = nonempty(v, "tool").ok_or_else(|| shape("tool part without tool name"))?;
    let state = v
        .get("state")
        .filter(|s| s.is_object())
        .ok_or_else(|| shape("tool part without state"))?;
    let mut s = Span::new(id, run, SpanKind::Tool, name, origin.clone());
    s.tool_name = Some(name.to_owned());
    s.tool_call_id = nonempty(v, "callID").map(str::to_owned);
    s.tool_input = state.get("input").map(json_text);
    s.start_ms = time(state, "start");
    s.end_ms = time(state, "end");
    let status = str_of(state, "status").unwrap_or("pending");
    s.status = match status {
        "completed" => SpanStatus::Ok,
        "error" => SpanStatus::Error,
        _ => SpanStatus::Unset,
    };
    s.tool_output = str_of(state, "output")
        .or_else(|| str_of(state, "error"))
        .map(str::to_owned);
    if let Some(t) = nonempty(state, "title") {
        s.attributes.insert("title".into(), t.into());
    }
    if let Some(child) = state.get("metadata").and_then(|m| nonempty(m, "sessionId")) {
        s.attributes.insert("subagent_run_id".into(), child.into());
    }
    Ok(s)
}

/// `opencode export`: the session, then each message with its parts.
fn export(
    info: &Value,
    msgs: &Value,
    origin: &Origin,
    out: &mut Vec<Record>,
) -> Result<(), FormatError> {
    session(info, origin, out)?;
    let Value::Array(msgs) = msgs else {
        return Err(shape("messages is not a list"));
    };
    let mut problems = Problems::default();
    for (i, m) in msgs.iter().enumerate() {
        let Some(mi) = m.get("info") else {
            problems.note(format!("message {} has no info", i + 1));
            continue;
        };
        if let Err(e) = message(mi, origin, out) {
            problems.note(format!("message {}: {e}", i + 1));
        }
        if let Some(Value::Array(parts)) = m.get("parts") {
            for (j, p) in parts.iter().enumerate() {
                if let Err(e) = part(p, origin, out) {
                    problems.note(format!("message {} part {}: {e}", i + 1, j + 1));
                }
            }
        }
    }
    problems.result("opencode", "messages", msgs.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(v: serde_json::Value) -> (Vec<Record>, Result<(), FormatError>) {
        let mut out = Vec::new();
        let r = OpencodeParser.value(&Value::from(v), &Origin::new("p.json", 1), &mut out);
        (out, r)
    }

    #[test]
    fn a_running_tool_part_then_its_completion_share_one_span() {
        let base = json!({"id":"prt_1","sessionID":"ses_1","messageID":"msg_2","type":"tool","callID":"c1","tool":"bash",
            "state":{"status":"running","input":{"command":"ls"},"time":{"start":1000}}});
        let (out, r) = one(base);
        assert!(r.is_ok());
        let Some(Record::Span(s)) = out.last() else {
            panic!("span")
        };
        assert_eq!(
            (s.id.as_str(), s.status, s.parent_id.as_deref()),
            ("prt_1", SpanStatus::Unset, Some("msg_2"))
        );
        let (out, _) = one(
            json!({"id":"prt_1","sessionID":"ses_1","messageID":"msg_2","type":"tool","callID":"c1","tool":"bash",
            "state":{"status":"error","input":{"command":"ls"},"error":"denied","time":{"start":1000,"end":1500}}}),
        );
        let Some(Record::Span(s)) = out.last() else {
            panic!("span")
        };
        assert_eq!(s.status, SpanStatus::Error);
        assert_eq!(s.tool_output.as_deref(), Some("denied"));
        assert_eq!(s.duration_ms(), Some(500));
    }

    #[test]
    fn message_tokens_keep_the_cache_reads_and_writes_apart() {
        // OpenCode's `tokens.input` leaves the cache out (message-v2.ts).
        let (out, r) = one(json!({"id":"msg_2","sessionID":"ses_1","role":"assistant",
            "providerID":"anthropic","modelID":"claude-sonnet-4-5","time":{"created":1000},
            "tokens":{"input":12,"output":300,"reasoning":20,"cache":{"read":9000,"write":400}}}));
        assert!(r.is_ok(), "{r:?}");
        let s = out
            .iter()
            .find_map(|r| match r {
                Record::Span(s) if s.kind == SpanKind::Llm => Some(s),
                _ => None,
            })
            .expect("llm span");
        let u = crate::usage::Usage::of(s).expect("usage");
        assert_eq!(
            (u.input, u.cache_read, u.cache_write, u.output),
            (9412, 9000, 400, 320)
        );
    }

    #[test]
    fn wrong_types_are_shape_errors() {
        assert!(matches!(
            one(json!({"id":"m","sessionID":"s","role":"robot"})).1,
            Err(FormatError::Shape(_))
        ));
        assert!(matches!(
            one(json!({"id":"p","sessionID":"s","messageID":"m","type":"tool","tool":"bash","state":"done"})).1,
            Err(FormatError::Shape(_))
        ));
        let (out, r) = one(
            json!({"id":"ses_1","projectID":"p","title":"New session - 2026-01-01T00:00:00.000Z","time":{"created":5}}),
        );
        assert!(r.is_ok());
        let Some(Record::Run(run)) = out.first() else {
            panic!("run")
        };
        assert_eq!((run.title.as_deref(), run.started_ms), (None, Some(5)));
    }
}
