//! Unit tests of the spool: frames round-trip redacted values, the bound holds,
//! a torn frame is skipped and said, a live writer's file is never claimed.

use super::*;
use crate::model::{Origin, SpanKind};
use crate::redact::{Mode, Redactor};

/// A batch of `n` redacted spans (ids from `from`) carrying `text`, and the
/// source offset they bring the file to (shared with the committer's tests).
pub(in crate::store) fn batch(from: usize, n: usize, text: &str) -> StoreBatch {
    let mut r = Redactor::new(Mode::Mask);
    StoreBatch {
        spans: (from..from + n)
            .map(|i| {
                let mut s = Span::new(
                    format!("s{i}"),
                    "run",
                    SpanKind::Tool,
                    "Bash",
                    Origin::new("f.jsonl", i as u64 + 1),
                );
                s.text = Some(text.to_string());
                r.redact_span(s).0
            })
            .collect(),
        sources: vec![SourceState {
            path: "f.jsonl".into(),
            offset: (from + n) as u64,
            line: (from + n) as u64,
            ..SourceState::default()
        }],
        ..StoreBatch::default()
    }
}

#[test]
fn frames_round_trip_and_hold_only_redacted_text() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut sp = Spool::new(&db, DEFAULT_MAX);
    let secret = "key AKIAIOSFODNN7EXAMPLE here";
    sp.push(&batch(0, 3, secret)).expect("push");
    sp.push(&batch(0, 1, "plain")).expect("push");
    let on_disk = std::fs::read(files(&folder(&db))[0].0.clone()).expect("read");
    assert!(!String::from_utf8_lossy(&on_disk).contains("AKIAIOSFODNN7EXAMPLE"));
    let own = sp.own().expect("own file");
    let a = own.next_frame().expect("one").expect("whole");
    assert_eq!(a.batch.spans.len(), 3);
    assert_eq!(a.batch.sources[0].offset, 3);
    assert!(a.id.ends_with(":0"), "{}", a.id);
    own.advance(&a);
    let b = own.next_frame().expect("two").expect("whole");
    assert_eq!(b.batch.spans[0].get().text.as_deref(), Some("plain"));
    own.advance(&b);
    assert!(own.next_frame().is_none());
    assert!(sp.finish_own().is_some());
    assert!(files(&folder(&db)).is_empty(), "drained file removed");
}

#[cfg(unix)]
#[test]
fn folder_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut sp = Spool::new(&db, DEFAULT_MAX);
    sp.push(&batch(0, 1, "x")).expect("push");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&folder(&db)), 0o700);
    assert_eq!(mode(&files(&folder(&db))[0].0), 0o600);
}

#[test]
fn the_bound_holds() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut sp = Spool::new(&db, 4 << 10);
    let big = "y".repeat(1500);
    sp.push(&batch(0, 1, &big)).expect("first fits");
    sp.push(&batch(0, 1, &big)).expect("second fits");
    let e = sp.push(&batch(0, 1, &big)).expect_err("past the bound");
    assert!(matches!(e, SpoolError::Full(..)), "{e}");
    assert!(usage(&folder(&db)) <= 4 << 10);
}

#[test]
fn a_torn_last_frame_is_skipped_and_said() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut sp = Spool::new(&db, DEFAULT_MAX);
    sp.push(&batch(0, 2, "a")).expect("push");
    let path = files(&folder(&db))[0].0.clone();
    drop(sp); // the writer is gone: an orphan
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(b"{\"frame\":\"cut sh").expect("append");
    let sp = Spool::new(&db, DEFAULT_MAX);
    let mut orphan = sp.claim_orphan().expect("claimed");
    let first = orphan.next_frame().expect("first").expect("whole");
    assert_eq!(first.batch.spans.len(), 2);
    orphan.advance(&first);
    let torn = orphan.next_frame().expect("second").err().expect("torn");
    assert!(torn.contains("cut short"), "{torn}");
    assert!(orphan.next_frame().is_none());
}

#[test]
fn a_live_writers_file_is_never_claimed() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut live = Spool::new(&db, DEFAULT_MAX);
    live.push(&batch(0, 1, "x")).expect("push");
    let other = Spool::new(&db, DEFAULT_MAX);
    assert!(
        other.claim_orphan().is_none(),
        "claimed a file its writer holds"
    );
    let s = survey(&db);
    assert_eq!((s.files, s.frames, s.held), (1, 1, 1));
    drop(live);
    assert!(
        other.claim_orphan().is_some(),
        "its writer is gone: an orphan"
    );
}

