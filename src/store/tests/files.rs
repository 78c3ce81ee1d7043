//! Unit tests of the store's files: one-line errors for files it cannot use,
//! private modes whatever the umask, page sizes, and migrating an old store.

use super::*;

#[test]
fn read_only_and_bad_files_are_one_line_errors() {
    let t = tempfile::tempdir().expect("tempdir");
    let missing = Store::open_read(&t.path().join("nope.db")).expect_err("missing");
    assert!(missing.to_string().contains("no store here"), "{missing}");
    let junk = t.path().join("junk.db");
    std::fs::write(&junk, b"this is not sqlite at all, not even close........................................................").expect("write");
    let e = Store::open(&junk).expect_err("junk");
    assert!(e.to_string().contains("not a skilltrace store"), "{e}");
    assert!(!e.to_string().contains('\n'));
}

#[cfg(unix)]
#[test]
fn files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    // umask is process-wide: run the check in a child process so other tests are unaffected.
    if std::env::var_os("SKILLTRACE_UMASK_CHILD").is_none() {
        let exe = std::env::current_exe().expect("exe");
        // This test's own name, wherever the module is moved (a literal name
        // outlived a move once: the child ran no test and the check passed).
        let name = format!(
            "{}::files_are_private_whatever_the_umask",
            module_path!().split_once("::").expect("crate::path").1
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 000 && exec \"$0\" \"$1\" --exact --nocapture")
            .arg(exe)
            .arg(&name)
            .env("SKILLTRACE_UMASK_CHILD", "1")
            .output()
            .expect("spawn");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("1 passed"), "the child ran no test: {said}");
        return;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("new/dir");
    let db = dir.join("s.db");
    let mut s = Store::open(&db).expect("open");
    s.write(&batch(vec![span("a", "r", SpanKind::Event)], vec![]))
        .expect("write");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&db), 0o600);
    for side in ["s.db-wal", "s.db-shm"] {
        let p = dir.join(side);
        assert!(p.exists(), "{side} should exist in WAL mode");
        assert_eq!(mode(&p), 0o600, "{side}");
    }
}

#[test]
fn new_stores_use_16k_pages_and_existing_ones_keep_theirs() {
    let (t, s) = tmp();
    let ps: i64 = s
        .conn()
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ps, 16384);
    // A store created with SQLite's default page size opens and keeps it.
    let old = t.path().join("old.db");
    crate::paths::create_private_file(&old).unwrap();
    let c = rusqlite::Connection::open(&old).unwrap();
    c.execute_batch("PRAGMA page_size=4096;").unwrap();
    c.execute_batch(schema::MIGRATIONS[0]).unwrap();
    c.pragma_update(None, "user_version", 1).unwrap();
    drop(c);
    let s = Store::open(&old).unwrap();
    let ps: i64 = s
        .conn()
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ps, 4096);
}

#[test]
fn a_v2_store_migrates_to_integer_run_keys_keeping_rows_counters_and_search() {
    let t = tempfile::tempdir().expect("tempdir");
    let path = t.path().join("old.db");
    {
        // A store as skilltrace wrote it at schema v2, with rows in it.
        let c = super::store_at_version(&path, 2);
        c.execute_batch(
            "INSERT INTO runs(id, agent, title, span_count, started_ms, updated_ms) VALUES('run-b', 'codex', 'second', 2, 20, 20);
             INSERT INTO runs(id, agent, title, span_count, started_ms, updated_ms) VALUES('run-a', 'codex', 'first', 1, 10, 10);
             INSERT INTO spans(run_id, id, kind, name, start_ms, text) VALUES('run-a', 's1', 'llm', 'chat', 10, 'hello zebra');
             INSERT INTO spans(run_id, id, kind, name, start_ms, tool_name, tool_input) VALUES('run-b', 't2', 'tool', 'Bash', 22, 'Bash', 'ls');
             INSERT INTO spans(run_id, id, parent_id, kind, name, start_ms) VALUES('run-b', 't1', NULL, 'agent', 'root', 21);
             INSERT INTO spans(run_id, id, kind, name) VALUES('orphan', 'x', 'event', 'lost run row');
             INSERT INTO spans_fts(rowid, body) SELECT rowid, concat_ws(' ', name, tool_name, tool_input, tool_output, text) FROM spans;
             INSERT INTO meta(key, value) SELECT 'fts_watermark', max(rowid) FROM spans;",
        )
        .expect("rows");
    }
    // Readers migrate too (a listing may be the first command after an upgrade).
    let r = Store::open_read(&path).expect("open_read migrates");
    let v: i64 = r
        .conn()
        .query_row("PRAGMA user_version", [], |x| x.get(0))
        .expect("version");
    assert_eq!(v as usize, schema::latest());
    let a = r.run("run-a").expect("q").expect("run-a kept");
    assert_eq!((a.run.title.as_deref(), a.span_count), (Some("first"), 1));
    let b: Vec<String> = r
        .spans("run-b", 0, 10)
        .expect("spans")
        .into_iter()
        .map(|s| format!("{}:{}", s.span.run_id, s.span.id))
        .collect();
    assert_eq!(b, ["run-b:t1", "run-b:t2"], "time order within the run");
    assert_eq!(
        r.span_count("orphan").expect("count"),
        1,
        "a span whose run row was missing keeps a run"
    );
    assert_eq!(r.span_position("run-b", "t2").expect("pos"), Some(1));
    // Span rowids are kept, so the full-text index still points at the right spans.
    let hits = r.search("zebra", 10).expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].run_id.as_str(), hits[0].span_id.as_str()),
        ("run-a", "s1")
    );
    drop(r);
    // And the writer goes on from there: a new span lands in the old run and counts once.
    let mut w = Store::open(&path).expect("open");
    w.write(&batch(vec![span("s2", "run-a", SpanKind::Llm)], vec![]))
        .expect("write");
    let a = w.run("run-a").expect("q").expect("run-a");
    assert_eq!(a.span_count, 2);
    assert_eq!(w.span_count("run-a").expect("count"), 2);
}
