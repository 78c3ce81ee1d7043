//! Unit tests of the committer: a busy store and a full one keep every batch
//! in the spool and store it once they can; a frame stored before a crash is
//! never stored again.

use super::*;

fn batch(from: usize, n: usize) -> StoreBatch {
    super::super::spool::tests::batch(from, n, &"x".repeat(2_000))
}

fn quick() -> CommitConfig {
    CommitConfig {
        busy_wait: Duration::from_millis(100),
        ..CommitConfig::default()
    }
}

fn spans(db: &std::path::Path) -> u64 {
    Store::open_read(db)
        .expect("read")
        .counts()
        .expect("counts")
        .spans
}

fn settle(c: &mut Committer) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.backlog() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        c.tick().expect("tick");
    }
    assert!(!c.backlog(), "never caught up");
}

#[test]
fn a_store_busy_for_long_spools_then_stores_everything_in_order() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut c = Committer::new(Store::open(&db).expect("open"), quick());
    c.commit(&mut batch(0, 5)).expect("first");
    // Another writer holds the write lock for longer than the committer waits.
    let other = rusqlite::Connection::open(&db).expect("other");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    assert_eq!(c.commit(&mut batch(5, 5)).expect("kept"), Committed::Kept);
    assert!(c.backlog());
    // Later batches queue behind the kept ones (order), even if the store were free.
    assert_eq!(c.commit(&mut batch(10, 5)).expect("kept"), Committed::Kept);
    assert_eq!(c.health().kept.load(Ordering::Relaxed), 2);
    assert_eq!(super::super::spool::survey(&db).frames, 2);
    assert!(c
        .health()
        .notice()
        .is_some_and(|n| n.contains("2 batches spooled")));
    other.execute_batch("COMMIT").expect("unlock");
    settle(&mut c);
    assert_eq!(spans(&db), 15);
    assert_eq!(c.take_replayed().new_spans, 10);
    assert_eq!(c.health().kept.load(Ordering::Relaxed), 0);
    assert_eq!(c.health().replayed.load(Ordering::Relaxed), 2);
    assert!(c.health().notice().is_none());
    assert_eq!(super::super::spool::survey(&db).files, 0, "spool removed");
    let src = c.store().source("f.jsonl").expect("q").expect("source");
    assert_eq!(src.offset, 15, "the last offset won");
}

#[test]
fn a_full_store_spools_then_stores_when_there_is_room() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut c = Committer::new(Store::open(&db).expect("open"), quick());
    c.commit(&mut batch(0, 1)).expect("first");
    // A disk that is full: the store may not grow past its current pages.
    let pages: i64 = c
        .store()
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    c.store()
        .conn()
        .execute_batch(&format!("PRAGMA max_page_count={pages}"))
        .expect("cap");
    let mut kept = 0;
    for i in 0..20 {
        if c.commit(&mut batch(1 + i * 10, 10))
            .expect("never an error")
            == Committed::Kept
        {
            kept += 1;
        }
    }
    assert!(kept > 0, "the cap never filled the store");
    assert!(c.backlog());
    c.store()
        .conn()
        .execute_batch("PRAGMA max_page_count=1073741823")
        .expect("room again");
    settle(&mut c);
    assert_eq!(spans(&db), 201, "every span stored once the disk had room");
}

#[test]
fn a_frame_stored_before_a_crash_is_not_stored_again() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut store = Store::open(&db).expect("open");
    // A writer spools three frames...
    let mut sp = super::super::spool::Spool::new(&db, super::super::spool::DEFAULT_MAX);
    for i in 0..3 {
        sp.push(&batch(i * 4, 4)).expect("push");
    }
    // ...stores the first (with its marker), and dies before removing the file.
    let first = sp
        .own()
        .expect("own")
        .next_frame()
        .expect("frame")
        .expect("whole");
    assert!(store
        .write_frame(&first.batch, &first.id)
        .expect("w")
        .is_some());
    drop(sp);
    drop(store);
    // The next writer finds the orphan and stores what was left, once.
    let mut c = Committer::new(Store::open(&db).expect("open"), quick());
    c.tick().expect("tick");
    let r = c.take_replayed();
    assert_eq!(r.new_spans, 8, "frames two and three");
    assert_eq!(r.updated_spans, 0, "frame one stored a second time");
    assert_eq!(spans(&db), 12);
    assert_eq!(super::super::spool::survey(&db).files, 0, "orphan removed");
    let left: i64 = c
        .store()
        .conn()
        .query_row("SELECT count(*) FROM spool_replayed", [], |r| r.get(0))
        .expect("markers");
    assert_eq!(left, 0, "markers of a removed file are forgotten");
}

#[test]
fn a_replayed_source_offset_never_moves_back() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut store = Store::open(&db).expect("open");
    store.write(&batch(0, 20)).expect("live write to offset 20");
    assert!(store
        .write_frame(&batch(0, 5), "old:0")
        .expect("replay")
        .is_some());
    assert_eq!(store.source("f.jsonl").expect("q").expect("s").offset, 20);
    assert!(store
        .write_frame(&batch(0, 5), "old:0")
        .expect("again")
        .is_none());
}
