//! `skilltrace import` as a user runs it: bad input of every kind is skipped
//! with a stored, counted parse error naming file and line, the lines around
//! it are ingested, nothing panics, and exit codes follow DESIGN section 2.
#![allow(clippy::unwrap_used)]

use skilltrace::model::{Origin, Span, SpanKind};
use skilltrace::store::Store;
use std::path::Path;
use std::process::{Command, Output};

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skilltrace"));
    c.env_remove("SKILLTRACE_DB")
        .env("SKILLTRACE_CONFIG", "/nonexistent/skilltrace.toml");
    c
}

fn line(run: &str, id: &str) -> Vec<u8> {
    let mut s = Span::new(id, run, SpanKind::Event, "e", Origin::new("x", 1));
    s.text = Some(format!("text of {id}"));
    let mut v = serde_json::json!({"skilltrace": 1, "type": "span", "span": s})
        .to_string()
        .into_bytes();
    v.push(b'\n');
    v
}

fn import(paths: &[&Path], db: &Path) -> Output {
    let mut c = exe();
    c.arg("import");
    for p in paths {
        c.arg(p);
    }
    c.arg("--db").arg(db).output().unwrap()
}

fn one_line_error(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "exit 2 expected; stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    err
}

/// Writes `good line, bad bytes, good line` and checks the bad one is a stored error.
fn check_bad(name: &str, bad: &[u8], file_name: &str) {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join(file_name);
    let mut data = line("r", "before");
    data.extend_from_slice(bad);
    data.extend_from_slice(b"\n");
    data.extend(line("r", "after"));
    std::fs::write(&f, &data).unwrap();
    let db = t.path().join("s.db");
    let o = import(&[&f], &db);
    assert!(
        o.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = Store::open_read(&db).unwrap();
    assert!(
        s.span("r", "before").unwrap().is_some(),
        "{name}: line before kept"
    );
    assert!(
        s.span("r", "after").unwrap().is_some(),
        "{name}: line after kept"
    );
    let errs = s.parse_errors(None, 10).unwrap();
    assert_eq!(errs.len(), 1, "{name}: one parse error, got {errs:?}");
    assert_eq!(errs[0].line, 2, "{name}");
    assert!(errs[0].path.ends_with(file_name), "{name}");
    let srcs = s.sources().unwrap();
    assert_eq!(srcs[0].errors, 1, "{name}: counted on the source");
}

#[test]
fn each_bad_line_is_a_stored_error_and_its_neighbours_are_kept() {
    check_bad("malformed JSON", b"{\"skilltrace\":1,\"type\":", "a.jsonl");
    check_bad(
        "invalid UTF-8",
        b"{\"skilltrace\":1,\"type\":\"span\",\"x\":\"\xff\xfe\"}",
        "b.jsonl",
    );
    check_bad("NUL bytes", b"\0\0\0{\0}", "c.jsonl");
    check_bad("deep nesting", "[".repeat(5000).as_bytes(), "d.jsonl");
    check_bad("array", b"[1,2,3]", "e.jsonl");
    check_bad("null", b"null", "f.jsonl");
    check_bad(
        "not a trace",
        b"{\"name\":\"package.json\",\"version\":\"1.0.0\"}",
        "g.jsonl",
    );
}

#[test]
fn bom_crlf_truncated_last_line_and_big_lines() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("w.jsonl");
    let mut data = b"\xEF\xBB\xBF".to_vec();
    for id in ["c1", "c2"] {
        let mut l = line("r", id);
        l.pop();
        l.extend_from_slice(b"\r\n");
        data.extend(l);
    }
    // A 4 MiB line is fine; a truncated final line (no newline, cut JSON) is an error.
    let mut big = Span::new("big", "r", SpanKind::Event, "e", Origin::new("x", 1));
    big.text = Some("x".repeat(4 << 20));
    data.extend(
        serde_json::json!({"skilltrace": 1, "type": "span", "span": big})
            .to_string()
            .into_bytes(),
    );
    data.push(b'\n');
    let cut = line("r", "cut");
    data.extend_from_slice(&cut[..cut.len() / 2]);
    std::fs::write(&f, &data).unwrap();
    let db = t.path().join("s.db");
    let o = import(&[&f], &db);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = Store::open_read(&db).unwrap();
    for id in ["c1", "c2", "big"] {
        assert!(s.span("r", id).unwrap().is_some(), "{id}");
    }
    assert_eq!(
        s.span("r", "big").unwrap().unwrap().text.unwrap().len(),
        4 << 20
    );
    let errs = s.parse_errors(None, 10).unwrap();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, 4);
}

