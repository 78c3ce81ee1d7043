//! The proxy's memory ceiling, on the real binary with a canned upstream: 64
//! held-open request bodies, a brotli bomb (578 bytes inflating to 60 MiB of
//! valid JSON), a body of millions of tiny JSON values, and one SSE stream of
//! 200 tool calls × 4 MiB of arguments. Each case asserts the process's peak
//! RSS (`VmHWM`) under a stated ceiling, that the client got every byte the
//! upstream sent, unchanged, and that the recording says what it left out.
//!
//! `SKILLTRACE_TEST_BIN=/path/to/other/skilltrace cargo test --test e2e limits_proxy::
//! -- --nocapture --test-threads=1` measures another build the same way.
#![allow(clippy::unwrap_used)]

use crate::limits_support;

use limits_support::*;
use skilltrace::model::{Span, SpanKind};
use skilltrace::store::{RunFilter, RunSort, Store};
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn spans(db: &Path) -> Vec<Span> {
    let s = Store::open_read(db).unwrap();
    s.runs(&RunFilter::default(), RunSort::Started, 0, 100)
        .unwrap()
        .iter()
        .flat_map(|r| s.spans(&r.run.id, 0, 10_000).unwrap())
        .map(|row| row.span)
        .collect()
}

/// A chat completion request through the proxy at `addr`.
fn chat(addr: &str) -> Answer {
    post(
        addr,
        "/v1/chat/completions",
        &[JSON],
        CHAT_REQUEST.as_bytes(),
    )
}

/// A compression bomb from `tests/fixtures/bombs/` (see its SOURCE.md) and its decoded length.
fn fixture_bomb(name: &str) -> (Arc<Vec<u8>>, usize) {
    let p = format!("{}/tests/fixtures/bombs/{name}", env!("CARGO_MANIFEST_DIR"));
    let packed = std::fs::read(&p).unwrap();
    let mut n = 0usize;
    let mut d = brotli::Decompressor::new(&packed[..], 1 << 16);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match std::io::Read::read(&mut d, &mut buf).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    (Arc::new(packed), n)
}

fn json_answer(
    body: Arc<Vec<u8>>,
    encoding: &'static str,
) -> impl Fn(&mut TcpStream) + Send + Sync {
    move |s: &mut TcpStream| {
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {encoding}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(&body);
    }
}

/// Sends one chat request through a fresh proxy whose upstream answers with
/// the brotli fixture `name`; checks the client got it byte for byte and
/// returns the proxy's peak RSS and why the recording did not parse it.
fn through_the_proxy(name: &str) -> (f64, String) {
    let (bomb, _) = fixture_bomb(name);
    let up = upstream(json_answer(bomb.clone(), "br"));
    let t = tempfile::tempdir().unwrap();
    let srv = Server::start(t.path(), &["proxy", "--openai-upstream", &up.url], "");
    let a = chat(&srv.addr);
    assert_eq!(a.status, 200, "{}", a.head);
    assert_eq!(
        a.body, *bomb,
        "the client gets the compressed bytes as sent"
    );
    let peak = srv.peak_mib();
    srv.stop();
    let llm: Vec<Span> = spans(&t.path().join("st.db"))
        .into_iter()
        .filter(|s| s.kind == SpanKind::Llm)
        .collect();
    assert_eq!(llm.len(), 1);
    let why = llm[0].attributes["response.not_parsed"].as_str().unwrap();
    (peak, why.to_string())
}

#[test]
fn a_brotli_bomb_is_forwarded_whole_and_recorded_truncated_under_the_ceiling() {
    let (bomb, json_len) = fixture_bomb("chat-completion-60mib.json.br");
    assert!(json_len > 60 * MIB && bomb.len() < 1024, "{}", bomb.len());
    let (peak, why) = through_the_proxy("chat-completion-60mib.json.br");
    assert!(
        why.contains("decodes past 16 MiB") && why.contains(&json_len.to_string()),
        "{why}"
    );
    assert_peak("proxy brotli bomb", peak, 150.0);
    // Inside the decoded cap, but millions of tiny values: forwarded, not parsed.
    let (_, dense_len) = fixture_bomb("chat-completion-7m-zeros.json.br");
    assert!(dense_len < 16 * MIB);
    let (peak, why) = through_the_proxy("chat-completion-7m-zeros.json.br");
    assert!(why.contains("more than 2000000 JSON values"), "{why}");
    assert_peak("proxy body of 7 million JSON values", peak, 150.0);
}

