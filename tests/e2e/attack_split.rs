//! Attacks on guarantee 1 with a secret cut in two: concatenated quoted pieces
//! in a tool call (`"ghp_…" + "…"`, a shell's `'sk-…'"…"`), letters written as
//! `\u` escapes in text that is not valid JSON, a token cut across two OTLP
//! attributes (and two span events the reader does not keep), across two SSE content, thinking or
//! tool-argument deltas through the proxy, and across two messages of a
//! request. Every byte of the store's folder (db, `-wal`, `-shm`, key, spool),
//! the JSON, SARIF and OTLP exports and `runs`/`findings` output is scanned for
//! any 8-character piece of each token.
#![allow(clippy::unwrap_used)]

use crate::{attack_support, common};

use common::{bin, ok};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Each planted token and the length of its rule-named prefix (not secret).
const TOKENS: [(&str, usize); 8] = [
    ("ghp_R8x2Kq9ZtW4mN7vB3cY6pL1dF5hJ0sGaE2uQ", 4),
    ("sk-proj-Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa9876543210abcd", 8),
    ("AKIAQ3EGV7TZK2XWN4PL", 4),
    ("glpat-Ab3dEf6hJ9kLmN2pQrS8", 6),
    ("ghp_Tz7Yx6Wv5Ut4Sr3Qp2On1Ml0Kj9Ih8Gf7Ed6", 4),
    ("ghp_Mq2Wn4Eb6Rv8Tc1Yx3Uz5Ia7Os9Pd0Af2Sg4", 4),
    ("ghp_Lk8Jh6Gf4Ds2Aq1Wz3Ex5Rc7Tv9Yb0Un2Im4", 4),
    ("sk-ant-api03-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHFAA", 13),
];

fn token(i: usize) -> &'static str {
    TOKENS[i].0
}

/// `token(i)` cut in two near its middle.
fn halves(i: usize) -> (&'static str, &'static str) {
    let t = token(i);
    t.split_at(TOKENS[i].1 + (t.len() - TOKENS[i].1) / 2)
}

/// Any 8-character piece of any planted token found in `bytes`.
fn pieces_in(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for (secret, prefix) in TOKENS {
        let body = &secret.as_bytes()[prefix..];
        for piece in body.windows(8) {
            if bytes.windows(8).any(|w| w == piece) {
                found.push(String::from_utf8_lossy(piece).into_owned());
            }
        }
    }
    found
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Exports every format into `out` and collects what `runs` and `findings` print.
fn everything_said(db: &Path, out: &Path) -> Vec<Vec<u8>> {
    std::fs::create_dir_all(out).unwrap();
    let mut said = Vec::new();
    for (fmt, name) in [
        ("sarif", "x.sarif"),
        ("json", "x.jsonl"),
        ("otlp", "x.otlp.json"),
    ] {
        let o = ok(bin()
            .args(["export", "--format", fmt, "-o"])
            .arg(out.join(name))
            .arg("--db")
            .arg(db));
        said.push(o.stderr);
    }
    for args in [
        &["runs"][..],
        &["runs", "--format", "json"],
        &["findings"],
        &["findings", "--format", "json"],
    ] {
        let o = ok(bin().args(args).arg("--db").arg(db));
        said.push(o.stdout);
        said.push(o.stderr);
    }
    said
}

/// No piece of a token in any file under `dirs` or in anything `said`.
fn assert_no_piece(dirs: &[&Path], said: &[Vec<u8>]) {
    let mut files = Vec::new();
    for d in dirs {
        files_under(d, &mut files);
    }
    assert!(files
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "db")));
    for p in &files {
        let found = pieces_in(&std::fs::read(p).unwrap());
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
}

fn otlp_attr(key: &str, value: &str) -> serde_json::Value {
    serde_json::json!({"key": key, "value": {"stringValue": value}})
}

