//! The proxy into the real store: recorded exchanges land as runs and spans,
//! tool calls get their results, and the client's API key is in no byte of the
//! database files. Also the `skilltrace proxy` binary end to end.
#![allow(clippy::unwrap_used)]

use crate::proxy_support;

use bytes::Bytes;
use proxy_support::*;
use skilltrace::ingest::pipeline::spawn_writer;
use skilltrace::model::SpanKind;
use skilltrace::store::{RunFilter, RunSort, Store};
use std::io::BufRead;
use std::path::Path;
use std::time::Duration;

fn db_bytes(db: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = format!("{}{suffix}", db.display());
        if let Ok(b) = std::fs::read(&p) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every span of every run in the store.
fn stored_spans(db: &Path) -> Vec<skilltrace::model::Span> {
    let store = Store::open_read(db).unwrap();
    let runs = store
        .runs(&RunFilter::default(), RunSort::Started, 0, 100)
        .unwrap();
    runs.iter()
        .flat_map(|r| store.spans(&r.run.id, 0, 1000).unwrap())
        .map(|row| row.span)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchanges_reach_the_store_without_the_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("st.db");
    let req1 = fixture("wire-openai-chat/01_request_with_tools.json");
    let resp1 = fixture("wire-openai-chat/02_response_tool_calls.json");
    let req2 = fixture("wire-openai-chat/03_request_with_tool_results.json");
    let resp2 = fixture("wire-openai-chat/04_response_final_text.json");
    let req3 = fixture("wire-anthropic/03_request_stream.json");
    let sse3 = fixture("wire-anthropic/04_stream_tool_use.sse");
    // A user who pastes the key into the conversation: redaction must catch it in the body too.
    let req4 = Bytes::from(
        serde_json::json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": format!("my key is {API_KEY}, is it valid?")}]
        })
        .to_string(),
    );
    let pairs = [
        (req1.clone(), Reply::json(resp1)),
        (req2.clone(), Reply::json(resp2.clone())),
        (req3.clone(), Reply::sse(sse3, 5)),
        (req4.clone(), Reply::json(resp2)),
    ];
    let up = start_upstream(move |seen| {
        pairs
            .iter()
            .find(|(r, _)| *r == seen.body)
            .map(|(_, rep)| rep.clone())
            .unwrap()
    })
    .await;

    let pipeline = skilltrace::commands::open_pipeline(&db).unwrap();
    let (sink, writer) = spawn_writer(pipeline);
    let bound = skilltrace::proxy::bind(config(&up.url())).await.unwrap();
    let addr = bound.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve(sink, async {
        let _ = stop_rx.await;
    }));
    assert_eq!(
        send_auth(addr, "/v1/chat/completions", req1).await.status,
        200
    );
    assert_eq!(
        send_auth(addr, "/v1/chat/completions", req2).await.status,
        200
    );
    let h = [
        ("x-api-key", API_KEY),
        ("anthropic-version", "2023-06-01"),
        ("authorization", "Bearer sk-ant-api03-SHOULDNEVERBESTORED"),
    ];
    assert_eq!(
        send(addr, "POST", "/v1/messages", &h, req3).await.status,
        200
    );
    assert_eq!(
        send_auth(addr, "/v1/chat/completions", req4).await.status,
        200
    );
    stop_tx.send(()).unwrap();
    task.await.unwrap().unwrap();
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    let bytes = db_bytes(&db);
    assert!(bytes.len() > 4096);
    assert!(
        !contains(&bytes, API_KEY.as_bytes()),
        "API key in the db files"
    );
    assert!(!contains(&bytes, b"TESTKEYdoNotStore"));
    assert!(!contains(&bytes, b"SHOULDNEVERBESTORED"));

    let spans = stored_spans(&db);
    // Auth headers are not recorded at all, not even redacted (a redacted
    // value would pass the byte checks above: text rules know header names).
    for s in &spans {
        for side in ["request.headers", "response.headers"] {
            if let Some(h) = s.attributes.get(side).and_then(|h| h.as_object()) {
                for name in h.keys() {
                    let n = name.to_ascii_lowercase();
                    assert!(
                        !["authorization", "x-api-key", "api-key"].contains(&n.as_str()),
                        "{side}.{name} recorded"
                    );
                }
                assert!(!h.is_empty(), "{side} recorded nothing at all");
            }
        }
    }
    assert!(
        spans
            .iter()
            .any(|s| s.attributes.contains_key("request.headers")),
        "no request headers recorded"
    );
    let llm: Vec<_> = spans.iter().filter(|s| s.kind == SpanKind::Llm).collect();
    assert_eq!(llm.len(), 4);
    let pasted = llm
        .iter()
        .find(|s| {
            s.attributes["request.messages"][0]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("my key is"))
        })
        .unwrap();
    let text = pasted.attributes["request.messages"][0]["text"]
        .as_str()
        .unwrap();
    assert!(text.contains("[REDACTED"), "{text}");
    let tools: Vec<_> = spans.iter().filter(|s| s.kind == SpanKind::Tool).collect();
    assert_eq!(tools.len(), 4);
    // The chat run's tool spans were merged with the results turn two sent back.
    let seattle = tools
        .iter()
        .find(|t| t.tool_call_id.as_deref() == Some("call_JpNb8OiAkbIbHzDggfpdDHpi"))
        .unwrap();
    assert_eq!(
        seattle.tool_input.as_deref(),
        Some("{\"location\": \"Seattle, WA\"}")
    );
    assert_eq!(
        seattle.tool_output.as_deref(),
        Some("50 degrees and raining")
    );
    let store = Store::open_read(&db).unwrap();
    let src = store.source(&format!("proxy://{addr}")).unwrap().unwrap();
    assert_eq!(src.kind, "proxy");
    assert_eq!(src.line, 4);
}

