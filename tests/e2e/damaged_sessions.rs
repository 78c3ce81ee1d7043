//! Session files damaged the way real agents' writers damage them, imported by
//! the binary: a Copilot CLI 1.0.24 tool result broken across lines by raw
//! newlines (github/copilot-cli#2649), NUL blocks a crash leaves
//! (anthropics/claude-code#49876, #76059; github/copilot-cli#2927), a Codex
//! record cut short with the next one on its line (openai/codex#24425) and
//! Claude Code 2.1.267 bookkeeping records. Every record that is whole is
//! read, every tool call has its result, and each damaged line is one error.
#![allow(clippy::unwrap_used)]

use crate::real_sessions::{export, import, tool_calls};
use skilltrace::store::Store;
use std::path::Path;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/damaged");

#[test]
fn damaged_sessions_keep_every_whole_record_and_each_tool_result() {
    let t = tempfile::tempdir().unwrap();
    let (db, said) = import(t.path(), &[Path::new(FIX).to_path_buf()]);
    assert!(said.contains("imported 3 files"), "{said}");
    // 15 from the records, and the Claude Code session's `cost-state` span
    // (its own cost, kept as the run's reported figure).
    assert!(said.contains(" 16 new spans"), "{said}");
    assert!(said.contains(" 0 new findings"), "{said}");
    let (runs, spans) = export(&db);
    let mut titles: Vec<_> = runs
        .iter()
        .map(|r| r["run"]["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Run the tests",
            "Summarise the plans on https://docs.github.com/en/copilot/get-started/plans",
            "Why does the build fail?",
        ]
    );
    let mut calls = tool_calls(&spans);
    calls.sort();
    let ok = |n: &str| (n.to_owned(), "ok".to_owned(), true);
    // The build the Codex call ran failed (exit code 2): an error, with its output.
    let failed = ("shell".to_owned(), "error".to_owned(), true);
    assert_eq!(calls, [ok("Bash"), failed, ok("web_fetch")]);
    // The result broken by raw newlines is read whole, its newlines restored.
    let fetched = spans
        .iter()
        .rev()
        .map(|s| &s["span"])
        .find(|s| s["tool_name"] == "web_fetch" && s["tool_output"].is_string())
        .unwrap();
    let out = fetched["tool_output"].as_str().unwrap();
    assert!(
        out.contains("# Plans\n\nFree: 1 project\nTeam: 10 projects, \"priority\" support"),
        "{out}"
    );
    // The tool result beside a 9 KB NUL block is read (before: the call had none).
    let bash = spans
        .iter()
        .rev()
        .map(|s| &s["span"])
        .find(|s| s["tool_name"] == "Bash" && s["tool_output"].is_string())
        .unwrap();
    assert_eq!(bash["tool_output"], "12 passing");
    // Each damaged line is one error; the new bookkeeping records are none.
    let store = Store::open_read(&db).unwrap();
    let mut errors: Vec<(String, u64, bool)> = store
        .parse_errors(None, 50)
        .unwrap()
        .into_iter()
        .map(|e| {
            let file = if e.path.ends_with("events.jsonl") {
                "copilot"
            } else if e.path.contains("rollout-") {
                assert!(e.message.contains("cut short"), "{}", e.message);
                "codex"
            } else {
                "claude"
            };
            (file.to_owned(), e.line, e.message.contains("NUL byte"))
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            ("claude".to_owned(), 6, true),
            ("claude".to_owned(), 7, true),
            ("claude".to_owned(), 11, true),
            ("codex".to_owned(), 4, false),
            ("copilot".to_owned(), 6, false),
            ("copilot".to_owned(), 14, true),
        ]
    );
}