#[test]
fn a_secret_split_inside_a_string_or_across_two_strings_of_a_span_reaches_no_byte_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    std::fs::create_dir(&traces).unwrap();
    let (gh_a, gh_b) = halves(0);
    let (sk_a, sk_b) = halves(1);
    let (gl_a, gl_b) = halves(3);
    let (ev_a, ev_b) = halves(4);
    let aws = token(2);
    // `AKIA` then its letters as `\u` escapes, in output that is not valid JSON.
    let escaped: String = aws[4..8]
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let output = format!(
        "{{\"token\": \"AKIA{escaped}{}\", \"cut off here",
        &aws[8..]
    );
    let command = format!(
        "python3 -c 'k = \"{gh_a}\" + \"{gh_b}\"' && echo '{sk_a}'\"{sk_b}\" | gh auth login"
    );
    let lines = attack_support::Session {
        cwd: "/home/dev/app",
        branch: "main",
        prompt: "log in to the forge",
        model: "claude-opus-4-6",
        thinking: "run the login",
        tool: "Bash",
        input: serde_json::json!({ "command": command }),
        output: &output,
    }
    .lines();
    let session = traces.join("session.jsonl");
    std::fs::write(&session, lines.join("\n") + "\n").unwrap();
    // One OTLP span: a token cut across two attributes, another across two events
    // of a name the reader keeps nothing of (no byte of them may be stored either).
    let span = serde_json::json!({
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        "name": "chat", "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [
            otlp_attr("app.note.1", &format!("deploy with {gl_a}")),
            otlp_attr("app.note.2", &format!("{gl_b} now")),
        ],
        "events": [
            {"name": "gen_ai.content.chunk", "timeUnixNano": "1700000000500000000",
             "attributes": [otlp_attr("text", &format!("the token is {ev_a}"))]},
            {"name": "gen_ai.content.chunk", "timeUnixNano": "1700000000600000000",
             "attributes": [otlp_attr("text", &format!("{ev_b}, keep it"))]},
        ],
    });
    let otlp = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [otlp_attr("service.name", "svc")]},
        "scopeSpans": [{"spans": [span]}],
    }]});
    let otlp_file = traces.join("otlp.json");
    std::fs::write(&otlp_file, otlp.to_string() + "\n").unwrap();

    let store = dir.path().join("store");
    let db = store.join("s.db");
    let import = ok(bin().arg("import").arg(&traces).arg("--db").arg(&db));
    let mut said = vec![import.stdout, import.stderr];
    let out = dir.path().join("out");
    said.extend(everything_said(&db, &out));
    let findings = common::findings_json(&db);
    let secret_findings = findings
        .iter()
        .filter(|f| f["rule_id"] == "SEC-TRACE-001")
        .count();
    assert!(
        secret_findings >= 2,
        "the split tokens were seen: {findings:?}"
    );
    assert_no_piece(&[&store, &out], &said);
    // The controls: every token is there, in pieces, for the scan to see.
    let raw = std::fs::read(&session).unwrap();
    let raw_otlp = std::fs::read(&otlp_file).unwrap();
    for i in [0, 1, 2] {
        let (_, b) = halves(i);
        assert!(!pieces_in(b.as_bytes()).is_empty());
        assert!(raw.windows(b.len()).any(|w| w == b.as_bytes()));
    }
    for i in [3, 4] {
        let (a, b) = halves(i);
        assert!(raw_otlp.windows(a.len()).any(|w| w == a.as_bytes()));
        assert!(raw_otlp.windows(b.len()).any(|w| w == b.as_bytes()));
    }
}

/// One Claude Code line of session `sid`.
fn claude_line(kind: &str, uuid: &str, parent: Option<&str>, message: serde_json::Value) -> String {
    serde_json::json!({
        "parentUuid": parent, "isSidechain": false, "userType": "external",
        "cwd": "/home/dev/app", "sessionId": "5e0c2a1b-7b3e-4a5d-8c6f-0e1a2b3c4d5e",
        "version": "2.1.39", "gitBranch": "main", "type": kind, "message": message,
        "uuid": uuid, "timestamp": "2026-03-12T16:05:00.000Z",
    })
    .to_string()
}

