//! GitHub Copilot CLI hook events and answers (docs.github.com, "GitHub
//! Copilot CLI hooks reference"; `content/copilot/reference/
//! copilot-cli-reference/cli-hooks-reference.md` in github/docs).
//!
//! Decides on `preToolUse`; records `postToolUse`, `postToolUseFailure`,
//! `userPromptSubmitted`, `sessionStart`, `sessionEnd` and `errorOccurred`.
//! The camelCase events (`sessionId`, `toolName`, `toolArgs`, `toolResult`)
//! carry no event name, so the name is read from the fields each event has;
//! the "VS Code compatible" PascalCase events (`hook_event_name`,
//! `session_id`, `tool_name`, `tool_input`) are read too. `toolArgs` may be
//! JSON text or an object. Tool names are Copilot's own (`bash`, `view`,
//! `create`, `edit`, `glob`, `grep`, `web_fetch`...), which the detector reads.
//! Copilot CLI versions that send no session id: the session is named after
//! the working folder.
//!
//! Answers: `{"permissionDecision": "deny"|"ask", "permissionDecisionReason"}`
//! on `preToolUse` ("ask" prompts the user); allowing prints nothing, so the
//! user's own permission rules still apply. Copilot reads no other event's
//! output (a prompt cannot be refused: the verdict is recorded only). A hook
//! that exits non-zero or times out is logged and skipped: the call goes
//! ahead (fail-open).

use super::{keep, opt, Answer, Verdict};
use crate::guard::event::{text_of, EventKind, GuardEvent};
use crate::guard::policy::Action;
use serde_json::{json, Map, Value};

/// The event's name: `hook_event_name` when sent, else the camelCase event
/// its fields make it.
pub(super) fn event_name(o: &Map<String, Value>) -> &str {
    if let Some(n) = o
        .get("hook_event_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        return n;
    }
    let has = |k: &str| o.contains_key(k);
    if has("toolName") {
        if has("toolResult") {
            "postToolUse"
        } else if has("error") {
            "postToolUseFailure"
        } else {
            "preToolUse"
        }
    } else if has("prompt") {
        "userPromptSubmitted"
    } else if has("errorContext") {
        "errorOccurred"
    } else if has("stopReason") {
        if has("agentName") {
            "subagentStop"
        } else {
            "agentStop"
        }
    } else if has("reason") {
        "sessionEnd"
    } else if has("source") {
        "sessionStart"
    } else {
        "unknown"
    }
}

/// The first of `keys` that is set.
fn first<'a>(o: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| o.get(*k).filter(|v| !v.is_null()))
}

pub(super) fn parse(o: &Map<String, Value>) -> Result<GuardEvent, String> {
    let name = event_name(o).to_string();
    let kind = match name.as_str() {
        "preToolUse" | "PreToolUse" => EventKind::PreTool,
        "postToolUse" | "PostToolUse" => EventKind::PostTool { failed: false },
        "postToolUseFailure" | "PostToolUseFailure" => EventKind::PostTool { failed: true },
        "userPromptSubmitted" | "UserPromptSubmit" => EventKind::Prompt,
        "sessionStart" | "SessionStart" => EventKind::SessionStart,
        "sessionEnd" | "SessionEnd" => EventKind::SessionEnd,
        _ => EventKind::Other,
    };
    let cwd = opt(o, "cwd");
    let session = opt(o, "sessionId")
        .or_else(|| opt(o, "session_id"))
        .or_else(|| cwd.as_ref().map(|c| format!("copilot-cli:{c}")))
        .ok_or("no sessionId")?;
    let mut ev = GuardEvent::new(super::Agent::CopilotCli, &name, kind, &session);
    ev.cwd = cwd;
    keep(
        o,
        &[
            "source",
            "reason",
            "errorContext",
            "error_context",
            "recoverable",
        ],
        &mut ev,
    );
    match kind {
        EventKind::PreTool | EventKind::PostTool { .. } => {
            let tool = first(o, &["toolName", "tool_name"])
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or("no toolName")?;
            ev.tool_name = Some(tool.to_string());
            ev.tool_input = first(o, &["toolArgs", "tool_input"]).map(text_of);
            ev.tool_output = match first(o, &["toolResult", "tool_result"]) {
                Some(r) => first(
                    r.as_object().unwrap_or(&Map::new()),
                    &["textResultForLlm", "text_result_for_llm"],
                )
                .map(text_of)
                .or_else(|| Some(text_of(r))),
                None => o.get("error").map(text_of),
            };
            // A result that says it failed, in the PascalCase events.
            if let Some(t) = first(o, &["toolResult", "tool_result"])
                .and_then(|r| first(r.as_object()?, &["resultType", "result_type"]))
                .and_then(Value::as_str)
            {
                if t != "success" {
                    ev.kind = EventKind::PostTool { failed: true };
                }
                ev.detail.insert("result_type".into(), t.into());
            }
        }
        EventKind::Prompt => {
            ev.prompt = Some(
                o.get("prompt")
                    .and_then(Value::as_str)
                    .ok_or("no prompt")?
                    .to_string(),
            );
        }
        _ => {
            if let Some(p) = first(o, &["initialPrompt", "initial_prompt"]).and_then(Value::as_str)
            {
                ev.prompt = Some(p.to_string());
            }
            if let Some(m) = o
                .get("error")
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
            {
                ev.detail.insert("error".into(), m.into());
            }
        }
    }
    Ok(ev)
}

