//! Gemini CLI hook events and answers (geminicli.com/docs/hooks/reference,
//! `packages/core/src/hooks` in google-gemini/gemini-cli).
//!
//! Decides on `BeforeTool` and `BeforeAgent` (the prompt); records
//! `AfterTool`, `SessionStart` and `SessionEnd`. Every event carries
//! `session_id`; tool events carry `tool_name` and `tool_input` but no call id,
//! so a call's before and after events are paired by tool and arguments. MCP
//! tools (`mcp_<server>_<tool>`) are named from `mcp_context` as
//! `mcp__<server>__<tool>`.
//!
//! Answers: `{"decision": "deny"|"ask", "reason", "systemMessage"}`; `{}` to
//! allow. The reference lists allow and deny only, but the CLI's code
//! (`isAskDecision` in `hooks/types.ts`, `scheduler/hook-utils.ts`) honours
//! `ask` on `BeforeTool`: the code is followed.

use super::{keep, need, opt, Answer, Verdict};
use crate::guard::event::{text_of, EventKind, GuardEvent};
use crate::guard::policy::Action;
use serde_json::{json, Map, Value};

pub(super) fn parse(o: &Map<String, Value>) -> Result<GuardEvent, String> {
    let name = need(o, "hook_event_name")?;
    let session = need(o, "session_id")?;
    let kind = match name {
        "BeforeTool" => EventKind::PreTool,
        "AfterTool" => EventKind::PostTool {
            failed: o
                .get("tool_response")
                .and_then(|r| r.get("error"))
                .is_some_and(|e| !e.is_null()),
        },
        "BeforeAgent" => EventKind::Prompt,
        "SessionStart" => EventKind::SessionStart,
        "SessionEnd" => EventKind::SessionEnd,
        _ => EventKind::Other,
    };
    let mut ev = GuardEvent::new(super::Agent::Gemini, name, kind, session);
    ev.cwd = opt(o, "cwd");
    keep(o, &["source", "reason", "trigger"], &mut ev);
    match kind {
        EventKind::PreTool | EventKind::PostTool { .. } => {
            let tool = need(o, "tool_name")?;
            let server = o
                .get("mcp_context")
                .and_then(|m| m.get("server_name"))
                .and_then(Value::as_str);
            ev.tool_name = Some(match server {
                Some(s) => {
                    let short = tool
                        .strip_prefix(&format!("mcp_{s}_"))
                        .or_else(|| o.get("mcp_context")?.get("tool_name")?.as_str())
                        .unwrap_or(tool);
                    format!("mcp__{s}__{short}")
                }
                None => tool.to_string(),
            });
            ev.tool_input = Some(text_of(o.get("tool_input").unwrap_or(&Value::Null)));
            ev.tool_output = o.get("tool_response").map(|r| match r {
                // `llmContent` is what the model reads; the rest is display.
                Value::Object(m) => m
                    .get("llmContent")
                    .or_else(|| m.get("error"))
                    .map(text_of)
                    .unwrap_or_else(|| r.to_string()),
                r => text_of(r),
            });
        }
        EventKind::Prompt => ev.prompt = Some(need(o, "prompt")?.to_string()),
        _ => {}
    }
    Ok(ev)
}

pub(super) fn answer(name: Option<&str>, v: &Verdict) -> Answer {
    match (name, v.action) {
        (_, Action::Allow) => Answer::json(json!({})),
        (Some("BeforeTool"), a) => Answer::json(json!({
            "decision": if a == Action::Deny { "deny" } else { "ask" },
            "reason": v.reason,
            "systemMessage": v.reason,
        })),
        (Some("BeforeAgent"), _) => Answer::json(json!({
            "decision": "deny",
            "reason": v.reason,
        })),
        (None, _) => Answer::block(&v.reason),
        (Some(_), _) => Answer::json(json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Agent;
    use super::*;

    #[test]
    fn mcp_tools_are_named_by_server() {
        let e = Agent::Gemini
            .parse(br#"{"session_id":"s","hook_event_name":"BeforeTool","cwd":"/p","timestamp":"2026-01-01T00:00:00Z","tool_name":"mcp_github_create_issue","tool_input":{"title":"x"},"mcp_context":{"server_name":"github","tool_name":"create_issue"}}"#)
            .unwrap();
        assert_eq!(e.tool_name.as_deref(), Some("mcp__github__create_issue"));
        let after = Agent::Gemini
            .parse(br#"{"session_id":"s","hook_event_name":"AfterTool","tool_name":"read_file","tool_input":{"absolute_path":"/p/a"},"tool_response":{"llmContent":"hello","returnDisplay":"hello"}}"#)
            .unwrap();
        assert_eq!(after.tool_output.as_deref(), Some("hello"));
        assert_eq!(after.kind, EventKind::PostTool { failed: false });
    }

    #[test]
    fn answers() {
        let ask = Verdict {
            action: Action::Ask,
            reason: "r".into(),
        };
        let a: Value = serde_json::from_str(&answer(Some("BeforeTool"), &ask).stdout).unwrap();
        assert_eq!(a["decision"], "ask");
        assert_eq!(answer(Some("BeforeTool"), &Verdict::allow()).stdout, "{}");
        assert_eq!(answer(None, &ask).exit, 2);
    }
}