#[cfg(unix)]
#[test]
fn a_planted_spool_file_is_not_replayed() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let mut sp = Spool::new(&db, DEFAULT_MAX);
    sp.push(&batch(0, 1, "x")).expect("push");
    let real = files(&folder(&db))[0].0.clone();
    drop(sp);
    let moved = t.path().join("elsewhere.spool");
    std::fs::rename(&real, &moved).expect("mv");
    std::os::unix::fs::symlink(&moved, folder(&db).join("0-1-planted.spool")).expect("ln");
    let sp = Spool::new(&db, DEFAULT_MAX);
    assert!(
        sp.claim_orphan().is_none(),
        "followed a link into the store"
    );
}

/// A spool file's whole name and content, made by a writer that then went away.
#[cfg(unix)]
fn orphan_in(db: &Path) -> PathBuf {
    let mut sp = Spool::new(db, DEFAULT_MAX);
    sp.push(&batch(0, 1, "x")).expect("push");
    let p = files(&folder(db))[0].0.clone();
    drop(sp);
    p
}

#[cfg(unix)]
#[test]
fn hard_links_pipes_devices_and_a_linked_folder_are_passed_over_said_and_left() {
    let t = tempfile::tempdir().expect("tempdir");
    // A hard link to a file of the user's (here a real orphan kept elsewhere,
    // so that it would replay if read) planted as a spool file.
    let db = t.path().join("s.db");
    let real = orphan_in(&db);
    let kept = t.path().join("kept.spool");
    std::fs::rename(&real, &kept).expect("mv");
    let planted = folder(&db).join("0-1-linked.spool");
    std::fs::hard_link(&kept, &planted).expect("ln");
    let fifo = folder(&db).join("0-2-pipe.spool");
    crate::paths::tests::mkfifo(&fifo);
    let started = std::time::Instant::now();
    let sp = Spool::new(&db, DEFAULT_MAX);
    assert!(sp.claim_orphan().is_none(), "read a hard-linked file");
    let s = survey(&db);
    assert_eq!((s.files, s.frames, s.refused), (0, 0, 2), "{s:?}");
    assert!(
        s.why.as_deref().unwrap_or("").contains("hard links"),
        "{s:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(planted.exists() && kept.exists() && fifo.exists());

    // The spool folder a link to another store's spool: nothing listed there
    // is replayed into this store, nor removed.
    let other = t.path().join("other.db");
    let theirs = orphan_in(&other);
    let db2 = t.path().join("two.db");
    std::os::unix::fs::symlink(folder(&other), folder(&db2)).expect("ln");
    let sp = Spool::new(&db2, DEFAULT_MAX);
    assert!(
        sp.claim_orphan().is_none(),
        "followed a linked spool folder"
    );
    assert!(files(&folder(&db2)).is_empty());
    let s = survey(&db2);
    assert_eq!((s.files, s.refused), (0, 1), "{s:?}");
    assert!(
        s.why.as_deref().unwrap_or("").contains("symbolic link"),
        "{s:?}"
    );
    assert!(theirs.exists());
    // Alone, the same file is an orphan that replays (the control).
    let mut kept_sp = Spool::new(&other, DEFAULT_MAX);
    let mut f = kept_sp.claim_orphan().expect("the control replays");
    assert!(f.next_frame().expect("a frame").is_ok());
    let _ = kept_sp.own();
}

#[cfg(unix)]
#[test]
fn a_file_that_grows_after_it_was_claimed_is_read_no_further() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("s.db");
    let path = orphan_in(&db);
    let append = |bytes: &[u8]| {
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open")
            .write_all(bytes)
            .expect("append")
    };
    append(b"{\"frame\":\"cut"); // 13 bytes, torn
    let sp = Spool::new(&db, DEFAULT_MAX);
    let mut f = sp.claim_orphan().expect("claimed");
    // Appended after the claim, to the torn line: 4 MiB with no end.
    append(&vec![b'z'; 4 << 20]);
    let first = f.next_frame().expect("one").expect("whole");
    f.advance(&first);
    let torn = f.next_frame().expect("two").err().expect("torn");
    assert!(
        torn.contains("(13 bytes"),
        "read past the claimed size: {torn}"
    );
    assert!(f.next_frame().is_none());
}
