//! Every trace fixture parsed through `FileParser`, with the runs, spans, tool
//! names, texts and parent links a person would expect; and bad input per issue 2.
#![allow(clippy::unwrap_used)]

use crate::parse_support;

use parse_support::{check_tree, parse, parse_lines, FIX};
use serde_json::json;
use skilltrace::ingest::formats::{FileParser, Format, FormatError, Record};
use skilltrace::model::{Span, SpanKind, SpanStatus};
use std::path::Path;

const SESSION: &str = "4d5611e5-241a-462a-8d15-5122611a9569";

#[test]
fn claude_session_runs_tools_and_usage() {
    let p = parse("claude-code/session_excerpt.jsonl");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.formats, vec![Format::ClaudeCode]);
    assert_eq!(p.runs.len(), 1);
    let run = &p.runs[SESSION];
    assert!(run
        .title
        .as_deref()
        .unwrap()
        .starts_with("Work on bead spotter-dov. Run bd show spotter-dov"));
    // Parsers keep the whole first line; the redactor cuts it after redacting it.
    assert!(!run.title.as_deref().unwrap().contains('\n'));
    let stored = skilltrace::redact::Redactor::default().redact_run(run.clone());
    assert!(stored.get().title.as_deref().unwrap().chars().count() <= 120);
    assert_eq!(
        run.cwd.as_deref(),
        Some("/home/USER/projects/spotter-worktrees/spotter-dov")
    );
    assert_eq!(run.started_ms, Some(1_770_912_143_545)); // first record, 16:02:23.545Z
    assert_eq!(run.ended_ms, Some(1_770_930_214_206)); // last record, 21:03:34.206Z
                                                       // Run updates are few (first sight, title, turn ends), not one per line.
    let run_updates = p
        .records
        .iter()
        .filter(|r| matches!(r, Record::Run(_)))
        .count();
    assert!(run_updates <= 6, "{run_updates} run updates");

    // One llm span per message.id, usage counted once (4 records share msg_01PdW…).
    assert_eq!(p.count(SpanKind::Llm), 4);
    let first = p.span("msg_01PdWvcjJ6E9BgscDveYt9YV");
    assert_eq!(first.input_tokens, Some(3 + 15005 + 11442));
    assert_eq!(first.output_tokens, Some(9));
    assert_eq!(first.model.as_deref(), Some("claude-opus-4-6"));
    assert_eq!(
        p.tokens(SESSION),
        (26450 + 29510 + 35111 + 73498, 9 + 1 + 10 + 228)
    );

    let mut tools = p.tools();
    tools.sort();
    assert_eq!(tools, vec!["", "Bash", "Bash", "Edit", "Read", "Task"]);
    let bash = p.span("toolu_01UwLnYYWGBvukzh1QE6JpfM");
    assert_eq!(
        bash.tool_input.as_deref(),
        Some(r#"{"command":"bd show spotter-dov","description":"Show spotter-dov issue details"}"#)
    );
    assert!(bash
        .tool_output
        .as_deref()
        .unwrap()
        .starts_with("○ spotter-dov [EPIC]"));
    assert_eq!(bash.status, SpanStatus::Ok);
    assert_eq!(bash.duration_ms(), Some(1547));
    assert_eq!(
        bash.parent_id.as_deref(),
        Some("msg_01PdWvcjJ6E9BgscDveYt9YV")
    );
    // The llm span hangs under the prompt that opened the turn.
    assert_eq!(
        first.parent_id.as_deref(),
        Some("daa5a4bb-530c-4055-b20c-bde38255c99e")
    );
    assert_eq!(
        p.span("daa5a4bb-530c-4055-b20c-bde38255c99e").kind,
        SpanKind::Message
    );

    let task = p.span("toolu_017pLRuPHYTX5t99EnLyV53m");
    assert_eq!(task.tool_name.as_deref(), Some("Task"));
    assert!(task
        .tool_output
        .as_deref()
        .unwrap()
        .contains("Comprehensive Exploration Report"));
    assert_eq!(
        task.attributes["subagent_run_id"],
        json!(format!("{SESSION}/agent-a2898e3"))
    );
    assert!(task
        .tool_input
        .as_deref()
        .unwrap()
        .contains("\"subagent_type\":\"Explore\""));

    // Thinking and assistant text are message spans under their llm span.
    let thinking = p.span("0bf0da57-20f0-47e6-bf33-71919451e591");
    assert_eq!(thinking.name, "thinking");
    assert_eq!(
        thinking.parent_id.as_deref(),
        Some("msg_01PdWvcjJ6E9BgscDveYt9YV")
    );

    // Compaction: boundary event linked to its logical parent; summary under it, not a title.
    let boundary = p.span("dd3cc2e6-a191-4331-a0f0-2473e6d7692d");
    assert_eq!(
        (boundary.kind, boundary.name.as_str()),
        (SpanKind::Event, "compact_boundary")
    );
    assert_eq!(
        boundary.attributes["logical_parent_uuid"],
        json!("459e838f-d7ea-4f7d-94ad-2cb4d227dc77")
    );
    let summary = p.span("e95c1e9a-5084-4e69-bf3d-42c8d45f3985");
    assert_eq!(summary.parent_id.as_deref(), Some(boundary.id.as_str()));
    assert_eq!(summary.attributes["compact_summary"], json!(true));
}

