//! The query worker: the TUI's only door to SQLite.
//!
//! The app asks with [`Request`]s and hears back through [`Reply`]s; the worker
//! runs on its own thread with its own read-only connection (plus a writable one,
//! opened on first use, for triage), so drawing never waits on a query. Queued
//! requests of the same kind collapse to the newest (holding `j` costs one query
//! per frame, not one per key), and the store's `data_version` is polled four
//! times a second so live views refresh while ingest writes.
//!
//! Two views list more than a page can say at once, so the worker keeps their
//! order ([`source`]) and reads full rows only for the page on screen: the Run
//! view's span tree (with each span's findings, for glyphs and jumps) and the
//! Findings view's groups (findings about one action, [`super::group`]). Both
//! are rebuilt when the store's `data_version` changes.

mod source;

pub use source::Source;

use super::flags::RowFlags;
use super::group::FindingGroup;
use crate::model::{Span, TriageStatus};
use crate::store::tree_order::TreeRow;
use crate::store::{
    Counts, FindingFilter, FindingRow, RunFilter, RunRow, RunSort, SearchHit, SkillFilter,
    SkillRow, SkillSighting, SourceRow, SpanRow, TriageState,
};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Which findings a triage decision or a note is for: these ids, and every
/// finding each scope filter selects (a rule or a run marked in bulk).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub ids: Vec<i64>,
    pub scopes: Vec<FindingFilter>,
}

/// How to take a decision back.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// Put these triage states back.
    Status(Vec<TriageState>),
    /// Remove these notes.
    Notes(Vec<i64>),
}

/// A question for the worker. `tag`s come back in the reply so the app can drop
/// answers to questions it no longer asks (a filter changed meanwhile).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Counts,
    /// What every model call in the store cost (the Runs view's total line).
    CostTotal,
    Runs {
        tag: u64,
        filter: RunFilter,
        sort: RunSort,
        offset: usize,
        limit: usize,
    },
    /// What the runs on screen cost (asked after their page, never before it:
    /// pricing reads every model call of a run).
    Costs {
        runs: Vec<String>,
    },
    /// Activity histograms for the runs on screen: (run id, start, end).
    Histograms {
        runs: Vec<(String, i64, i64)>,
        buckets: usize,
    },
    /// A page of a run's spans in tree order (depth-first by parent), with each
    /// span's place in the tree and its findings; the subtrees of `folded`
    /// spans (store keys, sorted) are left out.
    Spans {
        tag: u64,
        run_id: String,
        folded: Vec<i64>,
        offset: usize,
        limit: usize,
    },
    /// One span with its findings and skills.
    Span {
        run_id: String,
        span_id: String,
    },
    /// A page of the Findings view: groups of findings about one action.
    /// `count_hidden` also counts the triaged findings the filter hides.
    Findings {
        tag: u64,
        filter: FindingFilter,
        count_hidden: bool,
        offset: usize,
        limit: usize,
    },
    /// The steps of a chain finding, labelled (the detail pane lists them).
    Steps {
        finding_id: i64,
        run_id: String,
        span_ids: Vec<String>,
    },
    Skills {
        tag: u64,
        filter: SkillFilter,
        offset: usize,
        limit: usize,
    },
    SkillHits {
        skill_id: String,
    },
    /// Sources whose path or format holds every word and (when set) whose runs meet the filter.
    Sources {
        words: Vec<String>,
        runs: Option<RunFilter>,
    },
    ParseErrors {
        path: String,
    },
    /// Hits `offset..offset + limit` of a full-text search, best first.
    Search {
        query: String,
        offset: usize,
        limit: usize,
    },
    /// A person's triage decision on `target`, stored at once.
    Triage {
        target: Target,
        status: TriageStatus,
        reason: Option<String>,
        by: String,
        at_ms: i64,
    },
    /// A note by `by` at `at_ms` on every finding of `target`.
    Note {
        target: Target,
        text: String,
        by: String,
        at_ms: i64,
    },
    /// Take a decision back.
    Undo(Undo),
    /// Spans for the replay (time order), paged.
    ReplaySpans {
        run_id: String,
        offset: usize,
        limit: usize,
    },
    /// Every finding of a run, for the replay to raise as their spans arrive.
    ReplayFindings {
        run_id: String,
    },
    /// Where a span sits in its run's tree order (to select it in the Run view).
    Locate {
        run_id: String,
        span_id: String,
    },
    /// The next (or previous) row after `from` in the Run view's list that is
    /// flagged or folds a flagged span away.
    Flagged {
        tag: u64,
        run_id: String,
        folded: Vec<i64>,
        from: usize,
        forward: bool,
    },
    /// The next (or previous) flagged span after `span_id` in its run's tree order.
    FlaggedAfter {
        run_id: String,
        span_id: String,
        forward: bool,
    },
}

