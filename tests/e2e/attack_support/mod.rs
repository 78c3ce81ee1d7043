//! What the `attack_*` areas share: a small Claude Code session whose every
//! field the attack chooses, and the start of a loopback server command.
#![allow(clippy::unwrap_used, dead_code)]

use crate::common;
use std::path::Path;
use std::process::{Child, Stdio};

/// The fields of a three-record Claude Code session: the prompt, one assistant
/// turn (thinking, then a tool call), the tool's output.
pub struct Session<'a> {
    pub cwd: &'a str,
    pub branch: &'a str,
    pub prompt: &'a str,
    pub model: &'a str,
    pub thinking: &'a str,
    pub tool: &'a str,
    pub input: serde_json::Value,
    pub output: &'a str,
}

impl Session<'_> {
    /// The session's lines, as Claude Code writes them.
    pub fn lines(&self) -> Vec<String> {
        let sid = "9d4f1c2a-7b3e-4a5d-8c6f-0e1a2b3c4d5e";
        let rec = |kind: &str, uuid: &str, parent: Option<&str>, message: serde_json::Value| {
            serde_json::json!({
                "parentUuid": parent, "isSidechain": false, "userType": "external",
                "cwd": self.cwd, "sessionId": sid, "version": "2.1.39", "gitBranch": self.branch,
                "type": kind, "message": message, "uuid": uuid,
                "timestamp": "2026-03-12T16:05:00.000Z",
            })
            .to_string()
        };
        vec![
            rec(
                "user",
                "u1",
                None,
                serde_json::json!({"role": "user", "content": self.prompt}),
            ),
            rec(
                "assistant",
                "a1",
                Some("u1"),
                serde_json::json!({
                    "model": self.model, "id": "msg_01", "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": self.thinking, "signature": "x"},
                        {"type": "tool_use", "id": "toolu_1", "name": self.tool, "input": self.input},
                    ],
                    "usage": {"input_tokens": 3, "output_tokens": 5},
                }),
            ),
            rec(
                "user",
                "u2",
                Some("a1"),
                serde_json::json!({"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": self.output},
                ]}),
            ),
        ]
    }
}

/// `skilltrace ARGS --listen 127.0.0.1:0 --db DB` started; its child and the
/// address its banner names.
pub fn start_server(args: &[&str], db: &Path) -> (Child, String) {
    let mut child = common::bin()
        .args(args)
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = common::banner_addr(&mut child);
    (child, addr)
}
