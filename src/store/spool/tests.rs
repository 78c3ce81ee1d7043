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
