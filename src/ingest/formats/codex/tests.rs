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
