//! Parser for Claude Code session transcripts (`~/.claude/projects/*/*.jsonl`).
//!
//! Claude Code writes one record per content block; records chain through
//! `uuid`/`parentUuid`. This parser maps them onto a tree a person can read:
//!
//! * run = `sessionId`; a subagent transcript (`isSidechain` + `agentId`) is its
//!   own run `<sessionId>/agent-<agentId>` whose `parent_run_id` is the session;
//! * a real user prompt is a `message` span (id = record `uuid`) and the root of
//!   its turn; the run title is the first one (one line, ≤ 120 chars);
//! * every model response is one `llm` span keyed by `message.id`, carrying the
//!   usage once (input = input + cache creation + cache read tokens), parented
//!   to the turn's prompt;
//! * assistant text and thinking blocks are `message` spans under their `llm` span;
//! * a `tool_use` is a `tool` span (id = tool_use id, input = JSON text of
//!   `input`) under its `llm` span, emitted again with output, end time and
//!   status when the matching `tool_result` arrives (the store merges the two);
//! * compaction (`compact_boundary`, linked by `logicalParentUuid`) and other
//!   `system` records are `event` spans; `summary` records are `event` spans.

use super::common::{content_text, iso_ms, json_text, nonempty, run_update, str_of, title_of};
use super::{Format, FormatError, FormatParser, Record};
use crate::model::{AgentKind, Millis, Origin, Run, Span, SpanKind, SpanStatus};
use serde_json::Value;
use std::collections::HashMap;

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct ClaudeParser {
    /// Record `uuid` → what it maps to, so children find their parent span and turn.
    nodes: HashMap<String, Node>,
    /// `message.id` → tokens already emitted on its llm span.
    messages: HashMap<String, (u64, u64)>,
    /// Open tool calls by tool_use id.
    tools: HashMap<String, PendingTool>,
    /// Runs seen in this file.
    runs: HashMap<String, RunState>,
    /// The run of the most recent record (summaries carry no session id).
    last_run: Option<String>,
    /// Summary records seen before any session record: (text, leafUuid, origin).
    pending_summaries: Vec<(String, String, Origin)>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// The span this record belongs to (its own, or the one it updates).
    span: Option<String>,
    /// The prompt span that opened the turn this record is in.
    turn: Option<String>,
}

#[derive(Debug)]
struct PendingTool {
    name: String,
    parent: String,
    start: Option<Millis>,
    subagent: Option<String>,
}

#[derive(Debug, Default)]
struct RunState {
    titled: bool,
    /// Latest timestamp seen, and the latest one emitted as a run update.
    end: Option<Millis>,
    emitted_end: Option<Millis>,
    /// Records since the last end update.
    since: u32,
    turn: Option<String>,
    source: String,
}

/// A run's end time is re-emitted at turn ends, at `finish`, and at least every this many records.
const END_EVERY: u32 = 256;

/// Everything a record's handler needs about where it sits.
struct Ctx<'a> {
    run: &'a str,
    session: &'a str,
    uuid: Option<&'a str>,
    ts: Option<Millis>,
    parent: Node,
    origin: &'a Origin,
}

