//! Cursor hook events and answers (cursor.com/docs/agent/hooks).
//!
//! Decides on `beforeShellExecution`, `beforeMCPExecution`, `beforeReadFile`
//! (and the generic `preToolUse`); records `afterShellExecution`,
//! `afterMCPExecution`, `afterFileEdit`, `postToolUse`, `beforeSubmitPrompt`,
//! `sessionStart` and `sessionEnd`. The session is `conversation_id`. Cursor
//! sends no call id on shell and MCP events, so a call's before and after
//! events are paired by tool and arguments.
//!
//! Answers: `{"permission": "allow"|"ask"|"deny", "user_message",
//! "agent_message"}` on shell and MCP events (always with a permission: a
//! hook's missing or invalid answer blocks MCP calls and file reads);
//! `allow`/`deny` only on file reads and `preToolUse` (`decision`, `reason`);
//! `{"continue": false}` refuses a prompt.

use super::{keep, need, opt, Answer, Verdict};
use crate::guard::event::{text_of, EventKind, GuardEvent};
use crate::guard::policy::Action;
use serde_json::{json, Map, Value};

pub(super) fn parse(o: &Map<String, Value>) -> Result<GuardEvent, String> {
    let name = need(o, "hook_event_name")?;
    let session = opt(o, "conversation_id")
        .or_else(|| opt(o, "session_id"))
        .ok_or("no conversation_id")?;
    let kind = match name {
        "beforeShellExecution"
        | "beforeMCPExecution"
        | "beforeReadFile"
        | "beforeTabFileRead"
        | "preToolUse" => EventKind::PreTool,
        "afterShellExecution" | "afterMCPExecution" | "afterFileEdit" | "postToolUse" => {
            EventKind::PostTool { failed: false }
        }
        "postToolUseFailure" => EventKind::PostTool { failed: true },
        "beforeSubmitPrompt" => EventKind::Prompt,
        "sessionStart" => EventKind::SessionStart,
        "sessionEnd" => EventKind::SessionEnd,
        _ => EventKind::Other,
    };
    let mut ev = GuardEvent::new(super::Agent::Cursor, name, kind, &session);
    ev.cwd = opt(o, "cwd").or_else(|| {
        o.get("workspace_roots")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    ev.model = opt(o, "model");
    ev.duration_ms = o
        .get("duration")
        .or_else(|| o.get("duration_ms"))
        .and_then(Value::as_i64);
    keep(
        o,
        &[
            "generation_id",
            "cursor_version",
            "composer_mode",
            "is_background_agent",
            "reason",
            "status",
            "failure_type",
        ],
        &mut ev,
    );
    match name {
        "beforeShellExecution" | "afterShellExecution" => {
            ev.tool_name = Some("Shell".into());
            ev.tool_input = Some(json!({ "command": need(o, "command")? }).to_string());
            ev.tool_output = opt(o, "output");
        }
        "beforeMCPExecution" | "afterMCPExecution" => {
            let tool = need(o, "tool_name")?;
            ev.tool_name = Some(format!("mcp__{}__{tool}", server_label(o)));
            ev.tool_input = o.get("tool_input").map(text_of);
            ev.tool_output = o.get("result_json").map(text_of);
        }
        "beforeReadFile" | "beforeTabFileRead" => {
            ev.tool_name = Some("Read".into());
            ev.tool_input = Some(json!({ "file_path": need(o, "file_path")? }).to_string());
            // What the model is about to see: scanned like a read's output.
            ev.tool_output = opt(o, "content");
        }
        "afterFileEdit" => {
            let new: Vec<&str> = o
                .get("edits")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.get("new_string").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            ev.tool_name = Some("Edit".into());
            ev.tool_input = Some(
                json!({ "file_path": need(o, "file_path")?, "new_string": new.join("\n") })
                    .to_string(),
            );
        }
        "preToolUse" | "postToolUse" | "postToolUseFailure" => {
            ev.tool_name = Some(need(o, "tool_name")?.to_string());
            ev.tool_input = o.get("tool_input").map(text_of);
            ev.call_id = opt(o, "tool_use_id");
            ev.tool_output = o
                .get("tool_output")
                .or_else(|| o.get("error_message"))
                .map(text_of);
        }
        "beforeSubmitPrompt" => ev.prompt = Some(need(o, "prompt")?.to_string()),
        _ => {}
    }
    Ok(ev)
}

/// A name for the MCP server of a call: its URL's host, or its command's program.
fn server_label(o: &Map<String, Value>) -> String {
    let raw = opt(o, "url")
        .and_then(|u| crate::detect::network::host_of(&u))
        .or_else(|| {
            opt(o, "command").and_then(|c| {
                c.split_whitespace()
                    .next()
                    .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
            })
        })
        .unwrap_or_else(|| "cursor".into());
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn answer(name: Option<&str>, v: &Verdict) -> Answer {
    let deny = v.action != Action::Allow;
    match name {
        Some("beforeShellExecution" | "beforeMCPExecution") => {
            let mut a = json!({ "permission": v.action.as_str() });
            if deny {
                a["user_message"] = v.reason.clone().into();
                a["agent_message"] = v.reason.clone().into();
            }
            Answer::json(a)
        }
        Some("beforeReadFile" | "beforeTabFileRead") => {
            let mut a = json!({ "permission": if deny { "deny" } else { "allow" } });
            if deny {
                a["user_message"] = v.reason.clone().into();
            }
            Answer::json(a)
        }
        Some("preToolUse" | "subagentStart") => {
            let mut a = json!({ "decision": if deny { "deny" } else { "allow" } });
            if deny {
                a["reason"] = v.reason.clone().into();
            }
            Answer::json(a)
        }
        Some("beforeSubmitPrompt" | "sessionStart") => {
            let mut a = json!({ "continue": !deny });
            if deny {
                a["user_message"] = v.reason.clone().into();
            }
            Answer::json(a)
        }
        Some(_) => Answer::json(json!({})),
        None if deny => Answer::block(&v.reason),
        // Which event this was is unknown: a permission is what the events
        // that fail closed on a missing answer read, and others ignore it.
        None => Answer::json(json!({ "permission": "allow" })),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Agent;
    use super::*;

    #[test]
    fn shell_mcp_and_read_events_become_tool_calls() {
        let sh = Agent::Cursor
            .parse(br#"{"conversation_id":"c1","generation_id":"g1","hook_event_name":"beforeShellExecution","command":"git status","cwd":"/p","workspace_roots":["/p"]}"#)
            .unwrap();
        assert_eq!(sh.session, "c1");
        assert_eq!(sh.tool_name.as_deref(), Some("Shell"));
        assert_eq!(
            sh.tool_input.as_deref(),
            Some(r#"{"command":"git status"}"#)
        );
        let mcp = Agent::Cursor
            .parse(br#"{"conversation_id":"c1","hook_event_name":"beforeMCPExecution","tool_name":"fetch","tool_input":"{\"url\":\"https://x.dev\"}","url":"http://localhost:3000/mcp"}"#)
            .unwrap();
        assert_eq!(mcp.tool_name.as_deref(), Some("mcp__localhost__fetch"));
        let rd = Agent::Cursor
            .parse(br#"{"conversation_id":"c1","hook_event_name":"beforeReadFile","file_path":"/p/.env","content":"A=1","attachments":[]}"#)
            .unwrap();
        assert_eq!(
            (rd.kind, rd.tool_output.as_deref()),
            (EventKind::PreTool, Some("A=1"))
        );
    }

    #[test]
    fn answers_always_carry_a_permission_on_decisions() {
        let ask = Verdict {
            action: Action::Ask,
            reason: "why".into(),
        };
        let a: Value =
            serde_json::from_str(&answer(Some("beforeShellExecution"), &ask).stdout).unwrap();
        assert_eq!(
            (a["permission"].as_str(), a["agent_message"].as_str()),
            (Some("ask"), Some("why"))
        );
        let ok: Value =
            serde_json::from_str(&answer(Some("beforeReadFile"), &Verdict::allow()).stdout)
                .unwrap();
        assert_eq!(ok, json!({"permission": "allow"}));
        let p: Value =
            serde_json::from_str(&answer(Some("beforeSubmitPrompt"), &ask).stdout).unwrap();
        assert_eq!(p["continue"], false);
        assert_eq!(answer(Some("afterFileEdit"), &ask).stdout, "{}");
    }
}
