//! Cline / Roo Code parser tests: XML calls paired with results, UI usage.

use super::*;
use serde_json::json;

fn parse(path: &str, v: serde_json::Value) -> (Vec<Record>, Result<(), FormatError>) {
    let mut out = Vec::new();
    let r = ClineParser.document(&Value::from(v), &Origin::new(path, 1), &mut out);
    (out, r)
}

fn spans(out: &[Record]) -> Vec<&Span> {
    out.iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn xml_calls_pair_with_their_result_blocks() {
    let (out, r) = parse(
        "/g/rooveterinaryinc.roo-cline/tasks/T1/api_conversation_history.json",
        json!([
            {"role":"user","content":[{"type":"text","text":"<task>\nlist files\n</task>"},{"type":"text","text":"<environment_details>\n# Current Working Directory (/w) Files\n</environment_details>"}]},
            {"role":"assistant","content":[{"type":"text","text":"<execute_command>\n<command>ls</command>\n</execute_command>"}]},
            {"role":"user","content":[{"type":"text","text":"[execute_command for 'ls'] Result:"},{"type":"text","text":"a\nb"},{"type":"text","text":"<environment_details>x</environment_details>"}]}
        ]),
    );
    assert!(r.is_ok(), "{r:?}");
    let runs: Vec<_> = out
        .iter()
        .filter_map(|r| match r {
            Record::Run(r) => Some(r),
            _ => None,
        })
        .collect();
    assert!(runs
        .iter()
        .all(|r| r.id == "T1" && r.agent == Some(AgentKind::RooCode)));
    assert!(runs
        .iter()
        .any(|r| r.title.as_deref() == Some("list files") && r.cwd.as_deref() == Some("/w")));
    let tools: Vec<_> = spans(&out)
        .into_iter()
        .filter(|s| s.kind == SpanKind::Tool)
        .collect();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0].tool_input.as_deref(), Some(r#"{"command":"ls"}"#));
    assert_eq!(
        (tools[1].id.as_str(), tools[1].tool_output.as_deref()),
        ("T1:m1:x0.0", Some("a\nb"))
    );
    assert_eq!(tools[1].status, SpanStatus::Ok);
}

#[test]
fn ui_requests_carry_tokens_and_end_at_the_next_message() {
    let (out, r) = parse(
        "/x/tasks/17/ui_messages.json",
        json!([
            {"ts":1000,"type":"say","say":"task","text":"fix it"},
            {"ts":1100,"type":"say","say":"api_req_started","text":"{\"tokensIn\":10,\"tokensOut\":5,\"cacheWrites\":2,\"cacheReads\":3,\"cost\":0.01}","modelInfo":{"modelId":"m1"}},
            {"ts":1900,"type":"say","say":"text","text":"ok"},
            {"ts":2000,"type":"say","say":"api_req_started","text":"{\"request\":\"x\",\"cancelReason\":\"user_cancelled\"}"},
            {"ts":"late","type":"say","say":"text"},
            {"ts":2100,"type":"say","say":"error","text":"boom"}
        ]),
    );
    assert!(
        matches!(r, Err(FormatError::Shape(ref m)) if m.contains("1 of 6")),
        "{r:?}"
    );
    let s = spans(&out);
    assert_eq!(s.len(), 3);
    assert_eq!(
        (s[0].input_tokens, s[0].output_tokens, s[0].end_ms),
        (Some(15), Some(5), Some(1900))
    );
    assert_eq!(s[0].model.as_deref(), Some("m1"));
    assert_eq!((s[1].status, s[1].end_ms), (SpanStatus::Error, Some(2100)));
    assert_eq!(
        (s[2].name.as_str(), s[2].status),
        ("error", SpanStatus::Error)
    );
}
