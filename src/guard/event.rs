//! One hook event, whatever agent sent it: what happened (a tool is about to
//! run, a tool ran, a prompt was submitted, a session started or ended), in
//! which session, with the tool's name, input and output as raw text.
//!
//! Per-agent parsers (`agents/`) build a [`GuardEvent`]; [`GuardEvent::span`]
//! turns it into the span the judge scans and the store keeps. Raw text lives
//! here in memory only: the judge redacts before anything is written.

use super::agents::Agent;
use crate::model::{Millis, Origin, Run, Span, SpanKind, SpanStatus};
use serde_json::{Map, Value};

/// What an event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A tool is about to run: the guard decides.
    PreTool,
    /// A tool ran (`failed`: it reported an error): recorded, so chains see it.
    PostTool {
        failed: bool,
    },
    /// The user submitted a prompt.
    Prompt,
    SessionStart,
    SessionEnd,
    /// Anything else the agent sends (stop, notifications): recorded as an event.
    Other,
}

impl EventKind {
    /// True for events whose answer can stop what is about to happen.
    pub fn decides(self) -> bool {
        matches!(self, EventKind::PreTool | EventKind::Prompt)
    }
}

/// One event, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardEvent {
    pub agent: Agent,
    /// The agent's own event name (`PreToolUse`, `beforeShellExecution`, `BeforeTool`).
    pub name: String,
    pub kind: EventKind,
    /// The agent's session (conversation, thread): the run id.
    pub session: String,
    pub cwd: Option<String>,
    pub model: Option<String>,
    /// Tool name as the detector reads it (MCP tools as `mcp__<server>__<tool>`).
    pub tool_name: Option<String>,
    /// Tool arguments as JSON text.
    pub tool_input: Option<String>,
    /// Tool result (or error) text.
    pub tool_output: Option<String>,
    /// The agent's id for this tool call, when it sends one.
    pub call_id: Option<String>,
    /// The user's prompt.
    pub prompt: Option<String>,
    /// Milliseconds the tool ran, when the agent says.
    pub duration_ms: Option<Millis>,
    /// Small facts worth keeping on the span (start source, end reason, mode).
    pub detail: Map<String, Value>,
}

impl GuardEvent {
    /// An event of `kind` in `session`, everything else empty.
    pub fn new(agent: Agent, name: &str, kind: EventKind, session: &str) -> GuardEvent {
        GuardEvent {
            agent,
            name: name.to_string(),
            kind,
            session: session.to_string(),
            cwd: None,
            model: None,
            tool_name: None,
            tool_input: None,
            tool_output: None,
            call_id: None,
            prompt: None,
            duration_ms: None,
            detail: Map::new(),
        }
    }

    /// Text that identifies a tool call between its before and after events
    /// (tool name and input), for agents that send no call id.
    pub fn pair_text(&self) -> String {
        format!(
            "{}\u{0}{}",
            self.tool_name.as_deref().unwrap_or(""),
            canonical(self.tool_input.as_deref().unwrap_or(""))
        )
    }

    /// Files and folders the event touches: its working folder and the path
    /// arguments of its tool call (for `[[guard.paths]]`).
    pub fn paths(&self) -> Vec<String> {
        let mut out: Vec<String> = self.cwd.iter().cloned().collect();
        if let Some(Value::Object(o)) = self
            .tool_input
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
        {
            for k in [
                "file_path",
                "path",
                "filePath",
                "absolute_path",
                "target_file",
            ] {
                if let Some(p) = o.get(k).and_then(Value::as_str) {
                    out.push(p.to_string());
                }
            }
        }
        out
    }

    /// The run this event belongs to (an update the store merges).
    pub fn run(&self, now: Millis) -> Run {
        Run {
            id: self.session.clone(),
            agent: Some(self.agent.kind()),
            source: self.agent.source(),
            started_ms: Some(now),
            ended_ms: (self.kind == EventKind::SessionEnd).then_some(now),
            title: self
                .prompt
                .as_deref()
                .and_then(|p| p.lines().find(|l| !l.trim().is_empty()))
                .map(|l| l.trim().to_string()),
            cwd: self.cwd.clone(),
            ..Run::default()
        }
    }

