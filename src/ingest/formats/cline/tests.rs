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

/// Native tool calls answered by text blocks, as current Cline writes them
/// (real shape: `gmfstu/Online-Card-Architecture`, `mike4567/MRA04242026`).
fn native(name: &str, id: &str, input: serde_json::Value) -> serde_json::Value {
    json!({"type":"tool_use","id":id,"name":name,"input":input})
}

fn tools(out: &[Record]) -> Vec<(String, String, SpanStatus, Option<String>)> {
    // The result copy of each call (the last span of its id) decides.
    let mut by_id: Vec<(String, String, SpanStatus, Option<String>)> = Vec::new();
    for s in spans(out).into_iter().filter(|s| s.kind == SpanKind::Tool) {
        match by_id.iter_mut().find(|t| t.0 == s.id) {
            Some(t) => {
                t.2 = s.status;
                t.3 = s.tool_output.clone();
            }
            None => by_id.push((
                s.id.clone(),
                s.name.clone(),
                s.status,
                s.tool_output.clone(),
            )),
        }
    }
    by_id
}

#[test]
fn a_call_the_extension_refused_to_run_is_answered_as_failed() {
    let (out, r) = parse(
        "/g/saoudrizwan.claude-dev/tasks/17/api_conversation_history.json",
        json!([
            {"role":"user","content":[{"type":"text","text":"<task>\nread\n</task>"}]},
            {"role":"assistant","content":[
                native("read_file","t1",json!({"path":"a.cs"})),
                native("read_file","t2",json!({"path":"b.cs"}))]},
            {"role":"user","content":[
                {"type":"text","text":"[read_file for 'a.cs'] Result:\nclass A {}"},
                {"type":"text","text":"Tool [read_file] was not executed because a tool has already been used in this message."},
                {"type":"text","text":"<environment_details>x</environment_details>"}]}
        ]),
    );
    assert!(r.is_ok(), "{r:?}");
    let t = tools(&out);
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].2, t[0].3.as_deref()),
        (SpanStatus::Ok, Some("class A {}"))
    );
    assert_eq!(t[1].2, SpanStatus::Error);
    assert!(t[1]
        .3
        .as_deref()
        .is_some_and(|o| o.contains("was not executed")));
}

#[test]
fn an_answer_goes_to_the_newest_call_and_a_header_may_hold_brackets() {
    let (out, r) = parse(
        "/g/saoudrizwan.claude-dev/tasks/18/api_conversation_history.json",
        json!([
            {"role":"user","content":[{"type":"text","text":"<task>\nfind\n</task>"}]},
            {"role":"assistant","content":[native("execute_command","c1",json!({"command":"npm test"}))]},
            {"role":"user","content":[{"type":"text","text":"[TASK RESUMPTION] This task was interrupted 3 days ago."}]},
            {"role":"assistant","content":[native("search_files","s1",json!({"regex":"from ['\"]x['\"]"}))]},
            {"role":"user","content":[{"type":"text","text":"[search_files for 'from ['\"]x['\"]'] Result:\nFound 1 result."}]},
            {"role":"assistant","content":[native("execute_command","c2",json!({"command":"npm run build"}))]},
            {"role":"user","content":[{"type":"text","text":"[execute_command for 'npm run build'] Result:\nbuilt"}]},
            {"role":"assistant","content":[native("use_subagents","u1",json!({"prompt_1":"look"}))]},
            {"role":"user","content":[{"type":"text","text":"[subagents] Result:\nTotal: 1"}]}
        ]),
    );
    assert!(r.is_ok(), "{r:?}");
    let t = tools(&out);
    let got: Vec<_> = t
        .iter()
        .map(|t| (t.0.as_str(), t.2, t.3.as_deref().unwrap_or("-")))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "c1",
                SpanStatus::Error,
                "[TASK RESUMPTION] This task was interrupted 3 days ago."
            ),
            ("s1", SpanStatus::Ok, "Found 1 result."),
            ("c2", SpanStatus::Ok, "built"),
            ("u1", SpanStatus::Ok, "Total: 1"),
        ]
    );
}

#[test]
fn ui_usage_prices_cache_reads_and_writes_apart() {
    // Real request of `gmfstu/Online-Card-Architecture` task 1769064454592:
    // Cline's own cost 0.0404235 needs the writes and reads priced apart.
    let (out, r) = parse(
        "/x/tasks/17/ui_messages.json",
        json!([
            {"ts":1000,"type":"say","say":"api_req_started","text":"{\"tokensIn\":10,\"tokensOut\":572,\"cacheWrites\":3454,\"cacheReads\":8972,\"cost\":0.0404235}"}
        ]),
    );
    assert!(r.is_ok(), "{r:?}");
    let s = spans(&out);
    let u = crate::usage::Usage::of(s[0]).expect("usage");
    assert_eq!(
        (u.input, u.cache_write, u.cache_read, u.output),
        (12436, 3454, 8972, 572)
    );
}

/// The real task's conversation (see the fixture's SOURCE.md) in a task
/// folder of its own, with the UI log beside it or not.
fn real_history(with_ui: bool) -> (tempfile::TempDir, Vec<Record>) {
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/formats/cline/saoudrizwan.claude-dev/tasks/1769064454592/"
    );
    let t = tempfile::tempdir().expect("tempdir");
    let task = t.path().join("tasks/1769064454592");
    std::fs::create_dir_all(&task).expect("mkdir");
    let history = task.join("api_conversation_history.json");
    std::fs::copy(format!("{src}api_conversation_history.json"), &history).expect("copy");
    if with_ui {
        std::fs::copy(
            format!("{src}ui_messages.json"),
            task.join("ui_messages.json"),
        )
        .expect("copy");
    }
    let text = std::fs::read_to_string(&history).expect("read");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let (out, r) = parse(&history.to_string_lossy(), v);
    assert!(r.is_ok(), "{r:?}");
    (t, out)
}

