//! Unit tests of the Codex rollout parser.

use super::*;
use serde_json::json;

#[test]
fn outputs_report_failures() {
    assert_eq!(
        output_text(Some(&Value::from(json!(
            "{\"output\":\"x\",\"metadata\":{\"exit_code\":2}}"
        )))),
        ("x".to_owned(), true)
    );
    assert!(
        output_text(Some(&Value::from(json!(
            "Chunk ID: 1\nProcess exited with code 1\nOutput:"
        ))))
        .1
    );
    assert!(!output_text(Some(&Value::from(json!("Process exited with code 0")))).1);
    assert_eq!(
        output_text(Some(&Value::from(json!({"content":"c","success":true})))),
        ("c".to_owned(), false)
    );
}

#[test]
fn legacy_rollout_without_envelope() {
    let mut p = CodexParser::default();
    let mut out = Vec::new();
    let lines = [
        json!({"id":"0199-legacy","timestamp":"2025-05-01T10:00:00.000Z","instructions":null}),
        json!({"type":"message","role":"user","content":[{"type":"input_text","text":"list files"}]}),
        json!({"type":"function_call","name":"shell","arguments":"{\"command\":[\"ls\"]}","call_id":"c1"}),
        json!({"type":"function_call_output","call_id":"c1","output":"{\"output\":\"a\\nb\",\"metadata\":{\"exit_code\":0}}"}),
        json!({"record_type":"state"}),
    ];
    for (i, l) in lines.iter().enumerate() {
        p.value(
            &l.clone().into(),
            &Origin::new("rollout-x.jsonl", i as u64 + 1),
            &mut out,
        )
        .unwrap();
    }
    let tool: Vec<&Span> = out
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) if s.kind == SpanKind::Tool => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(tool.len(), 2);
    assert_eq!(tool[0].run_id, "0199-legacy");
    assert_eq!(
        tool[0].tool_input.as_deref(),
        Some("{\"command\":[\"ls\"]}")
    );
    assert_eq!(tool[1].tool_output.as_deref(), Some("a\nb"));
    assert_eq!(tool[1].tool_name.as_deref(), Some("shell"));
    let title = out.iter().find_map(|r| match r {
        Record::Run(r) => r.title.clone(),
        _ => None,
    });
    assert_eq!(title.as_deref(), Some("list files"));
}

/// Feeds `lines` to a fresh parser as the file `name`; returns what it yields.
fn feed(name: &str, lines: &[serde_json::Value]) -> Vec<Record> {
    super::super::test_support::feed(&mut CodexParser::default(), name, lines)
}

use super::super::test_support::spans as spans_of;

