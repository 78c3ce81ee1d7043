//! Attacks on the loopback listeners (guarantee 7): a web page reaching
//! `skilltrace otlp`, `guard serve` and `proxy` through DNS rebinding (a
//! request that names another host) or a cross-site post (a foreign
//! `Origin`), in the absolute-form request target too, is refused with `403`
//! before anything is stored, judged or forwarded; local clients are answered
//! as before (each case has its control). The refusal never repeats the
//! request's text. A page that sends no `Origin` (an `<img>` or `<script>`
//! of another site: `Sec-Fetch-Site: cross-site`) or a "simple" `text/plain`
//! CORS post is refused too, and said in one `warning:` line naming no
//! request text, while the headers real SDKs, OTel exporters and agent hooks
//! send (Node's `Sec-Fetch-Mode: cors` included) are answered.
#![allow(clippy::unwrap_used)]

use crate::{attack_support, common};

use skilltrace::store::{RunFilter, RunSort, Store};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A raw HTTP/1.1 request (`head` without its blank line) and `body`; returns (status, whole answer).
fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    (resp[9..12].parse().unwrap(), resp)
}

/// SIGTERM, then the child's stderr once it has exited.
fn stop(child: Child) -> String {
    common::ok(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null()),
    );
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn span_names(db: &Path) -> Vec<String> {
    let s = Store::open_read(db).unwrap();
    let mut names = Vec::new();
    for r in s
        .runs(&RunFilter::default(), RunSort::Started, 0, 100)
        .unwrap()
    {
        names.extend(
            s.spans(&r.run.id, 0, 1000)
                .unwrap()
                .into_iter()
                .map(|sp| sp.span.name),
        );
    }
    names.sort();
    names
}

/// The foreign shapes a web page can give a request to a loopback port.
const HOSTILE: [(&str, &str); 6] = [
    ("POST {path} HTTP/1.1", "Host: evil-rebind.example:4318"),
    (
        "POST {path} HTTP/1.1",
        "Host: 127.0.0.1.evil-rebind.example",
    ),
    (
        "POST {path} HTTP/1.1",
        "Host: 127.0.0.1\r\nHost: evil-rebind.example",
    ),
    (
        "POST {path} HTTP/1.1",
        "Host: 127.0.0.1\r\nOrigin: https://evil-rebind.example",
    ),
    ("POST {path} HTTP/1.1", "Host: localhost\r\nOrigin: null"),
    (
        "POST http://evil-rebind.example{path} HTTP/1.1",
        "Host: 127.0.0.1",
    ),
];

fn otlp_span(name: &str) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b716920333{n}","name":"{name}","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}}]}}]}}]}}"#,
        n = name.len() % 10
    )
}

#[test]
fn a_rebound_or_cross_site_request_never_reaches_the_otlp_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (child, addr) = attack_support::start_server(&["otlp"], &db);
    for (i, (line, headers)) in HOSTILE.iter().enumerate() {
        let head = format!("{}\r\n{headers}\r\nContent-Type: application/json", line)
            .replace("{path}", "/v1/traces");
        let (code, resp) = raw(&addr, &head, otlp_span(&format!("injected{i}")).as_bytes());
        assert_eq!(code, 403, "{head:?} was answered: {resp}");
        assert!(
            !resp.contains("evil-rebind"),
            "the refusal repeats the request: {resp}"
        );
    }
    // Control: the same request from a local client is stored.
    let head =
        format!("POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json");
    let (code, resp) = raw(&addr, &head, otlp_span("local").as_bytes());
    assert_eq!(code, 200, "{resp}");
    let (code, _) = raw(
        &addr,
        "POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost:3000\r\nContent-Type: application/json",
        otlp_span("localpage").as_bytes(),
    );
    assert_eq!(code, 200, "a page served from this machine is local");
    stop(child);
    assert_eq!(span_names(&db), ["local", "localpage"]);
}

#[test]
fn a_rebound_request_never_reaches_guard_serve() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let (child, addr) = attack_support::start_server(&["guard", "serve"], &db);
    let event = common::hook_fixture("claude-code", "pre-tool-use.json");
    let body = serde_json::to_vec(&event).unwrap();
    for (line, headers) in HOSTILE {
        let head = format!("{line}\r\n{headers}\r\nContent-Type: application/json")
            .replace("{path}", "/guard/claude-code");
        let (code, resp) = raw(&addr, &head, &body);
        assert_eq!(code, 403, "{head:?} was answered: {resp}");
    }
    let (code, _) = raw(
        &addr,
        "GET /health HTTP/1.1\r\nHost: evil-rebind.example",
        b"",
    );
    assert_eq!(code, 403, "a rebound page reads no counters");
    let head = format!(
        "POST /guard/claude-code HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json"
    );
    let (code, resp) = raw(&addr, &head, &body);
    assert_eq!(code, 200, "the local hook is answered: {resp}");
    let (code, resp) = raw(&addr, &format!("GET /health HTTP/1.1\r\nHost: {addr}"), b"");
    assert_eq!(code, 200, "{resp}");
    assert!(
        resp.contains("\"requests\":2"),
        "only the controls counted: {resp}"
    );
    assert!(
        resp.contains("\"decisions\":1"),
        "only the control judged: {resp}"
    );
    stop(child);
}