fn skilltrace() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_skilltrace"));
    c.env_remove("SKILLTRACE_PROXY_TOKEN");
    c
}

#[test]
fn binary_refuses_remote_listen_without_allow_remote_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let out = skilltrace()
        .args(["proxy", "--listen", "0.0.0.0:0", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a loopback address"), "{err}");
    let out = skilltrace()
        .args(["proxy", "--listen", "0.0.0.0:0", "--allow-remote", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("requires --token"));
    assert!(
        !db.exists(),
        "no store is created when the proxy cannot start"
    );
}

#[test]
fn binary_upstream_ca_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    for (ca, want) in [
        (
            dir.path().join("missing.pem"),
            "cannot read the upstream CA file: no such file",
        ),
        (junk, "TLS setup failed: extra CA file holds no certificate"),
    ] {
        let out = skilltrace()
            .args(["proxy", "--listen", "127.0.0.1:0", "--upstream-ca"])
            .arg(&ca)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: ") && err.contains(want), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert!(
        !db.exists(),
        "no store is created when the proxy cannot start"
    );
}

#[test]
fn binary_records_into_the_store_and_stops_cleanly_on_sigterm() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let req = fixture("wire-openai-responses/03_request_with_tools.json");
    let resp = fixture("wire-openai-responses/04_response_function_call.json");
    let r2 = resp.clone();
    let up = rt.block_on(start_upstream(move |_| Reply::json(r2.clone())));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bin.db");
    let mut child = skilltrace()
        .args(["proxy", "--listen", "127.0.0.1:0", "--openai-upstream"])
        .arg(up.url())
        .arg("--anthropic-upstream")
        .arg(up.url())
        .arg("--db")
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .to_string();
    let rest: Vec<String> = (0..4).map(|_| lines.next().unwrap().unwrap()).collect();
    assert!(rest[3].starts_with("upstreams: openai http://127.0.0.1:"));
    assert_eq!(
        rest[1],
        format!("  export OPENAI_BASE_URL=http://{addr}/v1")
    );
    assert_eq!(
        rest[2],
        format!("  export ANTHROPIC_BASE_URL=http://{addr}")
    );
    let got = rt.block_on(send_auth(addr.parse().unwrap(), "/v1/responses", req));
    assert_eq!(got.body, resp);
    std::thread::sleep(Duration::from_millis(100));
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 requests, 1 exchanges recorded"), "{err}");
    let spans = stored_spans(&db);
    let tool = spans.iter().find(|s| s.kind == SpanKind::Tool).unwrap();
    assert_eq!(tool.tool_name.as_deref(), Some("get_current_weather"));
    assert_eq!(
        tool.tool_input.as_deref(),
        Some("{\"location\":\"Seattle, WA\"}")
    );
    assert!(!contains(&db_bytes(&db), API_KEY.as_bytes()));
}
