//! `skilltrace otlp`, run as a user would: OpenTelemetry exporters POST OTLP
//! (JSON or protobuf, plain or gzip) to it over loopback; the spans land in the store redacted,
//! exactly as importing the same requests from a file would store them; bad
//! requests get the OTLP status codes and one-line errors; SIGTERM drains.
#![allow(clippy::unwrap_used)]

mod common;

use common::{bin, ok};
use skilltrace::store::{RunFilter, RunSort, Store};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};

/// One HTTP/1.1 request on its own connection; returns (status, body).
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

/// Starts `skilltrace otlp` on a free port; returns the child and its address.
fn start(db: &Path) -> (Child, String) {
    let mut child = bin()
        .args(["otlp", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = common::banner_addr(&mut child);
    (child, addr)
}

/// SIGTERM, then wait: the receiver drains and the writer commits.
fn stop(child: Child) -> String {
    ok(std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null()));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Per run: span count and sorted (span name, tool name, text) triples.
fn contents(db: &Path) -> Vec<(String, usize, Vec<String>)> {
    let s = Store::open_read(db).unwrap();
    let mut out = Vec::new();
    for r in s
        .runs(&RunFilter::default(), RunSort::Started, 0, 1000)
        .unwrap()
    {
        let spans = s.spans(&r.run.id, 0, 10_000).unwrap();
        let mut v: Vec<String> = spans
            .iter()
            .map(|x| {
                format!(
                    "{} {} {:?} {:?} {:?}",
                    x.span.id, x.span.name, x.span.parent_id, x.span.tool_name, x.span.text
                )
            })
            .collect();
        v.sort();
        out.push((r.run.id.clone(), spans.len(), v));
    }
    out.sort();
    out
}

#[test]
fn exporters_post_json_and_gzip_and_get_what_import_would_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    let files = [
        root.join("otel-genai/otlp_genai_agent_run.jsonl"),
        root.join("openinference/otlp_openinference_agent_run.jsonl"),
    ];
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("recv.db");
    let (child, addr) = start(&db);
    let json = [("Content-Type", "application/json")];
    let mut sent = 0;
    for (i, f) in files.iter().enumerate() {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if line.trim().is_empty() {
                continue;
            }
            let (code, body) = if i == 0 {
                post(&addr, "/v1/traces", &json, line.as_bytes())
            } else {
                // the Collector's otlphttp exporter compresses with gzip by default
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(line.as_bytes()).unwrap();
                post(
                    &addr,
                    "/v1/traces",
                    &[
                        ("Content-Type", "application/json"),
                        ("Content-Encoding", "gzip"),
                    ],
                    &gz.finish().unwrap(),
                )
            };
            assert_eq!((code, body.as_str()), (200, "{}"));
            sent += 1;
        }
    }
    assert!(sent >= 2);
    let said = stop(child);
    assert!(said.contains(&format!("{sent} accepted")), "{said}");

    // The same requests imported from files give the same runs and spans.
    let db2 = t.path().join("import.db");
    for f in &files {
        ok(bin().arg("import").arg(f).arg("--db").arg(&db2));
    }
    let got = contents(&db);
    assert!(!got.is_empty());
    assert_eq!(got, contents(&db2));
}

#[test]
fn bad_requests_get_otlp_status_codes_and_secrets_stay_out_of_the_store() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("recv.db");
    let (child, addr) = start(&db);
    let json = [("Content-Type", "application/json")];
    let key =
        "sk-ant-api03-Zq8vN2xL5mK9pR4tW7yB1cD6fG3hJ0sA8eU2iO5nM7vX4zQ1wE9rT6yU3iP0aS-AbCdEfAA";
    let req = format!(
        r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"execute_tool bash","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{{"key":"gen_ai.operation.name","value":{{"stringValue":"execute_tool"}}}},{{"key":"gen_ai.tool.name","value":{{"stringValue":"bash"}}}},{{"key":"gen_ai.tool.call.arguments","value":{{"stringValue":"ANTHROPIC_API_KEY={key} ./deploy.sh"}}}}]}}]}}]}}]}}"#
    );
    assert_eq!(post(&addr, "/v1/traces", &json, req.as_bytes()).0, 200);
    // neither OTLP encoding
    let (code, body) = post(
        &addr,
        "/v1/traces",
        &[("Content-Type", "text/plain")],
        b"hi",
    );
    assert_eq!(code, 415);
    assert!(body.contains("application/x-protobuf"), "{body}");
    // protobuf that does not decode
    let (code, body) = post(
        &addr,
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        b"\xff\xff\xff\xff",
    );
    assert_eq!(code, 400);
    assert!(body.contains("not an OTLP protobuf"), "{body}");
    // not JSON: 400, and the answer never quotes the request
    let (code, body) = post(&addr, "/v1/traces", &json, b"{\"resourceSpans\": [tru");
    assert_eq!(code, 400);
    assert!(
        body.contains("invalid JSON") && !body.contains("tru"),
        "{body}"
    );
    // JSON, but not a traces request
    assert_eq!(post(&addr, "/v1/traces", &json, b"[1,2]").0, 400);
    assert_eq!(post(&addr, "/v1/logs", &json, b"{}").0, 404);
    let (code, _) = post(
        &addr,
        "/v1/traces",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        b"not gzip",
    );
    assert_eq!(code, 400);
    let said = stop(child);
    assert!(said.contains("1 accepted"), "{said}");

    let s = Store::open_read(&db).unwrap();
    let runs = s
        .runs(&RunFilter::default(), RunSort::Started, 0, 10)
        .unwrap();
    assert_eq!(runs.len(), 1);
    let span = &s.spans(&runs[0].run.id, 0, 10).unwrap()[0].span;
    assert_eq!(span.tool_name.as_deref(), Some("bash"));
    assert!(span.tool_input.as_deref().unwrap().contains("[REDACTED"));
    assert!(span.origin.path.starts_with("otlp://127.0.0.1:"));
    let errors = s.parse_errors(None, 10).unwrap();
    assert!(
        errors.iter().all(|e| e.path.starts_with("otlp://")) && errors.len() >= 2,
        "{errors:?}"
    );
    drop(s);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(&p) {
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "secret in {p:?}"
            );
        }
    }
}

