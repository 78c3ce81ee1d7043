//! Parser for GitHub Copilot CLI session state
//! (`~/.copilot/session-state/<session>/events.jsonl`, older versions
//! `~/.copilot/session-state/<session>.jsonl`).
//!
//! Each line is one event `{type, data, id, timestamp, parentId}`; the shapes
//! are the ones `@github/copilot-sdk` generates from the CLI's schema
//! (`nodejs/src/generated/session-events.ts`). Mapping:
//!
//! * run = `session.start`'s `sessionId` (else the session folder's or file's
//!   name); `context.cwd` is the working directory; events that carry a
//!   `parentToolCallId` belong to the subagent that tool call started: run
//!   `<session>/agent-<tool call id>`, linked to the session as its parent, and
//!   the starting call's span names it (`subagent_run_id`);
//! * `user.message` is a `message` span (id = event id), the root of its turn;
//!   the first one titles the run;
//! * `assistant.message` is an `llm` span (id = `messageId`; model; output
//!   tokens, the only ones the CLI writes per reply) with its text and
//!   reasoning as `message` spans beneath it; each `toolRequests` entry opens
//!   a `tool` span (id = `toolCallId`, input = `arguments`, MCP server and tool
//!   kept as attributes);
//! * `tool.execution_start` / `tool.execution_complete` fill in the same tool
//!   span: start, end, `success` as the status, `result.content` (or the
//!   error's message) as the output;
//! * `session.shutdown` is an `event` span carrying the input tokens of the
//!   whole session (`modelMetrics[*].usage.inputTokens`, cache included), which
//!   the CLI writes nowhere else; errors, warnings, aborts, truncation,
//!   compaction and hooks are `event` spans. `assistant.usage` is ephemeral
//!   (never written to disk) and so not expected here.

use super::common::{file_name, file_stem, iso_ms, json_text, nonempty, parent_name, str_of};
use super::common::{run_update, RunTracker};
use super::{Format, FormatError, FormatParser, Record};
use crate::ingest::formats::json::Value;
use crate::model::{AgentKind, Millis, Origin, Span, SpanKind, SpanStatus};

const AGENT: AgentKind = AgentKind::CopilotCli;

/// Parser state for one file of this format.
#[derive(Debug, Default)]
pub struct CopilotParser {
    session: Option<String>,
    /// The prompt that opened the current turn, per run.
    turns: crate::hash::HashMap<String, String>,
    /// The model last selected or reported.
    model: Option<String>,
    runs: RunTracker,
}

impl FormatParser for CopilotParser {
    fn format(&self) -> Format {
        Format::CopilotCli
    }

    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let ty = str_of(v, "type").ok_or(FormatError::NotATrace)?;
        let data = v.get("data").unwrap_or(&Value::Null);
        if !data.is_object() && !data.is_null() {
            return Err(FormatError::Shape(
                "copilot-cli: data is not an object".into(),
            ));
        }
        let ts = str_of(v, "timestamp").and_then(iso_ms);
        let event_id = nonempty(v, "id")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("e-L{}", origin.line));
        if ty == "session.start" || ty == "session.resume" {
            return self.start(data, ts, origin, out);
        }
        let run = self.run_of(data, ts, origin, out);
        let cx = Cx {
            run: &run,
            ts,
            origin,
            event_id: &event_id,
        };
        match ty {
            "session.model_change" => {
                if let Some(m) = nonempty(data, "newModel") {
                    self.model = Some(m.to_owned());
                }
            }
            "assistant.turn_start" => {
                if let Some(m) = nonempty(data, "model") {
                    self.model = Some(m.to_owned());
                }
            }
            "user.message" => self.user(data, &cx, out),
            "system.message" => {
                let mut s = cx.span(&event_id, SpanKind::Message, "system");
                s.text = str_of(data, "content").map(str::to_owned);
                out.push(Record::Span(s));
            }
            "assistant.message" => self.assistant(data, &cx, out)?,
            "assistant.reasoning" => {
                let id = nonempty(data, "reasoningId").unwrap_or(&event_id);
                let mut s = cx.span(id, SpanKind::Message, "thinking");
                s.parent_id = self.turns.get(&run).cloned();
                s.text = str_of(data, "content").map(str::to_owned);
                out.push(Record::Span(s));
            }
            "tool.execution_start" => {
                let s = self.tool_start(data, &cx)?;
                out.push(Record::Span(s));
            }
            "tool.execution_complete" => out.push(Record::Span(tool_end(data, &cx)?)),
            "subagent.started" | "subagent.completed" | "subagent.failed" => {
                self.subagent(ty, data, &cx, out)
            }
            "session.shutdown" => out.push(Record::Span(shutdown(data, &cx))),
            "assistant.turn_end" | "assistant.message_delta" | "assistant.streaming_delta" => {}
            other => {
                if let Some(s) = event(other, data, &cx) {
                    out.push(Record::Span(s));
                }
            }
        }
        Ok(())
    }
}

