//! Cline hook events and answers (docs.cline.bot "Hooks" and "Hook
//! Reference"; `apps/vscode/proto/cline/hooks.proto` and
//! `apps/vscode/src/core/hooks/hook-factory.ts` in cline/cline).
//!
//! Decides on `PreToolUse` and `UserPromptSubmit`; records `PostToolUse`,
//! `TaskStart`, `TaskResume`, `TaskCancel` and `TaskComplete`. Every event
//! carries `hookName`, `taskId` (the session), `workspaceRoots` and
//! `model.slug`, and its data under the event's camelCase name
//! (`preToolUse: {toolName, parameters}`). Parameters are strings (a
//! `map<string, string>`); `use_mcp_tool` becomes `mcp__<server>__<tool>`
//! with its `arguments` as the input. Tool names are Cline's own
//! (`execute_command`, `read_file`, `write_to_file`...).
//!
//! Answers: `{"cancel": true, "errorMessage"}` refuses, `{"cancel": false}`
//! lets it go. Cline has no "ask" for hooks: "ask" becomes the policy's
//! fallback. A hook that exits non-zero without JSON, or outlives Cline's
//! 30 s timeout, does not block the tool (fail-open).

use super::{need, Answer, Verdict};
use crate::guard::event::{text_of, EventKind, GuardEvent};
use crate::guard::policy::Action;
use serde_json::{json, Map, Value};