/// True for the event whose output Copilot reads.
fn is_pre_tool(name: Option<&str>) -> bool {
    matches!(name, Some("preToolUse" | "PreToolUse") | None)
}

pub(super) fn answer(name: Option<&str>, v: &Verdict) -> Answer {
    if v.action == Action::Allow || !is_pre_tool(name) {
        return Answer::empty();
    }
    Answer::json(json!({
        "permissionDecision": v.action.as_str(),
        "permissionDecisionReason": v.reason,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::Agent;
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/hooks/copilot-cli/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn every_documented_event_is_read_from_its_fields() {
        for (file, name, kind) in [
            ("pre-tool-use.json", "preToolUse", EventKind::PreTool),
            (
                "post-tool-use.json",
                "postToolUse",
                EventKind::PostTool { failed: false },
            ),
            (
                "post-tool-use-failure.json",
                "postToolUseFailure",
                EventKind::PostTool { failed: true },
            ),
            (
                "user-prompt-submitted.json",
                "userPromptSubmitted",
                EventKind::Prompt,
            ),
            (
                "session-start.json",
                "sessionStart",
                EventKind::SessionStart,
            ),
            ("session-end.json", "sessionEnd", EventKind::SessionEnd),
            ("error-occurred.json", "errorOccurred", EventKind::Other),
            ("pre-tool-use.vscode.json", "PreToolUse", EventKind::PreTool),
        ] {
            let e = Agent::CopilotCli.parse(&fixture(file)).unwrap();
            assert_eq!((e.name.as_str(), e.kind), (name, kind), "{file}");
            assert!(!e.session.is_empty());
        }
        let pre = Agent::CopilotCli
            .parse(&fixture("pre-tool-use.json"))
            .unwrap();
        assert_eq!(pre.tool_name.as_deref(), Some("bash"));
        let args: Value = serde_json::from_str(pre.tool_input.as_deref().unwrap()).unwrap();
        assert_eq!(args["command"], "rm -rf dist");
        let post = Agent::CopilotCli
            .parse(&fixture("post-tool-use.json"))
            .unwrap();
        assert!(post.tool_output.is_some());
    }

    #[test]
    fn args_as_text_or_object_and_no_session_id() {
        let text = Agent::CopilotCli
            .parse(br#"{"timestamp":1,"cwd":"/r","toolName":"view","toolArgs":"{\"path\":\"/r/.env\"}"}"#)
            .unwrap();
        assert_eq!(text.session, "copilot-cli:/r");
        assert_eq!(text.tool_input.as_deref(), Some(r#"{"path":"/r/.env"}"#));
        let obj = Agent::CopilotCli
            .parse(br#"{"sessionId":"s","timestamp":1,"cwd":"/r","toolName":"view","toolArgs":{"path":"/r/.env"}}"#)
            .unwrap();
        assert_eq!(obj.tool_input, text.tool_input);
        let e = Agent::CopilotCli
            .parse(br#"{"timestamp":1,"toolName":"bash"}"#)
            .unwrap_err();
        assert!(e.why.contains("sessionId"), "{e:?}");
    }

    #[test]
    fn answers_deny_and_ask_on_pre_tool_use_only() {
        let deny = Verdict {
            action: Action::Deny,
            reason: "r".into(),
        };
        let ask = Verdict {
            action: Action::Ask,
            reason: "q".into(),
        };
        let a: Value = serde_json::from_str(&answer(Some("preToolUse"), &deny).stdout).unwrap();
        assert_eq!(
            a,
            json!({"permissionDecision":"deny","permissionDecisionReason":"r"})
        );
        let a: Value = serde_json::from_str(&answer(Some("preToolUse"), &ask).stdout).unwrap();
        assert_eq!(a["permissionDecision"], "ask");
        assert_eq!(
            answer(Some("preToolUse"), &Verdict::allow()),
            Answer::empty()
        );
        assert_eq!(answer(Some("userPromptSubmitted"), &deny), Answer::empty());
        assert!(Agent::CopilotCli.can_ask("preToolUse"));
        assert!(!Agent::CopilotCli.can_ask("userPromptSubmitted"));
        // The documented answer is what the guard writes.
        let doc: Value = serde_json::from_slice(&fixture("answer.pre-tool-use.deny.json")).unwrap();
        let mine: Value = serde_json::from_str(&answer(Some("preToolUse"), &deny).stdout).unwrap();
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&doc), keys(&mine));
    }
}
