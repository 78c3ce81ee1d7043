//! OpenCode 1.x's SQLite store (`opencode.db`) imported by the binary: the
//! same runs, spans, tool calls and tokens as the JSON `storage/` layout it
//! replaced (the fixture's rows are those JSON records, see its SOURCE.md),
//! nothing stored twice on a re-import, and a corrupt file is one line.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn db_fixture() -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/opencode_db/opencode.db")
}

fn import(store: &Path, paths: &[PathBuf]) -> String {
    let out = ok(bin().arg("import").args(paths).arg("--db").arg(store));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// What a store holds, keyed so two stores compare: runs (id → title, cwd,
/// parent) and spans (id → kind, name, parent, status, tool, model, tokens in/out).
type Runs = BTreeMap<String, (Value, Value, Value)>;
type Spans = BTreeMap<String, Vec<Value>>;

fn contents(store: &Path) -> (Runs, Spans) {
    let out = ok(bin()
        .args(["export", "--format", "json", "--db"])
        .arg(store));
    let (mut runs, mut spans) = (Runs::new(), Spans::new());
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        match v["type"].as_str() {
            Some("run") => {
                let r = &v["run"];
                runs.insert(
                    r["id"].as_str().unwrap().to_owned(),
                    (
                        r["title"].clone(),
                        r["cwd"].clone(),
                        r["parent_run_id"].clone(),
                    ),
                );
            }
            Some("span") => {
                let s = &v["span"];
                let key = ["kind", "name", "parent_id", "status", "tool_name", "model"];
                let mut row: Vec<Value> = key.iter().map(|k| s[*k].clone()).collect();
                row.push(s["input_tokens"].clone());
                row.push(s["output_tokens"].clone());
                row.push(s["tool_output"].is_string().into());
                let id = format!(
                    "{}/{}",
                    s["run_id"].as_str().unwrap(),
                    s["id"].as_str().unwrap()
                );
                spans.insert(id, row);
            }
            _ => {}
        }
    }
    (runs, spans)
}

#[test]
fn the_db_imports_as_the_json_storage_it_replaced() {
    let t = tempfile::tempdir().unwrap();
    let json_store = t.path().join("json.db");
    let said = import(
        &json_store,
        &[Path::new(ROOT).join("tests/fixtures/formats/opencode")],
    );
    // The two stage0 parts that name no session are not in the db (SOURCE.md).
    assert!(said.contains(" 2 parse errors"), "{said}");
    let db_store = t.path().join("db.db");
    let said = import(&db_store, &[db_fixture()]);
    assert!(said.contains("imported 1 file"), "{said}");
    assert!(said.contains(" 0 parse errors"), "{said}");
    assert!(said.contains("store now has 4 runs, 29 spans"), "{said}");

    let (json_runs, json_spans) = contents(&json_store);
    let (db_runs, db_spans) = contents(&db_store);
    assert_eq!(db_runs, json_runs);
    assert_eq!(db_spans, json_spans);
    // Exact figures, so a reader that dropped rows on both sides still fails.
    let kinds = |k: &str| db_spans.values().filter(|r| r[0] == k).count();
    assert_eq!(
        (
            kinds("llm"),
            kinds("tool"),
            kinds("message"),
            kinds("event")
        ),
        (5, 7, 14, 3),
        "{db_spans:#?}"
    );
    let main = "ses_5d2c7a1e9ffeK3b1Q8nW4xYzA2";
    let (tin, tout) = db_spans
        .iter()
        .filter(|(k, r)| k.starts_with(main) && r[0] == "llm")
        .fold((0, 0), |(i, o), (_, r)| {
            (
                i + r[6].as_u64().unwrap_or(0),
                o + r[7].as_u64().unwrap_or(0),
            )
        });
    assert_eq!((tin, tout), (12500, 350));
    assert_eq!(
        db_runs["ses_5d2c7a0b3ffeP9r6T2mV7kLq1S"].2,
        Value::from(main)
    );
}

#[test]
fn a_reimport_stores_nothing_twice_and_picks_up_new_rows() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("share/opencode");
    std::fs::create_dir_all(&home).unwrap();
    let db = home.join("opencode.db");
    std::fs::copy(db_fixture(), &db).unwrap();
    let store = t.path().join("s.db");
    // A folder holding the db finds it by name.
    let first = import(&store, std::slice::from_ref(&home));
    assert!(first.contains("imported 1 file"), "{first}");
    assert!(first.contains("29 new spans"), "{first}");
    let again = import(&store, std::slice::from_ref(&db));
    assert!(again.contains(" 0 new spans"), "{again}");
    assert!(again.contains("store now has 4 runs, 29 spans"), "{again}");
    let before = contents(&store).1;

    // OpenCode writes one more part (stamping `time_updated`): only it is new.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute(
        "INSERT INTO part VALUES ('prt_new', 'msg_a2d3e4f50002', 'ses_5d2c7a1e9ffeK3b1Q8nW4xYzA2', \
         1755702050000, 1755702090000, '{\"type\":\"text\",\"text\":\"done\"}')",
        [],
    )
    .unwrap();
    drop(c);
    let third = import(&store, std::slice::from_ref(&db));
    assert!(third.contains(" 1 new spans"), "{third}");
    assert!(third.contains("store now has 4 runs, 30 spans"), "{third}");
    let after = contents(&store).1;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.contains_key("ses_5d2c7a1e9ffeK3b1Q8nW4xYzA2/prt_new"));
}