/// Where one event sits.
struct Cx<'a> {
    run: &'a str,
    ts: Option<Millis>,
    origin: &'a Origin,
    event_id: &'a str,
}

impl Cx<'_> {
    fn span(&self, id: &str, kind: SpanKind, name: &str) -> Span {
        let mut s = Span::new(id, self.run, kind, name, self.origin.clone());
        s.start_ms = self.ts;
        s.end_ms = self.ts;
        s
    }
}

impl CopilotParser {
    fn start(
        &mut self,
        data: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        if let Some(id) = nonempty(data, "sessionId") {
            self.session = Some(id.to_owned());
        }
        if let Some(m) = nonempty(data, "selectedModel") {
            self.model = Some(m.to_owned());
        }
        let run = self.session_id(origin);
        let start = str_of(data, "startTime").and_then(iso_ms).or(ts);
        let mut r = run_update(&run, AGENT, origin);
        r.started_ms = start;
        r.cwd = data
            .get("context")
            .and_then(|c| nonempty(c, "cwd"))
            .map(str::to_owned);
        out.push(Record::Run(r));
        self.runs.touch(&run, AGENT, start, ts, None, origin, out);
        Ok(())
    }

    /// The session id, else the session folder's name (`<id>/events.jsonl`)
    /// or the file's (`<id>.jsonl`).
    fn session_id(&mut self, origin: &Origin) -> String {
        if let Some(s) = &self.session {
            return s.clone();
        }
        let path = &origin.path;
        let id = if file_name(path).starts_with("events.") {
            parent_name(path).unwrap_or("copilot-session")
        } else {
            file_stem(path)
        };
        self.session = Some(id.to_owned());
        id.to_owned()
    }

