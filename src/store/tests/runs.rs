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
