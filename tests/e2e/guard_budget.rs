//! The guard and cost budgets (issue 19): once a run's model calls cost more
//! than `[budgets] run`, the guard asks before that run's next tool call,
//! naming COST-TRACE-001; under budget, or with no budget set, it allows.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::gpt4o_mini_call as call;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

/// Claude Code's PreToolUse for `git status` in session `session`.
fn pre_tool(session: &str) -> Value {
    json!({
        "session_id": session,
        "transcript_path": "/home/dev/.claude/projects/demo/s.jsonl",
        "cwd": "/home/dev/demo",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "git status", "description": "status"},
        "tool_use_id": "toolu_budget_1"
    })
}

fn guard(cfg: &Path, db: &Path, ev: &Value) -> Output {
    common::run_with_stdin(
        common::bin()
            .env("SKILLTRACE_CONFIG", cfg)
            .args(["guard", "--agent", "claude-code", "--db"])
            .arg(db),
        ev.to_string().as_bytes(),
    )
}

#[test]
fn a_run_over_its_cost_budget_is_asked_about_before_its_next_tool_call() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("st.db");
    let traces = t.path().join("calls.jsonl");
    // $0.15 (1M tokens) in run "spendy", $0.0015 in run "thrifty".
    std::fs::write(
        &traces,
        call("spendy", "a1", 600_000)
            + &call("spendy", "a2", 400_000)
            + &call("thrifty", "b1", 10_000),
    )
    .unwrap();
    let none = t.path().join("none.toml");
    std::fs::write(&none, "").unwrap();
    common::ok(
        common::bin()
            .env("SKILLTRACE_CONFIG", &none)
            .arg("import")
            .arg(&traces)
            .arg("--db")
            .arg(&db),
    );
    // No budget set: nothing to ask about.
    assert_eq!(
        common::claude_decision(&guard(&none, &db, &pre_tool("spendy"))),
        "allow"
    );

    let cfg = t.path().join("config.toml");
    std::fs::write(&cfg, "[budgets]\nrun = 0.10\n").unwrap();
    let out = guard(&cfg, &db, &pre_tool("spendy"));
    assert_eq!(common::claude_decision(&out), "ask", "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("COST-TRACE-001"), "{text}");
    assert_eq!(
        common::claude_decision(&guard(&cfg, &db, &pre_tool("thrifty"))),
        "allow"
    );

    // The policy decides what a crossing earns, as for any rule.
    let strict = t.path().join("strict.toml");
    std::fs::write(
        &strict,
        "[budgets]\nrun = 0.10\n[guard.rules]\n\"COST-TRACE-001\" = \"deny\"\n",
    )
    .unwrap();
    assert_eq!(
        common::claude_decision(&guard(&strict, &db, &pre_tool("spendy"))),
        "deny"
    );
}
