//! The pipeline: parsed records → scan (redact + detect, one pass) → store, in batches.
//!
//! [`Pipeline::process`] is the single place where raw records become stored
//! rows: every span is redacted and scanned here, and the store accepts only
//! the `Redacted` values this stage produces. Sources (tailer, importer,
//! proxy) hand [`Batch`]es to a writer thread through an [`IngestSender`]
//! (the threads are in [`super::writer`]); the pipeline commits through a
//! [`Committer`], so a busy or full store never loses a batch.
//!
//! A one-shot import scans on several cores ([`super::parallel`]): the files
//! are grouped by the run they feed ([`super::units`]) and each worker owns a
//! [`Pipeline::fork`], which shares the compiled rules (`Arc`, compiled once)
//! and keeps its own run state, so a run is scanned by one worker, in order,
//! as one thread would scan it. Workers hand scanned batches to the one
//! [`StoreThread`] through their own [`StoreLink`] (order kept per link; what
//! waits is bounded in bytes across links). The tailer, the receivers and the
//! TUI keep the incremental path: one writer thread that scans and commits.

use crate::ingest::formats::Record;
use crate::model::ParseError;
pub use crate::model::SourceState;

/// One unit of work for the writer: records from one source, their parse errors,
/// and where the source stands after them (committed in the same transaction).
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<Record>,
    pub errors: Vec<ParseError>,
    pub source: Option<SourceState>,
}

pub use super::queue::IngestSender;
pub use super::store_thread::{StoreLink, StoreThread, STORE_QUEUE};
pub use super::writer::{spawn_background_writer, spawn_writer, Writer, QUEUE_DEPTH};

use crate::detect::Detector;
use crate::redact::Redactor;
use crate::store::commit::{CommitConfig, Committed, Committer, Leftover};
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
    pub(super) fn add(&mut self, w: WriteStats) {
        self.batches += 1;
        self.new_spans += w.new_spans;
        self.spans += w.new_spans + w.updated_spans;
        self.findings += w.new_findings;
        self.skill_hits += w.new_skill_hits;
        self.errors += w.errors;
    }
}

/// The page cache (KiB) of a [`Pipeline::fork`]'s connection, which only
/// reads (a file's stored offset, once per file): with 1 MiB, heaptrack found
/// its pages at 0.7 MB across both workers' connections at 90% of a 200 MB
/// import and 4.7 MB at 90% of 1 GB. 256 KiB is 15 pages of 16 KiB.
pub const FORK_CACHE_KIB: u32 = 256;

/// Parse → scan → store. Owns the redactor, the detector and the writing
/// store connection (behind a [`Committer`]).
pub struct Pipeline {
    redactor: Redactor,
    detector: Detector,
    committer: Committer,
    commit_config: CommitConfig,
    stats: PipelineStats,
    line_cap: usize,
    budget: Option<crate::ingest::budget::BudgetWatch>,
}

impl Pipeline {
    pub fn new(redactor: Redactor, detector: Detector, store: Store) -> Pipeline {
        Pipeline {
            redactor,
            detector,
            committer: Committer::new(store, CommitConfig::default()),
            commit_config: CommitConfig::default(),
            stats: PipelineStats::default(),
            line_cap: crate::ingest::reader::DEFAULT_LINE_CAP,
            budget: None,
        }
    }

    /// A pipeline for another import worker: the same compiled rules (shared,
    /// not compiled again), its own run state (redaction memory, detection
    /// chains) and its own connection to the same store (to read where each
    /// file stopped). It scans only; a [`StoreThread`] commits.
    pub fn fork(&self) -> Result<Pipeline, StoreError> {
        let store = Store::open(self.store().path())?;
        // It looks up a file's stored offset now and then: the 32 MiB cache
        // of other connections filled with pages it never read again (~1.5 MB
        // per worker at 200 MB of input, ~3 MB at 1 GB).
        store.set_page_cache_kib(FORK_CACHE_KIB)?;
        Ok(Pipeline {
            redactor: self.redactor.fork(),
            detector: self.detector.fork(),
            committer: Committer::new(store, self.commit_config),
            commit_config: self.commit_config,
            stats: PipelineStats::default(),
            line_cap: self.line_cap,
            budget: None,
        })
    }

    /// Watches cost budgets: a batch that takes a run or a day over one also
    /// stores its `COST-TRACE-*` finding.
    pub fn with_budget(mut self, watch: Option<crate::ingest::budget::BudgetWatch>) -> Pipeline {
        self.budget = watch.map(crate::ingest::budget::BudgetWatch::remembering);
        self
    }

    /// Sets how this pipeline (and writer threads it starts) wait for a busy
    /// store and how much they may spool.
    pub fn with_commit_config(mut self, cfg: CommitConfig) -> Pipeline {
        self.commit_config = cfg;
        self.committer.set_config(cfg);
        self
    }

    /// How this pipeline commits.
    pub fn commit_config(&self) -> CommitConfig {
        self.commit_config
    }

    /// The committer (its health: what was spooled, replayed, lost).
    pub fn committer_mut(&mut self) -> &mut Committer {
        &mut self.committer
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
        self.committer.store()
    }

    /// The redactor (for redacting text bound for logs and messages).
    pub fn redactor_mut(&mut self) -> &mut Redactor {
        &mut self.redactor
    }

    /// The store this pipeline writes (for FTS indexing and reads between batches).
    pub fn store_mut(&mut self) -> &mut Store {
        self.committer.store_mut()
    }

    /// Scans a batch: the one place where raw records become redacted rows.
    pub fn scan(&mut self, mut batch: Batch) -> StoreBatch {
        self.scan_into(&mut batch, StoreBatch::default())
    }

