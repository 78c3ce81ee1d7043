//! OpenCode hook events and answers, through the plugin `guard install
//! --agent opencode` writes (opencode.ai/docs/plugins; the `Hooks` type of
//! `packages/plugin/src/index.ts` in sst/opencode).
//!
//! OpenCode has no command hooks: a plugin's `tool.execute.before(input,
//! output)` runs before every tool and blocks it by throwing. skilltrace's
//! plugin hands each call to `skilltrace guard --agent opencode` as
//! `{"hook_event_name", "input", "output", "directory"}`, where `input` and
//! `output` are the hook's two arguments as OpenCode passes them (`input:
//! {tool, sessionID, callID}`, `output: {args}` before; `output: {title,
//! output, metadata}` after). Tool names are OpenCode's own (`bash`, `read`,
//! `write`, `edit`, `webfetch`...); MCP tools keep the name OpenCode gives them.
//!
//! The user's message arrives by `chat.message(input, output)` (`input:
//! {sessionID, agent, model, messageID}`, `output: {message, parts}`): its
//! text parts, joined, are the session's prompt, judged and recorded as the
//! other agents' prompt hooks are (a secret typed there is remembered, so the
//! call that later sends it is refused), and never refused itself.
//!
//! Answers: `{"decision": "allow"|"deny", "reason"}`; the plugin throws the
//! reason on deny. Nothing in OpenCode's plugin hook can ask the user, so
//! "ask" becomes the policy's fallback. The plugin lets the call go ahead,
//! with one `warning:` line, when the guard does not answer (fail-open).

use super::{Answer, Verdict};
use crate::guard::event::{text_of, EventKind, GuardEvent};
use crate::guard::policy::Action;
use serde_json::{json, Map, Value};

pub(super) fn parse(o: &Map<String, Value>) -> Result<GuardEvent, String> {
    let name = super::need(o, "hook_event_name")?;
    let empty = Map::new();
    let input = o.get("input").and_then(Value::as_object).unwrap_or(&empty);
    let output = o.get("output").and_then(Value::as_object).unwrap_or(&empty);
    let kind = match name {
        "tool.execute.before" => EventKind::PreTool,
        "tool.execute.after" => EventKind::PostTool { failed: false },
        "chat.message" => EventKind::Prompt,
        _ => EventKind::Other,
    };
    let session = super::need(input, "sessionID").map_err(|_| "no input.sessionID".to_string())?;
    let mut ev = GuardEvent::new(super::Agent::Opencode, name, kind, session);
    ev.cwd = super::opt(o, "directory");
    if kind == EventKind::Prompt {
        // the message's text parts (files, images and tool parts are not typed text)
        let parts = output.get("parts").and_then(Value::as_array);
        let text: Vec<&str> = parts
            .into_iter()
            .flatten()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        ev.prompt = Some(text.join("\n"));
    }
    if matches!(kind, EventKind::PreTool | EventKind::PostTool { .. }) {
        let tool = super::need(input, "tool").map_err(|_| "no input.tool".to_string())?;
        ev.tool_name = Some(tool.to_string());
        ev.call_id = super::opt(input, "callID");
        let args = if kind == EventKind::PreTool {
            output.get("args")
        } else {
            input.get("args")
        };
        ev.tool_input = args.map(text_of);
        if kind != EventKind::PreTool {
            ev.tool_output = output.get("output").map(text_of);
            if let Some(t) = output.get("title").filter(|t| t.is_string()) {
                ev.detail.insert("title".into(), t.clone());
            }
        }
    }
    Ok(ev)
}

pub(super) fn answer(name: Option<&str>, v: &Verdict) -> Answer {
    // A message is recorded, never refused: the plugin does not throw there.
    if v.action == Action::Allow || name == Some("chat.message") {
        Answer::json(json!({ "decision": "allow" }))
    } else {
        // The plugin cannot ask: anything but allow refuses.
        Answer::json(json!({ "decision": "deny", "reason": v.reason }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Agent;
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/hooks/opencode/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn before_and_after_become_one_call() {
        let pre = Agent::Opencode
            .parse(&fixture("tool-execute-before.json"))
            .unwrap();
        assert_eq!(pre.kind, EventKind::PreTool);
        assert_eq!(pre.tool_name.as_deref(), Some("read"));
        let args: Value = serde_json::from_str(pre.tool_input.as_deref().unwrap()).unwrap();
        assert!(args["filePath"].is_string());
        let post = Agent::Opencode
            .parse(&fixture("tool-execute-after.json"))
            .unwrap();
        assert_eq!(post.kind, EventKind::PostTool { failed: false });
        assert_eq!((&post.session, &post.call_id), (&pre.session, &pre.call_id));
        assert!(post.tool_output.is_some());
        let e = Agent::Opencode
            .parse(br#"{"hook_event_name":"tool.execute.before","input":{"tool":"bash"},"output":{"args":{}}}"#)
            .unwrap_err();
        assert!(e.why.contains("sessionID"), "{e:?}");
    }

    #[test]
    fn a_chat_message_is_the_sessions_prompt_and_never_refused() {
        let ev = Agent::Opencode
            .parse(&fixture("chat-message.json"))
            .unwrap();
        assert_eq!(ev.kind, EventKind::Prompt);
        assert_eq!(ev.session, "ses_5d8a1f2c3ffeKq0gX1b2c3d4e5");
        assert_eq!(
            ev.prompt.as_deref(),
            Some("Fix the failing date test in src/date.ts\nKeep the public API as it is.")
        );
        let no_text = br#"{"hook_event_name":"chat.message","input":{"sessionID":"s"},"output":{"parts":[{"type":"file","url":"file:///a.png"}]}}"#;
        let ev = Agent::Opencode.parse(no_text).unwrap();
        assert_eq!(ev.prompt.as_deref(), Some(""));
        let deny = Verdict {
            action: Action::Deny,
            reason: "why".into(),
        };
        let a: Value = serde_json::from_str(&answer(Some("chat.message"), &deny).stdout).unwrap();
        assert_eq!(a, json!({"decision": "allow"}));
    }

    #[test]
    fn answers_allow_or_deny_with_the_reason() {
        let ask = Verdict {
            action: Action::Ask,
            reason: "why".into(),
        };
        let a: Value =
            serde_json::from_str(&answer(Some("tool.execute.before"), &ask).stdout).unwrap();
        assert_eq!(a, json!({"decision": "deny", "reason": "why"}));
        let ok: Value = serde_json::from_str(&answer(None, &Verdict::allow()).stdout).unwrap();
        assert_eq!(ok, json!({"decision": "allow"}));
        assert!(!Agent::Opencode.can_ask("tool.execute.before"));
    }
}