/// An upstream that counts connections and answers every one with a small
/// JSON; its URL and the count.
fn counting_upstream() -> (String, Arc<AtomicUsize>) {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = upstream.local_addr().unwrap().to_string();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for s in upstream.incoming() {
            let Ok(mut s) = s else { break };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            let body = r#"{"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{up}"), seen)
}

#[test]
fn a_rebound_request_is_never_forwarded_by_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let (url, seen) = counting_upstream();
    let (child, addr) = attack_support::start_server(&["proxy", "--openai-upstream", &url], &db);
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    for (line, headers) in HOSTILE {
        let head = format!(
            "{line}\r\n{headers}\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-test"
        )
        .replace("{path}", "/v1/chat/completions");
        let (code, resp) = raw(&addr, &head, body);
        assert_eq!(code, 403, "{head:?} was answered: {resp}");
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "a refused request reached the upstream"
    );
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-test"
    );
    let (code, resp) = raw(&addr, &head, body);
    assert_eq!(code, 200, "{resp}");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    stop(child);
}

/// What a page of another site sends with no `Origin` to read or poke a
/// loopback port (`<img src>`, `<script src>`, a link), and a "simple" CORS
/// post (`text/plain`, no preflight) with and without its `Origin`.
const NO_ORIGIN: [(&str, &str); 3] = [
    (
        "GET /health HTTP/1.1",
        "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: image",
    ),
    (
        "POST {path} HTTP/1.1",
        "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nContent-Type: text/plain;charset=UTF-8",
    ),
    (
        "POST {path} HTTP/1.1",
        "Origin: https://evil-rebind.example\r\nSec-Fetch-Site: cross-site\r\nContent-Type: text/plain",
    ),
];

/// The headers real local clients send beside `Host` (official SDKs, the
/// OTel exporters, an agent's HTTP hook): Node's fetch adds `Sec-Fetch-Mode:
/// cors`, and none of them sends `Sec-Fetch-Site` or a foreign `Origin`.
const REAL_CLIENTS: [&str; 3] = [
    "User-Agent: OpenAI/JS 4.104.0\r\nx-stainless-lang: js\r\nsec-fetch-mode: cors\r\naccept-language: *",
    "User-Agent: OpenAI/Python 1.99.1\r\nx-stainless-lang: python\r\nAccept: application/json",
    "User-Agent: OTel-OTLP-Exporter-Python/1.36.0\r\nAccept-Encoding: gzip, deflate",
];

/// Every hostile shape gets `403` and no refusal repeats it; every real
/// client's shape is answered; the server's stderr says so in `warning:`
/// lines naming no request text. Returns how many requests were answered.
fn refuses_pages_and_answers_clients(
    addr: &str,
    path: &str,
    (hostile, body): (&[u8], &[u8]),
    extra: &str,
    answered: u16,
) -> usize {
    for (line, headers) in NO_ORIGIN {
        let head = format!("{line}\r\nHost: {addr}\r\n{headers}{extra}").replace("{path}", path);
        let (code, resp) = raw(addr, &head, hostile);
        assert_eq!(code, 403, "{head:?} was answered: {resp}");
        assert!(!resp.contains("evil-rebind"), "{resp}");
    }
    for client in REAL_CLIENTS {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{client}\r\nContent-Type: application/json{extra}"
        );
        let (code, resp) = raw(addr, &head, body);
        assert_eq!(
            code, answered,
            "a real client was refused: {head:?}: {resp}"
        );
    }
    REAL_CLIENTS.len()
}

fn said_once_and_clean(stderr: &str) {
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("refused a request a web page could have sent"))
        .collect();
    assert!(!said.is_empty(), "no line said the refusals: {stderr}");
    assert!(said.len() <= NO_ORIGIN.len(), "{said:?}");
    assert!(said.iter().all(|l| l.starts_with("warning: ")), "{said:?}");
    assert!(
        !stderr.contains("evil-rebind") && !stderr.contains("text/plain"),
        "stderr repeats a request: {stderr}"
    );
}

