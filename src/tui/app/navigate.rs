//! Moving about: selection and scrolling, the pages and side data a position
//! needs, entering and loading views, drilling into a run or a span, and mouse
//! clicks.

use super::App;
use crate::tui::action::ViewId;
use crate::tui::data::Request;
use crate::tui::layout;
use crate::tui::state::{RunState, SpanState};

impl App {
    /// Moves the selection (or scroll) of `view`, then fetches what came into view.
    pub(super) fn move_by(&mut self, view: ViewId, delta: isize) -> Vec<Request> {
        let h = self.list_height(view);
        match view {
            ViewId::Runs => self.runs.list.move_by(delta, h),
            ViewId::Run => self.run.list.move_by(delta, h),
            ViewId::Findings => {
                self.findings.list.move_by(delta, h);
                self.findings.detail_scroll = 0;
            }
            ViewId::Skills => self.skills.list.move_by(delta, h),
            ViewId::Sources => self
                .sources
                .cursor
                .move_by(delta, self.sources.rows.len(), h),
            ViewId::Search => self.search.cursor.move_by(delta, self.search.hits.len(), h),
            ViewId::Span => {
                self.span.scroll = if delta < 0 {
                    self.span.scroll.saturating_sub(delta.unsigned_abs())
                } else {
                    self.span.scroll.saturating_add(delta as usize)
                };
            }
            ViewId::Replay => {}
        }
        self.after_move(view)
    }

    /// Pages and side data the current position needs.
    pub(in crate::tui) fn after_move(&mut self, view: ViewId) -> Vec<Request> {
        let h = self.list_height(view);
        let mut out = Vec::new();
        match view {
            ViewId::Runs => {
                self.runs.list.scroll_into_view(h);
                out.extend(self.runs_page(h));
                out.extend(self.histograms(h));
                out.extend(self.costs(h));
            }
            ViewId::Run => {
                self.run.list.scroll_into_view(h);
                if let Some(run_id) = self.run.run_id.clone() {
                    if let Some((offset, limit)) = self.run.list.want(h) {
                        self.run.list.requested = Some((offset, limit));
                        out.push(Request::Spans {
                            tag: self.run.tag,
                            run_id,
                            folded: self.run.folded.iter().copied().collect(),
                            offset,
                            limit,
                        });
                    }
                }
                out.extend(self.costs(h));
            }
            ViewId::Findings => {
                self.findings.list.scroll_into_view(h);
                if let Some((offset, limit)) = self.findings.list.want(h) {
                    self.findings.list.requested = Some((offset, limit));
                    let hide = self.findings.hide_triaged;
                    let q = &self.findings.filter.query;
                    out.push(Request::Findings {
                        tag: self.findings.tag,
                        filter: q.findings(hide),
                        count_hidden: hide && q.status.is_none(),
                        offset,
                        limit,
                    });
                }
                out.extend(self.steps_request());
            }
            ViewId::Skills => {
                self.skills.list.scroll_into_view(h);
                if let Some((offset, limit)) = self.skills.list.want(h) {
                    self.skills.list.requested = Some((offset, limit));
                    out.push(Request::Skills {
                        tag: self.skills.tag,
                        filter: self.skills.filter.query.skills(),
                        offset,
                        limit,
                    });
                }
                let id = self.skills.list.selected().map(|s| s.skill_id.clone());
                if id.is_some() && id != self.skills.hits_for {
                    self.skills.hits_for = id.clone();
                    self.skills.hits.clear();
                    out.extend(id.map(|skill_id| Request::SkillHits { skill_id }));
                }
            }
            ViewId::Sources => {
                let path = self
                    .sources
                    .rows
                    .get(self.sources.cursor.sel)
                    .map(|s| s.state.path.clone());
                if path.is_some() && path != self.sources.errors_for {
                    self.sources.errors_for = path.clone();
                    self.sources.errors.clear();
                    out.extend(path.map(|path| Request::ParseErrors { path }));
                }
            }
            ViewId::Search => {
                // The next page once the cursor is within a screen of the loaded hits' end.
                let s = &mut self.search;
                let n = s.hits.len();
                if !s.searching && !s.requested && (n as u64) < s.total && s.cursor.sel + 2 * h >= n
                {
                    s.requested = true;
                    out.push(Request::Search {
                        query: s.query.clone(),
                        offset: n,
                        limit: crate::tui::state::SEARCH_PAGE,
                    });
                }
            }
            ViewId::Span | ViewId::Replay => {}
        }
        out
    }

