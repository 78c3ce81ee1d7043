//! Attacks on guarantee 1 through ids: real-shaped secrets (Anthropic, OpenAI,
//! GitHub and AWS keys, a JWT, a password in a URL) planted in every id field
//! of every input format (session, message, parent, tool-call, trace and span
//! ids, thread ids, and the file and folder names that carry them), through
//! `import`, `tail`, the proxy (tool-call ids, a session header) and the OTLP
//! receiver. Every byte of the db, `-wal` and `-shm`, of the JSON, OTLP and
//! SARIF exports, `runs`, `findings`, `replay`, the commands' stderr and TUI
//! frames is scanned for any 8-character piece of each; and the stand-ins keep
//! what ids are for: the same runs, spans, parent links and tool pairings as
//! the unplanted input, and a second import of a copy adds nothing.
//!
//! `SKILLTRACE_ATTACK_BIN=/path/to/skilltrace` runs the commands with another
//! build (a release of `main` before ids were stood in for: it fails).
#![allow(clippy::unwrap_used)]

use crate::common::{self, ok};
use crate::redaction_support::{alnum, rnd, UPNUM};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FORMATS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");

/// The binary under test ([`common::bin`], or `SKILLTRACE_ATTACK_BIN`).
fn cmd() -> Command {
    match std::env::var_os("SKILLTRACE_ATTACK_BIN") {
        Some(b) => {
            let mut c = Command::new(b);
            c.env(
                "SKILLTRACE_CONFIG",
                "/nonexistent/skilltrace-test-config.toml",
            );
            c.env("NO_COLOR", "1");
            c
        }
        None => common::bin(),
    }
}

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// A secret to plant in an id: the text put into the id, and the part of it
/// that must not be found anywhere (a URL's password, else the whole token).
struct Planted {
    text: String,
    value: String,
    /// No `/`: fit for a file or folder name.
    path_safe: bool,
}

fn planted() -> Vec<Planted> {
    let whole = |text: String| Planted {
        value: text.clone(),
        text,
        path_safe: true,
    };
    let pw = format!("Pw{}", alnum(14, 254));
    vec![
        whole(format!("sk-ant-api03-{}", alnum(90, 206))),
        whole(format!("sk-proj-{}", alnum(80, 208))),
        whole(format!("ghp_{}", alnum(36, 223))),
        whole(format!("AKIA{}", rnd(16, 218, UPNUM))),
        whole(format!(
            "eyJ{}.eyJ{}.{}",
            alnum(30, 247),
            alnum(60, 248),
            alnum(43, 249)
        )),
        Planted {
            text: format!("https://admin:{pw}@db.internal.example.com"),
            value: pw,
            path_safe: false,
        },
    ]
}

/// Secrets that a parser lower-casing the id (OTLP trace and span ids) keeps whole.
fn planted_lower() -> Vec<Planted> {
    [
        format!("sk-ant-api03-{}", rnd(90, 306, LOWER)),
        format!("ghp_{}", rnd(36, 323, LOWER)),
        format!("sk-proj-{}", rnd(80, 308, LOWER)),
    ]
    .into_iter()
    .map(|t| Planted {
        value: t.clone(),
        text: t,
        path_safe: true,
    })
    .collect()
}

/// Keys whose string values are ids, in every format of `tests/fixtures/formats`.
const ID_KEYS: &[&str] = &[
    "sessionId",
    "session_id",
    "sessionID",
    "uuid",
    "parentUuid",
    "leafUuid",
    "logicalParentUuid",
    "sourceToolAssistantUUID",
    "toolUseID",
    "tool_use_id",
    "parentToolUseID",
    "messageId",
    "messageID",
    "requestId",
    "agentId",
    "id",
    "call_id",
    "callID",
    "thread_id",
    "parent_thread_id",
    "turn_id",
    "turnId",
    "response_id",
    "toolCallId",
    "parentToolCallId",
    "parentId",
    "parentID",
    "interactionId",
    "trace_id",
    "parent_id",
    "tool_call_id",
];
/// OTLP's ids (lower-cased by the parser).
const OTLP_KEYS: &[&str] = &["traceId", "spanId", "parentSpanId"];
/// OTLP attributes whose value names the run.
const OTLP_RUN_ATTRS: &[&str] = &["gen_ai.conversation.id", "session.id"];

