//! Runs as the store keeps them: merged across records and batches, the
//! earliest start and the strongest title winning.

use super::*;

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
fn run_records_folded_in_one_batch_equal_the_same_records_one_batch_each() {
    let recs = || {
        let mk =
            |start: Option<i64>, end: Option<i64>, cwd: Option<&str>, parent: Option<&str>| Run {
                id: "r".into(),
                agent: None,
                source: String::new(),
                started_ms: start,
                ended_ms: end,
                cwd: cwd.map(String::from),
                parent_run_id: parent.map(String::from),
                ..Default::default()
            };
        vec![
            mk(None, Some(70), None, None),
            mk(Some(40), None, Some("/a"), None),
            Run {
                agent: Some(AgentKind::ClaudeCode),
                source: "f.jsonl".into(),
                ..mk(Some(10), Some(90), Some("/b"), Some("p1"))
            },
            mk(Some(20), Some(80), None, Some("p2")),
        ]
    };
    let row = |batches: Vec<Vec<Run>>| {
        let (_t, mut s) = tmp();
        let mut r = Redactor::new(Mode::Mask);
        for b in batches {
            s.write(&StoreBatch {
                runs: b.into_iter().map(|x| r.redact_run(x)).collect(),
                ..Default::default()
            })
            .expect("write");
        }
        let x = s.run("r").expect("q").expect("run").run;
        (
            x.agent,
            x.source,
            x.parent_run_id,
            x.started_ms,
            x.ended_ms,
            x.cwd,
        )
    };
    let together = row(vec![recs()]);
    let apart = row(recs().into_iter().map(|x| vec![x]).collect());
    assert_eq!(together, apart);
    assert_eq!(
        together,
        (
            Some(AgentKind::ClaudeCode),
            "f.jsonl".to_string(),
            Some("p1".to_string()),
            Some(10),
            Some(90),
            Some("/a".to_string())
        )
    );
}

#[test]
fn a_named_title_beats_a_generated_one_beats_the_first_prompt_in_or_across_batches() {
    let mk = |title: &str, kind: TitleKind| Run {
        id: "r".into(),
        title: Some(title.into()),
        title_kind: kind,
        ..Default::default()
    };
    let untitled = Run {
        id: "r".into(),
        ..Default::default()
    };
    let cases: Vec<(Vec<Run>, (&str, TitleKind))> = vec![
        (
            vec![
                mk("prompt", TitleKind::Prompt),
                mk("later prompt", TitleKind::Prompt),
            ],
            ("prompt", TitleKind::Prompt),
        ),
        (
            vec![
                mk("prompt", TitleKind::Prompt),
                mk("ai", TitleKind::Generated),
                mk("ai 2", TitleKind::Generated),
                mk("later prompt", TitleKind::Prompt),
            ],
            ("ai 2", TitleKind::Generated),
        ),
        (
            vec![
                mk("named", TitleKind::Named),
                mk("prompt", TitleKind::Prompt),
                mk("ai", TitleKind::Generated),
                mk("renamed", TitleKind::Named),
                untitled.clone(),
                mk("ai 2", TitleKind::Generated),
            ],
            ("renamed", TitleKind::Named),
        ),
    ];
    for (recs, want) in cases {
        let together = vec![recs.clone()];
        let apart = recs.iter().cloned().map(|x| vec![x]).collect::<Vec<_>>();
        for batches in [together, apart] {
            let (_t, mut s) = tmp();
            let mut r = Redactor::new(Mode::Mask);
            for b in batches {
                s.write(&StoreBatch {
                    runs: b.into_iter().map(|x| r.redact_run(x)).collect(),
                    ..Default::default()
                })
                .expect("write");
            }
            let x = s.run("r").expect("q").expect("run").run;
            assert_eq!((x.title.as_deref(), x.title_kind), (Some(want.0), want.1));
        }
    }
}

/// `tally`'s runs and spans against a count of the tables.
fn tally_matches_a_scan(s: &Store) {
    let c = s.counts().expect("counts");
    let one = |q: &str| {
        s.conn()
            .query_row(q, [], |r| r.get::<_, i64>(0))
            .expect("q") as u64
    };
    assert_eq!(c.runs, one("SELECT count(*) FROM runs"), "runs");
    assert_eq!(c.spans, one("SELECT count(*) FROM spans"), "spans");
    assert_eq!(
        c.spans,
        one("SELECT COALESCE(sum(span_count), 0) FROM runs"),
        "span counters"
    );
}

