//! Parser for Gemini CLI chats (`~/.gemini/tmp/<project hash>/chats/`).
//!
//! Gemini CLI writes a session two ways. Versions before the JSONL logs keep
//! one pretty-printed JSON document per session (`session-<time>-<id8>.json`:
//! `{sessionId, projectHash, startTime, lastUpdated, messages: [...]}`),
//! rewritten whole after every message. Newer versions append to
//! `session-<time>-<id8>.jsonl`: a header line with the same metadata, then
//! one line per message record (a message is appended again, whole, each time
//! it changes: tokens arrive, a tool call completes), `{"$set": {...}}`
//! metadata updates (a `messages` array there is a checkpoint of the whole
//! chat) and `{"$rewindTo": id}` rewinds. Subagents write
//! `chats/<parent session id>/<session id>.jsonl` with `kind: "subagent"`.
//!
//! Mapping (span ids are the records' own ids, so a message appended again or
//! a document read again updates the same spans):
//!
//! * run = `sessionId`; a subagent run's `parent_run_id` is its folder's name;
//!   the title is the first user prompt that is not a slash command;
//! * a `user` message is a `message` span, the root of its turn;
//! * a `gemini` message is one `llm` span (model; tokens: input =
//!   `promptTokenCount`, which includes cached tokens, output = candidates +
//!   thoughts) with its text and thoughts as `message` spans beneath it;
//! * each of its `toolCalls` is a `tool` span (id = the call id, input =
//!   `args`, output = the function response, status from `status`, start at
//!   the message, end at the call's own timestamp); `agentId` links the
//!   subagent run it started;
//! * `info` / `warning` / `error` messages and rewinds are `event` spans.
//!
//! `logs.json` (the prompts of every session of a project) gives run titles
//! and start times only; a `/chat save` checkpoint (`[{role, parts}]`) is a
//! copy of a chat already read from `chats/`, and yields nothing.

use super::common::{file_stem, iso_ms, json_text, nonempty, parent_name, str_of, Problems};
use super::common::{run_update, RunTracker};
use super::{Format, FormatError, FormatParser, Record};
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};

const AGENT: AgentKind = AgentKind::GeminiCli;

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct GeminiParser {
    /// The session id, from the header line or the document.
    run: Option<String>,
    /// The prompt that opened the current turn.
    turn: Option<String>,
    runs: RunTracker,
}

impl FormatParser for GeminiParser {
    fn format(&self) -> Format {
        Format::GeminiCli
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        if let Some(set) = v.get("$set") {
            self.metadata(set, origin, out);
            if let Some(Value::Array(msgs)) = set.get("messages") {
                return self.messages(msgs, origin, out);
            }
            return Ok(());
        }
        if let Some(to) = nonempty(v, "$rewindTo") {
            let run = self.run_id(origin, out);
            let mut s = Span::new(
                format!("rewind-L{}", origin.line),
                &run,
                SpanKind::Event,
                "rewind",
                origin.clone(),
            );
            s.attributes.insert("rewind_to".into(), to.into());
            out.push(Record::Span(s));
            return Ok(());
        }
        if v.get("sessionId").is_some() && v.get("projectHash").is_some() {
            self.metadata(v, origin, out);
            if let Some(msgs) = v.get("messages") {
                let Value::Array(msgs) = msgs else {
                    return Err(shape("messages is not a list"));
                };
                return self.messages(msgs, origin, out);
            }
            return Ok(());
        }
        self.message(v, origin, out)
    }

    fn document(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        match v {
            Value::Array(items) => {
                if items.iter().any(|i| i.get("parts").is_some()) {
                    return Ok(()); // a saved checkpoint: the chat itself is in chats/
                }
                self.prompt_log(items, origin, out)
            }
            _ => self.value(v, origin, out),
        }
    }
}

fn shape(why: &str) -> FormatError {
    FormatError::Shape(format!("gemini-cli: {why}"))
}

impl GeminiParser {
    /// The run of this file: the session id, else (a log read from the middle,
    /// or one whose header was lost) the file's name.
    fn run_id(&mut self, origin: &Origin, out: &mut Vec<Record>) -> String {
        if let Some(r) = &self.run {
            return r.clone();
        }
        let r = file_stem(&origin.path).to_owned();
        self.runs.touch(&r, AGENT, None, None, None, origin, out);
        self.run = Some(r.clone());
        r
    }

    /// A header line, a `$set` update or a whole document's top level.
    fn metadata(&mut self, v: &Value, origin: &Origin, out: &mut Vec<Record>) {
        if let Some(id) = nonempty(v, "sessionId") {
            if self.run.as_deref() != Some(id) {
                self.run = Some(id.to_owned());
            }
        }
        let Some(run) = self.run.clone() else {
            return;
        };
        let mut r = run_update(&run, AGENT, origin);
        r.started_ms = str_of(v, "startTime").and_then(iso_ms);
        r.ended_ms = str_of(v, "lastUpdated").and_then(iso_ms);
        if str_of(v, "kind") == Some("subagent") {
            r.parent_run_id = parent_name(&origin.path)
                .filter(|p| *p != "chats")
                .map(str::to_owned);
        }
        if let Some(Value::Array(dirs)) = v.get("directories") {
            r.cwd = dirs.iter().find_map(Value::as_str).map(str::to_owned);
        }
        self.runs
            .touch(&run, AGENT, r.started_ms, r.ended_ms, None, origin, out);
        if r.parent_run_id.is_some() || r.cwd.is_some() {
            out.push(Record::Run(r));
        }
    }

