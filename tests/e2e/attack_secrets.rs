//! Attacks on guarantee 1 through channels other tests leave out: a token in
//! the trace file's and its folder's names, in JSON keys, URL userinfo and
//! query strings, JSON-escaped (`\u0067hp_…`) and percent-encoded, nested as
//! JSON inside a string, in thinking text and in an upstream's error body; and
//! a token typed into a command line or a path that `error:` lines repeat, and
//! one in a request path, query or bad body sent to the receivers, a bad line
//! or the store's folder name that logs and `doctor` might repeat.
//! Every byte of the db, `-wal`, `-shm`, every export and every command's
//! output is scanned for any 8-character piece of each token.
#![allow(clippy::unwrap_used)]

use crate::{attack_support, common};

use common::{bin, ok};
use std::path::Path;
use std::process::Stdio;

const GH: &str = "ghp_R8x2Kq9ZtW4mN7vB3cY6pL1dF5hJ0sGaE2uQ";
const SK: &str = "sk-proj-Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa9876543210abcd";
const AWS: &str = "AKIAQ3EGV7TZK2XWN4PL";

/// Any 8-character piece of any planted token found in `bytes`.
fn pieces_in(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for secret in [GH, SK, AWS] {
        // The rule-named prefixes (`ghp_`, `sk-proj-`, `AKIA`) are not secret.
        let body = &secret[4..];
        for i in 0..=body.len() - 8 {
            let piece = &body.as_bytes()[i..i + 8];
            if bytes.windows(8).any(|w| w == piece) {
                found.push(String::from_utf8_lossy(piece).into_owned());
            }
        }
    }
    found
}

fn session(path: &Path) {
    let sid = "9d4f1c2a-7b3e-4a5d-8c6f-0e1a2b3c4d5e";
    let nested = serde_json::json!({"auth": {"Authorization": format!("Bearer {GH}"), "aws": AWS}});
    let thinking = format!("the deploy key is {SK}, use it");
    let output = format!("{{\"error\":{{\"message\":\"Incorrect API key provided: {SK}\"}}}}");
    let mut lines = attack_support::Session {
        cwd: "/home/dev/app",
        branch: "main",
        prompt: "push the release",
        model: "claude-opus-4-6",
        thinking: &thinking,
        tool: "Bash",
        input: serde_json::json!({
            "command": format!("git push https://x-access-token:{GH}@github.com/o/r.git && curl 'https://api.example/v1?api_key={SK}&q=1'"),
            GH: "a token as a JSON key",
            "nested": nested.to_string(),
        }),
        output: &output,
    }
    .lines();
    // The same token JSON-escaped letter by letter, and percent-encoded.
    let escaped: String = GH.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    let pct: String = GH.bytes().map(|b| format!("%{b:02X}")).collect();
    lines.push(format!(
        r#"{{"parentUuid":"u2","isSidechain":false,"userType":"external","cwd":"/home/dev/app","sessionId":"{sid}","version":"2.1.39","type":"user","message":{{"role":"user","content":"escaped {escaped} and https://h.example/?token={pct}"}},"uuid":"u3","timestamp":"2026-03-12T16:05:01.000Z"}}"#
    ));
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn a_token_in_file_and_folder_names_and_odd_channels_reaches_no_byte_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join(format!("exported-{GH}"));
    std::fs::create_dir(&traces).unwrap();
    let file = traces.join(format!("session-{GH}.jsonl"));
    session(&file);
    let store = dir.path().join("store");
    let db = store.join("s.db");
    let mut said = Vec::new();
    let import = ok(bin().arg("import").arg(&traces).arg("--db").arg(&db));
    said.push(import.stderr);
    said.push(import.stdout);
    // Imported again: found again by its kept path, so nothing is read twice.
    let again = ok(bin().arg("import").arg(&traces).arg("--db").arg(&db));
    let again_text = String::from_utf8_lossy(&again.stdout).into_owned()
        + &String::from_utf8_lossy(&again.stderr);
    assert!(again_text.contains(" 0 new spans"), "{again_text}");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (fmt, name) in [
        ("sarif", "x.sarif"),
        ("json", "x.jsonl"),
        ("otlp", "x.otlp.json"),
    ] {
        let o = ok(bin()
            .args(["export", "--format", fmt, "-o"])
            .arg(out.join(name))
            .arg("--db")
            .arg(&db));
        said.push(o.stderr);
    }
    for args in [
        &["runs"][..],
        &["runs", "--format", "json"],
        &["findings"],
        &["findings", "--format", "json"],
        &["doctor"],
        &["export", "--format", "json"],
    ] {
        let o = bin().args(args).arg("--db").arg(&db).output().unwrap();
        said.push(o.stdout);
        said.push(o.stderr);
    }
    let scan = bin()
        .args(["scan", "--output", "json"])
        .arg(&traces)
        .output()
        .unwrap();
    said.push(scan.stdout);
    said.push(scan.stderr);

    let findings = common::findings_json(&db);
    assert!(
        findings.iter().any(|f| f["rule_id"] == "SEC-TRACE-001"),
        "the tokens were seen: {findings:?}"
    );
    let mut files = Vec::new();
    for d in [&store, &out] {
        for e in std::fs::read_dir(d).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    assert!(files.iter().any(|p| p.ends_with("s.db")));
    for p in &files {
        let bytes = std::fs::read(p).unwrap();
        let found = pieces_in(&bytes);
        assert!(found.is_empty(), "{} holds {found:?}", p.display());
    }
    for (i, bytes) in said.iter().enumerate() {
        let found = pieces_in(bytes);
        assert!(
            found.is_empty(),
            "output {i} holds {found:?}: {}",
            String::from_utf8_lossy(bytes)
        );
    }
    // The control: the scan sees the tokens where they are.
    assert!(!pieces_in(&std::fs::read(&file).unwrap()).is_empty());
    assert!(!pieces_in(file.to_string_lossy().as_bytes()).is_empty());
}

#[test]
fn error_lines_repeat_no_token_and_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(bin()
        .arg("import")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/claude-code/benign-fix-rounding.jsonl"
        ))
        .arg("--db")
        .arg(&db));
    let missing = dir.path().join(format!("gone-{GH}.jsonl"));
    let cases: Vec<Vec<String>> = vec![
        vec!["findings".into(), "--severity".into(), GH.into()],
        vec!["runs".into(), format!("--{SK}")],
        vec!["import".into(), missing.display().to_string()],
        vec!["replay".into(), format!("run-{GH}")],
        vec![
            "export".into(),
            "--format".into(),
            "json".into(),
            "--run".into(),
            SK.into(),
        ],
        vec![
            "runs".into(),
            "--db".into(),
            dir.path()
                .join(format!("no-{AWS}/s.db"))
                .display()
                .to_string(),
        ],
    ];
    for args in cases {
        let mut cmd = bin();
        cmd.args(&args);
        if !args.iter().any(|a| a == "--db") {
            cmd.arg("--db").arg(&db);
        }
        let o = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err:?}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            pieces_in(err.as_bytes()).is_empty(),
            "{args:?} repeats a token: {err}"
        );
        assert!(pieces_in(&o.stdout).is_empty());
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(bin()
        .arg("import")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/"))
        .arg("--db")
        .arg(&db));
    for args in [
        &["doctor"][..],
        &["runs"],
        &["findings"],
        &["export", "--format", "sarif"],
    ] {
        let mut child = bin()
            .args(args)
            .arg("--db")
            .arg(&db)
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{args:?}: {err}"
        );
    }
}

