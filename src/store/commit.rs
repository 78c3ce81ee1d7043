//! Committing a writer's batches come what may. A busy store is waited for
//! (bounded, jittered back-off, [`super::busy`]); a store that still cannot
//! take the write (busy for long, disk full, I/O error) does not stop the
//! writer: the batch is kept in the spool ([`super::spool`]), and so is every
//! later one, in order, until the kept ones are stored. The user is told at
//! once (stderr, or the TUI's status line) and when it is over; `doctor` sees
//! the spool. If even the spool cannot be written, batches wait in memory up
//! to a bound, and past it the writer waits (its queue fills: the receiver
//! answers 429, the proxy counts and names drops, the tailer waits).

use super::busy::{self, Failure};
use super::spool::{Spool, SpoolError};
use super::{Store, StoreBatch, StoreError, WriteStats};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a writer deals with a store that cannot take its writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitConfig {
    /// How long a busy store is waited for before the batch is spooled.
    pub busy_wait: Duration,
    /// Bound of the spool folder, in bytes.
    pub spool_max: u64,
    /// Bound of batches held in memory when the spool cannot be written either.
    pub memory_max: usize,
}

impl Default for CommitConfig {
    fn default() -> Self {
        CommitConfig {
            busy_wait: busy::DEFAULT_WAIT,
            spool_max: super::spool::DEFAULT_MAX,
            memory_max: 32 << 20,
        }
    }
}

/// The `[store]` config section.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Milliseconds a writer waits for a busy store before spooling (default 10000).
    pub busy_wait_ms: Option<u64>,
    /// Bound of the spool beside the store, in MB (default 1024).
    pub spool_max_mb: Option<u64>,
}

impl StoreConfig {
    pub fn commit(&self) -> CommitConfig {
        let d = CommitConfig::default();
        CommitConfig {
            busy_wait: self
                .busy_wait_ms
                .map(Duration::from_millis)
                .unwrap_or(d.busy_wait),
            spool_max: self.spool_max_mb.map(|m| m << 20).unwrap_or(d.spool_max),
            ..d
        }
    }
}

/// What a writer has had to keep, shared with whoever shows status.
#[derive(Debug, Default)]
pub struct Health {
    /// Batches kept (spooled, or held in memory) and not stored yet.
    pub kept: AtomicU64,
    /// Kept batches stored since.
    pub replayed: AtomicU64,
    /// Batches lost: neither stored nor kept by shutdown, or damaged spool frames.
    pub lost: AtomicU64,
    why: Mutex<Option<String>>,
}

impl Health {
    /// One line for a status line while something is kept or was lost.
    pub fn notice(&self) -> Option<String> {
        let kept = self.kept.load(Ordering::Relaxed);
        let lost = self.lost.load(Ordering::Relaxed);
        if kept == 0 && lost == 0 {
            return None;
        }
        let why = self.why.lock().ok().and_then(|w| w.clone());
        let mut s = String::new();
        if kept > 0 {
            s.push_str(&format!("store: {kept} batches spooled"));
            if let Some(w) = why {
                s.push_str(&format!(" ({w})"));
            }
        }
        if lost > 0 {
            if !s.is_empty() {
                s.push_str("; ");
            }
            s.push_str(&format!("{lost} batches lost"));
        }
        Some(s)
    }

    fn set_why(&self, why: Option<String>) {
        if let Ok(mut w) = self.why.lock() {
            *w = why;
        }
    }
}

/// What became of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    Stored(WriteStats),
    /// Kept in the spool (or memory) to be stored later.
    Kept,
}

/// What was still kept when a writer stopped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Leftover {
    /// Batches left in the spool for the next writer.
    pub spooled: u64,
    /// Batches lost (neither stored nor spooled).
    pub lost: u64,
}

/// A store connection that never loses a batch it accepted (see the module doc).
pub struct Committer {
    store: Store,
    spool: Spool,
    cfg: CommitConfig,
    health: Arc<Health>,
    memory: VecDeque<(StoreBatch, usize)>,
    memory_bytes: usize,
    /// True from the first kept batch until every kept batch is stored.
    backlog: bool,
    /// Spool files of writers that are gone still to be looked for.
    orphans_due: bool,
    next_try: Instant,
    step: Duration,
    /// Set when the writer's inputs are all closed: then it never waits for room.
    closing: Option<Arc<AtomicBool>>,
    /// What replays stored (the writer adds it to its totals).
    replayed: WriteStats,
}

impl Committer {
    pub fn new(store: Store, cfg: CommitConfig) -> Committer {
        let spool = Spool::new(store.path(), cfg.spool_max);
        Committer {
            store,
            spool,
            cfg,
            health: Arc::default(),
            memory: VecDeque::new(),
            memory_bytes: 0,
            backlog: false,
            orphans_due: true,
            next_try: Instant::now(),
            step: Duration::from_millis(50),
            closing: None,
            replayed: WriteStats::default(),
        }
    }

    /// Changes the configuration (before anything was kept).
    pub fn set_config(&mut self, cfg: CommitConfig) {
        self.cfg = cfg;
        if !self.backlog {
            self.spool = Spool::new(self.store.path(), cfg.spool_max);
        }
    }

