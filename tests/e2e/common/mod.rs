//! Helpers shared by the tests that run the binary: the `skilltrace` command
//! with no user config file and no colour, running it expecting success or
//! with a stdin, its findings as JSON, hook fixtures, native-format trace lines.
#![allow(clippy::unwrap_used, dead_code)]

pub mod hook_events;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output};

/// The `skilltrace` binary, reading no user config file, printing no colour.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skilltrace"));
    c.env(
        "SKILLTRACE_CONFIG",
        "/nonexistent/skilltrace-test-config.toml",
    );
    c.env("NO_COLOR", "1");
    c
}

/// Runs `cmd` and asserts it succeeded (showing the command and its stderr when not).
pub fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `canary init HOME --db DB` and returns the decoy AWS secret it planted.
pub fn canary_init(home: &std::path::Path, db: &std::path::Path) -> String {
    ok(bin().args(["canary", "init"]).arg(home).arg("--db").arg(db));
    let creds = std::fs::read_to_string(home.join(".aws/credentials")).unwrap();
    creds
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .unwrap()
        .to_owned()
}

/// The `host:port` a server started with `--listen 127.0.0.1:0` names in the
/// first line of its banner (`… http://127.0.0.1:PORT/…` or `…PORT, …`).
pub fn banner_addr(child: &mut Child) -> String {
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split(['/', ',']).next())
        .unwrap_or_else(|| panic!("no address in banner: {first:?}"))
        .to_string()
}

/// The head of a `POST` on its own connection (`Connection: close`) with `headers`.
pub fn post_head(addr: &str, path: &str, headers: &[(&str, &str)], len: usize) -> String {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Runs `cmd` with `stdin` written to it and its output captured.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The findings of `db` as `skilltrace findings --format json` prints them.
pub fn findings_json(db: &std::path::Path) -> Vec<serde_json::Value> {
    let out = ok(bin().args(["findings", "--format", "json", "--db"]).arg(db));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The hook event (or answer) `tests/fixtures/hooks/AGENT/NAME`.
pub fn hook_fixture(agent: &str, name: &str) -> serde_json::Value {
    let p = format!(
        "{}/tests/fixtures/hooks/{agent}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// `span` as one line of skilltrace's native trace format.
pub fn native_line(span: &skilltrace::model::Span) -> String {
    serde_json::json!({"skilltrace": 1, "type": "span", "span": span}).to_string() + "\n"
}

/// A native-format line: a model call of GPT-4o mini ($0.15 per million input
/// tokens, $0.60 output) reading `input` tokens, in run `run`.
pub fn gpt4o_mini_call(run: &str, id: &str, input: u64) -> String {
    use skilltrace::model::{Origin, Span, SpanKind};
    let mut s = Span::new(id, run, SpanKind::Llm, "chat", Origin::new("x", 1));
    s.model = Some("gpt-4o-mini".into());
    s.input_tokens = Some(input);
    s.output_tokens = Some(0);
    s.start_ms = Some(1_780_000_000_000);
    native_line(&s)
}

/// Appends `text` to the file at `p`, creating it.
pub fn append(p: &std::path::Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Follows `roots` into the store `db` on a thread (rescanning every 100 ms),
/// as `skilltrace tail` does; stop it with the flag, then join the thread.
pub fn spawn_tail(
    roots: Vec<std::path::PathBuf>,
    db: &std::path::Path,
) -> (
    skilltrace::ingest::tail::StopFlag,
    std::thread::JoinHandle<()>,
) {
    use skilltrace::ingest::tail::{follow, StopFlag, TailOptions};
    let pipeline = skilltrace::commands::open_pipeline(db).unwrap();
    let stop = StopFlag::default();
    let (stop2, db2) = (stop.clone(), db.to_path_buf());
    let th = std::thread::spawn(move || {
        let (tx, writer) = skilltrace::ingest::pipeline::spawn_writer(pipeline);
        let opts = TailOptions {
            rescan: std::time::Duration::from_millis(100),
            ..Default::default()
        };
        follow(&roots, &db2, opts, tx, &stop2).unwrap();
        writer.join().unwrap();
    });
    (stop, th)
}

/// What Claude Code reads from a command hook's answer: `deny` for exit 2 or a
/// deny, `ask`, or `allow` for a silent answer.
pub fn claude_decision(out: &Output) -> String {
    if out.status.code() == Some(2) {
        return "deny".into();
    }
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return "allow".into();
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["hookSpecificOutput"]["permissionDecision"]
        .as_str()
        .unwrap_or("allow")
        .to_string()
}

/// Whether `c` must never reach a terminal as itself (newline and tab aside),
/// by the tests' own list of every class guarantee 3 names, independent of
/// `skilltrace::sanitize` (an oracle that asks the code under test is green
/// whatever it lets through), or by `sanitize::is_unsafe` for the rest.
pub fn never_on_a_terminal(c: char) -> bool {
    if matches!(c, '\n' | '\t') {
        return false;
    }
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}' | '\u{180e}'
        | '\u{2028}' | '\u{2029}' | '\u{3164}' | '\u{fe00}'..='\u{fe0d}'
        | '\u{e0000}'..='\u{e007f}' | '\u{e0100}'..='\u{e01ef}'
    ) || skilltrace::sanitize::is_unsafe(c)
}

/// A spool file beside `db` that a writer left with three spans in it (ids
/// `left0..2`), as the next writer on that store would replay it.
pub fn orphan_beside(db: &std::path::Path) -> std::path::PathBuf {
    use skilltrace::model::{Origin, Span, SpanKind};
    use skilltrace::redact::{Mode, Redactor};
    let mut r = Redactor::new(Mode::Mask);
    let batch = skilltrace::store::StoreBatch {
        spans: (0..3)
            .map(|i| {
                let s = Span::new(
                    format!("left{i}"),
                    "r-left",
                    SpanKind::Tool,
                    "Bash",
                    Origin::new("otlp://127.0.0.1:4318", i + 1),
                );
                r.redact_span(s).0
            })
            .collect(),
        ..Default::default()
    };
    let mut sp = skilltrace::store::spool::Spool::new(db, 1 << 20);
    sp.push(&batch).unwrap();
    skilltrace::store::spool::files(&skilltrace::store::spool::folder(db))[0]
        .0
        .clone()
}