impl Request {
    /// Requests with the same slot replace each other while queued.
    fn slot(&self) -> Option<u8> {
        Some(match self {
            Request::Counts => 0,
            Request::Runs { .. } => 1,
            Request::Histograms { .. } => 2,
            Request::Spans { .. } => 3,
            Request::Span { .. } => 4,
            Request::Findings { .. } => 5,
            Request::Skills { .. } => 6,
            Request::SkillHits { .. } => 7,
            Request::Sources { .. } => 8,
            Request::ParseErrors { .. } => 9,
            Request::Search { .. } => 10,
            Request::ReplaySpans { .. } => 11,
            Request::Locate { .. } => 12,
            Request::Steps { .. } => 13,
            Request::ReplayFindings { .. } => 14,
            Request::Costs { .. } => 15,
            Request::CostTotal => 16,
            Request::Triage { .. }
            | Request::Note { .. }
            | Request::Undo(_)
            | Request::Flagged { .. }
            | Request::FlaggedAfter { .. } => return None,
        })
    }
}

/// A row of the Run view: the span, its place in the tree, its findings.
pub type SpanItem = (SpanRow, TreeRow, RowFlags);

/// A chain step as the detail pane lists it: the span id and a one-line label
/// (`None` when the span is not in the store).
pub type Step = (String, Option<String>);

/// An answer from the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Counts {
        counts: Counts,
        /// Spans waiting for the search index.
        fts_pending: u64,
    },
    /// What every model call in the store cost, as `skilltrace cost` totals it.
    CostTotal(crate::pricing::Cost),
    /// A page of runs; each row's `findings` counts its *open* findings.
    /// Rows come unpriced (`cost: None`): [`Request::Costs`] prices them.
    Runs {
        tag: u64,
        total: u64,
        offset: usize,
        rows: Vec<RunRow>,
    },
    Histograms(Vec<(String, Vec<u64>)>),
    /// Runs priced: (run id, its cost with its subagents').
    Costs(Vec<(String, crate::pricing::RunCost)>),
    Spans {
        tag: u64,
        /// The run, its `findings` counting open ones (unpriced: see [`Request::Costs`]).
        run: Option<Box<RunRow>>,
        /// Skills seen in the run: (id, its content differs from the registry).
        skills: Vec<(String, bool)>,
        total: u64,
        offset: usize,
        rows: Vec<SpanItem>,
    },
    Span {
        span: Option<Box<Span>>,
        findings: Vec<FindingRow>,
        /// Skills recognised in the span: (id, method, confidence).
        skills: Vec<(String, String, f32)>,
    },
    Findings {
        tag: u64,
        total: u64,
        /// Triaged findings the filter hides (when asked).
        hidden: u64,
        offset: usize,
        rows: Vec<FindingGroup>,
    },
    Steps {
        finding_id: i64,
        steps: Vec<Step>,
    },
    Skills {
        tag: u64,
        total: u64,
        offset: usize,
        rows: Vec<SkillRow>,
    },
    SkillHits {
        skill_id: String,
        hits: Vec<SkillSighting>,
    },
    Sources(Vec<SourceRow>),
    ParseErrors {
        path: String,
        errors: Vec<crate::model::ParseError>,
    },
    Search {
        query: String,
        offset: usize,
        hits: Vec<SearchHit>,
        /// How many spans match (at most [`source::MAX_SEARCH_COUNT`]).
        total: u64,
        fts_pending: u64,
    },
    /// A decision (or a note, `status: None`) stored on `count` findings.
    Triaged {
        status: Option<TriageStatus>,
        count: usize,
        undo: Undo,
    },
    /// A decision taken back on `count` findings (or notes).
    Undone {
        count: usize,
    },
    ReplaySpans {
        run_id: String,
        offset: usize,
        total: u64,
        rows: Vec<SpanRow>,
    },
    ReplayFindings {
        run_id: String,
        findings: Vec<FindingRow>,
    },
    Located {
        run_id: String,
        span_id: String,
        position: Option<u64>,
    },
    /// Where [`Request::Flagged`] found a flagged row (`None`: the run has none).
    FlagAt {
        tag: u64,
        position: Option<u64>,
        wrapped: bool,
    },
    /// The span [`Request::FlaggedAfter`] found.
    FlaggedSpan {
        run_id: String,
        span_id: Option<String>,
    },
    /// Another connection committed: refresh what is on screen.
    Changed,
    /// A query failed; one line, no row contents.
    Error(String),
}