    /// Every message of a document or checkpoint: the good ones are kept, and
    /// one error names how many could not be read.
    fn messages(
        &mut self,
        msgs: &[Value],
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let mut problems = Problems::default();
        for (i, m) in msgs.iter().enumerate() {
            if let Err(e) = self.message(m, origin, out) {
                problems.note(format!("message {}: {e}", i + 1));
            }
        }
        problems.result("gemini-cli", "messages", msgs.len())
    }

    fn message(
        &mut self,
        m: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        if !m.is_object() {
            return Err(shape("a message is not an object"));
        }
        let id = nonempty(m, "id").ok_or_else(|| shape("message without id"))?;
        let ty = str_of(m, "type").ok_or_else(|| shape("message without type"))?;
        let ts = str_of(m, "timestamp").and_then(iso_ms);
        let run = self.run_id(origin, out);
        let text = m
            .get("content")
            .or_else(|| m.get("parts"))
            .map(parts_text)
            .unwrap_or_default();
        match ty {
            "user" => {
                let prompt = !text.trim_start().starts_with('/');
                let mut s = Span::new(id, &run, SpanKind::Message, "user", origin.clone());
                s.start_ms = ts;
                s.end_ms = ts;
                s.text = Some(text.clone());
                out.push(Record::Span(s));
                self.turn = Some(id.to_owned());
                let title = prompt.then_some(text.as_str());
                self.runs.touch(&run, AGENT, ts, ts, title, origin, out);
            }
            "gemini" | "model" => {
                self.runs.touch(&run, AGENT, ts, ts, None, origin, out);
                self.reply(m, id, ts, &run, &text, origin, out)?;
            }
            other => {
                self.runs.touch(&run, AGENT, ts, ts, None, origin, out);
                let mut s = Span::new(id, &run, SpanKind::Event, other, origin.clone());
                s.parent_id = self.turn.clone();
                s.start_ms = ts;
                s.end_ms = ts;
                s.text = Some(text);
                if other == "error" {
                    s.status = SpanStatus::Error;
                }
                out.push(Record::Span(s));
            }
        }
        Ok(())
    }

    /// A model reply: its llm span, text, thoughts and tool calls.
    #[allow(clippy::too_many_arguments)]
    fn reply(
        &mut self,
        m: &Value,
        id: &str,
        ts: Option<Millis>,
        run: &str,
        text: &str,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let model = nonempty(m, "model");
        let mut llm = Span::new(id, run, SpanKind::Llm, "chat", origin.clone());
        llm.parent_id = self.turn.clone();
        llm.start_ms = ts;
        llm.end_ms = ts;
        llm.model = model.map(str::to_owned);
        if let Some(t) = m.get("tokens").filter(|t| t.is_object()) {
            let n = |k: &str| t.get(k).and_then(Value::as_u64).unwrap_or(0);
            // `input` (promptTokenCount) includes the `cached` tokens.
            crate::usage::Usage::openai(n("input"), n("cached"), n("output") + n("thoughts"))
                .put(&mut llm);
            for (k, name) in [
                ("cached", "cached_input_tokens"),
                ("thoughts", "thoughts_tokens"),
                ("tool", "tool_use_prompt_tokens"),
            ] {
                llm.attributes.insert(name.into(), n(k).into());
            }
        }
        out.push(Record::Span(llm));
        if !text.trim().is_empty() {
            let mut s = Span::new(
                format!("{id}:text"),
                run,
                SpanKind::Message,
                "assistant",
                origin.clone(),
            );
            s.parent_id = Some(id.to_owned());
            s.start_ms = ts;
            s.end_ms = ts;
            s.text = Some(text.to_owned());
            out.push(Record::Span(s));
        }
        if let Some(Value::Array(thoughts)) = m.get("thoughts") {
            let lines: Vec<String> = thoughts
                .iter()
                .filter_map(|t| {
                    let subject = str_of(t, "subject").unwrap_or_default();
                    let desc = str_of(t, "description").unwrap_or_default();
                    let line = format!("{subject}: {desc}");
                    (line.len() > 2).then_some(line)
                })
                .collect();
            if !lines.is_empty() {
                let mut s = Span::new(
                    format!("{id}:thoughts"),
                    run,
                    SpanKind::Message,
                    "thinking",
                    origin.clone(),
                );
                s.parent_id = Some(id.to_owned());
                s.start_ms = ts;
                s.end_ms = ts;
                s.text = Some(lines.join("\n"));
                out.push(Record::Span(s));
            }
        }
        match m.get("toolCalls") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(calls)) => {
                let mut problems = Problems::default();
                for (i, c) in calls.iter().enumerate() {
                    match tool_span(c, i, id, ts, model, run, origin) {
                        Some(s) => out.push(Record::Span(s)),
                        None => problems.note(format!("tool call {} has no name", i + 1)),
                    }
                }
                problems.result("gemini-cli", "tool calls", calls.len())
            }
            Some(_) => Err(shape("toolCalls is not a list")),
        }
    }

    /// `logs.json`: `[{sessionId, messageId, type, message, timestamp}]`.
    fn prompt_log(
        &mut self,
        items: &[Value],
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let mut problems = Problems::default();
        for (i, e) in items.iter().enumerate() {
            let Some(session) = nonempty(e, "sessionId") else {
                problems.note(format!("entry {} has no sessionId", i + 1));
                continue;
            };
            let ts = str_of(e, "timestamp").and_then(iso_ms);
            let prompt = (str_of(e, "type") == Some("user"))
                .then(|| str_of(e, "message"))
                .flatten()
                .filter(|p| !p.trim_start().starts_with('/'));
            self.runs.touch(session, AGENT, ts, ts, prompt, origin, out);
        }
        problems.result("gemini-cli", "log entries", items.len())
    }
}