/// What an SDK's default `http/protobuf` exporter sends lands like its JSON twin.
#[test]
fn protobuf_requests_store_the_same_spans_as_json() {
    use prost::Message;
    use skilltrace::ingest::otlp_proto::*;
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    };
    let span = |id: u8, parent: Option<u8>, name: &str, attributes: Vec<KeyValue>| Span {
        trace_id: vec![7; 16],
        span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: parent
            .map(|p| vec![0, 0, 0, 0, 0, 0, 0, p])
            .unwrap_or_default(),
        name: name.into(),
        kind: 1,
        start_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(id) * 1_000_000,
        end_time_unix_nano: 1_700_000_000_500_000_000 + u64::from(id) * 1_000_000,
        attributes,
        events: vec![],
        status: None,
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "my-agent")],
            }),
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: vec![
                    span(
                        1,
                        None,
                        "invoke_agent planner",
                        vec![kv("gen_ai.operation.name", "invoke_agent")],
                    ),
                    span(
                        2,
                        Some(1),
                        "execute_tool read_file",
                        vec![
                            kv("gen_ai.operation.name", "execute_tool"),
                            kv("gen_ai.tool.name", "read_file"),
                            kv(
                                "gen_ai.tool.call.arguments",
                                "{\"path\":\"~/.aws/credentials\"}",
                            ),
                        ],
                    ),
                ],
            }],
            schema_url: String::new(),
        }],
    };
    let t = tempfile::tempdir().unwrap();
    let (db_pb, db_json) = (t.path().join("pb.db"), t.path().join("json.db"));
    let (child, addr) = start(&db_pb);
    let bytes = req.encode_to_vec();
    let (code, body) = post(
        &addr,
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        &bytes,
    );
    assert_eq!((code, body.as_str()), (200, "{}"));
    stop(child);
    let (child, addr) = start(&db_json);
    let json = to_json(&bytes).unwrap();
    assert_eq!(
        post(
            &addr,
            "/v1/traces",
            &[("Content-Type", "application/json")],
            &json
        )
        .0,
        200
    );
    stop(child);
    let got = contents(&db_pb);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, 2, "{got:?}");
    assert!(
        got[0]
            .2
            .iter()
            .any(|s| s.contains("read_file") && s.contains("Some(\"0000000000000001\")")),
        "{got:?}"
    );
    assert_eq!(got, contents(&db_json));
    // and detection ran on it: the credential read is a finding
    let s = Store::open_read(&db_pb).unwrap();
    let f = s
        .findings(&skilltrace::store::FindingFilter::default(), 0, 10)
        .unwrap();
    assert!(
        f.iter().any(|f| f.finding.rule_id == "EXF-TRACE-003"),
        "{f:?}"
    );
}

#[test]
fn listen_errors_are_one_line() {
    let t = tempfile::tempdir().unwrap();
    for (listen, want) in [
        ("0.0.0.0:4318", "not a loopback address"),
        ("nonsense", "not a host:port address"),
    ] {
        let o = bin()
            .args(["otlp", "--listen", listen, "--db"])
            .arg(t.path().join("x.db"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{listen}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: otlp: ") && err.contains(want),
            "{err}"
        );
    }
    // A busy port: the message names the address and the cause once.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let o = bin()
        .args(["otlp", "--listen", &addr, "--db"])
        .arg(t.path().join("x.db"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("in use").count(), 1, "{err}");
    assert!(
        !t.path().join("x.db").exists(),
        "nothing created when the port is busy"
    );
}
