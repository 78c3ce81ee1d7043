//! Parser for Claude Code session transcripts (`~/.claude/projects/*/*.jsonl`).
//!
//! Claude Code writes one record per content block; records chain through
//! `uuid`/`parentUuid`. This parser maps them onto a tree a person can read:
//!
//! * run = `sessionId`; a subagent transcript (`isSidechain` + `agentId`) is its
//!   own run `<sessionId>/agent-<agentId>` whose `parent_run_id` is the session;
//! * a real user prompt is a `message` span (id = record `uuid`) and the root of
//!   its turn; the run title is the first one (one line, ≤ 120 chars), unless
//!   the session has a title the user set (`custom-title`, latest wins) or one
//!   Claude Code generated (`ai-title`, latest wins), which the store prefers;
//! * every model response is one `llm` span keyed by `message.id`, carrying the
//!   usage once (input = input + cache creation + cache read tokens), parented
//!   to the turn's prompt;
//! * assistant text and thinking blocks are `message` spans under their `llm` span;
//! * a `tool_use` is a `tool` span (id = tool_use id, input = JSON text of
//!   `input`) under its `llm` span, emitted again with output, end time and
//!   status when the matching `tool_result` arrives (the store merges the two);
//! * compaction (`compact_boundary`, linked by `logicalParentUuid`) and other
//!   `system` records are `event` spans; `summary` records are `event` spans;
//! * `cost-state` (the session's own running cost, newer versions) is the
//!   session's `event` span `cost-state`, its latest snapshot winning.
//!
//! The same parser reads the message stream of headless Claude Code
//! (`claude -p --output-format stream-json`, the Agent SDK, CI actions that save
//! it): the same `user`/`assistant`/`system` records with `session_id` instead of
//! `sessionId`, no timestamps or `parentUuid` (a `uuid` only in newer versions),
//! `parent_tool_use_id` naming the Task call a subagent's message belongs to,
//! and a closing `result` record (turns, duration, Claude Code's own cost),
//! which becomes an `event` span.

use super::common::{iso_ms, nonempty, run_update, str_of, title_of};
use super::{Format, FormatError, FormatParser, Record};
use crate::hash::HashMap;
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Millis, Origin, Run, Span, SpanKind, TitleKind};
use std::borrow::Cow;

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
    /// Session titles read before their session's first record: (session, title, kind).
    pending_titles: Vec<(String, String, TitleKind)>,
    /// The line of the last record, and whether lines were skipped: a read
    /// that resumes mid-file (after its primed first line) names sessions
    /// this parser never saw.
    last_line: u64,
    resumed: bool,
    /// Records seen on the current line (a JSON array document is all line 1):
    /// with the line, the id of a stream record that carries no `uuid`.
    on_line: u32,
}

/// A span id held by parser state: shared, so passing a node from record to
/// record copies no text.
type Id = std::sync::Arc<str>;

