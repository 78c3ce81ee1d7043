//! End to end: a generated corpus with one planted secret of every built-in rule type,
//! in Claude Code, Codex and OTLP JSONL (inside tool arguments that are JSON inside
//! JSON, tool results, prompts, OTLP message attributes and HTTP header attributes),
//! goes through `skilltrace import`; then every byte of the store (db, `-wal`, `-shm`),
//! of `skilltrace export --format json` and of the commands' own output is searched,
//! and none of the secret values may occur.
#![allow(clippy::unwrap_used)]

use crate::redaction_support;

use redaction_support::{alnum, planted};
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skilltrace"));
    c.env_remove("SKILLTRACE_DB")
        .env("SKILLTRACE_CONFIG", "/nonexistent/skilltrace.toml")
        .env("NO_COLOR", "1");
    c
}

fn ts(i: usize) -> String {
    format!("2026-03-07T16:{:02}:{:02}.000Z", (i / 60) % 60, i % 60)
}

fn claude_lines(texts: &[String], header_secret: &str) -> String {
    let session = "7fa801e9-bd36-4c01-b2d1-b64fbd837bac";
    let mut out = String::new();
    let mut parent = serde_json::Value::Null;
    let push = |v: serde_json::Value, out: &mut String| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    let first = json!({"parentUuid": null, "sessionId": session, "cwd": "/home/dev/p", "type": "user",
        "uuid": "u-0", "timestamp": ts(0),
        "message": {"role": "user", "content": format!("deploy with {}", texts[0])}});
    push(first, &mut out);
    for (i, t) in texts.iter().enumerate() {
        let tu = format!("toolu_{i:04}");
        let a = json!({"parentUuid": parent, "sessionId": session, "cwd": "/home/dev/p", "type": "assistant",
            "uuid": format!("a-{i}"), "timestamp": ts(2 * i + 1),
            "message": {"model": "claude-opus-4-6", "id": format!("msg_{i:04}"), "role": "assistant",
                "content": [{"type": "tool_use", "id": tu, "name": "Bash",
                    "input": {"command": format!("printf '%s' \"{t}\""),
                              "headers": {"Authorization": format!("Bearer {header_secret}")}}}],
                "usage": {"input_tokens": 3, "output_tokens": 42}}});
        push(a, &mut out);
        let u = json!({"parentUuid": format!("a-{i}"), "sessionId": session, "cwd": "/home/dev/p", "type": "user",
            "uuid": format!("u-{}", i + 1), "timestamp": ts(2 * i + 2),
            "message": {"role": "user", "content": [{"tool_use_id": tu, "type": "tool_result",
                "content": format!("output:\n{t}\n"), "is_error": false}]}});
        push(u, &mut out);
        parent = json!(format!("u-{}", i + 1));
    }
    out
}

fn codex_lines(texts: &[String]) -> String {
    let mut out = String::new();
    let mut push = |v: serde_json::Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    push(
        json!({"timestamp": ts(0), "type": "session_meta", "payload": {"id": "8b5e7b6e-aa01-cde0-bd23-44ae64b3ae7e",
        "timestamp": ts(0), "cwd": "/home/dev/src", "originator": "codex_cli_rs", "cli_version": "0.104.0", "source": "cli"}}),
    );
    push(
        json!({"timestamp": ts(1), "type": "event_msg", "payload": {"type": "task_started", "turn_id": "t1"}}),
    );
    push(
        json!({"timestamp": ts(2), "type": "response_item", "payload": {"type": "message", "role": "user",
        "content": [{"type": "input_text", "text": format!("fix it: {}", texts[1])}]}}),
    );
    for (i, t) in texts.iter().enumerate() {
        let call = format!("call_{i:04}");
        // Arguments are JSON encoded in a string, as Codex writes them.
        let args = json!({"cmd": format!("echo \"{t}\""), "workdir": "/home/dev/src"}).to_string();
        push(
            json!({"timestamp": ts(2 * i + 3), "type": "response_item", "payload": {"type": "function_call",
            "name": "exec_command", "arguments": args, "call_id": call}}),
        );
        push(
            json!({"timestamp": ts(2 * i + 4), "type": "response_item", "payload": {"type": "function_call_output",
            "call_id": call, "output": format!("{t}\n")}}),
        );
    }
    out
}

fn otlp_lines(texts: &[String], header_secret: &str, cookie: &str) -> String {
    let mut out = String::new();
    for (i, t) in texts.iter().enumerate() {
        let messages = json!([{"role": "user", "parts": [{"type": "text", "content": t}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": format!("c{i}"), "name": "http",
                "arguments": json!({"body": t}).to_string()}]}])
        .to_string();
        let attrs = json!([
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.conversation.id", "value": {"stringValue": "conv_e2e"}},
            {"key": "gen_ai.input.messages", "value": {"stringValue": messages}},
            {"key": "http.request.header.authorization", "value": {"arrayValue": {"values": [{"stringValue": format!("Bearer {header_secret}")}]}}},
            {"key": "http.request.header.cookie", "value": {"arrayValue": {"values": [{"stringValue": cookie}]}}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}}
        ]);
        let line = json!({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "e2e"}}]},
            "scopeSpans": [{"scope": {"name": "e2e"}, "spans": [{
                "traceId": "56e841854fb6f5af5a80ffe1d9441ad0", "spanId": format!("{:016x}", i + 1),
                "name": "chat gpt-5", "kind": 3,
                "startTimeUnixNano": format!("{}", 1_773_048_600_000_000_000u64 + i as u64 * 1_000_000),
                "endTimeUnixNano": format!("{}", 1_773_048_600_500_000_000u64 + i as u64 * 1_000_000),
                "attributes": attrs, "status": {"code": 0}}]}]}]});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    memchr::memmem::find(hay, needle.as_bytes()).is_some()
}