    /// The run an event belongs to (a subagent's when it names its parent
    /// tool call), announced on first sight and kept up to date.
    fn run_of(
        &mut self,
        data: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> String {
        let session = self.session_id(origin);
        match nonempty(data, "parentToolCallId") {
            Some(call) => {
                let run = subagent_run(&session, call);
                self.runs.touch(&run, AGENT, ts, ts, None, origin, out);
                let mut r = run_update(&run, AGENT, origin);
                r.parent_run_id = Some(session);
                out.push(Record::Run(r));
                run
            }
            None => {
                self.runs.touch(&session, AGENT, ts, ts, None, origin, out);
                session
            }
        }
    }

    fn user(&mut self, data: &Value, cx: &Cx, out: &mut Vec<Record>) {
        let text = str_of(data, "content").unwrap_or_default();
        let mut s = cx.span(cx.event_id, SpanKind::Message, "user");
        s.text = Some(text.to_owned());
        if let Some(Value::Array(a)) = data.get("attachments") {
            if !a.is_empty() {
                s.attributes
                    .insert("attachments".into(), data["attachments"].to_value());
            }
        }
        out.push(Record::Span(s));
        self.turns.insert(cx.run.to_owned(), cx.event_id.to_owned());
        self.runs
            .touch(cx.run, AGENT, cx.ts, cx.ts, Some(text), cx.origin, out);
    }

    fn assistant(
        &mut self,
        data: &Value,
        cx: &Cx,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let id = nonempty(data, "messageId")
            .unwrap_or(cx.event_id)
            .to_owned();
        let model = nonempty(data, "model")
            .map(str::to_owned)
            .or_else(|| self.model.clone());
        let mut llm = cx.span(&id, SpanKind::Llm, "chat");
        llm.parent_id = self.turns.get(cx.run).cloned();
        llm.model = model.clone();
        llm.output_tokens = data.get("outputTokens").and_then(Value::as_u64);
        for k in ["requestId", "apiCallId", "interactionId", "turnId"] {
            if let Some(x) = nonempty(data, k) {
                llm.attributes.insert(k.into(), x.into());
            }
        }
        out.push(Record::Span(llm));
        for (suffix, key, name) in [
            ("text", "content", "assistant"),
            ("reasoning", "reasoningText", "thinking"),
        ] {
            if let Some(t) = str_of(data, key).filter(|t| !t.trim().is_empty()) {
                let mut s = cx.span(&format!("{id}:{suffix}"), SpanKind::Message, name);
                s.parent_id = Some(id.clone());
                s.text = Some(t.to_owned());
                out.push(Record::Span(s));
            }
        }
        match data.get("toolRequests") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(reqs)) => {
                for r in reqs {
                    let (Some(call), Some(name)) = (nonempty(r, "toolCallId"), nonempty(r, "name"))
                    else {
                        continue;
                    };
                    let mut s = cx.span(call, SpanKind::Tool, name);
                    s.end_ms = None;
                    s.parent_id = Some(id.clone());
                    s.tool_name = Some(name.to_owned());
                    s.tool_call_id = Some(call.to_owned());
                    s.tool_input = r.get("arguments").map(arguments_text);
                    s.model = model.clone();
                    mcp_attributes(r, &mut s);
                    for k in ["intentionSummary", "toolTitle"] {
                        if let Some(x) = nonempty(r, k) {
                            s.attributes.insert(k.into(), x.into());
                        }
                    }
                    out.push(Record::Span(s));
                }
                Ok(())
            }
            Some(_) => Err(FormatError::Shape(
                "copilot-cli: toolRequests is not a list".into(),
            )),
        }
    }

    fn tool_start(&self, data: &Value, cx: &Cx) -> Result<Span, FormatError> {
        let call = nonempty(data, "toolCallId").ok_or_else(|| {
            FormatError::Shape("copilot-cli: tool event without toolCallId".into())
        })?;
        let name = nonempty(data, "toolName").unwrap_or_default();
        let mut s = cx.span(call, SpanKind::Tool, name);
        s.end_ms = None;
        s.tool_call_id = Some(call.to_owned());
        if !name.is_empty() {
            s.tool_name = Some(name.to_owned());
        }
        s.tool_input = data.get("arguments").map(arguments_text);
        s.model = nonempty(data, "model").map(str::to_owned);
        mcp_attributes(data, &mut s);
        Ok(s)
    }

    fn subagent(&mut self, ty: &str, data: &Value, cx: &Cx, out: &mut Vec<Record>) {
        let Some(call) = nonempty(data, "toolCallId") else {
            return;
        };
        let session = self.session_id(cx.origin);
        let child = subagent_run(&session, call);
        // The tool call that started the subagent names the run it became.
        let mut s = Span::new(call, cx.run, SpanKind::Tool, "", cx.origin.clone());
        s.tool_call_id = Some(call.to_owned());
        s.attributes
            .insert("subagent_run_id".into(), child.clone().into());
        if let Some(a) = nonempty(data, "agentName") {
            s.attributes.insert("subagent".into(), a.into());
        }
        out.push(Record::Span(s));
        let mut r = run_update(&child, AGENT, cx.origin);
        r.parent_run_id = Some(session);
        if ty == "subagent.started" {
            r.started_ms = cx.ts;
            r.title = nonempty(data, "agentDescription")
                .or_else(|| nonempty(data, "agentDisplayName"))
                .and_then(super::common::title_of);
        } else {
            r.ended_ms = cx.ts;
        }
        out.push(Record::Run(r));
    }
}

/// The run of the subagent a tool call started.
fn subagent_run(session: &str, call: &str) -> String {
    format!("{session}/agent-{call}")
}

/// Tool arguments: an object as JSON text, a string (already JSON text) as it is.
fn arguments_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => json_text(other),
    }
}