#[test]
fn a_page_with_no_origin_or_a_simple_cors_post_reaches_no_listener_and_real_clients_still_do() {
    let dir = tempfile::tempdir().unwrap();

    // The OTLP receiver: no span injected, the real exporters' spans stored.
    let db = dir.path().join("o.db");
    let (child, addr) = attack_support::start_server(&["otlp"], &db);
    let (hostile, body) = (otlp_span("injected"), otlp_span("client"));
    let bodies = (hostile.as_bytes(), body.as_bytes());
    refuses_pages_and_answers_clients(&addr, "/v1/traces", bodies, "", 200);
    said_once_and_clean(&stop(child));
    let names = span_names(&db);
    assert!(!names.iter().any(|n| n == "injected"), "{names:?}");
    assert!(names.iter().any(|n| n == "client"), "{names:?}");

    // `guard serve`: no forged event judged or recorded; a page reads no counters.
    let db = dir.path().join("g.db");
    let (child, addr) = attack_support::start_server(&["guard", "serve"], &db);
    let event = common::hook_fixture("claude-code", "pre-tool-use.json");
    let body = serde_json::to_vec(&event).unwrap();
    let bodies = (&body[..], &body[..]);
    let n = refuses_pages_and_answers_clients(&addr, "/guard/claude-code", bodies, "", 200);
    let (code, resp) = raw(&addr, &format!("GET /health HTTP/1.1\r\nHost: {addr}"), b"");
    assert_eq!(code, 200, "{resp}");
    assert!(
        resp.contains(&format!("\"decisions\":{n}")),
        "only the real clients' events were judged: {resp}"
    );
    said_once_and_clean(&stop(child));

    // The proxy: nothing forwarded for a page, every real client forwarded.
    let db = dir.path().join("p.db");
    let (url, seen) = counting_upstream();
    let (child, addr) = attack_support::start_server(&["proxy", "--openai-upstream", &url], &db);
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let n = refuses_pages_and_answers_clients(
        &addr,
        "/v1/chat/completions",
        (body, body),
        "\r\nAuthorization: Bearer sk-test",
        200,
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        n,
        "only the real clients reached the upstream"
    );
    said_once_and_clean(&stop(child));
}

/// A protobuf varint.
fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Field `field` of wire type 2 (length-delimited) holding `payload`.
fn ld(field: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![field << 3 | 2];
    varint(payload.len(), &mut out);
    out.extend_from_slice(payload);
    out
}

/// An `ExportTraceServiceRequest` of one span whose one attribute's value is
/// an array holding an array … `depth` deep, built outside in (no copying).
fn nested_request(depth: usize) -> Vec<u8> {
    let core = ld(1, b"x"); // AnyValue { string_value: "x" }
    let (mut len, mut heads) = (core.len(), Vec::with_capacity(depth));
    for _ in 0..depth {
        // AnyValue { array_value: ArrayValue { values: [inner] } }
        let mut values = vec![1 << 3 | 2];
        varint(len, &mut values);
        len += values.len();
        let mut array = vec![5 << 3 | 2];
        varint(len, &mut array);
        len += array.len();
        array.extend(values);
        heads.push(array);
    }
    let mut value = Vec::with_capacity(len);
    for h in heads.iter().rev() {
        value.extend_from_slice(h);
    }
    value.extend(core);
    let kv = [ld(1, b"k"), ld(2, &value)].concat();
    let span = [
        ld(1, &[1; 16]),
        ld(2, &[2; 8]),
        ld(5, format!("nested{depth}").as_bytes()),
        ld(9, &kv),
    ]
    .concat();
    ld(1, &ld(2, &ld(2, &span)))
}

#[test]
fn a_protobuf_request_nested_without_end_is_refused_and_the_receiver_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (child, addr) = attack_support::start_server(&["otlp"], &db);
    let head = |ct: &str| format!("POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ct}");
    // Nested 20,000 deep: a release of `main` before this test overflowed
    // its stack on it and aborted, taking the receiver down.
    let (code, resp) = raw(
        &addr,
        &head("application/x-protobuf"),
        &nested_request(20_000),
    );
    assert_eq!(code, 400, "{resp}");
    assert!(resp.contains("nested deeper than"), "{resp}");
    // Nesting an SDK sends is read as before.
    let (code, resp) = raw(&addr, &head("application/x-protobuf"), &nested_request(8));
    assert_eq!(code, 200, "{resp}");
    let (code, resp) = raw(
        &addr,
        &head("application/json"),
        otlp_span("after").as_bytes(),
    );
    assert_eq!(code, 200, "the receiver stopped serving: {resp}");
    let err = stop(child);
    assert!(
        !err.contains("overflow") && !err.contains("panick"),
        "{err}"
    );
    let mut names = span_names(&db);
    names.sort();
    assert_eq!(names, ["after", "nested8"]);
}
