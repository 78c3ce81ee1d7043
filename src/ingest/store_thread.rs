//! The import's store thread: scanned batches from one or more import workers
//! committed by one thread that owns a writing connection, so parsing and
//! scanning run on the other cores while SQLite commits.
//!
//! Each worker sends through its own [`StoreLink`]: batches of one link are
//! committed in the order sent (a run's rows stay in order, since a run is
//! scanned by one worker), and what waits for the thread is bounded in bytes
//! across all links ([`STORE_BYTES`]), so memory does not grow with the number
//! of workers. A written batch goes back to the link that sent it, to be
//! reused (and freed) on the thread that allocated it.

use super::file::BATCH_RECORDS;
use super::phases;
use super::pipeline::PipelineStats;
use crate::store::commit::{CommitConfig, Committed, Committer};
use crate::store::{Store, StoreBatch, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

mod indexer;
pub use indexer::{Indexer, INDEX_EVERY, INDEX_LAG};

/// Bytes of scanned batches (roughly, see [`batch_bytes`]) that may wait for
/// the store thread or be in its hands, across every link; one batch is always
/// admitted, however large. With 8 MiB, a two-worker import of 1 GB peaked
/// at 195.5 MiB and with 4 MiB at 180.2 MiB, its CPU the same (35.3 and
/// 35.6 s user; BENCHMARKS.md, branch `mem12`).
pub const STORE_BYTES: usize = 4 << 20;

/// The store thread's page cache (KiB). It appends rows and most of their
/// index entries. Until schema 15 the findings' unique `fingerprint` index
/// was keyed by a hash: each batch's new findings landed on random leaves of
/// it (28 MB at 1 GB, 1,763 leaves), and a commit there dirtied 600–1,300
/// pages in all; findings are now unique by `(scope, fingerprint)`, scope
/// the run's key (`store::by_fingerprint`), so they land at its right edge.
/// At 8 MiB (512 pages) those leaves were read again from the OS for every
/// batch and dirty pages spilled to the WAL mid-transaction; 16 MiB took
/// the 1 GB import's system time 10.1 → 7.2 s for +7 MiB of peak RSS (the
/// 32 MiB every other connection keeps: 6.0 s for +23 MiB, and 27 MB of a
/// two-worker import's heap at 200 MB). BENCHMARKS.md, branch `store12`.
/// Kept at 8 MiB: the extra cache fills as the store grows, so peak RSS grew
/// with the corpus by up to the difference (`limits_import`'s flatness test
/// read 3–8 MiB more at 4x the corpus with 16 MiB, against its 8 MiB bound);
/// a dedup key that follows insertion order was the fix, not a bigger cache.
pub const STORE_CACHE_KIB: u32 = 8 << 10;

/// WAL pages the store thread lets gather before it checkpoints them into
/// the store file (SQLite's default is 1,000). At 1 GB a commit dirties
/// 600–1,300 pages, so with the default every commit was followed by a
/// checkpoint that wrote each of its pages a second time and synced; at
/// 8,192 (128 MiB of 16 KiB pages) a checkpoint comes every 8–12 commits and
/// writes a page that several of them dirtied once: the 1 GB import wrote
/// 5.3 GB instead of 7.0 (and synced 5 times where it synced 20 on a 20 MB
/// slice).
/// Commits are as durable as before (WAL, `synchronous=NORMAL`: a crash of
/// the process loses nothing committed); what an OS crash or power loss can
/// roll back is what came after the last checkpoint's sync, now up to
/// 128 MiB of WAL rather than 16 MiB, and an import's source offsets commit
/// with its rows, so importing again resumes where the store ends.
pub const STORE_CHECKPOINT_PAGES: u32 = 8_192;

/// Kept for callers that sized things by it: the queue is bounded in bytes
/// ([`STORE_BYTES`]), about two batches of [`crate::ingest::file::BATCH_RECORDS`]
/// across two links.
pub const STORE_QUEUE: usize = 2;

/// Roughly the bytes a scanned batch holds (for the bound; not exact).
pub fn batch_bytes(b: &StoreBatch) -> usize {
    let spans: usize = b
        .spans
        .iter()
        .map(|s| crate::store::span_bytes(s.get()))
        .sum();
    let findings: usize = b
        .findings
        .iter()
        .map(|f| {
            let f = f.get();
            256 + f.title.len() + f.message.len() + f.evidence.len()
        })
        .sum();
    64 + spans
        + findings
        + 256 * (b.runs.len() + b.skill_hits.len() + b.errors.len() + b.sources.len())
}

/// What may still be queued: bytes in flight, and whether the thread is gone.
#[derive(Default)]
struct RoomState {
    bytes: usize,
    gone: bool,
}

/// The byte bound shared by every link and the thread.
struct Room {
    state: Mutex<RoomState>,
    freed: Condvar,
    limit: usize,
    /// Set once a sender has nothing more to scan while others still do
    /// ([`StoreLink::winding_down`]): a core is free for the thread's index.
    winding_down: AtomicBool,
}

impl Room {
    fn lock(&self) -> std::sync::MutexGuard<'_, RoomState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `n` more bytes fit (or nothing is in flight); false if the thread is gone.
    fn take(&self, n: usize) -> bool {
        let mut s = self.lock();
        let waiting =
            (!s.gone && s.bytes > 0 && s.bytes + n > self.limit && phases::on()).then(Instant::now);
        while !s.gone && s.bytes > 0 && s.bytes + n > self.limit {
            s = self.freed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if let Some(t) = waiting {
            phases::waited("a worker waiting for room", t.elapsed());
        }
        if s.gone {
            return false;
        }
        s.bytes += n;
        true
    }

    fn give(&self, n: usize) {
        let mut s = self.lock();
        s.bytes = s.bytes.saturating_sub(n);
        self.freed.notify_all();
    }

    fn close(&self) {
        self.lock().gone = true;
        self.freed.notify_all();
    }
}

/// Marks the room closed when the thread ends, however it ends (senders
/// waiting for room are told).
struct CloseOnDrop(Arc<Room>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A batch on its way to the thread, with its size and where it goes back.
struct Parcel {
    batch: StoreBatch,
    bytes: usize,
    back: SyncSender<StoreBatch>,
}

/// One sender's end (one per import worker; not shared between threads).
pub struct StoreLink {
    tx: Sender<Parcel>,
    room: Arc<Room>,
    back_tx: SyncSender<StoreBatch>,
    /// Written batches come back to be reused and freed on the thread that
    /// allocated them (freeing across threads is slow).
    back: Receiver<StoreBatch>,
    stopped: std::cell::Cell<bool>,
}

/// Written batches waiting to go back to a link: one. They come back full
/// (their rows are freed on the worker that made them, when it next takes a
/// spare or sends), outside the byte bound; with three, the batches a worker
/// had not collected yet were part of what rose with the corpus (heaptrack, a
/// two-worker import: 2.1 MB of kept batches at the 200 MB peak, 7.5 MB at
/// 1 GB). A batch written while one is waiting is freed by the store thread.
const SPARES: usize = 1;

/// Slots each vector of a spare batch keeps: a quarter of a batch's records
/// (a batch that needs more grows it; most batches' findings and runs are
/// far fewer than their spans).
pub const SPARE_CAPACITY: usize = BATCH_RECORDS / 4;

impl StoreLink {
    fn new(tx: Sender<Parcel>, room: Arc<Room>) -> StoreLink {
        let (back_tx, back) = mpsc::sync_channel(SPARES);
        StoreLink {
            tx,
            room,
            back_tx,
            back,
            stopped: std::cell::Cell::new(false),
        }
    }

    /// Queues a batch, waiting while the bound is reached; false once the
    /// thread has stopped on an error (which [`StoreThread::finish`] returns).
    pub fn send(&self, batch: StoreBatch) -> bool {
        if self.stopped.get() {
            return false;
        }
        while let Ok(old) = self.back.try_recv() {
            drop(old);
        }
        if batch.is_empty() {
            return true;
        }
        let bytes = batch_bytes(&batch);
        let ok = self.room.take(bytes)
            && self
                .tx
                .send(Parcel {
                    batch,
                    bytes,
                    back: self.back_tx.clone(),
                })
                .is_ok();
        self.stopped.set(!ok);
        ok
    }

    /// An empty batch to scan into: one the thread has written and handed
    /// back, emptied with its vectors' capacity kept (no reallocation and no
    /// freeing of large vectors per batch), or a new one.
    pub fn spare(&self) -> StoreBatch {
        let mut spare = None;
        while let Ok(old) = self.back.try_recv() {
            if spare.is_none() {
                spare = Some(old);
            }
        }
        spare.map(emptied).unwrap_or_default()
    }

    /// True once a send found the thread gone (stop reading more input).
    pub fn stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Says that this sender's worker has nothing more to scan (its last
    /// batches may follow): from now on the thread indexes for search
    /// whenever no batch waits, on the core the worker leaves free
    /// ([`Indexer::idle`]).
    pub fn winding_down(&self) {
        self.room.winding_down.store(true, Ordering::Relaxed);
    }
}

/// Writes scanned batches on a thread with its own store connection. The
/// thread's handle is also the first link (`send`, `spare`, `stopped`);
/// [`StoreThread::link`] makes one for each further worker.
pub struct StoreThread {
    main: StoreLink,
    handle: std::thread::JoinHandle<Result<PipelineStats, StoreError>>,
}

impl std::ops::Deref for StoreThread {
    type Target = StoreLink;
    fn deref(&self) -> &StoreLink {
        &self.main
    }
}

impl StoreThread {
    /// Opens a writing connection to the store at `path` and starts the thread.
    pub fn spawn(path: &std::path::Path) -> Result<StoreThread, StoreError> {
        StoreThread::spawn_with(path, CommitConfig::default())
    }

    /// [`StoreThread::spawn`] with how to wait and spool.
    pub fn spawn_with(
        path: &std::path::Path,
        cfg: CommitConfig,
    ) -> Result<StoreThread, StoreError> {
        StoreThread::spawn_bounded(path, cfg, STORE_BYTES)
    }

    /// [`StoreThread::spawn_with`] that also builds the full-text index as it
    /// writes, when the import builds most of it (see [`Indexer`]): an
    /// import's index then costs no time after its last batch but the rest
    /// of the last pass (`commands::import`).
    pub fn spawn_indexing(
        path: &std::path::Path,
        cfg: CommitConfig,
    ) -> Result<StoreThread, StoreError> {
        StoreThread::spawn_inner(path, cfg, STORE_BYTES, Some(Indexer::default()))
    }

    /// [`StoreThread::spawn_with`] holding at most `limit` bytes of batches.
    pub fn spawn_bounded(
        path: &std::path::Path,
        cfg: CommitConfig,
        limit: usize,
    ) -> Result<StoreThread, StoreError> {
        StoreThread::spawn_inner(path, cfg, limit, None)
    }

    fn spawn_inner(
        path: &std::path::Path,
        cfg: CommitConfig,
        limit: usize,
        mut indexer: Option<Indexer>,
    ) -> Result<StoreThread, StoreError> {
        let store = Store::open(path)?;
        store.set_page_cache_kib(STORE_CACHE_KIB)?;
        store.set_checkpoint_pages(STORE_CHECKPOINT_PAGES)?;
        let mut committer = Committer::new(store, cfg);
        let (tx, rx) = mpsc::channel::<Parcel>();
        let room = Arc::new(Room {
            state: Mutex::default(),
            freed: Condvar::new(),
            limit,
            winding_down: AtomicBool::new(false),
        });
        let closer = CloseOnDrop(room.clone());
        let thread_room = room.clone();
        let handle = std::thread::Builder::new()
            .name("skilltrace-store".into())
            .spawn(move || -> Result<PipelineStats, StoreError> {
                // Returning (on error too) closes the room: senders see it and stop.
                let _closer = closer;
                let mut stats = PipelineStats::default();
                phases::mark("store thread start");
                let mut first = true;
                loop {
                    let Parcel {
                        mut batch,
                        bytes,
                        back,
                    } = match rx.try_recv() {
                        Ok(p) => p,
                        Err(TryRecvError::Disconnected) => break,
                        Err(TryRecvError::Empty) => {
                            // Nothing waits: once the import winds down a
                            // core is free, and the index is built on it.
                            if let Some(ix) = indexer.as_mut() {
                                if thread_room.winding_down.load(Ordering::Relaxed)
                                    && ix.idle(&mut committer)?
                                {
                                    continue;
                                }
                            }
                            let waiting = phases::on().then(Instant::now);
                            let got = rx.recv_timeout(Duration::from_millis(200));
                            if let Some(t) = waiting {
                                phases::waited("the store thread waiting for a batch", t.elapsed());
                            }
                            match got {
                                Ok(p) => p,
                                Err(mpsc::RecvTimeoutError::Timeout) => {
                                    committer.tick()?;
                                    add_replayed(&mut stats, &mut committer);
                                    continue;
                                }
                                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                            }
                        }
                    };
                    if std::mem::take(&mut first) {
                        phases::mark("first batch");
                    }
                    let done = committer.commit(&mut batch);
                    thread_room.give(bytes);
                    if let Committed::Stored(w) = done? {
                        stats.add(w);
                        if let Some(ix) = indexer.as_mut() {
                            ix.after(&mut committer, w.new_spans)?;
                            if thread_room.winding_down.load(Ordering::Relaxed) {
                                ix.winding(&mut committer)?;
                            }
                        }
                    }
                    add_replayed(&mut stats, &mut committer);
                    // Full when the sender has not collected the last one
                    // yet (or stopped collecting): then free it here.
                    let _ = back.try_send(batch);
                }
                phases::mark("last batch committed");
                committer.finish(Instant::now() + super::writer::SETTLE)?;
                add_replayed(&mut stats, &mut committer);
                phases::mark("store thread done");
                Ok(stats)
            })
            .map_err(|e| StoreError::NotFound(format!("cannot start store thread: {e}")))?;
        Ok(StoreThread {
            main: StoreLink::new(tx, room),
            handle,
        })
    }

    /// A further sender (for another worker thread): its batches are
    /// committed in the order it sends them.
    pub fn link(&self) -> StoreLink {
        StoreLink::new(self.main.tx.clone(), self.main.room.clone())
    }

    /// Waits for every queued batch to be committed (or spooled); the totals,
    /// or the first error. Every other link must be dropped first.
    pub fn finish(self) -> Result<PipelineStats, StoreError> {
        drop(self.main);
        match self.handle.join() {
            Ok(r) => r,
            Err(_) => Err(StoreError::NotFound("store thread failed".into())),
        }
    }
}

/// Counts what the committer's replays stored since last asked.
fn add_replayed(stats: &mut PipelineStats, committer: &mut Committer) {
    let r = committer.take_replayed();
    if r != crate::store::WriteStats::default() {
        stats.add(r);
    }
}

/// `b` with every vector cleared, capacity kept up to [`SPARE_CAPACITY`] (a
/// batch that held small files' rows together, or overshot its bound, does
/// not leave its larger vectors to every later batch).
fn emptied(mut b: StoreBatch) -> StoreBatch {
    fn empty<T>(v: &mut Vec<T>) {
        v.clear();
        v.shrink_to(SPARE_CAPACITY);
    }
    empty(&mut b.runs);
    empty(&mut b.spans);
    empty(&mut b.findings);
    empty(&mut b.skill_hits);
    empty(&mut b.errors);
    empty(&mut b.triage);
    empty(&mut b.sources);
    b
}

#[cfg(test)]
mod tests;