#[test]
fn an_unnumbered_fork_skips_the_lines_copied_from_its_parent() {
    let meta = |id: &str, at: &str, extra: serde_json::Value| {
        let mut p = json!({"id": id, "timestamp": at, "cwd": "/w"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"timestamp": at, "type": "session_meta", "payload": p})
    };
    let call = |at: &str, id: &str| {
        json!({"timestamp": at, "type": "response_item", "payload":
            {"type":"function_call","name":"exec_command","arguments":"{}","call_id": id}})
    };
    let out = feed(
        "rollout-child.jsonl",
        &[
            meta(
                "child",
                "2026-10-01T10:00:05.000Z",
                json!({"forked_from_id": "parent"}),
            ),
            meta(
                "parent",
                "2026-10-01T10:00:00.000Z",
                json!({"source": "cli"}),
            ),
            call("2026-10-01T10:00:01.000Z", "call_parent"),
            call("2026-10-01T10:00:06.000Z", "call_child"),
        ],
    );
    let runs: Vec<_> = out
        .iter()
        .filter_map(|r| match r {
            Record::Run(r) => Some((r.id.as_str(), r.parent_run_id.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(runs[0], ("child", Some("parent")));
    assert!(runs.iter().all(|r| r.0 == "child"), "{runs:?}");
    let tools: Vec<_> = spans_of(&out)
        .into_iter()
        .filter(|s| s.kind == SpanKind::Tool)
        .map(|s| (s.id.as_str(), s.run_id.as_str()))
        .collect();
    assert_eq!(tools, [("call_child", "child")]);
}

#[test]
fn a_response_is_counted_once_from_its_record_or_its_twin() {
    let usage = |input: u64, output: u64| {
        json!({"input_tokens": input, "cached_input_tokens": 10, "cache_write_input_tokens": 5,
            "output_tokens": output, "reasoning_output_tokens": 1, "total_tokens": input + output})
    };
    let count = |total: u64, last: serde_json::Value| {
        json!({"type":"event_msg","payload":{"type":"token_count","info":{
            "total_token_usage":{"total_tokens": total},"last_token_usage": last}}})
    };
    let record = |thread: &str, resp: &str, u: serde_json::Value| {
        json!({"type":"token_usage_record","payload":{"thread_id": thread,"turn_id":"t1",
            "response_id": resp,"usage": u}})
    };
    let say = json!({"type":"response_item","payload":{"type":"message","role":"assistant",
        "content":[{"type":"output_text","text":"hi"}]}});
    let out = feed(
        "rollout-x.jsonl",
        &[
            json!({"type":"session_meta","payload":{"id":"me","timestamp":"2026-10-01T10:00:00.000Z"}}),
            say.clone(),
            // The twin first, then the record of the same response.
            count(110, usage(100, 10)),
            record("me", "r1", usage(100, 10)),
            say.clone(),
            // The record first; the twin after it is not used.
            record("me", "r2", usage(200, 20)),
            count(330, usage(200, 20)),
            // Another thread's record (copied history) is not this run's.
            record("someone-else", "r0", usage(999, 99)),
        ],
    );
    // Per llm span, the last usage it was given (the store keeps the newest).
    type Usage = (String, u64, u64, Option<u64>, Option<u64>);
    let mut per: Vec<Usage> = Vec::new();
    for s in spans_of(&out) {
        if let (SpanKind::Llm, Some(i), Some(o)) = (s.kind, s.input_tokens, s.output_tokens) {
            per.retain(|p| p.0 != s.id);
            per.push((
                s.id.clone(),
                i,
                o,
                s.cache_read_tokens,
                s.cache_write_tokens,
            ));
        }
    }
    assert_eq!(
        per,
        [
            ("llm-L2".into(), 100, 10, Some(10), Some(5)),
            ("llm-L5".into(), 200, 20, Some(10), Some(5)),
        ]
    );
}

#[test]
fn a_payload_with_role_and_content_but_no_type_is_a_message() {
    let out = feed(
        "rollout-x.jsonl",
        &[
            json!({"payload":{"cwd":"/w","id":"abc-123","originator":"user"},"timestamp":"2024-01-01T10:00:00Z","type":"session_meta"}),
            json!({"payload":{"content":[{"text":"Add rate limiting","type":"input_text"}],"role":"user"},"timestamp":"2024-01-01T10:00:01Z","type":"response_item"}),
            json!({"payload":{"content":[{"text":"On it.","type":"output_text"}],"role":"assistant"},"timestamp":"2024-01-01T10:00:05Z","type":"response_item"}),
        ],
    );
    let texts: Vec<_> = out
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) if s.kind == SpanKind::Message => s.text.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec!["Add rate limiting", "On it."]);
}

#[test]
fn lines_without_type_are_read_by_their_fields_not_counted_as_errors() {
    // Through the file reader, so the per-line sniffing lets them reach the parser.
    let lines = [
        r#"{"timestamp":"2026-11-01T10:00:00.000Z","type":"session_meta","payload":{"id":"019b-untyped","cwd":"/w","cli_version":"0.70.0"}}"#,
        // An envelope without its tag, payload a typed response item.
        r#"{"timestamp":"2026-11-01T10:00:01.000Z","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"show the env"}]}}"#,
        // An envelope without its tag, payload an untyped function call.
        r#"{"timestamp":"2026-11-01T10:00:02.000Z","payload":{"name":"shell","arguments":"{\"command\":[\"env\"]}","call_id":"c9"}}"#,
        // A bare output without its type.
        r#"{"call_id":"c9","output":"PATH=/usr/bin"}"#,
        // A bare assistant message without its type.
        r#"{"role":"assistant","content":[{"type":"output_text","text":"done"}]}"#,
        // An old rollout's state line.
        r#"{"record_type":"state"}"#,
    ];
    let mut p = super::super::FileParser::new("rollout-untyped.jsonl", None);
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        p.line(l.as_bytes(), i as u64 + 1, &mut out)
            .unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
    }
    // A line with nothing recognisable stays an error.
    assert!(p
        .line(
            br#"{"timestamp":"2026-11-01T10:00:03.000Z","payload":{"x":1}}"#,
            7,
            &mut out
        )
        .is_err());
    assert!(p.line(br#"{"x":1}"#, 8, &mut out).is_err());
    p.finish(&mut out);
    let spans = crate::ingest::formats::test_support::spans(&out);
    let tool = spans
        .iter()
        .find(|s| s.kind == SpanKind::Tool)
        .expect("the call");
    assert_eq!(tool.run_id, "019b-untyped");
    assert_eq!(tool.tool_name.as_deref(), Some("shell"));
    let merged: Vec<_> = spans.iter().filter(|s| s.id == "c9").collect();
    assert!(
        merged
            .iter()
            .any(|s| s.tool_output.as_deref() == Some("PATH=/usr/bin")),
        "{merged:?}"
    );
    let texts: Vec<&str> = spans.iter().filter_map(|s| s.text.as_deref()).collect();
    assert!(texts.contains(&"show the env"), "{texts:?}");
    assert!(texts.contains(&"done"), "{texts:?}");
}
