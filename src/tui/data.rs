//! The query worker: the TUI's only door to SQLite.
//!
//! The app asks with [`Request`]s and hears back through [`Reply`]s; the worker
//! runs on its own thread with its own read-only connection (plus a writable one,
//! opened on first use, for triage), so drawing never waits on a query. Queued
//! requests of the same kind collapse to the newest (holding `j` costs one query
//! per frame, not one per key), and the store's `data_version` is polled four
//! times a second so live views refresh while ingest writes.
//!
//! The Run view lists a run as a tree ([`super::tree`]): the worker reads the
//! run's skeleton (keys and parent links, no contents) once, orders it, keeps
//! that order until the run or the store's `data_version` changes, and reads
//! full rows only for the page on screen, by key.

use super::tree::{fold, tree_order, TreeRow};
use crate::model::{Span, TriageStatus};
use crate::store::{
    Counts, FindingFilter, FindingRow, RunFilter, RunRow, RunSort, SearchHit, SkillSummary,
    SourceRow, SpanRow, Store, StoreError,
};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// A question for the worker. `tag`s come back in the reply so the app can drop
/// answers to questions it no longer asks (a filter changed meanwhile).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Counts,
    Runs {
        tag: u64,
        filter: RunFilter,
        sort: RunSort,
        offset: usize,
        limit: usize,
    },
    /// Activity histograms for the runs on screen: (run id, start, end).
    Histograms {
        runs: Vec<(String, i64, i64)>,
        buckets: usize,
    },
    /// A page of a run's spans in tree order (depth-first by parent), with each
    /// span's place in the tree; the subtrees of `folded` spans (store keys,
    /// sorted) are left out.
    Spans {
        tag: u64,
        run_id: String,
        folded: Vec<i64>,
        offset: usize,
        limit: usize,
    },
    /// One span with its findings.
    Span {
        run_id: String,
        span_id: String,
    },
    Findings {
        tag: u64,
        filter: FindingFilter,
        offset: usize,
        limit: usize,
    },
    Skills {
        offset: usize,
        limit: usize,
    },
    SkillHits {
        skill_id: String,
    },
    Sources,
    ParseErrors {
        path: String,
    },
    Search {
        query: String,
    },
    /// A person's triage decision: stored at once.
    Triage {
        id: i64,
        status: TriageStatus,
        note: Option<String>,
    },
    /// Spans for the replay (time order), paged.
    ReplaySpans {
        run_id: String,
        offset: usize,
        limit: usize,
    },
    /// Where a span sits in its run's tree order (to select it in the Run view).
    Locate {
        run_id: String,
        span_id: String,
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
            Request::Sources => 8,
            Request::ParseErrors { .. } => 9,
            Request::Search { .. } => 10,
            Request::Triage { .. } => return None,
            Request::ReplaySpans { .. } => 11,
            Request::Locate { .. } => 12,
        })
    }
}

/// An answer from the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Counts {
        counts: Counts,
        /// Spans waiting for the search index.
        fts_pending: u64,
    },
    Runs {
        tag: u64,
        total: u64,
        offset: usize,
        rows: Vec<RunRow>,
    },
    Histograms(Vec<(String, Vec<u64>)>),
    Spans {
        tag: u64,
        run: Option<Box<RunRow>>,
        total: u64,
        offset: usize,
        rows: Vec<(SpanRow, TreeRow)>,
    },
    Span {
        span: Option<Box<Span>>,
        findings: Vec<FindingRow>,
    },
    Findings {
        tag: u64,
        total: u64,
        offset: usize,
        rows: Vec<FindingRow>,
    },
    Skills {
        total: u64,
        offset: usize,
        rows: Vec<SkillSummary>,
    },
    SkillHits {
        skill_id: String,
        hits: Vec<(String, String, String, f32)>,
    },
    Sources(Vec<SourceRow>),
    ParseErrors {
        path: String,
        errors: Vec<crate::model::ParseError>,
    },
    Search {
        query: String,
        hits: Vec<SearchHit>,
        fts_pending: u64,
    },
    Triaged {
        id: i64,
        status: TriageStatus,
    },
    ReplaySpans {
        run_id: String,
        offset: usize,
        total: u64,
        rows: Vec<SpanRow>,
    },
    Located {
        run_id: String,
        span_id: String,
        position: Option<u64>,
    },
    /// Another connection committed: refresh what is on screen.
    Changed,
    /// A query failed; one line, no row contents.
    Error(String),
}

/// The store connections a worker answers from.
pub struct Source {
    path: PathBuf,
    read: Option<Store>,
    write: Option<Store>,
    /// The last run count and the filter it was for (cleared when the store changes).
    run_total: Option<(RunFilter, u64)>,
    last_version: Option<i64>,
    /// The tree order of the run last opened in the Run view.
    tree: Option<TreeCache>,
}

