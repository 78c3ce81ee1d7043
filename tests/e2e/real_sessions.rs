//! Real third-party sessions imported by the binary as a user would: exact
//! tool calls with their answers, models, tokens and cost, no parse error,
//! and no finding on honest work; and real agent folders whose bookkeeping
//! files (a Cline task's `task_metadata.json`, a Claude Code subagent's
//! `agent-*.meta.json`, OpenCode's `storage/project/*.json`) are passed over.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use serde_json::Value;
use std::path::{Path, PathBuf};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");

/// Imports `paths` into a new store; returns the store and the import's summary line.
pub(crate) fn import(dir: &Path, paths: &[PathBuf]) -> (PathBuf, String) {
    let db = dir.join("s.db");
    let out = ok(bin().arg("import").args(paths).arg("--db").arg(&db));
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (db, said)
}

/// The native JSON export: (runs, spans) as `{"run":…}` / `{"span":…, "cost":…}` records.
pub(crate) fn export(db: &Path) -> (Vec<Value>, Vec<Value>) {
    let out = ok(bin().args(["export", "--format", "json", "--db"]).arg(db));
    let (mut runs, mut spans) = (Vec::new(), Vec::new());
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        match v["type"].as_str() {
            Some("run") => runs.push(v),
            Some("span") => spans.push(v),
            _ => {}
        }
    }
    (runs, spans)
}

/// The final state of each tool call: (name, status, has output), by call id order.
pub(crate) fn tool_calls(spans: &[Value]) -> Vec<(String, String, bool)> {
    let mut calls: Vec<(String, String, String, bool)> = Vec::new();
    for s in spans.iter().map(|s| &s["span"]) {
        if s["kind"] != "tool" {
            continue;
        }
        let id = s["id"].as_str().unwrap().to_owned();
        let row = (
            id.clone(),
            s["tool_name"].as_str().unwrap_or("").to_owned(),
            s["status"].as_str().unwrap().to_owned(),
            s["tool_output"].is_string(),
        );
        match calls.iter_mut().find(|c| c.0 == id) {
            Some(c) => *c = row,
            None => calls.push(row),
        }
    }
    calls.into_iter().map(|c| (c.1, c.2, c.3)).collect()
}