#[test]
fn claude_subagent_is_its_own_run_linked_to_the_parent() {
    let p = parse("claude-code/subagent_excerpt.jsonl");
    assert!(p.errors.is_empty());
    let id = format!("{SESSION}/agent-a2898e3");
    assert_eq!(p.runs.keys().collect::<Vec<_>>(), vec![&id]);
    let run = &p.runs[&id];
    assert_eq!(run.parent_run_id.as_deref(), Some(SESSION));
    assert_eq!(
        run.title.as_deref(),
        Some("Very thorough exploration. I need to understand:")
    );
    assert_eq!(p.tools(), vec!["Read", "Read", "Read"]);
    let failed: Vec<_> = p
        .of_kind(SpanKind::Tool)
        .into_iter()
        .filter(|s| s.status == SpanStatus::Error)
        .map(|s| s.tool_output.clone().unwrap())
        .collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().any(|o| o.contains("File does not exist.")));
    let llm = p.of_kind(SpanKind::Llm);
    assert_eq!(llm.len(), 1);
    assert_eq!(llm[0].model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    for s in p.spans.values() {
        assert_eq!(s.run_id, id);
    }
}

#[test]
fn claude_legacy_summary_and_string_results() {
    let p = parse("claude-code/legacy_handwritten_fixture_with_summary.jsonl");
    assert!(p.errors.is_empty());
    let run = &p.runs["test_session"];
    assert_eq!(
        run.title.as_deref(),
        Some("Hello Claude! Can you help me understand how Python decorators work?")
    );
    let summary = p.span("summary:msg_011");
    assert!(summary
        .text
        .as_deref()
        .unwrap()
        .starts_with("User learned about Python decorators"));
    assert_eq!(p.count(SpanKind::Llm), 5);
    // message.id equals the record uuid here; the llm span and its text stay apart.
    assert_eq!(p.span("msg_002").kind, SpanKind::Llm);
    assert_eq!(p.span("msg_002:0").kind, SpanKind::Message);
    let bash = p.span("tool_002");
    assert_eq!(
        bash.tool_output.as_deref(),
        Some("Hello, Alice!\nHello, Alice!\nHello, Alice!")
    );
    assert_eq!(bash.parent_id.as_deref(), Some("msg_008"));
    assert_eq!(p.count(SpanKind::Message), 4 + 3); // prompts + assistant texts
}

const ROLLOUT: &str =
    "codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl";