/// Rewrites ids: each original id gets `<id>-<secret>`, the same every time.
struct Rewriter {
    map: HashMap<String, String>,
    /// Names of every file and folder of the input (ids seen there get a path-safe secret).
    names: Vec<String>,
    all: Vec<Planted>,
    lower: Vec<Planted>,
    n: usize,
}

impl Rewriter {
    fn id(&mut self, v: &str, lower: bool) -> String {
        if let Some(w) = self.map.get(v) {
            return w.clone();
        }
        self.n += 1;
        let in_path = v.len() >= 8 && self.names.iter().any(|n| n.contains(v));
        let pool: Vec<&Planted> = if lower {
            self.lower.iter().collect()
        } else {
            self.all
                .iter()
                .filter(|p| p.path_safe || !in_path)
                .collect()
        };
        let w = format!("{v}-{}", pool[self.n % pool.len()].text);
        self.map.insert(v.to_string(), w.clone());
        w
    }

    fn walk(&mut self, v: &mut Value) {
        match v {
            Value::Object(m) => {
                let run_attr = m
                    .get("key")
                    .and_then(Value::as_str)
                    .is_some_and(|k| OTLP_RUN_ATTRS.contains(&k));
                for (k, x) in m.iter_mut() {
                    match x {
                        Value::String(s) if !s.is_empty() && ID_KEYS.contains(&k.as_str()) => {
                            *s = self.id(s, false)
                        }
                        Value::String(s) if !s.is_empty() && OTLP_KEYS.contains(&k.as_str()) => {
                            *s = self.id(s, true)
                        }
                        _ if run_attr && k == "value" => {
                            if let Some(Value::String(s)) = x.get_mut("stringValue") {
                                *s = self.id(s, false);
                            }
                        }
                        _ => self.walk(x),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x)),
            _ => {}
        }
    }

    /// A name of the input with every id it holds rewritten; a folder named
    /// by a number or a UUID alone (a task, a session) is an id too.
    fn name(&mut self, n: &str) -> String {
        let bare = n.len() >= 10
            && (n.bytes().all(|b| b.is_ascii_digit())
                || (n.len() == 36 && n.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')));
        if bare {
            return self.id(n, false);
        }
        let mut out = n.to_string();
        let mut keys: Vec<&String> = self.map.keys().filter(|k| k.len() >= 8).collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        for k in keys {
            if out.contains(k.as_str()) && !out.contains(&self.map[k]) {
                out = out.replace(k.as_str(), &self.map[k]);
            }
        }
        out
    }
}

/// Every file of `tests/fixtures/formats` that a user would import (no
/// compressed archive, no notes), as (path relative to it, bytes).
fn inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(FORMATS)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().ends_with(".md")
                && !p.to_string_lossy().ends_with(".zst")
            {
                let rel = p.strip_prefix(FORMATS).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Writes the inputs under `to`, ids rewritten when `rw` is given.
fn write_inputs(files: &[(PathBuf, Vec<u8>)], to: &Path, mut rw: Option<&mut Rewriter>) {
    let mut texts = Vec::new();
    for (rel, bytes) in files {
        let text = String::from_utf8(bytes.clone()).unwrap();
        let text = match rw.as_deref_mut() {
            None => text,
            Some(rw) => match serde_json::from_str::<Value>(&text) {
                Ok(mut v) => {
                    rw.walk(&mut v);
                    serde_json::to_string_pretty(&v).unwrap()
                }
                Err(_) => {
                    let mut out = String::new();
                    for l in text.lines() {
                        match serde_json::from_str::<Value>(l) {
                            Ok(mut v) => {
                                rw.walk(&mut v);
                                out.push_str(&v.to_string());
                            }
                            Err(_) => out.push_str(l),
                        }
                        out.push('\n');
                    }
                    out
                }
            },
        };
        texts.push((rel.clone(), text));
    }
    for (rel, text) in texts {
        let mut p = to.to_path_buf();
        for c in rel.components() {
            let c = c.as_os_str().to_string_lossy();
            match rw.as_deref_mut() {
                Some(rw) => p.push(rw.name(&c)),
                None => p.push(&*c),
            }
        }
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
}

/// Any 8-character piece of a secret (past its rule-named prefix) in `bytes`.
fn leak(bytes: &[u8], secrets: &[String]) -> Option<String> {
    for s in secrets {
        let b = s.as_bytes();
        let skip = s
            .find(['-', '_'])
            .map(|i| i + 1)
            .filter(|&i| i <= 8)
            .unwrap_or(0);
        let skip = if s.starts_with("sk-ant-api03-") {
            13
        } else {
            skip
        };
        for i in skip..b.len().saturating_sub(7) {
            let piece = &b[i..i + 8];
            if piece.iter().all(|c| c.is_ascii_alphanumeric())
                && bytes.windows(8).any(|w| w == piece)
            {
                return Some(String::from_utf8_lossy(piece).into_owned());
            }
        }
    }
    None
}

fn values() -> Vec<String> {
    planted()
        .into_iter()
        .chain(planted_lower())
        .map(|p| p.value)
        .collect()
}

/// The db, `-wal` and `-shm` of the store at `db`.
fn files_of(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| {
            let p = PathBuf::from(format!("{}{s}", db.display()));
            std::fs::read(&p).ok().map(|b| (p.display().to_string(), b))
        })
        .collect()
}

/// What every reading command prints about the store (stdout and stderr).
fn outputs(db: &Path) -> Vec<(String, Vec<u8>)> {
    let out = |args: &[&str]| {
        let o = ok(cmd().args(args).arg("--db").arg(db));
        let mut bytes = o.stdout;
        bytes.extend_from_slice(&o.stderr);
        (args.join(" "), bytes)
    };
    let runs = out(&["runs", "--format", "json"]);
    let ids: Vec<String> = serde_json::from_slice::<Value>(&runs.1)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(String::from))
        .collect();
    let mut all = vec![
        runs,
        out(&["runs"]),
        out(&["export", "--format", "json"]),
        out(&["export", "--format", "otlp"]),
        out(&["export", "--format", "sarif"]),
        out(&["findings"]),
        out(&["findings", "--format", "json"]),
    ];
    // doctor says what it finds (a proxy not running is one): any exit
    let o = cmd().arg("doctor").arg("--db").arg(db).output().unwrap();
    let mut bytes = o.stdout;
    bytes.extend_from_slice(&o.stderr);
    all.push(("doctor".into(), bytes));
    for id in ids.iter().take(40) {
        all.push(out(&["replay", id, "--speed", "0"]));
    }
    all
}

fn assert_no_leak(what: &str, blobs: &[(String, Vec<u8>)]) {
    let values = values();
    for (name, bytes) in blobs {
        if let Some(p) = leak(bytes, &values) {
            let at = bytes
                .windows(8)
                .position(|w| w == p.as_bytes())
                .unwrap_or(0);
            let around = &bytes[at.saturating_sub(200)..(at + 200).min(bytes.len())];
            panic!(
                "{what}: piece {p} of a secret planted in an id in `{name}`: …{}…",
                String::from_utf8_lossy(around)
            );
        }
    }
}

/// (runs, spans, spans whose parent is stored, runs whose parent run is
/// stored, spans with a tool-call id, tool spans with output) in `db`.
fn shape(db: &Path) -> [i64; 6] {
    let c = rusqlite::Connection::open(db).unwrap();
    let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    [
        n("SELECT count(*) FROM runs"),
        n("SELECT count(*) FROM spans"),
        n(
            "SELECT count(*) FROM spans s WHERE s.parent_id IS NOT NULL AND EXISTS \
           (SELECT 1 FROM spans p WHERE p.run_key = s.run_key AND p.id = s.parent_id)",
        ),
        n(
            "SELECT count(*) FROM runs r WHERE r.parent_run_id IS NOT NULL AND EXISTS \
           (SELECT 1 FROM runs p WHERE p.id = r.parent_run_id)",
        ),
        n("SELECT count(*) FROM spans WHERE tool_call_id IS NOT NULL"),
        n("SELECT count(*) FROM spans WHERE kind = 'tool' AND tool_output IS NOT NULL"),
    ]
}

fn import(dir: &Path, db: &Path) -> Vec<u8> {
    let o = ok(cmd().arg("import").arg(dir).arg("--db").arg(db));
    let mut b = o.stdout;
    b.extend_from_slice(&o.stderr);
    b
}

#[test]
fn secrets_in_the_ids_of_every_format_reach_no_byte_and_links_hold() {
    let t = tempfile::tempdir().unwrap();
    let files = inputs();
    let plain = t.path().join("plain");
    write_inputs(&files, &plain, None);
    let mut names = Vec::new();
    for (rel, _) in &files {
        for c in rel.components() {
            names.push(c.as_os_str().to_string_lossy().into_owned());
        }
    }
    let mut rw = Rewriter {
        map: HashMap::new(),
        names,
        all: planted(),
        lower: planted_lower(),
        n: 0,
    };
    let hostile = t.path().join("hostile");
    write_inputs(&files, &hostile, Some(&mut rw));
    assert!(rw.map.len() > 300, "ids planted: {}", rw.map.len());
    // Control: the planted input holds every secret, so the scan can see them.
    let mut planted_bytes = Vec::new();
    for e in walk(&hostile) {
        planted_bytes.extend(std::fs::read(&e).unwrap());
        planted_bytes.extend(e.to_string_lossy().as_bytes());
    }
    for v in values() {
        assert!(
            leak(&planted_bytes, std::slice::from_ref(&v)).is_some(),
            "not planted: {}",
            &v[..10]
        );
    }

    let base_db = t.path().join("plain.db");
    import(&plain, &base_db);
    let db = t.path().join("ids.db");
    let said = import(&hostile, &db);
    assert_no_leak("import", &[("import".into(), said)]);
    assert_no_leak("import", &files_of(&db));
    assert_no_leak("import", &outputs(&db));

    // Stand-ins keep what ids are for.
    let want = shape(&base_db);
    assert_eq!(shape(&db), want, "runs, spans, links, pairings");
    assert!(want[2] > 100 && want[3] >= 1 && want[4] > 50, "{want:?}");
    // A copy of the same input, elsewhere, adds no run and no span.
    let copy = t.path().join("copy");
    write_inputs(
        &walk(&hostile)
            .into_iter()
            .map(|p| {
                let b = std::fs::read(&p).unwrap();
                (p.strip_prefix(&hostile).unwrap().to_path_buf(), b)
            })
            .collect::<Vec<_>>(),
        &copy,
        None,
    );
    import(&copy, &db);
    let again = shape(&db);
    assert_eq!(again[..2], want[..2], "a second import added rows");

    // TUI frames (in-process): runs, a run, a span, findings.
    if std::env::var_os("SKILLTRACE_ATTACK_BIN").is_none() {
        use crossterm::event::{KeyCode, KeyModifiers};
        use skilltrace::tui::harness::Harness;
        let mut h = Harness::new(
            &db,
            220,
            60,
            1_900_000_000_000,
            skilltrace::tui::theme::Theme::dark(),
        )
        .unwrap();
        let mut screens = h.draw();
        for k in [KeyCode::Enter, KeyCode::Enter, KeyCode::Esc, KeyCode::Esc] {
            h.key(k, KeyModifiers::NONE);
            screens.push_str(&h.draw());
        }
        h.key(KeyCode::Tab, KeyModifiers::NONE);
        screens.push_str(&h.draw());
        assert_no_leak("tui", &[("tui".into(), screens.into_bytes())]);
    }
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `skilltrace ARGS --listen 127.0.0.1:0 --db DB` started; its child and address.
fn start(args: &[&str], db: &Path) -> (Child, String) {
    let mut child = cmd()
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

/// SIGTERM, then wait; its stderr.
fn stop(child: Child) -> Vec<u8> {
    ok(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null()));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    out.stderr
}

fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let head = common::post_head(addr, path, headers, body.len());
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let code = resp[9..12].parse().unwrap();
    let body = resp.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (code, body.to_string())
}

/// Waits until `db` holds at least `n` spans.
fn wait_spans(db: &Path, n: i64) {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let got = rusqlite::Connection::open(db)
            .ok()
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM spans", [], |r| r.get::<_, i64>(0))
                    .ok()
            })
            .unwrap_or(0);
        if got >= n {
            return;
        }
        assert!(Instant::now() < end, "{got} of {n} spans stored");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The Claude Code and OTLP fixtures with their ids rewritten.
fn rewritten(rel: &str) -> Vec<String> {
    let mut rw = Rewriter {
        map: HashMap::new(),
        names: Vec::new(),
        all: planted(),
        lower: planted_lower(),
        n: 0,
    };
    std::fs::read_to_string(format!("{FORMATS}/{rel}"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|mut v| {
            rw.walk(&mut v);
            v.to_string()
        })
        .collect()
}

#[test]
fn secrets_in_ids_through_tail_reach_no_byte() {
    let t = tempfile::tempdir().unwrap();
    // tail: a session appended line by line while it is followed
    let watched = t.path().join("watched");
    std::fs::create_dir_all(&watched).unwrap();
    let db = t.path().join("tail.db");
    let tail = cmd()
        .arg("tail")
        .arg(&watched)
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let lines = rewritten("claude-code/session_excerpt.jsonl");
    let f = watched.join("session.jsonl");
    for l in &lines {
        common::append(&f, &format!("{l}\n"));
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_spans(&db, 10);
    std::thread::sleep(Duration::from_millis(500));
    let said = stop(tail);
    assert_no_leak("tail", &[("tail stderr".into(), said)]);
    assert_no_leak("tail", &files_of(&db));
    assert_no_leak("tail", &outputs(&db));
    let s = shape(&db);
    assert!(s[2] >= 5 && s[4] >= 2, "links and tool calls kept: {s:?}");
}

#[test]
fn secrets_in_trace_span_and_conversation_ids_through_the_otlp_receiver_reach_no_byte() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("otlp.db");
    let (child, addr) = start(&["otlp"], &db);
    let json = [("Content-Type", "application/json")];
    let mut sent = 0;
    for rel in [
        "otel-genai/otlp_genai_agent_run.jsonl",
        "openinference/otlp_openinference_agent_run.jsonl",
    ] {
        for l in rewritten(rel) {
            let (code, body) = post(&addr, "/v1/traces", &json, l.as_bytes());
            assert_eq!(code, 200, "{body}");
            assert_no_leak("otlp answer", &[("answer".into(), body.into_bytes())]);
            sent += 1;
        }
    }
    assert!(sent >= 2);
    let said = stop(child);
    assert_no_leak("otlp", &[("otlp stderr".into(), said)]);
    assert_no_leak("otlp", &files_of(&db));
    assert_no_leak("otlp", &outputs(&db));
    let s = shape(&db);
    assert!(
        s[1] >= 15 && s[2] >= 10,
        "spans and parent links kept: {s:?}"
    );
}

/// A minimal OpenAI-compatible upstream: each request gets `reply`.
fn upstream(reply: String) -> (String, std::thread::JoinHandle<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let th = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body_len = loop {
                let n = s.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|h| h.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    break end + 4 + len;
                }
            };
            while buf.len() < body_len {
                let n = s.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len(),
                planted()[4].text
            );
            s.write_all(resp.as_bytes()).unwrap();
        }
    });
    (format!("http://{addr}"), th)
}

