//! Folding the worker's answers into the app, and the replay clock.
//!
//! Answers carry the tag of the question; an answer to a question the app no
//! longer asks (the filter changed meanwhile) is dropped.

use super::action::{Action, ViewId};
use super::app::{fetch, App, Command};
use super::data::{Reply, Request};
use super::state::{ReplayState, PAGE};

impl App {
    /// Takes one answer from the worker; returns follow-up queries.
    pub fn on_reply(&mut self, reply: Reply) -> Option<Command> {
        let reqs: Vec<Request> = match reply {
            Reply::Counts {
                counts,
                fts_pending,
            } => {
                self.counts = counts;
                self.counts_loaded = true;
                self.fts_pending = fts_pending;
                Vec::new()
            }
            Reply::CostTotal(c) => {
                self.runs.cost_total = Some(c);
                Vec::new()
            }
            Reply::Runs {
                tag,
                total,
                offset,
                rows,
            } => {
                if tag != self.runs.tag {
                    return None;
                }
                let h = self.list_height(ViewId::Runs);
                self.runs.list.fill(total, offset, rows, h);
                self.runs.hist_requested = false;
                self.after_view(ViewId::Runs)
            }
            Reply::Histograms(hs) => {
                self.runs.hist_requested = false;
                if self.runs.hist.len() > 2_000 {
                    self.runs.hist.clear();
                }
                for (id, h) in hs {
                    self.runs.hist.insert(id, h);
                }
                Vec::new()
            }
            Reply::Spans {
                tag,
                run,
                skills,
                total,
                offset,
                rows,
            } => {
                if tag != self.run.tag {
                    return None;
                }
                let h = self.list_height(ViewId::Run);
                if let Some(r) = run {
                    self.run.run = Some(*r);
                }
                self.run.skills = skills;
                self.run.list.fill(total, offset, rows, h);
                self.after_view(ViewId::Run)
            }
            Reply::Span {
                span,
                findings,
                skills,
            } => {
                self.span.span = span.map(|s| *s);
                self.span.groups = crate::tui::group::group_rows(findings, &self.behaviours);
                self.span.sel = self.span.sel.min(self.span.groups.len().saturating_sub(1));
                self.span.skills = skills;
                self.span.loaded = true;
                if std::mem::take(&mut self.span.seek_match) {
                    let h = crate::tui::layout::regions(ViewId::Span, self.size)
                        .list
                        .height;
                    if let Some(line) = crate::tui::views::span_match_line(self) {
                        if line >= h as usize {
                            self.span.scroll = line.saturating_sub(h as usize / 3);
                        }
                    }
                }
                Vec::new()
            }
            Reply::Findings {
                tag,
                total,
                hidden,
                offset,
                rows,
            } => {
                if tag != self.findings.tag {
                    return None;
                }
                let h = self.list_height(ViewId::Findings);
                self.findings.hidden = hidden;
                self.findings.list.fill(total, offset, rows, h);
                self.after_view(ViewId::Findings)
            }
            Reply::Steps { finding_id, steps } => {
                if self
                    .findings
                    .steps
                    .as_ref()
                    .is_some_and(|(id, _)| *id == finding_id)
                {
                    self.findings.steps = Some((finding_id, steps));
                }
                Vec::new()
            }
            Reply::Skills {
                tag,
                total,
                offset,
                rows,
            } => {
                if tag != self.skills.tag {
                    return None;
                }
                let h = self.list_height(ViewId::Skills);
                self.skills.list.fill(total, offset, rows, h);
                self.after_view(ViewId::Skills)
            }
            Reply::SkillHits { skill_id, hits } => {
                if self.skills.hits_for.as_deref() == Some(&skill_id) {
                    self.skills.hits = hits;
                }
                Vec::new()
            }
            Reply::Sources(rows) => {
                self.sources.rows = rows;
                self.sources.loaded = true;
                let len = self.sources.rows.len();
                let h = self.list_height(ViewId::Sources);
                self.sources.cursor.move_by(0, len, h);
                self.after_view(ViewId::Sources)
            }
            Reply::ParseErrors { path, errors } => {
                if self.sources.errors_for.as_deref() == Some(&path) {
                    self.sources.errors = errors;
                }
                Vec::new()
            }
            Reply::Search {
                query,
                hits,
                fts_pending,
            } => {
                if query == self.search.query {
                    self.search.hits = hits;
                    self.search.searching = false;
                    self.search.fts_pending = fts_pending;
                }
                Vec::new()
            }
            Reply::Triaged {
                status,
                count,
                undo,
            } => {
                let what = match status {
                    Some(s) => format!("{count} finding(s) → {s}"),
                    None => format!("note saved on {count} finding(s)"),
                };
                self.message = Some((format!("{what} (saved · u undoes)"), false));
                if count > 0 {
                    self.remember(undo);
                }
                self.refresh()
            }
            Reply::Undone { count } => {
                self.message = Some((format!("undone: {count} back as before"), false));
                self.refresh()
            }
            Reply::ReplayFindings { run_id, findings } => {
                if let Some(r) = self.replay.as_mut().filter(|r| r.run_id == run_id) {
                    r.set_findings(findings);
                }
                Vec::new()
            }
            Reply::FlagAt {
                tag,
                position,
                wrapped,
            } => self.flag_at(tag, position, wrapped),
            Reply::FlaggedSpan { run_id, span_id } => self.flagged_span(run_id, span_id),
            Reply::ReplaySpans {
                run_id,
                offset,
                total,
                rows,
            } => {
                let r = self.replay.as_mut().filter(|r| r.run_id == run_id)?;
                r.requested = false;
                r.total = total;
                if offset == r.next_offset {
                    r.next_offset += rows.len();
                    if r.start_ms.is_none() {
                        r.start_ms = rows.iter().find_map(|s| s.span.start_ms);
                    }
                    r.pending.extend(rows);
                    r.release_due();
                }
                Vec::new()
            }
            Reply::Located {
                run_id,
                span_id,
                position,
            } => {
                let wanted = self.run.locate.as_deref() == Some(&span_id)
                    && self.run.run_id.as_deref() == Some(&run_id);
                match position {
                    Some(p) if wanted => {
                        self.run.locate = None;
                        let h = self.list_height(ViewId::Run);
                        self.run.list.select(p as usize, h);
                        self.after_view(ViewId::Run)
                    }
                    _ => Vec::new(),
                }
            }
            Reply::Changed => {
                self.runs.hist.clear();
                self.refresh()
            }
            Reply::Error(e) => {
                self.message = Some((e, true));
                // Whatever was asked may be asked again.
                self.runs.hist_requested = false;
                self.runs.list.requested = None;
                self.run.list.requested = None;
                self.findings.list.requested = None;
                self.skills.list.requested = None;
                if let Some(r) = self.replay.as_mut() {
                    r.requested = false;
                }
                Vec::new()
            }
        };
        fetch(reqs)
    }