/// A run's spans in tree order, valid while the store's `data_version` is `version`.
struct TreeCache {
    run_id: String,
    version: Option<i64>,
    rows: Vec<TreeRow>,
    /// The rows shown with some spans folded, and which spans those were.
    shown: Option<(Vec<i64>, Vec<TreeRow>)>,
}

impl Source {
    /// Opens the read connection now (the store must exist) and the write one on first triage.
    pub fn open(path: &Path) -> Result<Source, StoreError> {
        Ok(Source {
            path: path.to_path_buf(),
            read: Some(Store::open_read(path)?),
            write: None,
            run_total: None,
            last_version: None,
            tree: None,
        })
    }

    /// A source that opens lazily (the store may not exist yet, e.g. while a demo import starts).
    pub fn lazy(path: &Path) -> Source {
        Source {
            path: path.to_path_buf(),
            read: None,
            write: None,
            run_total: None,
            last_version: None,
            tree: None,
        }
    }

    fn reader(&mut self) -> Result<&Store, StoreError> {
        if self.read.is_none() {
            self.read = Some(Store::open_read(&self.path)?);
        }
        match &self.read {
            Some(s) => Ok(s),
            None => Err(StoreError::NotFound("store not open".into())),
        }
    }

    fn writer(&mut self) -> Result<&Store, StoreError> {
        if self.write.is_none() {
            self.write = Some(Store::open(&self.path)?);
        }
        match &self.write {
            Some(s) => Ok(s),
            None => Err(StoreError::NotFound("store not open".into())),
        }
    }

    /// The store's change counter (None while it cannot be opened). A change
    /// forgets cached counts.
    pub fn data_version(&mut self) -> Option<i64> {
        let v = self.reader().ok()?.data_version().ok();
        if v != self.last_version {
            self.last_version = v;
            self.run_total = None;
        }
        v
    }

    /// `run_id`'s spans in tree order: built from the run's skeleton on first
    /// use and again after the store changed (or when `rebuild`).
    fn tree(&mut self, run_id: &str, rebuild: bool) -> Result<&[TreeRow], StoreError> {
        let version = self.data_version();
        let fresh =
            matches!(&self.tree, Some(t) if !rebuild && t.run_id == run_id && t.version == version);
        if !fresh {
            self.tree = None;
            let rows = tree_order(&self.reader()?.span_skeleton(run_id)?);
            self.tree = Some(TreeCache {
                run_id: run_id.to_string(),
                version,
                rows,
                shown: None,
            });
        }
        Ok(self.tree.as_ref().map(|t| t.rows.as_slice()).unwrap_or(&[]))
    }

    /// `run_id`'s tree as shown with the subtrees of `folded` left out.
    fn shown(
        &mut self,
        run_id: &str,
        folded: &[i64],
        rebuild: bool,
    ) -> Result<&[TreeRow], StoreError> {
        self.tree(run_id, rebuild)?;
        let Some(t) = self.tree.as_mut() else {
            return Ok(&[]);
        };
        if folded.is_empty() {
            return Ok(&t.rows);
        }
        if t.shown.as_ref().map(|(f, _)| f.as_slice()) != Some(folded) {
            t.shown = Some((folded.to_vec(), fold(&t.rows, folded)));
        }
        Ok(t.shown.as_ref().map(|(_, r)| r.as_slice()).unwrap_or(&[]))
    }

    /// Rows `[offset, offset + limit)` of `run_id`'s tree as shown (with
    /// `folded` subtrees left out), with their places in the tree, and how many
    /// rows are shown. A span gone since the order was built (a write slipped
    /// in before the version poll saw it) rebuilds the order once.
    fn tree_page(
        &mut self,
        run_id: &str,
        folded: &[i64],
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<(SpanRow, TreeRow)>), StoreError> {
        let mut rebuild = false;
        loop {
            let tree = self.shown(run_id, folded, rebuild)?;
            let total = tree.len() as u64;
            let page: Vec<TreeRow> = tree.iter().skip(offset).take(limit).copied().collect();
            let keys: Vec<i64> = page.iter().map(|r| r.key).collect();
            let rows = self.reader()?.spans_by_keys(&keys)?;
            if rows.len() == keys.len() || rebuild {
                let mut rows = rows.into_iter().peekable();
                let mut out = Vec::with_capacity(page.len());
                for r in page {
                    if rows.peek().is_some_and(|s| s.rowid == r.key) {
                        if let Some(s) = rows.next() {
                            out.push((s, r));
                        }
                    }
                }
                return Ok((total, out));
            }
            rebuild = true;
        }
    }

    /// Answers one request synchronously (the worker thread, tests and benchmarks call this).
    pub fn execute(&mut self, req: Request) -> Reply {
        match self.answer(req) {
            Ok(r) => r,
            Err(e) => Reply::Error(crate::sanitize::line(&e.to_string()).into_owned()),
        }
    }