    /// The span this event is, with id `span_id`, seen at `now`.
    pub fn span(&self, span_id: &str, seq: u64, now: Millis) -> Span {
        let origin = Origin::new(self.agent.source(), seq);
        let (kind, name) = match self.kind {
            EventKind::PreTool | EventKind::PostTool { .. } => (
                SpanKind::Tool,
                self.tool_name.clone().unwrap_or_else(|| "tool".into()),
            ),
            EventKind::Prompt => (SpanKind::Message, "user".to_string()),
            EventKind::SessionStart => (SpanKind::Event, "session_start".to_string()),
            EventKind::SessionEnd => (SpanKind::Event, "session_end".to_string()),
            EventKind::Other => (SpanKind::Event, self.name.clone()),
        };
        let mut s = Span::new(span_id, &self.session, kind, name, origin);
        s.model = self.model.clone();
        match self.kind {
            EventKind::PreTool => {
                s.tool_name = self.tool_name.clone();
                s.tool_call_id = self.call_id.clone();
                s.tool_input = self.tool_input.clone();
                s.tool_output = self.tool_output.clone();
                s.start_ms = Some(now);
            }
            EventKind::PostTool { failed } => {
                s.tool_name = self.tool_name.clone();
                s.tool_call_id = self.call_id.clone();
                s.tool_input = self.tool_input.clone();
                s.tool_output = self.tool_output.clone();
                s.end_ms = Some(now);
                s.start_ms = self.duration_ms.map(|d| now - d.max(0));
                s.status = if failed {
                    SpanStatus::Error
                } else {
                    SpanStatus::Ok
                };
            }
            EventKind::Prompt => {
                s.text = self.prompt.clone();
                s.start_ms = Some(now);
            }
            _ => {
                s.start_ms = Some(now);
                s.end_ms = Some(now);
            }
        }
        s.attributes
            .insert("guard.agent".into(), self.agent.name().into());
        s.attributes
            .insert("guard.event".into(), self.name.clone().into());
        if let Some(c) = &self.cwd {
            s.attributes.insert("cwd".into(), c.clone().into());
        }
        for (k, v) in &self.detail {
            s.attributes.insert(format!("guard.{k}"), v.clone());
        }
        s
    }
}

/// JSON text with object keys sorted and no spaces, so the same arguments
/// written twice compare equal; other text as it is.
pub fn canonical(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        // serde_json's maps are sorted unless `preserve_order` is on.
        Ok(v) => sorted(v).to_string(),
        Err(_) => text.to_string(),
    }
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<(String, Value)> = o.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(keys.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        v => v,
    }
}

/// A JSON value as text: strings as they are, anything else serialised.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ignores_key_order_and_spacing() {
        assert_eq!(
            canonical(r#"{ "b": 1, "a": {"d": 2, "c": [3]} }"#),
            canonical(r#"{"a":{"c":[3],"d":2},"b":1}"#)
        );
        assert_eq!(canonical("not json"), "not json");
    }

    #[test]
    fn spans_carry_the_call_and_the_agent() {
        let mut e = GuardEvent::new(Agent::ClaudeCode, "PreToolUse", EventKind::PreTool, "S1");
        e.tool_name = Some("Bash".into());
        e.tool_input = Some(r#"{"command":"ls"}"#.into());
        e.call_id = Some("toolu_1".into());
        e.cwd = Some("/repo".into());
        let s = e.span("toolu_1", 3, 1000);
        assert_eq!((s.kind, s.name.as_str()), (SpanKind::Tool, "Bash"));
        assert_eq!(s.tool_call_id.as_deref(), Some("toolu_1"));
        assert_eq!(s.origin.path.as_ref(), "guard://claude-code");
        assert_eq!(s.attributes["guard.event"], "PreToolUse");
        assert_eq!(e.paths(), vec!["/repo".to_string()]);
        let mut post = e.clone();
        post.kind = EventKind::PostTool { failed: true };
        post.tool_output = Some("boom".into());
        post.duration_ms = Some(40);
        let p = post.span("toolu_1", 4, 2000);
        assert_eq!(
            (p.status, p.start_ms, p.end_ms),
            (SpanStatus::Error, Some(1960), Some(2000))
        );
    }

    #[test]
    fn prompts_title_the_run() {
        let mut e = GuardEvent::new(Agent::Gemini, "BeforeAgent", EventKind::Prompt, "S");
        e.prompt = Some("\n  fix the build \nplease".into());
        assert_eq!(e.run(5).title.as_deref(), Some("fix the build"));
        assert_eq!(
            e.span("p1", 1, 5).text.as_deref(),
            Some("\n  fix the build \nplease")
        );
    }
}
