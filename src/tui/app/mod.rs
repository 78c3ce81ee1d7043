//! The app's state and its pure update function.
//!
//! [`App::update`] takes an [`Action`] (a key, a tick, a click …) and returns
//! the store queries to run as a [`Command`]; [`App::on_reply`] folds the
//! worker's answers back in. Neither does I/O, so the whole UI can be driven
//! and snapshotted in tests without a terminal or a thread.

mod flagged;
mod modal;
mod navigate;
mod triage;

use super::action::{Action, Keymap, ViewId};
use super::data::{Request, Target, Undo};
use super::group::Behaviours;
use super::layout;
use super::state::*;
use super::theme::Theme;
use crate::model::TriageStatus;
use crate::store::Counts;
use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use tui_textarea::TextArea;

/// What the shell must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ask the worker these questions.
    Fetch(Vec<Request>),
    /// Leave the UI.
    Quit,
}

/// What the background sources report, for the status line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    /// Short labels: `demo samples/`, `tail 2 paths`, `proxy 127.0.0.1:8787`.
    pub sources: Vec<String>,
    /// Demo import progress: bytes done, bytes total.
    pub importing: Option<(u64, u64)>,
    /// Batches the ingest queue dropped (the proxy never waits).
    pub dropped: u64,
    /// Redaction mode name (`mask`, `hash`, `remove`), or `off`.
    pub redaction: String,
    /// A background source failed: one line.
    pub error: Option<String>,
    /// The store could not take writes: work spooled (or lost), one line.
    pub store: Option<String>,
}

/// What a prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    Search,
    Filter(ViewId),
    /// Why these findings are set aside (suppressed, false positive).
    Reason {
        status: TriageStatus,
        target: Target,
        /// What the decision is on, for the title: `finding #5`, `3 marked`.
        what: String,
    },
    /// A note on these findings.
    Note {
        target: Target,
        what: String,
    },
}

/// An overlay that takes the keys while open.
#[derive(Debug, Clone)]
pub enum Modal {
    Help {
        scroll: usize,
    },
    Prompt {
        kind: PromptKind,
        input: Box<TextArea<'static>>,
        /// Why the last Enter was refused, shown in the prompt.
        error: Option<String>,
    },
}

/// The whole UI state.
pub struct App {
    pub keymap: Keymap,
    pub theme: Theme,
    /// View stack: a top-level tab at the bottom, drill-ins above it.
    pub stack: Vec<ViewId>,
    pub size: Rect,
    /// Wall clock (ms since the epoch), injected by the shell; fixed in tests.
    pub now_ms: i64,
    /// Local time offset for displayed times (0 in tests).
    pub utc_offset_s: i32,
    pub counts: Counts,
    pub counts_loaded: bool,
    pub fts_pending: u64,
    pub status: SourceStatus,
    pub runs: RunsState,
    pub run: RunState,
    pub span: SpanState,
    pub findings: FindingsState,
    pub skills: SkillsState,
    pub sources: SourcesState,
    pub search: SearchState,
    pub replay: Option<ReplayState>,
    pub modal: Option<Modal>,
    /// Who triages (`$USER`), signed on decisions and notes.
    pub author: String,
    /// Which findings are one row (one action, one behaviour).
    pub behaviours: Behaviours,
    /// Decisions to take back, newest last.
    pub undo: Vec<Undo>,
    /// A one-line message for the status line: (text, is_error).
    pub message: Option<(String, bool)>,
    pub quit: bool,
}

impl App {
    /// A fresh app on the Runs view.
    pub fn new(keymap: Keymap, theme: Theme, size: Rect, now_ms: i64) -> App {
        App {
            keymap,
            theme,
            stack: vec![ViewId::Runs],
            size,
            now_ms,
            utc_offset_s: 0,
            counts: Counts::default(),
            counts_loaded: false,
            fts_pending: 0,
            status: SourceStatus {
                redaction: "mask".into(),
                ..Default::default()
            },
            runs: RunsState::default(),
            run: RunState::default(),
            span: SpanState::default(),
            findings: FindingsState::default(),
            skills: SkillsState::default(),
            sources: SourcesState::default(),
            search: SearchState::default(),
            replay: None,
            modal: None,
            author: "unknown".into(),
            behaviours: Behaviours::builtin(),
            undo: Vec::new(),
            message: None,
            quit: false,
        }
    }

    /// The view on screen.
    pub fn view(&self) -> ViewId {
        self.stack.last().copied().unwrap_or(ViewId::Runs)
    }

    /// The queries the first frame needs.
    pub fn start(&mut self) -> Option<Command> {
        let mut req = vec![Request::Counts, Request::CostTotal];
        req.extend(self.load(self.view()));
        fetch(req)
    }

    /// List rows visible in `view` at the current size.
    pub fn list_height(&self, view: ViewId) -> usize {
        layout::regions(view, self.size).list.height as usize
    }

