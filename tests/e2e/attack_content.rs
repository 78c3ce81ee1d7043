//! Attacks on guarantees 3 and 4 with content `attack_terminal` leaves out: a
//! run id (the session id) carrying terminal escapes and NUL, file and folder
//! names of invalid UTF-8 with escapes, a line of invalid UTF-8 between good
//! ones, one line of 8 MiB, tool input and output holding JSON nested 100,000
//! deep, and an OTLP file nested 5,000 deep beside an OTLP span whose name,
//! service and attribute keys carry escapes. Import never panics and keeps the
//! good lines around the bad; every command (text and JSON), every export,
//! `doctor` and every TUI view print valid UTF-8 holding no unsafe character,
//! and every JSON they print parses.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use crossterm::event::{KeyCode, KeyModifiers};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Terminal escapes (OSC 52, CSI clear, C1 CSI), a bidi override and NUL.
const HOSTILE: &str = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{0}";

fn unsafe_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| common::never_on_a_terminal(c))
        .collect()
}

fn claude(
    kind: &str,
    uuid: &str,
    parent: Option<&str>,
    sid: &str,
    msg: serde_json::Value,
) -> String {
    serde_json::json!({
        "parentUuid": parent, "isSidechain": false, "userType": "external",
        "cwd": "/home/dev/app", "sessionId": sid, "version": "2.1.39", "gitBranch": "main",
        "type": kind, "message": msg, "uuid": uuid, "timestamp": "2026-03-12T16:05:00.000Z",
    })
    .to_string()
}

/// A session whose id is hostile: a 100,000-deep JSON text as tool input and
/// output, a line of invalid UTF-8, one line of 8 MiB, a good last line.
fn session() -> Vec<u8> {
    let sid = format!("sess{HOSTILE}x");
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let long = format!("{}{HOSTILE}", "y".repeat(8 << 20));
    let mut lines: Vec<Vec<u8>> = vec![
        claude(
            "user",
            "u1",
            None,
            &sid,
            serde_json::json!({"role": "user", "content": format!("first {HOSTILE}")}),
        )
        .into_bytes(),
        claude(
            "assistant",
            "a1",
            Some("u1"),
            &sid,
            serde_json::json!({
            "model": "claude-opus-4-6", "id": "msg_01", "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": format!("Bash{HOSTILE}"),
                         "input": {"command": deep.clone(), "nested": deep}}],
            "usage": {"input_tokens": 3, "output_tokens": 5}}),
        )
        .into_bytes(),
        claude(
            "user",
            "u2",
            Some("a1"),
            &sid,
            serde_json::json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "[".repeat(100_000)}]}),
        )
        .into_bytes(),
    ];
    let bad = claude(
        "user",
        "u3",
        Some("u2"),
        &sid,
        serde_json::json!({"role": "user", "content": "BAD"}),
    );
    lines.push(
        bad.replace("BAD", "bad \u{1}")
            .into_bytes()
            .iter()
            .map(|&b| if b == 1 { 0xff } else { b })
            .collect(),
    );
    lines.push(
        claude(
            "user",
            "u4",
            Some("u2"),
            &sid,
            serde_json::json!({"role": "user", "content": long}),
        )
        .into_bytes(),
    );
    lines.push(
        claude(
            "user",
            "u5",
            Some("u4"),
            &sid,
            serde_json::json!({"role": "user", "content": "last good line"}),
        )
        .into_bytes(),
    );
    lines.join(&b"\n"[..])
}

/// An OTLP file: one span with hostile name, service and attribute key, then
/// a document nested 5,000 deep.
fn otlp() -> String {
    let attr = |k: &str, v: &str| serde_json::json!({"key": k, "value": {"stringValue": v}});
    let span = serde_json::json!({
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        "name": format!("chat{HOSTILE}"), "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [attr(&format!("k{HOSTILE}"), &format!("v{HOSTILE}"))],
    });
    let good = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", &format!("svc{HOSTILE}"))]},
        "scopeSpans": [{"spans": [span]}],
    }]});
    let n = 5000;
    let deep = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"1af7651916cd43dd8448eb211c80319c","spanId":"c7ad6b7169203331","name":"deep","attributes":[{{"key":"deep","value":{}{{"stringValue":"leaf"}}{}}}]}}]}}]}}]}}"#,
        r#"{"kvlistValue":{"values":[{"key":"k","value":"#.repeat(n),
        "}]}}".repeat(n)
    );
    format!("{good}\n{deep}\n")
}

