//! Unit tests of the Claude Code parser.

use super::*;
use crate::model::SpanStatus;
use serde_json::json;

fn parse(lines: &[serde_json::Value]) -> Vec<Record> {
    super::super::test_support::feed(&mut ClaudeParser::default(), "s.jsonl", lines)
}

use super::super::test_support::spans;

/// The run titles among `out`, in order.
fn titles(out: &[Record]) -> Vec<String> {
    out.iter()
        .filter_map(|r| match r {
            Record::Run(r) => r.title.clone(),
            _ => None,
        })
        .collect()
}

#[test]
fn usage_once_per_message_and_tool_pairing() {
    let usage = json!({"input_tokens":3,"cache_read_input_tokens":10,"cache_creation_input_tokens":5,"output_tokens":9});
    let out = parse(&[
        json!({"type":"user","sessionId":"S","uuid":"u1","timestamp":"2026-01-01T00:00:00Z","message":{"role":"user","content":"do it\nplease"}}),
        json!({"type":"assistant","sessionId":"S","uuid":"a1","parentUuid":"u1","timestamp":"2026-01-01T00:00:01Z","message":{"id":"m1","model":"claude-x","content":[{"type":"text","text":"ok"}],"usage":usage}}),
        json!({"type":"assistant","sessionId":"S","uuid":"a2","parentUuid":"a1","timestamp":"2026-01-01T00:00:02Z","message":{"id":"m1","model":"claude-x","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}],"usage":usage}}),
        json!({"type":"user","sessionId":"S","uuid":"u2","parentUuid":"a2","timestamp":"2026-01-01T00:00:05Z","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"is_error":true}]}}),
    ]);
    let s = spans(&out);
    let llm: Vec<_> = s.iter().filter(|x| x.kind == SpanKind::Llm).collect();
    assert_eq!(llm.len(), 1, "usage unchanged: one llm emission");
    assert_eq!(llm[0].input_tokens, Some(18));
    // Cache reads and writes are kept apart, as parts of the input (priced as cached).
    assert_eq!(
        (llm[0].cache_read_tokens, llm[0].cache_write_tokens),
        (Some(10), Some(5))
    );
    assert_eq!(llm[0].parent_id.as_deref(), Some("u1"));
    let tools: Vec<_> = s.iter().filter(|x| x.kind == SpanKind::Tool).collect();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0].tool_input.as_deref(), Some(r#"{"command":"ls"}"#));
    assert_eq!(tools[1].tool_output.as_deref(), Some("a\nb"));
    assert_eq!(tools[1].status, SpanStatus::Error);
    assert_eq!(tools[1].duration_ms(), Some(3000));
    assert_eq!(tools[1].parent_id.as_deref(), Some("m1"));
    let title = out.iter().find_map(|r| match r {
        Record::Run(r) => r.title.clone(),
        _ => None,
    });
    assert_eq!(title.as_deref(), Some("do it"));
}

#[test]
fn summary_before_session_is_held() {
    let out = parse(&[
        json!({"type":"summary","summary":"Title","leafUuid":"L"}),
        json!({"type":"user","sessionId":"S","uuid":"u1","message":{"role":"user","content":"hi"}}),
    ]);
    let s = spans(&out);
    assert_eq!(s[0].run_id, "S");
    assert_eq!(s[0].text.as_deref(), Some("Title"));
}

#[test]
fn skill_invocation_and_skill_body_stay_visible() {
    let out = parse(&[
        json!({"type":"user","sessionId":"S","uuid":"u1","timestamp":"2026-01-01T00:00:00Z","message":{"role":"user","content":"make a pdf"}}),
        json!({"type":"assistant","sessionId":"S","uuid":"a1","parentUuid":"u1","timestamp":"2026-01-01T00:00:01Z","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Skill","input":{"skill":"pdf"}}]}}),
        json!({"type":"user","sessionId":"S","uuid":"u2","parentUuid":"a1","timestamp":"2026-01-01T00:00:02Z","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"Launching skill: pdf"}]}}),
        json!({"type":"user","sessionId":"S","uuid":"u3","parentUuid":"u2","isMeta":true,"timestamp":"2026-01-01T00:00:02Z","message":{"role":"user","content":[{"type":"text","text":"Base directory for this skill: /home/u/.claude/skills/pdf\n\n# PDF"}]}}),
    ]);
    let s = spans(&out);
    let skill = s
        .iter()
        .find(|x| x.tool_name.as_deref() == Some("Skill"))
        .unwrap();
    assert_eq!(skill.tool_input.as_deref(), Some(r#"{"skill":"pdf"}"#));
    let body = s.iter().find(|x| x.id == "u3").unwrap();
    assert_eq!(body.kind, SpanKind::Message);
    assert!(body
        .text
        .as_deref()
        .unwrap()
        .starts_with("Base directory for this skill:"));
    assert_eq!(body.attributes["meta"], json!(true));
    assert_eq!(
        body.parent_id.as_deref(),
        Some("u1"),
        "meta text sits in its turn"
    );
    // A meta message never becomes the title.
    assert_eq!(titles(&out), vec!["make a pdf".to_owned()]);
}

/// Verbatim shape of a Claude Code 2.1.214 interrupt record (third-party
/// capture quoted in a public test suite): the marker is not a prompt.
#[test]
fn an_interrupt_marker_is_part_of_its_turn_not_a_prompt() {
    let out = parse(&[
        json!({"type":"user","sessionId":"S","uuid":"u1","timestamp":"2026-07-18T11:30:00Z","message":{"role":"user","content":"refactor the parser"}}),
        json!({"type":"user","sessionId":"S","uuid":"u2","parentUuid":"u1","promptId":"p1","timestamp":"2026-07-18T11:30:35.597Z","interruptedMessageId":"msg_1","entrypoint":"cli","version":"2.1.214","message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user]"}]}}),
    ]);
    let s = spans(&out);
    let marker = s.iter().find(|x| x.id == "u2").expect("marker span");
    assert_eq!(marker.parent_id.as_deref(), Some("u1"));
    assert_eq!(marker.attributes["interrupted"], json!(true));
    assert_eq!(titles(&out), ["refactor the parser"]);
}

/// The title updates among `out`: (title, kind), in order.
fn named(out: &[Record]) -> Vec<(String, TitleKind)> {
    out.iter()
        .filter_map(|r| match r {
            Record::Run(r) => r.title.clone().map(|t| (t, r.title_kind)),
            _ => None,
        })
        .collect()
}

#[test]
fn custom_and_ai_titles_name_the_session() {
    // The records Claude Code 2.1.x appends: `/rename` writes `custom-title`
    // (and `agent-name`), the generated name is `ai-title`.
    let out = parse(&[
        json!({"type":"custom-title","customTitle":"before any record","sessionId":"S"}),
        json!({"type":"user","sessionId":"S","uuid":"u1","timestamp":"2026-07-01T00:00:00Z","message":{"role":"user","content":"fix the parser"}}),
        json!({"type":"ai-title","aiTitle":"Fix parser race","sessionId":"S"}),
        json!({"type":"agent-name","agentName":"ignored","sessionId":"S"}),
        json!({"type":"custom-title","customTitle":"  parser\nwork ","sessionId":"S"}),
        json!({"type":"custom-title","customTitle":"","sessionId":"S"}),
        json!({"type":"ai-title","aiTitle":"no session field"}),
        json!({"type":"ai-title","aiTitle":"another session's","sessionId":"T"}),
    ]);
    assert_eq!(
        named(&out),
        vec![
            ("before any record".to_owned(), TitleKind::Named),
            ("fix the parser".to_owned(), TitleKind::Prompt),
            ("Fix parser race".to_owned(), TitleKind::Generated),
            ("parser".to_owned(), TitleKind::Named),
            ("no session field".to_owned(), TitleKind::Generated),
        ]
    );
    // Titles are runs of the session, never spans; a session seen only in a
    // title record makes no run.
    assert!(out.iter().all(|r| match r {
        Record::Run(r) => r.id == "S",
        _ => true,
    }));
    assert!(spans(&out).iter().all(|s| s.name != "custom-title"));
}

#[test]
fn a_title_read_after_a_resumed_read_names_the_stored_session() {
    // An import that resumes past what it stored feeds line 1 first (here a
    // snapshot without a session), then the new lines: the session's first
    // records are not in this read, and its new title still lands.
    let mut p = ClaudeParser::default();
    let mut out = Vec::new();
    let lines = [
        (
            1,
            json!({"type":"file-history-snapshot","messageId":"m0","snapshot":{}}),
        ),
        (
            40,
            json!({"type":"ai-title","aiTitle":"Resumed title","sessionId":"S"}),
        ),
    ];
    for (line, v) in lines {
        p.value(&v.into(), &Origin::new("s.jsonl", line), &mut out)
            .expect("parses");
    }
    p.finish(&mut out);
    assert_eq!(
        named(&out),
        vec![("Resumed title".to_owned(), TitleKind::Generated)]
    );
}

/// The headless message stream (`claude -p --output-format stream-json`) of Claude
/// Code 1.0.x: `session_id`, no `uuid`, timestamp or `parentUuid`; a subagent's
/// messages name their Task call in `parent_tool_use_id`; a closing `result`.
#[test]
fn headless_stream_without_uuids_links_by_task_and_keeps_the_result() {
    let usage = json!({"input_tokens":4,"output_tokens":7});
    let out = parse(&[
        json!({"type":"system","subtype":"init","session_id":"S","cwd":"/w","model":"claude-sonnet-4-20250514","tools":["Task","Bash"]}),
        json!({"type":"assistant","session_id":"S","parent_tool_use_id":null,"message":{"id":"m1","model":"claude-sonnet-4-20250514","content":[{"type":"tool_use","id":"task1","name":"Task","input":{"prompt":"look"}}],"usage":usage}}),
        json!({"type":"user","session_id":"S","parent_tool_use_id":"task1","message":{"role":"user","content":[{"type":"text","text":"look"}]}}),
        json!({"type":"assistant","session_id":"S","parent_tool_use_id":"task1","message":{"id":"m2","model":"claude-sonnet-4-20250514","content":[{"type":"tool_use","id":"t2","name":"Bash","input":{"command":"ls"}}],"usage":usage}}),
        json!({"type":"user","session_id":"S","parent_tool_use_id":"task1","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","content":"a.txt"}]}}),
        json!({"type":"user","session_id":"S","parent_tool_use_id":null,"message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"task1","content":"found a.txt"}]}}),
        json!({"type":"result","subtype":"error_max_turns","is_error":true,"session_id":"S","num_turns":3,"duration_ms":900,"total_cost_usd":0.01,"result":"stopped"}),
    ]);
    let s = spans(&out);
    let by = |id: &str| s.iter().find(|x| x.id == id).cloned();
    let init = by("S:1.0").expect("init event gets a line id");
    assert_eq!((init.kind, init.name.as_str()), (SpanKind::Event, "init"));
    assert_eq!(
        init.attributes.get("model"),
        Some(&json!("claude-sonnet-4-20250514"))
    );
    // The subagent's prompt and model call hang under the Task call, not at the root.
    let sub_prompt = by("S:3.0").expect("subagent prompt");
    assert_eq!(sub_prompt.parent_id.as_deref(), Some("task1"));
    assert_eq!(
        by("m2").and_then(|x| x.parent_id.clone()),
        Some("task1".into())
    );
    let bash: Vec<_> = s.iter().filter(|x| x.id == "t2").collect();
    assert_eq!(
        bash.last().and_then(|x| x.tool_output.clone()),
        Some("a.txt".into())
    );
    let task: Vec<_> = s.iter().filter(|x| x.id == "task1").collect();
    assert_eq!(
        task.last().and_then(|x| x.tool_output.clone()),
        Some("found a.txt".into())
    );
    let result = s.iter().find(|x| x.name == "result").expect("result event");
    assert_eq!(result.status, SpanStatus::Error);
    assert_eq!(result.text.as_deref(), Some("stopped"));
    assert_eq!(result.attributes.get("num_turns"), Some(&json!(3)));
    assert_eq!(
        result.attributes.get("reported_cost_usd"),
        Some(&json!(0.01))
    );
    // One run, the session's, with its working directory; no title from a subagent's prompt.
    let runs = super::super::test_support::runs(&out);
    assert!(runs.iter().all(|r| r.id == "S"));
    assert_eq!(runs[0].cwd.as_deref(), Some("/w"));
    assert!(titles(&out).is_empty());
}

#[test]
fn cost_state_is_one_span_per_session_its_latest_snapshot_winning() {
    let snap = |usd: f64, out: u64| {
        json!({"type":"cost-state","sessionId":"S","totalCostUSD":usd,"totalDuration":50401,
            "totalLinesAdded":3,"hasUnknownModelCost":false,
            "modelUsage":{"claude-haiku-4-5":{"inputTokens":368,"outputTokens":out,
                "cacheReadInputTokens":106786,"cacheCreationInputTokens":9149,"costUSD":usd}}})
    };
    let out = parse(&[
        json!({"type":"user","sessionId":"S","uuid":"u1","timestamp":"2026-09-14T15:16:17Z","message":{"role":"user","content":"hi"}}),
        snap(0.01, 100),
        snap(0.0319246, 516),
        // No figure: nothing.
        json!({"type":"cost-state","sessionId":"S","modelUsage":{}}),
    ]);
    let cs: Vec<_> = spans(&out)
        .into_iter()
        .filter(|s| s.id == crate::pricing::REPORTED_SPAN)
        .collect();
    assert_eq!(
        cs.len(),
        2,
        "one span id, sent once per snapshot (merged in the store)"
    );
    let last = cs[1];
    assert_eq!(last.run_id, "S");
    assert_eq!(last.kind, SpanKind::Event);
    assert_eq!(
        last.attributes.get(crate::pricing::REPORTED_COST),
        Some(&json!(0.0319246))
    );
    assert_eq!(
        last.attributes["model_usage"]["claude-haiku-4-5"]["output_tokens"],
        json!(516)
    );
    assert_eq!(last.attributes["lines_added"], json!(3));
    // Not a model call: the calls it sums are counted from their own records.
    assert_eq!(crate::usage::Usage::of(last), None);
}
