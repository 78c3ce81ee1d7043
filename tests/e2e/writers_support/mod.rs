//! Helpers for the tests that run many writers on one store: trace lines to
//! tail and import, OTLP requests, a local LLM upstream for the proxy, servers
//! started from their banner and stopped with SIGTERM, and counts of what the
//! store holds per source.
#![allow(clippy::unwrap_used, dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `skilltrace` binary with no user config (or `config` when given), no colour.
pub fn bin_with(config: Option<&Path>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skilltrace"));
    match config {
        Some(p) => c.env("SKILLTRACE_CONFIG", p),
        None => c.env(
            "SKILLTRACE_CONFIG",
            "/nonexistent/skilltrace-test-config.toml",
        ),
    };
    c.env("NO_COLOR", "1");
    c
}

/// `skilltrace import --db DB FILE` started (stdout discarded, stderr piped).
pub fn spawn_import(config: Option<&Path>, db: &Path, file: &Path) -> Child {
    bin_with(config)
        .args(["import", "--db"])
        .arg(db)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `n` spans of run `run` in the native format, one per line, ids from `from`.
pub fn native_lines(run: &str, from: usize, n: usize, text: &str) -> String {
    (from..from + n)
        .map(|i| {
            format!(
                "{{\"skilltrace\":1,\"type\":\"span\",\"span\":{{\"id\":\"s{i}\",\"run_id\":\"{run}\",\"kind\":\"tool\",\"name\":\"Bash\",\"status\":\"ok\",\"start_ms\":{},\"text\":\"{text} {i}\",\"origin\":{{\"path\":\"\",\"line\":0}}}}}}\n",
                1_700_000_000_000u64 + i as u64
            )
        })
        .collect()
}

/// An OTLP/JSON request with `n` root spans of trace `trace` (32 hex), span ids from `from`.
pub fn otlp_body(trace: &str, from: usize, n: usize) -> String {
    let spans: Vec<String> = (from..from + n)
        .map(|i| {
            format!(
                "{{\"traceId\":\"{trace}\",\"spanId\":\"{:016x}\",\"name\":\"op {i}\",\"kind\":1,\
                 \"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\"}}",
                i + 1,
                1_700_000_000_000_000_000u64 + i as u64 * 1_000_000,
                1_700_000_000_000_000_000u64 + i as u64 * 1_000_000 + 500_000
            )
        })
        .collect();
    format!(
        "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{{\"key\":\"service.name\",\"value\":{{\"stringValue\":\"writers-test\"}}}}]}},\
         \"scopeSpans\":[{{\"scope\":{{\"name\":\"t\"}},\"spans\":[{}]}}]}}]}}",
        spans.join(",")
    )
}

/// One HTTP/1.1 request on its own connection; (status, headers and body).
pub fn http(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    let code = resp.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, resp)
}

/// POSTs an OTLP request as an exporter does: 429 and 503 are retried after `Retry-After`.
/// Returns how many times it was told to retry.
pub fn export(addr: &str, body: &str) -> u32 {
    let mut retries = 0;
    loop {
        let (code, resp) = http(
            addr,
            "/v1/traces",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        match code {
            200 => return retries,
            429 | 503 => {
                assert!(
                    resp.to_ascii_lowercase().contains("retry-after:"),
                    "{code} without Retry-After: {resp}"
                );
                retries += 1;
                assert!(retries < 600, "retried for ever");
                std::thread::sleep(Duration::from_millis(200));
            }
            _ => panic!("otlp answered {code}: {resp}"),
        }
    }
}

/// A chat-completions request with a unique prompt.
pub fn chat_body(i: usize) -> String {
    format!(
        "{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"question number {i}\"}}]}}"
    )
}

/// What the local upstream answers: one chat completion.
pub const CHAT_REPLY: &str = "{\"id\":\"chatcmpl-writers\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";

/// A local upstream answering every request with one chat completion
/// (keep-alive, thread per connection); its address and a request counter.
pub fn upstream() -> (String, Arc<Mutex<u64>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(0u64));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { continue };
            let seen = s2.clone();
            std::thread::spawn(move || serve_chat(conn, &seen));
        }
    });
    (addr, seen)
}

fn serve_chat(conn: TcpStream, seen: &Mutex<u64>) {
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if first && line.trim().is_empty() {
                continue;
            }
            first = false;
            let l = line.to_ascii_lowercase();
            if let Some(v) = l.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        *seen.lock().unwrap() += 1;
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{CHAT_REPLY}",
            CHAT_REPLY.len()
        );
        if w.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// A server started from the binary, its address read from the banner, and
/// its stderr collected line by line (with when each line came).
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub stderr: Arc<Mutex<Vec<(Instant, String)>>>,
}

/// Starts `skilltrace <args>` and waits for its banner's `http://ADDR`.
pub fn start(mut cmd: Command) -> Server {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split(['/', ',', ' ']).next())
        .unwrap_or_else(|| panic!("no address in banner: {first}"))
        .to_string();
    let stderr = collect_stderr(&mut child);
    Server {
        child,
        addr,
        stderr,
    }
}

/// Collects a child's stderr lines as they come.
pub fn collect_stderr(child: &mut Child) -> Arc<Mutex<Vec<(Instant, String)>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l2 = lines.clone();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            l2.lock().unwrap().push((Instant::now(), line));
        }
    });
    lines
}

impl Server {
    /// SIGTERM, then wait: (exit code, stderr lines).
    pub fn stop(mut self) -> (Option<i32>, Vec<String>) {
        term(&self.child);
        let status = wait_for(&mut self.child, Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(100));
        let lines = self
            .stderr
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        (status, lines)
    }

    /// Stderr lines so far.
    pub fn stderr_now(&self) -> Vec<(Instant, String)> {
        self.stderr.lock().unwrap().clone()
    }
}

/// Sends SIGTERM.
pub fn term(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// Waits up to `d` for the child; its exit code (`None` if killed by a signal
/// or still running, then killed).
pub fn wait_for(child: &mut Child, d: Duration) -> Option<i32> {
    let deadline = Instant::now() + d;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Spans stored whose origin path matches the SQL `LIKE` pattern.
pub fn spans_from(db: &Path, like: &str) -> u64 {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    c.query_row(
        "SELECT count(*) FROM spans WHERE origin_path LIKE ?1",
        [like],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as u64
}

/// Polls until `f()` is at least `want` or `d` passes; the last value.
pub fn wait_until(d: Duration, want: u64, mut f: impl FnMut() -> u64) -> u64 {
    let deadline = Instant::now() + d;
    loop {
        let v = f();
        if v >= want || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Stderr lines that report an error or a crash.
pub fn bad_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("error")
                || l.contains("panicked")
                || l.contains("database is locked")
                || l.contains("lost")
                || l.contains("dropped: ")
        })
        .cloned()
        .collect()
}
