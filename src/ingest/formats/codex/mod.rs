//! Parser for OpenAI Codex CLI rollouts (`~/.codex/sessions/**/rollout-*.jsonl`).
//!
//! Codex records carry no span ids, so spans are synthesised, stably:
//!
//! * run = `session_meta.payload.id` (else the UUID at the end of the file name);
//! * a turn (`task_started` / `turn_context` `turn_id`) is an `agent` span;
//! * one model request is an `llm` span with id `llm-L<line>` (the line of its
//!   first output item); its tokens come from the `token_usage_record` or the
//!   `event_msg` `token_count` that closes it;
//! * `function_call` / `custom_tool_call` / `local_shell_call` are `tool` spans
//!   with id = `call_id` (arguments kept as text), emitted again with the
//!   output when the matching `*_output` arrives; `web_search_call` is a tool
//!   span `ws-L<line>`;
//! * `response_item` messages and reasoning are `message` spans `msg-L<line>`.
//!
//! Usage is counted once per response ([`usage`]); the lines a spawned or
//! forked thread copies from its parent yield nothing ([`lineage`]). The
//! first `session_meta` of a file names the run: a later one (the parent's,
//! copied) does not switch it.
//!
//! `event_msg` copies of messages (`user_message`, `agent_message`,
//! `agent_reasoning`, `exec_command_end`) are not turned into spans: the
//! `response_item` side is the one kept, so nothing is counted twice. The
//! first `user_message` event gives the run title.

mod lineage;
mod output;
pub(super) mod untyped;
mod usage;

use super::common::{
    content_text, file_stem, iso_ms, nonempty, run_update, str_of, text_of, title_of,
};
use super::{Format, FormatError, FormatParser, Record};
use crate::hash::HashMap;
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};
use lineage::Lineage;
use output::output_text;
use usage::Tokens;

/// Response item types older rollouts wrote without the `{type, payload}` envelope.
const BARE_ITEMS: &[&str] = &[
    "message",
    "reasoning",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "local_shell_call",
    "local_shell_call_output",
    "web_search_call",
];

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct CodexParser {
    run: Option<String>,
    titled: bool,
    /// A user message from `response_item`, used as title if no `user_message` event comes.
    title_fallback: Option<String>,
    turn: Option<String>,
    model: Option<String>,
    /// The llm span being built (first output item of a model request seen).
    open_llm: Option<String>,
    /// The last llm span, and where its tokens came from.
    last_llm: Option<(String, Tokens)>,
    /// The file has shown a `token_usage_record` (its `token_count` twins are not used).
    usage_records: bool,
    /// The run was named by the file's own `session_meta` (a later one is a copy).
    meta_seen: bool,
    /// Which lines are copies of the parent's history.
    lineage: Lineage,
    /// Cumulative total tokens last reported (duplicate `token_count` detection).
    last_total: Option<u64>,
    /// Open calls: call_id → (tool name, parent span, start).
    calls: HashMap<String, (String, Option<String>, Option<Millis>)>,
    end: Option<Millis>,
    emitted_end: Option<Millis>,
    since: u32,
    source: String,
}

/// The run's end time is re-emitted at turn ends, at `finish`, and at least every this many lines.
const END_EVERY: u32 = 256;