#[test]
fn a_secret_joined_through_shell_variables_cut_across_two_records_or_two_genai_events_reaches_no_byte_anywhere(
) {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    std::fs::create_dir(&traces).unwrap();
    let (sh_a, sh_b) = halves(5);
    let (ex_a, ex_b) = halves(0);
    let (q_a, q_b) = halves(3);
    let (rec_a, rec_b) = halves(6);
    let (ev_a, ev_b) = halves(4);
    // Pieces joined through variables: `$a$b`, `export` with `${A}${B}`, `"$a""$b"`.
    let command = format!(
        "a={sh_a}; b={sh_b}; echo $a$b | gh auth login --with-token && \\\n\
         export A='{ex_a}'; export B=\"{ex_b}\"; curl -H \"Authorization: token ${{A}}${{B}}\" https://api.github.com/user && \\\n\
         t={q_a} u={q_b}; printf %s \"$t\"\"$u\" > ~/.config/glab-token"
    );
    let tool = |id: &str, cmd: &str| serde_json::json!({"type": "tool_use", "id": id, "name": "Bash", "input": {"command": cmd}});
    let text = |id: &str, t: &str| {
        serde_json::json!({"model": "claude-opus-4-6", "id": id, "role": "assistant",
            "content": [{"type": "text", "text": t}], "usage": {"input_tokens": 3, "output_tokens": 5}})
    };
    let lines = [
        claude_line(
            "user",
            "u1",
            None,
            serde_json::json!({"role": "user", "content": "rotate the forge tokens"}),
        ),
        claude_line(
            "assistant",
            "a1",
            Some("u1"),
            serde_json::json!({"model": "claude-opus-4-6", "id": "msg_01", "role": "assistant",
                "content": [tool("toolu_1", &command)], "usage": {"input_tokens": 3, "output_tokens": 5}}),
        ),
        claude_line(
            "user",
            "u2",
            Some("a1"),
            serde_json::json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "logged in"}]}),
        ),
        // One token cut across two consecutive records (two assistant lines).
        claude_line(
            "assistant",
            "a2",
            Some("u2"),
            text("msg_02", &format!("the new token is {rec_a}")),
        ),
        claude_line(
            "assistant",
            "a3",
            Some("a2"),
            text("msg_03", &format!("{rec_b}, saved to the keychain")),
        ),
    ];
    let session = traces.join("session.jsonl");
    std::fs::write(&session, lines.join("\n") + "\n").unwrap();
    // Two GenAI events the OTLP reader renders as two lines of one span text.
    let event = |name: &str, content: &str| {
        serde_json::json!({"name": name, "timeUnixNano": "1700000000500000000",
            "attributes": [otlp_attr("content", content)]})
    };
    let span = serde_json::json!({
        "traceId": "1af7651916cd43dd8448eb211c80319c", "spanId": "c7ad6b7169203331",
        "name": "chat gpt-4o", "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [otlp_attr("gen_ai.operation.name", "chat")],
        "events": [
            event("gen_ai.user.message", "what is the deploy token?"),
            event("gen_ai.choice", &format!("the token is {ev_a}")),
            event("gen_ai.choice", &format!("{ev_b}, keep it safe")),
        ],
    });
    let otlp = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [otlp_attr("service.name", "svc")]},
        "scopeSpans": [{"spans": [span]}],
    }]});
    let otlp_file = traces.join("otlp.json");
    std::fs::write(&otlp_file, otlp.to_string() + "\n").unwrap();

    let store = dir.path().join("store");
    let db = store.join("s.db");
    let import = ok(bin().arg("import").arg(&traces).arg("--db").arg(&db));
    let mut said = vec![import.stdout, import.stderr];
    let out = dir.path().join("out");
    said.extend(everything_said(&db, &out));
    let export = std::fs::read_to_string(out.join("x.jsonl")).unwrap();
    assert!(
        export.matches("[REDACTED:").count() >= 8,
        "the joined and cut tokens were seen: {export}"
    );
    // The rendered events are kept as text around the markers.
    assert!(export.contains("keep it safe") && export.contains("saved to the keychain"));
    assert_no_piece(&[&store, &out], &said);
    // The controls: every piece is there, whole, in the raw files.
    let raw = std::fs::read_to_string(&session).unwrap();
    let raw_otlp = std::fs::read_to_string(&otlp_file).unwrap();
    for p in [sh_a, sh_b, ex_a, ex_b, q_a, q_b, rec_a, rec_b] {
        assert!(
            raw.contains(p) && !pieces_in(p.as_bytes()).is_empty(),
            "{p}"
        );
    }
    assert!(raw_otlp.contains(ev_a) && raw_otlp.contains(ev_b));
}

/// One SSE event line.
fn sse(event: Option<&str>, data: &serde_json::Value) -> String {
    match event {
        Some(e) => format!("event: {e}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// A chat stream whose content and tool-call arguments are cut mid-token.
fn chat_stream() -> String {
    let (a, b) = halves(5);
    let (c, d) = halves(6);
    let chunk = |delta: serde_json::Value| {
        serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
            "model": "gpt-4o", "choices": [{"index": 0, "delta": delta}]})
    };
    let mut s = String::new();
    for piece in ["your token is ", a, b, " keep it"] {
        s += &sse(None, &chunk(serde_json::json!({"content": piece})));
    }
    s += &sse(
        None,
        &chunk(
            serde_json::json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "bash", "arguments": format!("{{\"cmd\":\"gh auth login --with-token {c}")}}]}),
        ),
    );
    s += &sse(
        None,
        &chunk(serde_json::json!({"tool_calls": [{"index": 0,
            "function": {"arguments": format!("{d}\"}}")}}]})),
    );
    s += &sse(
        None,
        &serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    );
    s + "data: [DONE]\n\n"
}