#[test]
fn lines_over_the_configured_cap_are_skipped() {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("config.toml");
    std::fs::write(&cfg, "[ingest]\nmax_line_bytes = 1000\n").unwrap();
    let f = t.path().join("cap.jsonl");
    let mut data = line("r", "small");
    let mut big = Span::new("big", "r", SpanKind::Event, "e", Origin::new("x", 1));
    big.text = Some("y".repeat(5000));
    data.extend(
        serde_json::json!({"skilltrace": 1, "type": "span", "span": big})
            .to_string()
            .into_bytes(),
    );
    data.push(b'\n');
    data.extend(line("r", "tail"));
    std::fs::write(&f, &data).unwrap();
    let db = t.path().join("s.db");
    let o = exe()
        .env("SKILLTRACE_CONFIG", &cfg)
        .arg("import")
        .arg(&f)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = Store::open_read(&db).unwrap();
    assert!(s.span("r", "small").unwrap().is_some());
    assert!(s.span("r", "tail").unwrap().is_some());
    assert!(s.span("r", "big").unwrap().is_none());
    let errs = s.parse_errors(None, 10).unwrap();
    assert!(errs[0].message.contains("1000 byte limit"), "{errs:?}");
}

#[test]
fn reimport_is_idempotent_and_resumes() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("r.jsonl");
    std::fs::write(&f, [line("r", "a"), line("r", "b")].concat()).unwrap();
    let db = t.path().join("s.db");
    assert!(import(&[&f], &db).status.success());
    assert!(import(&[&f], &db).status.success());
    let mut more = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
    std::io::Write::write_all(&mut more, &line("r", "c")).unwrap();
    let o = import(&[t.path()], &db);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("1 new spans"),
        "only the appended line is read again: {out}"
    );
    let s = Store::open_read(&db).unwrap();
    assert_eq!(s.run("r").unwrap().unwrap().span_count, 3);
    // A file named twice (its folder and itself, another spelling) is read once.
    let db2 = t.path().join("s2.db");
    let twice = t.path().join(".").join("r.jsonl");
    let o = import(&[t.path(), &f, &twice], &db2);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("imported 1 file "), "{out}");
    assert!(out.contains("3 new spans"), "{out}");
}

#[test]
fn unusable_input_exits_2_with_one_line() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    let err = one_line_error(&import(&[&t.path().join("missing")], &db));
    assert!(err.contains("no such file"), "{err}");
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "hello").unwrap();
    let err = one_line_error(&import(&[&empty], &db));
    assert!(err.contains("no trace files found"), "{err}");
    let o = exe()
        .args(["import", "x.jsonl", "--format", "yaml"])
        .output()
        .unwrap();
    let err = one_line_error(&o);
    assert!(err.contains("unknown format"), "{err}");
    let junk = t.path().join("junk.db");
    std::fs::write(&junk, vec![7u8; 4096]).unwrap();
    let f = t.path().join("ok.jsonl");
    std::fs::write(&f, line("r", "a")).unwrap();
    let err = one_line_error(&import(&[&f], &junk));
    assert!(err.contains("not a skilltrace store"), "{err}");
    // A file that exists but is not a trace at all still exits 0: it was read.
    let notrace = t.path().join("pkg.json");
    std::fs::write(&notrace, "{\"name\":\"x\"}").unwrap();
    assert!(import(&[&notrace], &t.path().join("n.db")).status.success());
    let o = exe()
        .args(["runs", "--db"])
        .arg(t.path().join("absent.db"))
        .output()
        .unwrap();
    let err = one_line_error(&o);
    assert!(err.contains("no store here"), "{err}");
}