impl FormatParser for ClaudeParser {
    fn format(&self) -> Format {
        Format::ClaudeCode
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let ty = str_of(v, "type").ok_or(FormatError::NotATrace)?;
        if ty == "summary" {
            return self.summary(v, origin, out);
        }
        let Some(session) = nonempty(v, "sessionId") else {
            return match ty {
                "user" | "assistant" => Err(FormatError::Shape(
                    "claude-code: record without sessionId".into(),
                )),
                _ => Ok(()), // snapshots and other bookkeeping lines
            };
        };
        if matches!(
            ty,
            "file-history-snapshot" | "queue-operation" | "attachment"
        ) {
            return Ok(());
        }
        let run_id = match (
            v.get("isSidechain").and_then(Value::as_bool),
            nonempty(v, "agentId"),
        ) {
            (Some(true), Some(agent)) => format!("{session}/agent-{agent}"),
            _ => session.to_owned(),
        };
        let ts = str_of(v, "timestamp").and_then(iso_ms);
        self.touch_run(&run_id, session, v, ts, origin, out);
        let uuid = nonempty(v, "uuid");
        let parent = self.parent_node(&run_id, v);
        let cx = Ctx {
            run: &run_id,
            session,
            uuid,
            ts,
            parent,
            origin,
        };
        let node = match ty {
            "user" => self.user(v, &cx, out)?,
            "assistant" => self.assistant(v, &cx, out)?,
            "system" => self.system(v, &cx, out),
            "progress" => {
                self.progress(v, session);
                cx.parent.clone()
            }
            _ => cx.parent.clone(),
        };
        if let Some(t) = &node.turn {
            if let Some(rs) = self.runs.get_mut(&run_id) {
                if rs.turn.as_ref() != Some(t) {
                    rs.turn = Some(t.clone());
                }
            }
        }
        if let Some(u) = uuid {
            self.nodes.insert(u.to_owned(), node);
        }
        self.last_run = Some(run_id);
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        let mut ids: Vec<String> = self.runs.keys().cloned().collect();
        ids.sort();
        for id in ids {
            self.flush_end(&id, out);
        }
        // Summaries in a file that never named its session: keep them under a
        // run named after the leaf they summarise (stable across re-imports).
        for (text, leaf, origin) in std::mem::take(&mut self.pending_summaries) {
            let run = format!("summary-{leaf}");
            out.push(Record::Run(run_update(
                &run,
                AgentKind::ClaudeCode,
                &origin,
            )));
            out.push(Record::Span(summary_span(&run, &leaf, text, origin)));
        }
    }
}

fn summary_span(run: &str, leaf: &str, text: String, origin: Origin) -> Span {
    let mut s = Span::new(
        format!("summary:{leaf}"),
        run,
        SpanKind::Event,
        "summary",
        origin,
    );
    s.text = Some(text);
    s
}

impl ClaudeParser {
    fn summary(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let text = str_of(v, "summary").unwrap_or_default().to_owned();
        let leaf = str_of(v, "leafUuid").unwrap_or_default().to_owned();
        match &self.last_run {
            Some(run) => out.push(Record::Span(summary_span(run, &leaf, text, origin.clone()))),
            None => self.pending_summaries.push((text, leaf, origin.clone())),
        }
        Ok(())
    }

    /// Emits the run on first sight (and held summaries), then end-time updates.
    fn touch_run(
        &mut self,
        run_id: &str,
        session: &str,
        v: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) {
        match self.runs.get_mut(run_id) {
            Some(rs) => {
                if ts.is_some() && ts > rs.end {
                    rs.end = ts;
                    rs.since += 1;
                    if rs.since >= END_EVERY {
                        self.flush_end(run_id, out);
                    }
                }
            }
            None => {
                let mut r = run_update(run_id, AgentKind::ClaudeCode, origin);
                r.started_ms = ts;
                r.ended_ms = ts;
                r.cwd = nonempty(v, "cwd").map(str::to_owned);
                if run_id != session {
                    r.parent_run_id = Some(session.to_owned());
                }
                out.push(Record::Run(r));
                self.runs.insert(
                    run_id.to_owned(),
                    RunState {
                        end: ts,
                        emitted_end: ts,
                        source: origin.path.clone(),
                        ..RunState::default()
                    },
                );
                for (text, leaf, o) in std::mem::take(&mut self.pending_summaries) {
                    out.push(Record::Span(summary_span(run_id, &leaf, text, o)));
                }
            }
        }
    }

    /// Emits the run's latest end time if it moved since the last update.
    fn flush_end(&mut self, run_id: &str, out: &mut Vec<Record>) {
        let Some(rs) = self.runs.get_mut(run_id) else {
            return;
        };
        rs.since = 0;
        if rs.end > rs.emitted_end {
            rs.emitted_end = rs.end;
            out.push(Record::Run(Run {
                id: run_id.to_owned(),
                agent: Some(AgentKind::ClaudeCode),
                source: rs.source.clone(),
                ended_ms: rs.end,
                ..Run::default()
            }));
        }
    }

