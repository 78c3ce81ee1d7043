//! Claude Code hook events and answers (code.claude.com/docs/en/hooks).
//!
//! Events: `PreToolUse` (decide), `PermissionRequest` (decide, when the user
//! hooks it: sent as Claude Code is about to show its permission dialog, with
//! `tool_name` and `tool_input` but no `tool_use_id`), `PostToolUse` /
//! `PostToolUseFailure` (record the result), `UserPromptSubmit`,
//! `SessionStart`, `SessionEnd`.
//! Every event carries `session_id`; tool events carry `tool_name`,
//! `tool_input` and `tool_use_id` (the transcript's `tool_use.id`, so guarded
//! calls merge with the same calls read from `~/.claude/projects`).
//!
//! Answers: `hookSpecificOutput.permissionDecision` `deny` or `ask` with a
//! reason; nothing at all to allow, which leaves Claude Code's own permission
//! flow in charge (`allow` would skip the user's permission prompt). To a
//! `PermissionRequest`, `hookSpecificOutput.decision` `{"behavior": "deny",
//! "message"}` refuses; "ask" and "allow" say nothing, so the dialog the user
//! was about to see is shown.

use super::{keep, need, opt, Answer, Verdict};
use crate::guard::event::{text_of, EventKind, GuardEvent};
use crate::guard::policy::Action;
use serde_json::{json, Map, Value};

pub(super) fn parse(o: &Map<String, Value>) -> Result<GuardEvent, String> {
    let name = need(o, "hook_event_name")?;
    let session = need(o, "session_id")?;
    let kind = match name {
        "PreToolUse" | "PermissionRequest" => EventKind::PreTool,
        "PostToolUse" => EventKind::PostTool { failed: false },
        "PostToolUseFailure" => EventKind::PostTool { failed: true },
        "UserPromptSubmit" => EventKind::Prompt,
        "SessionStart" => EventKind::SessionStart,
        "SessionEnd" => EventKind::SessionEnd,
        _ => EventKind::Other,
    };
    let mut ev = GuardEvent::new(super::Agent::ClaudeCode, name, kind, session);
    ev.cwd = opt(o, "cwd");
    ev.model = opt(o, "model");
    keep(
        o,
        &[
            "permission_mode",
            "source",
            "reason",
            "agent_id",
            "agent_type",
            "is_interrupt",
        ],
        &mut ev,
    );
    match kind {
        EventKind::PreTool | EventKind::PostTool { .. } => {
            ev.tool_name = Some(need(o, "tool_name")?.to_string());
            ev.tool_input = Some(text_of(o.get("tool_input").unwrap_or(&Value::Null)));
            ev.call_id = opt(o, "tool_use_id");
            ev.tool_output = o
                .get("tool_response")
                .or_else(|| o.get("error"))
                .map(text_of);
            ev.duration_ms = o.get("duration_ms").and_then(Value::as_i64);
        }
        EventKind::Prompt => ev.prompt = Some(need(o, "prompt")?.to_string()),
        _ => {}
    }
    Ok(ev)
}

pub(super) fn answer(name: Option<&str>, v: &Verdict) -> Answer {
    match (name, v.action) {
        (_, Action::Allow) => Answer::empty(),
        (Some("PermissionRequest"), a) => permission_request(a, &v.reason),
        (Some("PreToolUse"), a) => Answer::json(json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": if a == Action::Deny { "deny" } else { "ask" },
                "permissionDecisionReason": v.reason,
            }
        })),
        (Some("UserPromptSubmit"), _) => Answer::json(json!({
            "decision": "block",
            "reason": v.reason,
        })),
        // Nothing else can be refused through JSON; an unreadable event is
        // refused (fail-closed) the one way every event understands.
        (None, _) => Answer::block(&v.reason),
        (Some(_), _) => Answer::empty(),
    }
}

/// The answer to a `PermissionRequest` (Claude Code's and Codex's shape):
/// a refusal with its reason; anything else leaves the permission dialog to
/// the user.
pub(super) fn permission_request(a: Action, reason: &str) -> Answer {
    if a != Action::Deny {
        return Answer::empty();
    }
    Answer::json(json!({
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "deny", "message": reason},
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::super::Agent;
    use super::*;

    #[test]
    fn tool_events_pair_by_tool_use_id() {
        let pre = Agent::ClaudeCode
            .parse(br#"{"session_id":"S","hook_event_name":"PreToolUse","cwd":"/r","tool_name":"Bash","tool_input":{"command":"npm test"},"tool_use_id":"toolu_1"}"#)
            .unwrap();
        assert_eq!(pre.kind, EventKind::PreTool);
        assert_eq!(pre.call_id.as_deref(), Some("toolu_1"));
        assert_eq!(pre.tool_input.as_deref(), Some(r#"{"command":"npm test"}"#));
        let fail = Agent::ClaudeCode
            .parse(br#"{"session_id":"S","hook_event_name":"PostToolUseFailure","tool_name":"Bash","tool_input":{},"tool_use_id":"toolu_1","error":"Exit code 1"}"#)
            .unwrap();
        assert_eq!(fail.kind, EventKind::PostTool { failed: true });
        assert_eq!(fail.tool_output.as_deref(), Some("Exit code 1"));
    }

    #[test]
    fn answers_deny_ask_and_stay_silent_to_allow() {
        let deny = Verdict {
            action: Action::Deny,
            reason: "no".into(),
        };
        let a = answer(Some("PreToolUse"), &deny);
        let v: Value = serde_json::from_str(&a.stdout).unwrap();
        assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
        assert_eq!(v["hookSpecificOutput"]["permissionDecisionReason"], "no");
        assert_eq!(
            answer(Some("PreToolUse"), &Verdict::allow()),
            Answer::empty()
        );
        let p = answer(Some("UserPromptSubmit"), &deny);
        assert!(p.stdout.contains("\"block\""));
        assert_eq!(answer(None, &deny).exit, 2);
        assert_eq!(answer(Some("SessionEnd"), &deny), Answer::empty());
    }

    #[test]
    fn a_permission_request_is_decided_on_its_call_and_refused_its_own_way() {
        let text = std::fs::read(format!(
            "{}/tests/fixtures/hooks/claude-code/permission-request.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let ev = Agent::ClaudeCode.parse(&text).unwrap();
        assert_eq!(ev.kind, EventKind::PreTool);
        assert_eq!(ev.tool_name.as_deref(), Some("Bash"));
        assert!(ev
            .tool_input
            .as_deref()
            .unwrap()
            .contains("rm -rf node_modules"));
        let deny = Verdict {
            action: Action::Deny,
            reason: "no".into(),
        };
        let a = answer(Some("PermissionRequest"), &deny);
        let v: Value = serde_json::from_str(&a.stdout).unwrap();
        assert_eq!(
            v["hookSpecificOutput"]["hookEventName"],
            "PermissionRequest"
        );
        assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "deny");
        assert_eq!(v["hookSpecificOutput"]["decision"]["message"], "no");
        assert_eq!(a.exit, 0);
        // Ask: the dialog it precedes is the question; allow never approves.
        let ask = Verdict {
            action: Action::Ask,
            reason: "maybe".into(),
        };
        assert_eq!(answer(Some("PermissionRequest"), &ask), Answer::empty());
        assert_eq!(
            answer(Some("PermissionRequest"), &Verdict::allow()),
            Answer::empty()
        );
    }
}
