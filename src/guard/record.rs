//! Recording what the guard judged: the redacted run, span, findings and skill
//! hits, then the decision beside the findings. Always after the answer: the
//! store is never held across a decision.
//!
//! The command hook appends its record to a spool file beside the store
//! (`<db>.guard/spool.jsonl`, `0600`, redacted values only, bounded) and
//! exits; a drainer process it starts in the background (`skilltrace guard
//! --drain`, one at a time, lingering a moment for the next record so that a
//! burst of events costs one) writes the spool into the store. So the agent
//! never waits for SQLite, and a store that another writer holds locked loses
//! nothing: the drainer waits for it. `guard serve` writes from its own thread.

use super::judge::Judgement;
use crate::model::{Finding, GuardDecision, ParseError, Run, SkillHit, Span};
use crate::redact::Redactor;
use crate::store::{Store, StoreBatch, StoreError};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a write waits for a store another process is writing.
pub const BUSY_WAIT: Duration = Duration::from_millis(250);
/// The spool stops growing past this size (records beyond are dropped).
const MAX_SPOOL: u64 = 64 * 1024 * 1024;

/// One thing to record: a redacted batch, and the decision for its findings.
#[derive(Debug, Default)]
pub struct Record {
    pub batch: StoreBatch,
    pub decision: Option<GuardDecision>,
    pub fingerprints: Vec<String>,
}

impl From<Judgement> for Record {
    fn from(j: Judgement) -> Record {
        Record {
            batch: j.batch,
            decision: Some(j.decision),
            fingerprints: j.fingerprints,
        }
    }
}

/// A record as a spool line (its values are redacted already).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct SpoolLine {
    runs: Vec<Run>,
    spans: Vec<Span>,
    findings: Vec<Finding>,
    skill_hits: Vec<SkillHit>,
    errors: Vec<ParseError>,
    decision: Option<GuardDecision>,
    fingerprints: Vec<String>,
}

/// The spool file beside the store `db`.
pub fn spool_path(db: &Path) -> PathBuf {
    super::session::state_dir(db).join("spool.jsonl")
}

/// Opens the store for a guard write: short waits for other writers.
pub fn open_store(db: &Path) -> Result<Store, StoreError> {
    let store = Store::open(db)?;
    store.conn().busy_timeout(BUSY_WAIT)?;
    Ok(store)
}

/// Writes one record into an open store.
pub fn write(store: &mut Store, r: &Record) -> Result<(), StoreError> {
    store.write(&r.batch)?;
    if let Some(d) = r.decision {
        store.set_guard_decision(&r.fingerprints, &r.batch.findings, d)?;
    }
    Ok(())
}

/// Writes `records` into an open store in one transaction (their batches
/// joined in order: one commit instead of one per record), then their
/// decisions. If the joined write fails, each is written alone. Returns the
/// records that could not be written.
pub fn write_all(store: &mut Store, records: Vec<Record>) -> Vec<Record> {
    if records.len() < 2 {
        return records
            .into_iter()
            .filter(|r| write(store, r).is_err())
            .collect();
    }
    let mut joined = StoreBatch::default();
    for r in &records {
        let b = &r.batch;
        joined.runs.extend(b.runs.iter().cloned());
        joined.spans.extend(b.spans.iter().cloned());
        joined.findings.extend(b.findings.iter().cloned());
        joined.skill_hits.extend(b.skill_hits.iter().cloned());
        joined.errors.extend(b.errors.iter().cloned());
        joined.triage.extend(b.triage.iter().cloned());
        joined.sources.extend(b.sources.iter().cloned());
    }
    joined.fold_spans();
    if store.write(&joined).is_err() {
        return records
            .into_iter()
            .filter(|r| write(store, r).is_err())
            .collect();
    }
    records
        .into_iter()
        .filter(|r| {
            r.decision.is_some_and(|d| {
                store
                    .set_guard_decision(&r.fingerprints, &r.batch.findings, d)
                    .is_err()
            })
        })
        .map(|r| Record {
            // Its batch is stored: only the decision is left to record.
            batch: StoreBatch::default(),
            ..r
        })
        .collect()
}