#[derive(Debug, Clone, Default)]
struct Node {
    /// The span this record belongs to (its own, or the one it updates).
    span: Option<Id>,
    /// The prompt span that opened the turn this record is in.
    turn: Option<Id>,
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
    turn: Option<Id>,
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
        if self.last_line > 0 && origin.line > self.last_line + 1 {
            self.resumed = true;
        }
        if self.last_line == origin.line {
            self.on_line += 1;
        } else {
            self.on_line = 0;
        }
        self.last_line = origin.line;
        let ty = str_of(v, "type").ok_or(FormatError::NotATrace)?;
        if ty == "summary" {
            return self.summary(v, origin, out);
        }
        if let Some(kind) = title_kind(ty) {
            self.named(v, kind, origin, out);
            return Ok(());
        }
        // `session_id`: the headless message stream (see the module doc).
        let stream = v.get("sessionId").is_none() && nonempty(v, "session_id").is_some();
        let Some(session) = nonempty(v, "sessionId").or_else(|| nonempty(v, "session_id")) else {
            return match ty {
                "user" | "assistant" => Err(FormatError::Shape(
                    "claude-code: record without sessionId".into(),
                )),
                _ => Ok(()), // snapshots and other bookkeeping lines
            };
        };
        let kept = matches!(
            ty,
            "user" | "assistant" | "system" | "progress" | "cost-state"
        ) || (stream && ty == "result");
        if !kept {
            // Bookkeeping (snapshots, queue operations, attachments, titles,
            // permission modes, PR links ... and types newer than this
            // parser): no span, and no run of its own.
            return Ok(());
        }
        let run_id = match (
            v.get("isSidechain").and_then(Value::as_bool),
            nonempty(v, "agentId"),
        ) {
            (Some(true), Some(agent)) => Cow::Owned(format!("{session}/agent-{agent}")),
            _ => Cow::Borrowed(session),
        };
        let run_id: &str = &run_id;
        let ts = str_of(v, "timestamp").and_then(iso_ms);
        self.touch_run(run_id, session, v, ts, origin, out);
        let line_id;
        let uuid = match nonempty(v, "uuid") {
            Some(u) => Some(u),
            None if stream => {
                line_id = format!("{session}:{}.{}", origin.line, self.on_line);
                Some(line_id.as_str())
            }
            None => None,
        };
        let parent = self.parent_node(run_id, v);
        let cx = Ctx {
            run: run_id,
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
            "result" => self.result(v, &cx, out),
            "cost-state" => {
                self.cost_state(v, &cx, out);
                cx.parent.clone()
            }
            _ => cx.parent.clone(),
        };
        if let Some(t) = &node.turn {
            if let Some(rs) = self.runs.get_mut(run_id) {
                if rs.turn.as_ref() != Some(t) {
                    rs.turn = Some(t.clone());
                }
            }
        }
        if let Some(u) = uuid {
            self.nodes.insert(u.to_owned(), node);
        }
        if self.last_run.as_deref() != Some(run_id) {
            self.last_run = Some(run_id.to_owned());
        }
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

/// The title kind a Claude Code bookkeeping record type carries, if any.
fn title_kind(ty: &str) -> Option<TitleKind> {
    match ty {
        "custom-title" => Some(TitleKind::Named),
        "ai-title" => Some(TitleKind::Generated),
        _ => None,
    }
}

/// A run update giving `run` its title.
fn titled(run: &str, title: String, kind: TitleKind, origin: &Origin) -> Run {
    let mut r = run_update(run, AgentKind::ClaudeCode, origin);
    r.title = Some(title);
    r.title_kind = kind;
    r
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
                        source: origin.path.to_string(),
                        ..RunState::default()
                    },
                );
                for (text, leaf, o) in std::mem::take(&mut self.pending_summaries) {
                    out.push(Record::Span(summary_span(run_id, &leaf, text, o)));
                }
                if self.pending_titles.iter().any(|(s, ..)| s == run_id) {
                    let (mine, rest) = std::mem::take(&mut self.pending_titles)
                        .into_iter()
                        .partition(|(s, ..)| s == run_id);
                    self.pending_titles = rest;
                    for (_, title, kind) in mine {
                        out.push(Record::Run(titled(run_id, title, kind, origin)));
                    }
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

    /// The node of `parentUuid` (or `logicalParentUuid`); in the headless stream,
    /// the Task call a subagent's message belongs to (`parent_tool_use_id`); else
    /// the run's current turn.
    fn parent_node(&self, run_id: &str, v: &Value) -> Node {
        let found = nonempty(v, "parentUuid")
            .or_else(|| nonempty(v, "logicalParentUuid"))
            .and_then(|p| self.nodes.get(p));
        match found {
            Some(n) => n.clone(),
            None if nonempty(v, "parent_tool_use_id").is_some() => {
                let task = nonempty(v, "parent_tool_use_id").map(Id::from);
                Node {
                    span: task.clone(),
                    turn: task,
                }
            }
            None => Node {
                span: None,
                turn: self.runs.get(run_id).and_then(|r| r.turn.clone()),
            },
        }
    }

    /// A `custom-title` or `ai-title` record: the session's title, emitted at
    /// once when the session was seen in this read (or the read resumed
    /// mid-file, past the session's first records), else held until it is:
    /// a file holding only titles makes no run. A record without `sessionId`
    /// names the session of the record before it.
    fn named(&mut self, v: &Value, kind: TitleKind, origin: &Origin, out: &mut Vec<Record>) {
        let field = match kind {
            TitleKind::Named => "customTitle",
            _ => "aiTitle",
        };
        let Some(title) = nonempty(v, field)
            .or_else(|| nonempty(v, "title"))
            .and_then(title_of)
        else {
            return;
        };
        let session = match nonempty(v, "sessionId") {
            Some(s) => s.to_owned(),
            None => match self.last_run.as_deref() {
                // A subagent's run id is `<session>/agent-<id>`: the title is the session's.
                Some(run) => run.split('/').next().unwrap_or(run).to_owned(),
                None => return,
            },
        };
        if self.resumed || self.runs.contains_key(&session) {
            out.push(Record::Run(titled(&session, title, kind, origin)));
        } else {
            self.pending_titles.push((session, title, kind));
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
}

mod records;

#[cfg(test)]
mod tests;