pub(super) fn parse(o: &Map<String, Value>) -> Result<GuardEvent, String> {
    let name = need(o, "hookName")?;
    let session = need(o, "taskId")?;
    let kind = match name {
        "PreToolUse" => EventKind::PreTool,
        "PostToolUse" => EventKind::PostTool { failed: false },
        "UserPromptSubmit" => EventKind::Prompt,
        "TaskStart" | "TaskResume" => EventKind::SessionStart,
        "TaskCancel" | "TaskComplete" => EventKind::SessionEnd,
        _ => EventKind::Other,
    };
    let mut ev = GuardEvent::new(super::Agent::Cline, name, kind, session);
    ev.cwd = o
        .get("workspaceRoots")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    ev.model = o
        .get("model")
        .and_then(|m| m.get("slug"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(v) = o.get("clineVersion").filter(|v| v.is_string()) {
        ev.detail.insert("cline_version".into(), v.clone());
    }
    // The event's own data sits under its camelCase name.
    let key = {
        let mut c = name.chars();
        c.next()
            .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    let empty = Map::new();
    let data = o.get(&key).and_then(Value::as_object).unwrap_or(&empty);
    match kind {
        EventKind::PreTool | EventKind::PostTool { .. } => {
            let tool = need(data, "toolName")?;
            let params = data.get("parameters").unwrap_or(&Value::Null);
            let (tool, input) = mcp_call(tool, params);
            ev.tool_name = Some(tool);
            ev.tool_input = Some(input);
            if let EventKind::PostTool { .. } = kind {
                ev.tool_output = data.get("result").map(text_of);
                if data.get("success").and_then(Value::as_bool) == Some(false) {
                    ev.kind = EventKind::PostTool { failed: true };
                }
                ev.duration_ms = data.get("executionTimeMs").and_then(|v| {
                    v.as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                });
            }
        }
        EventKind::Prompt => {
            ev.prompt = Some(
                data.get("prompt")
                    .and_then(Value::as_str)
                    .ok_or("no userPromptSubmit.prompt")?
                    .to_string(),
            );
        }
        _ => {
            if let Some(t) = data
                .get("taskMetadata")
                .and_then(|m| m.get("initialTask"))
                .and_then(Value::as_str)
            {
                ev.prompt = Some(t.to_string());
            }
        }
    }
    Ok(ev)
}

/// The tool name and input the detector reads: `use_mcp_tool` as
/// `mcp__<server>__<tool>` with its arguments, anything else as it is.
fn mcp_call(tool: &str, params: &Value) -> (String, String) {
    let get = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if tool == "use_mcp_tool" {
        if let (Some(server), Some(name)) = (get("server_name"), get("tool_name")) {
            let args = params
                .get("arguments")
                .map(text_of)
                .unwrap_or_else(|| "{}".into());
            return (format!("mcp__{server}__{name}"), args);
        }
    }
    (tool.to_string(), text_of(params))
}

pub(super) fn answer(name: Option<&str>, v: &Verdict) -> Answer {
    // TaskCancel "is NOT cancellable"; every other event reads `cancel`.
    let refuse = v.action != Action::Allow && name != Some("TaskCancel");
    if refuse {
        Answer::json(json!({ "cancel": true, "errorMessage": v.reason }))
    } else {
        Answer::json(json!({ "cancel": false }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Agent;
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/hooks/cline/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn every_documented_event_is_read() {
        for (file, kind) in [
            ("pre-tool-use.json", EventKind::PreTool),
            ("post-tool-use.json", EventKind::PostTool { failed: false }),
            ("user-prompt-submit.json", EventKind::Prompt),
            ("task-start.json", EventKind::SessionStart),
            ("task-cancel.json", EventKind::SessionEnd),
        ] {
            let e = Agent::Cline.parse(&fixture(file)).unwrap();
            assert_eq!(e.kind, kind, "{file}");
            assert!(!e.session.is_empty(), "{file}");
            assert!(e.cwd.is_some(), "{file}");
        }
        let pre = Agent::Cline.parse(&fixture("pre-tool-use.json")).unwrap();
        assert_eq!(pre.tool_name.as_deref(), Some("write_to_file"));
        let args: Value = serde_json::from_str(pre.tool_input.as_deref().unwrap()).unwrap();
        assert!(args["path"].as_str().unwrap().ends_with(".js"));
        let post = Agent::Cline.parse(&fixture("post-tool-use.json")).unwrap();
        assert_eq!(post.duration_ms, Some(45));
        assert!(post.tool_output.is_some());
    }

    #[test]
    fn mcp_calls_are_named_as_the_detector_reads_them() {
        let e = Agent::Cline
            .parse(br#"{"hookName":"PreToolUse","taskId":"t1","workspaceRoots":["/w"],"preToolUse":{"toolName":"use_mcp_tool","parameters":{"server_name":"github","tool_name":"create_issue","arguments":"{\"title\":\"x\"}"}}}"#)
            .unwrap();
        assert_eq!(e.tool_name.as_deref(), Some("mcp__github__create_issue"));
        assert_eq!(e.tool_input.as_deref(), Some(r#"{"title":"x"}"#));
        let e = Agent::Cline
            .parse(br#"{"hookName":"PreToolUse","workspaceRoots":[]}"#)
            .unwrap_err();
        assert_eq!(e.event.as_deref(), Some("PreToolUse"));
        assert!(e.why.contains("taskId"), "{e:?}");
    }

    #[test]
    fn answers_cancel_or_not_and_never_ask() {
        let deny = Verdict {
            action: Action::Deny,
            reason: "no".into(),
        };
        let a: Value = serde_json::from_str(&answer(Some("PreToolUse"), &deny).stdout).unwrap();
        assert_eq!(a, json!({"cancel": true, "errorMessage": "no"}));
        let ok: Value =
            serde_json::from_str(&answer(Some("PreToolUse"), &Verdict::allow()).stdout).unwrap();
        assert_eq!(ok, json!({"cancel": false}));
        let c: Value = serde_json::from_str(&answer(Some("TaskCancel"), &deny).stdout).unwrap();
        assert_eq!(c["cancel"], false);
        assert!(!Agent::Cline.can_ask("PreToolUse"));
        let doc: Value =
            serde_json::from_slice(&fixture("answer.pre-tool-use.cancel.json")).unwrap();
        assert_eq!(doc["cancel"], true);
        assert!(doc["errorMessage"].is_string());
    }
}
