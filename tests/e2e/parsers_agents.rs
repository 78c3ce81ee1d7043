//! The new agents' fixtures (Gemini CLI, Copilot CLI, OpenCode, Cline / Roo
//! Code) parsed through `FileParser`: exact runs, spans, tool names and
//! statuses, models, tokens and parent links; and bad input that keeps the
//! good records.
#![allow(clippy::unwrap_used)]

use crate::parse_support;

use parse_support::{check_tree, parse, parse_lines, parse_tree, Parsed};
use serde_json::json;
use skilltrace::ingest::formats::{FileParser, Format, FormatError};
use skilltrace::model::{SpanKind, SpanStatus};

fn ids(p: &Parsed, run: &str) -> Vec<String> {
    let mut v: Vec<String> = p
        .spans
        .keys()
        .filter(|(r, _)| r == run)
        .map(|(_, s)| s.clone())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort();
    v
}

#[test]
fn gemini_jsonl_log() {
    let p = parse("gemini-cli/session-2026-04-29T21-39-gemini_s.jsonl");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.formats, vec![Format::GeminiCli]);
    let run = &p.runs["gemini_stage0_jsonl"];
    assert_eq!(p.runs.len(), 1);
    assert_eq!(run.title.as_deref(), Some("Say hello and list files."));
    assert_eq!(run.started_ms, Some(1_777_498_762_319)); // 2026-04-29T21:39:22.319Z
    assert_eq!(
        ids(&p, "gemini_stage0_jsonl"),
        [
            "g-assistant-1",
            "g-assistant-2",
            "g-assistant-2:text",
            "g-user-1",
            "run_shell_command_stage0"
        ]
    );
    let llm = p.span("g-assistant-1");
    assert_eq!(llm.kind, SpanKind::Llm);
    assert_eq!(llm.model.as_deref(), Some("gemini-3-flash-preview"));
    assert_eq!(llm.parent_id.as_deref(), Some("g-user-1"));
    assert_eq!(p.tokens("gemini_stage0_jsonl"), (11855 + 12069, 81 + 147));
    assert_eq!(
        p.span("g-assistant-2").attributes["cached_input_tokens"],
        json!(11502)
    );
    let sh = p.span("run_shell_command_stage0");
    assert_eq!(sh.tool_name.as_deref(), Some("run_shell_command"));
    assert_eq!(sh.status, SpanStatus::Ok);
    assert_eq!(sh.parent_id.as_deref(), Some("g-assistant-1"));
    assert_eq!(
        sh.tool_input.as_deref(),
        Some(r#"{"command":"ls -F","description":"List files in the current directory."}"#)
    );
    assert_eq!(
        sh.tool_output.as_deref(),
        Some("Output: AgentSessions/\nREADME.md\nProcess Group PGID: 12345")
    );
    assert_eq!(sh.duration_ms(), Some(239));
    check_tree(&p);
}

#[test]
fn gemini_chat_documents() {
    let p = parse("gemini-cli/session-2025-12-16T23-47-b4f17607.json");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let id = "session-2025-12-16T23-47-b4f17607";
    assert_eq!(p.runs[id].title.as_deref(), Some("Run a command"));
    assert_eq!(
        ids(&p, id),
        [
            "m1",
            "m2",
            "m2:thoughts",
            "m2b",
            "m3",
            "m4",
            "m4:text",
            "m5",
            "m6",
            "m6:text",
            "run_shell_command-1",
            "run_shell_command-2"
        ]
    );
    assert_eq!(p.count(SpanKind::Llm), 4);
    assert_eq!(p.tools(), ["run_shell_command", "run_shell_command"]);
    assert_eq!(p.tokens(id), (100, 10));
    assert_eq!(p.span("m3").kind, SpanKind::Event);
    assert_eq!(p.span("m4").parent_id.as_deref(), Some("m1"));
    assert_eq!(p.span("m6").parent_id.as_deref(), Some("m5"));
    assert_eq!(
        p.span("m4:text").text.as_deref(),
        Some("Captured multiline output.")
    );
    assert!(p
        .span("run_shell_command-2")
        .tool_output
        .as_deref()
        .unwrap()
        .contains("Exit Code: 1"));
    check_tree(&p);

    let p = parse("gemini-cli/tool_calls_with_results.json");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let run = &p.runs["sess-uuid-tool-results"];
    assert_eq!(run.title.as_deref(), Some("Read the planning doc"));
    assert_eq!(p.tools(), ["read_file", "run_command"]);
    assert_eq!(
        p.span("a1:thoughts").text.as_deref(),
        Some("Planning: I need to read the planning document.")
    );
    assert_eq!(p.span("a1").model.as_deref(), Some("gemini-2.5-pro"));
    assert!(p
        .of_kind(SpanKind::Tool)
        .iter()
        .all(|t| t.status == SpanStatus::Ok && t.parent_id.as_deref() == Some("a1")));
}

