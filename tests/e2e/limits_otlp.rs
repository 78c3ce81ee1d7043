//! The OTLP receiver's memory ceiling and body deadline, on the real binary:
//! 64 held-open bodies, a one-byte-per-five-seconds drip, gzip bombs of every
//! shape, and a gzip protobuf of 637,370 spans. Each case asserts the
//! process's peak RSS (`VmHWM`) under a stated ceiling and the answer OTLP
//! senders expect (413, 408, 503 with `Retry-After`).
//!
//! `SKILLTRACE_TEST_BIN=/path/to/other/skilltrace cargo test --test e2e limits_otlp::
//! -- --nocapture --test-threads=1` measures another build the same way.
#![allow(clippy::unwrap_used)]

use crate::limits_support;

use limits_support::*;
use std::io::Write;
use std::time::{Duration, Instant};

const JSON: (&str, &str) = ("Content-Type", "application/json");
const GZIP: (&str, &str) = ("Content-Encoding", "gzip");

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// An OTLP/JSON request of `spans` copies of one small span.
fn many_spans(spans: usize) -> Vec<u8> {
    let span = r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"execute_tool bash","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{"key":"gen_ai.tool.name","value":{"stringValue":"bash"}}]}"#;
    let mut out = br#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":["#.to_vec();
    for i in 0..spans {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(span.as_bytes());
    }
    out.extend_from_slice(b"]}]}]}");
    out
}

