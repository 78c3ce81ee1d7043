//! The writer threads: the one that owns a pipeline and commits what sources
//! send ([`spawn_writer`], for tail, the OTLP receiver, the proxy and the TUI's
//! live ingest); the one an import hands scanned batches to is
//! [`super::store_thread::StoreThread`]. Both commit through a
//! [`crate::store::commit::Committer`], so a store that is busy for long or
//! full keeps their work in the spool instead of stopping them; only an error waiting cannot cure (a broken schema) stops a writer,
//! and that is said at once.

use super::pipeline::{Pipeline, PipelineStats};
use super::queue::{Inbox, IngestSender, RecvError};
use crate::store::busy::{self, Failure};
use crate::store::commit::Health;
use crate::store::StoreError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a stopping writer keeps trying to store what it spooled.
pub const SETTLE: Duration = Duration::from_secs(10);

/// Records a writer coalesces into one transaction.
const COALESCE_RECORDS: usize = 20_000;

/// The writer thread's handle: join it after dropping every sender.
pub struct Writer {
    handle: std::thread::JoinHandle<Result<PipelineStats, StoreError>>,
    stats: Arc<Mutex<PipelineStats>>,
    health: Arc<Health>,
}

impl Writer {
    /// Totals so far (updated after each commit).
    pub fn stats(&self) -> PipelineStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// What the writer has had to spool (and store later), or lost.
    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    /// Waits for the writer to drain its queue and stop (all senders must be dropped).
    pub fn join(self) -> Result<PipelineStats, StoreError> {
        match self.handle.join() {
            Ok(r) => r,
            Err(_) => Err(StoreError::NotFound("writer thread failed".into())),
        }
    }
}

/// Kept for callers that sized things by it; the inbox is bounded in bytes
/// ([`super::queue::DEFAULT_BYTES`]), not in batches.
pub const QUEUE_DEPTH: usize = 256;

/// Starts the single writer thread that owns the pipeline (and so the store's
/// write connection). Queued batches are coalesced into one transaction; when
/// the queue is idle it stores spooled work and indexes full-text search in
/// small steps.
pub fn spawn_writer(pipeline: Pipeline) -> (IngestSender, Writer) {
    spawn_writer_with(pipeline, false)
}

/// [`spawn_writer`] at a lower CPU priority, for the proxy: its commits yield
/// to forwarding. (Not for the tailer, whose goal is a commit within 100 ms of
/// a line being written, even on a busy machine.)
pub fn spawn_background_writer(pipeline: Pipeline) -> (IngestSender, Writer) {
    spawn_writer_with(pipeline, true)
}

fn spawn_writer_with(mut pipeline: Pipeline, background: bool) -> (IngestSender, Writer) {
    let (tx, inbox) = IngestSender::queue(super::queue::DEFAULT_BYTES);
    let stats = Arc::new(Mutex::new(PipelineStats::default()));
    let health = pipeline.committer_mut().health();
    let closing = inbox.closing();
    pipeline.committer_mut().set_closing(closing);
    let shared = stats.clone();
    let handle = std::thread::Builder::new()
        .name("skilltrace-writer".into())
        .spawn(move || {
            if background {
                crate::priority::background();
                yield_in_sqlite(&pipeline);
            }
            let r = super::import::restore_fts(&mut pipeline)
                .and_then(|_| write_loop(&mut pipeline, &inbox, &shared, background));
            if let Err(e) = &r {
                // Said at once: a receiver or proxy may run on for hours.
                crate::notice::warn(
                    "writer-stopped",
                    format!("store writer stopped: {e}; nothing more is stored"),
                );
            }
            r
        })
        .map_err(|e| StoreError::NotFound(format!("cannot start writer thread: {e}")));
    let handle = match handle {
        Ok(h) => h,
        Err(e) => std::thread::spawn(move || Err(e)),
    };
    (
        tx,
        Writer {
            handle,
            stats,
            health,
        },
    )
}

