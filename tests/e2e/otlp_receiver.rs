//! `skilltrace otlp`, run as a user would: OpenTelemetry exporters POST OTLP
//! (JSON or protobuf, plain or gzip) to it over loopback; the spans land in the store redacted,
//! exactly as importing the same requests from a file would store them; bad
//! requests get the OTLP status codes and one-line errors; SIGTERM drains.
#![allow(clippy::unwrap_used)]

use crate::common;

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
    crate::attack_support::start_server(&["otlp"], db)
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
    assert_eq!(post(&addr, "/v1/metrics", &json, b"{}").0, 404);
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

/// Claude Code's and Codex's telemetry events (OTLP logs) posted to `/v1/logs`
/// as JSON, gzip and protobuf store exactly what importing the same events
/// from a file stores: runs by session / conversation id, prompts, tools
/// with status and duration, model calls with tokens; the secret in a prompt
/// is in no byte of the store.
#[test]
fn telemetry_logs_post_json_gzip_and_protobuf_and_store_what_import_would() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/otel-logs");
    let files = [root.join("claude-code.jsonl"), root.join("codex.jsonl")];
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("recv.db");
    let (child, addr) = start(&db);
    let mut sent = 0;
    for (i, f) in files.iter().enumerate() {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let (code, body) = if i == 0 {
                post(
                    &addr,
                    "/v1/logs",
                    &[("Content-Type", "application/json")],
                    line.as_bytes(),
                )
            } else {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(line.as_bytes()).unwrap();
                let headers = [
                    ("Content-Type", "application/json"),
                    ("Content-Encoding", "gzip"),
                ];
                post(&addr, "/v1/logs/", &headers, &gz.finish().unwrap())
            };
            assert_eq!((code, body.as_str()), (200, "{}"));
            sent += 1;
        }
    }
    assert_eq!(sent, 6);
    let said = stop(child);
    assert!(said.contains("6 accepted"), "{said}");
    let db2 = t.path().join("import.db");
    for f in &files {
        ok(bin().arg("import").arg(f).arg("--db").arg(&db2));
    }
    let got = contents(&db);
    assert_eq!(got, contents(&db2));

    let s = Store::open_read(&db).unwrap();
    let runs = s
        .runs(&RunFilter::default(), RunSort::Started, 0, 10)
        .unwrap();
    let claude = runs
        .iter()
        .find(|r| r.run.id == "4f7c2d1e-9a8b-4c3d-8e2f-1a2b3c4d5e6f")
        .expect("the Claude Code session is a run");
    let codex = runs
        .iter()
        .find(|r| r.run.id == "019aef12-3456-7890-abcd-ef0123456789")
        .expect("the Codex conversation is a run");
    assert_eq!(runs.len(), 2);
    assert_eq!(
        claude.run.agent,
        Some(skilltrace::model::AgentKind::ClaudeCode)
    );
    assert_eq!(codex.run.agent, Some(skilltrace::model::AgentKind::Codex));
    assert_eq!(
        codex.run.title.as_deref(),
        Some("Set up the project and install the helper")
    );
    // Claude Code: prompt, 2 requests + 1 error, 1 decision, 2 tools.
    let spans = s.spans(&claude.run.id, 0, 100).unwrap();
    assert_eq!(spans.len(), 7);
    let tools: Vec<_> = spans
        .iter()
        .filter(|x| x.span.kind == skilltrace::model::SpanKind::Tool)
        .map(|x| {
            (
                x.span.name.as_str(),
                x.span.status,
                x.span.end_ms.zip(x.span.start_ms).map(|(e, s)| e - s),
            )
        })
        .collect();
    use skilltrace::model::SpanStatus;
    assert_eq!(
        tools,
        [
            ("Bash", SpanStatus::Ok, Some(2150)),
            ("Read", SpanStatus::Error, Some(4))
        ]
    );
    let llm: Vec<_> = spans
        .iter()
        .filter(|x| x.span.kind == skilltrace::model::SpanKind::Llm)
        .map(|x| {
            (
                x.span.model.clone().unwrap_or_default(),
                x.span.status,
                x.span.input_tokens,
                x.span.output_tokens,
            )
        })
        .collect();
    assert_eq!(
        llm,
        [
            (
                "claude-sonnet-4-5-20250929".to_string(),
                SpanStatus::Ok,
                Some(19_512),
                Some(240)
            ),
            (
                "claude-sonnet-4-5-20250929".to_string(),
                SpanStatus::Error,
                None,
                None
            ),
            (
                "claude-haiku-4-5-20251001".to_string(),
                SpanStatus::Ok,
                Some(300),
                Some(20)
            ),
        ]
    );
    let prompt = spans
        .iter()
        .find(|x| x.span.kind == skilltrace::model::SpanKind::Message)
        .unwrap();
    assert!(spans
        .iter()
        .filter(|x| x.span.id != prompt.span.id)
        .all(|x| x.span.parent_id.as_deref() == Some(prompt.span.id.as_str())));
    // Codex: the started conversation, prompt, request, completed response, decision, 2 tools.
    let spans = s.spans(&codex.run.id, 0, 100).unwrap();
    assert_eq!(spans.len(), 7, "per-chunk sse events are skipped");
    let shell = spans.iter().find(|x| x.span.name == "shell").unwrap();
    assert_eq!(shell.span.tool_call_id.as_deref(), Some("call_7Hq2"));
    assert_eq!(
        shell.span.tool_output.as_deref(),
        Some("installed helper 1.2.0")
    );
    let patch = spans.iter().find(|x| x.span.name == "apply_patch").unwrap();
    assert_eq!(patch.span.status, SpanStatus::Error);
    let done = spans
        .iter()
        .find(|x| x.span.kind == skilltrace::model::SpanKind::Llm)
        .unwrap();
    assert_eq!(
        (done.span.input_tokens, done.span.output_tokens),
        (Some(5400), Some(310))
    );
    assert_eq!(done.span.model.as_deref(), Some("gpt-5-codex"));
    drop(s);
    let blob: Vec<u8> = std::fs::read_dir(t.path())
        .unwrap()
        .flat_map(|e| std::fs::read(e.unwrap().path()).unwrap_or_default())
        .collect();
    let secret = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzOTELLOGKEY";
    assert!(!blob.windows(secret.len()).any(|w| w == secret));
}

