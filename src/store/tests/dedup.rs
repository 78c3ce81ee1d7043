//! Findings deduplicated by `(scope, fingerprint)` (schema 15): a re-import
//! adds nothing, a store-wide rule is one finding across runs, lookups by
//! fingerprint alone (triage lines, the guard's decision) still find their
//! finding, and a v14 store upgrades keeping every finding as it was.

use super::*;

fn cost_day(fp: &str, run: &str) -> Finding {
    let mut f = finding(fp, run, Severity::Medium);
    f.rule_id = crate::detect::rules::id::COST_DAY.into();
    f.span_ids = vec![];
    f
}

fn count(s: &Store, sql: &str) -> i64 {
    s.conn().query_row(sql, [], |r| r.get(0)).expect("count")
}

fn triage(fp: &str, status: TriageStatus, note: &str) -> StoreBatch {
    let mut r = Redactor::new(Mode::Mask);
    StoreBatch {
        triage: vec![(fp.into(), status, Some(r.redact_text(note)))],
        ..Default::default()
    }
}

fn status_of(s: &Store, fp: &str) -> (String, Option<String>) {
    s.conn()
        .query_row(
            "SELECT status, reason FROM findings WHERE fingerprint = ?1",
            [fp],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row")
}

#[test]
fn a_reimport_adds_nothing_and_a_store_wide_rule_is_one_finding_across_runs() {
    let (_t, mut s) = tmp();
    let first = batch(
        vec![],
        vec![
            finding("a", "r1", Severity::High),
            finding("b", "r2", Severity::Low),
            cost_day("day", "r1"),
        ],
    );
    assert_eq!(s.write(&first).expect("w1").new_findings, 3);
    assert_eq!(s.write(&first).expect("again").new_findings, 0);
    // The day's crossing seen again by another writer, under another run.
    let other = batch(vec![], vec![cost_day("day", "r3")]);
    assert_eq!(s.write(&other).expect("w2").new_findings, 0);
    assert_eq!(count(&s, "SELECT count(*) FROM findings"), 3);
    assert_eq!(
        count(
            &s,
            "SELECT run_id = 'r1' FROM findings WHERE fingerprint = 'day'"
        ),
        1
    );
    // Each run's findings are scoped by its key; the store-wide one by 0.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM findings f JOIN runs r ON r.id = f.run_id \
             WHERE f.scope = CASE WHEN f.fingerprint = 'day' THEN 0 ELSE r.key END"
        ),
        3
    );
    // A chain raised in a later batch updates its row in place.
    let mut up = finding("a", "r1", Severity::Critical);
    up.span_ids = vec!["s1".into(), "s2".into()];
    assert_eq!(
        s.write(&batch(vec![], vec![up])).expect("w3").new_findings,
        0
    );
    assert_eq!(
        count(&s, "SELECT severity FROM findings WHERE fingerprint = 'a'"),
        Severity::Critical.rank()
    );
}

#[test]
fn triage_lines_find_their_finding_in_the_same_write_or_by_a_scan() {
    let (_t, mut s) = tmp();
    s.write(&batch(
        vec![],
        vec![finding("a", "r1", Severity::High), cost_day("day", "r2")],
    ))
    .expect("w1");
    // Alone in its batch (a triage file, or cut from its finding): the scan.
    s.write(&triage("a", TriageStatus::FalsePositive, "benign"))
        .expect("t1");
    assert_eq!(
        status_of(&s, "a"),
        ("false-positive".into(), Some("benign".into()))
    );
    s.write(&triage("day", TriageStatus::Confirmed, ""))
        .expect("t2");
    assert_eq!(status_of(&s, "day").0, "confirmed");
    // After its finding in one batch (as an export writes them): the probe.
    let mut b = batch(vec![], vec![finding("c", "r3", Severity::Low)]);
    b.triage = triage("c", TriageStatus::Suppressed, "known").triage;
    s.write(&b).expect("w2");
    assert_eq!(
        status_of(&s, "c"),
        ("suppressed".into(), Some("known".into()))
    );
    // A fingerprint naming no finding changes nothing.
    s.write(&triage("zz", TriageStatus::Confirmed, ""))
        .expect("t3");
    assert_eq!(
        count(&s, "SELECT count(*) FROM findings WHERE status = 'open'"),
        0
    );
    assert_eq!(count(&s, "SELECT count(*) FROM findings"), 3);
}

