//! Triage keys: one key per decision, stored at once, no "are you sure?"
//! (`u` takes the last one back); the cursor moves on to the next row; marks
//! (a row, a rule, a run) make a decision apply to all of them; triaged
//! findings are hidden by default (`a` shows them).
//!
//! A decision acts on the marked findings when there are any, else on the
//! selected row (a group of findings about one action) in Findings, or the
//! selected group of the Span view.

use super::{App, PromptKind};
use crate::model::TriageStatus;
use crate::tui::action::{Action, ViewId};
use crate::tui::data::{Request, Target};
use crate::tui::group::FindingGroup;

/// Most decisions kept for undo.
const UNDO_DEPTH: usize = 100;

impl App {
    /// The findings a triage key acts on in `view`, and how to name them.
    fn target(&self, view: ViewId) -> Option<(Target, String)> {
        match view {
            ViewId::Findings if !self.findings.marks.is_empty() => {
                let m = &self.findings.marks;
                let base = self
                    .findings
                    .filter
                    .query
                    .findings(self.findings.hide_triaged);
                let mut scopes = Vec::new();
                for r in &m.rules {
                    scopes.push(crate::store::FindingFilter {
                        rule_id: Some(r.clone()),
                        ..base.clone()
                    });
                }
                for r in &m.runs {
                    scopes.push(crate::store::FindingFilter {
                        run_id: Some(r.clone()),
                        ..base.clone()
                    });
                }
                let target = Target {
                    ids: m.ids.iter().copied().collect(),
                    scopes,
                };
                Some((target, m.label()))
            }
            ViewId::Findings => self.findings.list.selected().map(group_target),
            ViewId::Span => self.span.groups.get(self.span.sel).map(group_target),
            _ => None,
        }
    }

    /// A one-key decision (confirm, false positive, reopen).
    pub(super) fn decide(&mut self, view: ViewId, status: TriageStatus) -> Vec<Request> {
        let Some((target, what)) = self.target(view) else {
            return Vec::new();
        };
        self.send_decision(target, status, None, &what)
    }

    /// Asks why, then decides (suppress; false positive with a reason).
    pub(super) fn ask_reason(&mut self, view: ViewId, status: TriageStatus) -> Vec<Request> {
        if let Some((target, what)) = self.target(view) {
            let last = self.findings.last_reason.clone();
            self.open_prompt(
                PromptKind::Reason {
                    status,
                    target,
                    what,
                },
                &last,
            );
        }
        Vec::new()
    }

    /// Asks for a note on what a triage key would act on.
    pub(super) fn ask_note(&mut self, view: ViewId) -> Vec<Request> {
        if let Some((target, what)) = self.target(view) {
            self.open_prompt(PromptKind::Note { target, what }, "");
        }
        Vec::new()
    }

    /// Stores a decision; the screen moves on at once (the row leaves a list
    /// that hides triaged findings, or the cursor steps to the next row), and
    /// the store's answer refreshes it.
    pub(super) fn send_decision(
        &mut self,
        target: Target,
        status: TriageStatus,
        reason: Option<String>,
        what: &str,
    ) -> Vec<Request> {
        let bulk = !target.scopes.is_empty()
            || (self.view() == ViewId::Findings && !self.findings.marks.is_empty());
        if bulk {
            self.findings.marks = Default::default();
        } else {
            self.move_on(status, reason.as_deref());
        }
        self.message = Some((format!("{what} → {status}…"), false));
        vec![Request::Triage {
            target,
            status,
            reason,
            by: self.author.clone(),
            at_ms: self.now_ms,
        }]
    }

    /// Shows a decision on the selected row before the store confirms it, and
    /// advances: a row that the filter no longer shows leaves the list (the
    /// next one takes its place), any other keeps its place and the cursor moves down.
    fn move_on(&mut self, status: TriageStatus, reason: Option<&str>) {
        let set = |g: &mut FindingGroup| {
            for r in g.rows.iter_mut() {
                r.status = status;
                r.reason = reason.map(String::from);
            }
        };
        match self.view() {
            ViewId::Findings => {
                let h = self.list_height(ViewId::Findings);
                let l = &mut self.findings.list;
                let i = l.sel.wrapping_sub(l.offset);
                let hidden = self.findings.hide_triaged
                    && status != TriageStatus::Open
                    && self.findings.filter.query.status.is_none();
                if i < l.rows.len() {
                    if hidden {
                        l.rows.remove(i);
                        l.total = l.total.saturating_sub(1);
                        self.findings.hidden += 1;
                        l.select(l.sel, h);
                    } else {
                        set(&mut l.rows[i]);
                        l.move_by(1, h);
                    }
                }
            }
            ViewId::Span => {
                if let Some(g) = self.span.groups.get_mut(self.span.sel) {
                    set(g);
                }
                if self.span.sel + 1 < self.span.groups.len() {
                    self.span.sel += 1;
                }
            }
            _ => {}
        }
    }