/// Starts the worker thread over `source`; replies go to `sink` (which returns
/// false once nobody listens). The worker stops when the returned sender is dropped.
pub fn spawn(
    mut source: Source,
    sink: impl Fn(Reply) -> bool + Send + 'static,
) -> std::io::Result<Sender<Request>> {
    let (req_tx, req_rx) = std::sync::mpsc::channel::<Request>();
    std::thread::Builder::new()
        .name("skilltrace-tui-data".into())
        .spawn(move || {
            let poll = Duration::from_millis(250);
            let mut version = source.data_version();
            let mut last_poll = Instant::now();
            loop {
                let first = match req_rx.recv_timeout(poll) {
                    Ok(r) => Some(r),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                };
                let mut queue: Vec<Request> = first.into_iter().collect();
                while let Ok(r) = req_rx.try_recv() {
                    queue.push(r);
                }
                for req in coalesce(queue) {
                    if !sink(source.execute(req)) {
                        return;
                    }
                }
                // A run's order after its first page (an error shows on the next request).
                let _ = source.idle();
                if last_poll.elapsed() >= poll {
                    last_poll = Instant::now();
                    let v = source.data_version();
                    if v != version {
                        version = v;
                        if !sink(Reply::Changed) {
                            return;
                        }
                    }
                }
            }
        })?;
    Ok(req_tx)
}

/// Keeps the newest request of each slot (in arrival order of the kept ones); writes all stay.
pub fn coalesce(queue: Vec<Request>) -> Vec<Request> {
    let mut out: Vec<Request> = Vec::with_capacity(queue.len());
    for r in queue {
        if let Some(slot) = r.slot() {
            out.retain(|o| o.slot() != Some(slot));
        }
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_keeps_newest_per_slot_and_every_write() {
        let runs = |offset| Request::Runs {
            tag: 1,
            filter: RunFilter::default(),
            sort: RunSort::Started,
            offset,
            limit: 10,
        };
        let tri = |id| Request::Triage {
            target: Target {
                ids: vec![id],
                scopes: vec![],
            },
            status: TriageStatus::Confirmed,
            reason: None,
            by: "t".into(),
            at_ms: 0,
        };
        let out = coalesce(vec![runs(0), tri(1), Request::Counts, runs(10), tri(2)]);
        assert_eq!(out, vec![tri(1), Request::Counts, runs(10), tri(2)]);
    }
}
