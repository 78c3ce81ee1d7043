//! A real Cline task followed while its folder fills: the conversation alone
//! first (its requests read from the messages' `metrics`), `ui_messages.json`
//! later. The UI log's requests then replace the conversation's: the task's
//! requests, tokens and cost are counted once, as importing the whole folder
//! gives, and the conversation's request spans stay stored, marked superseded.
#![allow(clippy::unwrap_used)]

use crate::common;

use skilltrace::model::SpanKind;
use skilltrace::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

const TASK: &str = "1769064454592";

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats/cline/saoudrizwan.claude-dev/tasks")
        .join(TASK)
}

/// The task's (llm spans, superseded spans, input tokens, output tokens, span count).
fn requests(db: &Path) -> (usize, usize, u64, u64, u64) {
    let s = Store::open_read(db).unwrap();
    let Some(run) = s.run(TASK).unwrap() else {
        return (0, 0, 0, 0, 0);
    };
    let spans = s.spans(TASK, 0, 10_000).unwrap();
    let llm = spans
        .iter()
        .filter(|r| r.span.kind == SpanKind::Llm)
        .count();
    let superseded = spans
        .iter()
        .filter(|r| {
            r.span.attributes.get(skilltrace::model::SUPERSEDED_BY)
                == Some(&"ui_messages.json".into())
        })
        .count();
    (
        llm,
        superseded,
        run.input_tokens,
        run.output_tokens,
        run.span_count,
    )
}

fn wait(db: &Path, what: &str, f: impl Fn((usize, usize, u64, u64, u64)) -> bool) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if db.exists() && f(requests(db)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}: {:?}", requests(db));
}

#[test]
fn a_ui_log_that_comes_later_replaces_the_conversations_requests() {
    let t = tempfile::tempdir().unwrap();
    // The whole folder imported at once: what the task holds.
    let whole = t.path().join("whole.db");
    common::ok(
        common::bin()
            .arg("import")
            .arg(fixture())
            .arg("--db")
            .arg(&whole),
    );
    let want = requests(&whole);
    assert!(want.0 >= 2 && want.2 > 0 && want.3 > 0, "{want:?}");
    assert_eq!(want.1, 0, "{want:?}");

    let root = t.path().join("tasks");
    let task = root.join(TASK);
    std::fs::create_dir_all(&task).unwrap();
    std::fs::copy(
        fixture().join("api_conversation_history.json"),
        task.join("api_conversation_history.json"),
    )
    .unwrap();
    let db = t.path().join("tail.db");
    let (stop, th) = common::spawn_tail(vec![root.clone()], &db);
    // The conversation alone: its two replies are the requests.
    wait(&db, "the conversation's requests", |r| r.0 == 2 && r.2 > 0);
    let alone = requests(&db);

    std::fs::copy(
        fixture().join("ui_messages.json"),
        task.join("ui_messages.json"),
    )
    .unwrap();
    wait(&db, "the UI log's requests", |r| r.0 == want.0 && r.1 == 2);
    stop.stop();
    th.join().unwrap();
    let (llm, superseded, tin, tout, spans) = requests(&db);
    // Counted once, as the whole folder: the same requests, tokens.
    assert_eq!((llm, tin, tout), (want.0, want.2, want.3));
    // The conversation's two request spans are kept (evidence), superseded.
    assert_eq!(superseded, 2);
    assert_eq!(spans, want.4 + 2, "alone {alone:?}");
    let s = Store::open_read(&db).unwrap();
    let old = s.span(TASK, &format!("{TASK}:m1:llm")).unwrap().unwrap();
    assert_eq!(old.kind, SpanKind::Event);
    assert_eq!((old.input_tokens, old.output_tokens), (Some(0), Some(0)));
    assert!(!old.attributes.contains_key("cost"), "{:?}", old.attributes);
}