    /// Takes the newest decision back.
    pub(super) fn take_back(&mut self) -> Vec<Request> {
        match self.undo.pop() {
            Some(u) => {
                self.message = Some(("undoing…".into(), false));
                vec![Request::Undo(u)]
            }
            None => {
                self.message = Some(("nothing to undo".into(), false));
                Vec::new()
            }
        }
    }

    /// Keeps a stored decision for undo.
    pub(in crate::tui) fn remember(&mut self, u: crate::tui::data::Undo) {
        self.undo.push(u);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
    }

    /// Marks or unmarks the selected row, its rule or its run.
    pub(super) fn mark(&mut self, action: &Action) -> Vec<Request> {
        let Some(g) = self.findings.list.selected() else {
            return Vec::new();
        };
        let (ids, rule, run) = (
            g.ids(),
            g.lead().finding.rule_id.clone(),
            g.lead().finding.run_id.clone(),
        );
        let m = &mut self.findings.marks;
        match action {
            Action::Mark => {
                if ids.iter().all(|i| m.ids.contains(i)) {
                    for i in &ids {
                        m.ids.remove(i);
                    }
                } else {
                    m.ids.extend(ids);
                }
                let h = self.list_height(ViewId::Findings);
                self.findings.list.move_by(1, h);
                return self.after_move(ViewId::Findings);
            }
            Action::MarkRule => toggle(&mut m.rules, rule),
            Action::MarkRun => toggle(&mut m.runs, run),
            _ => {}
        }
        Vec::new()
    }

    /// Shows triaged findings too, or hides them again.
    pub(super) fn toggle_triaged(&mut self) -> Vec<Request> {
        let f = &mut self.findings;
        f.hide_triaged = !f.hide_triaged;
        f.tag += 1;
        f.list.reset();
        self.message = Some((
            if f.hide_triaged {
                "triaged findings hidden (a shows them)"
            } else {
                "showing triaged findings too (a hides them)"
            }
            .into(),
            false,
        ));
        self.load(ViewId::Findings)
    }

    /// Moves the Span view's finding selection.
    pub(super) fn move_span_finding(&mut self, forward: bool) {
        let n = self.span.groups.len();
        if n == 0 {
            return;
        }
        self.span.sel = if forward {
            (self.span.sel + 1).min(n - 1)
        } else {
            self.span.sel.saturating_sub(1)
        };
    }

    /// Esc: clears marks, then the filter, then goes back.
    pub(super) fn back(&mut self, view: ViewId) -> Vec<Request> {
        if view == ViewId::Findings && !self.findings.marks.is_empty() {
            self.findings.marks = Default::default();
            self.message = Some(("marks cleared".into(), false));
            return Vec::new();
        }
        if self.filter_of(view).is_some_and(|f| !f.text.is_empty()) {
            self.message = Some(("filter cleared".into(), false));
            return self.set_filter(view, "");
        }
        if self.stack.len() > 1 {
            self.stack.pop();
            if view == ViewId::Replay {
                self.replay = None;
            }
        }
        self.load(self.view())
    }
}

/// Adds `v` to `set`, or takes it out when it is there.
fn toggle(set: &mut std::collections::BTreeSet<String>, v: String) {
    if !set.remove(&v) {
        set.insert(v);
    }
}

/// A group as a target: its findings, named by the lead finding.
fn group_target(g: &FindingGroup) -> (Target, String) {
    let n = g.rows.len();
    let what = if n == 1 {
        format!("finding #{}", g.lead().id)
    } else {
        format!("findings #{} (+{})", g.lead().id, n - 1)
    };
    (
        Target {
            ids: g.ids(),
            scopes: Vec::new(),
        },
        what,
    )
}