#[test]
fn runs_and_findings_json_shapes() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("r.jsonl");
    std::fs::write(
        &f,
        [line("r1", "a"), line("r1", "b"), line("r2", "c")].concat(),
    )
    .unwrap();
    let db = t.path().join("s.db");
    assert!(import(&[&f], &db).status.success());
    let o = exe()
        .args(["runs", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let runs = v.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let r1 = runs.iter().find(|r| r["id"] == "r1").unwrap();
    assert_eq!(r1["span_count"], 2);
    let o = exe()
        .args(["findings", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.is_array());
    let o = exe().args(["runs", "--db"]).arg(&db).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("r1") && text.contains("r2"), "{text}");
}

#[test]
fn doctor_says_all_good_then_what_to_fix() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("r.jsonl");
    std::fs::write(&f, line("r", "a")).unwrap();
    let db = t.path().join("st/s.db");
    assert!(import(&[&f], &db).status.success());
    let run = |db: &Path| {
        exe()
            .args([
                "doctor",
                "--proxy",
                "127.0.0.1:0",
                "--otlp",
                "127.0.0.1:0",
                "--db",
            ])
            .arg(db)
            .output()
            .unwrap()
    };
    let o = run(&db);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("all good") && out.contains("registry"),
        "{out}"
    );
    // A port something already listens on is reported, not an error.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = held.local_addr().unwrap().to_string();
    let o = exe()
        .args(["doctor", "--proxy", "127.0.0.1:0", "--otlp", &busy, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!("otlp port: {busy} is in use")),
        "{out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = run(&db);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains("chmod 600"), "{out}");
    }
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // `skilltrace runs --format json | head -c 100`: the listing must end quietly
    // with 0, whichever writer (text or JSON through serde) meets the closed pipe.
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("many.jsonl");
    let mut body = Vec::new();
    for i in 0..3_000 {
        body.extend(line(&format!("run-{i:05}"), "a"));
    }
    std::fs::write(&f, body).unwrap();
    let db = t.path().join("s.db");
    assert!(import(&[&f], &db).status.success());
    for args in [
        vec!["runs", "--format", "json"],
        vec!["runs"],
        vec!["findings", "--format", "json"],
    ] {
        let mut child = exe()
            .args(&args)
            .arg("--db")
            .arg(&db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 64];
        let mut out = child.stdout.take().unwrap();
        let _ = std::io::Read::read(&mut out, &mut first);
        drop(out);
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn an_older_store_is_upgraded_once_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("old.db");
    {
        // A store as the previous schema (v2) left it, with a run and a span.
        let mut c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("PRAGMA journal_mode=WAL").unwrap();
        for (i, sql) in skilltrace::store::schema::MIGRATIONS[..2]
            .iter()
            .enumerate()
        {
            let tx = c.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .unwrap();
            tx.commit().unwrap();
        }
        c.execute_batch(
            "INSERT INTO runs(id, agent, span_count, updated_ms) VALUES('old-run', 'codex', 1, 1);
             INSERT INTO spans(run_id, id, kind, name) VALUES('old-run', 's1', 'llm', 'chat');",
        )
        .unwrap();
    }
    let runs = || {
        exe()
            .args(["runs", "--format", "json", "--db"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let first = runs();
    assert_eq!(first.status.code(), Some(0));
    let said = String::from_utf8_lossy(&first.stderr);
    assert!(
        said.contains("upgrading") && said.contains("v2 to v"),
        "{said}"
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("old-run"));
    let again = runs();
    assert!(
        again.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // A new store is created silently.
    let fresh = t.path().join("new.db");
    let f = t.path().join("r.jsonl");
    std::fs::write(&f, line("r", "a")).unwrap();
    let o = import(&[&f], &fresh);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("upgrading"));
}

#[test]
fn a_fresh_import_is_searchable_and_leaves_the_incremental_index_settings() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("r.jsonl");
    std::fs::write(&f, [line("r", "a"), line("r", "b")].concat()).unwrap();
    let db = t.path().join("s.db");
    assert!(import(&[&f], &db).status.success());
    let s = Store::open_read(&db).unwrap();
    // Built in bulk (one large flush, FTS5 merging as it goes): every span found.
    let hits = s.search("text", 10).unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(s.fts_pending().unwrap(), 0);
    // The tail and the TUI index after it with FTS5's incremental settings:
    // 1 MiB flushes, and merging on (never switched off: no row, the default).
    let setting = |k: &str| -> Option<i64> {
        s.conn()
            .query_row("SELECT v FROM spans_fts_config WHERE k=?1", [k], |r| {
                r.get(0)
            })
            .ok()
    };
    assert_eq!(setting("hashsize"), Some(1 << 20));
    assert!(matches!(setting("automerge"), None | Some(4)));
    // A second import of new lines into it is not a bulk build: settings untouched.
    let g = t.path().join("r2.jsonl");
    std::fs::write(&g, line("r", "c")).unwrap();
    assert!(import(&[&g], &db).status.success());
    let s = Store::open_read(&db).unwrap();
    assert_eq!(s.search("text", 10).unwrap().len(), 3);
}

#[test]
fn an_import_restores_the_merge_settings_a_killed_bulk_import_left_off() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("r.jsonl");
    std::fs::write(&f, [line("r", "a"), line("r", "b")].concat()).unwrap();
    let db = t.path().join("s.db");
    assert!(import(&[&f], &db).status.success());
    // What `kill -9` during the index phase of a bulk import leaves: merging
    // off, and the id of a process that is gone.
    let automerge = |db: &Path| -> i64 {
        Store::open_read(db)
            .unwrap()
            .conn()
            .query_row(
                "SELECT v FROM spans_fts_config WHERE k='automerge'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    {
        let s = Store::open(&db).unwrap();
        s.conn()
            .execute_batch(
                "INSERT INTO spans_fts(spans_fts, rank) VALUES('automerge', 0); \
                 INSERT INTO meta(key, value) VALUES('fts_bulk_pid', '2147483647')",
            )
            .unwrap();
    }
    assert_eq!(automerge(&db), 0);
    // The next import puts them back at its start, even one that builds no index.
    let g = t.path().join("r2.jsonl");
    std::fs::write(&g, line("r", "c")).unwrap();
    let o = exe()
        .arg("import")
        .arg(&g)
        .arg("--db")
        .arg(&db)
        .arg("--no-index")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(automerge(&db), 4);
}