#[test]
fn codex_rollout_tokens_once_and_calls_paired() {
    let p = parse(ROLLOUT);
    assert!(p.errors.is_empty());
    let id = "019c8bfe-ec25-79e0-97d7-bda6a9c575ff";
    let run = &p.runs[id];
    assert_eq!(run.cwd.as_deref(), Some("/redacted/path/ea96e59ed9"));
    assert_eq!(
        run.title.as_deref(),
        Some("[REDACTED_MESSAGE len=98 sha=c002ff99]")
    );
    // Six model requests; their usage adds up to the rollout's own cumulative total,
    // so neither the repeated token_count events nor event_msg copies double count.
    assert_eq!(p.count(SpanKind::Llm), 6);
    assert_eq!(p.tokens(id), (298_373, 1_123));
    assert_eq!(p.tools().len(), 5);
    assert_eq!(
        p.tools()
            .iter()
            .filter(|t| **t == "mcp__cloud-associates__execute_workflow")
            .count(),
        3
    );
    let call = p.span("call_OIMY41RetdVChp5U51mMLGOD");
    assert_eq!(
        call.tool_input.as_deref(),
        Some("[REDACTED_ARGUMENTS len=46 sha=4cb9a2fc]")
    );
    assert_eq!(
        call.tool_output.as_deref(),
        Some("[REDACTED_OUTPUT len=4215 sha=9a9d94de]")
    );
    assert_eq!(call.duration_ms(), Some(175));
    let llm = p.span(call.parent_id.as_deref().unwrap());
    assert_eq!(llm.kind, SpanKind::Llm);
    assert_eq!(llm.model.as_deref(), Some("gpt-5.3-codex"));
    let turn = p.span(llm.parent_id.as_deref().unwrap());
    assert_eq!(
        (turn.kind, turn.id.as_str()),
        (SpanKind::Agent, "019c8bfe-ed40-7a21-b57f-6447436c5881")
    );
    assert_eq!(turn.status, SpanStatus::Ok);
    // event_msg agent_message / agent_reasoning mirror response items: not counted again.
    let names = |n: &str| {
        p.of_kind(SpanKind::Message)
            .iter()
            .filter(|s| s.name == n)
            .count()
    };
    assert_eq!(
        (names("assistant"), names("reasoning"), names("user")),
        (6, 6, 3)
    );
}

#[test]
fn codex_variety_tools() {
    let p = parse("codex/rollout_variety_excerpt.jsonl");
    assert!(p.errors.is_empty());
    let tools = p.tools();
    for t in [
        "exec_command",
        "apply_patch",
        "web_search",
        "write_stdin",
        "update_plan",
        "list_mcp_resources",
    ] {
        assert!(tools.contains(&t), "{t} missing from {tools:?}");
    }
    assert_eq!(tools.len(), 15);
    let patch = p.span("call_SvmzZwbwYThEueiWvikBGkio");
    assert_eq!(
        patch.tool_input.as_deref(),
        Some("[REDACTED_INPUT len=2571 sha=adb0568c]")
    );
    assert_eq!(
        patch.tool_output.as_deref(),
        Some("[REDACTED_OUTPUT len=192 sha=720c5f0f]")
    );
    // Every call found its output.
    for t in p.of_kind(SpanKind::Tool) {
        if t.name != "web_search" {
            assert!(
                t.tool_output.is_some() && t.end_ms.is_some(),
                "{} unpaired",
                t.id
            );
        }
    }
    let compacted: Vec<_> = p.of_kind(SpanKind::Event);
    assert_eq!(compacted.len(), 1);
    assert_eq!(compacted[0].name, "compacted");
}

