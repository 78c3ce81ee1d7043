//! Unit tests of the store: merge semantics, counters, dedupe, triage, FTS, permissions.

use super::*;
use crate::model::SourceState;
use crate::model::*;
use crate::redact::{Mode, Redactor};

mod dedup;
mod files;
mod findings;
mod runs;

/// A store at `path` as skilltrace wrote it at schema `version` (its first
/// `version` migrations, each with its `user_version`), for upgrade tests.
fn store_at_version(path: &std::path::Path, version: usize) -> rusqlite::Connection {
    let mut c = rusqlite::Connection::open(path).expect("open");
    c.execute_batch("PRAGMA journal_mode=WAL").expect("wal");
    for (i, sql) in schema::MIGRATIONS[..version].iter().enumerate() {
        let tx = c.transaction().expect("tx");
        tx.execute_batch(sql).expect("migration");
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .expect("version");
        tx.commit().expect("commit");
    }
    c
}

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
fn span_records_folded_in_one_batch_store_what_one_batch_each_stores() {
    use serde_json::json;
    // Records of span "t" in arrival order, each filling, changing or leaving
    // fields; attributes exercise merge, replace, delete (null) and nested objects.
    let recs = || {
        let mut a = span("t", "r", SpanKind::Tool);
        a.tool_name = Some("Bash".into());
        a.tool_input = Some("{\"command\":\"ls\"}".into());
        a.start_ms = Some(100);
        a.model = Some("m1".into());
        a.attributes = serde_json::from_value(
            json!({"keep": 1, "gone": "x", "nest": {"a": 1, "b": 2}, "flat": 3, "n": null}),
        )
        .expect("map");
        let mut b = span("t", "r", SpanKind::Tool);
        b.name = String::new();
        b.tool_output = Some("file.txt".into());
        b.end_ms = Some(180);
        b.status = SpanStatus::Ok;
        b.input_tokens = Some(7);
        b.attributes = serde_json::from_value(
            json!({"gone": null, "nest": {"b": null, "c": 3}, "flat": {"x": null, "y": 1}}),
        )
        .expect("map");
        let mut c = span("t", "r", SpanKind::Llm);
        c.name = "renamed".into();
        c.parent_id = Some("p".into());
        c.input_tokens = Some(9);
        c.output_tokens = Some(4);
        let other = span("u", "r", SpanKind::Message);
        vec![a, other, b, c]
    };
    let stored = |batches: Vec<Vec<Span>>, fold: bool, before: bool| {
        let (_t, mut s) = tmp();
        if before {
            let mut old = span("t", "r", SpanKind::Tool);
            old.text = Some("earlier".into());
            old.attributes =
                serde_json::from_value(json!({"old": true, "nest": {"z": 0}})).expect("map");
            s.write(&batch(vec![old], vec![])).expect("w0");
        }
        for b in batches {
            let mut sb = batch(b, vec![]);
            if fold {
                sb.fold_spans();
            }
            s.write(&sb).expect("write");
        }
        let t = s.span("r", "t").expect("q").expect("span t");
        let u = s.span("r", "u").expect("q").expect("span u");
        let run = s.run("r").expect("q").expect("run").run;
        (t, u, s.span_count("r").expect("count"), run)
    };
    for before in [false, true] {
        let apart = stored(recs().into_iter().map(|x| vec![x]).collect(), false, before);
        let folded = stored(vec![recs()], true, before);
        assert_eq!(folded, apart, "stored already: {before}");
        assert_eq!(folded.2, 2);
    }
    let (t, ..) = stored(vec![recs()], true, false);
    assert_eq!(t.kind, SpanKind::Llm);
    assert_eq!(t.name, "renamed");
    assert_eq!(t.tool_output.as_deref(), Some("file.txt"));
    assert_eq!(t.input_tokens, Some(9));
    assert_eq!(
        serde_json::Value::Object(t.attributes),
        json!({"keep": 1, "nest": {"a": 1, "c": 3}, "flat": {"y": 1}, "n": null})
    );
    // Nothing to fold: the batch is left exactly as it was.
    let mut sb = batch(
        vec![
            span("a", "r", SpanKind::Tool),
            span("a", "r2", SpanKind::Tool),
        ],
        vec![],
    );
    let before = sb.spans.clone();
    sb.fold_spans();
    assert_eq!(sb.spans, before);
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
    assert_eq!(f.reason.as_deref(), Some("test fixture"));
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
fn a_failed_write_forgets_run_keys_it_handed_out() {
    let (_t, mut s) = tmp();
    // A batch that fails halfway (a finding whose fingerprint is NULL is impossible, so
    // break the table under it) rolls back the run it created...
    s.conn()
        .execute_batch(
            "CREATE TRIGGER boom BEFORE INSERT ON findings BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .expect("trigger");
    let failed = s.write(&batch(
        vec![span("s1", "new-run", SpanKind::Llm)],
        vec![finding("fp1", "new-run", Severity::High)],
    ));
    assert!(failed.is_err());
    assert!(s.run("new-run").expect("q").is_none(), "rolled back");
    s.conn().execute_batch("DROP TRIGGER boom").expect("drop");
    // ...so the next write must create it again rather than point at a key that is gone.
    s.write(&batch(vec![span("s1", "new-run", SpanKind::Llm)], vec![]))
        .expect("write");
    assert_eq!(s.span_count("new-run").expect("count"), 1);
    assert_eq!(s.run("new-run").expect("q").expect("run").span_count, 1);
}

#[test]
fn skeleton_and_spans_by_keys_read_one_run_only() {
    let (_t, mut s) = tmp();
    let mut c = span("c", "r1", SpanKind::Tool);
    c.parent_id = Some("p".into());
    c.start_ms = Some(20);
    let mut p = span("p", "r1", SpanKind::Agent);
    p.start_ms = Some(10);
    let other = span("x", "r2", SpanKind::Llm);
    s.write(&batch(vec![c, p, other], vec![])).expect("write");
    let mut sk = s.span_skeleton("r1").expect("skeleton");
    sk.sort_by(|a, b| a.id.cmp(&b.id));
    let got: Vec<(&str, Option<&str>, Option<i64>, i64)> = sk
        .iter()
        .map(|l| {
            (
                l.id.as_str(),
                l.parent_id.as_deref(),
                l.start_ms,
                l.origin_line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [("c", Some("p"), Some(20), 1), ("p", None, Some(10), 1)]
    );
    assert!(s.span_skeleton("nope").expect("none").is_empty());
    // The packed read holds the same spans.
    let packed = s.span_skeleton_packed("r1").expect("packed");
    let mut unpacked: Vec<SpanLink> = (0..packed.len())
        .filter_map(|i| packed.get(i))
        .map(|(key, id, parent, start_ms, origin_line)| SpanLink {
            key,
            id: id.into(),
            parent_id: parent.map(String::from),
            start_ms,
            origin_line,
        })
        .collect();
    unpacked.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(unpacked, sk);
    assert!(s.span_skeleton_packed("nope").expect("none").is_empty());
    let kc = s.span_key("r1", "c").expect("q").expect("key of c");
    let kp = s.span_key("r1", "p").expect("q").expect("key of p");
    assert_eq!(s.span_key("r2", "c").expect("q"), None, "c is not in r2");
    assert_eq!(sk[0].key, kc);
    // In the order asked, unknown keys left out.
    let rows = s.spans_by_keys(&[kc, 999_999, kp]).expect("by keys");
    let ids: Vec<&str> = rows.iter().map(|r| r.span.id.as_str()).collect();
    assert_eq!(ids, ["c", "p"]);
    assert_eq!(rows[0].rowid, kc);
    assert_eq!(rows[0].span.run_id, "r1");
    assert!(s.spans_by_keys(&[]).expect("empty").is_empty());
}

#[test]
fn span_flags_carry_the_span_key_and_leave_out_spans_not_in_the_run() {
    let (_t, mut s) = tmp();
    let mut on_span = finding("f1", "r1", Severity::High);
    on_span.span_ids = vec!["s1".into()];
    let mut elsewhere = finding("f2", "r1", Severity::Low);
    elsewhere.span_ids = vec!["not-a-span".into()];
    s.write(&batch(
        vec![
            span("s1", "r1", SpanKind::Tool),
            span("s1", "r2", SpanKind::Tool),
        ],
        vec![on_span, elsewhere],
    ))
    .expect("write");
    let key = s.span_key("r1", "s1").expect("q").expect("key");
    let flags = s.span_flags("r1").expect("flags");
    let got: Vec<(&str, i64, Severity, bool)> = flags
        .iter()
        .map(|f| (f.span_id.as_str(), f.span_key, f.severity, f.open))
        .collect();
    assert_eq!(got, [("s1", key, Severity::High, true)]);
    assert!(s.span_flags("r2").expect("none").is_empty());
}

#[test]
fn counts_kept_by_the_writer_match_a_full_count_through_writes_merges_and_triage() {
    let (_t, mut s) = tmp();
    let scan = |s: &Store| -> (u64, u64, [u64; 5], [u64; 5]) {
        let c = s.conn();
        let one = |q: &str| c.query_row(q, [], |r| r.get::<_, i64>(0)).expect("q") as u64;
        let mut all = [0u64; 5];
        let mut open = [0u64; 5];
        let mut st = c
            .prepare(
                "SELECT severity, count(*), sum(status = 'open') FROM findings GROUP BY severity",
            )
            .expect("prep");
        for row in st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .expect("q")
        {
            let (sev, n, o) = row.expect("row");
            all[Severity::from_rank(sev).rank() as usize] += n as u64;
            open[Severity::from_rank(sev).rank() as usize] += o as u64;
        }
        (
            one("SELECT count(*) FROM runs"),
            one("SELECT count(*) FROM spans"),
            all,
            open,
        )
    };
    let kept = |s: &Store| {
        let c = s.counts().expect("counts");
        (c.runs, c.spans, c.findings, c.open)
    };
    s.write(&batch(
        vec![
            span("a", "r1", SpanKind::Tool),
            span("b", "r2", SpanKind::Llm),
        ],
        vec![
            finding("f1", "r1", Severity::High),
            finding("f2", "r2", Severity::Low),
        ],
    ))
    .expect("w1");
    // The same span and finding again (a re-import: merged, not added), one more of each.
    s.write(&batch(
        vec![
            span("a", "r1", SpanKind::Tool),
            span("c", "r1", SpanKind::Tool),
        ],
        vec![
            finding("f1", "r1", Severity::Critical),
            finding("f3", "r1", Severity::High),
        ],
    ))
    .expect("w2");
    assert_eq!(kept(&s), scan(&s));
    assert_eq!(kept(&s).1, 3);
    // A finding new to the store and raised in the same batch, at a severity
    // no finding had before: the tally's rows follow both steps.
    s.write(&batch(
        vec![],
        vec![
            finding("f4", "r1", Severity::Medium),
            finding("f4", "r1", Severity::Critical),
        ],
    ))
    .expect("w3");
    assert_eq!(kept(&s), scan(&s));
    let ids: Vec<i64> = s
        .finding_keys(&FindingFilter::default(), 10)
        .expect("keys")
        .iter()
        .map(|k| k.id)
        .collect();
    s.set_triage(ids[0], TriageStatus::Confirmed, None)
        .expect("triage");
    s.set_triage(ids[1], TriageStatus::Suppressed, Some("known"))
        .expect("triage");
    assert_eq!(kept(&s), scan(&s));
    assert_eq!(s.counts().expect("counts").open_findings, 2);
}

#[test]
fn a_connection_keeps_the_page_cache_it_is_given() {
    let (_t, s) = tmp();
    let kib = |s: &Store| -> i64 {
        s.conn()
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .expect("cache_size")
    };
    assert_eq!(kib(&s), -32768, "every connection opens with 32 MiB");
    s.set_page_cache_kib(8192).expect("set");
    assert_eq!(kib(&s), -8192);
}

/// A connection checkpoints when its WAL holds the pages it was given: with
/// a few, the commit of a batch of ~40 pages is checkpointed at once; with
/// many, it stays in the WAL (`-shm`'s `mxFrame` and `nBackfill`, offsets
/// 16 and 96 of SQLite's WAL index).
#[test]
fn a_connection_checkpoints_after_the_pages_it_is_given() {
    let frames = |s: &Store| -> (u32, u32) {
        let shm = std::fs::read(format!("{}-shm", s.path().display())).expect("shm");
        let at = |o: usize| u32::from_ne_bytes(shm[o..o + 4].try_into().expect("4 bytes"));
        (at(16), at(96))
    };
    let write = |pages: u32| -> (u32, u32) {
        let (_t, mut s) = tmp();
        s.set_checkpoint_pages(pages).expect("set");
        let pragma: i64 = s
            .conn()
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .expect("read");
        assert_eq!(pragma, pages as i64);
        let spans = (0..400)
            .map(|i| {
                let mut x = span(&format!("s{i}"), "r1", SpanKind::Event);
                x.text = Some(format!("{i} {}", "lorem ipsum ".repeat(120)));
                x
            })
            .collect();
        s.write(&batch(spans, vec![])).expect("write");
        frames(&s)
    };
    let (logged, backfilled) = write(4);
    assert!(logged > 4 && backfilled == logged, "{logged} {backfilled}");
    let (logged, backfilled) = write(10_000);
    assert!(logged > 4 && backfilled == 0, "{logged} {backfilled}");
}

/// The bundled SQLite is built with `.cargo/config.toml`'s `LIBSQLITE3_FLAGS`
/// on top of libsqlite3-sys's own options: no memory statistics (a global
/// mutex around every allocation), a page cache per connection (not one
/// shared behind a mutex, which memory management needs), no shared cache;
/// full-text search and JSON still there.
#[test]
fn sqlite_is_built_with_the_options_the_store_wants() {
    let (_t, s) = tmp();
    let mut st = s.conn().prepare("PRAGMA compile_options").expect("prep");
    let options = st
        .query_map([], |r| r.get::<_, String>(0))
        .expect("q")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    for want in [
        "DEFAULT_MEMSTATUS=0",
        "OMIT_SHARED_CACHE",
        "USE_ALLOCA",
        "ENABLE_FTS5",
    ] {
        assert!(options.iter().any(|o| o == want), "{want} in {options:?}");
    }
    assert!(
        !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
        "{options:?}"
    );
    let json: bool = s
        .conn()
        .query_row("SELECT json_valid('{\"a\": [1]}')", [], |r| r.get(0))
        .expect("json");
    assert!(json);
}