    /// Turns a key into an action: open overlays take keys first, then the keymap.
    pub fn key_action(&self, key: KeyEvent) -> Option<Action> {
        if self.modal.is_some() {
            return Some(Action::Input(key));
        }
        self.keymap.lookup(self.view(), &key)
    }

    /// Applies one action; returns the queries it needs.
    pub fn update(&mut self, action: Action) -> Option<Command> {
        if !matches!(
            action,
            Action::Tick { .. } | Action::Status(_) | Action::Resize { .. }
        ) {
            // A flash message lasts until the person does something else.
            self.message = None;
        }
        if let Action::Input(key) = action {
            return self.modal_input(key);
        }
        let view = self.view();
        let h = self.list_height(view);
        let reqs: Vec<Request> = match action {
            Action::Quit => {
                self.quit = true;
                return Some(Command::Quit);
            }
            Action::Tick { now_ms, elapsed_ms } => {
                self.now_ms = now_ms;
                self.tick(elapsed_ms)
            }
            Action::Resize { width, height } => {
                self.size = Rect::new(0, 0, width, height);
                self.after_move(view)
            }
            Action::Status(s) => {
                self.status = s;
                Vec::new()
            }
            Action::Up => self.move_by(view, -1),
            Action::Down => self.move_by(view, 1),
            Action::PageUp => self.move_by(view, -(h.max(1) as isize)),
            Action::PageDown => self.move_by(view, h.max(1) as isize),
            Action::Top => self.move_by(view, isize::MIN / 2),
            Action::Bottom => self.move_by(view, isize::MAX / 2),
            Action::Scroll(n) => self.move_by(view, n as isize),
            Action::Click { column, row } => self.click(view, column, row),
            Action::NextView | Action::PrevView => {
                let tabs = ViewId::TABS;
                let base = self.stack.first().copied().unwrap_or(ViewId::Runs);
                let i = tabs.iter().position(|t| *t == base).unwrap_or(0);
                let n = tabs.len();
                let next = if action == Action::NextView {
                    tabs[(i + 1) % n]
                } else {
                    tabs[(i + n - 1) % n]
                };
                self.stack = vec![next];
                self.load(next)
            }
            Action::Back => return fetch(self.back(view)),
            Action::Enter => self.enter(view),
            Action::Help => {
                self.modal = Some(Modal::Help { scroll: 0 });
                Vec::new()
            }
            Action::Search => {
                let q = self.search.query.clone();
                self.open_prompt(PromptKind::Search, &q);
                Vec::new()
            }
            Action::Filter => {
                if let Some(f) = self.filter_of(view) {
                    let text = f.text.clone();
                    self.open_prompt(PromptKind::Filter(view), &text);
                }
                Vec::new()
            }
            Action::Sort => {
                self.runs.sort = next_sort(self.runs.sort);
                self.runs.tag += 1;
                self.runs.list.reset();
                self.message = Some((
                    format!("runs sorted by {}", sort_name(self.runs.sort)),
                    false,
                ));
                self.load(ViewId::Runs)
            }
            Action::Confirm => self.decide(view, TriageStatus::Confirmed),
            Action::FalsePositive => self.decide(view, TriageStatus::FalsePositive),
            Action::Reopen => self.decide(view, TriageStatus::Open),
            Action::FalsePositiveWhy => self.ask_reason(view, TriageStatus::FalsePositive),
            Action::Suppress => self.ask_reason(view, TriageStatus::Suppressed),
            Action::Note => self.ask_note(view),
            Action::Undo => self.take_back(),
            Action::Mark | Action::MarkRule | Action::MarkRun => self.mark(&action),
            Action::ShowTriaged => self.toggle_triaged(),
            Action::OpenSpan => self.open_finding_span(None),
            Action::OpenStep(n) => self.open_finding_span(Some(n)),
            Action::DetailDown | Action::DetailUp => {
                let d = &mut self.findings.detail_scroll;
                *d = if action == Action::DetailDown {
                    d.saturating_add(1).min(200)
                } else {
                    d.saturating_sub(1)
                };
                Vec::new()
            }
            Action::NextFinding | Action::PrevFinding => {
                self.move_span_finding(action == Action::NextFinding);
                Vec::new()
            }
            Action::NextFlagged | Action::PrevFlagged => {
                self.jump_flagged(view, action == Action::NextFlagged)
            }
            Action::Fold => self.fold_selected(),
            Action::Replay => self.start_replay(view),
            Action::Pause | Action::Faster | Action::Slower | Action::Skip => {
                self.replay_control(&action);
                self.replay_fetch()
            }
            Action::Input(_) => Vec::new(),
        };
        fetch(reqs)
    }
}

/// Wraps requests into a command (none when empty).
pub(crate) fn fetch(reqs: Vec<Request>) -> Option<Command> {
    (!reqs.is_empty()).then_some(Command::Fetch(reqs))
}
