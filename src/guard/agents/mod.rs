//! The agents the guard speaks to, each in its own event and answer format:
//! Claude Code, Cursor, Gemini CLI, Codex, GitHub Copilot CLI, Cline and
//! OpenCode (through the plugin `guard install` writes for it).
//!
//! [`Agent::parse`] reads one hook event (JSON) into a [`GuardEvent`];
//! [`Agent::answer`] writes a [`Verdict`] in the shape that agent expects for
//! that event (stdout, exit code, stderr). Real examples of every event and
//! answer, from each agent's documentation and code, are under
//! `tests/fixtures/hooks/`.

mod claude;
mod cline;
mod codex;
mod copilot;
mod cursor;
mod gemini;
mod opencode;

use super::event::GuardEvent;
use super::policy::Action;
use crate::model::AgentKind;
use serde_json::Value;

/// An agent whose hooks the guard answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Agent {
    /// Claude Code (`PreToolUse`, command and HTTP hooks)
    #[value(name = "claude-code")]
    ClaudeCode,
    /// Cursor (`beforeShellExecution`, `beforeMCPExecution`, `beforeReadFile`)
    Cursor,
    /// Gemini CLI (`BeforeTool`)
    Gemini,
    /// Codex CLI (`PreToolUse`)
    Codex,
    /// GitHub Copilot CLI (`preToolUse`)
    #[value(name = "copilot-cli")]
    CopilotCli,
    /// Cline (`PreToolUse` hook scripts)
    Cline,
    /// OpenCode (`tool.execute.before`, through skilltrace's plugin)
    Opencode,
}

/// What the guard tells the agent: an action and, unless it allows, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// Shown to the agent (and the user): names the rule and the redacted evidence.
    pub reason: String,
}

impl Verdict {
    /// Go ahead, nothing to say.
    pub fn allow() -> Verdict {
        Verdict {
            action: Action::Allow,
            reason: String::new(),
        }
    }
}

/// The answer as the agent reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    /// Standard output (the HTTP response body for HTTP hooks); may be empty.
    pub stdout: String,
    /// Process exit code: 0, or 2 where only an exit code can block.
    pub exit: i32,
    /// Standard error (the blocking reason when exiting 2).
    pub stderr: String,
}

impl Answer {
    fn json(v: Value) -> Answer {
        Answer {
            stdout: v.to_string(),
            ..Answer::default()
        }
    }

    fn empty() -> Answer {
        Answer::default()
    }

    /// Exit 2 with the reason on stderr: blocks in every supported agent.
    fn block(reason: &str) -> Answer {
        Answer {
            exit: 2,
            stderr: reason.to_string(),
            ..Answer::default()
        }
    }
}

/// Why an event could not be read. `event` is its name when that much was readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub event: Option<String>,
    pub why: String,
}

impl Agent {
    /// Every agent, in the order the CLI lists them.
    pub const ALL: [Agent; 7] = [
        Agent::ClaudeCode,
        Agent::Cursor,
        Agent::Gemini,
        Agent::Codex,
        Agent::CopilotCli,
        Agent::Cline,
        Agent::Opencode,
    ];

