//! Unit tests of the store: merge semantics, counters, dedupe, triage, FTS, permissions.

use super::*;
use crate::ingest::pipeline::SourceState;
use crate::model::*;
use crate::redact::{Mode, Redactor};

fn tmp() -> (tempfile::TempDir, Store) {
    let t = tempfile::tempdir().expect("tempdir");
    let s = Store::open(&t.path().join("sub/st.db")).expect("open");
    (t, s)
}

fn span(id: &str, run: &str, kind: SpanKind) -> Span {
    Span::new(id, run, kind, "n", Origin::new("/x/f.jsonl", 1))
}

fn finding(fp: &str, run: &str, sev: Severity) -> Finding {
    Finding {
        rule_id: "EXF-TRACE-003".into(),
        severity: sev,
        confidence: 0.9,
        run_id: run.into(),
        span_ids: vec!["s1".into()],
        title: "t".into(),
        message: "m".into(),
        evidence: "e".into(),
        fingerprint: fp.into(),
        origin: Some(Origin::new("/x/f.jsonl", 3)),
        skill_id: None,
        ts_ms: Some(5),
        related: vec![],
    }
}

fn batch(spans: Vec<Span>, findings: Vec<Finding>) -> StoreBatch {
    let mut r = Redactor::new(Mode::Mask);
    StoreBatch {
        spans: spans.into_iter().map(|s| r.redact_span(s).0).collect(),
        findings: findings.into_iter().map(|f| r.redact_finding(f)).collect(),
        ..Default::default()
    }
}

#[test]
fn spans_merge_and_counters_never_double_count() {
    let (_t, mut s) = tmp();
    let mut a = span("t1", "r1", SpanKind::Tool);
    a.tool_name = Some("Bash".into());
    a.tool_input = Some("{\"command\":\"ls\"}".into());
    a.start_ms = Some(100);
    let mut llm = span("l1", "r1", SpanKind::Llm);
    llm.input_tokens = Some(10);
    llm.output_tokens = Some(5);
    llm.model = Some("m1".into());
    s.write(&batch(vec![a, llm.clone()], vec![])).expect("w1");
    // The tool result arrives later as a partial span; the llm span is re-sent (re-import).
    let mut b = span("t1", "r1", SpanKind::Tool);
    b.name = String::new();
    b.tool_output = Some("file.txt".into());
    b.end_ms = Some(250);
    b.status = SpanStatus::Ok;
    s.write(&batch(vec![b, llm], vec![])).expect("w2");
    let got = s.span("r1", "t1").expect("q").expect("span");
    assert_eq!(got.name, "n");
    assert_eq!(got.tool_input.as_deref(), Some("{\"command\":\"ls\"}"));
    assert_eq!(got.tool_output.as_deref(), Some("file.txt"));
    assert_eq!(got.duration_ms(), Some(150));
    assert_eq!(got.status, SpanStatus::Ok);
    let run = s.run("r1").expect("q").expect("run");
    assert_eq!((run.span_count, run.tool_count), (2, 1));
    assert_eq!((run.input_tokens, run.output_tokens), (10, 5));
    assert_eq!(run.models, vec!["m1".to_string()]);
    assert_eq!(
        (run.run.started_ms, run.run.ended_ms),
        (Some(100), Some(250))
    );
    assert_eq!(s.spans("r1", 0, 10).expect("spans").len(), 2);
}

#[test]
fn runs_merge_earliest_start_first_title() {
    let (_t, mut s) = tmp();
    let mut r = Redactor::new(Mode::Mask);
    let mk = |start, title: Option<&str>| Run {
        id: "r".into(),
        agent: Some(AgentKind::Codex),
        source: "f".into(),
        started_ms: Some(start),
        title: title.map(String::from),
        ..Default::default()
    };
    let b = StoreBatch {
        runs: vec![
            r.redact_run(mk(50, None)),
            r.redact_run(mk(20, Some("first"))),
            r.redact_run(mk(30, Some("second"))),
        ],
        ..Default::default()
    };
    s.write(&b).expect("write");
    let row = s.run("r").expect("q").expect("run");
    assert_eq!(row.run.started_ms, Some(20));
    assert_eq!(row.run.title.as_deref(), Some("first"));
    assert_eq!(row.run.agent, Some(AgentKind::Codex));
    assert_eq!(s.resolve_run("r").expect("resolve"), "r");
    assert!(s.resolve_run("zz").is_err());
    assert_eq!(s.resolve_run("r…").expect("head and tail"), "r");
}

