//! [`Source`]: the store connections the worker answers from, and the orders
//! it keeps between questions.
//!
//! The Run view lists a run as a tree ([`crate::store::tree_order`]): its first page
//! is read from the top of the tree through the stored parent links
//! ([`crate::store::Store::tree_head`]); the run's skeleton (keys and parent
//! links, no contents) is read once, ordered (after that first page, when
//! the worker is idle), and kept with each span's findings ([`crate::tui::flags`]) until the run or the
//! store's `data_version` changes; full rows are read only for the page on
//! screen, by key. The Findings view is kept the same way: the filter's
//! findings as light keys, grouped ([`crate::tui::group`]), and a page of
//! groups read by id. Each cache lives in its own child module: [`tree`]
//! (the Run view), [`groups`] (the Findings view), [`search`] (the Search view).

mod groups;
mod search;
mod tree;

use super::{Reply, Request, Step, Undo};
use crate::store::{FindingFilter, RunFilter, RunRow, Store, StoreError};
use crate::tui::group::{assemble, Behaviours};
use groups::GroupCache;
use search::SearchCache;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tree::TreeCache;

/// Most findings the Findings view orders and groups (a store holding more
/// lists the worst this many).
pub const MAX_FINDINGS: usize = 200_000;

/// Searches count their hits up to this many.
pub const MAX_SEARCH_COUNT: u64 = 1_000_000;

/// The store connections a worker answers from.
pub struct Source {
    path: PathBuf,
    read: Option<Store>,
    write: Option<Store>,
    /// The last run count and the filter it was for (cleared when the store changes).
    run_total: Option<(RunFilter, u64)>,
    /// The store-wide cost total (cleared when the store changes).
    cost_total: Option<crate::pricing::Cost>,
    last_version: Option<i64>,
    /// The tree order of the run last opened in the Run view.
    tree: Option<TreeCache>,
    /// A run whose first page was read from the top of its tree: its full
    /// order is built when the worker is idle ([`Source::idle`]).
    pending_tree: Option<String>,
    /// The Findings view's groups for the last filter.
    groups: Option<GroupCache>,
    /// The last search's best hits.
    search: Option<SearchCache>,
    behaviours: Behaviours,
    /// What every connection redacts its rows with again on the way out (the
    /// config's redactor; the built-in one when `None`, see `store::reread`).
    redactor: Option<crate::redact::Redactor>,
}

impl Source {
    fn new(path: &Path, read: Option<Store>) -> Source {
        Source {
            path: path.to_path_buf(),
            read,
            write: None,
            run_total: None,
            cost_total: None,
            last_version: None,
            tree: None,
            pending_tree: None,
            groups: None,
            search: None,
            behaviours: Behaviours::builtin(),
            redactor: None,
        }
    }

    /// Opens the read connection now (the store must exist) and the write one on first triage.
    pub fn open(path: &Path) -> Result<Source, StoreError> {
        Ok(Source::new(path, Some(Store::open_read(path)?)))
    }

    /// A source that opens lazily (the store may not exist yet, e.g. while a demo import starts).
    pub fn lazy(path: &Path) -> Source {
        Source::new(path, None)
    }

    /// The same source, its rows redacted again with (a fork of) `redactor`.
    pub fn with_redactor(mut self, redactor: crate::redact::Redactor) -> Source {
        for s in [&self.read, &self.write].into_iter().flatten() {
            s.redact_reads_with(redactor.fork());
        }
        self.redactor = Some(redactor);
        self
    }

    /// Installs the source's redactor on a connection just opened.
    fn redacting(&self, store: Store) -> Store {
        if let Some(r) = &self.redactor {
            store.redact_reads_with(r.fork());
        }
        store
    }

    /// The same source grouping findings by these behaviours.
    pub fn with_behaviours(mut self, b: Behaviours) -> Source {
        self.behaviours = b;
        self
    }

    fn reader(&mut self) -> Result<&Store, StoreError> {
        if self.read.is_none() {
            self.read = Some(self.redacting(Store::open_read(&self.path)?));
        }
        match &self.read {
            Some(s) => Ok(s),
            None => Err(StoreError::NotFound("store not open".into())),
        }
    }

    fn writer(&mut self) -> Result<&Store, StoreError> {
        if self.write.is_none() {
            self.write = Some(self.redacting(Store::open(&self.path)?));
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
            self.cost_total = None;
        }
        v
    }

    /// Runs with their `findings` counting open findings only (what is left to triage).
    fn with_open_counts(&mut self, mut rows: Vec<RunRow>) -> Result<Vec<RunRow>, StoreError> {
        let ids: Vec<&str> = rows.iter().map(|r| r.run.id.as_str()).collect();
        let open = self.reader()?.open_counts(&ids)?;
        for r in rows.iter_mut() {
            r.findings = open.get(&r.run.id).copied().unwrap_or_default();
        }
        Ok(rows)
    }