/// Writes `r` into the store at `db`, then drains the spool; a store that
/// cannot be written (locked, unopenable) sends `r` to the spool instead.
/// Returns why the store was not written, if it was not.
pub fn record(db: &Path, r: &Record, redactor: &mut Redactor) -> Option<String> {
    let written = open_store(db).and_then(|mut s| {
        write(&mut s, r)?;
        Ok(s)
    });
    match written {
        Ok(mut s) => {
            drain(db, &mut s, redactor);
            None
        }
        Err(e) => {
            let why = e.to_string();
            if let Err(se) = spool(db, r) {
                return Some(format!("{why}; and the spool: {se:#}"));
            }
            Some(why)
        }
    }
}

/// Appends `r` to the spool and makes sure a drainer will write it: when no
/// drainer holds the drain lock, one (`exe guard --drain --db DB`, in its own
/// process group, stdio closed) is started. A drainer checks the spool again
/// after it lets the lock go, so a record appended while it was finishing is
/// never left without one.
pub fn record_later(db: &Path, r: &Record, exe: &Path) -> anyhow::Result<()> {
    spool(db, r)?;
    if !drain_lock(db).exists() {
        start_drainer(db, exe);
    }
    Ok(())
}

/// The lock a drainer holds while it writes the spool into the store.
fn drain_lock(db: &Path) -> PathBuf {
    super::session::state_dir(db).join("drain.lock")
}

/// Starts `exe guard --drain --db DB --drain-linger` in the background,
/// detached from the agent's hook. Not started: the record waits in the spool
/// for the next drainer.
pub fn start_drainer(db: &Path, exe: &Path) {
    spawn_detached(exe, &["guard", "--drain", "--drain-linger", "--db"], db);
}

/// Runs `exe ARGS DB` in the background, detached from the agent's hook: its
/// own process group, no stdin, stdout or stderr. A failure to start is left
/// to the caller's fallback (the spool, judging in process).
pub fn spawn_detached(exe: &Path, args: &[&str], db: &Path) {
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args)
        .arg(db)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let _ = cmd.spawn();
}

/// Records written in one transaction at most.
pub const WRITE_CHUNK: usize = 256;

/// Rounds a drainer makes at most; it stops early once no spool is left.
const DRAIN_ROUNDS: usize = 64;

/// How long a lingering drainer (the one a hook starts) waits, holding the
/// drain lock and the store open, for the next record before it exits: an
/// agent's hooks come in bursts (a call, its result, the next call), and
/// while a drainer holds the lock a hook starts none. So a burst costs one
/// drainer process and one store open, not one per event (each is a process
/// start, the store's open and its checks: about as much CPU as the hook's).
pub const LINGER: Duration = Duration::from_millis(500);
/// How often a lingering drainer looks for the spool.
const LINGER_POLL: Duration = Duration::from_millis(10);
/// The most a lingering drainer lives, however busy: it then exits and the
/// next hook starts a fresh one.
const LINGER_MAX: Duration = Duration::from_secs(30);

/// The drainer: takes the drain lock (one drainer at a time, waiting up to
/// `wait` for another to finish), writes every spooled record, waits up to
/// `linger` idle for more (see [`LINGER`]), lets the lock go, and starts again
/// while a spool is left (a record appended while it held the lock started no
/// drainer of its own). Returns how many records it wrote.
pub fn drain_all(db: &Path, wait: Duration, linger: Duration) -> anyhow::Result<usize> {
    let mut redactor = Redactor::default();
    let mut n = 0;
    let until = std::time::Instant::now() + LINGER_MAX;
    for _ in 0..DRAIN_ROUNDS {
        let held = super::session::Lock::take(&drain_lock(db), std::time::Instant::now() + wait)?;
        let mut wrote = 0;
        let had = spool_path(db).exists();
        if had {
            let mut store = Store::open(db)?;
            loop {
                let mut refused = false;
                while spool_path(db).exists() {
                    let k = drain(db, &mut store, &mut redactor);
                    wrote += k;
                    if k == 0 {
                        refused = true;
                        break;
                    }
                }
                if refused || !spool_returns(db, linger, until) {
                    break;
                }
            }
        }
        drop(held);
        n += wrote;
        // Checked after the lock is gone: see `record_later`.
        if !spool_path(db).exists() || (had && wrote == 0) {
            // Nothing left, or the store refused every record: the next
            // hook's drainer tries again.
            break;
        }
    }
    Ok(n)
}