/// `POST path` with `body` on its own connection: the status and the answer.
fn post_raw(addr: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let head = common::post_head(
        addr,
        path,
        &[("Content-Type", "application/json")],
        body.len(),
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let code = String::from_utf8_lossy(&resp[9..12]).parse().unwrap_or(0);
    (code, resp)
}

/// SIGTERM, then wait; stdout and stderr.
fn stop(child: std::process::Child) -> Vec<u8> {
    ok(std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null()));
    let o = child.wait_with_output().unwrap();
    let mut b = o.stdout;
    b.extend_from_slice(&o.stderr);
    b
}

#[test]
fn a_token_in_a_request_path_a_bad_body_a_bad_line_or_the_store_path_reaches_no_log_or_doctor_line()
{
    let dir = tempfile::tempdir().unwrap();
    // A store in a folder named after a token: doctor names the store.
    let db = dir.path().join(format!("store-{AWS}")).join("s.db");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        format!("{{\"type\":\"user\",\"sessionId\":\"s1\",\"message\": {GH} }}\nnot json {SK}\n"),
    )
    .unwrap();
    let o = bin()
        .arg("import")
        .arg(&bad)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let mut said = o.stdout;
    said.extend_from_slice(&o.stderr);
    let doctor = bin().arg("doctor").arg("--db").arg(&db).output().unwrap();
    said.extend_from_slice(&doctor.stdout);
    said.extend_from_slice(&doctor.stderr);
    assert!(
        String::from_utf8_lossy(&doctor.stdout).contains("store-"),
        "doctor names the store"
    );

    // The OTLP receiver and the proxy: a token in the path, the query and a bad body.
    let (otlp, addr) = attack_support::start_server(&["otlp"], &db);
    for (path, body) in [
        (
            format!("/v1/traces?api_key={GH}"),
            format!("{{\"resourceSpans\": \"{SK}\""),
        ),
        (format!("/{SK}/v1/traces"), "{}".to_string()),
        (format!("/v1/logs?token={AWS}"), format!("[{GH}")),
    ] {
        let (code, answer) = post_raw(&addr, &path, body.as_bytes());
        assert!(code >= 400, "{path}: {code}");
        said.extend_from_slice(&answer);
    }
    said.extend(stop(otlp));
    let (proxy, addr) =
        attack_support::start_server(&["proxy", "--openai-upstream", "http://127.0.0.1:9"], &db);
    for (path, body) in [
        (
            format!("/v1/chat/completions?key={GH}"),
            format!("{{\"model\": \"{SK}\""),
        ),
        (format!("/{AWS}/v1/responses"), "{}".to_string()),
    ] {
        let (_, answer) = post_raw(&addr, &path, body.as_bytes());
        said.extend_from_slice(&answer);
    }
    said.extend(stop(proxy));
    let found = pieces_in(&said);
    assert!(
        found.is_empty(),
        "pieces {found:?} in: {}",
        String::from_utf8_lossy(&said)
    );
    for side in ["", "-wal", "-shm"] {
        let p = format!("{}{side}", db.display());
        if let Ok(b) = std::fs::read(&p) {
            assert!(pieces_in(&b).is_empty(), "{p}: {:?}", pieces_in(&b));
        }
    }
}