#[test]
fn no_planted_secret_reaches_the_store_or_an_export() {
    let planted = planted();
    let texts: Vec<String> = planted.iter().map(|(_, t, _)| t.clone()).collect();
    let header_secret = alnum(44, 900);
    let cookie = format!("sid={}", alnum(30, 901));
    let mut secrets: Vec<(String, String)> = planted
        .iter()
        .map(|(r, _, s)| (r.to_string(), s.clone()))
        .collect();
    secrets.push(("header".into(), header_secret.clone()));
    secrets.push(("cookie".into(), cookie.clone()));

    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("traces");
    std::fs::create_dir_all(dir.join("claude")).unwrap();
    std::fs::create_dir_all(dir.join("codex")).unwrap();
    std::fs::create_dir_all(dir.join("otel")).unwrap();
    std::fs::write(
        dir.join("claude/7fa801e9-bd36-4c01-b2d1-b64fbd837bac.jsonl"),
        claude_lines(&texts, &header_secret),
    )
    .unwrap();
    std::fs::write(
        dir.join("codex/rollout-2026-03-07T16-00-00-8b5e7b6e-aa01-cde0-bd23-44ae64b3ae7e.jsonl"),
        codex_lines(&texts),
    )
    .unwrap();
    std::fs::write(
        dir.join("otel/spans.jsonl"),
        otlp_lines(&texts, &header_secret, &cookie),
    )
    .unwrap();
    let db = t.path().join("store/skilltrace.db");

    let imp = exe()
        .arg("import")
        .arg(&dir)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        imp.status.success(),
        "import: {}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let exp = exe()
        .args(["export", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        exp.status.success(),
        "export: {}",
        String::from_utf8_lossy(&exp.stderr)
    );
    let export = exp.stdout.clone();

    // The corpus really went in: all three formats, with markers for nearly every rule.
    let s = String::from_utf8_lossy(&export);
    for agent in ["claude-code", "codex", "otel"] {
        assert!(s.contains(agent), "no {agent} run in the export");
    }
    let named: std::collections::BTreeSet<&str> = planted
        .iter()
        .map(|(r, _, _)| *r)
        .filter(|r| s.contains(&format!("[REDACTED:{r}]")))
        .collect();
    let missing: Vec<&str> = planted
        .iter()
        .map(|(r, _, _)| *r)
        .filter(|r| !named.contains(r))
        .collect();
    assert!(
        missing.len() <= 3,
        "rules never named in the export: {missing:?}"
    );

    let mut blobs: Vec<(String, Vec<u8>)> = vec![
        ("export".into(), export),
        ("import stdout".into(), imp.stdout),
        ("import stderr".into(), imp.stderr),
        ("export stderr".into(), exp.stderr),
    ];
    let store_dir = db.parent().unwrap();
    let mut store_files = 0;
    for e in std::fs::read_dir(store_dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("skilltrace.db") {
            store_files += 1;
            blobs.push((name, std::fs::read(&p).unwrap()));
        }
    }
    assert!(store_files >= 1);
    // A live connection keeps -wal and -shm: read the store while one is open too.
    let _reader = skilltrace::store::Store::open_read(&db).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let p = Path::new(&format!("{}{suffix}", db.display())).to_path_buf();
        if p.exists() {
            blobs.push((format!("open{suffix}"), std::fs::read(&p).unwrap()));
        }
    }
    for (name, bytes) in &blobs {
        for (rule, secret) in &secrets {
            assert!(!contains(bytes, secret), "{rule} secret found in {name}");
        }
    }
}

#[test]
fn the_byte_search_would_see_secrets_if_redaction_were_off() {
    // Control for the test above: with `enabled = false` the same search finds the values.
    let planted = planted();
    let texts: Vec<String> = planted.iter().map(|(_, t, _)| t.clone()).collect();
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("config.toml");
    std::fs::write(&cfg, "[redaction]\nenabled = false\n").unwrap();
    let f = t
        .path()
        .join("rollout-2026-03-07T16-00-00-8b5e7b6e-aa01-cde0-bd23-44ae64b3ae7e.jsonl");
    std::fs::write(&f, codex_lines(&texts)).unwrap();
    let db = t.path().join("s.db");
    let imp = exe()
        .env("SKILLTRACE_CONFIG", &cfg)
        .arg("import")
        .arg(&f)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        imp.status.success(),
        "{}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let exp = exe()
        .env("SKILLTRACE_CONFIG", &cfg)
        .args(["export", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let found = planted
        .iter()
        .filter(|(_, _, s)| contains(&exp.stdout, s))
        .count();
    assert!(
        found + 3 >= planted.len(),
        "only {found} of {} found unredacted",
        planted.len()
    );
}
