//! Parser for Cline, Roo Code and Kilo Code task histories: each task folder
//! (`.../globalStorage/<extension>/tasks/<task id>/`, or `~/.cline/data/tasks/`)
//! holds `api_conversation_history.json`, the messages sent to the model
//! (Anthropic `{role, content}` blocks, plus `ts`, `modelInfo` and `metrics`
//! in recent versions), and `ui_messages.json`, what the extension showed
//! (`{ts, type: "say"|"ask", say|ask, text}`). Both are rewritten whole as the
//! task runs. The two files are read apart and joined by the run id (the task
//! folder's name), each contributing what only it has, so nothing is counted
//! twice:
//!
//! * from the conversation: the user's messages (`message` spans; the first
//!   `<task>` is the title, `Current Working Directory (...)` in the
//!   environment details the folder), the assistant's replies (`message`
//!   spans named `assistant`, with their model), and every tool call, native
//!   (`tool_use` paired with its `tool_result`, status from `is_error`) or
//!   written as XML in the reply's text (paired with the next
//!   `[tool for '...'] Result:` block); `use_mcp_tool` keeps the MCP server and
//!   tool as attributes and its arguments as the input;
//! * from the UI log: one `llm` span per API request (`api_req_started`:
//!   tokens in + cache writes + cache reads, tokens out, cost, model; a
//!   cancelled or failed stream is an error), errors as `event` spans, and the
//!   run's first and last times;
//! * when the task has no UI log, one `llm` span per assistant message from
//!   the conversation itself (`llm`), the parent of the reply and its calls.
//!
//! Span ids are built from the task id and the message's place (`<task>:m3`,
//! `<task>:m3:x0` for an XML call) or its UI timestamp (`<task>:req<ts>`), so
//! a re-read of a grown file updates the same spans.

mod llm;
mod ui;
mod xml;

use super::common::Problems;
use super::common::{content_text, nonempty, parent_name, run_update, str_of, title_of};
use super::{Format, FormatError, FormatParser, Record};
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};

/// Extension storage folders that tell the forks apart (the rest is Cline).
const FORKS: &[(&str, AgentKind)] = &[
    ("rooveterinaryinc.roo-cline", AgentKind::RooCode),
    ("kilocode.kilo-code", AgentKind::KiloCode),
];

/// UI messages that are failures.
pub(super) const UI_ERRORS: &[&str] = &[
    "error",
    "api_req_failed",
    "diff_error",
    "clineignore_error",
    "command_permission_denied",
    "error_retry",
    "mistake_limit_reached",
    "rooignore_error",
];

/// Parser state (none is needed across documents).
#[derive(Debug, Default)]
pub struct ClineParser;

impl FormatParser for ClineParser {
    fn format(&self) -> Format {
        Format::Cline
    }

    /// Cline's files are whole documents; a single line (a forced
    /// `--format cline` on a line file) has no place in a task.
    fn value(
        &mut self,
        _v: &Value,
        _origin: &Origin,
        _out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        Err(FormatError::Shape(
            "cline: a task history is a whole JSON document, not a line".into(),
        ))
    }

    fn document(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let Value::Array(items) = v else {
            return Err(FormatError::Shape("cline: a task history is a list".into()));
        };
        let task = Task::new(origin);
        out.push(Record::Run(run_update(&task.run, task.agent, origin)));
        let is_ui = items
            .iter()
            .find(|i| i.is_object())
            .is_some_and(|i| i.get("ts").is_some() && i.get("role").is_none());
        if is_ui {
            task.ui(items, out)
        } else {
            task.history(items, out)
        }
    }
}

/// The task a file belongs to.
struct Task<'a> {
    run: String,
    agent: AgentKind,
    origin: &'a Origin,
}

/// A tool call waiting for its result.
struct Pending {
    id: String,
    name: String,
}