fn mcp_attributes(v: &Value, s: &mut Span) {
    if let Some(server) = nonempty(v, "mcpServerName") {
        s.attributes.insert("mcp_server".into(), server.into());
        if let Some(t) = nonempty(v, "mcpToolName") {
            s.attributes.insert("mcp_tool".into(), t.into());
        }
    }
}

fn tool_end(data: &Value, cx: &Cx) -> Result<Span, FormatError> {
    let call = nonempty(data, "toolCallId")
        .ok_or_else(|| FormatError::Shape("copilot-cli: tool event without toolCallId".into()))?;
    let mut s = Span::new(call, cx.run, SpanKind::Tool, "", cx.origin.clone());
    s.tool_call_id = Some(call.to_owned());
    s.end_ms = cx.ts;
    s.model = nonempty(data, "model").map(str::to_owned);
    let ok = data.get("success").and_then(Value::as_bool);
    // A completion without `success` (some CLI versions write only the
    // telemetry) failed only if it names an error.
    s.status = match ok {
        Some(true) => SpanStatus::Ok,
        Some(false) => SpanStatus::Error,
        None if data.get("error").is_some_and(|e| !e.is_null()) => SpanStatus::Error,
        None => SpanStatus::Ok,
    };
    let result = data.get("result");
    s.tool_output = result
        .and_then(|r| str_of(r, "content"))
        .or_else(|| data.get("error").and_then(|e| str_of(e, "message")))
        .or_else(|| str_of(data, "output"))
        .map(str::to_owned)
        .or(Some(String::new()));
    if let Some(e) = data.get("error").and_then(|e| str_of(e, "code")) {
        s.attributes.insert("error.code".into(), e.into());
    }
    Ok(s)
}

/// The session's closing totals: input tokens summed over models.
fn shutdown(data: &Value, cx: &Cx) -> Span {
    let mut s = cx.span(cx.event_id, SpanKind::Event, "shutdown");
    let mut input = 0u64;
    let mut any = false;
    if let Some(Value::Object(models)) = data.get("modelMetrics") {
        for (_, m) in models.iter() {
            if let Some(n) = m
                .get("usage")
                .and_then(|u| u.get("inputTokens"))
                .and_then(Value::as_u64)
            {
                input += n;
                any = true;
            }
        }
        s.attributes
            .insert("model_metrics".into(), data["modelMetrics"].to_value());
    }
    if any {
        s.input_tokens = Some(input);
    }
    for k in [
        "shutdownType",
        "currentModel",
        "totalPremiumRequests",
        "totalApiDurationMs",
    ] {
        if let Some(x) = data.get(k).filter(|x| !x.is_null()) {
            s.attributes.insert(k.into(), x.to_value());
        }
    }
    if nonempty(data, "errorReason").is_some() {
        s.status = SpanStatus::Error;
    }
    s
}