/// Waits up to `idle` (and not past `until`) for a spool to appear.
fn spool_returns(db: &Path, idle: Duration, until: std::time::Instant) -> bool {
    let stop = (std::time::Instant::now() + idle).min(until);
    let path = spool_path(db);
    while std::time::Instant::now() < stop {
        std::thread::sleep(LINGER_POLL);
        if path.exists() {
            return true;
        }
    }
    false
}

/// Appends `r` to the spool.
pub fn spool(db: &Path, r: &Record) -> anyhow::Result<()> {
    let path = spool_path(db);
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_SPOOL) {
        anyhow::bail!("{}: full, record dropped", path.display());
    }
    let b = &r.batch;
    let line = SpoolLine {
        runs: b.runs.iter().map(|x| x.get().clone()).collect(),
        spans: b.spans.iter().map(|x| x.get().clone()).collect(),
        findings: b.findings.iter().map(|x| x.get().clone()).collect(),
        skill_hits: b.skill_hits.iter().map(|x| x.get().clone()).collect(),
        errors: b.errors.iter().map(|x| x.get().clone()).collect(),
        decision: r.decision,
        fingerprints: r.fingerprints.clone(),
    };
    let mut text = serde_json::to_string(&line)?;
    text.push('\n');
    loop {
        let mut f = crate::paths::open_private_append(&path)?;
        lock(&f)?;
        // A drainer took the file between our open and our lock: a new one.
        if removed(&f) {
            continue;
        }
        f.write_all(text.as_bytes())?;
        return Ok(());
    }
}

/// Locks a spool file (exclusive, waiting): appending and claiming it never
/// overlap, so a drainer reads only whole records and never misses one.
/// Released when the file is closed.
#[cfg(unix)]
fn lock(f: &std::fs::File) -> std::io::Result<()> {
    rustix::fs::flock(f, rustix::fs::FlockOperation::LockExclusive).map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn lock(_f: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Whether the open file `f` was removed from its folder.
#[cfg(unix)]
fn removed(f: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    f.metadata().map(|m| m.nlink() == 0).unwrap_or(true)
}

#[cfg(not(unix))]
fn removed(_f: &std::fs::File) -> bool {
    false
}

/// Writes every spooled record into `store` and removes the spool. The
/// spool is read and removed under its lock, so two processes never write one
/// record twice and no record appended meanwhile is lost; what fails to
/// write goes back to the spool.
pub fn drain(db: &Path, store: &mut Store, redactor: &mut Redactor) -> usize {
    let path = spool_path(db);
    if !path.exists() {
        return 0;
    }
    // Claimed under the file's lock: read whole, then removed, while no
    // hook can append to it.
    let text = {
        let Ok(mut f) = std::fs::File::open(&path) else {
            return 0;
        };
        if lock(&f).is_err() || removed(&f) {
            return 0;
        }
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut f, &mut text);
        let _ = std::fs::remove_file(&path);
        text
    };
    let mut records = Vec::new();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(line) = serde_json::from_str::<SpoolLine>(l) else {
            continue;
        };
        let r = Record {
            // Redacted when spooled; redacting again changes nothing and is
            // what makes them `Redacted` values again.
            batch: StoreBatch {
                runs: line
                    .runs
                    .into_iter()
                    .map(|x| redactor.redact_run(x))
                    .collect(),
                spans: line
                    .spans
                    .into_iter()
                    .map(|x| redactor.redact_span(x).0)
                    .collect(),
                findings: line
                    .findings
                    .into_iter()
                    .map(|x| redactor.redact_finding(x))
                    .collect(),
                skill_hits: line
                    .skill_hits
                    .into_iter()
                    .map(|x| redactor.redact_skill_hit(x))
                    .collect(),
                errors: line
                    .errors
                    .into_iter()
                    .map(|x| redactor.redact_parse_error(x))
                    .collect(),
                ..StoreBatch::default()
            },
            decision: line.decision,
            fingerprints: line.fingerprints,
        };
        records.push(r);
    }
    // In as few transactions as can be: a burst of hooks is one commit.
    let mut n = 0;
    for chunk in records.chunks_mut(WRITE_CHUNK) {
        let chunk: Vec<Record> = chunk.iter_mut().map(std::mem::take).collect();
        let all = chunk.len();
        let failed = write_all(store, chunk);
        n += all - failed.len();
        for r in &failed {
            let _ = spool(db, r);
        }
    }
    n
}

