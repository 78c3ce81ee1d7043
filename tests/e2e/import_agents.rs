//! The binary importing the new agents' files as a user would: whole JSON
//! documents, one "unsupported format" error per unknown file, documents cut
//! short that keep their complete records, a changed document re-imported
//! without doubling anything, and `doctor` naming the files with errors.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use skilltrace::store::Store;
use std::path::{Path, PathBuf};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");

fn import(paths: &[&Path], db: &Path) {
    ok(bin().arg("import").args(paths).arg("--db").arg(db));
}

fn copy(rel: &str, to: &Path) -> PathBuf {
    let dst = to.join(rel);
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::copy(Path::new(FIX).join(rel), &dst).unwrap();
    dst
}

fn errors(db: &Path) -> Vec<(String, u64, String)> {
    Store::open_read(db)
        .unwrap()
        .parse_errors(None, 100)
        .unwrap()
        .into_iter()
        .map(|e| (e.path, e.line, e.message))
        .collect()
}

fn counts(db: &Path) -> (u64, u64) {
    let c = Store::open_read(db).unwrap().counts().unwrap();
    (c.runs, c.spans)
}

#[test]
fn a_file_of_no_known_format_is_one_error() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    let json_lines: String = (0..50).map(|i| format!("{{\"hello\":{i}}}\n")).collect();
    let text: String = (0..20).map(|i| format!("plain log line {i}\n")).collect();
    let doc = serde_json::to_string_pretty(
        &serde_json::json!({"name":"not a trace","items":[1,2,3],"nested":{"a":{"b":[{"c":1}]}}}),
    )
    .unwrap();
    for (name, body) in [
        ("other.jsonl", json_lines),
        ("notes.ndjson", text),
        ("config.json", doc),
    ] {
        std::fs::write(t.path().join(name), body).unwrap();
    }
    import(&[t.path()], &db);
    let errs = errors(&db);
    assert_eq!(errs.len(), 3, "{errs:?}");
    for (path, line, message) in &errs {
        assert_eq!(*line, 1, "{path}");
        assert!(
            message.starts_with("unsupported format"),
            "{path}: {message}"
        );
        assert!(
            !message.contains("hello") && !message.contains("plain log"),
            "no input quoted: {message}"
        );
    }
    assert!(errs[2].2.contains("50 line(s) of JSON"), "{:?}", errs[2]);
    assert!(
        errs[1].2.contains("first problem, line 1: invalid JSON"),
        "{:?}",
        errs[1]
    );
    assert_eq!(counts(&db), (0, 0));
}

/// Issue 15's case: a pretty-printed Gemini chat was one parse error per line.
#[test]
fn a_pretty_printed_chat_is_one_record_set() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    let doc = copy(
        "gemini-cli/session-2025-12-16T23-47-b4f17607.json",
        t.path(),
    );
    // The same document under a JSON Lines name is still read whole.
    let renamed = t.path().join("chat-as-lines.jsonl");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&doc).unwrap()).unwrap();
    let mut other = v.clone();
    other["sessionId"] = "renamed-session".into();
    std::fs::write(&renamed, serde_json::to_string_pretty(&other).unwrap()).unwrap();
    import(&[&doc, &renamed], &db);
    assert!(errors(&db).is_empty(), "{:?}", errors(&db));
    assert_eq!(counts(&db), (2, 24));
    // Unchanged files are not read again.
    import(&[&doc, &renamed], &db);
    assert_eq!(counts(&db), (2, 24));
}