    /// The node of `parentUuid` (or `logicalParentUuid`), else the run's current turn.
    fn parent_node(&self, run_id: &str, v: &Value) -> Node {
        let found = nonempty(v, "parentUuid")
            .or_else(|| nonempty(v, "logicalParentUuid"))
            .and_then(|p| self.nodes.get(p));
        match found {
            Some(n) => n.clone(),
            None => Node {
                span: None,
                turn: self.runs.get(run_id).and_then(|r| r.turn.clone()),
            },
        }
    }

    fn set_title(&mut self, cx: &Ctx, text: &str, out: &mut Vec<Record>) {
        let Some(rs) = self.runs.get_mut(cx.run) else {
            return;
        };
        if rs.titled {
            return;
        }
        let t = text.trim_start();
        if t.starts_with('<') || t.starts_with("Caveat:") {
            return; // slash-command wrappers and CLI notices are not prompts
        }
        if let Some(title) = title_of(t) {
            rs.titled = true;
            let mut r = run_update(cx.run, AgentKind::ClaudeCode, cx.origin);
            r.title = Some(title);
            out.push(Record::Run(r));
        }
    }

    fn user(&mut self, v: &Value, cx: &Ctx, out: &mut Vec<Record>) -> Result<Node, FormatError> {
        let content = v
            .get("message")
            .and_then(|m| m.get("content"))
            .ok_or_else(|| {
                FormatError::Shape("claude-code: user record without message.content".into())
            })?;
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let compact = flag("isCompactSummary");
        let meta = flag("isMeta");
        let base_id = cx.uuid.unwrap_or("user");
        let mut node = cx.parent.clone();
        // (span id, text) of every text piece; tool results are emitted on the way.
        let mut texts: Vec<(String, std::borrow::Cow<'_, str>)> = Vec::new();
        let mut has_result = false;
        match content {
            Value::String(text) => texts.push((base_id.to_owned(), text.as_str().into())),
            Value::Array(blocks) => {
                for (i, b) in blocks.iter().enumerate() {
                    let id = || {
                        if texts.is_empty() {
                            base_id.to_owned()
                        } else {
                            format!("{base_id}:{i}")
                        }
                    };
                    match str_of(b, "type") {
                        Some("tool_result" | "web_search_tool_result") => {
                            has_result = true;
                            if let Some(id) = self.tool_result(v, b, cx, out) {
                                node.span.get_or_insert(id);
                            }
                        }
                        Some("text") => {
                            let t = str_of(b, "text").unwrap_or_default();
                            texts.push((id(), t.into()));
                        }
                        Some(other) if other != "tool_reference" => {
                            texts.push((id(), format!("[{other}]").into()));
                        }
                        _ => {}
                    }
                }
            }
            _ => {
                return Err(FormatError::Shape(
                    "claude-code: message.content is not text or blocks".into(),
                ))
            }
        }
        let is_prompt = !compact && !meta && !has_result;
        for (n, (id, text)) in texts.into_iter().enumerate() {
            let mut s = Span::new(id, cx.run, SpanKind::Message, "user", cx.origin.clone());
            s.start_ms = cx.ts;
            s.end_ms = cx.ts;
            s.parent_id = if is_prompt {
                None // a prompt is the root of its turn
            } else if compact {
                cx.parent.span.clone() // the compact_boundary event
            } else {
                cx.parent.turn.clone().or_else(|| cx.parent.span.clone())
            };
            if compact {
                s.attributes
                    .insert("compact_summary".into(), Value::Bool(true));
            }
            if meta {
                s.attributes.insert("meta".into(), Value::Bool(true));
            }
            if n == 0 {
                if is_prompt || compact {
                    node.turn = Some(s.id.clone());
                }
                if !has_result {
                    node.span = Some(s.id.clone());
                }
                if is_prompt {
                    self.set_title(cx, &text, out);
                }
            }
            s.text = Some(text.into_owned());
            out.push(Record::Span(s));
        }
        Ok(node)
    }

    /// Emits the second copy of a tool span (output, end, status); returns its id.
    fn tool_result(
        &mut self,
        record: &Value,
        b: &Value,
        cx: &Ctx,
        out: &mut Vec<Record>,
    ) -> Option<String> {
        let id = nonempty(b, "tool_use_id")?;
        let pending = self.tools.remove(id);
        let name = pending.as_ref().map(|p| p.name.as_str()).unwrap_or("");
        let mut s = Span::new(id, cx.run, SpanKind::Tool, name, cx.origin.clone());
        s.tool_call_id = Some(id.to_owned());
        s.tool_output = b
            .get("content")
            .and_then(content_text)
            .or(Some(String::new()));
        s.end_ms = cx.ts;
        let error = b.get("is_error").and_then(Value::as_bool).unwrap_or(false);
        s.status = if error {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        let agent_id = record
            .get("toolUseResult")
            .and_then(|r| nonempty(r, "agentId"))
            .map(|a| format!("{}/agent-{a}", cx.session));
        if let Some(p) = pending {
            s.tool_name = Some(p.name);
            s.parent_id = Some(p.parent);
            s.start_ms = p.start;
            if let Some(sub) = agent_id.or(p.subagent) {
                s.attributes
                    .insert("subagent_run_id".into(), Value::String(sub));
            }
        } else if let Some(sub) = agent_id {
            s.attributes
                .insert("subagent_run_id".into(), Value::String(sub));
        }
        out.push(Record::Span(s));
        Some(id.to_owned())
    }

    fn assistant(
        &mut self,
        v: &Value,
        cx: &Ctx,
        out: &mut Vec<Record>,
    ) -> Result<Node, FormatError> {
        let msg = v.get("message").ok_or_else(|| {
            FormatError::Shape("claude-code: assistant record without message".into())
        })?;
        let llm_id = nonempty(msg, "id")
            .or(cx.uuid)
            .unwrap_or("assistant")
            .to_owned();
        let usage = msg.get("usage");
        let tok = |k: &str| {
            usage
                .and_then(|u| u.get(k))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        let cache_read = tok("cache_read_input_tokens");
        let cache_write = tok("cache_creation_input_tokens");
        let tokens = (
            tok("input_tokens") + cache_read + cache_write,
            tok("output_tokens"),
        );
        let stop = nonempty(msg, "stop_reason");
        let api_error = v
            .get("isApiErrorMessage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let turn = cx.parent.turn.clone();
        let seen = self.messages.get(&llm_id).copied();
        if seen != Some(tokens) || stop.is_some() || api_error {
            let mut s = Span::new(
                llm_id.clone(),
                cx.run,
                SpanKind::Llm,
                "chat",
                cx.origin.clone(),
            );
            s.model = nonempty(msg, "model").map(str::to_owned);
            if seen.is_none() {
                s.start_ms = cx.ts;
                s.parent_id = turn.clone().or_else(|| cx.parent.span.clone());
            }
            s.end_ms = cx.ts;
            if usage.is_some() {
                s.input_tokens = Some(tokens.0);
                s.output_tokens = Some(tokens.1);
                s.attributes
                    .insert("cache_read_input_tokens".into(), cache_read.into());
                s.attributes
                    .insert("cache_creation_input_tokens".into(), cache_write.into());
            }
            if let Some(r) = nonempty(v, "requestId") {
                s.attributes.insert("request_id".into(), r.into());
            }
            if let Some(r) = stop {
                s.attributes.insert("stop_reason".into(), r.into());
            }
            if api_error {
                s.status = SpanStatus::Error;
            }
            out.push(Record::Span(s));
            self.messages.insert(llm_id.clone(), tokens);
            if stop == Some("end_turn") {
                self.flush_end(cx.run, out);
            }
        }
        // Hand-written files reuse the message id as record uuid: keep ids apart.
        let base = cx.uuid.filter(|u| *u != llm_id).unwrap_or("");
        if let Some(Value::Array(blocks)) = msg.get("content") {
            let mut n_text = 0;
            for (i, b) in blocks.iter().enumerate() {
                let ty = str_of(b, "type").unwrap_or_default();
                match ty {
                    "text" | "thinking" => {
                        let text = str_of(b, ty).unwrap_or_default();
                        if text.trim().is_empty() {
                            continue;
                        }
                        let id = if n_text == 0 && !base.is_empty() {
                            base.to_owned()
                        } else {
                            format!("{}:{i}", cx.uuid.unwrap_or(&llm_id))
                        };
                        n_text += 1;
                        let name = if ty == "text" {
                            "assistant"
                        } else {
                            "thinking"
                        };
                        let mut s =
                            Span::new(id, cx.run, SpanKind::Message, name, cx.origin.clone());
                        s.parent_id = Some(llm_id.clone());
                        s.start_ms = cx.ts;
                        s.end_ms = cx.ts;
                        s.text = Some(text.to_owned());
                        out.push(Record::Span(s));
                    }
                    "tool_use" | "server_tool_use" => {
                        let Some(id) = nonempty(b, "id") else {
                            continue;
                        };
                        let name = str_of(b, "name").unwrap_or_default();
                        let mut s = Span::new(id, cx.run, SpanKind::Tool, name, cx.origin.clone());
                        s.parent_id = Some(llm_id.clone());
                        s.start_ms = cx.ts;
                        s.tool_name = Some(name.to_owned());
                        s.tool_call_id = Some(id.to_owned());
                        s.tool_input = b.get("input").map(json_text);
                        s.model = nonempty(msg, "model").map(str::to_owned);
                        out.push(Record::Span(s));
                        self.tools.insert(
                            id.to_owned(),
                            PendingTool {
                                name: name.to_owned(),
                                parent: llm_id.clone(),
                                start: cx.ts,
                                subagent: None,
                            },
                        );
                    }
                    _ => {}
                }
            }
        }
        Ok(Node {
            span: Some(llm_id),
            turn,
        })
    }

    fn system(&mut self, v: &Value, cx: &Ctx, out: &mut Vec<Record>) -> Node {
        let subtype = str_of(v, "subtype").unwrap_or("system");
        if matches!(subtype, "turn_duration" | "stop_hook_summary") {
            self.flush_end(cx.run, out);
        }
        if subtype == "turn_duration" {
            return cx.parent.clone();
        }
        let Some(id) = cx.uuid else {
            return cx.parent.clone();
        };
        let mut s = Span::new(id, cx.run, SpanKind::Event, subtype, cx.origin.clone());
        s.start_ms = cx.ts;
        s.end_ms = cx.ts;
        s.text = nonempty(v, "content").map(str::to_owned);
        s.parent_id = cx.parent.span.clone();
        if subtype == "api_error" || str_of(v, "level") == Some("error") {
            s.status = SpanStatus::Error;
        }
        if let Some(l) = nonempty(v, "logicalParentUuid") {
            s.attributes.insert("logical_parent_uuid".into(), l.into());
        }
        if let Some(m) = v.get("compactMetadata") {
            s.attributes.insert("compact_metadata".into(), m.clone());
        }
        if let Some(Value::Array(hooks)) = v.get("hookInfos") {
            let cmds: Vec<Value> = hooks
                .iter()
                .filter_map(|h| str_of(h, "command"))
                .map(|c| Value::String(c.to_owned()))
                .collect();
            s.attributes
                .insert("hook_commands".into(), Value::Array(cmds));
        }
        out.push(Record::Span(s));
        Node {
            span: Some(id.to_owned()),
            turn: if subtype == "compact_boundary" {
                None
            } else {
                cx.parent.turn.clone()
            },
        }
    }

    /// `agent_progress` names the subagent a Task call started.
    fn progress(&mut self, v: &Value, session: &str) {
        let Some(data) = v.get("data") else { return };
        if str_of(data, "type") != Some("agent_progress") {
            return;
        }
        if let (Some(tool), Some(agent)) =
            (nonempty(v, "parentToolUseID"), nonempty(data, "agentId"))
        {
            if let Some(p) = self.tools.get_mut(tool) {
                if p.subagent.is_none() {
                    p.subagent = Some(format!("{session}/agent-{agent}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