const GEMINI_MAIN: &str = "7d1c2e4a-5b6f-4c3d-9e8a-1f2b3c4d5e6f";
const GEMINI_SUB: &str = "b3f0c2aa-0d41-4e59-8a3c-6c2d7e9f1a20";

#[test]
fn gemini_log_with_updates_mcp_rewind_and_a_subagent() {
    let (p, errors) = parse_tree("gemini-cli/chats");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(p.runs.len(), 2);
    let main = &p.runs[GEMINI_MAIN];
    assert_eq!(
        main.title.as_deref(),
        Some("Why does the server ignore the port in config/settings.toml?")
    );
    assert_eq!(main.ended_ms, Some(1_787_217_331_251)); // last $set lastUpdated
    let sub = &p.runs[GEMINI_SUB];
    assert_eq!(sub.parent_run_id.as_deref(), Some(GEMINI_MAIN));
    assert_eq!(sub.cwd.as_deref(), Some("/home/dev/app"));
    assert_eq!(sub.title.as_deref(), Some("Find where the port is read"));

    // The reply appended three times (no tokens, then tools, then tokens) counts once.
    let reply = p.span("5f0e9a4c-1111-4a2b-8c3d-000000000002");
    assert_eq!(
        (reply.input_tokens, reply.output_tokens),
        (Some(8120), Some(96 + 210))
    );
    assert_eq!(p.tokens(GEMINI_MAIN), (8120 + 8544, 306 + 40));
    assert_eq!(p.tokens(GEMINI_SUB), (3011 + 3150, 67 + 18));

    let tools: Vec<(&str, SpanStatus)> = p
        .of_kind(SpanKind::Tool)
        .iter()
        .filter(|s| s.run_id == GEMINI_MAIN)
        .map(|s| (s.tool_name.as_deref().unwrap(), s.status))
        .collect();
    assert_eq!(
        sorted(tools.iter().map(|t| t.0).collect()),
        [
            "codebase_investigator",
            "mcp_github_get_file_contents",
            "read_file",
            "run_shell_command"
        ]
    );
    let mcp = p.span("mcp_github_get_file_contents_1755681271120_1");
    assert_eq!(mcp.status, SpanStatus::Error);
    assert_eq!(
        (&mcp.attributes["mcp_server"], &mcp.attributes["mcp_tool"]),
        (&json!("github"), &json!("get_file_contents"))
    );
    assert_eq!(
        p.span("run_shell_command_1755681302310_0").status,
        SpanStatus::Error,
        "cancelled"
    );
    assert_eq!(
        p.span("codebase_investigator_1755681280010_0").attributes["subagent_run_id"],
        json!(GEMINI_SUB)
    );
    assert_eq!(
        p.span("rewind-L12").attributes["rewind_to"],
        json!("5f0e9a4c-1111-4a2b-8c3d-000000000004")
    );
    assert_eq!(
        p.span("5f0e9a4c-1111-4a2b-8c3d-000000000006").status,
        SpanStatus::Error
    );
    assert_eq!(
        p.span("5f0e9a4c-1111-4a2b-8c3d-000000000005").kind,
        SpanKind::Message
    );
    check_tree(&p);
}

