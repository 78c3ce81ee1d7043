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
/// `mcp__<server>__<tool>` with its arguments; the tools of Cline's SDK
/// runtime as the classic tools that do the same ([`sdk_call`]); anything
/// else as it is.
fn mcp_call(tool: &str, params: &Value) -> (String, String) {
    if let Some((name, input)) = sdk_call(tool, params) {
        return (name.to_string(), input.to_string());
    }
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

/// A parameter as JSON: Cline sends every parameter as a string, arrays and
/// objects as their JSON text.
fn param(params: &Value, key: &str) -> Option<Value> {
    match params.get(key)? {
        Value::String(s) => {
            Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())))
        }
        v => Some(v.clone()),
    }
}

/// Strings of a parameter that is one string, or a list of strings or of
/// objects holding `field` (and, for commands, `args`).
fn strings(v: &Value, field: &str) -> Vec<String> {
    let one = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let mut words = vec![o.get(field)?.as_str()?.to_string()];
            if let Some(a) = o.get("args").and_then(Value::as_array) {
                words.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
            }
            Some(words.join(" "))
        }
        _ => None,
    };
    match v {
        Value::Array(a) => a.iter().filter_map(one).collect(),
        x => one(x).into_iter().collect(),
    }
}

/// The tools of Cline's SDK runtime (`sdk/packages/core/src/extensions/tools`:
/// `run_commands`, `read_files`, `editor`, `apply_patch`) as the classic
/// tools the detector reads: one shell script, one read of every path, one
/// write, one patch.
fn sdk_call(tool: &str, params: &Value) -> Option<(&'static str, Value)> {
    match tool {
        "run_commands" => {
            let v = ["commands", "command", "cmd"]
                .iter()
                .find_map(|k| param(params, k))?;
            let lines = strings(&v, "command");
            (!lines.is_empty()).then(|| ("execute_command", json!({ "command": lines.join("\n") })))
        }
        "read_files" => {
            let v = ["files", "file_paths", "paths"]
                .iter()
                .find_map(|k| param(params, k))?;
            let paths = strings(&v, "path");
            (!paths.is_empty()).then(|| ("read_file", json!({ "paths": paths })))
        }
        "editor" => {
            let path = param(params, "path")?;
            let text = param(params, "new_text").unwrap_or(Value::Null);
            Some(("write_to_file", json!({ "path": path, "content": text })))
        }
        "apply_patch" => {
            let patch = param(params, "input")?;
            Some(("apply_patch", json!({ "input": patch })))
        }
        _ => None,
    }
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
    fn the_sdk_runtime_s_tools_read_as_the_classic_ones() {
        let read = |tool: &str, params: Value| {
            let body = json!({"hookName":"PreToolUse","taskId":"t","workspaceRoots":["/w"],
                "preToolUse":{"toolName":tool,"parameters":params}});
            let e = Agent::Cline.parse(body.to_string().as_bytes()).unwrap();
            let input: Value = serde_json::from_str(e.tool_input.as_deref().unwrap()).unwrap();
            (e.tool_name.unwrap(), input)
        };
        // Arrays arrive as JSON text (`toStringRecord` in hooks-adapter.ts).
        let cmds = json!(["ls", {"command": "cat", "args": ["/w/.env"]}]).to_string();
        let (t, i) = read("run_commands", json!({ "commands": cmds }));
        assert_eq!(
            (t.as_str(), i),
            ("execute_command", json!({"command": "ls\ncat /w/.env"}))
        );
        let files = json!([{"path": "/home/u/.aws/credentials"}]).to_string();
        let (t, i) = read("read_files", json!({ "files": files }));
        assert_eq!(
            (t.as_str(), i),
            ("read_file", json!({"paths": ["/home/u/.aws/credentials"]}))
        );
        let (t, i) = read("editor", json!({"path": "/w/a.txt", "new_text": "x"}));
        assert_eq!(
            (t.as_str(), i),
            ("write_to_file", json!({"path": "/w/a.txt", "content": "x"}))
        );
        let (t, _) = read(
            "apply_patch",
            json!({"input": "*** Begin Patch\n*** End Patch"}),
        );
        assert_eq!(t, "apply_patch");
        let (t, i) = read("list_files", json!({"path": "/w"}));
        assert_eq!((t.as_str(), i), ("list_files", json!({"path": "/w"})));
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