#[test]
fn a_corrupt_db_is_one_line_and_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("opencode.db");
    std::fs::write(&db, b"SQLite format 3\0 but then nothing a database holds").unwrap();
    // (exit code, stderr) of importing `path` into a scratch store.
    let import = |path: &std::path::Path| {
        let out = bin()
            .arg("import")
            .arg(path)
            .arg("--db")
            .arg(t.path().join("s.db"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = import(&db);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("opencode.db: "), "{err}");

    // Some other SQLite file says it is not OpenCode's.
    let other = t.path().join("notes.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (x)")
        .unwrap();
    let (code, err) = import(&other);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.trim_end()
            .ends_with("notes.db: not an OpenCode database (no session, message and part tables)"),
        "{err}"
    );
}

fn wait(db: &Path, what: &str, f: impl Fn(&skilltrace::store::Store) -> bool) {
    let t = std::time::Instant::now();
    while t.elapsed() < std::time::Duration::from_secs(20) {
        if skilltrace::store::Store::open_read(db)
            .ok()
            .is_some_and(|s| f(&s))
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// `tail` follows a live store in WAL mode, as OpenCode runs it: a tool part
/// written running, then completed, is one span that ends `ok`.
#[test]
fn tail_follows_a_live_wal_store() {
    use skilltrace::model::SpanStatus;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("opencode");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("opencode.db");
    std::fs::copy(db_fixture(), &db).unwrap();
    let oc = rusqlite::Connection::open(&db).unwrap();
    oc.pragma_update(None, "journal_mode", "wal").unwrap();
    let store = t.path().join("s.db");
    let (stop, th) = common::spawn_tail(vec![dir.clone()], &store);
    let main = "ses_5d2c7a1e9ffeK3b1Q8nW4xYzA2";
    wait(&store, "the fixture's spans", |s| {
        s.counts().map(|c| c.spans).unwrap_or(0) == 29
    });
    let part = |status: &str, updated: i64| {
        let data = serde_json::json!({"type":"tool","callID":"c9","tool":"bash",
            "state":{"status":status,"input":{"command":"ls"},"output":"a\n","time":{"start":1_755_702_050_000_i64}}});
        oc.execute(
            "INSERT INTO part VALUES ('prt_live', 'msg_a2d3e4f50002', ?1, ?2, ?2, ?3) \
             ON CONFLICT(id) DO UPDATE SET data = excluded.data, time_updated = excluded.time_updated",
            rusqlite::params![main, updated, data.to_string()],
        )
        .unwrap();
    };
    part("running", 1_755_702_100_000);
    let status =
        |s: &skilltrace::store::Store| s.span(main, "prt_live").ok().flatten().map(|x| x.status);
    wait(&store, "the running tool", |s| {
        status(s) == Some(SpanStatus::Unset)
    });
    part("completed", 1_755_702_200_000);
    wait(&store, "the completed tool", |s| {
        status(s) == Some(SpanStatus::Ok)
    });
    stop.stop();
    th.join().unwrap();
    let s = skilltrace::store::Store::open_read(&store).unwrap();
    assert_eq!(s.counts().unwrap().spans, 30);
}

/// `tail` of a folder whose `opencode.db` is corrupt says so once on stderr
/// (`warning: <path>: <why>`), also after the file changes and rescans, and
/// keeps following the other sources.
#[test]
fn tail_says_once_that_a_corrupt_db_is_unreadable_and_follows_the_rest() {
    use std::io::BufRead;
    let t = tempfile::tempdir().unwrap();
    let oc = t.path().join("opencode");
    std::fs::create_dir_all(&oc).unwrap();
    let db = oc.join("opencode.db");
    std::fs::write(&db, b"SQLite format 3\0 but then nothing a database holds").unwrap();
    let cc = t.path().join("claude");
    std::fs::create_dir_all(&cc).unwrap();
    let store = t.path().join("s.db");
    let mut child = bin()
        .arg("tail")
        .arg(&oc)
        .arg(&cc)
        .arg("--db")
        .arg(&store)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        std::io::BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    // The other folder is followed: a trace written there is stored.
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::copy(
        Path::new(ROOT).join("tests/fixtures/formats/claude-code/session_excerpt.jsonl"),
        cc.join("s.jsonl"),
    )
    .unwrap();
    wait(&store, "the Claude Code spans", |s| {
        s.counts().map(|c| c.spans).unwrap_or(0) > 0
    });
    // The corrupt file changes, and rescans (every 2 s) pass: still one line.
    common::append(&db, "more junk\n");
    std::thread::sleep(std::time::Duration::from_millis(4_500));
    child.kill().unwrap();
    child.wait().unwrap();
    let said = lines.join().unwrap();
    let about: Vec<&String> = said.iter().filter(|l| l.contains("opencode.db")).collect();
    assert_eq!(about.len(), 1, "{said:#?}");
    let want = format!("warning: {}: ", db.display());
    assert!(about[0].starts_with(&want), "{said:#?}");
    assert!(about[0].contains("not a database"), "{said:#?}");
}

/// The spans of `run` in the export of `store`: id → (kind, the `deleted_upstream` attribute).
fn marks(store: &Path, run: &str) -> BTreeMap<String, (Value, Value)> {
    let out = ok(bin()
        .args(["export", "--format", "json", "--db"])
        .arg(store));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "span" && v["span"]["run_id"] == run)
        .map(|v| {
            let s = &v["span"];
            (
                s["id"].as_str().unwrap().to_owned(),
                (
                    s["kind"].clone(),
                    s["attributes"]["deleted_upstream"].clone(),
                ),
            )
        })
        .collect()
}

/// A session and a message deleted in OpenCode stay in the store (evidence
/// does not vanish because the agent removed it), marked `deleted_upstream`,
/// with one event saying the session is gone; a further import adds nothing.
#[test]
fn rows_deleted_upstream_stay_stored_and_marked() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("opencode.db");
    std::fs::copy(db_fixture(), &db).unwrap();
    let store = t.path().join("s.db");
    import(&store, std::slice::from_ref(&db));
    let child = "ses_5d2c7a0b3ffeP9r6T2mV7kLq1S";
    let before = marks(&store, child);
    assert!(before.len() >= 2, "{before:#?}");
    assert!(before.values().all(|(_, m)| m.is_null()), "{before:#?}");

    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(&format!(
        "DELETE FROM part WHERE session_id = '{child}'; DELETE FROM message WHERE session_id = '{child}';
         DELETE FROM session WHERE id = '{child}'; DELETE FROM message WHERE id = 'm_user_small';"
    ))
    .unwrap();
    drop(c);
    let said = import(&store, std::slice::from_ref(&db));
    assert!(said.contains(" 1 new spans"), "{said}");
    let after = marks(&store, child);
    assert_eq!(after.len(), before.len() + 1, "{after:#?}");
    for (id, (kind, _)) in &before {
        assert_eq!(after[id], (kind.clone(), Value::Bool(true)), "{id}");
    }
    let marker = &after[&format!("{child}:deleted-upstream")];
    assert_eq!(marker, &(Value::from("event"), Value::from("session")));
    // What OpenCode still holds is not marked.
    let main = marks(&store, "ses_5d2c7a1e9ffeK3b1Q8nW4xYzA2");
    assert!(main.len() >= 3, "{main:#?}");
    assert!(main.values().all(|(_, m)| m.is_null()), "{main:#?}");
    let small = marks(&store, "s_stage0_small");
    assert_eq!(small["m_user_small"].1, Value::Bool(true), "{small:#?}");
    assert!(small["m_assistant_small"].1.is_null(), "{small:#?}");
    // Said once: the next import finds nothing new to mark.
    let again = import(&store, std::slice::from_ref(&db));
    assert!(again.contains(" 0 new spans"), "{again}");
    assert_eq!(marks(&store, child), after);
}

/// While `tail` follows the database, a message OpenCode deletes is marked.
#[test]
fn tail_marks_a_message_deleted_upstream() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("opencode");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("opencode.db");
    std::fs::copy(db_fixture(), &db).unwrap();
    let store = t.path().join("s.db");
    let (stop, th) = common::spawn_tail(vec![dir.clone()], &store);
    wait(&store, "the fixture's spans", |s| {
        s.counts().map(|c| c.spans).unwrap_or(0) == 29
    });
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute("DELETE FROM message WHERE id = 'm_user_small'", [])
        .unwrap();
    drop(c);
    wait(&store, "the mark", |s| {
        s.span("s_stage0_small", "m_user_small")
            .ok()
            .flatten()
            .is_some_and(|x| x.attributes.get("deleted_upstream") == Some(&Value::Bool(true)))
    });
    stop.stop();
    th.join().unwrap();
    let s = skilltrace::store::Store::open_read(&store).unwrap();
    assert_eq!(s.counts().unwrap().spans, 29);
}