#[test]
fn one_stream_of_200_tool_calls_of_4_mib_is_capped_per_exchange() {
    const CALLS: usize = 200;
    const DELTAS: usize = 64;
    let piece = "a".repeat(64 << 10);
    let mut events: Vec<Vec<u8>> = Vec::new();
    let open = |i: usize| {
        format!(
            "data: {{\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{i},\"id\":\"call_{i}\",\"type\":\"function\",\"function\":{{\"name\":\"write_file\",\"arguments\":\"\"}}}}]}}}}]}}\n\n"
        )
    };
    let delta = |i: usize| {
        format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{i},\"function\":{{\"arguments\":\"{piece}\"}}}}]}}}}]}}\n\n"
        )
        .into_bytes()
    };
    let mut total = 0usize;
    for i in 0..CALLS {
        events.push(open(i).into_bytes());
        events.push(delta(i));
    }
    let done = b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n".to_vec();
    for i in 0..CALLS {
        total += events[2 * i].len() + DELTAS * events[2 * i + 1].len();
    }
    total += done.len();
    let events = Arc::new((events, done));
    let up = upstream(move |s: &mut TcpStream| {
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
        );
        let (events, done) = &*events;
        for i in 0..CALLS {
            let _ = s.write_all(&events[2 * i]);
            for _ in 0..DELTAS {
                if s.write_all(&events[2 * i + 1]).is_err() {
                    return;
                }
            }
        }
        let _ = s.write_all(done);
    });
    let t = tempfile::tempdir().unwrap();
    let srv = Server::start(t.path(), &["proxy", "--openai-upstream", &up.url], "");
    let started = Instant::now();
    let a = chat(&srv.addr);
    assert_eq!(a.status, 200);
    assert_eq!(a.body.len(), total, "every byte reaches the client");
    eprintln!("{} MiB streamed in {:?}", total / MIB, started.elapsed());
    let peak = srv.peak_mib();
    srv.stop();
    assert_peak("proxy SSE of 200 tool calls x 4 MiB", peak, 200.0);

    let db = t.path().join("st.db");
    let all = spans(&db);
    let llm = all.iter().find(|s| s.kind == SpanKind::Llm).unwrap();
    assert_eq!(llm.attributes["response.truncated"], true);
    let dropped = llm.attributes["response.dropped_bytes"].as_u64().unwrap();
    assert!(dropped > (CALLS * 4 * MIB - 17 * MIB) as u64, "{dropped}");
    assert!(
        llm.attributes["response.dropped_tool_calls"]
            .as_u64()
            .unwrap()
            > 150
    );
    let kept: usize = all
        .iter()
        .filter(|s| s.kind == SpanKind::Tool)
        .map(|s| s.tool_input.as_ref().map_or(0, String::len))
        .sum();
    assert!(kept <= 16 * MIB, "{kept}");
    let stored = store_bytes(&db);
    eprintln!("stored {} MiB", stored / MIB as u64);
    assert!(stored < 48 * MIB as u64, "{stored}");
}

#[test]
fn held_open_request_bodies_share_one_budget() {
    let up = upstream(json_answer(
        Arc::new(br#"{"id":"x","choices":[]}"#.to_vec()),
        "identity",
    ));
    let t = tempfile::tempdir().unwrap();
    let srv = Server::start(
        t.path(),
        &["proxy", "--openai-upstream", &up.url],
        "[limits]\nbody_timeout_secs = 30\n",
    );
    let started = Instant::now();
    // 64 clients each announce 16 MiB, send 15 MiB and stop.
    let held = HeldOpen::start(
        &srv.addr,
        "/v1/chat/completions",
        &[JSON],
        64,
        16 * MIB,
        15 * MIB,
    );
    held.wait_sent(Duration::from_secs(24));
    let a = chat(&srv.addr);
    assert_eq!(a.status, 503, "{}", a.head);
    assert_eq!(a.header("retry-after").as_deref(), Some("1"));
    assert!(String::from_utf8_lossy(&a.body).contains("proxy_busy"));
    let peak_held = srv.peak_mib();
    // Past the deadline every held body is cut off and the budget is free again.
    held.release_after(started, Duration::from_secs(32));
    let a = chat(&srv.addr);
    assert_eq!(a.status, 200, "{}", a.head);
    let said = srv.stop();
    assert!(
        said.contains("refused while the memory budget was full"),
        "{said}"
    );
    assert_peak("proxy 64 held-open bodies", peak_held, 300.0);
}