#[test]
fn documents_cut_short_keep_their_complete_records() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    let cut = |rel: &str, keep: f64| {
        let p = copy(rel, t.path());
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..(b.len() as f64 * keep) as usize]).unwrap();
        p
    };
    let gemini = cut("gemini-cli/session-2025-12-16T23-47-b4f17607.json", 0.6);
    let cline = cut(
        "cline/rooveterinaryinc.roo-cline/tasks/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/api_conversation_history.json",
        0.7,
    );
    let part = cut("opencode/storage/part/m_assistant_large_1/001.json", 0.5);
    let copilot = cut(
        "copilot-cli/aaaabbbb-1111-2222-3333-ccccddddeeee/events.jsonl",
        0.97,
    );
    import(&[&gemini, &cline, &part, &copilot], &db);
    let errs = errors(&db);
    assert_eq!(errs.len(), 4, "one per file: {errs:?}");
    let of = |p: &Path| {
        errs.iter()
            .find(|e| e.0 == p.display().to_string())
            .unwrap()
            .clone()
    };
    assert!(of(&gemini).2.contains("cut short"), "{:?}", of(&gemini));
    assert!(of(&cline).2.contains("cut short"), "{:?}", of(&cline));
    assert!(
        of(&part).2.starts_with("not a readable JSON document"),
        "{:?}",
        of(&part)
    );
    assert_eq!(of(&copilot).1, 8, "the cut last line");
    let s = Store::open_read(&db).unwrap();
    // Gemini: the messages before the cut (m1, m2 and its calls) are stored.
    let g = "session-2025-12-16T23-47-b4f17607";
    assert!(
        s.span(g, "m1").unwrap().is_some() && s.span(g, "run_shell_command-1").unwrap().is_some()
    );
    assert!(s.span(g, "m6").unwrap().is_none());
    // Roo: the first tool call and its result survive.
    let roo = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    let browse = s.span(roo, &format!("{roo}:m1:x0.0")).unwrap().unwrap();
    assert!(browse.tool_output.is_some(), "{browse:?}");
    // Copilot: the seven whole lines are kept.
    assert!(s
        .span("aaaabbbb-1111-2222-3333-ccccddddeeee", "call_1")
        .unwrap()
        .is_some());
}

/// A document the agent rewrote with more messages: re-imported whole, the
/// same spans updated, nothing doubled.
#[test]
fn a_changed_document_is_read_again_without_doubling() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    let p = copy(
        "cline/saoudrizwan.claude-dev/tasks/1755700000000/api_conversation_history.json",
        t.path(),
    );
    let full: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    std::fs::write(&p, serde_json::to_vec(&full[..2]).unwrap()).unwrap();
    import(&[&p], &db);
    let s = Store::open_read(&db).unwrap();
    let call = s.span("1755700000000", "toolu_01Kx").unwrap().unwrap();
    assert_eq!(call.status, skilltrace::model::SpanStatus::Unset);
    let before = counts(&db);
    std::fs::write(&p, serde_json::to_vec(&full).unwrap()).unwrap();
    import(&[&p], &db);
    let s = Store::open_read(&db).unwrap();
    let call = s.span("1755700000000", "toolu_01Kx").unwrap().unwrap();
    assert_eq!(
        call.status,
        skilltrace::model::SpanStatus::Ok,
        "the result arrived"
    );
    // Alone (no UI log beside it), each reply is a request too.
    assert_eq!(before, (1, 4));
    assert_eq!(counts(&db), (1, 13));
    assert!(errors(&db).is_empty(), "{:?}", errors(&db));
}

#[test]
fn doctor_names_the_files_with_parse_errors() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("st/s.db");
    let good = copy(
        "copilot-cli/aaaabbbb-1111-2222-3333-ccccddddeeee/events.jsonl",
        t.path(),
    );
    let bad = t.path().join("unknown.jsonl");
    std::fs::write(&bad, "{\"a\":1}\n{\"a\":2}\n").unwrap();
    import(&[&good, &bad], &db);
    let o = bin()
        .args([
            "doctor",
            "--proxy",
            "127.0.0.1:0",
            "--otlp",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("parse errors: 1 in 1 file(s)"), "{out}");
    assert!(
        out.contains(&format!(
            "{} (1 error(s), first at line 1: unsupported format",
            bad.display()
        )),
        "{out}"
    );
    assert!(!out.contains(&good.display().to_string()), "{out}");
}
