//! Tests of the store thread: batches in and out of the links, the bytes bound,
//! index passes during and after an import, checkpoints, and failure paths.

use super::*;
use crate::model::{Origin, Span, SpanKind};
use crate::redact::Redactor;

fn batch(r: &mut Redactor, run: &str, ids: std::ops::Range<usize>) -> StoreBatch {
    let mut b = StoreBatch::default();
    for i in ids {
        let mut s = Span::new(
            format!("s{i}"),
            run,
            SpanKind::Event,
            "e",
            Origin::new("f", 1),
        );
        s.text = Some("x".repeat(1000));
        b.spans.push(r.redact_span(s).0);
    }
    b
}

/// A batch handed back is emptied, and keeps at most [`SPARE_CAPACITY`]
/// of each vector: one batch that held many small files' rows does not
/// size every later one.
#[test]
fn a_spare_batch_keeps_a_bounded_capacity() {
    let mut r = Redactor::default();
    let mut big = batch(&mut r, "a", 0..3);
    big.spans.reserve(4 * BATCH_RECORDS);
    big.findings.reserve(4 * BATCH_RECORDS);
    let small = batch(&mut r, "a", 0..3);
    let (big, small) = (emptied(big), emptied(small));
    assert!(big.spans.is_empty() && small.spans.is_empty());
    assert!(big.spans.capacity() <= SPARE_CAPACITY);
    assert!(big.findings.capacity() <= SPARE_CAPACITY);
    assert!(small.spans.capacity() >= 3, "small vectors keep theirs");
}

#[test]
fn links_commit_in_their_order_within_the_byte_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path).unwrap());
    // A bound smaller than one batch: each send waits for the last one to be stored.
    let t = StoreThread::spawn_bounded(&path, CommitConfig::default(), 1).unwrap();
    std::thread::scope(|s| {
        for run in ["a", "b"] {
            let link = t.link();
            s.spawn(move || {
                let mut r = Redactor::default();
                for k in 0..5 {
                    assert!(link.send(batch(&mut r, run, k * 10..k * 10 + 10)));
                    let _ = link.spare();
                }
            });
        }
    });
    let stats = t.finish().unwrap();
    assert_eq!(stats.new_spans, 100);
    let store = Store::open(&path).unwrap();
    for run in ["a", "b"] {
        // Rows of one link keep the order they were sent in.
        let ids: Vec<String> = store
            .conn()
            .prepare(
                "SELECT s.id FROM spans s JOIN runs r ON r.key = s.run_key
                  WHERE r.id = ?1 ORDER BY s.key",
            )
            .unwrap()
            .query_map([run], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let want: Vec<String> = (0..50).map(|i| format!("s{i}")).collect();
        assert_eq!(ids, want);
    }
}

/// What a search of each word finds, in a stable order.
fn found(store: &Store) -> Vec<Vec<(String, String)>> {
    ["alpha", "beta", "gamma", "later"]
        .iter()
        .map(|w| {
            let mut hits: Vec<(String, String)> = store
                .search(w, 10_000)
                .unwrap()
                .into_iter()
                .map(|h| (h.run_id, h.span_id))
                .collect();
            hits.sort();
            hits
        })
        .collect()
}

/// Batches of two runs whose spans name a word each; every batch after
/// the first also re-sends two spans of the one before with more text.
fn worded(r: &mut Redactor, run: &str, k: usize) -> StoreBatch {
    let words = ["alpha", "beta", "gamma"];
    let mut b = StoreBatch::default();
    let mut push = |i: usize, output: Option<String>| {
        let mut s = Span::new(
            format!("s{i}"),
            run,
            SpanKind::Tool,
            "t",
            Origin::new("f", i as u64 + 1),
        );
        s.tool_input = Some(format!("{} {i}", words[i % 3]));
        s.tool_output = output;
        b.spans.push(r.redact_span(s).0);
    };
    for i in k * 30..k * 30 + 30 {
        push(i, None);
    }
    if k > 0 {
        push(k * 30 - 1, Some("later".into()));
        push(k * 30 - 2, Some("later".into()));
    }
    b
}

#[test]
fn an_index_built_as_batches_commit_answers_as_one_built_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let (went, after) = (dir.path().join("went.db"), dir.path().join("after.db"));
    drop(Store::open(&went).unwrap());
    // Every 50 new spans, all but the newest 20: 600 spans in 20 batches.
    let t = StoreThread::spawn_inner(
        &went,
        CommitConfig::default(),
        STORE_BYTES,
        Some(Indexer::new(50, 20)),
    )
    .unwrap();
    std::thread::scope(|s| {
        for run in ["a", "b"] {
            let link = t.link();
            s.spawn(move || {
                let mut r = Redactor::default();
                for k in 0..10 {
                    assert!(link.send(worded(&mut r, run, k)));
                }
            });
        }
    });
    t.finish().unwrap();
    let mut store = Store::open(&went).unwrap();
    assert!(store.fts_bulk_mine().unwrap(), "bulk settings switched on");
    let left = store.fts_fresh().unwrap();
    assert!(
        (20..=70).contains(&left),
        "most of it indexed already: {left} left"
    );
    // The import finishes it: the rest, then the settings back.
    while store.index_fts(1_000).unwrap() > 0 {}
    store.set_fts_bulk(false).unwrap();
    assert!(!store.fts_bulk_mine().unwrap());
    // The same batches written, then indexed in one go.
    let mut other = Store::open(&after).unwrap();
    let mut r = Redactor::default();
    for k in 0..10 {
        for run in ["a", "b"] {
            other.write(&worded(&mut r, run, k)).unwrap();
        }
    }
    while other.index_fts(1_000).unwrap() > 0 {}
    let (a, b) = (found(&store), found(&other));
    assert_eq!(a[0].len(), 200, "alpha: a third of 600 spans");
    assert_eq!(a[3].len(), 36, "re-sent spans found by their new text");
    assert_eq!(a, b);
}

