//! `parent_key` kept by the writer, and `tree_head` against the full order.

use super::*;
use crate::model::{Origin, Span, SpanKind};
use crate::redact::{Mode, Redactor};
use crate::store::tree_order::tree_order;
use crate::store::StoreBatch;

fn tmp() -> (tempfile::TempDir, std::path::PathBuf, Store) {
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("st.db");
    let s = Store::open(&p).expect("open");
    (t, p, s)
}

/// Span `id` of `run` under `parent` starting at `start` (line `line`).
fn sp(run: &str, id: &str, parent: Option<&str>, start: Option<i64>, line: u64) -> Span {
    let mut s = Span::new(
        id,
        run,
        SpanKind::Tool,
        "n",
        Origin::new("/x/f.jsonl", line),
    );
    s.parent_id = parent.map(str::to_string);
    s.start_ms = start;
    s
}

fn write(s: &mut Store, spans: Vec<Span>) {
    let mut r = Redactor::new(Mode::Mask);
    s.write(&StoreBatch {
        spans: spans.into_iter().map(|x| r.redact_span(x).0).collect(),
        ..Default::default()
    })
    .expect("write");
}

/// The full order's first `need` rows as (key, depth, has children).
fn full_head(s: &Store, run: &str, need: usize) -> Vec<HeadRow> {
    let rows = tree_order(&s.span_skeleton(run).expect("skeleton"));
    rows.iter()
        .take(need)
        .map(|r| HeadRow {
            key: r.key,
            depth: r.depth,
            has_children: r.descendants > 0,
        })
        .collect()
}

/// `tree_head` equals the full order for every page length up to the run's
/// size (the last row of a full walk aside, whose children are not looked up).
fn check(s: &Store, run: &str) {
    let n = s.span_skeleton(run).expect("skeleton").len();
    for need in [1, 2, 3, 5, 8, 13, 40, n, n + 1] {
        let (total, got) = s.tree_head(run, need).expect("head").expect("walkable");
        assert_eq!(total as usize, n, "need {need}");
        let mut want = full_head(s, run, need);
        assert_eq!(got.len(), want.len(), "need {need}");
        if got.len() == need {
            if let Some(w) = want.last_mut() {
                w.has_children = false;
            }
        }
        assert_eq!(got, want, "need {need}");
    }
}

/// A deterministic shuffle (xorshift) of `v`.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// A random tree of `n` spans: span i's parent is an earlier span, its start
/// a few values that collide (siblings tie on start and break on line), some
/// with no start.
fn random_tree(run: &str, n: usize, seed: u64) -> Vec<Span> {
    let mut x = seed;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let parent = (i > 0 && next() % 5 != 0).then(|| format!("s{}", next() as usize % i));
            let start = (next() % 7 != 0).then(|| (next() % 20) as i64);
            sp(
                run,
                &format!("s{i}"),
                parent.as_deref(),
                start,
                (next() % 4) + 1,
            )
        })
        .collect()
}

#[test]
fn parents_written_in_order_walk_as_the_full_order() {
    let (_t, _p, mut s) = tmp();
    write(&mut s, random_tree("r1", 300, 7));
    check(&s, "r1");
}

#[test]
fn a_late_parent_in_a_later_batch_adopts_the_spans_that_named_it() {
    let (_t, _p, mut s) = tmp();
    write(
        &mut s,
        vec![
            sp("r1", "c1", Some("p"), Some(5), 2),
            sp("r1", "c2", Some("p"), Some(3), 3),
            sp("r1", "g", Some("c1"), Some(6), 4),
            sp("r1", "other", None, Some(4), 5),
        ],
    );
    // Until the parent comes its children are roots.
    check(&s, "r1");
    write(&mut s, vec![sp("r1", "p", None, Some(1), 1)]);
    check(&s, "r1");
    let (_, head) = s.tree_head("r1", 10).expect("head").expect("walkable");
    assert_eq!(
        head.iter().map(|h| h.depth).collect::<Vec<_>>(),
        [0, 1, 1, 2, 0]
    );
}

#[test]
fn children_before_their_parents_in_one_batch_and_shuffled_batches() {
    let (_t, _p, mut s) = tmp();
    let mut spans = random_tree("r1", 400, 11);
    spans.reverse();
    write(&mut s, spans);
    check(&s, "r1");
    let mut spans = random_tree("r2", 400, 12);
    shuffle(&mut spans, 99);
    for chunk in spans.chunks(37) {
        write(&mut s, chunk.to_vec());
        check(&s, "r2");
    }
}

#[test]
fn two_writers_interleaving_batches_of_one_run() {
    let (_t, p, mut a) = tmp();
    let mut b = Store::open(&p).expect("second writer");
    let mut spans = random_tree("r1", 300, 21);
    shuffle(&mut spans, 5);
    for (i, chunk) in spans.chunks(23).enumerate() {
        let w = if i % 2 == 0 { &mut a } else { &mut b };
        write(w, chunk.to_vec());
    }
    check(&a, "r1");
    check(&b, "r1");
}

