//! The writer of `guard serve`: it holds records while decisions arrive and
//! stores every one of them, in order, once the server is quiet.

use super::*;
use crate::redact::{Mode, Redactor};
use crate::store::Store;

fn stored(db: &std::path::Path) -> u64 {
    Store::open_read(db)
        .map(|s| s.counts().map(|c| c.parse_errors).unwrap_or(0))
        .unwrap_or(0)
}

/// A store, and a writer thread deferring with `max_age`: (its folder,
/// the store, the server's activity, the record sender, the writer).
fn writer(
    max_age: Duration,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Arc<Activity>,
    std::sync::mpsc::SyncSender<Record>,
    std::thread::JoinHandle<()>,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    drop(record::open_store(&db).unwrap());
    let activity = Arc::new(Activity::default());
    let (tx, rx) = std::sync::mpsc::sync_channel::<Record>(RECORD_QUEUE);
    let seen = activity.clone();
    let path = db.clone();
    let defer = Defer {
        max_age,
        ..Defer::default()
    };
    let writer = std::thread::spawn(move || write_loop(&path, rx, &seen, defer));
    (dir, db, activity, tx, writer)
}

#[test]
fn the_writer_waits_for_a_gap_in_decisions_then_stores_every_record() {
    let (_dir, db, activity, tx, writer) = writer(Duration::from_secs(60));
    let mut red = Redactor::new(Mode::Mask);
    let busy = activity.start();
    for i in 0..50 {
        tx.send(record::failure(&mut red, "codex", i, "deferred"))
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        stored(&db),
        0,
        "nothing is written while a decision is in flight"
    );
    drop(busy);
    let t = Instant::now();
    while stored(&db) < 50 && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        stored(&db),
        50,
        "every record is stored once the server is quiet"
    );
    drop(tx);
    writer.join().unwrap();
}

#[test]
fn a_busy_server_still_gets_its_records_written_at_the_age_bound() {
    let (_dir, db, activity, tx, writer) = writer(Duration::from_millis(200));
    let _busy = activity.start();
    let mut red = Redactor::new(Mode::Mask);
    for i in 0..3 {
        tx.send(record::failure(&mut red, "codex", i, "forced"))
            .unwrap();
    }
    let t = Instant::now();
    while stored(&db) < 3 && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(stored(&db), 3, "written though the server never went quiet");
    // The senders gone, the writer writes what it holds and ends.
    tx.send(record::failure(&mut red, "codex", 9, "last"))
        .unwrap();
    drop(tx);
    writer.join().unwrap();
    assert_eq!(stored(&db), 4);
}