    /// Answers one request synchronously (the worker thread, tests and benchmarks call this).
    pub fn execute(&mut self, req: Request) -> Reply {
        let timed = crate::tui::timing::enabled().then(|| {
            let name = format!("{req:?}");
            let end = name.find([' ', '(', '{']).unwrap_or(name.len());
            (
                format!("worker {}", &name[..end]),
                std::time::Instant::now(),
            )
        });
        let reply = self.answer(req);
        if let Some((name, t)) = timed {
            crate::tui::timing::phase(&name, t);
        }
        match reply {
            Ok(r) => r,
            Err(e) => Reply::Error(crate::sanitize::line(&e.to_string()).into_owned()),
        }
    }

    fn answer(&mut self, req: Request) -> Result<Reply, StoreError> {
        Ok(match req {
            Request::Triage {
                target,
                status,
                reason,
                by,
                at_ms,
            } => {
                let ids = self.resolve(&target)?;
                let before =
                    self.writer()?
                        .decide(&ids, status, reason.as_deref(), Some(&by), at_ms)?;
                Reply::Triaged {
                    status: Some(status),
                    count: before.len(),
                    undo: Undo::Status(before),
                }
            }
            Request::Note {
                target,
                text,
                by,
                at_ms,
            } => {
                let ids = self.resolve(&target)?;
                let notes = self.writer()?.add_note(&ids, &by, at_ms, &text)?;
                Reply::Triaged {
                    status: None,
                    count: notes.len(),
                    undo: Undo::Notes(notes),
                }
            }
            Request::Undo(u) => {
                let count = match &u {
                    Undo::Status(s) => {
                        self.writer()?.restore_triage(s)?;
                        s.len()
                    }
                    Undo::Notes(n) => {
                        self.writer()?.remove_notes(n)?;
                        n.len()
                    }
                };
                Reply::Undone { count }
            }
            Request::Runs {
                tag,
                filter,
                sort,
                offset,
                limit,
            } => {
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
                let rows = s.runs(&filter, sort, offset, limit)?;
                self.run_total = Some((filter, total));
                Reply::Runs {
                    tag,
                    total,
                    offset,
                    rows: self.with_open_counts(rows)?,
                }
            }
            Request::Spans {
                tag,
                run_id,
                folded,
                offset,
                limit,
            } => {
                let (total, rows) = self.tree_page(&run_id, &folded, offset, limit)?;
                let run = self.reader()?.run(&run_id)?.into_iter().collect();
                let run = self.with_open_counts(run)?;
                Reply::Spans {
                    tag,
                    run: run.into_iter().next().map(Box::new),
                    skills: self.reader()?.run_skills(&run_id)?,
                    total,
                    offset,
                    rows,
                }
            }
            Request::Locate { run_id, span_id } => {
                let key = self.reader()?.span_key(&run_id, &span_id)?;
                let position = match key {
                    Some(key) => self
                        .tree(&run_id, false)?
                        .rows
                        .iter()
                        .position(|r| r.key == key)
                        .map(|p| p as u64),
                    None => None,
                };
                Reply::Located {
                    run_id,
                    span_id,
                    position,
                }
            }
            Request::Flagged {
                tag,
                run_id,
                folded,
                from,
                forward,
            } => {
                let (shown, flags) = self.shown(&run_id, &folded, false)?;
                let position = flags.next(
                    shown,
                    |r| folded.binary_search(&r.key).is_ok(),
                    from,
                    forward,
                );
                Reply::FlagAt {
                    tag,
                    wrapped: position.is_some_and(|p| (p <= from) == forward),
                    position: position.map(|p| p as u64),
                }
            }
            Request::FlaggedAfter {
                run_id,
                span_id,
                forward,
            } => {
                let key = self.reader()?.span_key(&run_id, &span_id)?;
                let t = self.tree(&run_id, false)?;
                let from = key.and_then(|k| t.rows.iter().position(|r| r.key == k));
                let next = from
                    .and_then(|p| t.flags.next(&t.rows, |_| false, p, forward))
                    .map(|i| t.rows[i].key);
                let span_id = match next {
                    Some(k) => self
                        .reader()?
                        .spans_by_keys(&[k])?
                        .into_iter()
                        .next()
                        .map(|s| s.span.id),
                    None => None,
                };
                Reply::FlaggedSpan { run_id, span_id }
            }
            Request::Findings {
                tag,
                filter,
                count_hidden,
                offset,
                limit,
            } => {
                let g = self.groups(&filter, count_hidden)?;
                let total = g.groups.len() as u64;
                let hidden = g.hidden.unwrap_or(0);
                let page: Vec<Vec<i64>> =
                    g.groups.iter().skip(offset).take(limit).cloned().collect();
                let ids: Vec<i64> = page.iter().flatten().copied().collect();
                let rows = self.reader()?.findings_by_ids(&ids)?;
                Reply::Findings {
                    tag,
                    total,
                    hidden,
                    offset,
                    rows: assemble(&page, rows),
                }
            }
            Request::Steps {
                finding_id,
                run_id,
                span_ids,
            } => {
                let s = self.reader()?;
                let mut steps: Vec<Step> = Vec::new();
                for sid in span_ids.into_iter().take(50) {
                    let label = s.span(&run_id, &sid)?.map(|sp| {
                        format!(
                            "{} {}",
                            crate::tui::widgets::kind_mark(sp.kind),
                            crate::tui::widgets::span_label(&sp)
                        )
                    });
                    steps.push((sid, label));
                }
                Reply::Steps { finding_id, steps }
            }
            Request::CostTotal => {
                self.data_version();
                if self.cost_total.is_none() {
                    let s = self.reader()?;
                    let table = crate::pricing::table();
                    let rows = s.usage_rows(table.bands(), None)?;
                    self.cost_total = Some(crate::pricing::ledger::total(&table, &rows));
                }
                Reply::CostTotal(self.cost_total.clone().unwrap_or_default())
            }
            Request::Counts => {
                let counts = self.reader()?.counts()?;
                Reply::Counts {
                    fts_pending: counts.fts_pending,
                    counts,
                }
            }
            Request::Costs { runs } => {
                let ids: Vec<&str> = runs.iter().map(String::as_str).collect();
                let s = self.reader()?;
                let mut costs =
                    crate::pricing::ledger::costs_of_runs(s, &crate::pricing::table(), &ids)?;
                Reply::Costs(
                    runs.into_iter()
                        .map(|id| {
                            let c = costs.remove(&id).unwrap_or_default();
                            (id, c)
                        })
                        .collect(),
                )
            }
            Request::Histograms { runs, buckets } => {
                let s = self.reader()?;
                let mut out = Vec::with_capacity(runs.len());
                for (id, a, b) in runs {
                    let h = s.run_histogram(&id, a, b, buckets)?;
                    out.push((id, h));
                }
                Reply::Histograms(out)
            }
            Request::Span { run_id, span_id } => {
                let s = self.reader()?;
                Reply::Span {
                    span: s.span(&run_id, &span_id)?.map(Box::new),
                    findings: s.findings_for_span(&run_id, &span_id)?,
                    skills: s.span_skills(&run_id, &span_id)?,
                }
            }
            Request::Skills {
                tag,
                filter,
                offset,
                limit,
            } => {
                let s = self.reader()?;
                Reply::Skills {
                    tag,
                    total: s.skill_row_count(&filter)?,
                    offset,
                    rows: s.skill_rows(&filter, offset, limit)?,
                }
            }
            Request::SkillHits { skill_id } => Reply::SkillHits {
                hits: self.reader()?.skill_sightings(&skill_id, 200)?,
                skill_id,
            },
            Request::Sources { words, runs } => {
                let s = self.reader()?;
                let mut rows = s.sources()?;
                let words: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
                rows.retain(|r| {
                    let hay = format!("{} {} {}", r.state.path, r.state.format, r.state.kind)
                        .to_lowercase();
                    words.iter().all(|w| hay.contains(w.as_str()))
                });
                if let Some(f) = &runs {
                    let keep: HashSet<String> = s.run_sources(f)?.into_iter().collect();
                    rows.retain(|r| keep.contains(&r.state.path));
                }
                Reply::Sources(rows)
            }
            Request::ParseErrors { path } => Reply::ParseErrors {
                errors: self.reader()?.parse_errors(Some(&path), 500)?,
                path,
            },
            Request::Search {
                query,
                offset,
                limit,
            } => {
                let (keys, total) = self.search_page(&query, offset, limit)?;
                let s = self.reader()?;
                Reply::Search {
                    hits: s.search_hits(&query, &keys)?,
                    total,
                    fts_pending: s.fts_pending()?,
                    query,
                    offset,
                }
            }
            Request::ReplaySpans {
                run_id,
                offset,
                limit,
            } => {
                let s = self.reader()?;
                Reply::ReplaySpans {
                    total: s.span_count(&run_id)?,
                    rows: s.spans(&run_id, offset, limit)?,
                    run_id,
                    offset,
                }
            }
            Request::ReplayFindings { run_id } => {
                let filter = FindingFilter {
                    run_id: Some(run_id.clone()),
                    ..Default::default()
                };
                Reply::ReplayFindings {
                    findings: self.reader()?.findings(&filter, 0, 5_000)?,
                    run_id,
                }
            }
        })
    }
}
