//! Attacks on the loopback listeners (guarantee 7): a web page reaching
//! `skilltrace otlp`, `guard serve` and `proxy` through DNS rebinding (a
//! request that names another host) or a cross-site post (a foreign
//! `Origin`), in the absolute-form request target too, is refused with `403`
//! before anything is stored, judged or forwarded; local clients are answered
//! as before (each case has its control). The refusal never repeats the
//! request's text.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::bin;
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

/// A server command started on a free loopback port; its child and address.
fn start(args: &[&str], db: &Path) -> (Child, String) {
    let mut child = bin()
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
    let (child, addr) = start(&["otlp"], &db);
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
    let (child, addr) = start(&["guard", "serve"], &db);
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

#[test]
fn a_rebound_request_is_never_forwarded_by_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    // An upstream that counts connections and answers every one with a small JSON.
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
    let url = format!("http://{up}");
    let (child, addr) = start(&["proxy", "--openai-upstream", &url], &db);
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