impl FormatParser for CodexParser {
    fn format(&self) -> Format {
        Format::Codex
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let ts = str_of(v, "timestamp").and_then(iso_ms);
        if self.meta_seen && self.lineage.copied(v, ts) {
            return Ok(()); // the parent's history: its own file has it
        }
        match (str_of(v, "type"), v.get("payload")) {
            (Some(tag), Some(p)) => self.tagged(tag, p, ts, origin, out),
            // An envelope without its tag: told by what its payload holds.
            (None, Some(p)) => match untyped::envelope_tag(p) {
                Some(tag) => self.tagged(tag, p, ts, origin, out),
                None => Err(FormatError::NotATrace),
            },
            (Some(t), None) => {
                // Older rollouts: bare response items, one per line.
                if !BARE_ITEMS.contains(&t) {
                    return Err(FormatError::NotATrace);
                }
                self.ensure_run(origin, ts, out);
                self.item(v, ts, origin, out)
            }
            (None, None) => {
                if v.get("record_type").is_some() {
                    return Ok(());
                }
                if v.get("id").is_some() && v.get("timestamp").is_some() {
                    // Older rollouts: a bare session header on the first line.
                    if self.meta_seen {
                        return Ok(());
                    }
                    return self.session_meta(v, ts, origin, out);
                }
                if untyped::item_kind(v).is_some() {
                    // A bare response item without its `type`.
                    self.ensure_run(origin, ts, out);
                    return self.item(v, ts, origin, out);
                }
                Err(FormatError::NotATrace)
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        self.flush_end(out);
    }
}

impl CodexParser {
    /// A line of the `{timestamp, type, payload}` envelope, by its tag.
    fn tagged(
        &mut self,
        tag: &str,
        p: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        match tag {
            "session_meta" if self.meta_seen => Ok(()),
            "session_meta" => self.session_meta(p, ts, origin, out),
            tag => {
                self.ensure_run(origin, ts, out);
                match tag {
                    "response_item" => self.item(p, ts, origin, out),
                    "event_msg" => self.event(p, ts, origin, out),
                    "token_usage_record" => {
                        self.usage_record(p, ts, origin, out);
                        Ok(())
                    }
                    "turn_context" => {
                        if let Some(m) = nonempty(p, "model") {
                            if self.model.as_deref() != Some(m) {
                                self.model = Some(m.to_owned());
                            }
                        }
                        if let Some(t) = nonempty(p, "turn_id") {
                            self.start_turn(t, ts, origin, out);
                        }
                        Ok(())
                    }
                    "compacted" => {
                        let run = self.run_id();
                        let mut s = Span::new(
                            format!("compacted-L{}", origin.line),
                            run,
                            SpanKind::Event,
                            "compacted",
                            origin.clone(),
                        );
                        s.parent_id = self.turn.clone();
                        s.start_ms = ts;
                        s.end_ms = ts;
                        s.text = nonempty(p, "message").map(str::to_owned);
                        out.push(Record::Span(s));
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    fn run_id(&self) -> &str {
        self.run.as_deref().unwrap_or_default()
    }

    fn session_meta(
        &mut self,
        p: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let id = nonempty(p, "id")
            .ok_or_else(|| FormatError::Shape("codex: session_meta without id".into()))?;
        let started = str_of(p, "timestamp").and_then(iso_ms).or(ts);
        let mut r = run_update(id, AgentKind::Codex, origin);
        r.started_ms = started;
        r.ended_ms = started;
        r.cwd = nonempty(p, "cwd").map(str::to_owned);
        // Spawned subagents and forks name the thread they came from.
        r.parent_run_id = lineage::parent(p).map(str::to_owned);
        out.push(Record::Run(r));
        self.run = Some(id.to_owned());
        self.meta_seen = true;
        self.lineage = Lineage::of(p, started);
        self.end = started;
        self.emitted_end = started;
        self.source = origin.path.to_string();
        Ok(())
    }

    /// Without a `session_meta` line, the run is the UUID the file name ends with.
    fn ensure_run(&mut self, origin: &Origin, ts: Option<Millis>, out: &mut Vec<Record>) {
        if self.run.is_none() {
            let stem = file_stem(&origin.path);
            let id = if stem.len() >= 36 && stem.is_char_boundary(stem.len() - 36) {
                &stem[stem.len() - 36..]
            } else {
                stem
            };
            let mut r = run_update(id, AgentKind::Codex, origin);
            r.started_ms = ts;
            r.ended_ms = ts;
            out.push(Record::Run(r));
            self.run = Some(id.to_owned());
            self.end = ts;
            self.emitted_end = ts;
            self.source = origin.path.to_string();
        }
        if ts.is_some() && ts > self.end {
            self.end = ts;
            self.since += 1;
            if self.since >= END_EVERY {
                self.flush_end(out);
            }
        }
    }

    /// Emits the run's latest end time if it moved since the last update.
    fn flush_end(&mut self, out: &mut Vec<Record>) {
        self.since = 0;
        if self.run.is_some() && self.end > self.emitted_end {
            self.emitted_end = self.end;
            out.push(Record::Run(crate::model::Run {
                id: self.run_id().to_owned(),
                agent: Some(AgentKind::Codex),
                source: self.source.clone(),
                ended_ms: self.end,
                ..Default::default()
            }));
        }
    }

    fn start_turn(
        &mut self,
        turn: &str,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) {
        if self.turn.as_deref() == Some(turn) {
            return;
        }
        let mut s = Span::new(turn, self.run_id(), SpanKind::Agent, "turn", origin.clone());
        s.start_ms = ts;
        out.push(Record::Span(s));
        self.turn = Some(turn.to_owned());
        self.open_llm = None;
    }

    fn title(&mut self, text: &str, origin: &Origin, out: &mut Vec<Record>) {
        if self.titled {
            return;
        }
        if let Some(t) = title_of(text) {
            self.titled = true;
            let mut r = run_update(self.run_id(), AgentKind::Codex, origin);
            r.title = Some(t);
            out.push(Record::Run(r));
        }
    }

    /// The llm span the current output item belongs to, opening one if needed.
    fn llm(&mut self, ts: Option<Millis>, origin: &Origin, out: &mut Vec<Record>) -> String {
        if let Some(id) = &self.open_llm {
            return id.clone();
        }
        if !self.titled {
            if let Some(t) = self.title_fallback.take() {
                self.title(&t, origin, out);
            }
        }
        let id = format!("llm-L{}", origin.line);
        let mut s = Span::new(
            id.clone(),
            self.run_id(),
            SpanKind::Llm,
            "chat",
            origin.clone(),
        );
        s.parent_id = self.turn.clone();
        s.start_ms = ts;
        s.model = self.model.clone();
        out.push(Record::Span(s));
        self.open_llm = Some(id.clone());
        self.last_llm = Some((id.clone(), Tokens::Missing));
        id
    }

    fn item(
        &mut self,
        p: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        // A payload without `type` (as session readers' fixtures and other
        // rollout writers leave it) is told by its fields.
        let ty = match str_of(p, "type").or_else(|| untyped::item_kind(p)) {
            Some(t) => t,
            None => return Err(FormatError::NotATrace),
        };
        match ty {
            "message" => {
                let role = str_of(p, "role").unwrap_or("unknown");
                let text = p.get("content").and_then(content_text).unwrap_or_default();
                let parent = if role == "assistant" {
                    Some(self.llm(ts, origin, out))
                } else {
                    self.open_llm = None;
                    if role == "user" && !self.titled && self.title_fallback.is_none() {
                        let t = text.trim_start();
                        if !t.starts_with('<') && !t.starts_with('#') {
                            self.title_fallback = Some(text.clone());
                        }
                    }
                    self.turn.clone()
                };
                let mut s = Span::new(
                    format!("msg-L{}", origin.line),
                    self.run_id(),
                    SpanKind::Message,
                    role,
                    origin.clone(),
                );
                s.parent_id = parent;
                s.start_ms = ts;
                s.end_ms = ts;
                s.text = Some(text);
                if let Some(ph) = nonempty(p, "phase") {
                    s.attributes.insert("phase".into(), ph.into());
                }
                out.push(Record::Span(s));
            }
            "reasoning" => {
                let parent = self.llm(ts, origin, out);
                let text = p
                    .get("summary")
                    .and_then(content_text)
                    .filter(|t| !t.is_empty())
                    .or_else(|| p.get("content").and_then(content_text))
                    .unwrap_or_default();
                if !text.trim().is_empty() {
                    let mut s = Span::new(
                        format!("msg-L{}", origin.line),
                        self.run_id(),
                        SpanKind::Message,
                        "reasoning",
                        origin.clone(),
                    );
                    s.parent_id = Some(parent);
                    s.start_ms = ts;
                    s.end_ms = ts;
                    s.text = Some(text);
                    out.push(Record::Span(s));
                }
            }
            "function_call" | "custom_tool_call" | "local_shell_call" => {
                let parent = self.llm(ts, origin, out);
                let call_id = nonempty(p, "call_id")
                    .or_else(|| nonempty(p, "id"))
                    .ok_or_else(|| FormatError::Shape(format!("codex: {ty} without call_id")))?;
                let name = match ty {
                    "local_shell_call" => "local_shell",
                    _ => str_of(p, "name").unwrap_or_default(),
                };
                let input = match ty {
                    "function_call" => p.get("arguments"),
                    "custom_tool_call" => p.get("input"),
                    _ => p.get("action"),
                };
                let mut s = Span::new(call_id, self.run_id(), SpanKind::Tool, name, origin.clone());
                s.parent_id = Some(parent.clone());
                s.start_ms = ts;
                s.tool_name = Some(name.to_owned());
                s.tool_call_id = Some(call_id.to_owned());
                s.tool_input = input.map(text_of);
                s.model = self.model.clone();
                out.push(Record::Span(s));
                self.calls
                    .insert(call_id.to_owned(), (name.to_owned(), Some(parent), ts));
            }
            "function_call_output" | "custom_tool_call_output" | "local_shell_call_output" => {
                self.open_llm = None;
                let call_id = nonempty(p, "call_id")
                    .ok_or_else(|| FormatError::Shape(format!("codex: {ty} without call_id")))?;
                let (name, parent, start) = self.calls.remove(call_id).unwrap_or_default();
                let mut s = Span::new(
                    call_id,
                    self.run_id(),
                    SpanKind::Tool,
                    name.as_str(),
                    origin.clone(),
                );
                if !name.is_empty() {
                    s.tool_name = Some(name);
                }
                s.parent_id = parent;
                s.start_ms = start;
                s.end_ms = ts;
                s.tool_call_id = Some(call_id.to_owned());
                let (text, failed) = output_text(p.get("output"));
                s.tool_output = Some(text);
                s.status = if failed {
                    SpanStatus::Error
                } else {
                    SpanStatus::Ok
                };
                out.push(Record::Span(s));
            }
            "web_search_call" => {
                let parent = self.llm(ts, origin, out);
                let id = format!("ws-L{}", origin.line);
                let mut s = Span::new(
                    id,
                    self.run_id(),
                    SpanKind::Tool,
                    "web_search",
                    origin.clone(),
                );
                s.parent_id = Some(parent);
                s.start_ms = ts;
                s.end_ms = ts;
                s.tool_name = Some("web_search".into());
                s.tool_input = p.get("action").map(text_of);
                s.status = match str_of(p, "status") {
                    Some("completed") => SpanStatus::Ok,
                    Some("failed") => SpanStatus::Error,
                    _ => SpanStatus::Unset,
                };
                out.push(Record::Span(s));
            }
            _ => {}
        }
        Ok(())
    }

    fn event(
        &mut self,
        p: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        match str_of(p, "type").unwrap_or_default() {
            "task_started" => {
                if let Some(t) = nonempty(p, "turn_id") {
                    self.start_turn(t, ts, origin, out);
                }
            }
            "task_complete" | "turn_aborted" => {
                let aborted = str_of(p, "type") == Some("turn_aborted");
                let turn = nonempty(p, "turn_id")
                    .map(str::to_owned)
                    .or_else(|| self.turn.clone());
                if let Some(t) = turn {
                    let mut s =
                        Span::new(t, self.run_id(), SpanKind::Agent, "turn", origin.clone());
                    s.end_ms = ts;
                    s.status = if aborted {
                        SpanStatus::Error
                    } else {
                        SpanStatus::Ok
                    };
                    out.push(Record::Span(s));
                }
                self.open_llm = None;
                self.end = self.end.max(ts);
                self.flush_end(out);
            }
            "user_message" => {
                if let Some(m) = str_of(p, "message") {
                    self.title(m, origin, out);
                }
            }
            "token_count" => self.tokens(p, ts, origin, out),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
