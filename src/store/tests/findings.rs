//! Findings as the store tallies them: `finding_tally` by severity and
//! status follows new, raised and triaged findings, kept by the write path
//! for raises (no trigger fires on one) and through the schema-14 upgrade.

use super::*;

/// `finding_tally` against a count of `findings`, both by (severity, status).
fn tally_matches_a_scan(s: &Store) {
    let rows = |q: &str| -> Vec<(i64, String, i64)> {
        let mut st = s.conn().prepare(q).expect("prep");
        let v = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("q")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        v
    };
    assert_eq!(
        rows("SELECT severity, status, n FROM finding_tally WHERE n <> 0 ORDER BY 1, 2"),
        rows("SELECT severity, status, count(*) FROM findings GROUP BY 1, 2 ORDER BY 1, 2"),
    );
}

/// The SQL of the triggers on `findings`.
fn finding_triggers(s: &Store) -> Vec<String> {
    let mut st = s
        .conn()
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'findings' ORDER BY name")
        .expect("prep");
    let v = st
        .query_map([], |r| r.get(0))
        .expect("q")
        .collect::<Result<Vec<String>, _>>()
        .expect("rows");
    v
}

fn id(s: &Store, fp: &str) -> i64 {
    s.conn()
        .query_row(
            "SELECT id FROM findings WHERE fingerprint = ?1",
            [fp],
            |r| r.get(0),
        )
        .expect("id")
}

fn raised(fp: &str, sev: Severity, steps: usize) -> Finding {
    let mut f = finding(fp, "r1", sev);
    f.span_ids = (0..steps).map(|i| format!("s{i}")).collect();
    f
}

#[test]
fn raises_of_open_and_triaged_findings_move_their_own_rows() {
    let (_t, mut s) = tmp();
    s.write(&batch(
        vec![],
        vec![
            raised("a", Severity::Low, 1),
            raised("b", Severity::Medium, 1),
            raised("c", Severity::Medium, 1),
        ],
    ))
    .expect("w1");
    tally_matches_a_scan(&s);
    let (b, c) = (id(&s, "b"), id(&s, "c"));
    s.set_triage(b, TriageStatus::Confirmed, None)
        .expect("triage");
    s.set_triage(c, TriageStatus::Suppressed, Some("known"))
        .expect("triage");
    tally_matches_a_scan(&s);
    // Raised: an open one twice in one batch, a confirmed and a suppressed
    // one; one with more steps at the same severity (no move); a new one
    // raised in the batch that inserts it.
    s.write(&batch(
        vec![],
        vec![
            raised("a", Severity::Medium, 1),
            raised("a", Severity::Critical, 2),
            raised("b", Severity::High, 1),
            raised("c", Severity::Medium, 3),
            raised("d", Severity::Low, 1),
            raised("d", Severity::High, 1),
        ],
    ))
    .expect("w2");
    tally_matches_a_scan(&s);
    let c = s.counts().expect("counts");
    assert_eq!(
        c.findings,
        [0, 0, 1, 2, 1],
        "by rank: info low medium high critical"
    );
    assert_eq!(c.open, [0, 0, 0, 1, 1]);
    // Triage after a raise moves the finding from its raised row.
    s.set_triage(id(&s, "a"), TriageStatus::Confirmed, None)
        .expect("triage");
    tally_matches_a_scan(&s);
    assert_eq!(s.counts().expect("counts").open, [0, 0, 0, 1, 0]);
    // Only deletes and status changes fire a trigger on `findings`.
    assert_eq!(
        finding_triggers(&s),
        ["finding_tally_delete", "finding_tally_status"]
    );
}

#[test]
fn a_v13_store_keeps_its_finding_tally_through_the_upgrade_and_after() {
    let t = tempfile::tempdir().expect("tempdir");
    let path = t.path().join("v13.db");
    {
        // A store as skilltrace wrote it at schema v13: raises moved by the update trigger.
        let c = super::store_at_version(&path, 13);
        c.execute_batch(
            "INSERT INTO findings(fingerprint, rule_id, severity, confidence, run_id, title, message, evidence, created_ms)
               VALUES('a', 'R', 1, 0.9, 'r1', 't', 'm', 'e', 1), ('b', 'R', 2, 0.9, 'r1', 't', 'm', 'e', 1);
             INSERT INTO finding_tally(severity, status, n) VALUES(1, 'open', 1), (2, 'open', 1);
             UPDATE findings SET severity = 3 WHERE fingerprint = 'a';",
        )
        .expect("rows");
        let n: i64 = c
            .query_row(
                "SELECT n FROM finding_tally WHERE severity = 3 AND status = 'open'",
                [],
                |r| r.get(0),
            )
            .expect("tally");
        assert_eq!(n, 1, "the v13 trigger moved the raise");
    }
    let mut s = Store::open(&path).expect("upgrade");
    tally_matches_a_scan(&s);
    assert_eq!(
        finding_triggers(&s),
        ["finding_tally_delete", "finding_tally_status"]
    );
    s.write(&batch(
        vec![],
        vec![
            raised("b", Severity::Critical, 1),
            raised("n", Severity::Low, 1),
        ],
    ))
    .expect("write after the upgrade");
    tally_matches_a_scan(&s);
    let b: i64 = s
        .conn()
        .query_row("SELECT id FROM findings WHERE fingerprint = 'b'", [], |r| {
            r.get(0)
        })
        .expect("id");
    s.set_triage(b, TriageStatus::Suppressed, None)
        .expect("triage");
    tally_matches_a_scan(&s);
    assert_eq!(s.counts().expect("counts").findings, [0, 1, 0, 1, 1]);
}