    /// The name used on the command line, in URLs and in the store.
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Cursor => "cursor",
            Agent::Gemini => "gemini",
            Agent::Codex => "codex",
            Agent::CopilotCli => "copilot-cli",
            Agent::Cline => "cline",
            Agent::Opencode => "opencode",
        }
    }

    /// The agent by [`Agent::name`].
    pub fn from_name(s: &str) -> Option<Agent> {
        Agent::ALL.into_iter().find(|a| a.name() == s)
    }

    /// The run's agent kind.
    pub fn kind(self) -> AgentKind {
        match self {
            Agent::ClaudeCode => AgentKind::ClaudeCode,
            Agent::Cursor => AgentKind::Cursor,
            Agent::Gemini => AgentKind::Gemini,
            Agent::Codex => AgentKind::Codex,
            Agent::CopilotCli => AgentKind::CopilotCli,
            Agent::Cline => AgentKind::Cline,
            Agent::Opencode => AgentKind::Opencode,
        }
    }

    /// `guard://<agent>`: the source path of every record the guard makes.
    pub fn source(self) -> String {
        format!("guard://{}", self.name())
    }

    /// Reads one hook event. A body that is not a JSON object, or lacks what
    /// the event needs (a session, a tool name), is [`Malformed`].
    pub fn parse(self, body: &[u8]) -> Result<GuardEvent, Malformed> {
        let v: Value = serde_json::from_slice(body).map_err(|e| Malformed {
            event: None,
            why: format!("not JSON ({})", json_why(&e)),
        })?;
        let Some(o) = v.as_object() else {
            return Err(Malformed {
                event: None,
                why: "not a JSON object".into(),
            });
        };
        let event = match self {
            Agent::CopilotCli => Some(copilot::event_name(o).to_string()),
            Agent::Cline => o
                .get("hookName")
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => o
                .get("hook_event_name")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let r = match self {
            Agent::ClaudeCode => claude::parse(o),
            Agent::Cursor => cursor::parse(o),
            Agent::Gemini => gemini::parse(o),
            Agent::Codex => codex::parse(o),
            Agent::CopilotCli => copilot::parse(o),
            Agent::Cline => cline::parse(o),
            Agent::Opencode => opencode::parse(o),
        };
        r.map_err(|why| Malformed { event, why })
    }

    /// True when this agent can ask the user for event `name` (else "ask"
    /// becomes the policy's fallback).
    pub fn can_ask(self, name: &str) -> bool {
        match self {
            Agent::ClaudeCode => name == "PreToolUse",
            Agent::Cursor => matches!(name, "beforeShellExecution" | "beforeMCPExecution"),
            // Gemini CLI's code honours "ask" on BeforeTool (its reference says allow/deny only).
            Agent::Gemini => name == "BeforeTool",
            Agent::Codex => false,
            // Copilot CLI's preToolUse reads "ask" and prompts (interactive mode).
            Agent::CopilotCli => matches!(name, "preToolUse" | "PreToolUse"),
            // Cline hooks answer cancel or not; OpenCode's plugin hook throws or not.
            Agent::Cline | Agent::Opencode => false,
        }
    }

    /// The answer to event `name` (`None` when even the name was unreadable).
    pub fn answer(self, name: Option<&str>, v: &Verdict) -> Answer {
        match self {
            Agent::ClaudeCode => claude::answer(name, v),
            Agent::Cursor => cursor::answer(name, v),
            Agent::Gemini => gemini::answer(name, v),
            Agent::Codex => codex::answer(name, v),
            Agent::CopilotCli => copilot::answer(name, v),
            Agent::Cline => cline::answer(name, v),
            Agent::Opencode => opencode::answer(name, v),
        }
    }
}

/// A serde_json error's category and position, never the offending text.
fn json_why(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "unreadable",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected value",
        Category::Eof => "cut short",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// A required non-empty string field.
fn need<'a>(o: &'a serde_json::Map<String, Value>, key: &str) -> Result<&'a str, String> {
    o.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("no {key}"))
}

/// An optional string field.
fn opt(o: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    o.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Copies the small scalar fields `keys` into the event's details.
fn keep(o: &serde_json::Map<String, Value>, keys: &[&str], ev: &mut GuardEvent) {
    for k in keys {
        if let Some(v) = o.get(*k).filter(|v| !v.is_object() && !v.is_array()) {
            ev.detail.insert((*k).to_string(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bodies_say_why_without_the_text() {
        for (body, want) in [
            (&b"{not json"[..], "syntax error"),
            (b"[1,2]", "not a JSON object"),
            (b"", "cut short"),
        ] {
            let e = Agent::ClaudeCode.parse(body).unwrap_err();
            assert!(e.why.contains(want), "{:?}", e);
        }
        let e = Agent::ClaudeCode
            .parse(br#"{"hook_event_name":"PreToolUse","tool_name":"Bash"}"#)
            .unwrap_err();
        assert_eq!(e.event.as_deref(), Some("PreToolUse"));
        assert!(e.why.contains("session_id"), "{e:?}");
    }

    #[test]
    fn names_round_trip() {
        for a in Agent::ALL {
            assert_eq!(Agent::from_name(a.name()), Some(a));
            assert_eq!(a.kind().as_str(), a.name());
        }
    }
}
