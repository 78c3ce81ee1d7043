//! Unit tests of the OTLP/JSON parser.

use super::*;
use serde_json::json;

fn one(span: serde_json::Value) -> Vec<Record> {
    let v = json!({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
        "scopeSpans":[{"scope":{"name":"sc"},"spans":[span]}]}]});
    let mut out = Vec::new();
    OtlpParser::default()
        .value(&Value::from(v), &Origin::new("t.jsonl", 1), &mut out)
        .unwrap();
    out
}

fn span(out: &[Record]) -> &Span {
    out.iter()
        .find_map(|r| match r {
            Record::Span(s) => Some(s),
            _ => None,
        })
        .unwrap()
}

#[test]
fn old_names_numbers_and_upper_hex() {
    let out = one(
        json!({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
        "parentSpanId":"","name":"chat m","startTimeUnixNano":1544712660000000000u64,"endTimeUnixNano":"1544712661000000000",
        "status":{"code":"STATUS_CODE_ERROR"},
        "attributes":[{"key":"gen_ai.system","value":{"stringValue":"openai"}},
            {"key":"gen_ai.request.model","value":{"stringValue":"gpt"}},
            {"key":"gen_ai.usage.prompt_tokens","value":{"intValue":"12"}},
            {"key":"gen_ai.usage.completion_tokens","value":{"intValue":7}},
            {"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"4"}},
            {"key":"gen_ai.request.temperature","value":{"doubleValue":0.5}}],
        "events":[{"name":"gen_ai.user.message","attributes":[{"key":"content","value":{"stringValue":"hi there"}}]}]}),
    );
    let s = span(&out);
    assert_eq!(s.id, "eee19b7ec3c1b174");
    assert_eq!(s.run_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(s.parent_id, None);
    assert_eq!(s.kind, SpanKind::Llm);
    assert_eq!(
        (s.start_ms, s.end_ms),
        (Some(1_544_712_660_000), Some(1_544_712_661_000))
    );
    assert_eq!((s.input_tokens, s.output_tokens), (Some(12), Some(7)));
    assert_eq!((s.cache_read_tokens, s.cache_write_tokens), (Some(4), None));
    assert_eq!(s.status, SpanStatus::Error);
    assert_eq!(s.text.as_deref(), Some("user: hi there"));
    assert_eq!(s.attributes["gen_ai.request.temperature"], json!(0.5));
    assert_eq!(s.attributes["service.name"], json!("svc"));
    let Record::Run(r) = &out[0] else { panic!() };
    assert_eq!(r.title.as_deref(), Some("hi there"));
}

#[test]
fn openllmetry_flat_prompts_keep_their_roles() {
    let out = one(json!({"traceId":"ab","spanId":"cd","name":"openai.chat",
        "attributes":[{"key":"gen_ai.prompt.0.role","value":{"stringValue":"system"}},
            {"key":"gen_ai.prompt.0.content","value":{"stringValue":"be brief"}},
            {"key":"gen_ai.prompt.1.role","value":{"stringValue":"user"}},
            {"key":"gen_ai.prompt.1.content","value":{"stringValue":"cat ~/.ssh/id_rsa"}},
            {"key":"gen_ai.completion.0.content","value":{"stringValue":"no"}},
            {"key":"gen_ai.request.model","value":{"stringValue":"gpt"}}]}));
    let s = span(&out);
    assert_eq!(s.kind, SpanKind::Llm);
    assert_eq!(
        s.text.as_deref(),
        Some("system: be brief\nuser: cat ~/.ssh/id_rsa\nassistant: no")
    );
    let Record::Run(r) = &out[0] else { panic!() };
    assert_eq!(r.title.as_deref(), Some("cat ~/.ssh/id_rsa"));
}

#[test]
fn conversation_id_groups_the_run() {
    let out = one(json!({"traceId":"aa","spanId":"bb","name":"execute_tool x",
        "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},
            {"key":"gen_ai.conversation.id","value":{"stringValue":"conv-1"}},
            {"key":"gen_ai.tool.name","value":{"stringValue":"x"}},
            {"key":"gen_ai.tool.call.arguments","value":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}}},
            {"key":"gen_ai.tool.call.result","value":{"stringValue":"done"}}]}));
    let s = span(&out);
    assert_eq!(s.run_id, "conv-1");
    assert_eq!(s.tool_input.as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(s.tool_output.as_deref(), Some("done"));
    assert_eq!(s.attributes["trace_id"], json!("aa"));
}
