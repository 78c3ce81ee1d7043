//! Unit tests of the Gemini CLI parser.

use super::*;
use serde_json::json;

fn parse(lines: &[serde_json::Value], path: &str) -> (Vec<Record>, Vec<FormatError>) {
    let mut p = GeminiParser::default();
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let o = Origin::new(path, i as u64 + 1);
        if let Err(e) = p.value(&Value::from(l.clone()), &o, &mut out) {
            errs.push(e);
        }
    }
    (out, errs)
}

use super::super::test_support::spans;

#[test]
fn mcp_names_split_at_the_servers_end() {
    assert_eq!(
        mcp_name("mcp_my_server_read_text_file", Some("read_text_file")),
        Some(("my_server", "read_text_file"))
    );
    assert_eq!(mcp_name("mcp_fs_read", None), Some(("fs", "read")));
    assert_eq!(
        mcp_name("github__create_issue", None),
        Some(("github", "create_issue"))
    );
    assert_eq!(mcp_name("read_file", Some("ReadFile")), None);
}

#[test]
fn a_tool_call_without_an_id_is_kept_under_a_stable_id() {
    let reply = json!({"id":"a1","timestamp":"2024-01-01T10:00:05Z","type":"gemini","content":"Let me read it.","model":"gemini-2.5-pro",
        "toolCalls":[{"name":"read_file","args":{"file_path":"main.go"},"status":"success"},{"args":{}}]});
    let header = json!({"sessionId":"s","projectHash":"h","startTime":"2024-01-01T10:00:00Z"});
    // Written twice, as Gemini CLI re-appends a message when its calls complete.
    let (out, errs) = parse(&[header, reply.clone(), reply], "/h/chats/session-x.jsonl");
    let tools: Vec<_> = spans(&out)
        .into_iter()
        .filter(|s| s.kind == SpanKind::Tool)
        .collect();
    assert_eq!(tools.len(), 2, "{tools:?}");
    assert!(tools.iter().all(|t| t.id == "a1:tool1"));
    assert_eq!(tools[0].tool_name.as_deref(), Some("read_file"));
    assert_eq!(tools[0].status, SpanStatus::Ok);
    // The nameless call is still reported, once per writing.
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].to_string().contains("tool call 2 has no name"));
}

#[test]
fn subagent_log_links_its_parent_and_a_rewind_is_an_event() {
    let (out, errs) = parse(
        &[
            json!({"sessionId":"child","projectHash":"h","startTime":"2026-04-29T21:39:22Z","kind":"subagent","directories":["/w"]}),
            json!({"id":"u1","timestamp":"2026-04-29T21:39:23Z","type":"user","content":[{"text":"look around"}]}),
            json!({"$rewindTo":"u1"}),
        ],
        "/h/.gemini/tmp/p/chats/parent-1/child.jsonl",
    );
    assert!(errs.is_empty(), "{errs:?}");
    let runs = super::super::test_support::runs(&out);
    assert!(runs
        .iter()
        .any(|r| r.parent_run_id.as_deref() == Some("parent-1") && r.cwd.as_deref() == Some("/w")));
    assert!(runs
        .iter()
        .any(|r| r.title.as_deref() == Some("look around")));
    let s = spans(&out);
    assert_eq!(s[1].id, "rewind-L3");
    assert_eq!(s[1].attributes["rewind_to"], json!("u1"));
}

#[test]
fn cached_prompt_tokens_are_cache_reads_within_the_input() {
    let (out, errs) = parse(
        &[
            json!({"sessionId":"s","projectHash":"h","startTime":"2026-04-29T21:39:22Z"}),
            json!({"id":"g1","timestamp":"2026-04-29T21:39:25Z","type":"gemini","content":"ok","model":"gemini-2.5-pro",
                "tokens":{"input":12000,"output":100,"cached":8000,"thoughts":50,"tool":0,"total":12150}}),
        ],
        "/h/.gemini/tmp/p/chats/session-1.jsonl",
    );
    assert!(errs.is_empty(), "{errs:?}");
    let llm = spans(&out)
        .into_iter()
        .find(|s| s.kind == SpanKind::Llm)
        .expect("llm span");
    let u = crate::usage::Usage::of(llm).expect("usage");
    assert_eq!(
        (u.input, u.cache_read, u.cache_write, u.output),
        (12000, 8000, 0, 150)
    );
}