    /// The chain steps of the selected finding, when it has steps not yet labelled.
    fn steps_request(&mut self) -> Option<Request> {
        let f = self.findings.list.selected()?.lead();
        if f.finding.span_ids.len() < 2
            || self
                .findings
                .steps
                .as_ref()
                .is_some_and(|(id, _)| *id == f.id)
        {
            return None;
        }
        self.findings.steps = Some((f.id, Vec::new()));
        Some(Request::Steps {
            finding_id: f.id,
            run_id: f.finding.run_id.clone(),
            span_ids: f.finding.span_ids.clone(),
        })
    }

    fn runs_page(&mut self, h: usize) -> Option<Request> {
        let (offset, limit) = self.runs.list.want(h)?;
        self.runs.list.requested = Some((offset, limit));
        Some(Request::Runs {
            tag: self.runs.tag,
            filter: self.runs.filter.query.runs(),
            sort: self.runs.sort,
            offset,
            limit,
        })
    }

    /// Costs for the visible runs (and the open run) not priced yet: asked
    /// after their page arrived, so pricing never delays a first page.
    fn costs(&mut self, h: usize) -> Option<Request> {
        if self.runs.costs_requested {
            return None;
        }
        let runs: Vec<String> = if self.view() == ViewId::Run {
            self.run
                .run
                .iter()
                .filter(|r| r.cost.is_none())
                .map(|r| r.run.id.clone())
                .collect()
        } else {
            let l = &self.runs.list;
            (l.top..l.top + h)
                .filter_map(|i| l.get(i))
                .filter(|r| r.cost.is_none())
                .map(|r| r.run.id.clone())
                .collect()
        };
        if runs.is_empty() {
            return None;
        }
        self.runs.costs_requested = true;
        Some(Request::Costs { runs })
    }

    /// Histograms for the visible runs that have none yet.
    fn histograms(&mut self, h: usize) -> Option<Request> {
        if self.runs.hist_requested {
            return None;
        }
        let l = &self.runs.list;
        let runs: Vec<(String, i64, i64)> = (l.top..l.top + h)
            .filter_map(|i| l.get(i))
            .filter(|r| !self.runs.hist.contains_key(&r.run.id))
            .filter_map(|r| {
                let a = r.run.started_ms?;
                Some((r.run.id.clone(), a, r.run.ended_ms.unwrap_or(a).max(a)))
            })
            .collect();
        if runs.is_empty() {
            return None;
        }
        self.runs.hist_requested = true;
        Some(Request::Histograms {
            runs,
            buckets: crate::tui::widgets::SPARK_WIDTH,
        })
    }

    /// Everything `view` shows, fetched again (on entering it or when data changed).
    pub fn load(&mut self, view: ViewId) -> Vec<Request> {
        match view {
            ViewId::Runs => self.runs.list.invalidate(),
            ViewId::Run => self.run.list.invalidate(),
            ViewId::Findings => self.findings.list.invalidate(),
            ViewId::Skills => {
                self.skills.list.invalidate();
                self.skills.hits_for = None;
            }
            ViewId::Sources => {
                self.sources.errors_for = None;
                let (words, runs) = self.sources.filter.query.sources();
                let mut v = vec![Request::Sources { words, runs }];
                v.extend(self.after_move(view));
                return v;
            }
            ViewId::Span => {
                return self
                    .span
                    .key
                    .clone()
                    .map(|(run_id, span_id)| Request::Span { run_id, span_id })
                    .into_iter()
                    .collect()
            }
            ViewId::Search | ViewId::Replay => return Vec::new(),
        }
        self.after_move(view)
    }

    pub(super) fn enter(&mut self, view: ViewId) -> Vec<Request> {
        match view {
            ViewId::Runs => {
                let Some(id) = self.runs.list.selected().map(|r| r.run.id.clone()) else {
                    return Vec::new();
                };
                self.open_run(id, None)
            }
            ViewId::Run => {
                let Some((s, _, flags)) = self.run.list.selected() else {
                    return Vec::new();
                };
                let seek = flags.own.any();
                let key = (s.span.run_id.clone(), s.span.id.clone());
                self.open_span(key, seek)
            }
            ViewId::Findings => {
                let Some(g) = self.findings.list.selected() else {
                    return Vec::new();
                };
                let f = &g.lead().finding;
                let (run, span) = (f.run_id.clone(), f.span_ids.first().cloned());
                self.open_run(run, span)
            }
            ViewId::Skills => {
                let Some(hit) = self.skills.hits.first() else {
                    return Vec::new();
                };
                let (run, span) = (hit.run_id.clone(), hit.span_id.clone());
                self.open_run(run, (!span.is_empty()).then_some(span))
            }
            ViewId::Search => {
                let Some(hit) = self.search.hits.get(self.search.cursor.sel) else {
                    return Vec::new();
                };
                let key = (hit.run_id.clone(), hit.span_id.clone());
                self.open_span(key, true)
            }
            ViewId::Span | ViewId::Sources | ViewId::Replay => Vec::new(),
        }
    }