    fn answer(&mut self, req: Request) -> Result<Reply, StoreError> {
        if let Request::Triage { id, status, note } = req {
            self.writer()?.set_triage(id, status, note.as_deref())?;
            return Ok(Reply::Triaged { id, status });
        }
        if let Request::Runs {
            tag,
            filter,
            sort,
            offset,
            limit,
        } = req
        {
            // Paging under the same filter reuses the count (a data change clears it).
            let cached = match &self.run_total {
                Some((f, n)) if *f == filter => Some(*n),
                _ => None,
            };
            let s = self.reader()?;
            let total = match cached {
                Some(n) => n,
                None => s.run_count(&filter)?,
            };
            let rows = priced(s, s.runs(&filter, sort, offset, limit)?)?;
            self.run_total = Some((filter, total));
            return Ok(Reply::Runs {
                tag,
                total,
                offset,
                rows,
            });
        }
        if let Request::Spans {
            tag,
            run_id,
            folded,
            offset,
            limit,
        } = req
        {
            let (total, rows) = self.tree_page(&run_id, &folded, offset, limit)?;
            let s = self.reader()?;
            let run = priced(s, s.run(&run_id)?.into_iter().collect())?.pop();
            return Ok(Reply::Spans {
                tag,
                run: run.map(Box::new),
                total,
                offset,
                rows,
            });
        }
        if let Request::Locate { run_id, span_id } = req {
            let position = match self.reader()?.span_key(&run_id, &span_id)? {
                Some(key) => self
                    .tree(&run_id, false)?
                    .iter()
                    .position(|r| r.key == key)
                    .map(|p| p as u64),
                None => None,
            };
            return Ok(Reply::Located {
                run_id,
                span_id,
                position,
            });
        }
        let s = self.reader()?;
        Ok(match req {
            Request::Counts => {
                let counts = s.counts()?;
                Reply::Counts {
                    fts_pending: counts.fts_pending,
                    counts,
                }
            }
            Request::Runs { .. } => Reply::Error("runs: unreachable".into()),
            Request::Histograms { runs, buckets } => {
                let mut out = Vec::with_capacity(runs.len());
                for (id, a, b) in runs {
                    let h = s.run_histogram(&id, a, b, buckets)?;
                    out.push((id, h));
                }
                Reply::Histograms(out)
            }
            Request::Spans { .. } => Reply::Error("spans: unreachable".into()),
            Request::Span { run_id, span_id } => Reply::Span {
                span: s.span(&run_id, &span_id)?.map(Box::new),
                findings: s.findings_for_span(&run_id, &span_id)?,
            },
            Request::Findings {
                tag,
                filter,
                offset,
                limit,
            } => Reply::Findings {
                tag,
                total: s.finding_count(&filter)?,
                offset,
                rows: s.findings(&filter, offset, limit)?,
            },
            Request::Skills { offset, limit } => Reply::Skills {
                total: s.skill_count()?,
                offset,
                rows: s.skills(offset, limit)?,
            },
            Request::SkillHits { skill_id } => Reply::SkillHits {
                hits: s.skill_hits(&skill_id, 200)?,
                skill_id,
            },
            Request::Sources => Reply::Sources(s.sources()?),
            Request::ParseErrors { path } => Reply::ParseErrors {
                errors: s.parse_errors(Some(&path), 500)?,
                path,
            },
            Request::Search { query } => Reply::Search {
                hits: s.search(&query, 500)?,
                fts_pending: s.fts_pending()?,
                query,
            },
            Request::ReplaySpans {
                run_id,
                offset,
                limit,
            } => Reply::ReplaySpans {
                total: s.span_count(&run_id)?,
                rows: s.spans(&run_id, offset, limit)?,
                run_id,
                offset,
            },
            Request::Locate { .. } => Reply::Error("locate: unreachable".into()),
            Request::Triage { .. } => Reply::Error("triage: unreachable".into()),
        })
    }
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

/// `rows` with their costs (subagents rolled up) from the installed price table.
fn priced(s: &Store, mut rows: Vec<RunRow>) -> Result<Vec<RunRow>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.run.id.as_str()).collect();
    let mut costs = crate::pricing::ledger::costs_of_runs(s, &crate::pricing::table(), &ids)?;
    for r in &mut rows {
        r.cost = Some(costs.remove(&r.run.id).unwrap_or_default());
    }
    Ok(rows)
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
            id,
            status: TriageStatus::Confirmed,
            note: None,
        };
        let out = coalesce(vec![runs(0), tri(1), Request::Counts, runs(10), tri(2)]);
        assert_eq!(out, vec![tri(1), Request::Counts, runs(10), tri(2)]);
    }
}