#[test]
fn the_guards_decision_lands_with_or_without_its_findings_in_hand() {
    let (_t, mut s) = tmp();
    let b = batch(
        vec![],
        vec![
            finding("a", "r1", Severity::High),
            finding("b", "r1", Severity::High),
        ],
    );
    s.write(&b).expect("w");
    s.set_guard_decision(&["a".into()], &b.findings, GuardDecision::Denied)
        .expect("known");
    s.set_guard_decision(&["b".into(), "zz".into()], &[], GuardDecision::Asked)
        .expect("scan");
    let d = |fp: &str| -> Option<String> {
        s.conn()
            .query_row(
                "SELECT guard_decision FROM findings WHERE fingerprint = ?1",
                [fp],
                |r| r.get(0),
            )
            .expect("row")
    };
    assert_eq!(d("a").as_deref(), Some("denied"));
    assert_eq!(d("b").as_deref(), Some("asked"));
}

#[test]
fn the_catalogues_store_wide_rules_are_those_migration_15_scoped_as_0() {
    let wide: Vec<&str> = crate::detect::rules::catalogue()
        .iter()
        .filter(|r| r.store_wide)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(wide, schema::STORE_WIDE_AT_15);
}

/// Every column of every finding but `scope`, in id order, as text.
fn findings_as_text(c: &rusqlite::Connection) -> Vec<String> {
    let mut st = c
        .prepare(
            "SELECT json_array(id, fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids, title, \
             message, evidence, origin_path, origin_line, skill_id, ts_ms, related, status, note, triaged_ms, \
             created_ms, reason, triaged_by, guard_decision) FROM findings ORDER BY id",
        )
        .expect("prep");
    let v = st
        .query_map([], |r| r.get(0))
        .expect("q")
        .collect::<Result<Vec<String>, _>>()
        .expect("rows");
    v
}

#[test]
fn a_v14_store_upgrades_keeping_every_finding_its_triage_and_guard_decision() {
    let t = tempfile::tempdir().expect("tempdir");
    let path = t.path().join("v14.db");
    let before = {
        let c = super::store_at_version(&path, 14);
        c.execute_batch(
            "INSERT INTO runs(key, id, source) VALUES(7, 'r1', 'f'), (9, 'r2', 'f');
             INSERT INTO tally(name, n) VALUES('runs', 2) ON CONFLICT(name) DO UPDATE SET n = 2;
             INSERT INTO findings(id, fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids, title,
                 message, evidence, ts_ms, created_ms, status, reason, triaged_by, triaged_ms, guard_decision)
               VALUES(3, 'a', 'EXF-TRACE-003', 3, 0.9, 'r1', 's1', '[\"s1\"]', 't', 'm', 'e', 5, 1,
                      'false-positive', 'benign', 'ana', 10, 'denied'),
                     (4, 'b', 'EXF-TRACE-001', 4, 0.5, 'r2', NULL, '[]', 't', 'm', 'e', 6, 1,
                      'confirmed', NULL, 'bo', 11, 'asked'),
                     (8, 'day', 'COST-TRACE-002', 2, 1.0, 'r2', NULL, '[]', 't', 'm', 'e', 7, 1,
                      'open', NULL, NULL, NULL, NULL),
                     (9, 'lost', 'EXF-TRACE-002', 2, 0.7, 'gone', NULL, '[]', 't', 'm', 'e', 8, 1,
                      'suppressed', 'noise', NULL, 12, 'allowed');
             INSERT INTO finding_notes(finding_id, author, ts_ms, text) VALUES(3, 'ana', 10, 'seen');
             INSERT INTO finding_tally(severity, status, n)
               VALUES(3, 'false-positive', 1), (4, 'confirmed', 1), (2, 'open', 1), (2, 'suppressed', 1);",
        )
        .expect("rows");
        findings_as_text(&c)
    };
    let mut s = Store::open(&path).expect("upgrade");
    assert_eq!(findings_as_text(s.conn()), before);
    let scopes = |s: &Store| -> Vec<(i64, i64)> {
        let mut st = s
            .conn()
            .prepare("SELECT id, scope FROM findings ORDER BY id")
            .expect("prep");
        let v = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("q")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        v
    };
    let gone = count(&s, "SELECT key FROM runs WHERE id = 'gone'");
    assert_eq!(scopes(&s), [(3, 7), (4, 9), (8, 0), (9, gone)]);
    // The finding whose run had no row got one, counted.
    assert_eq!(s.counts().expect("counts").runs, 3);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM finding_notes WHERE finding_id = 3"
        ),
        1
    );
    // Only the new unique index; the fingerprint's own is gone.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'findings' AND name LIKE 'sqlite_autoindex%'"
        ),
        0
    );
    // Written again (a re-import of the same findings): nothing new, triage kept.
    let mut lost = finding("lost", "gone", Severity::Medium);
    lost.span_ids = vec![];
    let again = batch(
        vec![],
        vec![
            finding("a", "r1", Severity::High),
            lost,
            cost_day("day", "r1"),
        ],
    );
    assert_eq!(s.write(&again).expect("write").new_findings, 0);
    assert_eq!(findings_as_text(s.conn()), before);
    assert_eq!(
        status_of(&s, "lost"),
        ("suppressed".into(), Some("noise".into()))
    );
}
