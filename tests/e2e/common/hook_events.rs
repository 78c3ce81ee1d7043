//! Hook events in each guarded agent's own shape (built from
//! `tests/fixtures/hooks/`), and each agent's answer read back as "allow",
//! "ask" or "deny": the one table the guard's end-to-end and timing tests
//! share, so a scenario is written once and run for every agent.

use super::hook_fixture as fixture;
use serde_json::{json, Value};
use std::process::Output;

/// Every agent the guard answers, by its `--agent` name.
pub const AGENTS: [&str; 7] = [
    "claude-code",
    "cursor",
    "gemini",
    "codex",
    "copilot-cli",
    "cline",
    "opencode",
];

/// Whether the agent can ask the user before a shell command runs; where it
/// cannot, "ask" becomes the policy's `ask_fallback` (deny by default).
pub fn asks_before_shell(agent: &str) -> bool {
    matches!(agent, "claude-code" | "cursor" | "gemini" | "copilot-cli")
}

/// What the agent reads from the answer: "allow", "ask" or "deny".
pub fn verdict(agent: &str, out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(2) {
        return "deny".into();
    }
    assert_eq!(out.status.code(), Some(0), "{agent}: {out:?}");
    if text.trim().is_empty() {
        return "allow".into();
    }
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{agent}: {e}: {text}"));
    let d = match agent {
        "claude-code" | "codex" => v["hookSpecificOutput"]["permissionDecision"].clone(),
        "copilot-cli" => v["permissionDecision"].clone(),
        "cline" => json!(if v["cancel"] == true { "deny" } else { "allow" }),
        "cursor" => v
            .get("permission")
            .cloned()
            .or_else(|| {
                v.get("continue")
                    .map(|c| json!(if c == true { "allow" } else { "deny" }))
            })
            .unwrap_or(json!("allow")),
        _ => v.get("decision").cloned().unwrap_or(json!("allow")),
    };
    d.as_str().unwrap_or("allow").to_string()
}