#[test]
fn secrets_in_tool_call_ids_and_session_headers_through_the_proxy_reach_no_byte() {
    let p = planted();
    let call_id = format!("call_{}", p[2].text);
    let response_id = format!("chatcmpl-{}", p[0].text);
    let reply = serde_json::json!({
        "id": response_id, "object": "chat.completion", "created": 1_780_000_000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": call_id, "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    })
    .to_string();
    let (up, th) = upstream(reply);
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("proxy.db");
    let (child, addr) = start(&["proxy", "--openai-upstream", &up], &db);
    let first = serde_json::json!({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "weather in Oslo?"}]});
    let second = serde_json::json!({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "weather in Oslo?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": call_id, "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "4 degrees and rain"}]});
    let session = format!("sess-{}", p[3].text);
    for body in [first, second] {
        let (code, answer) = post(
            &addr,
            "/v1/chat/completions",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer sk-test-not-a-key"),
                ("x-session-id", &session),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(code, 200, "{answer}");
    }
    th.join().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let said = stop(child);
    assert_no_leak("proxy", &[("proxy stderr".into(), said)]);
    assert_no_leak("proxy", &files_of(&db));
    assert_no_leak("proxy", &outputs(&db));
    // The tool's result found its call: both answers' calls carry the one
    // stand-in, and the first call holds the result the second request sent.
    let c = rusqlite::Connection::open(&db).unwrap();
    let (n, ids, paired): (i64, i64, i64) = c
        .query_row(
            "SELECT count(*), count(DISTINCT tool_call_id), count(tool_output) FROM spans WHERE kind = 'tool'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (n, ids, paired),
        (2, 1, 1),
        "two calls of one id, one result"
    );
    let id: String = c
        .query_row(
            "SELECT tool_call_id FROM spans WHERE tool_output IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(id.starts_with("redacted-github_token-"), "{id}");
}
