//! Real headless Claude Code sessions (`claude -p --output-format stream-json`,
//! saved by a CI workflow and committed by a third party): imported by the binary
//! with every tool call and its answer, the model calls with their tokens, the
//! `init` and `result` records as events, no parse error, no finding and no
//! redaction on honest work.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::real_sessions::{export, import, tool_calls};

use common::findings_json;
use std::path::PathBuf;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");

#[test]
fn a_real_headless_claude_code_stream_imports_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let file = PathBuf::from(FIX).join("claude-code/stream_json_excerpt.jsonl");
    let (db, said) = import(dir.path(), &[file]);
    assert!(said.contains("0 parse errors"), "{said}");
    let (runs, spans) = export(&db);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0]["run"];
    assert_eq!(run["id"], "070faa9c-e86c-4277-a3a2-168a043f38bd");
    assert_eq!(run["agent"], "claude-code");
    assert_eq!(
        run["cwd"],
        "/home/runner/work/agentic-org-v2/agentic-org-v2"
    );
    assert_eq!(
        tool_calls(&spans),
        vec![
            ("Read".to_owned(), "ok".to_owned(), true),
            ("Bash".to_owned(), "ok".to_owned(), true)
        ]
    );
    // Three model responses, each counted once although Claude Code repeats the
    // usage on every content block: input = input + cache writes + cache reads.
    let mut llm: Vec<(String, u64, u64)> = Vec::new();
    for s in spans
        .iter()
        .map(|s| &s["span"])
        .filter(|s| s["kind"] == "llm")
    {
        let row = (
            s["id"].as_str().unwrap().to_owned(),
            s["input_tokens"].as_u64().unwrap(),
            s["output_tokens"].as_u64().unwrap(),
        );
        assert_eq!(s["model"], "claude-sonnet-4-6");
        match llm.iter_mut().find(|r| r.0 == row.0) {
            Some(r) => *r = row,
            None => llm.push(row),
        }
    }
    assert_eq!(
        llm,
        vec![
            (
                "msg_013cU8Ei668MaTcXFJhMhbSj".to_owned(),
                3 + 5258 + 16048,
                8
            ),
            (
                "msg_01T5okjg5riRS8w3rEx3vseS".to_owned(),
                1 + 778 + 21306,
                8
            ),
            (
                "msg_01HxL1PKUwFN9FJaFVVkVKAL".to_owned(),
                1 + 205 + 30794,
                1
            ),
        ]
    );
    let event = |name: &str| {
        spans
            .iter()
            .map(|s| &s["span"])
            .find(|s| s["kind"] == "event" && s["name"] == name)
            .unwrap_or_else(|| panic!("no {name} event"))
            .clone()
    };
    let init = event("init");
    assert_eq!(init["attributes"]["claude_code_version"], "2.1.63");
    assert_eq!(init["attributes"]["model"], "claude-sonnet-4-6");
    let result = event("result");
    assert_eq!(result["status"], "unset");
    assert_eq!(result["attributes"]["num_turns"], 7);
    assert_eq!(result["attributes"]["duration_ms"], 113094);
    assert!(result["text"].as_str().unwrap().starts_with("Done."));
    // Honest work: no finding at all, and nothing redacted.
    assert_eq!(findings_json(&db), Vec::<serde_json::Value>::new());
    let text = serde_json::to_string(&spans).unwrap();
    assert!(!text.contains("[REDACTED"), "a false redaction");
}

/// The same messages saved as one JSON array (as CI actions write their execution
/// file): every element a record, ids unique although all sit on line 1.
#[test]
fn a_headless_stream_saved_as_a_json_array_imports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let lines =
        std::fs::read_to_string(PathBuf::from(FIX).join("claude-code/stream_json_excerpt.jsonl"))
            .unwrap();
    let items: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let file = dir.path().join("claude-execution-output.json");
    std::fs::write(&file, serde_json::to_string_pretty(&items).unwrap()).unwrap();
    let (db, said) = import(dir.path(), &[file]);
    assert!(
        said.contains("10 new spans") && said.contains("0 parse errors"),
        "{said}"
    );
    let (runs, spans) = export(&db);
    assert_eq!(runs.len(), 1);
    assert_eq!(tool_calls(&spans).len(), 2);
    assert_eq!(findings_json(&db), Vec::<serde_json::Value>::new());
}