/// Once a worker winds down, the thread indexes on the free core when no
/// batch waits, leaving out only the newest spans; what a search finds is
/// what an index built after the import finds.
#[test]
fn a_winding_down_import_is_indexed_while_the_last_batches_come() {
    let dir = tempfile::tempdir().unwrap();
    let (went, after) = (dir.path().join("went.db"), dir.path().join("after.db"));
    drop(Store::open(&went).unwrap());
    // Passes every 10,000 new spans would never run on 300: only the
    // passes on a free core index here (all but the newest 20, at least
    // 10 a pass; each batch adds 30 new spans).
    let t = StoreThread::spawn_inner(
        &went,
        CommitConfig::default(),
        STORE_BYTES,
        Some(Indexer::new(10_000, 20).tail(20, 10)),
    )
    .unwrap();
    let (first, last) = (t.link(), t.link());
    let mut r = Redactor::default();
    for k in 0..5 {
        assert!(first.send(worded(&mut r, "a", k)));
    }
    first.winding_down();
    drop(first);
    let mut r = Redactor::default();
    for k in 0..5 {
        assert!(last.send(worded(&mut r, "b", k)));
    }
    // Once every batch is stored and nothing waits, the thread indexes
    // all but the newest 20 spans (the links are still open: no import
    // end has come to index the rest).
    let reader = Store::open(&went).unwrap();
    let stored = |s: &Store| -> i64 {
        s.conn()
            .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
            .unwrap()
    };
    let waited = Instant::now();
    while stored(&reader) < 300 || reader.fts_fresh().unwrap() > 20 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "not indexed on the free core: {} of {} spans left",
            reader.fts_fresh().unwrap(),
            stored(&reader)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(last);
    t.finish().unwrap();
    let mut store = Store::open(&went).unwrap();
    assert!(store.fts_bulk_mine().unwrap(), "bulk settings switched on");
    assert!(store.fts_fresh().unwrap() <= 20);
    while store.index_fts(1_000).unwrap() > 0 {}
    store.set_fts_bulk(false).unwrap();
    let mut other = Store::open(&after).unwrap();
    for run in ["a", "b"] {
        let mut r = Redactor::default();
        for k in 0..5 {
            other.write(&worded(&mut r, run, k)).unwrap();
        }
    }
    while other.index_fts(1_000).unwrap() > 0 {}
    let (a, b) = (found(&store), found(&other));
    assert_eq!(a[0].len(), 100, "alpha: a third of 300 spans");
    assert_eq!(a[3].len(), 16, "re-sent spans found by their new text");
    assert_eq!(a, b);
}

/// The checkpoint run on a free core copies every frame of the log into
/// the store file, so closing the last connection has nothing left to copy.
#[test]
fn a_checkpoint_copies_the_whole_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let mut r = Redactor::default();
    store.write(&batch(&mut r, "a", 0..50)).unwrap();
    let log = |s: &Store| -> (i64, i64) {
        s.conn()
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })
            .unwrap()
    };
    store.checkpoint().unwrap();
    let (frames, copied) = log(&store);
    assert!(frames > 0, "the writes went through the log");
    assert_eq!(frames, copied, "every frame copied");
}

/// Without a worker winding down, the thread indexes only every so many
/// spans, as before.
#[test]
fn no_index_pass_on_a_free_core_before_the_import_winds_down() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path).unwrap());
    let t = StoreThread::spawn_inner(
        &path,
        CommitConfig::default(),
        STORE_BYTES,
        Some(Indexer::new(10_000, 20)),
    )
    .unwrap();
    let mut r = Redactor::default();
    for k in 0..5 {
        assert!(t.send(worded(&mut r, "a", k)));
    }
    t.finish().unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.fts_fresh().unwrap(), 150);
    assert!(!store.fts_bulk_mine().unwrap());
}

#[test]
fn a_failed_store_thread_stops_every_link_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    let t = StoreThread::spawn_bounded(&path, CommitConfig::default(), 1).unwrap();
    store
        .conn()
        .execute_batch("ALTER TABLE spans RENAME TO spans_gone")
        .unwrap();
    std::thread::scope(|s| {
        for run in ["a", "b"] {
            let link = t.link();
            s.spawn(move || {
                let mut r = Redactor::default();
                let mut sent = 0;
                while link.send(batch(&mut r, run, 0..3)) {
                    sent += 1;
                    assert!(sent < 100, "the link never noticed the thread stopped");
                }
                assert!(link.stopped());
            });
        }
    });
    let err = t.finish().unwrap_err().to_string();
    assert!(err.contains("spans"), "{err}");
}