/// A Messages stream whose thinking, text and tool input are cut mid-token.
fn messages_stream() -> String {
    let (a, b) = halves(7);
    let (c, d) = halves(0);
    let delta = |i: u32, d: serde_json::Value| {
        sse(
            Some("content_block_delta"),
            &serde_json::json!({"type": "content_block_delta", "index": i, "delta": d}),
        )
    };
    let start = |i: u32, b: serde_json::Value| {
        sse(
            Some("content_block_start"),
            &serde_json::json!({"type": "content_block_start", "index": i, "content_block": b}),
        )
    };
    let stop = |i: u32| {
        sse(
            Some("content_block_stop"),
            &serde_json::json!({"type": "content_block_stop", "index": i}),
        )
    };
    let mut s = sse(
        Some("message_start"),
        &serde_json::json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
            "role": "assistant", "model": "claude-x", "content": [],
            "usage": {"input_tokens": 3, "output_tokens": 1}}}),
    );
    s += &start(0, serde_json::json!({"type": "thinking", "thinking": ""}));
    s += &delta(
        0,
        serde_json::json!({"type": "thinking_delta", "thinking": format!("the key {a}")}),
    );
    s += &delta(
        0,
        serde_json::json!({"type": "thinking_delta", "thinking": b}),
    );
    s += &stop(0);
    s += &start(1, serde_json::json!({"type": "text", "text": ""}));
    s += &delta(
        1,
        serde_json::json!({"type": "text_delta", "text": format!("use {a}")}),
    );
    s += &delta(
        1,
        serde_json::json!({"type": "text_delta", "text": format!("{b} now")}),
    );
    s += &stop(1);
    s += &start(
        2,
        serde_json::json!({"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}),
    );
    s += &delta(
        2,
        serde_json::json!({"type": "input_json_delta", "partial_json": format!("{{\"command\": \"echo {c}")}),
    );
    s += &delta(
        2,
        serde_json::json!({"type": "input_json_delta", "partial_json": format!("{d} | gh auth login\"}}")}),
    );
    s += &stop(2);
    s += &sse(
        Some("message_delta"),
        &serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9}}),
    );
    s + &sse(
        Some("message_stop"),
        &serde_json::json!({"type": "message_stop"}),
    )
}

/// Reads one HTTP/1.1 request (head and a `Content-Length` body).
fn read_request(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (head, body)
}

/// An upstream answering streams for streaming requests and a small JSON otherwise.
fn upstream() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { break };
            std::thread::spawn(move || {
                let (head, body) = read_request(&mut s);
                let stream = String::from_utf8_lossy(&body).contains("\"stream\":true");
                let (ctype, body) = if !stream {
                    ("application/json", r#"{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#.to_string())
                } else if head.starts_with("POST /v1/messages") {
                    ("text/event-stream", messages_stream())
                } else {
                    ("text/event-stream", chat_stream())
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

/// Posts `body` to the proxy; the answer's body.
fn post(addr: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    resp
}

#[test]
fn a_secret_cut_across_stream_deltas_or_two_messages_reaches_no_byte_through_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let db = store.join("p.db");
    let url = upstream();
    let (child, addr) = attack_support::start_server(
        &[
            "proxy",
            "--openai-upstream",
            &url,
            "--anthropic-upstream",
            &url,
        ],
        &db,
    );
    let chat = post(
        &addr,
        "/v1/chat/completions",
        r#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    // The client gets every delta as the upstream sent it.
    assert!(chat.ends_with(&chat_stream()), "{chat}");
    let msgs = post(
        &addr,
        "/v1/messages",
        r#"{"model":"claude-x","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert!(msgs.ends_with(&messages_stream()), "{msgs}");
    // A token cut across two messages of one request.
    let (a, b) = halves(6);
    let two = serde_json::json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": format!("my token is {a}")},
        {"role": "user", "content": format!("{b} (the rest of it)")},
    ]});
    post(&addr, "/v1/chat/completions", &two.to_string());
    common::ok(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null()),
    );
    let stopped = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&stopped.stderr).into_owned();
    assert!(stderr.contains("3 exchanges recorded"), "{stderr}");
    let mut said = vec![stopped.stdout, stopped.stderr];
    let out = dir.path().join("out");
    said.extend(everything_said(&db, &out));
    let export = std::fs::read_to_string(out.join("x.jsonl")).unwrap();
    assert!(
        export.matches("[REDACTED:github_token]").count() >= 4,
        "the cut tokens were seen: {export}"
    );
    assert_no_piece(&[&store, &out], &said);
}