impl<'a> Task<'a> {
    fn new(origin: &'a Origin) -> Task<'a> {
        let path = origin.path.as_ref();
        let agent = FORKS
            .iter()
            .find(|(m, _)| path.contains(m))
            .map(|(_, a)| *a)
            .unwrap_or(AgentKind::Cline);
        Task {
            run: parent_name(path).unwrap_or("cline-task").to_owned(),
            agent,
            origin,
        }
    }

    fn span(&self, id: String, kind: SpanKind, name: &str, ts: Option<Millis>) -> Span {
        let mut s = Span::new(id, &self.run, kind, name, self.origin.clone());
        s.start_ms = ts;
        s.end_ms = ts;
        s
    }

    /// `api_conversation_history.json`.
    fn history(&self, items: &[Value], out: &mut Vec<Record>) -> Result<(), FormatError> {
        let mut problems = Problems::default();
        let mut pending: Vec<Pending> = Vec::new();
        let mut titled = false;
        let mut turn: Option<String> = None;
        let with_llm = !llm::ui_log_beside(&self.origin.path);
        let mut cached_before = None;
        let mut last_ts = None;
        for (i, m) in items.iter().enumerate() {
            let id = format!("{}:m{i}", self.run);
            let ts = m.get("ts").and_then(Value::as_i64);
            let sent = last_ts;
            last_ts = ts.or(last_ts);
            let content = m.get("content");
            let blocks: Vec<Value> = match content {
                Some(Value::String(s)) => vec![Value::from(
                    serde_json::json!({"type":"text","text":s.as_ref()}),
                )],
                Some(Value::Array(b)) => b.to_vec(),
                _ => {
                    problems.note(format!("message {}: content is not text or blocks", i + 1));
                    continue;
                }
            };
            match str_of(m, "role") {
                Some("user") => {
                    let text = self.user(&blocks, ts, &mut pending, out);
                    if text.trim().is_empty() {
                        continue;
                    }
                    let mut s = self.span(id.clone(), SpanKind::Message, "user", ts);
                    let is_prompt = !blocks.iter().any(is_result);
                    if is_prompt {
                        turn = Some(id.clone());
                    } else {
                        s.parent_id = turn.clone();
                    }
                    if !titled {
                        titled = true;
                        let mut r = run_update(&self.run, self.agent, self.origin);
                        r.title = title_of(task_text(&text));
                        r.cwd = working_dir(&text).map(str::to_owned);
                        r.started_ms = ts;
                        out.push(Record::Run(r));
                    }
                    s.text = Some(text);
                    out.push(Record::Span(s));
                }
                Some("assistant") => {
                    // A call the reply before left unanswered gets no later answer
                    // (an answer goes to the newest call of its name).
                    pending.clear();
                    let mut parent = turn.clone();
                    if with_llm {
                        let s =
                            self.history_llm(m, &id, sent, ts, turn.as_deref(), &mut cached_before);
                        parent = Some(s.id.clone());
                        out.push(Record::Span(s));
                    }
                    self.assistant(m, &blocks, &id, ts, parent.as_deref(), &mut pending, out);
                }
                _ => problems.note(format!(
                    "message {}: role is neither user nor assistant",
                    i + 1
                )),
            }
        }
        problems.result("cline", "messages", items.len())
    }

    /// A user message: tool results are emitted on the way; the rest of its text is returned.
    fn user(
        &self,
        blocks: &[Value],
        ts: Option<Millis>,
        pending: &mut Vec<Pending>,
        out: &mut Vec<Record>,
    ) -> String {
        let mut text: Vec<String> = Vec::new();
        // The XML result being gathered: (pending call, output so far).
        let mut open: Option<(Pending, String)> = None;
        let close = |open: &mut Option<(Pending, String)>, out: &mut Vec<Record>| {
            if let Some((p, output)) = open.take() {
                out.push(Record::Span(self.result(p, output, ts, xml_failed)));
            }
        };
        for b in blocks {
            match str_of(b, "type") {
                Some("tool_result") => {
                    close(&mut open, out);
                    let Some(call) = nonempty(b, "tool_use_id") else {
                        continue;
                    };
                    let name = take(pending, |p| p.id == call)
                        .map(|p| p.name)
                        .unwrap_or_default();
                    let output = b.get("content").and_then(content_text).unwrap_or_default();
                    let error = b.get("is_error").and_then(Value::as_bool) == Some(true);
                    let p = Pending {
                        id: call.to_owned(),
                        name,
                    };
                    out.push(Record::Span(self.result(p, output, ts, |_| error)));
                }
                Some("text") => {
                    let t = str_of(b, "text").unwrap_or_default();
                    if let Some(name) = not_executed(t) {
                        // A second call in one reply, refused by the extension.
                        close(&mut open, out);
                        if let Some(p) = take(pending, |p| p.name == name) {
                            out.push(Record::Span(self.result(p, t.to_owned(), ts, |_| true)));
                            continue;
                        }
                    }
                    if let Some((name, rest)) = xml::result_header(t) {
                        close(&mut open, out);
                        // `[subagents] Result:` answers `use_subagents`.
                        let suffix = format!("_{name}");
                        let p = take(pending, |p| p.name == name)
                            .or_else(|| take(pending, |p| p.name.ends_with(&suffix)));
                        if let Some(p) = p {
                            open = Some((p, rest.to_owned()));
                            continue;
                        }
                    } else if let Some((_, output)) = open.as_mut() {
                        if !t.starts_with("<environment_details>") {
                            if !output.is_empty() {
                                output.push('\n');
                            }
                            output.push_str(t);
                            continue;
                        }
                        close(&mut open, out);
                    }
                    text.push(t.to_owned());
                }
                Some(other) => text.push(format!("[{other}]")),
                None => {}
            }
        }
        close(&mut open, out);
        if let Some(t) = text.iter().find(|t| t.starts_with(RESUMPTION)) {
            // The calls of the reply before were cut off when the task stopped.
            let why = t.lines().next().unwrap_or(RESUMPTION).to_owned();
            for p in std::mem::take(pending) {
                out.push(Record::Span(self.result(p, why.clone(), ts, |_| true)));
            }
        }
        text.join("\n")
    }

    /// The result copy of a tool span.
    fn result(
        &self,
        p: Pending,
        output: String,
        ts: Option<Millis>,
        failed: impl Fn(&str) -> bool,
    ) -> Span {
        let mut s = Span::new(
            p.id.clone(),
            &self.run,
            SpanKind::Tool,
            &p.name,
            self.origin.clone(),
        );
        s.tool_call_id = Some(p.id);
        s.end_ms = ts;
        s.status = if failed(&output) {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        s.tool_output = Some(output);
        s
    }

    /// An assistant message under `parent` (its `llm` span, else the turn's prompt).
    #[allow(clippy::too_many_arguments)]
    fn assistant(
        &self,
        m: &Value,
        blocks: &[Value],
        id: &str,
        ts: Option<Millis>,
        parent: Option<&str>,
        pending: &mut Vec<Pending>,
        out: &mut Vec<Record>,
    ) {
        let model = m
            .get("modelInfo")
            .and_then(|i| nonempty(i, "modelId"))
            .map(str::to_owned);
        let mut text = Vec::new();
        let mut tools = Vec::new();
        for (j, b) in blocks.iter().enumerate() {
            match str_of(b, "type") {
                Some("text") => {
                    let t = str_of(b, "text").unwrap_or_default();
                    for (k, c) in xml::calls(t).into_iter().enumerate() {
                        let input = serde_json::Value::Object(
                            c.params
                                .into_iter()
                                .map(|(k, v)| (k, serde_json::Value::String(v)))
                                .collect(),
                        );
                        tools.push((format!("{id}:x{j}.{k}"), c.name, input));
                    }
                    text.push(t.to_owned());
                }
                Some("thinking") => {
                    if let Some(t) = str_of(b, "thinking").filter(|t| !t.trim().is_empty()) {
                        let mut s =
                            self.span(format!("{id}:t{j}"), SpanKind::Message, "thinking", ts);
                        s.parent_id = Some(id.to_owned());
                        s.text = Some(t.to_owned());
                        out.push(Record::Span(s));
                    }
                }
                Some("tool_use") => {
                    if let (Some(call), Some(name)) = (nonempty(b, "id"), nonempty(b, "name")) {
                        let input = b.get("input").map(|i| i.to_value()).unwrap_or_default();
                        tools.push((call.to_owned(), name.to_owned(), input));
                    }
                }
                _ => {}
            }
        }
        let mut s = self.span(id.to_owned(), SpanKind::Message, "assistant", ts);
        s.parent_id = parent.map(str::to_owned);
        s.model = model.clone();
        s.text = Some(text.join("\n"));
        if let Some(metrics) = m.get("metrics").filter(|x| x.is_object()) {
            s.attributes.insert("metrics".into(), metrics.to_value());
        }
        if let Some(r) = nonempty(m, "id") {
            s.attributes.insert("response_id".into(), r.into());
        }
        out.push(Record::Span(s));
        for (call, name, input) in tools {
            let mut t = self.span(call.clone(), SpanKind::Tool, &name, ts);
            t.end_ms = None;
            t.parent_id = Some(id.to_owned());
            t.tool_name = Some(name.clone());
            t.tool_call_id = Some(call.clone());
            t.model = model.clone();
            t.tool_input = Some(mcp_input(&name, input, &mut t));
            out.push(Record::Span(t));
            pending.push(Pending { id: call, name });
        }
    }
}

/// `use_mcp_tool`: the server and tool become attributes and the input is
/// the MCP arguments themselves (parsed when they were JSON text).
fn mcp_input(name: &str, input: serde_json::Value, s: &mut Span) -> String {
    if name != "use_mcp_tool" {
        return input.to_string();
    }
    let get = |k: &str| {
        input
            .get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    if let (Some(server), Some(tool)) = (get("server_name"), get("tool_name")) {
        s.attributes.insert("mcp_server".into(), server.into());
        s.attributes.insert("mcp_tool".into(), tool.into());
    }
    match input.get("arguments") {
        Some(serde_json::Value::String(a)) => a.clone(),
        Some(a) => a.to_string(),
        None => input.to_string(),
    }
}

/// An XML tool result that reports a failure.
fn xml_failed(output: &str) -> bool {
    let t = output.trim_start();
    t.starts_with("The user denied this operation")
        || t.starts_with("The tool execution failed")
        || t.starts_with("Error")
        || t.starts_with("[ERROR]")
}

/// How Cline opens the user message of a task resumed after it stopped.
const RESUMPTION: &str = "[TASK RESUMPTION]";

/// `Tool [name] was not executed because ...`: the tool a refusal names.
fn not_executed(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("Tool [")?;
    let (name, rest) = rest.split_once(']')?;
    rest.starts_with(" was not executed").then_some(name)
}

fn is_result(b: &Value) -> bool {
    str_of(b, "type") == Some("tool_result")
        || str_of(b, "text")
            .is_some_and(|t| xml::result_header(t).is_some() || not_executed(t).is_some())
}

/// Removes and returns the first pending call matching `f`.
fn take(pending: &mut Vec<Pending>, f: impl Fn(&Pending) -> bool) -> Option<Pending> {
    let i = pending.iter().position(f)?;
    Some(pending.remove(i))
}

/// The task inside `<task>...</task>` (the first prompt), else the text.
fn task_text(text: &str) -> &str {
    text.split_once("<task>")
        .and_then(|(_, r)| r.split_once("</task>"))
        .map(|(t, _)| t)
        .unwrap_or(text)
}

/// The working directory the environment details name.
fn working_dir(text: &str) -> Option<&str> {
    for marker in [
        "Current Working Directory (",
        "Current Workspace Directory (",
    ] {
        if let Some((_, rest)) = text.split_once(marker) {
            return rest
                .split_once(')')
                .map(|(d, _)| d)
                .filter(|d| !d.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests;