fn text_of(cmd: &mut std::process::Command) -> String {
    let out = ok(cmd);
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
        + &String::from_utf8(out.stderr).expect("stderr is UTF-8")
}

#[test]
fn hostile_ids_names_bytes_sizes_and_depths_crash_nothing_and_print_nothing_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    // A folder and a file named with invalid UTF-8 and escapes.
    let odd = traces.join(OsStr::from_bytes(b"dir\xff\x1b[2J"));
    std::fs::create_dir_all(&odd).unwrap();
    let file = odd.join(OsStr::from_bytes(b"s\xfe\x1b]52;c;ZXZpbA==\x07.jsonl"));
    std::fs::write(&file, session()).unwrap();
    std::fs::write(traces.join("otlp.json"), otlp()).unwrap();
    let db = dir.path().join("s.db");
    let import = bin()
        .arg("import")
        .arg(&traces)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let said =
        String::from_utf8(import.stderr).unwrap() + &String::from_utf8(import.stdout).unwrap();
    assert_eq!(import.status.code(), Some(0), "{said}");
    assert!(
        said.contains("2 parse errors"),
        "the bad line and the deep document: {said}"
    );
    let mut outputs: Vec<(String, String)> = vec![("import".into(), said)];
    let mut run = |name: &str, args: &[&str]| {
        let text = text_of(bin().args(args).arg("--db").arg(&db));
        outputs.push((name.to_string(), text.clone()));
        text
    };
    run("runs", &["runs"]);
    let runs_json = run("runs json", &["runs", "--format", "json"]);
    run("findings", &["findings"]);
    let findings_json = run("findings json", &["findings", "--format", "json"]);
    let export = run("export json", &["export", "--format", "json"]);
    let sarif = run("export sarif", &["export", "--format", "sarif"]);
    let otlp_out = run("export otlp", &["export", "--format", "otlp"]);
    // `doctor` exits 1: the parse errors are things to fix.
    let doctor = bin().arg("doctor").arg("--db").arg(&db).output().unwrap();
    assert_eq!(doctor.status.code(), Some(1));
    outputs.push((
        "doctor".into(),
        String::from_utf8(doctor.stdout).unwrap() + &String::from_utf8(doctor.stderr).unwrap(),
    ));
    let runs: Vec<serde_json::Value> = serde_json::from_str(&runs_json).unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&format!("sess{HOSTILE}x").as_str()),
        "the run id kept whole in JSON: {ids:?}"
    );
    assert_eq!(runs.len(), 2, "{ids:?}");
    serde_json::from_str::<serde_json::Value>(&findings_json).unwrap();
    serde_json::from_str::<serde_json::Value>(&sarif).unwrap();
    for l in export.lines().chain(otlp_out.lines()) {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    // The good lines around the bad one are kept, the 8 MiB one included.
    for kept in ["first ", "last good line", "yyyyyyyy", "[[[[[[[["] {
        assert!(export.contains(kept), "{kept} was lost");
    }

    let mut h = skilltrace::tui::harness::Harness::new(
        &db,
        160,
        48,
        1_900_000_000_000,
        skilltrace::tui::theme::Theme::dark(),
    )
    .unwrap();
    let mut frames = vec![h.draw()];
    for _ in 0..2 {
        h.key(KeyCode::Enter, KeyModifiers::NONE);
        frames.push(h.draw());
        for _ in 0..6 {
            h.key(KeyCode::Enter, KeyModifiers::NONE);
            frames.push(h.draw());
            h.key(KeyCode::Esc, KeyModifiers::NONE);
            h.press('j');
        }
        h.key(KeyCode::Esc, KeyModifiers::NONE);
        h.press('j');
    }
    for _ in 0..6 {
        h.key(KeyCode::Tab, KeyModifiers::NONE);
        frames.push(h.draw());
    }
    for (i, f) in frames.into_iter().enumerate() {
        outputs.push((format!("tui frame {i}"), f));
    }
    for (name, text) in &outputs {
        let bad = unsafe_chars(text);
        assert!(bad.is_empty(), "{name} prints {bad:?}");
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        if !name.starts_with("export") && !name.ends_with("json") {
            assert!(widest < 4096, "{name} prints a line of {widest} characters");
        }
    }
    assert!(Path::new(&db).exists());
}