#[test]
fn findings_dedupe_raise_and_triage() {
    let (_t, mut s) = tmp();
    s.write(&batch(
        vec![span("s1", "r1", SpanKind::Tool)],
        vec![finding("fp1", "r1", Severity::Medium)],
    ))
    .expect("w");
    s.write(&batch(vec![], vec![finding("fp1", "r1", Severity::Medium)]))
        .expect("dup");
    assert_eq!(
        s.finding_count(&FindingFilter::default()).expect("count"),
        1
    );
    s.write(&batch(vec![], vec![finding("fp1", "r1", Severity::High)]))
        .expect("raise");
    let rows = s.findings(&FindingFilter::default(), 0, 10).expect("list");
    assert_eq!(rows[0].finding.severity, Severity::High);
    let run = s.run("r1").expect("q").expect("run");
    assert_eq!(run.findings, [0, 0, 0, 1, 0]);
    // A chain that grows a step (same fingerprint, same severity) keeps every step.
    let mut longer = finding("fp1", "r1", Severity::High);
    longer.span_ids = vec!["s1".into(), "s2".into()];
    s.write(&batch(vec![], vec![longer])).expect("grow");
    let f = &s.findings(&FindingFilter::default(), 0, 10).expect("list")[0];
    assert_eq!(f.finding.span_ids.len(), 2);
    assert_eq!(
        s.run("r1").expect("q").expect("run").findings,
        [0, 0, 0, 1, 0]
    );
    s.set_triage(
        rows[0].id,
        TriageStatus::FalsePositive,
        Some("test fixture"),
    )
    .expect("triage");
    let f = s.finding(rows[0].id).expect("q").expect("row");
    assert_eq!(f.status, TriageStatus::FalsePositive);
    assert_eq!(f.note.as_deref(), Some("test fixture"));
    let open = FindingFilter {
        status: Some(TriageStatus::Open),
        ..Default::default()
    };
    assert_eq!(s.finding_count(&open).expect("count"), 0);
    let high = FindingFilter {
        min_severity: Some(Severity::Critical),
        ..Default::default()
    };
    assert_eq!(s.finding_count(&high).expect("count"), 0);
    assert_eq!(s.findings_for_span("r1", "s1").expect("q").len(), 1);
    assert!(s.set_triage(999, TriageStatus::Confirmed, None).is_err());
}

#[test]
fn search_indexes_behind_ingest_and_reindexes_updates() {
    let (_t, mut s) = tmp();
    let mut a = span("t1", "r1", SpanKind::Tool);
    a.tool_input = Some("cat ~/.aws/credentials".into());
    s.write(&batch(vec![a], vec![])).expect("w");
    assert_eq!(s.fts_pending().expect("pending"), 1);
    assert!(s.search("credentials", 10).expect("search").is_empty());
    assert_eq!(s.index_fts(100).expect("index"), 1);
    assert_eq!(s.search("credentials", 10).expect("search").len(), 1);
    let mut b = span("t1", "r1", SpanKind::Tool);
    b.tool_output = Some("zebra".into());
    s.write(&batch(vec![b], vec![])).expect("w");
    s.index_fts(100).expect("index");
    let hits = s.search("zebra", 10).expect("search");
    assert_eq!(hits.len(), 1);
    assert!(hits[0].snippet.contains("zebra"));
    // FTS syntax in user input is taken literally, never an error.
    assert!(s.search("\"unbalanced AND (", 10).is_ok());
}

#[test]
fn sources_and_errors_round_trip() {
    let (_t, mut s) = tmp();
    let mut r = Redactor::new(Mode::Mask);
    let b = StoreBatch {
        errors: vec![r.redact_parse_error(ParseError {
            path: "/x/f.jsonl".into(),
            line: 7,
            message: "invalid JSON".into(),
        })],
        sources: vec![SourceState {
            path: "/x/f.jsonl".into(),
            kind: "file".into(),
            dev: 1,
            ino: 2,
            offset: 99,
            line: 7,
            format: "codex".into(),
        }],
        ..Default::default()
    };
    s.write(&b).expect("w");
    s.write(&b).expect("again");
    let src = s.sources().expect("sources");
    assert_eq!(src.len(), 1);
    assert_eq!((src[0].state.offset, src[0].errors), (99, 1));
    assert_eq!(s.source("/x/f.jsonl").expect("q").expect("row").ino, 2);
    assert_eq!(s.parse_errors(None, 10).expect("errors")[0].line, 7);
    assert_eq!(s.counts().expect("counts").parse_errors, 1);
}

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
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 000 && exec \"$0\" store::tests::files_are_private_whatever_the_umask --exact --nocapture")
            .arg(exe)
            .env("SKILLTRACE_UMASK_CHILD", "1")
            .status()
            .expect("spawn");
        assert!(st.success());
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
    rusqlite::Connection::open(&old)
        .unwrap()
        .execute_batch("PRAGMA page_size=4096; CREATE TABLE x(a);")
        .unwrap();
    let s = Store::open(&old).unwrap();
    let ps: i64 = s
        .conn()
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ps, 4096);
}