#[test]
fn re_sent_spans_that_change_parent_or_start_move_in_the_walk() {
    let (_t, _p, mut s) = tmp();
    write(&mut s, random_tree("r1", 120, 31));
    // Re-sent: a new parent for some, a new start for others, a parent not in the run.
    write(
        &mut s,
        vec![
            sp("r1", "s50", Some("s3"), None, 1),
            sp("r1", "s60", Some("s1"), Some(1), 1),
            sp("r1", "s70", Some("nowhere"), None, 1),
            sp("r1", "s80", None, Some(0), 1),
        ],
    );
    check(&s, "r1");
    // The parent named by s70 arrives.
    write(&mut s, vec![sp("r1", "nowhere", Some("s2"), Some(9), 9)]);
    check(&s, "r1");
}

#[test]
fn self_parents_and_spans_of_other_runs_are_roots_of_their_own_run() {
    let (_t, _p, mut s) = tmp();
    write(
        &mut s,
        vec![
            sp("r1", "a", Some("a"), Some(2), 1),
            sp("r1", "b", Some("x"), Some(1), 2),
            sp("r2", "x", None, Some(0), 1),
            sp("r1", "c", Some("a"), None, 3),
        ],
    );
    check(&s, "r1");
    check(&s, "r2");
}

#[test]
fn a_parent_cycle_is_left_to_the_full_order_unless_the_page_fits_before_it() {
    let (_t, _p, mut s) = tmp();
    write(
        &mut s,
        vec![
            sp("r1", "root", None, Some(0), 1),
            sp("r1", "k", Some("root"), Some(1), 2),
            sp("r1", "c1", Some("c2"), Some(2), 3),
            sp("r1", "c2", Some("c1"), Some(3), 4),
        ],
    );
    // Two rows are the tree's; the cycle comes after it in the full order.
    assert_eq!(
        s.tree_head("r1", 2).expect("head"),
        Some((
            4,
            vec![
                HeadRow {
                    key: full_head(&s, "r1", 1)[0].key,
                    depth: 0,
                    has_children: true
                },
                HeadRow {
                    key: full_head(&s, "r1", 2)[1].key,
                    depth: 1,
                    has_children: false
                }
            ]
        ))
    );
    assert_eq!(s.tree_head("r1", 3).expect("head"), None);
    assert_eq!(s.tree_head("nope", 3).expect("head"), None);
}

#[test]
fn the_backfill_resolves_old_rows_in_resumable_batches() {
    let (_t, p, mut s) = tmp();
    write(&mut s, random_tree("r1", 250, 41));
    write(&mut s, random_tree("r2", 50, 42));
    // As a store upgraded from before migration 12.
    s.conn()
        .execute("UPDATE spans SET parent_key = NULL", [])
        .expect("unresolve");
    assert_eq!(s.tree_head("r1", 5).expect("head"), None);
    // Cut short after two batches (as a killed process would be).
    assert_eq!(s.fill_parent_keys_batch(100).expect("fill"), 100);
    assert_eq!(s.fill_parent_keys_batch(100).expect("fill"), 100);
    assert_eq!(s.tree_head("r2", 5).expect("head"), None);
    drop(s);
    // The next writer's open finishes it.
    let s = Store::open(&p).expect("reopen");
    let left: i64 = s
        .conn()
        .query_row(
            "SELECT count(*) FROM spans WHERE parent_key IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(left, 0);
    check(&s, "r1");
    check(&s, "r2");
}

/// [`OrphanWatch`] holds at most `WAITING_MAX` waiting parent ids: the query
/// reads one more, to know there were more.
#[test]
fn the_waiting_parents_limit_is_one_past_the_most_held() {
    assert!(WAITING_PARENTS.ends_with(&format!("LIMIT {}", WAITING_MAX + 1)));
}

/// The children query reads `spans_tree` in order (no sort, so stopping
/// after the rows needed reads no more) and is never prepared again, however
/// many rows each call wants (a bound `LIMIT` made SQLite re-prepare it
/// after every binding).
#[test]
fn the_children_query_walks_its_index_in_order_and_is_prepared_once() {
    let (_t, _p, mut s) = tmp();
    write(&mut s, random_tree("r1", 300, 7));
    let plan: Vec<String> = s
        .conn()
        .prepare(&format!("EXPLAIN QUERY PLAN {KIDS}"))
        .expect("plan")
        .query_map(params![1, 0], |r| r.get::<_, String>(3))
        .expect("rows")
        .map(Result::unwrap)
        .collect();
    assert!(plan.iter().any(|l| l.contains("spans_tree")), "{plan:?}");
    assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
    for need in [1, 7, 40, 120, 3, 300] {
        check_len(&s, "r1", need);
    }
    let reprepared = s
        .conn()
        .prepare_cached(KIDS)
        .expect("cached")
        .get_status(rusqlite::StatementStatus::RePrepare);
    assert_eq!(reprepared, 0);
}

fn check_len(s: &Store, run: &str, need: usize) {
    let (_, got) = s.tree_head(run, need).expect("head").expect("walkable");
    assert_eq!(got.len(), need.min(300));
    assert_eq!(
        got.iter().map(|r| r.key).collect::<Vec<_>>(),
        full_head(s, run, need)
            .iter()
            .map(|r| r.key)
            .collect::<Vec<_>>()
    );
}
