//! Attacks on the proxy's protocol handling (guarantees 7 and 9): request
//! smuggling (`Content-Length` with `Transfer-Encoding`, two `Content-Length`s,
//! obs-fold), oversized headers and header counts, a slow-loris client, an
//! upstream that redirects to another host, and an upstream whose body never
//! ends. The upstream sees each request framed once and byte for byte (or not
//! at all), the proxy never follows a redirect nor sends the key anywhere but
//! the configured upstream, memory stays under a ceiling, the proxy keeps
//! serving others, and no byte of the key reaches the store.
#![allow(clippy::unwrap_used)]

use crate::limits_support::{assert_peak, Server};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "sk-proj-Kf8Jd7Hs6Ga5Pq4Lw3Oe2Ir1Ut0YzXcVbNm9876543210wxyz";
const BODY: &str = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
const ANSWER: &str = r#"{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#;

/// A request as the upstream read it: its head (lower-cased) and body.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An upstream that keeps what it reads (a `Content-Length` body, or nothing)
/// and answers each request with `answer` (given how many came before it).
fn upstream(answer: fn(&mut TcpStream, usize)) -> (String, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let keep = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let keep = keep.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line.to_ascii_lowercase());
                }
                if head.is_empty() {
                    return;
                }
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0usize);
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let n = {
                    let mut k = keep.lock().unwrap();
                    k.push((head, body));
                    k.len() - 1
                };
                answer(&mut s, n);
            });
        }
    });
    (url, seen)
}

fn answer_ok(s: &mut TcpStream, _: usize) {
    let _ = write!(
        s,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{ANSWER}",
        ANSWER.len()
    );
}

/// Writes `raw` on a fresh connection and reads until the proxy closes it (or 10 s).
fn exchange(addr: &str, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn head(addr: &str) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {KEY}\r\n"
    )
}

fn chunked(body: &str) -> String {
    format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len())
}

/// The store's db, `-wal` and `-shm` hold no byte of the key (any 8-character piece).
fn assert_key_not_stored(db: &std::path::Path) {
    let body = &KEY.as_bytes()[8..];
    for suffix in ["", "-wal", "-shm"] {
        let Ok(bytes) = std::fs::read(format!("{}{suffix}", db.display())) else {
            continue;
        };
        for piece in body.windows(8) {
            assert!(
                !bytes.windows(8).any(|w| w == piece),
                "{}{suffix} holds a piece of the key",
                db.display()
            );
        }
    }
}