#[test]
fn copilot_session_state() {
    let p = parse("copilot-cli/copilot_stage0_small_excerpt.jsonl");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.formats, vec![Format::CopilotCli]);
    let run = &p.runs["copilot_stage0_small"];
    assert_eq!(p.runs.len(), 1);
    assert_eq!(run.title.as_deref(), Some("List the files"));
    assert_eq!(run.cwd.as_deref(), Some("/tmp/repo"));
    assert_eq!(run.started_ms, Some(1_766_093_524_182));
    assert_eq!(
        ids(&p, "copilot_stage0_small"),
        ["call-1", "e16", "e3", "e4", "e5", "e6", "e7", "m-1", "m-1:text", "m-2", "m-2:text"]
    );
    assert_eq!(p.count(SpanKind::Llm), 2);
    assert_eq!(p.span("m-1").model.as_deref(), Some("gpt-5-mini"));
    assert_eq!(p.span("m-1").parent_id.as_deref(), Some("e7"));
    assert_eq!(p.tokens("copilot_stage0_small"), (0, 15));
    let shell = p.span("call-1");
    assert_eq!(shell.tool_name.as_deref(), Some("shell"));
    assert_eq!(shell.tool_input.as_deref(), Some(r#"{"command":"ls"}"#));
    assert_eq!(shell.tool_output.as_deref(), Some("a.txt\nb.txt\n"));
    assert_eq!(
        (shell.status, shell.duration_ms()),
        (SpanStatus::Ok, Some(1000))
    );
    assert_eq!(shell.parent_id.as_deref(), Some("m-1"));
    assert_eq!(p.span("e4").status, SpanStatus::Error);
    assert_eq!(p.span("e16").name, "shutdown");
    check_tree(&p);

    let p = parse("copilot-cli/aaaabbbb-1111-2222-3333-ccccddddeeee/events.jsonl");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let id = "aaaabbbb-1111-2222-3333-ccccddddeeee";
    assert_eq!(p.runs[id].cwd.as_deref(), Some("/tmp/project"));
    assert_eq!(p.tools(), ["bash"]);
    assert_eq!(p.tokens(id), (0, 26));
    assert_eq!(
        p.span("call_1").tool_output.as_deref(),
        Some("file1\nfile2\n")
    );
}

const COPILOT: &str = "3f6d2b1a-8c4e-4f5a-9b7c-2d1e0f3a4b5c";

#[test]
fn copilot_subagent_mcp_and_shutdown_usage() {
    let p = parse(&format!("copilot-cli/{COPILOT}/events.jsonl"));
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let child = format!("{COPILOT}/agent-toolu_vrtx_02");
    assert_eq!(p.runs.keys().collect::<Vec<_>>(), [COPILOT, child.as_str()]);
    let sub = &p.runs[&child];
    assert_eq!(sub.parent_run_id.as_deref(), Some(COPILOT));
    assert_eq!(sub.title.as_deref(), Some("Find route tests"));
    assert_eq!(p.runs[COPILOT].cwd.as_deref(), Some("/home/dev/shop"));
    assert_eq!(
        p.runs[COPILOT].title.as_deref(),
        Some("Add a health check endpoint and test it")
    );

    let statuses: Vec<(String, SpanStatus)> = p
        .of_kind(SpanKind::Tool)
        .iter()
        .map(|s| {
            (
                format!("{}:{}", s.run_id == COPILOT, s.tool_name.clone().unwrap()),
                s.status,
            )
        })
        .collect();
    assert_eq!(
        sorted(statuses.iter().map(|s| s.0.as_str()).collect()),
        [
            "false:bash",
            "true:create",
            "true:github-mcp-server-list_pull_requests",
            "true:task",
            "true:view"
        ]
    );
    assert!(statuses
        .iter()
        .all(|(n, st)| (*st == SpanStatus::Error) == n.ends_with("create")));
    let rejected = p.span("toolu_vrtx_04");
    assert_eq!(
        rejected.tool_output.as_deref(),
        Some("The user rejected this tool call.")
    );
    let mcp = p.span("toolu_vrtx_03");
    assert_eq!(mcp.attributes["mcp_server"], json!("github-mcp-server"));
    assert_eq!(mcp.attributes["mcp_tool"], json!("list_pull_requests"));
    assert_eq!(
        p.span("toolu_vrtx_02").attributes["subagent_run_id"],
        json!(child)
    );
    let inner = p.span("toolu_vrtx_s1");
    assert_eq!(
        (inner.run_id.as_str(), inner.parent_id.as_deref()),
        (child.as_str(), Some("m-sub-1"))
    );
    assert_eq!(p.span("m-sub-1").model.as_deref(), Some("claude-haiku-4.5"));
    // Output tokens per reply; the session's input tokens (cache included) on its shutdown.
    assert_eq!(p.tokens(COPILOT), (41200 + 2379, 88 + 140 + 12));
    assert_eq!(p.tokens(&child), (0, 31));
    assert_eq!(p.span("m-1:reasoning").name, "thinking");
    assert_eq!(
        p.span("00000015-0000-4000-8000-000000000000").status,
        SpanStatus::Error
    );
    check_tree(&p);
}

#[test]
fn opencode_storage_and_export() {
    let (p, errors) = parse_tree("opencode");
    // The two part files that name no session (see SOURCE.md) cost one error each.
    let bad: Vec<(&str, &FormatError)> = errors.iter().map(|(f, e)| (f.as_str(), e)).collect();
    assert_eq!(
        bad,
        [
            (
                "opencode/storage/part/m_assistant_small/002.json",
                &FormatError::NotATrace
            ),
            (
                "opencode/storage/part/m_user_small/001.json",
                &FormatError::NotATrace
            ),
        ]
    );
    let main = "ses_5d2c7a1e9ffeK3b1Q8nW4xYzA2";
    let child = "ses_5d2c7a0b3ffeP9r6T2mV7kLq1S";
    assert_eq!(p.runs.len(), 4);
    assert_eq!(p.runs[main].title.as_deref(), Some("Add a health endpoint"));
    assert_eq!(p.runs[main].cwd.as_deref(), Some("/home/dev/api"));
    assert_eq!(
        (p.runs[main].started_ms, p.runs[main].ended_ms),
        (Some(1_755_702_000_000), Some(1_755_702_060_000))
    );
    assert_eq!(p.runs[child].parent_run_id.as_deref(), Some(main));
    assert_eq!(
        p.runs["s_stage0_large"].title.as_deref(),
        Some("OpenCode Large")
    );

    let llm = p.span("msg_a2d3e4f50002");
    assert_eq!(llm.model.as_deref(), Some("anthropic/claude-sonnet-4-5"));
    assert_eq!(
        (llm.input_tokens, llm.output_tokens),
        (Some(1200 + 9800 + 1500), Some(350))
    );
    assert_eq!(llm.parent_id.as_deref(), Some("msg_a2d3e4f50001"));
    assert_eq!(llm.duration_ms(), Some(38_500));
    assert_eq!(p.tokens(main), (12500, 350));
    assert_eq!(p.tokens(child), (800, 45));
    assert_eq!(
        ids(&p, main),
        [
            "msg_a2d3e4f50001",
            "msg_a2d3e4f50002",
            "prt_a2d3e4f60001",
            "prt_a2d3e4f60003",
            "prt_a2d3e4f60004",
            "prt_a2d3e4f60005",
            "prt_a2d3e4f60006",
            "prt_a2d3e4f60007",
            "prt_a2d3e4f60008"
        ]
    );
    let tools: Vec<(&str, SpanStatus)> = p
        .of_kind(SpanKind::Tool)
        .iter()
        .filter(|s| s.run_id == main)
        .map(|s| (s.tool_name.as_deref().unwrap(), s.status))
        .collect();
    assert_eq!(
        tools,
        [
            ("read", SpanStatus::Ok),
            ("task", SpanStatus::Ok),
            ("webfetch", SpanStatus::Error),
            ("bash", SpanStatus::Ok)
        ]
    );
    let task = p.span("prt_a2d3e4f60005");
    assert_eq!(task.attributes["subagent_run_id"], json!(child));
    assert_eq!(task.tool_call_id.as_deref(), Some("toolu_01Cd"));
    assert_eq!(task.duration_ms(), Some(15_000));
    assert_eq!(
        p.span("prt_a2d3e4f60006").tool_output.as_deref(),
        Some("Request failed with status code: 403")
    );
    assert_eq!(p.span("prt_a2d3e4f60003").name, "thinking");
    assert_eq!(
        p.span("prt_a2d3e4f60001").text.as_deref(),
        Some("Add a /health endpoint and run the tests")
    );

    // The viewer's storage fixture: an aborted reply is an error; events for files, patches, compaction.
    assert_eq!(p.span("m_assistant_large_1").status, SpanStatus::Error);
    assert_eq!(
        p.span("m_assistant_large_1").model.as_deref(),
        Some("openai/gpt-4o-mini")
    );
    assert_eq!(
        p.span("p_tool_large_1").parent_id.as_deref(),
        Some("m_assistant_large_1")
    );
    let events = sorted(
        p.of_kind(SpanKind::Event)
            .iter()
            .map(|s| s.name.as_str())
            .collect(),
    );
    assert_eq!(events, ["compaction", "file", "patch"]);
    assert_eq!(p.count(SpanKind::Llm), 5);
    check_tree(&p);
}

const CLINE: &str = "1755700000000";
const ROO: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

#[test]
fn cline_task_native_tools_and_ui_usage() {
    let (p, errors) = parse_tree("cline/saoudrizwan.claude-dev/tasks/1755700000000");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(p.formats, vec![Format::Cline]);
    let run = &p.runs[CLINE];
    assert_eq!(run.agent, Some(skilltrace::model::AgentKind::Cline));
    assert_eq!(run.title.as_deref(), Some("Check why the site build fails"));
    assert_eq!(run.cwd.as_deref(), Some("/home/dev/site"));
    assert_eq!(
        (run.started_ms, run.ended_ms),
        (Some(1_755_700_000_000), Some(1_755_700_016_100))
    );

    let tools: Vec<(&str, SpanStatus)> = p
        .of_kind(SpanKind::Tool)
        .iter()
        .map(|s| (s.tool_name.as_deref().unwrap(), s.status))
        .collect();
    assert_eq!(
        sorted(tools.iter().map(|t| t.0).collect()),
        ["attempt_completion", "execute_command", "use_mcp_tool"]
    );
    let cmd = p.span("toolu_01Kx");
    assert_eq!(
        cmd.tool_input.as_deref(),
        Some(r#"{"command":"npm run build","requires_approval":false}"#)
    );
    assert_eq!(
        cmd.tool_output.as_deref(),
        Some("Command executed.\nOutput:\nError: Cannot find module 'vite'")
    );
    assert_eq!(
        (cmd.status, cmd.duration_ms()),
        (SpanStatus::Ok, Some(4800))
    );
    assert_eq!(cmd.parent_id.as_deref(), Some("1755700000000:m1"));
    let mcp = p.span("toolu_02Mc");
    assert_eq!(mcp.status, SpanStatus::Error);
    assert_eq!(
        mcp.tool_input.as_deref(),
        Some(r#"{"q":"vite missing repo:acme/site"}"#)
    );
    assert_eq!(mcp.attributes["mcp_server"], json!("github"));
    assert_eq!(p.span("toolu_03Ds").status, SpanStatus::Unset);

    // One llm span per API request, from the UI log, with the usage counted once.
    let llm = p.of_kind(SpanKind::Llm);
    assert_eq!(llm.len(), 3);
    assert!(llm
        .iter()
        .all(|s| s.model.as_deref() == Some("claude-sonnet-4-5")));
    assert_eq!(p.tokens(CLINE), (12040 + 12400 + 12600, 61 + 70 + 40));
    assert_eq!(
        p.span("1755700000000:req1755700000150").end_ms,
        Some(1_755_700_004_200)
    );
    assert_eq!(
        p.span("1755700000000:ui1755700013000").status,
        SpanStatus::Error
    );
    let reply = p.span("1755700000000:m1");
    assert_eq!(
        (reply.kind, reply.model.as_deref()),
        (SpanKind::Message, Some("claude-sonnet-4-5"))
    );
    assert_eq!(p.span("1755700000000:m3:t0").name, "thinking");
    assert_eq!(
        p.span("1755700000000:m2").parent_id.as_deref(),
        Some("1755700000000:m0")
    );
    check_tree(&p);
}

#[test]
fn roo_task_xml_tools_and_finish_usage() {
    let (p, errors) = parse_tree("cline/rooveterinaryinc.roo-cline");
    assert!(errors.is_empty(), "{errors:?}");
    let run = &p.runs[ROO];
    assert_eq!(run.agent, Some(skilltrace::model::AgentKind::RooCode));
    assert_eq!(
        run.title.as_deref(),
        Some("Summarise the release notes page into RELEASE.md")
    );
    assert_eq!(run.cwd.as_deref(), Some("/home/dev/notes"));
    let tools: Vec<(String, &str, SpanStatus)> = p
        .of_kind(SpanKind::Tool)
        .iter()
        .map(|s| (s.id.clone(), s.tool_name.as_deref().unwrap(), s.status))
        .collect();
    assert_eq!(
        tools,
        [
            (format!("{ROO}:m1:x0.0"), "browser_action", SpanStatus::Ok),
            (format!("{ROO}:m3:x0.0"), "read_file", SpanStatus::Ok),
            (format!("{ROO}:m5:x0.0"), "write_to_file", SpanStatus::Error),
        ]
    );
    let browse = p.span(&format!("{ROO}:m1:x0.0"));
    assert_eq!(
        browse.tool_input.as_deref(),
        Some(r#"{"action":"launch","url":"https://example.org/releases"}"#)
    );
    assert!(p
        .span(&format!("{ROO}:m3:x0.0"))
        .tool_output
        .as_deref()
        .unwrap()
        .contains("2 | Release 1.2"));
    assert_eq!(p.count(SpanKind::Llm), 3);
    assert_eq!(
        p.tokens(ROO),
        (9100 + 9000 + 120 + 9000 + 200 + 9100, 52 + 30 + 61)
    );
    check_tree(&p);
}

/// Wrong types inside each format's records: the record (or the message) is
/// refused with a typed error and every good record around it is kept.
#[test]
fn wrong_types_keep_the_good_records() {
    // Gemini document: two bad messages among good ones → one error for the file.
    let doc = json!({"sessionId":"s","projectHash":"h","messages":[
        {"id":"u1","timestamp":"2026-01-01T00:00:00Z","type":"user","content":"hello"},
        {"id":["not","a","string"],"type":"user","content":"x"},
        {"id":"g1","timestamp":"2026-01-01T00:00:01Z","type":"gemini","content":"hi","tokens":{"input":"12","output":3}},
        42,
        {"id":"g2","timestamp":"2026-01-01T00:00:02Z","type":"gemini","content":"","toolCalls":[{"id":"c1","name":"read_file","args":{"file_path":"/etc/hosts"},"status":"success","result":"ok"}]}
    ]});
    let mut fp = FileParser::new("s.json", None);
    let mut out = Vec::new();
    let err = fp
        .document(doc.to_string().as_bytes(), &mut out)
        .unwrap_err();
    assert!(
        err.to_string().contains("2 of 5 messages unreadable"),
        "{err}"
    );
    let p = parse_support::collect(out, vec![], fp.formats());
    assert_eq!(ids(&p, "s"), ["c1", "g1", "g1:text", "g2", "u1"]);
    assert_eq!(
        p.span("g1").input_tokens,
        Some(0),
        "a string count is not a count"
    );
    assert_eq!(p.span("c1").tool_output.as_deref(), Some("ok"));

    // Copilot lines: a wrong-typed event fails alone.
    let lines = [
        r#"{"type":"session.start","data":{"sessionId":"S"},"id":"e1","timestamp":"2026-01-01T00:00:00Z"}"#,
        r#"{"type":"user.message","data":"not an object","id":"e2"}"#,
        r#"{"type":"assistant.message","data":{"messageId":"m1","content":"x","toolRequests":7},"id":"e3"}"#,
        r#"{"type":"tool.execution_complete","data":{"success":true},"id":"e4"}"#,
        r#"{"type":"user.message","data":{"content":"still here"},"id":"e5","timestamp":"2026-01-01T00:00:05Z"}"#,
    ]
    .join("\n");
    let p = parse_lines("S/events.jsonl", lines.as_bytes());
    let lines_in_error: Vec<u64> = p.errors.iter().map(|(n, _)| *n).collect();
    assert_eq!(lines_in_error, [2, 3, 4]);
    assert!(p
        .errors
        .iter()
        .all(|(_, e)| matches!(e, FormatError::Shape(_))));
    assert_eq!(ids(&p, "S"), ["e5", "m1", "m1:text"]);

    // Cline history: a message whose content is a number is skipped, the rest stand.
    let hist = json!([
        {"role":"user","content":"<task>\ndo it\n</task>"},
        {"role":"assistant","content":42},
        {"role":"robot","content":"x"},
        {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"read_file","input":{"path":"a"}}]}
    ]);
    let mut fp = FileParser::new("tasks/T/api_conversation_history.json", None);
    let mut out = Vec::new();
    let err = fp
        .document(hist.to_string().as_bytes(), &mut out)
        .unwrap_err();
    assert!(
        err.to_string().contains("2 of 4 messages unreadable"),
        "{err}"
    );
    let p = parse_support::collect(out, vec![], fp.formats());
    // With no UI log beside it, the reply is a request of its own.
    assert_eq!(ids(&p, "T"), ["T:m0", "T:m3", "T:m3:llm", "t1"]);
    assert_eq!(p.runs["T"].title.as_deref(), Some("do it"));

    // OpenCode: a part whose state is not an object is refused; a message of an unknown role too.
    let mut fp = FileParser::new("part/m/p.json", None);
    let mut out = Vec::new();
    let bad = json!({"id":"p","sessionID":"s","messageID":"m","type":"tool","tool":"bash","state":"done"});
    assert!(matches!(
        fp.document(bad.to_string().as_bytes(), &mut out),
        Err(FormatError::Shape(_))
    ));
}