    /// [`Pipeline::scan`] into `out` (an emptied batch, see [`StoreThread::spare`]),
    /// draining `batch`: both keep their vectors' capacity for the next batch.
    pub fn scan_into(&mut self, batch: &mut Batch, out: StoreBatch) -> StoreBatch {
        scan_batch(&mut self.redactor, &mut self.detector, batch, out)
    }

    /// Scans and stores one batch in one transaction (or keeps it in the
    /// spool when the store cannot take it: then it is counted when stored).
    pub fn process(&mut self, batch: Batch) -> Result<WriteStats, StoreError> {
        let mut sb = self.scan(batch);
        self.commit(&mut sb)
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
        self.commit(&mut all)
    }

    fn commit(&mut self, sb: &mut StoreBatch) -> Result<WriteStats, StoreError> {
        let touched: std::collections::BTreeSet<String> = match &self.budget {
            Some(_) => sb
                .spans
                .iter()
                .map(|s| s.get())
                .filter(|s| crate::ingest::budget::has_usage(s))
                .map(|s| s.run_id.clone())
                .collect(),
            None => Default::default(),
        };
        let (mut w, kept) = match self.committer.commit(sb)? {
            Committed::Stored(w) => (w, false),
            Committed::Kept => (WriteStats::default(), true),
        };
        self.stats.add(w);
        self.count_replayed();
        if let Some(watch) = &self.budget {
            if kept {
                // Stored later without a check: the watch reads its days again.
                watch.forget();
            }
            // Checked once the calls are stored (a batch kept in the spool is
            // counted by the next check); a crossing is one finding, stored once.
            if w != WriteStats::default() && !touched.is_empty() {
                let found = watch.check(self.committer.store(), &touched)?;
                if !found.is_empty() {
                    let mut fb = StoreBatch::default();
                    for f in found {
                        fb.findings.push(self.redactor.redact_finding(f));
                    }
                    if let Committed::Stored(fw) = self.committer.commit(&mut fb)? {
                        self.stats.findings += fw.new_findings;
                        w.new_findings += fw.new_findings;
                    }
                }
            }
        }
        Ok(w)
    }

    /// Stores kept batches when a retry is due (writers call it when idle).
    pub fn tick(&mut self) -> Result<(), StoreError> {
        self.committer.tick()?;
        self.count_replayed();
        Ok(())
    }

    /// True while batches wait in the spool (full-text indexing waits too).
    pub fn backlog(&self) -> bool {
        self.committer.backlog()
    }

    /// Before stopping: stores what is kept until `deadline`, says what is left.
    pub fn settle(&mut self, deadline: std::time::Instant) -> Result<Leftover, StoreError> {
        let left = self.committer.finish(deadline)?;
        self.count_replayed();
        Ok(left)
    }

    /// Counts the batches the spool stored since the last look (unchecked by
    /// the budget watch, which then forgets what the days cost).
    fn count_replayed(&mut self) {
        let r = self.committer.take_replayed();
        if r != WriteStats::default() {
            self.stats.add(r);
            if let Some(watch) = &self.budget {
                watch.forget();
            }
        }
    }
}

/// [`Pipeline::scan_into`] with a given redactor and detector: also for the
/// proxy's recorder when it spills to the spool (which holds only redacted rows).
pub fn scan_batch(
    redactor: &mut Redactor,
    detector: &mut Detector,
    batch: &mut Batch,
    mut out: StoreBatch,
) -> StoreBatch {
    // Sized once: growing a vector of ~4,096 spans by doubling copies it ~12 times.
    let runs = batch
        .records
        .iter()
        .filter(|r| matches!(r, Record::Run(_)))
        .count();
    room(&mut out.spans, batch.records.len() - runs);
    room(&mut out.runs, runs);
    // An id holding a secret becomes its keyed stand-in before anything reads
    // the records (the seams, the run's memory and detection key by run id).
    let mut ids = super::ids::IdStandIns::default();
    for rec in batch.records.iter_mut() {
        ids.apply(redactor, rec);
    }
    // The pieces of a secret cut across two strings of a span, or across two
    // spans of the batch, are learned before any record is redacted: the earlier
    // span and a run's title (which comes before its spans) lose them too.
    let ahead = redactor.learn_seams_ahead(batch.records.iter().filter_map(|r| match r {
        Record::Span(s) => Some(s),
        _ => None,
    }));
    for rec in batch.records.drain(..) {
        // A background writer lets waiting threads run between records.
        crate::priority::yield_point();
        match rec {
            Record::Run(r) => {
                // the run's working directory resolves its commands' relative paths
                detector.observe_run(&r);
                out.runs.push(redactor.redact_run(r))
            }
            Record::Span(span) => {
                crate::ingest::scan::scan_span(redactor, detector, span, &mut out);
            }
            Record::Finding(f) => out.findings.push(redactor.redact_finding(*f)),
            Record::Triage {
                fingerprint,
                status,
                note,
            } => {
                let note = note.map(|n| redactor.redact_text(&n));
                out.triage.push((fingerprint, status, note));
            }
        }
    }
    if ahead {
        redactor.seams_learned();
    }
    for e in batch.errors.drain(..) {
        out.errors.push(redactor.redact_parse_error(e));
    }
    out.sources.extend(batch.source.take().map(|mut s| {
        s.path = crate::redact::kept_source_path(&s.path);
        s
    }));
    out.fold_spans();
    out
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
        // Bounded to one batch at a time, so the sender waits on the thread.
        let w = StoreThread::spawn_bounded(p.store().path(), CommitConfig::default(), 1).unwrap();
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