#[test]
fn smuggled_and_malformed_framing_reaches_the_upstream_once_and_exactly_or_not_at_all() {
    let (url, seen) = upstream(answer_ok);
    let dir = tempfile::tempdir().unwrap();
    let proxy = Server::start(dir.path(), &["proxy", "--openai-upstream", &url], "");
    let addr = proxy.addr.clone();
    let h = head(&addr);
    let smuggled = format!("GET /v1/models HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    // Answered, and the upstream reads the chunked body once, re-framed.
    let framed = [
        // Content-Length and Transfer-Encoding: the chunked framing wins, what
        // follows the last chunk is never part of the body.
        format!(
            "{h}Content-Length: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}{smuggled}",
            chunked(BODY).len(),
            chunked(BODY)
        ),
        format!(
            "{h}Transfer-Encoding: chunked\r\nContent-Length: 4\r\nConnection: close\r\n\r\n{}",
            chunked(BODY)
        ),
    ];
    for raw in &framed {
        let got = exchange(&addr, raw.as_bytes());
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        assert!(got.ends_with(ANSWER), "answered byte for byte: {got}");
    }
    // Refused before anything is forwarded.
    let refused = [
        (
            format!(
                "{h}Content-Length: {}\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{BODY}",
                BODY.len()
            ),
            "400",
        ),
        (
            format!(
                "{h}X-Folded: a\r\n  folded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                BODY.len()
            ),
            "400",
        ),
        (
            format!(
                "{h}X-Big: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                "a".repeat(1 << 20),
                BODY.len()
            ),
            "431",
        ),
        (
            format!(
                "{h}{}Content-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                (0..500).map(|i| format!("X-H{i}: v\r\n")).collect::<String>(),
                BODY.len()
            ),
            "431",
        ),
    ];
    for (raw, code) in &refused {
        let got = exchange(&addr, raw.as_bytes());
        assert!(
            got.starts_with(&format!("HTTP/1.1 {code}")),
            "{code} expected: {got}"
        );
        assert!(!got.contains(KEY), "the refusal repeats the key");
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "only the two framed requests were forwarded");
    for (head, body) in &seen {
        assert_eq!(body, BODY.as_bytes(), "the body, once, byte for byte");
        assert!(!head.contains("transfer-encoding"), "{head}");
        assert_eq!(head.matches("content-length:").count(), 1, "{head}");
        assert!(head.starts_with("post /v1/chat/completions "), "{head}");
    }
    let stderr = proxy.stop();
    assert!(stderr.contains("2 exchanges recorded"), "{stderr}");
    assert_key_not_stored(&dir.path().join("st.db"));
}

#[test]
fn a_slow_loris_is_cut_off_while_others_are_served() {
    let (url, seen) = upstream(answer_ok);
    let dir = tempfile::tempdir().unwrap();
    let proxy = Server::start(dir.path(), &["proxy", "--openai-upstream", &url], "");
    let addr = proxy.addr.clone();
    // 200 clients, each sending its head a line every 2 s, never finishing it.
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\n")
                .unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let mut served = 0;
    let mut open = slow.len();
    while started.elapsed() < Duration::from_secs(60) && open > 0 {
        std::thread::sleep(Duration::from_secs(2));
        open = 0;
        for s in &mut slow {
            if s.write_all(b"X-Drip: 1\r\n").is_err() {
                continue;
            }
            s.set_nonblocking(true).unwrap();
            let mut b = [0u8; 64];
            match s.read(&mut b) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
                _ => {}
            }
        }
        // Meanwhile an honest client is answered at once.
        let t = Instant::now();
        let h = head(&addr);
        let got = exchange(
            &addr,
            format!(
                "{h}Content-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                BODY.len()
            )
            .as_bytes(),
        );
        assert!(got.ends_with(ANSWER), "{got}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        served += 1;
    }
    assert_eq!(open, 0, "slow heads are cut off within a minute");
    assert!(served >= 5);
    assert_eq!(
        seen.lock().unwrap().len(),
        served,
        "no slow head was forwarded"
    );
    assert_peak("200 slow-loris heads", proxy.peak_mib(), 128.0);
    proxy.stop();
}

#[test]
fn an_upstream_redirect_is_passed_back_never_followed_and_the_key_goes_nowhere_else() {
    // The host the redirect names: it must never be reached.
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    let there = elsewhere.local_addr().unwrap().to_string();
    elsewhere.set_nonblocking(true).unwrap();
    static THERE: Mutex<String> = Mutex::new(String::new());
    *THERE.lock().unwrap() = there.clone();
    let (url, seen) = upstream(|s, _| {
        let there = THERE.lock().unwrap().clone();
        let _ = write!(
            s,
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{there}/v1/chat/completions?k=1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let proxy = Server::start(dir.path(), &["proxy", "--openai-upstream", &url], "");
    let addr = proxy.addr.clone();
    let h = head(&addr);
    let got = exchange(
        &addr,
        format!(
            "{h}Content-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
            BODY.len()
        )
        .as_bytes(),
    );
    assert!(got.starts_with("HTTP/1.1 307"), "passed back as is: {got}");
    assert!(
        got.contains(&format!("location: http://{there}/v1/chat/completions?k=1")),
        "{got}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        elsewhere.accept().is_err(),
        "the proxy followed the redirect"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].0.contains(&KEY.to_ascii_lowercase()),
        "the configured upstream got the key"
    );
    let stderr = proxy.stop();
    assert!(stderr.contains("1 exchanges recorded"), "{stderr}");
    assert_key_not_stored(&dir.path().join("st.db"));
}

#[test]
fn an_endless_upstream_body_is_forwarded_in_bounded_memory_and_recorded_cut() {
    let (url, _) = upstream(|s, n| {
        if n > 0 {
            return answer_ok(s, n);
        }
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        let chunk = format!("{:x}\r\n{}\r\n", 64 << 10, "x".repeat(64 << 10));
        while s.write_all(chunk.as_bytes()).is_ok() {}
    });
    let dir = tempfile::tempdir().unwrap();
    let proxy = Server::start(dir.path(), &["proxy", "--openai-upstream", &url], "");
    let addr = proxy.addr.clone();
    let mut s = TcpStream::connect(&addr).unwrap();
    let h = head(&addr);
    write!(s, "{h}Content-Length: {}\r\n\r\n{BODY}", BODY.len()).unwrap();
    // Read 256 MiB of it, then go away.
    let mut buf = vec![0u8; 1 << 20];
    let mut read = 0usize;
    while read < 256 << 20 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended after {read} bytes");
        read += n;
    }
    drop(s);
    assert_peak("an endless upstream body", proxy.peak_mib(), 160.0);
    // Still serving.
    let got = exchange(
        &addr,
        format!(
            "{h}Content-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
            BODY.len()
        )
        .as_bytes(),
    );
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    let stderr = proxy.stop();
    assert!(stderr.contains("2 exchanges recorded"), "{stderr}");
    let db = dir.path().join("st.db");
    let export = crate::common::ok(
        crate::common::bin()
            .args(["export", "--format", "json", "--db"])
            .arg(&db),
    );
    let export = String::from_utf8_lossy(&export.stdout);
    assert!(export.contains("\"response.truncated\":true"), "{export}");
    assert!(export.contains("client_disconnected"), "{export}");
    assert_key_not_stored(&db);
}