/// Other events worth keeping, as `event` spans.
fn event(ty: &str, data: &Value, cx: &Cx) -> Option<Span> {
    let (name, error) = match ty {
        "session.error" | "model.call_failure" => (ty, true),
        "abort" => (ty, true),
        "session.warning"
        | "session.info"
        | "session.truncation"
        | "session.compaction_start"
        | "session.compaction_complete"
        | "session.snapshot_rewind"
        | "session.handoff"
        | "session.task_complete"
        | "skill.invoked"
        | "hook.start"
        | "hook.end"
        | "permission.requested"
        | "system.notification" => (ty, false),
        _ => return None,
    };
    let mut s = cx.span(cx.event_id, SpanKind::Event, name);
    s.text = str_of(data, "message")
        .or_else(|| str_of(data, "content"))
        .or_else(|| str_of(data, "reason"))
        .map(str::to_owned);
    if error || data.get("success").and_then(Value::as_bool) == Some(false) {
        s.status = SpanStatus::Error;
    }
    if let Some(o) = data.as_object() {
        for (k, v) in o.iter() {
            let small = matches!(v, Value::String(t) if t.len() <= 200)
                || matches!(v, Value::Number(_) | Value::Bool(_));
            if small && !matches!(k, "message" | "content" | "stack") {
                s.attributes.insert(k.to_owned(), v.to_value());
            }
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn session_id_falls_back_to_the_folder_or_file_name() {
        let mut p = CopilotParser::default();
        assert_eq!(
            p.session_id(&Origin::new(
                "/h/.copilot/session-state/abc/events.jsonl",
                3
            )),
            "abc"
        );
        let mut p = CopilotParser::default();
        assert_eq!(p.session_id(&Origin::new("/s/old-id.jsonl", 1)), "old-id");
    }

    #[test]
    fn a_completion_with_only_telemetry_succeeded_and_the_closing_result_is_no_error() {
        let mut p = CopilotParser::default();
        let mut out = Vec::new();
        for (i, l) in [
            json!({"type":"session.start","data":{"sessionId":"S","copilotVersion":"1.0.63","context":{"cwd":"/w"}},"id":"e0","timestamp":"2026-06-18T19:13:41Z"}),
            json!({"type":"tool.execution_start","data":{"toolCallId":"c1","toolName":"create","arguments":{"path":"/w/h.txt","file_text":"hi"}},"id":"e1","timestamp":"2026-06-18T19:13:44Z"}),
            json!({"type":"tool.execution_complete","data":{"toolCallId":"c1","toolTelemetry":{"metrics":{"linesAdded":1}}},"id":"e2","timestamp":"2026-06-18T19:13:45Z"}),
            json!({"type":"tool.execution_start","data":{"toolCallId":"c2","toolName":"bash","arguments":{"command":"make"}},"id":"e3","timestamp":"2026-06-18T19:13:46Z"}),
            json!({"type":"tool.execution_complete","data":{"toolCallId":"c2","error":{"message":"denied"}},"id":"e4","timestamp":"2026-06-18T19:13:47Z"}),
            json!({"type":"result","exitCode":0,"usage":{"premiumRequests":1}}),
        ]
        .into_iter()
        .enumerate()
        {
            let o = Origin::new("x/S/events.jsonl", i as u64 + 1);
            p.value(&Value::from(l), &o, &mut out).expect("event");
        }
        let last = |id: &str| {
            out.iter()
                .rev()
                .find_map(|r| match r {
                    Record::Span(s) if s.id == id => Some(s.status),
                    _ => None,
                })
                .expect("span")
        };
        assert_eq!(
            (last("c1"), last("c2")),
            (SpanStatus::Ok, SpanStatus::Error)
        );
    }

    #[test]
    fn a_subagent_is_its_own_run_under_the_session() {
        let mut p = CopilotParser::default();
        let mut out = Vec::new();
        for (i, l) in [
            json!({"type":"session.start","data":{"sessionId":"S","context":{"cwd":"/w"}},"id":"e1","timestamp":"2026-03-26T17:50:34Z"}),
            json!({"type":"subagent.started","data":{"toolCallId":"t1","agentName":"explore","agentDescription":"Explore the repo"},"id":"e2","timestamp":"2026-03-26T17:50:35Z"}),
            json!({"type":"tool.execution_start","data":{"parentToolCallId":"t1","toolCallId":"t2","toolName":"view","arguments":{"path":"/w/a"}},"id":"e3","timestamp":"2026-03-26T17:50:36Z"}),
            json!({"type":"tool.execution_complete","data":{"parentToolCallId":"t1","toolCallId":"t2","success":false,"error":{"message":"nope"}},"id":"e4","timestamp":"2026-03-26T17:50:37Z"}),
        ]
        .into_iter()
        .enumerate()
        {
            let o = Origin::new("x/S/events.jsonl", i as u64 + 1);
            p.value(&Value::from(l), &o, &mut out).expect("event");
        }
        let child = out.iter().find_map(|r| match r {
            Record::Run(r) if r.id == "S/agent-t1" && r.title.is_some() => Some(r),
            _ => None,
        });
        assert_eq!(child.and_then(|r| r.parent_run_id.as_deref()), Some("S"));
        let t2: Vec<&Span> = out
            .iter()
            .filter_map(|r| match r {
                Record::Span(s) if s.id == "t2" => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(t2.len(), 2);
        assert!(t2.iter().all(|s| s.run_id == "S/agent-t1"));
        assert_eq!(t2[1].status, SpanStatus::Error);
        assert_eq!(t2[1].tool_output.as_deref(), Some("nope"));
    }
}