#[test]
fn otlp_genai_capture() {
    let p = parse("otel-genai/otlp_genai_agent_run.jsonl");
    assert!(p.errors.is_empty());
    assert_eq!(p.runs.len(), 1);
    let (id, run) = p.runs.iter().next().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(
        run.title.as_deref(),
        Some("What's the weather in Seattle and San Francisco today?")
    );
    assert_eq!(p.spans.len(), 11);
    check_tree(&p);
    assert_eq!(p.count(SpanKind::Llm), 4);
    assert_eq!(p.count(SpanKind::Tool), 2);
    assert_eq!(p.count(SpanKind::Agent), 5);
    // Nested chat spans from stacked instrumentations: usage counted once per call.
    assert_eq!(p.tokens(id), (75 + 99, 51 + 25));
    let seattle = p
        .of_kind(SpanKind::Tool)
        .into_iter()
        .find(|s| s.tool_input.as_deref() == Some(r#"{"location": "Seattle, WA"}"#))
        .unwrap();
    assert_eq!(seattle.tool_name.as_deref(), Some("get_current_weather"));
    assert_eq!(
        seattle.tool_output.as_deref(),
        Some("50 degrees and raining")
    );
    assert_eq!(seattle.status, SpanStatus::Ok);
    let llm = p
        .of_kind(SpanKind::Llm)
        .into_iter()
        .find(|s| s.model.as_deref() == Some("gpt-4o-mini-2024-07-18"))
        .unwrap();
    let text = llm.text.as_deref().unwrap();
    assert!(
        text.contains("user: What's the weather in Seattle"),
        "{text}"
    );
    assert!(
        text.contains("[tool_call get_current_weather {\"location\":\"Seattle, WA\"}]"),
        "{text}"
    );
    assert_eq!(llm.attributes["gen_ai.provider.name"], json!("openai"));
    assert_eq!(llm.attributes["service.name"], json!("weather-agent"));
    let root: Vec<_> = p.spans.values().filter(|s| s.parent_id.is_none()).collect();
    assert_eq!(root.len(), 1);
    assert_eq!(root[0].name, "Agent workflow");
}

#[test]
fn otlp_proto_example_upper_hex_and_bare_numbers() {
    let p = parse("otel-genai/otlp_proto_example_trace.json");
    assert!(p.errors.is_empty());
    let s = p.span("eee19b7ec3c1b174");
    assert_eq!(s.run_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(s.parent_id.as_deref(), Some("eee19b7ec3c1b173"));
    assert_eq!(
        (s.start_ms, s.end_ms),
        (Some(1_544_712_660_000), Some(1_544_712_661_000))
    );
    assert_eq!(s.name, "I'm a server span");
    assert_eq!(s.attributes["my.span.attr"], json!("some value"));
    assert_eq!(s.attributes["otel.scope.name"], json!("my.library"));
}

#[test]
fn openinference_capture() {
    let p = parse("openinference/otlp_openinference_agent_run.jsonl");
    assert!(p.errors.is_empty());
    assert_eq!(p.runs.len(), 1);
    let id = p.runs.keys().next().unwrap().clone();
    assert_eq!(p.spans.len(), 11);
    check_tree(&p);
    assert_eq!(
        (
            p.count(SpanKind::Llm),
            p.count(SpanKind::Tool),
            p.count(SpanKind::Agent)
        ),
        (4, 2, 5)
    );
    assert_eq!(p.tokens(&id), (75 + 99, 51 + 25));
    let sf = p
        .of_kind(SpanKind::Tool)
        .into_iter()
        .find(|s| s.tool_input.as_deref() == Some(r#"{"location": "San Francisco, CA"}"#))
        .unwrap();
    assert_eq!(sf.tool_output.as_deref(), Some("70 degrees and sunny"));
    assert_eq!(sf.name, "get_current_weather");
    let chat = p
        .of_kind(SpanKind::Llm)
        .into_iter()
        .find(|s| {
            s.name == "ChatCompletion" && s.text.as_deref().unwrap().contains("tool: 50 degrees")
        })
        .unwrap();
    assert!(chat
        .text
        .as_deref()
        .unwrap()
        .ends_with("assistant: Today, the weather in Seattle is 50 degrees and raining, while in San Francisco, it's 70 degrees and sunny."));
    assert_eq!(chat.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(
        p.runs[&id].title.as_deref(),
        Some("What's the weather in Seattle and San Francisco today?")
    );
}

#[test]
fn openai_agents_children_before_parents() {
    let p = parse("openai-agents/agents_sdk_trace.jsonl");
    assert!(p.errors.is_empty());
    assert_eq!(p.runs.len(), 1);
    let id = p.runs.keys().next().unwrap().clone();
    assert!(id.starts_with("trace_"));
    assert_eq!(
        p.runs[&id].title.as_deref(),
        Some("What's the weather in Seattle and San Francisco today?")
    );
    // The first span in the file names a parent that only arrives later.
    let order: Vec<&Span> = p
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s),
            _ => None,
        })
        .collect();
    let first_parent = order[0].parent_id.as_deref().unwrap();
    let parent_pos = order.iter().position(|s| s.id == first_parent).unwrap();
    assert!(parent_pos > 0);
    check_tree(&p);
    assert_eq!(p.spans.len(), 8);
    assert_eq!(
        p.tools(),
        vec!["get_current_weather", "get_current_weather"]
    );
    assert_eq!(p.tokens(&id), (174, 76));
    let agent = p.of_kind(SpanKind::Agent);
    let names: Vec<&str> = agent.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"Assistant") && names.contains(&"task") && names.contains(&"turn"));
    let tool = p
        .of_kind(SpanKind::Tool)
        .into_iter()
        .find(|s| s.tool_output.as_deref() == Some("50 degrees and raining"))
        .unwrap();
    assert_eq!(
        tool.tool_input.as_deref(),
        Some(r#"{"location": "Seattle, WA"}"#)
    );
    assert_eq!(p.span(tool.parent_id.as_deref().unwrap()).name, "turn");

    // The batch export shape yields the same spans.
    let batch = parse("openai-agents/agents_sdk_batch.json");
    assert!(batch.errors.is_empty());
    assert_eq!(
        batch.spans.keys().collect::<Vec<_>>(),
        p.spans.keys().collect::<Vec<_>>()
    );
}

#[test]
fn native_round_trip_of_a_real_session() {
    let p = parse("claude-code/session_excerpt.jsonl");
    let mut file = String::new();
    for r in &p.records {
        file.push_str(&skilltrace::ingest::formats::native::encode(r));
        file.push('\n');
    }
    let back = parse_lines("export.jsonl", file.as_bytes());
    assert!(back.errors.is_empty());
    assert_eq!(back.formats, vec![Format::Native]);
    assert_eq!(back.records, p.records);
}

#[test]
fn mixed_file_is_sniffed_per_line() {
    let mut file = Vec::new();
    for rel in [
        "claude-code/legacy_handwritten_fixture_with_summary.jsonl",
        ROLLOUT,
        "openai-agents/agents_sdk_trace.jsonl",
    ] {
        let b = std::fs::read(Path::new(FIX).join(rel)).unwrap();
        file.extend_from_slice(&b[..b.iter().position(|c| *c == b'\n').unwrap() + 1]);
    }
    let otlp = std::fs::read(Path::new(FIX).join("otel-genai/otlp_genai_agent_run.jsonl")).unwrap();
    file.extend_from_slice(&otlp[..otlp.iter().position(|c| *c == b'\n').unwrap() + 1]);
    let p = parse_lines("mixed.jsonl", &file);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        p.formats,
        vec![
            Format::ClaudeCode,
            Format::Codex,
            Format::OpenaiAgents,
            Format::Otlp
        ]
    );
    assert_eq!(p.runs.len(), 4);
}

#[test]
fn forced_format_rejects_other_records() {
    let mut fp = FileParser::new("x.jsonl", Some(Format::Codex));
    let mut out = Vec::new();
    let line = br#"{"type":"user","sessionId":"s","uuid":"u","message":{"content":"hi"}}"#;
    assert!(fp.line(line, 1, &mut out).is_err());
    assert!(out.is_empty());
}

/// Issue 2's bad inputs, all in one file between good lines.
#[test]
fn bad_input_is_typed_errors_and_neighbours_survive() {
    let good = |n: u32| {
        format!(
            r#"{{"type":"user","sessionId":"S","uuid":"u{n}","timestamp":"2026-01-01T00:00:0{n}Z","message":{{"role":"user","content":"prompt {n}"}}}}"#
        )
    };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    lines.push([b"\xEF\xBB\xBF".as_slice(), good(1).as_bytes()].concat()); // 1: BOM
    lines.push(b"{\"type\": \"user\", nope".to_vec()); // 2: malformed
    let g = good(2);
    lines.push(g.as_bytes()[..g.len() / 2].to_vec()); // 3: truncated
    lines.push([good(3).as_bytes(), b"\r"].concat()); // 4: CRLF
    lines.push(b"{\"type\":\"user\",\"sessionId\":\"S\",\"uuid\":\"\xff\xfe\"}".to_vec()); // 5: invalid UTF-8
    lines.push(b"{\"a\":\0\0}".to_vec()); // 6: NUL bytes
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    lines.push(deep.into_bytes()); // 7: nested 5000 deep
    lines.push(b"[1,2,3]".to_vec()); // 8: array
    lines.push(b"null".to_vec()); // 9: null
    lines.push(br#"{"name":"not a trace","version":3}"#.to_vec()); // 10: other JSON
    lines.push(br#"{"type":"user","sessionId":"S","uuid":"u9"}"#.to_vec()); // 11: user without message
    lines.push(br#"{"resourceSpans":{"x":1}}"#.to_vec()); // 12: wrong shape
    lines.push(good(4).into_bytes()); // 13
    let big = format!(
        r#"{{"type":"user","sessionId":"S","uuid":"big","message":{{"role":"user","content":"{}"}}}}"#,
        "x".repeat(4 << 20)
    );
    lines.push(big.into_bytes()); // 14: a 4 MiB line
    let file = lines.join(&b'\n');
    let p = parse_lines("bad.jsonl", &file);
    let errs: Vec<(u64, &FormatError)> = p.errors.iter().map(|(n, e)| (*n, e)).collect();
    let kind = |e: &FormatError| match e {
        FormatError::Json(_) => "json",
        FormatError::Utf8 => "utf8",
        FormatError::NotATrace => "not-a-trace",
        FormatError::Shape(_) => "shape",
        FormatError::TooLong(_) => "too-long",
    };
    let got: Vec<(u64, &str)> = errs.iter().map(|(n, e)| (*n, kind(e))).collect();
    assert_eq!(
        got,
        vec![
            (2, "json"),
            (3, "json"),
            (5, "utf8"),
            (6, "json"),
            (7, "json"),
            (8, "not-a-trace"),
            (9, "not-a-trace"),
            (10, "not-a-trace"),
            (11, "shape"),
            (12, "shape"),
        ]
    );
    // No error message quotes the input.
    for (_, e) in &p.errors {
        let m = e.to_string();
        assert!(
            !m.contains("nope") && !m.contains("not a trace") && !m.contains("prompt"),
            "{m}"
        );
    }
    for id in ["u1", "u3", "u4"] {
        assert_eq!(
            p.span(id).text.as_deref(),
            Some(format!("prompt {}", &id[1..]).as_str())
        );
    }
    assert_eq!(p.span("big").text.as_ref().map(String::len), Some(4 << 20));
    assert_eq!(p.runs["S"].title.as_deref(), Some("prompt 1"));
}

#[test]
fn whole_file_documents_of_bad_shape() {
    let mut fp = FileParser::new("x.json", None);
    let mut out = Vec::new();
    assert!(matches!(
        fp.document(b"[null, 1, \"x\"]", &mut out),
        Err(FormatError::NotATrace)
    ));
    assert!(matches!(
        fp.document(b"", &mut out),
        Err(FormatError::Json(_))
    ));
    assert!(matches!(
        fp.document(b"\xEF\xBB\xBF{\"resourceSpans\":[]}", &mut out),
        Ok(())
    ));
    assert!(out.is_empty());
}