    /// Opens the Run view on `run_id`, selecting `span` once found.
    pub fn open_run(&mut self, run_id: String, span: Option<String>) -> Vec<Request> {
        if self.run.run_id.as_deref() != Some(&run_id) {
            self.run = RunState {
                run_id: Some(run_id.clone()),
                tag: self.run.tag + 1,
                ..Default::default()
            };
        } else if span.is_some() && !self.run.folded.is_empty() {
            // The span to show may be inside a folded subtree: unfold everything.
            self.run.folded.clear();
            self.run.tag += 1;
            self.run.list.reset();
        }
        self.run.locate = span.clone();
        self.stack.push(ViewId::Run);
        let mut out = self.load(ViewId::Run);
        if let Some(span_id) = span {
            out.push(Request::Locate { run_id, span_id });
        }
        out
    }

    /// Folds the selected span's subtree away, or unfolds it (Run view).
    pub(super) fn fold_selected(&mut self) -> Vec<Request> {
        if self.view() != ViewId::Run {
            return Vec::new();
        }
        let Some((_, row, _)) = self.run.list.selected() else {
            return Vec::new();
        };
        if row.descendants == 0 {
            return Vec::new();
        }
        let key = row.key;
        if !self.run.folded.remove(&key) {
            self.run.folded.insert(key);
        }
        // Rows above the selection keep their places; everything is asked again.
        self.run.tag += 1;
        self.run.list.invalidate();
        self.load(ViewId::Run)
    }

    /// Opens the Span view on `key`; `seek` scrolls to the first highlighted match.
    fn open_span(&mut self, key: (String, String), seek: bool) -> Vec<Request> {
        if self.span.key.as_ref() != Some(&key) {
            self.span = SpanState {
                key: Some(key),
                seek_match: seek,
                ..Default::default()
            };
        }
        self.stack.push(ViewId::Span);
        self.load(ViewId::Span)
    }

    /// Opens the selected finding's span, or step `step` (1-based) of its chain.
    pub(super) fn open_finding_span(&mut self, step: Option<u8>) -> Vec<Request> {
        let Some(g) = self.findings.list.selected() else {
            return Vec::new();
        };
        let f = &g.lead().finding;
        let i = step.map(|n| usize::from(n.max(1)) - 1).unwrap_or(0);
        let Some(span) = f.span_ids.get(i).cloned() else {
            let why = match step {
                Some(n) if !f.span_ids.is_empty() => {
                    format!("this finding has {} step(s), not {n}", f.span_ids.len())
                }
                _ => "this finding points at no span".to_string(),
            };
            self.message = Some((why, true));
            return Vec::new();
        };
        let key = (f.run_id.clone(), span);
        self.open_span(key, true)
    }

    pub(super) fn click(&mut self, view: ViewId, column: u16, row: u16) -> Vec<Request> {
        if self.modal.is_some() {
            return Vec::new();
        }
        if row == 0 {
            // The tab bar: each tab is drawn by `views::header`; find which was hit.
            if let Some(tab) = crate::tui::views::tab_at(column) {
                self.stack = vec![tab];
                return self.load(tab);
            }
            return Vec::new();
        }
        let Some(r) = layout::row_at(view, self.size, column, row) else {
            return Vec::new();
        };
        let h = self.list_height(view);
        match view {
            ViewId::Runs => {
                let i = self.runs.list.top + r;
                self.runs.list.select(i, h);
            }
            ViewId::Run => {
                let i = self.run.list.top + r;
                self.run.list.select(i, h);
            }
            ViewId::Findings => {
                let i = self.findings.list.top + r;
                self.findings.list.select(i, h);
            }
            ViewId::Skills => {
                let i = self.skills.list.top + r;
                self.skills.list.select(i, h);
            }
            ViewId::Sources => {
                let c = &mut self.sources.cursor;
                let to = (c.top + r) as isize - c.sel as isize;
                c.move_by(to, self.sources.rows.len(), h);
            }
            ViewId::Search => {
                let c = &mut self.search.cursor;
                let to = (c.top + r) as isize - c.sel as isize;
                c.move_by(to, self.search.hits.len(), h);
            }
            ViewId::Span | ViewId::Replay => {}
        }
        self.after_move(view)
    }
}