/// The real Cline task's two requests (model, tokens in with the cache,
/// tokens out), priced from the shipped table at what Cline recorded.
fn assert_the_real_cline_requests(runs: &[Value], spans: &[Value]) {
    let llm: Vec<_> = spans
        .iter()
        .filter(|s| s["span"]["kind"] == "llm")
        .map(|s| {
            (
                s["span"]["model"].as_str().unwrap().to_owned(),
                s["span"]["input_tokens"].as_u64().unwrap(),
                s["span"]["output_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    let opus = "claude-opus-4-5-20251101".to_owned();
    assert_eq!(llm, vec![(opus.clone(), 8982, 814), (opus, 12436, 572)]);
    let usd = runs[0]["cost"]["usd"].as_f64().unwrap();
    assert!((usd - (0.076475 + 0.0404235)).abs() < 1e-8, "{usd}");
}

/// `gmfstu/Online-Card-Architecture`'s Cline task (see the fixture's SOURCE.md):
/// native tool calls answered by text blocks, three of them refused by the
/// extension, and the usage Cline itself priced at $0.1168985.
#[test]
fn a_real_cline_task_imports_exactly() {
    let t = tempfile::tempdir().unwrap();
    let task = Path::new(FIX).join("cline/saoudrizwan.claude-dev/tasks/1769064454592");
    assert!(task.join("task_metadata.json").is_file());
    let (db, said) = import(t.path(), &[task]);
    assert!(said.contains("imported 2 files"), "{said}");
    assert!(said.contains(" 0 parse errors"), "{said}");
    assert!(said.contains(" 0 new findings"), "{said}");
    let (runs, spans) = export(&db);
    assert_eq!(runs.len(), 1);
    let run = &runs[0]["run"];
    assert_eq!(
        (
            run["id"].as_str(),
            run["agent"].as_str(),
            run["cwd"].as_str()
        ),
        (
            Some("1769064454592"),
            Some("cline"),
            Some("/workspaces/Online-Card-Architecture")
        )
    );
    let ok_read = |ok: bool| {
        (
            "read_file".to_owned(),
            if ok { "ok" } else { "error" }.to_owned(),
            true,
        )
    };
    assert_eq!(
        tool_calls(&spans),
        vec![
            ok_read(true),
            ok_read(false),
            ok_read(false),
            ok_read(false),
            ok_read(true)
        ]
    );
    assert_the_real_cline_requests(&runs, &spans);
}

/// The same real Cline task with only its conversation
/// (`api_conversation_history.json`, no `ui_messages.json`): the requests
/// come from the conversation's own `metrics`, with the same models, tokens
/// and cost as the UI log gives, and the same calls.
#[test]
fn a_real_cline_conversation_without_its_ui_log_still_has_its_requests() {
    let t = tempfile::tempdir().unwrap();
    let src = Path::new(FIX).join("cline/saoudrizwan.claude-dev/tasks/1769064454592");
    let task = t.path().join("tasks/1769064454592");
    std::fs::create_dir_all(&task).unwrap();
    for f in ["api_conversation_history.json", "task_metadata.json"] {
        std::fs::copy(src.join(f), task.join(f)).unwrap();
    }
    let (db, said) = import(t.path(), &[task]);
    assert!(said.contains("imported 1 file"), "{said}");
    assert!(said.contains(" 0 parse errors"), "{said}");
    assert!(said.contains(" 0 new findings"), "{said}");
    let (runs, spans) = export(&db);
    assert_eq!(runs.len(), 1);
    assert_eq!(tool_calls(&spans).len(), 5);
    assert_the_real_cline_requests(&runs, &spans);
}

/// Bookkeeping files of real agent folders are skipped when a folder is walked,
/// and still read (one clear error) when named on the command line.
#[test]
fn agent_bookkeeping_files_in_a_folder_are_no_parse_errors() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let files = [
        (
            ".claude/projects/-w/0a1b/subagents/agent-a0ad4f.meta.json",
            r#"{"agentType":"general-purpose","spawnDepth":1}"#,
        ),
        (
            ".claude/projects/-w/0a1b.jsonl",
            concat!(
                r#"{"type":"permission-mode","permissionMode":"default","sessionId":"0a1b"}"#,
                "\n",
                r#"{"type":"user","sessionId":"0a1b","uuid":"u1","timestamp":"2026-07-01T00:00:00Z","cwd":"/w","message":{"role":"user","content":"hi"}}"#,
                "\n",
                r#"{"type":"ai-title","aiTitle":"Say hi","sessionId":"0a1b"}"#,
                "\n"
            ),
        ),
        (
            ".local/share/opencode/storage/project/4b0ea6.json",
            r#"{"id":"4b0ea6","worktree":"/w","vcs":"git","time":{"created":1}}"#,
        ),
        (
            ".local/share/opencode/storage/session_diff/ses_1.json",
            "[]",
        ),
    ];
    for (rel, body) in files {
        let p = home.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
    }
    let (_, said) = import(t.path(), std::slice::from_ref(&home));
    assert!(said.contains("imported 1 file"), "{said}");
    assert!(said.contains(" 0 parse errors"), "{said}");
    let t2 = tempfile::tempdir().unwrap();
    let meta = home.join(files[0].0);
    let (_, said) = import(t2.path(), &[meta]);
    assert!(said.contains(" 1 parse errors"), "{said}");
}

/// The run title of the real Claude Code 2.1.39 session (`marot/spotter`, see
/// the fixture's SOURCE.md) as the session grows: its first prompt, then the
/// `ai-title` Claude Code appends (three fields, no timestamp, regenerated as
/// the talk goes on: the latest wins), then a `/rename` (`custom-title`),
/// which a later `ai-title` does not replace. `runs` and the export agree.
#[test]
fn claude_code_custom_and_ai_titles_name_the_run() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("4d5611e5-241a-462a-8d15-5122611a9569.jsonl");
    std::fs::copy(
        Path::new(FIX).join("claude-code/session_excerpt.jsonl"),
        &file,
    )
    .unwrap();
    let sid = "4d5611e5-241a-462a-8d15-5122611a9569";
    let title = |db: &Path| {
        let out = ok(bin().args(["runs", "--format", "json", "--db"]).arg(db));
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let listed = listed
            .as_array()
            .and_then(|a| a.iter().find(|r| r["id"] == sid))
            .map(|r| r["title"].as_str().unwrap_or("").to_owned());
        let (runs, _) = export(db);
        let exported = runs
            .iter()
            .find(|r| r["run"]["id"] == sid)
            .map(|r| r["run"]["title"].as_str().unwrap_or("").to_owned());
        assert_eq!(listed, exported, "runs and export agree");
        exported.unwrap()
    };
    let (db, said) = import(t.path(), std::slice::from_ref(&file));
    assert!(said.contains(" 0 parse errors"), "{said}");
    let first = title(&db);
    assert!(first.starts_with("Work on bead spotter-dov"), "{first}");
    let steps = [
        (
            r#"{"type":"ai-title","aiTitle":"Spotter transcript parsing","sessionId":"SID"}"#,
            "Spotter transcript parsing",
        ),
        (
            r#"{"type":"ai-title","aiTitle":"Fix spotter parser race","sessionId":"SID"}"#,
            "Fix spotter parser race",
        ),
        (
            r#"{"type":"custom-title","customTitle":"parser work","sessionId":"SID"}"#,
            "parser work",
        ),
        (
            r#"{"type":"agent-name","agentName":"parser work","sessionId":"SID"}"#,
            "parser work",
        ),
        (
            r#"{"type":"ai-title","aiTitle":"A later generated title","sessionId":"SID"}"#,
            "parser work",
        ),
    ];
    for (line, want) in steps {
        common::append(&file, &format!("{}\n", line.replace("SID", sid)));
        let (_, said) = import(t.path(), std::slice::from_ref(&file));
        assert!(said.contains(" 0 parse errors"), "{said}");
        assert_eq!(title(&db), want, "after {line}");
    }
    // The same file read whole in one go gives the same title.
    let t2 = tempfile::tempdir().unwrap();
    let (db2, _) = import(t2.path(), &[file]);
    assert_eq!(title(&db2), "parser work");
}

/// A bookkeeping file the built-in list does not know is one parse error; the
/// config's `[[ingest.companions]]` adds it (import and scan walk past it),
/// and a bad entry is one line of error and exit 2.
#[test]
fn companion_files_extend_from_the_config() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let sessions = home.join(".acme/sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::write(sessions.join("state-1.json"), r#"{"window":{"w":80}}"#).unwrap();
    std::fs::copy(
        Path::new(FIX).join("claude-code/session_excerpt.jsonl"),
        sessions.join("s.jsonl"),
    )
    .unwrap();
    let (_, said) = import(t.path(), std::slice::from_ref(&home));
    assert!(said.contains("imported 2 files"), "{said}");
    assert!(said.contains(" 1 parse errors"), "{said}");

    let config = t.path().join("config.toml");
    std::fs::write(
        &config,
        "[ingest]\n[[ingest.companions]]\nagent = \"acme\"\nname = \"state-*.json\"\nparent = \"sessions\"\n",
    )
    .unwrap();
    let db = t.path().join("c.db");
    let out = ok(bin()
        .env("SKILLTRACE_CONFIG", &config)
        .arg("import")
        .arg(&home)
        .arg("--db")
        .arg(&db));
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("imported 1 file"), "{said}");
    assert!(said.contains(" 0 parse errors"), "{said}");
    let out = bin()
        .env("SKILLTRACE_CONFIG", &config)
        .args(["scan", "--fail-on", "critical"])
        .arg(&home)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("scanned 1 file") && said.contains(" 0 parse error"),
        "{said}"
    );

    std::fs::write(
        &config,
        "[[ingest.companions]]\nagent = \"acme\"\nname = \"a*b*.json\"\n",
    )
    .unwrap();
    let out = bin()
        .env("SKILLTRACE_CONFIG", &config)
        .arg("import")
        .arg(&home)
        .arg("--db")
        .arg(t.path().join("d.db"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ")
            && err.contains("[ingest] companions: entry 1")
            && err.contains("config.toml:1: "),
        "{err}"
    );
}

/// Excerpts of three real Gemini CLI sessions (`mischa-thisness/M-Gemini`,
/// CC0; see the fixture's SOURCE.md), each holding honest work that raised a
/// false finding before: a program's log written into Gemini CLI's project
/// temp folder (CMD-TRACE-004), a desktop process's environ file split and
/// grepped for display variables (ENV-TRACE-001), a README whose `ℹ️` heading
/// counted as a look-alike letter (PINJ-TRACE-001). Every call is answered,
/// every reply has its model and tokens, and the runs take the summaries
/// Gemini CLI generated for them over their first prompts.
#[test]
fn real_gemini_sessions_import_exactly_and_raise_nothing() {
    let t = tempfile::tempdir().unwrap();
    let dir = Path::new(FIX).join("gemini-cli/m-gemini");
    let (db, said) = import(t.path(), &[dir]);
    assert!(said.contains("imported 3 files"), "{said}");
    assert!(said.contains(" 49 new spans"), "{said}");
    assert!(said.contains(" 0 parse errors"), "{said}");
    assert!(said.contains(" 0 new findings"), "{said}");
    let (runs, spans) = export(&db);
    let runs: Vec<(&str, Option<&str>, Option<&str>)> = runs
        .iter()
        .map(|r| {
            (
                r["run"]["id"].as_str().unwrap(),
                r["run"]["title"].as_str(),
                r["run"]["title_kind"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        vec![
            ("ae691289-637c-454c-bf1e-e4ce2dad4260", None, None),
            (
                "cde4b8bf-5a48-4898-b733-712b4135309b",
                Some("Remove the large battery applet from the screen."),
                Some("generated")
            ),
            (
                "e71a8f00-ba32-4b91-af0d-4dec9739dc91",
                Some("Make CosmicTweaks accessible from Cosmic launcher."),
                Some("generated")
            ),
        ]
    );
    let of = |run: &str| -> Vec<Value> {
        spans
            .iter()
            .filter(|s| s["span"]["run_id"].as_str().unwrap().starts_with(run))
            .cloned()
            .collect()
    };
    let call = |name: &str| (name.to_owned(), "ok".to_owned(), true);
    let shell = || call("run_shell_command");
    assert_eq!(
        tool_calls(&of("ae691289")),
        vec![
            call("list_directory"),
            call("delegate_to_agent"),
            call("read_file"),
            call("read_file")
        ]
    );
    assert_eq!(tool_calls(&of("cde4b8bf")), vec![shell(); 5]);
    assert_eq!(
        tool_calls(&of("e71a8f00")),
        vec![shell(), shell(), call("read_file")]
    );
    let llm = |run: &str| -> Vec<(String, u64, u64)> {
        of(run)
            .iter()
            .map(|s| &s["span"])
            .filter(|s| s["kind"] == "llm")
            .map(|s| {
                (
                    s["model"].as_str().unwrap().to_owned(),
                    s["input_tokens"].as_u64().unwrap(),
                    s["output_tokens"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let flash = |i: u64, o: u64| ("gemini-3-flash-preview".to_owned(), i, o);
    let pro = |i: u64, o: u64| ("gemini-3-pro-preview".to_owned(), i, o);
    assert_eq!(
        llm("ae691289"),
        vec![
            flash(14184, 90),
            flash(14379, 232),
            flash(15222, 135),
            flash(15593, 77)
        ]
    );
    assert_eq!(
        llm("cde4b8bf"),
        vec![
            flash(10095, 149),
            flash(10259, 75),
            flash(10393, 69),
            flash(10522, 681),
            flash(10853, 105)
        ]
    );
    assert_eq!(
        llm("e71a8f00"),
        vec![pro(8170, 308), pro(8344, 159), pro(8501, 87)]
    );
}