    /// Never waits for memory once `flag` is set (the writer is shutting down).
    pub fn set_closing(&mut self, flag: Arc<AtomicBool>) {
        self.closing = Some(flag);
    }

    /// Shared status (kept, replayed, lost).
    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    /// The connection (for full-text indexing and reads between batches).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Looks for spool files other writers left (at the next commit or tick):
    /// the proxy's recorder leaves one after spilling while the store was slow.
    pub fn look_for_orphans(&mut self) {
        self.orphans_due = true;
        self.next_try = Instant::now();
    }

    /// True while kept batches wait to be stored.
    pub fn backlog(&self) -> bool {
        self.backlog
    }

    /// What replays stored since the last call.
    pub fn take_replayed(&mut self) -> WriteStats {
        std::mem::take(&mut self.replayed)
    }

    /// Stores `batch`, or keeps it to store later; an error only for failures
    /// that waiting cannot cure (a broken schema), never for a busy or full
    /// store. `batch` is left as it was (to reuse its vectors) unless it had to
    /// be held in memory (then it is taken, leaving an empty one).
    pub fn commit(&mut self, batch: &mut StoreBatch) -> Result<Committed, StoreError> {
        self.tick()?;
        if self.backlog {
            self.keep(batch)?;
            return Ok(Committed::Kept);
        }
        let store = &mut self.store;
        match busy::retry(self.cfg.busy_wait, || store.write(batch)) {
            Ok(w) => Ok(Committed::Stored(w)),
            Err(e) => match busy::classify(&e) {
                Failure::Fatal => Err(e),
                Failure::Busy => {
                    let waited = match self.cfg.busy_wait.as_millis() {
                        ms if ms < 1_000 => format!("{ms} ms"),
                        ms => format!("{} s", ms / 1_000),
                    };
                    self.begin_backlog(format!("busy for {waited}: other writers hold it"));
                    self.keep(batch)?;
                    Ok(Committed::Kept)
                }
                Failure::Unwritable => {
                    self.begin_backlog(e.to_string());
                    self.keep(batch)?;
                    Ok(Committed::Kept)
                }
            },
        }
    }

    /// Stores kept batches when a retry is due (call when idle too).
    pub fn tick(&mut self) -> Result<(), StoreError> {
        if (!self.backlog && !self.orphans_due) || Instant::now() < self.next_try {
            return Ok(());
        }
        self.replay()
    }

    /// Tries to store everything kept until `deadline`; what is left stays in
    /// the spool for the next writer (said on stderr), what cannot even be
    /// spooled is counted lost (said too).
    pub fn finish(&mut self, deadline: Instant) -> Result<Leftover, StoreError> {
        while (self.backlog || self.orphans_due) && Instant::now() < deadline {
            self.next_try = Instant::now();
            self.replay()?;
            if self.backlog {
                std::thread::sleep(
                    self.step
                        .min(deadline.saturating_duration_since(Instant::now())),
                );
            }
        }
        let mut left = Leftover::default();
        // Memory last goes to the spool if it can; whatever cannot is lost, and said.
        while let Some((b, n)) = self.memory.pop_front() {
            self.memory_bytes -= n;
            if self.spool.push(&b).is_err() {
                left.lost += 1;
            }
        }
        let kept = self.health.kept.load(Ordering::Relaxed);
        left.spooled = kept.saturating_sub(left.lost);
        if left.lost > 0 {
            self.health.lost.fetch_add(left.lost, Ordering::Relaxed);
            crate::notice::warn(
                "store-lost",
                format!(
                    "{}: {} batches could be neither stored nor spooled before stopping: lost",
                    self.store.path().display(),
                    left.lost
                ),
            );
        }
        if left.spooled > 0 {
            crate::notice::warn(
                "store-left",
                format!(
                    "{}: {} batches wait in the spool {}; the next writer on this store (tail, import, otlp, proxy, tui) stores them",
                    self.store.path().display(),
                    left.spooled,
                    self.spool.dir().display()
                ),
            );
        }
        Ok(left)
    }

    fn begin_backlog(&mut self, why: String) {
        self.backlog = true;
        self.schedule();
        self.health.set_why(Some(why.clone()));
        crate::notice::warn(
            "store-kept",
            format!(
                "{}: cannot store now ({why}); keeping new work in the spool {} until it can (nothing is lost)",
                self.store.path().display(),
                self.spool.dir().display()
            ),
        );
    }