#[test]
fn bad_messages_cost_only_themselves() {
    let (out, errs) = parse(
        &[json!({"sessionId":"s","projectHash":"h","messages":[
            {"id":"u1","timestamp":"2026-01-01T00:00:00Z","type":"user","content":"hi"},
            {"id":7,"type":"user"},
            "nonsense",
            {"id":"g1","timestamp":"2026-01-01T00:00:01Z","type":"gemini","content":"ok","toolCalls":"x"},
            {"id":"g2","timestamp":"2026-01-01T00:00:02Z","type":"gemini","content":"","toolCalls":[{"id":"c1","name":"read_file","args":{"file_path":"a"},"status":"error"}]}
        ]})],
        "s.json",
    );
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].to_string().contains("3 of 5 messages"),
        "{}",
        errs[0]
    );
    let s = spans(&out);
    let ids: Vec<&str> = s.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["u1", "g1", "g1:text", "g2", "c1"]);
    assert_eq!(s[4].status, SpanStatus::Error);
}

#[test]
fn the_prompt_log_titles_runs_and_a_checkpoint_yields_nothing() {
    let mut p = GeminiParser::default();
    let mut out = Vec::new();
    let log = json!([
        {"sessionId":"s1","messageId":0,"type":"user","message":"/help","timestamp":"2026-01-01T00:00:00Z"},
        {"sessionId":"s1","messageId":1,"type":"user","message":"fix the build","timestamp":"2026-01-01T00:00:05Z"},
        {"messageId":2,"type":"user","message":"lost"}
    ]);
    let o = Origin::new("logs.json", 1);
    let err = p.document(&Value::from(log), &o, &mut out).unwrap_err();
    assert!(err.to_string().contains("1 of 3 log entries"), "{err}");
    let titled: Vec<_> = out
        .iter()
        .filter_map(|r| match r {
            Record::Run(r) => r.title.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(titled, ["fix the build"]);
    assert!(spans(&out).is_empty());
    let mut out = Vec::new();
    let saved =
        json!([{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":"yo"}]}]);
    assert!(p.document(&Value::from(saved), &o, &mut out).is_ok());
    assert!(out.is_empty());
}

/// Gemini CLI's generated session summary (the session browser's title) names
/// the run over its first prompt: in a document's top level (real sessions of
/// `mischa-thisness/M-Gemini`, CC0), a log's header, or a later `$set`.
#[test]
fn the_session_summary_is_a_generated_title() {
    let generated = |out: &[Record]| -> Vec<(String, TitleKind)> {
        super::super::test_support::runs(out)
            .into_iter()
            .filter_map(|r| r.title.clone().map(|t| (t, r.title_kind)))
            .collect()
    };
    let prompt = json!({"id":"u1","timestamp":"2026-01-01T07:15:13Z","type":"user","content":"kill the battery applet"});
    let doc = json!({"sessionId":"s","projectHash":"h","startTime":"2026-01-01T07:15:13Z",
        "summary":"Remove the large battery applet from the screen.","messages":[prompt.clone()]});
    let (out, errs) = parse(&[doc], "/h/chats/session-s.json");
    assert!(errs.is_empty(), "{errs:?}");
    let titles = generated(&out);
    assert!(
        titles.contains(&(
            "Remove the large battery applet from the screen.".into(),
            TitleKind::Generated
        )),
        "{titles:?}"
    );
    let header = json!({"sessionId":"s","projectHash":"h","startTime":"2026-01-01T07:15:13Z"});
    let set = json!({"$set":{"summary":"Restore the battery indicator"}});
    let (out, _) = parse(&[header, prompt, set], "/h/chats/session-s.jsonl");
    assert_eq!(
        generated(&out).last(),
        Some(&("Restore the battery indicator".into(), TitleKind::Generated))
    );
    // no summary: the prompt alone names it
    assert!(generated(&out)[..generated(&out).len() - 1]
        .iter()
        .all(|(_, k)| *k == TitleKind::Prompt));
}