/// A record of an event the guard could not judge (malformed, internal
/// error): a parse error naming the agent, the event and why, redacted.
pub fn failure(redactor: &mut Redactor, agent: &str, line: u64, message: &str) -> Record {
    let err = ParseError {
        path: format!("guard://{agent}"),
        line,
        message: message.to_string(),
    };
    Record {
        batch: StoreBatch {
            errors: vec![redactor.redact_parse_error(err)],
            ..StoreBatch::default()
        },
        ..Record::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Mode;

    #[test]
    fn a_locked_store_spools_and_the_next_write_drains() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        drop(Store::open(&db).unwrap());
        let mut red = Redactor::new(Mode::Mask);
        let mut blocker = rusqlite::Connection::open(&db).unwrap();
        let tx = blocker
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        let r1 = failure(
            &mut red,
            "codex",
            1,
            "first: token ghp_0123456789abcdefghijABCDEFGHIJ012345",
        );
        let why = record(&db, &r1, &mut red).expect("locked");
        assert!(why.contains("locked") || why.contains("busy"), "{why}");
        let spooled = std::fs::read_to_string(spool_path(&db)).unwrap();
        assert!(!spooled.contains("ghp_0123456789"), "{spooled}");
        tx.rollback().unwrap();
        let r2 = failure(&mut red, "codex", 2, "second");
        assert_eq!(record(&db, &r2, &mut red), None);
        assert!(!spool_path(&db).exists());
        let s = Store::open_read(&db).unwrap();
        assert_eq!(s.counts().unwrap().parse_errors, 2);
    }

    #[test]
    fn records_appended_while_a_drainer_drains_are_all_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        drop(Store::open(&db).unwrap());
        let appenders: Vec<_> = (0..4u64)
            .map(|k| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut red = Redactor::new(Mode::Mask);
                    for i in 0..40 {
                        spool(&db, &failure(&mut red, "codex", k * 1000 + i, "x")).unwrap();
                    }
                })
            })
            .collect();
        let mut drained = 0;
        while !appenders.iter().all(|a| a.is_finished()) {
            drained += drain_all(&db, Duration::from_secs(5), Duration::ZERO).unwrap();
        }
        for a in appenders {
            a.join().unwrap();
        }
        drained += drain_all(&db, Duration::from_secs(5), Duration::ZERO).unwrap();
        assert_eq!(drained, 160);
        assert!(!spool_path(&db).exists());
        let s = Store::open_read(&db).unwrap();
        assert_eq!(s.counts().unwrap().parse_errors, 160);
    }

    #[test]
    fn a_lingering_drainer_stores_records_that_arrive_while_it_waits() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        drop(Store::open(&db).unwrap());
        let mut red = Redactor::new(Mode::Mask);
        spool(&db, &failure(&mut red, "codex", 1, "first")).unwrap();
        let d = db.clone();
        let drainer = std::thread::spawn(move || {
            drain_all(&d, Duration::from_secs(5), Duration::from_secs(1)).unwrap()
        });
        // The first record is written, and the drainer keeps the lock while
        // it waits: a hook now would start no drainer of its own.
        let t = std::time::Instant::now();
        while spool_path(&db).exists() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            drain_lock(&db).exists(),
            "the lingering drainer holds the lock"
        );
        spool(&db, &failure(&mut red, "codex", 2, "second")).unwrap();
        assert_eq!(drainer.join().unwrap(), 2, "one drainer wrote both");
        assert!(!spool_path(&db).exists());
        assert!(!drain_lock(&db).exists(), "the lock is let go");
        let s = Store::open_read(&db).unwrap();
        assert_eq!(s.counts().unwrap().parse_errors, 2);
    }
}