/// SQLite virtual-machine steps between two looks at the clock of a yielding
/// writer (about 10–30 µs of work; each look costs a few tens of ns).
const YIELD_STEPS: std::os::raw::c_int = 1_000;

/// Marks the calling (background) writer thread as yielding and lets it give
/// its core away inside long SQLite statements and commits too, not only
/// between records ([`crate::priority::yield_point`]).
fn yield_in_sqlite(pipeline: &Pipeline) {
    crate::priority::yielding();
    pipeline.store().conn().progress_handler(
        YIELD_STEPS,
        Some(|| {
            crate::priority::yield_point();
            false
        }),
    );
}

/// How often a background writer indexes new spans for search while batches
/// keep coming (when its inbox is idle it indexes at once, as every writer does).
const INDEX_EVERY: Duration = Duration::from_millis(250);

fn write_loop(
    pipeline: &mut Pipeline,
    inbox: &Inbox,
    shared: &Mutex<PipelineStats>,
    background: bool,
) -> Result<PipelineStats, StoreError> {
    // A background (proxy) writer indexes for search at most every
    // INDEX_EVERY, more spans a pass: fewer, larger FTS transactions.
    let (every, per_pass) = if background {
        (INDEX_EVERY, 5_000)
    } else {
        (Duration::ZERO, 500)
    };
    let mut last_index = Instant::now();
    loop {
        let next = inbox.recv_timeout(Duration::from_millis(200));
        if inbox.take_spooled() {
            // Stored before any batch sent after the file was left (keeps order).
            pipeline.committer_mut().look_for_orphans();
        }
        match next {
            Ok(first) => {
                let mut records = first.records.len();
                let mut batches = vec![first];
                while records < COALESCE_RECORDS {
                    match inbox.try_recv() {
                        Some(b) => {
                            records += b.records.len();
                            batches.push(b);
                        }
                        None => break,
                    }
                }
                pipeline.process_many(batches)?;
                if records < COALESCE_RECORDS && last_index.elapsed() >= every {
                    index(pipeline, per_pass)?;
                    last_index = Instant::now();
                }
                if let Ok(mut s) = shared.lock() {
                    *s = pipeline.stats();
                }
            }
            Err(RecvError::Timeout) => {
                pipeline.tick()?;
                index(pipeline, 2_000)?;
                if let Ok(mut s) = shared.lock() {
                    *s = pipeline.stats();
                }
            }
            Err(RecvError::Disconnected) => break,
        }
    }
    pipeline.settle(Instant::now() + SETTLE)?;
    while index(pipeline, 10_000)? > 0 {}
    Ok(pipeline.stats())
}

/// Indexes for search unless the store is spooling; a busy store just means later.
fn index(pipeline: &mut Pipeline, n: usize) -> Result<usize, StoreError> {
    if pipeline.backlog() {
        return Ok(0);
    }
    match pipeline.store_mut().index_fts(n) {
        Ok(n) => Ok(n),
        Err(e) if busy::classify(&e) == Failure::Fatal => Err(e),
        Err(_) => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detector;
    use crate::redact::{Mode, Redactor};
    use crate::store::Store;

    #[test]
    fn a_yielding_writer_gives_its_core_away_inside_a_long_statement() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("w.db")).expect("open");
        let pipeline = Pipeline::new(Redactor::new(Mode::Mask), Detector::new(), store);
        std::thread::spawn(move || {
            yield_in_sqlite(&pipeline);
            let marked = crate::priority::last_yield();
            assert!(marked.is_some(), "the thread is marked");
            // One statement of millions of steps: only SQLite's progress handler runs inside it.
            let n: i64 = pipeline
                .store()
                .conn()
                .query_row(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c",
                    [],
                    |r| r.get(0),
                )
                .expect("query");
            assert_eq!(n, 300_000);
            assert!(
                crate::priority::last_yield() > marked,
                "yielded inside the statement"
            );
        })
        .join()
        .expect("writer thread");
    }
}