/// The attacks in the telemetry fixtures raise findings as the same tools in
/// the agents' own transcripts would.
#[test]
fn telemetry_logs_raise_findings_on_the_tools_they_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/otel-logs");
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("f.db");
    ok(bin().arg("import").arg(&root).arg("--db").arg(&db));
    let out = ok(bin()
        .args(["findings", "--format", "json", "--db"])
        .arg(&db));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let by_run = |run: &str| -> Vec<String> {
        let mut v: Vec<String> = findings
            .iter()
            .filter(|f| f["run_id"] == run)
            .map(|f| f["rule_id"].as_str().unwrap_or("").to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let claude = by_run("4f7c2d1e-9a8b-4c3d-8e2f-1a2b3c4d5e6f");
    assert!(claude.iter().any(|r| r.starts_with("EXF-")), "{claude:?}");
    let codex = by_run("019aef12-3456-7890-abcd-ef0123456789");
    assert!(!codex.is_empty(), "{codex:?}");
}

/// A protobuf `ExportLogsServiceRequest` (what the agents send with
/// `http/protobuf`, their default) lands as the same event in JSON would.
#[test]
fn protobuf_logs_store_the_same_spans_as_json() {
    use prost::Message;
    use skilltrace::ingest::otlp_logs_proto::*;
    use skilltrace::ingest::otlp_proto::{any_value, AnyValue, KeyValue};
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    };
    let attrs = vec![
        kv("event.name", "codex.tool_result"),
        kv("conversation.id", "conv-proto"),
        kv("tool_name", "shell"),
        kv("call_id", "call_1"),
        kv("arguments", r#"{"command":["bash","-lc","ls"]}"#),
        kv("duration_ms", "25"),
        kv("success", "true"),
        kv("output", "a\nb"),
    ];
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: None,
            scope_logs: vec![ScopeLogs {
                scope: None,
                log_records: vec![LogRecord {
                    time_unix_nano: 1_765_015_200_000_000_000,
                    attributes: attrs,
                    ..Default::default()
                }],
            }],
        }],
    };
    let json = String::from_utf8(to_json(&req.encode_to_vec()).unwrap()).unwrap();
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("recv.db");
    let (child, addr) = start(&db);
    let proto = [("Content-Type", "application/x-protobuf")];
    assert_eq!(post(&addr, "/v1/logs", &proto, &req.encode_to_vec()).0, 200);
    let (code, body) = post(&addr, "/v1/logs", &proto, b"\xff\xff\xff\xff");
    assert_eq!(
        (code, body.contains("not an OTLP protobuf logs request")),
        (400, true),
        "{body}"
    );
    stop(child);
    let file = t.path().join("logs.jsonl");
    std::fs::write(&file, format!("{json}\n")).unwrap();
    let db2 = t.path().join("import.db");
    ok(bin().arg("import").arg(&file).arg("--db").arg(&db2));
    let got = contents(&db);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, 1);
    assert_eq!(got, contents(&db2));
}
