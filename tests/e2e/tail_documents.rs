//! The tailer following the new agents as they write: a Cline task whose two
//! JSON documents are rewritten whole as the task runs, an OpenCode part file
//! rewritten as its tool call completes, and a Copilot CLI log appended line
//! by line; each change lands once, with no parse error and nothing doubled.
#![allow(clippy::unwrap_used)]

use skilltrace::model::SpanStatus;
use skilltrace::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");

/// Polls the store until `f` holds (or 20 s pass).
fn wait(db: &Path, what: &str, f: impl Fn(&Store) -> bool) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if Store::open_read(db).ok().is_some_and(|s| f(&s)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

fn status(s: &Store, run: &str, id: &str) -> Option<SpanStatus> {
    s.span(run, id).ok().flatten().map(|x| x.status)
}

/// Replaces a file's content the way the agents do (write in place).
fn rewrite(p: &Path, bytes: &[u8]) {
    std::fs::write(p, bytes).unwrap();
}

#[test]
fn follows_documents_rewritten_in_place_and_logs_appended() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("agents");
    let db = t.path().join("s.db");
    // A Cline task: the history starts with the prompt and the first tool call.
    let task = root.join("tasks/1755700000000");
    std::fs::create_dir_all(&task).unwrap();
    let src = Path::new(FIX).join("cline/saoudrizwan.claude-dev/tasks/1755700000000");
    let hist: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(src.join("api_conversation_history.json")).unwrap())
            .unwrap();
    let ui = std::fs::read(src.join("ui_messages.json")).unwrap();
    let api = task.join("api_conversation_history.json");
    // As Cline writes them: the UI log is saved before each request, the
    // conversation after the reply (so the requests come from the UI log).
    rewrite(&task.join("ui_messages.json"), &ui);
    rewrite(&api, &serde_json::to_vec(&hist[..2]).unwrap());
    // A Copilot CLI log with its first three events.
    let log_src = std::fs::read_to_string(
        Path::new(FIX).join("copilot-cli/aaaabbbb-1111-2222-3333-ccccddddeeee/events.jsonl"),
    )
    .unwrap();
    let lines: Vec<&str> = log_src.lines().collect();
    let log = root.join("session-state/aaaabbbb-1111-2222-3333-ccccddddeeee/events.jsonl");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, lines[..3].join("\n") + "\n").unwrap();

    let (stop, th) = crate::common::spawn_tail(vec![root.clone()], &db);

    let run = "1755700000000";
    wait(&db, "the first tool call", |s| {
        status(s, run, "toolu_01Kx") == Some(SpanStatus::Unset)
    });
    wait(&db, "the Copilot prompt", |s| {
        s.span("aaaabbbb-1111-2222-3333-ccccddddeeee", "e2")
            .ok()
            .flatten()
            .is_some()
    });

    // The task goes on: the history is rewritten whole.
    std::thread::sleep(Duration::from_millis(50));
    rewrite(&api, &serde_json::to_vec(&hist).unwrap());
    wait(&db, "the tool result", |s| {
        status(s, run, "toolu_01Kx") == Some(SpanStatus::Ok)
    });
    wait(&db, "the API requests", |s| {
        s.span_count(run).unwrap_or(0) == 14
    });
    // The log grows line by line.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    use std::io::Write;
    f.write_all((lines[3..].join("\n") + "\n").as_bytes())
        .unwrap();
    drop(f);
    wait(&db, "the Copilot tool result", |s| {
        status(s, "aaaabbbb-1111-2222-3333-ccccddddeeee", "call_1") == Some(SpanStatus::Ok)
    });
    // An OpenCode part rewritten from running to completed updates one span.
    let part = root.join("part/msg_1/prt_1.json");
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    let running = serde_json::json!({"id":"prt_1","sessionID":"ses_1","messageID":"msg_1","type":"tool","callID":"c1","tool":"bash",
        "state":{"status":"running","input":{"command":"ls"},"time":{"start":1000}}});
    rewrite(
        &part,
        serde_json::to_string_pretty(&running).unwrap().as_bytes(),
    );
    wait(&db, "the running tool", |s| {
        status(s, "ses_1", "prt_1") == Some(SpanStatus::Unset)
    });
    let mut done = running.clone();
    done["state"] = serde_json::json!({"status":"completed","input":{"command":"ls"},"output":"a\n","time":{"start":1000,"end":1200}});
    rewrite(
        &part,
        serde_json::to_string_pretty(&done).unwrap().as_bytes(),
    );
    wait(&db, "the completed tool", |s| {
        status(s, "ses_1", "prt_1") == Some(SpanStatus::Ok)
    });

    stop.stop();
    th.join().unwrap();
    let s = Store::open_read(&db).unwrap();
    assert!(
        s.parse_errors(None, 10).unwrap().is_empty(),
        "{:?}",
        s.parse_errors(None, 10)
    );
    assert_eq!(
        s.span_count(run).unwrap(),
        14,
        "10 from the history, 4 from the UI log"
    );
    assert_eq!(
        s.span_count("aaaabbbb-1111-2222-3333-ccccddddeeee")
            .unwrap(),
        5
    );
    assert_eq!(s.span_count("ses_1").unwrap(), 1);
    let c = s.counts().unwrap();
    assert_eq!(c.runs, 3);
}