    /// Keeps `batch` after everything already kept: in the spool, or in memory
    /// when the spool cannot take it; past the memory bound, waits for room.
    fn keep(&mut self, batch: &mut StoreBatch) -> Result<(), StoreError> {
        self.health.kept.fetch_add(1, Ordering::Relaxed);
        self.flush_memory();
        if self.memory.is_empty() {
            match self.spool.push(batch) {
                Ok(()) => return Ok(()),
                Err(e) => self.spool_failed(&e),
            }
        }
        let batch = std::mem::take(batch);
        let n = batch.approx_bytes();
        self.memory_bytes += n;
        self.memory.push_back((batch, n));
        while self.memory_bytes > self.cfg.memory_max && !self.closing() {
            crate::notice::warn(
                "store-memory",
                format!(
                    "{}: neither the store nor its spool can take more; {} MB wait in memory and new work waits for room",
                    self.store.path().display(),
                    self.memory_bytes >> 20
                ),
            );
            std::thread::sleep(self.step);
            self.next_try = Instant::now();
            self.replay()?;
            self.flush_memory();
        }
        Ok(())
    }

    fn closing(&self) -> bool {
        self.closing
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    fn spool_failed(&self, e: &SpoolError) {
        crate::notice::warn(
            "spool-failed",
            format!("cannot spool: {e}; holding work in memory until the store or the spool can take it"),
        );
    }

    /// Moves batches held in memory into the spool while it takes them (keeps order).
    fn flush_memory(&mut self) {
        while let Some((b, n)) = self.memory.front() {
            if self.spool.push(b).is_err() {
                return;
            }
            self.memory_bytes -= *n;
            self.memory.pop_front();
        }
    }

    fn schedule(&mut self) {
        let mut b = busy::Backoff::new(Duration::from_secs(3600));
        let pause = b.next_pause().unwrap_or(self.step);
        self.next_try = Instant::now() + self.step.max(pause);
        self.step = (self.step * 2).min(Duration::from_secs(2));
    }

    /// One pass: the own spool file, then memory, then orphans. Stops at the
    /// first batch the store still refuses (and schedules the next pass).
    fn replay(&mut self) -> Result<(), StoreError> {
        let Committer {
            store,
            spool,
            health,
            replayed,
            ..
        } = self;
        let mut waiting = false;
        if let Some(f) = spool.own() {
            waiting = !replay_file(store, f, true, health, replayed)?;
        }
        if !waiting {
            if let Some(name) = spool.finish_own() {
                let _ = store.forget_frames(&name);
            }
            while let Some((b, n)) = self.memory.front() {
                match self.store.write(b) {
                    Ok(w) => add(&mut self.replayed, w),
                    Err(e) if busy::classify(&e) == Failure::Fatal => return Err(e),
                    Err(_) => {
                        waiting = true;
                        break;
                    }
                }
                self.memory_bytes -= *n;
                self.memory.pop_front();
                self.health.kept.fetch_sub(1, Ordering::Relaxed);
                self.health.replayed.fetch_add(1, Ordering::Relaxed);
            }
        }
        if waiting {
            self.schedule();
            return Ok(());
        }
        if self.backlog {
            self.backlog = false;
            self.step = Duration::from_millis(50);
            self.health.set_why(None);
            crate::notice::warn(
                "store-back",
                format!(
                    "{}: writable again; every kept batch is now stored ({} in all)",
                    self.store.path().display(),
                    self.health.replayed.load(Ordering::Relaxed)
                ),
            );
        }
        if self.orphans_due {
            while let Some(mut f) = self.spool.claim_orphan() {
                if !replay_file(
                    &mut self.store,
                    &mut f,
                    false,
                    &self.health,
                    &mut self.replayed,
                )? {
                    // Unlocked on drop: still an orphan, for the next pass.
                    self.schedule();
                    return Ok(());
                }
                let name = self.spool.finish_orphan(f);
                let _ = self.store.forget_frames(&name);
                crate::notice::warn(
                    "spool-orphan",
                    format!(
                        "{}: stored the work left in {}",
                        self.store.path().display(),
                        self.spool.dir().join(name).display()
                    ),
                );
            }
            self.orphans_due = false;
        }
        Ok(())
    }
}

/// Stores a spool file's frames in order; false when the store refused one
/// for now (the rest stay for the next pass).
fn replay_file(
    store: &mut Store,
    f: &mut super::spool::SpoolFile,
    own: bool,
    health: &Health,
    replayed: &mut WriteStats,
) -> Result<bool, StoreError> {
    while let Some(next) = f.next_frame() {
        let frame = match next {
            Ok(frame) => frame,
            Err(why) => {
                health.lost.fetch_add(1, Ordering::Relaxed);
                crate::notice::warn("spool-damaged", why);
                continue;
            }
        };
        match store.write_frame(&frame.batch, &frame.id) {
            Ok(w) => {
                if let Some(w) = w {
                    add(replayed, w);
                }
                f.advance(&frame);
                if own {
                    // Frames of orphans were never counted as kept here.
                    let _ = health
                        .kept
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |k| {
                            Some(k.saturating_sub(1))
                        });
                }
                health.replayed.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if busy::classify(&e) == Failure::Fatal => return Err(e),
            Err(_) => return Ok(false),
        }
    }
    Ok(true)
}

fn add(total: &mut WriteStats, w: WriteStats) {
    total.new_spans += w.new_spans;
    total.updated_spans += w.updated_spans;
    total.new_findings += w.new_findings;
    total.new_skill_hits += w.new_skill_hits;
    total.errors += w.errors;
}

#[cfg(test)]
mod tests;