#[test]
fn the_write_path_tallies_runs_made_by_run_records_spans_and_findings_alone() {
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("st.db");
    let mut s = Store::open(&p).expect("open");
    let mut r = Redactor::new(Mode::Mask);
    let run = |id: &str| Run {
        id: id.into(),
        source: "f".into(),
        ..Default::default()
    };
    // A run announced before its spans, one made by a span, one by a finding.
    s.write(&StoreBatch {
        runs: vec![r.redact_run(run("a")), r.redact_run(run("a"))],
        spans: vec![
            r.redact_span(span("s1", "a", SpanKind::Tool)).0,
            r.redact_span(span("s2", "b", SpanKind::Llm)).0,
        ],
        findings: vec![r.redact_finding(finding("f1", "c", Severity::High))],
        ..Default::default()
    })
    .expect("w1");
    tally_matches_a_scan(&s);
    assert_eq!(s.counts().expect("counts").runs, 3);
    // Known runs again, a re-sent span, a new one; then a second writer.
    s.write(&batch(
        vec![
            span("s1", "a", SpanKind::Tool),
            span("s3", "c", SpanKind::Tool),
        ],
        vec![],
    ))
    .expect("w2");
    tally_matches_a_scan(&s);
    let mut other = Store::open(&p).expect("second writer");
    other
        .write(&batch(
            vec![
                span("s4", "d", SpanKind::Tool),
                span("s5", "a", SpanKind::Tool),
            ],
            vec![],
        ))
        .expect("w3");
    s.write(&batch(vec![span("s6", "e", SpanKind::Tool)], vec![]))
        .expect("w4");
    tally_matches_a_scan(&s);
    assert_eq!(s.counts().expect("counts").runs, 5);
    // No trigger fires on a run insert or a counter update any more.
    let triggers: i64 = s
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'runs'",
            [],
            |r| r.get(0),
        )
        .expect("q");
    assert_eq!(triggers, 1, "only tally_run_delete is left");
}

#[test]
fn a_v12_store_keeps_its_tally_through_the_upgrade_and_after() {
    let t = tempfile::tempdir().expect("tempdir");
    let path = t.path().join("v12.db");
    {
        // A store as skilltrace wrote it at schema v12, its tally kept by triggers.
        let c = super::store_at_version(&path, 12);
        c.execute_batch(
            "INSERT INTO runs(id, source) VALUES('old', 'f');
             UPDATE runs SET span_count = 2 WHERE id = 'old';
             INSERT INTO spans(run_key, id, kind, parent_key) VALUES(1, 'o1', 'tool', 0), (1, 'o2', 'tool', 0);",
        )
        .expect("rows");
        let n: i64 = c
            .query_row("SELECT n FROM tally WHERE name = 'spans'", [], |r| r.get(0))
            .expect("tally");
        assert_eq!(n, 2, "the v12 trigger counted them");
    }
    let mut s = Store::open(&path).expect("upgrade");
    tally_matches_a_scan(&s);
    s.write(&batch(
        vec![
            span("n1", "old", SpanKind::Tool),
            span("n2", "new", SpanKind::Tool),
        ],
        vec![],
    ))
    .expect("write after the upgrade");
    tally_matches_a_scan(&s);
    assert_eq!(s.counts().expect("counts").runs, 2);
    assert_eq!(s.counts().expect("counts").spans, 4);
}

/// A run's counters, models and times come out of a batch the same whether
/// the write updates only its counters (start not moved earlier, `updated_ms`
/// already this write's) or its indexed times too
/// (`write_runs::apply_run_deltas`).
#[test]
fn a_runs_counters_and_times_follow_each_batch_whichever_update_it_takes() {
    let (_t, mut s) = tmp();
    let mut r = Redactor::new(Mode::Mask);
    let mut sp = |id: &str, start: i64, model: &str| {
        let mut x = span(id, "r", SpanKind::Llm);
        x.start_ms = Some(start);
        x.model = Some(model.into());
        r.redact_span(x).0
    };
    let row = |s: &Store| -> (i64, Option<i64>, String, i64) {
        s.conn
            .query_row(
                "SELECT span_count, started_ms, models, updated_ms FROM runs WHERE id='r'",
                [],
                |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?)),
            )
            .expect("row")
    };
    // The run's record and a later span: counters only.
    let run = Redactor::new(Mode::Mask).redact_run(Run {
        id: "r".into(),
        source: "f".into(),
        started_ms: Some(100),
        ..Default::default()
    });
    s.write(&StoreBatch {
        runs: vec![run],
        spans: vec![sp("a", 150, "m1")],
        ..Default::default()
    })
    .expect("write");
    let (n, start, models, first) = row(&s);
    assert_eq!((n, start, models.as_str()), (1, Some(100), "m1"));
    // A span before the run's start, in a later write: the start moves.
    std::thread::sleep(std::time::Duration::from_millis(3));
    s.write(&StoreBatch {
        spans: vec![sp("b", 50, "m2"), sp("c", 60, "m1")],
        ..Default::default()
    })
    .expect("write");
    let (n, start, models, second) = row(&s);
    assert_eq!((n, start, models.as_str()), (3, Some(50), "m1,m2"));
    assert!(second > first, "updated_ms {first} -> {second}");
    // Spans only, start kept, in a later write: `updated_ms` still moves.
    std::thread::sleep(std::time::Duration::from_millis(3));
    s.write(&StoreBatch {
        spans: vec![sp("d", 500, "m2")],
        ..Default::default()
    })
    .expect("write");
    let (n, start, models, third) = row(&s);
    assert_eq!((n, start, models.as_str()), (4, Some(50), "m1,m2"));
    assert!(third > second, "updated_ms {second} -> {third}");
    // The runs list's order by recency sees the same row.
    let recent: i64 = s
        .conn
        .query_row(
            "SELECT count(*) FROM runs INDEXED BY runs_recent WHERE COALESCE(started_ms, updated_ms) = 50",
            [],
            |x| x.get(0),
        )
        .expect("recent");
    assert_eq!(recent, 1);
}
