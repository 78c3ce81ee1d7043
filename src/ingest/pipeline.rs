//! The pipeline: parsed records → scan (redact + detect, one pass) → store, in batches.
//!
//! [`Pipeline::process`] is the single place where raw records become stored
//! rows: every span is redacted and scanned here, and the store accepts only
//! the `Redacted` values this stage produces. Sources (tailer, importer,
//! proxy) hand [`Batch`]es to a writer thread through an [`IngestSender`].

use crate::ingest::formats::Record;
use crate::model::ParseError;

/// Where a file source stands: identity and how far it has been read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceState {
    /// File path, or `proxy://addr` for the proxy.
    pub path: String,
    /// `file` or `proxy`.
    pub kind: String,
    pub dev: u64,
    pub ino: u64,
    /// Bytes consumed (up to the end of the last complete line).
    pub offset: u64,
    /// Lines consumed (for the proxy: requests seen).
    pub line: u64,
    /// Formats seen, comma separated.
    pub format: String,
}

/// One unit of work for the writer: records from one source, their parse errors,
/// and where the source stands after them (committed in the same transaction).
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<Record>,
    pub errors: Vec<ParseError>,
    pub source: Option<SourceState>,
}

/// Sends batches to the writer thread. Cloneable; `try_send` never blocks (the
/// proxy uses it and counts drops), `send` waits (the tailer uses it).
#[derive(Debug, Clone)]
pub struct IngestSender {
    tx: std::sync::mpsc::SyncSender<Batch>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl IngestSender {
    /// Wraps a channel end (the writer owns the other end).
    pub fn new(tx: std::sync::mpsc::SyncSender<Batch>) -> IngestSender {
        IngestSender {
            tx,
            dropped: Default::default(),
        }
    }

    /// Queues a batch without waiting; false (and one more drop counted) when the queue is full.
    pub fn try_send(&self, batch: Batch) -> bool {
        match self.tx.try_send(batch) {
            Ok(()) => true,
            Err(_) => {
                self.dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues a batch, waiting while the queue is full; false if the writer is gone.
    pub fn send(&self, batch: Batch) -> bool {
        self.tx.send(batch).is_ok()
    }

    /// Batches dropped by `try_send` so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}

use crate::detect::Detector;
use crate::redact::Redactor;
use crate::store::{Store, StoreBatch, StoreError, WriteStats};

/// Running totals of what the pipeline has stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PipelineStats {
    pub batches: u64,
    pub spans: u64,
    pub new_spans: u64,
    pub findings: u64,
    pub skill_hits: u64,
    pub errors: u64,
}

impl PipelineStats {
    fn add(&mut self, w: WriteStats) {
        self.batches += 1;
        self.new_spans += w.new_spans;
        self.spans += w.new_spans + w.updated_spans;
        self.findings += w.new_findings;
        self.skill_hits += w.new_skill_hits;
        self.errors += w.errors;
    }
}

/// Parse → scan → store. Owns the redactor, the detector and the writing store connection.
pub struct Pipeline {
    redactor: Redactor,
    detector: Detector,
    store: Store,
    stats: PipelineStats,
    line_cap: usize,
}

impl Pipeline {
    pub fn new(redactor: Redactor, detector: Detector, store: Store) -> Pipeline {
        Pipeline {
            redactor,
            detector,
            store,
            stats: PipelineStats::default(),
            line_cap: crate::ingest::reader::DEFAULT_LINE_CAP,
        }
    }

    /// Sets the longest line (bytes) readers feeding this pipeline accept.
    pub fn with_line_cap(mut self, cap: usize) -> Pipeline {
        self.line_cap = cap.max(1);
        self
    }

    /// The longest line (bytes) readers feeding this pipeline accept.
    pub fn line_cap(&self) -> usize {
        self.line_cap
    }

    /// Totals so far.
    pub fn stats(&self) -> PipelineStats {
        self.stats
    }

    /// Adds what a [`StoreThread`] wrote on this pipeline's behalf.
    pub fn absorb(&mut self, s: PipelineStats) {
        self.stats.batches += s.batches;
        self.stats.spans += s.spans;
        self.stats.new_spans += s.new_spans;
        self.stats.findings += s.findings;
        self.stats.skill_hits += s.skill_hits;
        self.stats.errors += s.errors;
    }

    /// The store this pipeline writes.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The redactor (for redacting text bound for logs and messages).
    pub fn redactor_mut(&mut self) -> &mut Redactor {
        &mut self.redactor
    }

    /// The store this pipeline writes (for FTS indexing and reads between batches).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Scans a batch: the one place where raw records become redacted rows.
    pub fn scan(&mut self, mut batch: Batch) -> StoreBatch {
        self.scan_into(&mut batch, StoreBatch::default())
    }

    /// [`Pipeline::scan`] into `out` (an emptied batch, see [`StoreThread::spare`]),
    /// draining `batch`: both keep their vectors' capacity for the next batch.
    pub fn scan_into(&mut self, batch: &mut Batch, mut out: StoreBatch) -> StoreBatch {
        // Sized once: growing a vector of ~4,096 spans by doubling copies it ~12 times.
        let runs = batch
            .records
            .iter()
            .filter(|r| matches!(r, Record::Run(_)))
            .count();
        room(&mut out.spans, batch.records.len() - runs);
        room(&mut out.runs, runs);
        for rec in batch.records.drain(..) {
            match rec {
                Record::Run(r) => {
                    // the run's working directory resolves its commands' relative paths
                    self.detector.observe_run(&r);
                    out.runs.push(self.redactor.redact_run(r))
                }
                Record::Span(span) => {
                    // Planned on the raw span (which detection reads), then
                    // applied by moving it: no copy of the span's text.
                    let mut plan = self.redactor.plan_span(&span);
                    let det = self.detector.scan_span(&span, plan.report());
                    if !det.secrets.is_empty() {
                        // Canary tokens are secrets too: remembered for the run
                        // (later spans, these findings) and this span planned again.
                        for t in &det.secrets {
                            self.redactor.remember_canary(&span.run_id, t);
                        }
                        plan = self.redactor.plan_span(&span);
                    }
                    out.spans.push(self.redactor.apply(span, plan));
                    for f in det.findings {
                        out.findings.push(self.redactor.redact_finding(f));
                    }
                    for h in det.skill_hits {
                        out.skill_hits.push(self.redactor.redact_skill_hit(h));
                    }
                }
                Record::Finding(f) => out.findings.push(self.redactor.redact_finding(*f)),
                Record::Triage {
                    fingerprint,
                    status,
                    note,
                } => {
                    let note = note.map(|n| self.redactor.redact_text(&n));
                    out.triage.push((fingerprint, status, note));
                }
            }
        }
        for e in batch.errors.drain(..) {
            out.errors.push(self.redactor.redact_parse_error(e));
        }
        out.sources.extend(batch.source.take());
        out.fold_spans();
        out
    }

    /// Scans and stores one batch in one transaction.
    pub fn process(&mut self, batch: Batch) -> Result<WriteStats, StoreError> {
        let sb = self.scan(batch);
        let w = self.store.write(&sb)?;
        self.stats.add(w);
        Ok(w)
    }

    /// Scans and stores several batches in one transaction (the writer coalesces queued batches).
    pub fn process_many(&mut self, batches: Vec<Batch>) -> Result<WriteStats, StoreError> {
        let mut all = StoreBatch::default();
        for b in batches {
            let sb = self.scan(b);
            all.runs.extend(sb.runs);
            all.spans.extend(sb.spans);
            all.findings.extend(sb.findings);
            all.skill_hits.extend(sb.skill_hits);
            all.errors.extend(sb.errors);
            all.triage.extend(sb.triage);
            all.sources.extend(sb.sources);
        }
        let w = self.store.write(&all)?;
        self.stats.add(w);
        Ok(w)
    }
}

/// The writer thread's handle: join it after dropping every sender.
pub struct Writer {
    handle: std::thread::JoinHandle<Result<PipelineStats, StoreError>>,
    stats: std::sync::Arc<std::sync::Mutex<PipelineStats>>,
}

impl Writer {
    /// Totals so far (updated after each commit).
    pub fn stats(&self) -> PipelineStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Waits for the writer to drain its queue and stop (all senders must be dropped).
    pub fn join(self) -> Result<PipelineStats, StoreError> {
        match self.handle.join() {
            Ok(r) => r,
            Err(_) => Err(StoreError::NotFound("writer thread failed".into())),
        }
    }
}

/// Writes scanned batches on a second thread with its own store connection, so
/// a bulk import parses and scans on one core while SQLite commits on the other.
/// The queue holds at most [`STORE_QUEUE`] batches, so memory stays bounded.
pub struct StoreThread {
    tx: std::sync::mpsc::SyncSender<StoreBatch>,
    /// Written batches come back to be freed on the thread that allocated them
    /// (the system allocator frees across threads slowly).
    done: std::sync::mpsc::Receiver<StoreBatch>,
    handle: std::thread::JoinHandle<Result<PipelineStats, StoreError>>,
    stopped: std::cell::Cell<bool>,
}

/// Scanned batches that may wait for the store thread (each is up to
/// [`crate::ingest::file::BATCH_RECORDS`] records).
pub const STORE_QUEUE: usize = 2;

impl StoreThread {
    /// Opens a writing connection to the store at `path` and starts the thread.
    pub fn spawn(path: &std::path::Path) -> Result<StoreThread, StoreError> {
        let mut store = Store::open(path)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<StoreBatch>(STORE_QUEUE);
        let (done_tx, done) = std::sync::mpsc::sync_channel::<StoreBatch>(STORE_QUEUE + 1);
        let handle = std::thread::Builder::new()
            .name("skilltrace-store".into())
            .spawn(move || -> Result<PipelineStats, StoreError> {
                let mut stats = PipelineStats::default();
                // Returning on error drops `rx`: the sender sees it and stops.
                for batch in rx {
                    stats.add(store.write(&batch)?);
                    // Full only if the sender stopped collecting: then free here.
                    let _ = done_tx.try_send(batch);
                }
                Ok(stats)
            })
            .map_err(|e| StoreError::NotFound(format!("cannot start store thread: {e}")))?;
        Ok(StoreThread {
            tx,
            done,
            handle,
            stopped: std::cell::Cell::new(false),
        })
    }

    /// Queues a batch, waiting while the queue is full; false once the thread
    /// has stopped on an error (which [`StoreThread::finish`] returns).
    pub fn send(&self, batch: StoreBatch) -> bool {
        if self.stopped.get() {
            return false;
        }
        while let Ok(old) = self.done.try_recv() {
            drop(old);
        }
        let ok = batch.is_empty() || self.tx.send(batch).is_ok();
        self.stopped.set(!ok);
        ok
    }

    /// An empty batch to scan into: one the thread has written and handed
    /// back, emptied with its vectors' capacity kept (no reallocation and no
    /// freeing of large vectors per batch), or a new one.
    pub fn spare(&self) -> StoreBatch {
        let mut spare = None;
        while let Ok(old) = self.done.try_recv() {
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

    /// Waits for every queued batch to be committed; the totals, or the first error.
    pub fn finish(self) -> Result<PipelineStats, StoreError> {
        drop(self.tx);
        match self.handle.join() {
            Ok(r) => r,
            Err(_) => Err(StoreError::NotFound("store thread failed".into())),
        }
    }
}

/// Room for `n` more items in the empty `v`: a new allocation (with slack, so
/// the next batches fit) when its capacity is short, never a copying regrowth.
fn room<T>(v: &mut Vec<T>, n: usize) {
    if v.capacity() - v.len() < n {
        if v.is_empty() {
            *v = Vec::with_capacity(n + n / 4);
        } else {
            v.reserve(n);
        }
    }
}

/// `b` with every vector cleared, capacity kept.
fn emptied(mut b: StoreBatch) -> StoreBatch {
    b.runs.clear();
    b.spans.clear();
    b.findings.clear();
    b.skill_hits.clear();
    b.errors.clear();
    b.triage.clear();
    b.sources.clear();
    b
}

/// How many batches may wait for the writer.
pub const QUEUE_DEPTH: usize = 256;

/// Starts the single writer thread that owns the pipeline (and so the store's
/// write connection). Queued batches are coalesced into one transaction; when
/// the queue is idle it indexes full-text search in small steps.
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
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(QUEUE_DEPTH);
    let stats = std::sync::Arc::new(std::sync::Mutex::new(PipelineStats::default()));
    let shared = stats.clone();
    let handle = std::thread::Builder::new()
        .name("skilltrace-writer".into())
        .spawn(move || -> Result<PipelineStats, StoreError> {
            if background {
                crate::priority::background();
            }
            use std::sync::mpsc::RecvTimeoutError;
            loop {
                match rx.recv_timeout(std::time::Duration::from_millis(200)) {
                    Ok(first) => {
                        let mut batches = vec![first];
                        let mut records = batches[0].records.len();
                        while records < 20_000 {
                            match rx.try_recv() {
                                Ok(b) => {
                                    records += b.records.len();
                                    batches.push(b);
                                }
                                Err(_) => break,
                            }
                        }
                        pipeline.process_many(batches)?;
                        if records < 20_000 {
                            pipeline.store_mut().index_fts(500)?;
                        }
                        if let Ok(mut s) = shared.lock() {
                            *s = pipeline.stats();
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        pipeline.store_mut().index_fts(2_000)?;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            while pipeline.store_mut().index_fts(10_000)? > 0 {}
            Ok(pipeline.stats())
        })
        .map_err(|e| StoreError::NotFound(format!("cannot start writer thread: {e}")));
    let handle = match handle {
        Ok(h) => h,
        Err(e) => std::thread::spawn(move || Err(e)),
    };
    (IngestSender::new(tx), Writer { handle, stats })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Span, SpanKind};
    use crate::redact::Mode;

    fn pipeline(dir: &std::path::Path) -> Pipeline {
        let store = Store::open(&dir.join("p.db")).unwrap();
        Pipeline::new(Redactor::new(Mode::Mask), Detector::new(), store)
    }

    fn span_batch(n: usize) -> Batch {
        Batch {
            records: (0..n)
                .map(|i| {
                    Record::Span(Span::new(
                        format!("s{i}"),
                        "run-1",
                        SpanKind::Tool,
                        "Bash",
                        Origin::new("t.jsonl", i as u64 + 1),
                    ))
                })
                .collect(),
            ..Batch::default()
        }
    }

    #[test]
    fn store_thread_commits_what_it_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = pipeline(dir.path());
        let w = StoreThread::spawn(p.store().path()).unwrap();
        assert!(w.send(p.scan(span_batch(3))));
        assert!(w.send(p.scan(span_batch(5))));
        let stats = w.finish().unwrap();
        p.absorb(stats);
        assert_eq!(
            p.stats().new_spans,
            5,
            "ids s0..s4, three of them sent twice"
        );
        assert_eq!(p.stats().batches, 2);
        assert_eq!(p.store().counts().unwrap().spans, 5);
    }

    #[test]
    fn store_thread_failure_stops_senders_and_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = pipeline(dir.path());
        let w = StoreThread::spawn(p.store().path()).unwrap();
        // Another connection breaks the schema under the writer: every write now fails.
        p.store()
            .conn()
            .execute_batch("ALTER TABLE spans RENAME TO spans_gone")
            .unwrap();
        let mut sent = 0;
        while w.send(p.scan(span_batch(1))) {
            sent += 1;
            assert!(sent < 100, "the sender never noticed the writer stopped");
        }
        assert!(w.stopped());
        assert!(!w.send(p.scan(span_batch(1))), "stays stopped");
        let err = w.finish().unwrap_err().to_string();
        assert!(err.contains("spans"), "{err}");
    }
}