/// The `n`th (from 0) tool call of message `parent`. A call without an `id` (as
/// session readers' fixtures and hand-edited chats have) is named after its
/// message and place, which a message written again keeps.
fn tool_span(
    c: &Value,
    n: usize,
    parent: &str,
    start: Option<Millis>,
    model: Option<&str>,
    run: &str,
    origin: &Origin,
) -> Option<Span> {
    let name = nonempty(c, "name")?;
    let id = match nonempty(c, "id") {
        Some(id) => id.to_owned(),
        None => format!("{parent}:tool{}", n + 1),
    };
    let mut s = Span::new(id.clone(), run, SpanKind::Tool, name, origin.clone());
    s.parent_id = Some(parent.to_owned());
    s.tool_name = Some(name.to_owned());
    s.tool_call_id = Some(id);
    s.tool_input = c.get("args").map(json_text);
    s.model = model.map(str::to_owned);
    s.start_ms = start;
    s.end_ms = str_of(c, "timestamp").and_then(iso_ms);
    s.status = match str_of(c, "status") {
        Some("success") => SpanStatus::Ok,
        Some("error" | "cancelled") => SpanStatus::Error,
        _ => SpanStatus::Unset,
    };
    s.tool_output = c
        .get("result")
        .and_then(result_text)
        .or_else(|| str_of(c, "resultDisplay").map(str::to_owned));
    if let Some(st) = nonempty(c, "status") {
        s.attributes.insert("status".into(), st.into());
    }
    if let Some(a) = nonempty(c, "agentId") {
        s.attributes.insert("subagent_run_id".into(), a.into());
    }
    if let Some((server, tool)) = mcp_name(name, str_of(c, "displayName")) {
        s.attributes.insert("mcp_server".into(), server.into());
        s.attributes.insert("mcp_tool".into(), tool.into());
    }
    Some(s)
}

/// Gemini names MCP tools `mcp_<server>_<tool>` (older versions `<server>__<tool>`);
/// the display name is the server's own tool name, which settles where the
/// server's name ends.
fn mcp_name<'a>(name: &'a str, display: Option<&'a str>) -> Option<(&'a str, &'a str)> {
    if let Some(rest) = name.strip_prefix("mcp_") {
        if let Some(server) = display
            .and_then(|d| rest.strip_suffix(d))
            .and_then(|s| s.strip_suffix('_'))
            .filter(|s| !s.is_empty())
        {
            return Some((server, &rest[server.len() + 1..]));
        }
        return rest.split_once('_');
    }
    name.split_once("__")
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
}

/// The text of a `PartListUnion`: a string, a part `{text}`, or a list of them.
fn parts_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Array(parts) => {
            let pieces: Vec<String> = parts
                .iter()
                .map(parts_text)
                .filter(|p| !p.is_empty())
                .collect();
            pieces.join("\n")
        }
        Value::Object(_) => match str_of(v, "text") {
            Some(t) => t.to_owned(),
            None => v
                .as_object()
                .and_then(|o| o.keys().next())
                .map(|k| format!("[{k}]"))
                .unwrap_or_default(),
        },
        _ => String::new(),
    }
}

/// A tool call's result parts: each `functionResponse.response` as its
/// `output` (or `error`) text, other parts as their text.
fn result_text(v: &Value) -> Option<String> {
    let parts: &[Value] = match v {
        Value::Array(p) => p,
        Value::Null => return None,
        other => std::slice::from_ref(other),
    };
    let mut out = Vec::new();
    for p in parts {
        match p.get("functionResponse").and_then(|f| f.get("response")) {
            Some(r) => match str_of(r, "output").or_else(|| str_of(r, "error")) {
                Some(t) => out.push(t.to_owned()),
                None => out.push(json_text(r)),
            },
            None => {
                let t = parts_text(p);
                if !t.is_empty() {
                    out.push(t);
                }
            }
        }
    }
    Some(out.join("\n"))
}

#[cfg(test)]
mod tests;