/// One span whose attributes are `attrs` tiny distinct integers.
fn many_attributes(attrs: usize) -> Vec<u8> {
    let mut out = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"s","attributes":["#.to_vec();
    for i in 0..attrs {
        if i > 0 {
            out.push(b',');
        }
        write!(out, r#"{{"key":"k{i}","value":{{"intValue":"1"}}}}"#).unwrap();
    }
    out.extend_from_slice(b"]}]}]}]}");
    out
}

/// One span with one string attribute of `len` bytes.
fn one_long_string(len: usize) -> Vec<u8> {
    let mut out = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","name":"s","attributes":[{"key":"tool.output","value":{"stringValue":""#.to_vec();
    out.resize(out.len() + len, b'x');
    out.extend_from_slice(br#""}}]}]}]}]}"#);
    out
}

#[test]
fn gzip_bombs_are_refused_or_bounded_under_the_ceiling() {
    let t = tempfile::tempdir().unwrap();
    let srv = Server::start(t.path(), &["otlp"], "");
    // 32 MiB of small spans in ~150 KB of gzip: too many spans.
    let spans = many_spans(32 * MIB / 260);
    let packed = gzip(&spans);
    assert!(packed.len() < 256 << 10, "{}", packed.len());
    let a = post(&srv.addr, "/v1/traces", &[JSON, GZIP], &packed);
    assert_eq!(a.status, 413, "{a:?}");
    assert!(
        String::from_utf8_lossy(&a.body).contains("otlp_spans"),
        "{a:?}"
    );
    // 64 MiB inflated from a few KB: stopped at the 32 MiB cap.
    let a = post(
        &srv.addr,
        "/v1/traces",
        &[JSON, GZIP],
        &gzip(&vec![b' '; 64 * MIB]),
    );
    assert_eq!(a.status, 413, "{a:?}");
    assert!(String::from_utf8_lossy(&a.body).contains("inflates past 32 MiB"));
    // One span, a million tiny attributes: too many JSON values.
    let a = post(
        &srv.addr,
        "/v1/traces",
        &[JSON, GZIP],
        &gzip(&many_attributes(700_000)),
    );
    assert_eq!(a.status, 413, "{a:?}");
    assert!(
        String::from_utf8_lossy(&a.body).contains("json_values"),
        "{a:?}"
    );
    // Just inside every limit: accepted, and still under the ceiling.
    let a = post(
        &srv.addr,
        "/v1/traces",
        &[JSON, GZIP],
        &gzip(&many_attributes(250_000)),
    );
    assert_eq!(a.status, 200, "{a:?}");
    let a = post(
        &srv.addr,
        "/v1/traces",
        &[JSON, GZIP],
        &gzip(&one_long_string(30 * MIB)),
    );
    assert_eq!(a.status, 200, "{a:?}");
    let a = post(&srv.addr, "/v1/traces", &[JSON], &many_spans(9_000));
    assert_eq!(a.status, 200, "{a:?}");
    let peak = srv.peak_mib();
    srv.stop();
    assert_peak("otlp gzip bombs", peak, 300.0);
}

#[test]
fn a_gzip_protobuf_of_637k_spans_is_refused_under_the_ceiling() {
    use skilltrace::ingest::otlp_proto::Span;
    let mut scope = Vec::new();
    for i in 0..637_370u64 {
        let span = Span {
            trace_id: (i / 64 + 1).to_be_bytes().repeat(2),
            span_id: (i + 1).to_be_bytes().to_vec(),
            name: "s".into(),
            ..Span::default()
        };
        prost::encoding::message::encode(2, &span, &mut scope);
    }
    let mut rs = Vec::new();
    prost::encoding::bytes::encode(2, &scope, &mut rs);
    let mut req = Vec::new();
    prost::encoding::bytes::encode(1, &rs, &mut req);
    let packed = gzip(&req);
    assert!(packed.len() < 4 * MIB, "{}", packed.len());
    let t = tempfile::tempdir().unwrap();
    let srv = Server::start(t.path(), &["otlp"], "");
    let a = post(
        &srv.addr,
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf"), GZIP],
        &packed,
    );
    assert_eq!(a.status, 413, "{a:?}");
    assert!(
        String::from_utf8_lossy(&a.body).contains("more than 10000 spans"),
        "{a:?}"
    );
    let peak = srv.peak_mib();
    let said = srv.stop();
    assert!(said.contains("1 refused"), "{said}");
    assert_peak("otlp protobuf of 637k spans", peak, 200.0);
    // Nothing of it was stored.
    let s = skilltrace::store::Store::open_read(&t.path().join("st.db")).unwrap();
    assert_eq!(s.counts().unwrap().spans, 0);
}

#[test]
fn held_open_bodies_share_one_budget() {
    let t = tempfile::tempdir().unwrap();
    // The default body deadline, stated: on a loaded machine the senders need
    // most of it, and the small request must come before it.
    let srv = Server::start(t.path(), &["otlp"], "[limits]\nbody_timeout_secs = 30\n");
    let started = Instant::now();
    // 64 senders each announce 32 MiB, send 31 MiB and stop.
    let held = HeldOpen::start(&srv.addr, "/v1/traces", &[JSON], 64, 32 * MIB - 1, 31 * MIB);
    held.wait_sent(Duration::from_secs(24));
    // While they hold the budget, a small request is told to come back.
    let a = post(&srv.addr, "/v1/traces", &[JSON], &many_spans(1));
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.header("retry-after").as_deref(), Some("1"), "{a:?}");
    let peak_held = srv.peak_mib();
    // Past the deadline every held body is cut off and the budget is free again.
    held.release_after(started, Duration::from_secs(32));
    let a = post(&srv.addr, "/v1/traces", &[JSON], &many_spans(1));
    assert_eq!(a.status, 200, "{a:?}");
    let peak = srv.peak_mib();
    srv.stop();
    assert_peak("otlp 64 held-open bodies", peak_held, 300.0);
    assert_peak("otlp 64 held-open bodies, whole run", peak, 300.0);
}

#[test]
fn a_drip_is_cut_off_at_the_body_deadline() {
    let t = tempfile::tempdir().unwrap();
    let srv = Server::start(t.path(), &["otlp"], "[limits]\nbody_timeout_secs = 15\n");
    // One byte every five seconds, the answer read as it comes.
    let mut s = std::net::TcpStream::connect(&srv.addr).unwrap();
    write!(
        s,
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    .unwrap();
    let mut reader = s.try_clone().unwrap();
    let t0 = Instant::now();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = answered.clone();
    std::thread::spawn(move || {
        while !done.load(std::sync::atomic::Ordering::Relaxed) && s.write_all(b"{").is_ok() {
            for _ in 0..50 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    });
    reader
        .set_read_timeout(Some(Duration::from_secs(40)))
        .unwrap();
    let a = read_answer(&mut reader).unwrap();
    let took = t0.elapsed();
    answered.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(a.status, 408, "{a:?}");
    assert!(
        took >= Duration::from_secs(14) && took < Duration::from_secs(20),
        "cut off after {took:?}"
    );
    let peak = srv.peak_mib();
    let said = srv.stop();
    assert!(said.contains("1 refused"), "{said}");
    assert_peak("otlp drip", peak, 100.0);
}