    /// Counts and the view on screen, fetched again (the store changed). The
    /// Span view keeps its scroll; the others keep their selection.
    fn refresh(&mut self) -> Vec<Request> {
        let mut v = vec![Request::Counts, Request::CostTotal];
        let view = self.view();
        if view == ViewId::Span {
            if let Some((run_id, span_id)) = self.span.key.clone() {
                v.push(Request::Span { run_id, span_id });
            }
        } else if view != ViewId::Replay {
            v.extend(self.load(view));
        }
        v
    }

    /// Follow-up queries for `view` when it is the one on screen (a page still
    /// missing, histograms, side panes).
    fn after_view(&mut self, view: ViewId) -> Vec<Request> {
        if self.view() == view {
            self.after_move(view)
        } else {
            Vec::new()
        }
    }

    /// Starts replaying the run under the cursor of `view`.
    pub(super) fn start_replay(&mut self, view: ViewId) -> Vec<Request> {
        let run_id = match view {
            ViewId::Runs => self.runs.list.selected().map(|r| r.run.id.clone()),
            ViewId::Run => self.run.run_id.clone(),
            ViewId::Findings => self
                .findings
                .list
                .selected()
                .map(|g| g.lead().finding.run_id.clone()),
            // In a replay, R starts it again from the beginning.
            ViewId::Replay => self.replay.as_ref().map(|r| r.run_id.clone()),
            _ => None,
        };
        let Some(run_id) = run_id else {
            return Vec::new();
        };
        let speed = self.replay.as_ref().map(|r| r.speed).unwrap_or(1.0);
        let mut r = ReplayState::new(run_id.clone());
        r.speed = speed;
        self.replay = Some(r);
        if self.view() != ViewId::Replay {
            self.stack.push(ViewId::Replay);
        }
        let mut v = vec![Request::ReplayFindings { run_id }];
        v.extend(self.replay_fetch());
        v
    }

    /// The next page of replay spans when the loaded ones run low.
    pub(super) fn replay_fetch(&mut self) -> Vec<Request> {
        let Some(r) = self.replay.as_mut() else {
            return Vec::new();
        };
        let more = r.next_offset == 0 || (r.next_offset as u64) < r.total;
        if r.requested || r.pending.len() > PAGE / 4 || !more {
            return Vec::new();
        }
        r.requested = true;
        vec![Request::ReplaySpans {
            run_id: r.run_id.clone(),
            offset: r.next_offset,
            limit: PAGE,
        }]
    }

    /// Pause, speed and skip.
    pub(super) fn replay_control(&mut self, action: &Action) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        match action {
            Action::Pause => r.paused = !r.paused,
            Action::Faster => r.speed = (r.speed * 2.0).min(256.0),
            Action::Slower => r.speed = (r.speed / 2.0).max(1.0 / 16.0),
            Action::Skip => {
                if let Some(next) = r.pending.front() {
                    let t = r.due_at(next);
                    if t.is_finite() && t > r.clock_ms {
                        r.clock_ms = t;
                    }
                }
                r.release_due();
            }
            _ => {}
        }
    }

    /// Time passes: the replay clock advances and due spans appear.
    pub(super) fn tick(&mut self, elapsed_ms: u64) -> Vec<Request> {
        if self.view() != ViewId::Replay {
            return Vec::new();
        }
        if let Some(r) = self.replay.as_mut() {
            if !r.paused && r.start_ms.is_some() && !r.finished() {
                r.clock_ms += elapsed_ms as f64 * r.speed;
                r.release_due();
                r.compress_gap();
                if r.finished() {
                    // The clock stops at the last span (R starts again).
                    r.clock_ms = r.clock_ms.min(r.end_ms());
                }
            }
            r.release_due();
        }
        self.replay_fetch()
    }
}