#[test]
fn a_conversation_alone_gives_one_llm_span_per_reply_with_its_metrics() {
    let (_t, out) = real_history(false);
    let s = spans(&out);
    let llm: Vec<_> = s.iter().filter(|x| x.kind == SpanKind::Llm).collect();
    let got: Vec<_> = llm
        .iter()
        .map(|x| {
            (
                x.id.as_str(),
                x.model.as_deref(),
                x.input_tokens,
                x.output_tokens,
                x.cache_read_tokens,
                x.cache_write_tokens,
            )
        })
        .collect();
    // The same figures as the UI log's `api_req_started` for these requests:
    // (tokensIn + cacheWrites + cacheReads, tokensOut, cacheReads, cacheWrites).
    let opus = Some("claude-opus-4-5-20251101");
    assert_eq!(
        got,
        vec![
            (
                "1769064454592:m1:llm",
                opus,
                Some(8982),
                Some(814),
                Some(0),
                Some(8972)
            ),
            (
                "1769064454592:m3:llm",
                opus,
                Some(12436),
                Some(572),
                Some(8972),
                Some(3454)
            ),
        ]
    );
    // Each reply, and through it its calls, hangs under its request.
    for l in &llm {
        assert_eq!(l.parent_id.as_deref(), Some("1769064454592:m0"));
        let reply = l.id.trim_end_matches(":llm");
        let msg = s.iter().find(|x| x.id == reply).expect("reply");
        assert_eq!(msg.parent_id.as_deref(), Some(l.id.as_str()));
        assert!(s
            .iter()
            .any(|x| x.kind == SpanKind::Tool && x.parent_id.as_deref() == Some(reply)));
    }
}

#[test]
fn with_the_ui_log_beside_the_conversation_counts_no_request() {
    let (_t, out) = real_history(true);
    let s = spans(&out);
    assert!(s.iter().all(|x| x.kind != SpanKind::Llm));
    assert!(s.iter().any(|x| x.kind == SpanKind::Tool));
    // Replies hang under the turn's prompt, as before.
    assert!(s
        .iter()
        .filter(|x| x.name == "assistant")
        .all(|x| x.parent_id.as_deref() == Some("1769064454592:m0")));
}

#[test]
fn replies_without_metrics_still_are_requests_without_tokens() {
    // Roo Code's conversation keeps no per-message model or usage.
    let (out, r) = parse(
        "/nowhere/rooveterinaryinc.roo-cline/tasks/T2/api_conversation_history.json",
        json!([
            {"role":"user","content":"<task>hi</task>","ts":10},
            {"role":"assistant","content":"hello","ts":20},
            {"role":"user","content":"more","ts":30},
            {"role":"assistant","content":[{"type":"text","text":"ok"}],"metrics":{"tokens":{"prompt":"x"}}}
        ]),
    );
    assert!(r.is_ok(), "{r:?}");
    let llm: Vec<_> = spans(&out)
        .into_iter()
        .filter(|x| x.kind == SpanKind::Llm)
        .map(|x| (x.start_ms, x.end_ms, x.model.clone(), x.input_tokens))
        .collect();
    assert_eq!(
        llm,
        vec![
            (Some(10), Some(20), None, None),
            (Some(30), None, None, None)
        ]
    );
}

#[test]
fn the_ui_log_supersedes_the_conversations_requests_by_their_ids() {
    let (t, history_only) = real_history(false);
    let llm: Vec<String> = spans(&history_only)
        .iter()
        .filter(|x| x.kind == SpanKind::Llm)
        .map(|x| x.id.clone())
        .collect();
    assert_eq!(llm, vec!["1769064454592:m1:llm", "1769064454592:m3:llm"]);
    // The UI log read beside that conversation marks exactly those spans.
    let task = t.path().join("tasks/1769064454592");
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/formats/cline/saoudrizwan.claude-dev/tasks/1769064454592/ui_messages.json"
    );
    let ui = task.join("ui_messages.json");
    std::fs::copy(src, &ui).expect("copy");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ui).expect("read")).expect("json");
    let (out, r) = parse(&ui.to_string_lossy(), v);
    assert!(r.is_ok(), "{r:?}");
    let superseded: Vec<&Span> = spans(&out)
        .into_iter()
        .filter(|x| x.updates_only())
        .collect();
    let ids: Vec<&str> = superseded.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, llm);
    for s in superseded {
        assert_eq!(s.kind, SpanKind::Event);
        assert_eq!((s.input_tokens, s.output_tokens), (Some(0), Some(0)));
        assert_eq!(s.attributes.get("cost"), Some(&serde_json::Value::Null));
    }
    // The UI log's own requests are new spans, not updates.
    assert!(spans(&out)
        .iter()
        .any(|x| x.kind == SpanKind::Llm && !x.updates_only()));
    // Without a conversation beside it, the UI log marks nothing.
    std::fs::remove_file(task.join("api_conversation_history.json")).expect("rm");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ui).expect("read")).expect("json");
    let (out, _) = parse(&ui.to_string_lossy(), v);
    assert!(!spans(&out).iter().any(|x| x.updates_only()));
}