/// The reason the agent is shown (with whatever went to stderr).
pub fn reason(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Events of one session in one agent's own shape.
pub struct Events {
    pub agent: &'static str,
    session: String,
    n: u32,
}

impl Events {
    pub fn new(agent: &'static str, session: &str) -> Events {
        Events {
            agent,
            session: session.into(),
            n: 0,
        }
    }

    fn id(&mut self) -> String {
        self.n += 1;
        format!("call_{}", self.n)
    }

    fn with_session(&self, mut v: Value) -> Value {
        match self.agent {
            "cursor" => v["conversation_id"] = json!(self.session),
            "copilot-cli" => v["sessionId"] = json!(self.session),
            "cline" => v["taskId"] = json!(self.session),
            "opencode" => v["input"]["sessionID"] = json!(self.session),
            _ => v["session_id"] = json!(self.session),
        }
        v
    }

    /// Tool `tool` about to run with `args`, for the agents whose hooks
    /// see every tool (not Cursor, whose before-hooks are shell, MCP and reads).
    pub fn pre_tool(&mut self, tool: &str, args: Value) -> Value {
        let id = self.id();
        let v = match self.agent {
            "gemini" => {
                let mut v = fixture("gemini", "before-tool.json");
                v["tool_name"] = json!(tool);
                v["tool_input"] = args;
                v
            }
            "copilot-cli" => {
                let mut v = fixture("copilot-cli", "pre-tool-use.json");
                v["toolName"] = json!(tool);
                v["toolArgs"] = json!(args.to_string());
                v
            }
            "cline" => {
                let mut v = fixture("cline", "pre-tool-use.json");
                v["preToolUse"] = json!({"toolName": tool, "parameters": args});
                v
            }
            "opencode" => {
                let mut v = fixture("opencode", "tool-execute-before.json");
                v["input"]["tool"] = json!(tool);
                v["input"]["callID"] = json!(id);
                v["output"] = json!({ "args": args });
                v
            }
            "cursor" => panic!("cursor has no before-hook for {tool}"),
            a => {
                let mut v = fixture(a, "pre-tool-use.json");
                v["tool_name"] = json!(tool);
                v["tool_input"] = args;
                v["tool_use_id"] = json!(id);
                v
            }
        };
        self.with_session(v)
    }

    /// The tool `pre_tool` announced last, done, with `result`.
    pub fn post_tool(&mut self, tool: &str, args: Value, result: &str) -> Value {
        let id = format!("call_{}", self.n);
        let v = match self.agent {
            "gemini" => {
                let mut v = fixture("gemini", "after-tool.json");
                v["tool_name"] = json!(tool);
                v["tool_input"] = args;
                v["tool_response"] = json!({"llmContent": result, "returnDisplay": result});
                v
            }
            "copilot-cli" => {
                let mut v = fixture("copilot-cli", "post-tool-use.json");
                v["toolName"] = json!(tool);
                v["toolArgs"] = json!(args.to_string());
                v["toolResult"] = json!({"resultType": "success", "textResultForLlm": result});
                v
            }
            "cline" => {
                let mut v = fixture("cline", "post-tool-use.json");
                v["postToolUse"] = json!({"toolName": tool, "parameters": args,
                    "result": result, "success": true, "executionTimeMs": "3"});
                v
            }
            "opencode" => {
                let mut v = fixture("opencode", "tool-execute-after.json");
                v["input"]["tool"] = json!(tool);
                v["input"]["callID"] = json!(id);
                v["output"] = json!({"title": tool, "output": result, "metadata": {}});
                v
            }
            "cursor" => panic!("cursor has no after-hook for {tool}"),
            "codex" => {
                let mut v = fixture("codex", "post-tool-use.json");
                v["tool_name"] = json!(tool);
                v["tool_input"] = args;
                v["tool_response"] = json!(result);
                v["tool_use_id"] = json!(id);
                v
            }
            _ => {
                let mut v = fixture("claude-code", "post-tool-use.json");
                v["tool_name"] = json!(tool);
                v["tool_input"] = args;
                v["tool_response"] = if tool == "Bash" {
                    json!({"stdout": result, "stderr": "", "interrupted": false})
                } else {
                    json!(result)
                };
                v["tool_use_id"] = json!(id);
                v
            }
        };
        self.with_session(v)
    }

    /// The agent's shell tool: its name and arguments for `cmd`.
    fn shell(&self, cmd: &str) -> (&'static str, Value) {
        match self.agent {
            "gemini" => ("run_shell_command", json!({ "command": cmd })),
            "copilot-cli" | "opencode" => ("bash", json!({"command": cmd, "description": "run"})),
            "cline" => (
                "execute_command",
                json!({"command": cmd, "requires_approval": "false"}),
            ),
            _ => ("Bash", json!({ "command": cmd })),
        }
    }

    /// A shell command about to run.
    pub fn pre_shell(&mut self, cmd: &str) -> Value {
        if self.agent == "cursor" {
            self.n += 1;
            let mut v = fixture("cursor", "before-shell-execution.json");
            v["command"] = json!(cmd);
            return self.with_session(v);
        }
        let (tool, args) = self.shell(cmd);
        self.pre_tool(tool, args)
    }

    /// A shell command that ran and printed `output`.
    pub fn post_shell(&mut self, cmd: &str, output: &str) -> Value {
        if self.agent == "cursor" {
            let mut v = fixture("cursor", "after-shell-execution.json");
            v["command"] = json!(cmd);
            v["output"] = json!(output);
            return self.with_session(v);
        }
        let (tool, args) = self.shell(cmd);
        self.post_tool(tool, args, output)
    }

    /// The agent reading a file with its own read tool (a `cat` for Codex,
    /// whose hooks see shell commands): the before and after events.
    pub fn read(&mut self, path: &str, content: &str) -> Vec<Value> {
        let (tool, args) = match self.agent {
            "cursor" => {
                let mut v = fixture("cursor", "before-read-file.json");
                v["file_path"] = json!(path);
                v["content"] = json!(content);
                return vec![self.with_session(v)];
            }
            "codex" => {
                let cmd = format!("cat {path}");
                return vec![self.pre_shell(&cmd), self.post_shell(&cmd, content)];
            }
            "gemini" => ("read_file", json!({ "file_path": path })),
            "copilot-cli" => ("view", json!({ "path": path })),
            "cline" => ("read_file", json!({ "path": path })),
            "opencode" => ("read", json!({ "filePath": path })),
            _ => ("Read", json!({ "file_path": path })),
        };
        let pre = self.pre_tool(tool, args.clone());
        let result = if self.agent == "claude-code" {
            json!({"type": "text", "file": {"filePath": path, "content": content}}).to_string()
        } else {
            content.to_string()
        };
        let mut post = self.post_tool(tool, args, &result);
        if self.agent == "claude-code" {
            post["tool_response"] =
                json!({"type": "text", "file": {"filePath": path, "content": content}});
        }
        vec![pre, post]
    }

    /// The agent writing `content` to `path` with its own editing tool
    /// (a shell redirection for Cursor, whose edits have no before-hook,
    /// and an `apply_patch` for Codex).
    pub fn pre_write(&mut self, path: &str, content: &str) -> Value {
        let (tool, args) = match self.agent {
            "cursor" => {
                let cmd = format!("printf '%s' '{content}' > {path}");
                return self.pre_shell(&cmd);
            }
            "codex" => {
                let mut lines = String::new();
                for l in content.lines() {
                    lines.push_str(&format!("+{l}\n"));
                }
                (
                    "apply_patch",
                    json!({"command": format!("*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n")}),
                )
            }
            "gemini" => ("write_file", json!({"file_path": path, "content": content})),
            "copilot-cli" => ("create", json!({"path": path, "file_text": content})),
            "cline" => ("write_to_file", json!({"path": path, "content": content})),
            "opencode" => ("write", json!({"filePath": path, "content": content})),
            _ => ("Write", json!({"file_path": path, "content": content})),
        };
        self.pre_tool(tool, args)
    }
}
