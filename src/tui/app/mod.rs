//! The app's state and its pure update function.
//!
//! [`App::update`] takes an [`Action`] (a key, a tick, a click …) and returns
//! the store queries to run as a [`Command`]; [`App::on_reply`] folds the
//! worker's answers back in. Neither does I/O, so the whole UI can be driven
//! and snapshotted in tests without a terminal or a thread.

use super::action::{Action, Keymap, ViewId};
use super::data::Request;
use super::layout;
use super::state::*;
use super::theme::Theme;
use crate::model::TriageStatus;
use crate::store::Counts;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
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
}

/// What a prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    Search,
    Filter(ViewId),
    Suppress { id: i64 },
    Note { id: i64, status: TriageStatus },
}

/// A decision waiting for `y`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub question: String,
    pub request: Request,
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
    },
    Confirm(Pending),
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
        let mut req = vec![Request::Counts];
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
            Action::Back => {
                if self.stack.len() > 1 {
                    self.stack.pop();
                    if view == ViewId::Replay {
                        self.replay = None;
                    }
                }
                self.load(self.view())
            }
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
                let text = match view {
                    ViewId::Findings => self.findings.filter_text.clone(),
                    _ => self.runs.filter_text.clone(),
                };
                self.open_prompt(PromptKind::Filter(view), &text);
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
            Action::Confirm => self.triage(TriageStatus::Confirmed),
            Action::FalsePositive => self.triage(TriageStatus::FalsePositive),
            Action::Reopen => self.triage(TriageStatus::Open),
            Action::Suppress => {
                if let Some(f) = self.findings.list.selected() {
                    let id = f.id;
                    self.open_prompt(PromptKind::Suppress { id }, "");
                }
                Vec::new()
            }
            Action::Note => {
                if let Some(f) = self.findings.list.selected() {
                    let (id, status) = (f.id, f.status);
                    let note = f.note.clone().unwrap_or_default();
                    self.open_prompt(PromptKind::Note { id, status }, &note);
                }
                Vec::new()
            }
            Action::OpenSpan => self.open_finding_span(),
            Action::Replay => self.start_replay(view),
            Action::Pause | Action::Faster | Action::Slower | Action::Skip => {
                self.replay_control(&action);
                self.replay_fetch()
            }
            Action::Input(_) => Vec::new(),
        };
        fetch(reqs)
    }

    fn open_prompt(&mut self, kind: PromptKind, text: &str) {
        let lines: Vec<String> = if text.is_empty() {
            vec![String::new()]
        } else {
            text.lines().map(String::from).collect()
        };
        let mut input = TextArea::new(lines);
        input.move_cursor(tui_textarea::CursorMove::Bottom);
        input.move_cursor(tui_textarea::CursorMove::End);
        self.modal = Some(Modal::Prompt {
            kind,
            input: Box::new(input),
        });
    }

    fn modal_input(&mut self, key: KeyEvent) -> Option<Command> {
        let modal = self.modal.take()?;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match modal {
            Modal::Help { scroll } => match key.code {
                KeyCode::Char('j') | KeyCode::Down => {
                    self.modal = Some(Modal::Help { scroll: scroll + 1 })
                }
                KeyCode::Char('k') | KeyCode::Up => {
                    self.modal = Some(Modal::Help {
                        scroll: scroll.saturating_sub(1),
                    })
                }
                KeyCode::Char('c') if ctrl => return self.update(Action::Quit),
                _ => {}
            },
            Modal::Confirm(p) => {
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    self.message = Some(("saving…".into(), false));
                    return fetch(vec![p.request]);
                }
                self.message = Some(("cancelled: nothing changed".into(), false));
            }
            Modal::Prompt { kind, mut input } => {
                let multi = matches!(kind, PromptKind::Note { .. } | PromptKind::Suppress { .. });
                let submit = (key.code == KeyCode::Enter && !multi)
                    || (ctrl && key.code == KeyCode::Char('s'));
                if key.code == KeyCode::Esc {
                    self.message = Some(("cancelled".into(), false));
                    return None;
                }
                if ctrl && key.code == KeyCode::Char('c') {
                    return self.update(Action::Quit);
                }
                if submit {
                    let text = input.lines().join("\n");
                    return fetch(self.submit(kind, text));
                }
                input.input(key);
                self.modal = Some(Modal::Prompt { kind, input });
            }
        }
        None
    }

    fn submit(&mut self, kind: PromptKind, text: String) -> Vec<Request> {
        match kind {
            PromptKind::Search => {
                let q = text.trim().to_string();
                if q.is_empty() {
                    return Vec::new();
                }
                self.search.query = q.clone();
                self.search.searching = true;
                self.search.cursor = Cursor::default();
                if self.view() != ViewId::Search {
                    self.stack.push(ViewId::Search);
                }
                vec![Request::Search { query: q }]
            }
            PromptKind::Filter(view) => {
                let f = super::filter::parse(&text);
                if let Some(e) = f.errors.first() {
                    self.message = Some((format!("filter: {e}"), true));
                }
                let text = text.trim().to_string();
                if view == ViewId::Findings {
                    self.findings.filter = f.findings;
                    self.findings.filter_text = text;
                    self.findings.tag += 1;
                    self.findings.list.reset();
                } else {
                    self.runs.filter = f.runs;
                    self.runs.filter_text = text;
                    self.runs.tag += 1;
                    self.runs.list.reset();
                }
                self.load(view)
            }
            PromptKind::Suppress { id } => {
                let reason = text.trim().to_string();
                if reason.is_empty() {
                    self.message = Some(("suppress: a reason is required".into(), true));
                    return Vec::new();
                }
                self.modal = Some(Modal::Confirm(Pending {
                    question: format!("Suppress finding #{id} with this reason?"),
                    request: Request::Triage {
                        id,
                        status: TriageStatus::Suppressed,
                        note: Some(reason),
                    },
                }));
                Vec::new()
            }
            PromptKind::Note { id, status } => vec![Request::Triage {
                id,
                status,
                note: Some(text.trim_end().to_string()),
            }],
        }
    }

    fn triage(&mut self, status: TriageStatus) -> Vec<Request> {
        let Some(f) = self.findings.list.selected() else {
            return Vec::new();
        };
        if f.status == status {
            self.message = Some((format!("finding #{} is already {status}", f.id), false));
            return Vec::new();
        }
        let what = match status {
            TriageStatus::Confirmed => "Confirm",
            TriageStatus::FalsePositive => "Mark as false positive:",
            TriageStatus::Suppressed => "Suppress",
            TriageStatus::Open => "Reopen",
        };
        self.modal = Some(Modal::Confirm(Pending {
            question: format!("{what} finding #{} (now {})?", f.id, f.status),
            request: Request::Triage {
                id: f.id,
                status,
                note: None,
            },
        }));
        Vec::new()
    }

    /// Moves the selection (or scroll) of `view`, then fetches what came into view.
    fn move_by(&mut self, view: ViewId, delta: isize) -> Vec<Request> {
        let h = self.list_height(view);
        match view {
            ViewId::Runs => self.runs.list.move_by(delta, h),
            ViewId::Run => self.run.list.move_by(delta, h),
            ViewId::Findings => self.findings.list.move_by(delta, h),
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
    pub(super) fn after_move(&mut self, view: ViewId) -> Vec<Request> {
        let h = self.list_height(view);
        let mut out = Vec::new();
        match view {
            ViewId::Runs => {
                self.runs.list.scroll_into_view(h);
                out.extend(self.runs_page(h));
                out.extend(self.histograms(h));
            }
            ViewId::Run => {
                self.run.list.scroll_into_view(h);
                if let Some(run_id) = self.run.run_id.clone() {
                    if let Some((offset, limit)) = self.run.list.want(h) {
                        self.run.list.requested = Some((offset, limit));
                        out.push(Request::Spans {
                            tag: self.run.tag,
                            run_id,
                            offset,
                            limit,
                        });
                    }
                }
            }
            ViewId::Findings => {
                self.findings.list.scroll_into_view(h);
                if let Some((offset, limit)) = self.findings.list.want(h) {
                    self.findings.list.requested = Some((offset, limit));
                    out.push(Request::Findings {
                        tag: self.findings.tag,
                        filter: self.findings.filter.clone(),
                        offset,
                        limit,
                    });
                }
            }
            ViewId::Skills => {
                self.skills.list.scroll_into_view(h);
                if let Some((offset, limit)) = self.skills.list.want(h) {
                    self.skills.list.requested = Some((offset, limit));
                    out.push(Request::Skills { offset, limit });
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
            ViewId::Span | ViewId::Search | ViewId::Replay => {}
        }
        out
    }

    fn runs_page(&mut self, h: usize) -> Option<Request> {
        let (offset, limit) = self.runs.list.want(h)?;
        self.runs.list.requested = Some((offset, limit));
        Some(Request::Runs {
            tag: self.runs.tag,
            filter: self.runs.filter.clone(),
            sort: self.runs.sort,
            offset,
            limit,
        })
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
            buckets: super::widgets::SPARK_WIDTH,
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
                let mut v = vec![Request::Sources];
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

    fn enter(&mut self, view: ViewId) -> Vec<Request> {
        match view {
            ViewId::Runs => {
                let Some(id) = self.runs.list.selected().map(|r| r.run.id.clone()) else {
                    return Vec::new();
                };
                self.open_run(id, None)
            }
            ViewId::Run => {
                let Some((s, _)) = self.run.list.selected() else {
                    return Vec::new();
                };
                let key = (s.span.run_id.clone(), s.span.id.clone());
                self.open_span(key)
            }
            ViewId::Findings => {
                let Some(f) = self.findings.list.selected() else {
                    return Vec::new();
                };
                let (run, span) = (
                    f.finding.run_id.clone(),
                    f.finding.span_ids.first().cloned(),
                );
                self.open_run(run, span)
            }
            ViewId::Skills => {
                let Some((run, span, _, _)) = self.skills.hits.first().cloned() else {
                    return Vec::new();
                };
                self.open_run(run, Some(span))
            }
            ViewId::Search => {
                let Some(hit) = self.search.hits.get(self.search.cursor.sel) else {
                    return Vec::new();
                };
                let key = (hit.run_id.clone(), hit.span_id.clone());
                self.open_span(key)
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
        }
        self.run.locate = span.clone();
        self.stack.push(ViewId::Run);
        let mut out = self.load(ViewId::Run);
        if let Some(span_id) = span {
            out.push(Request::Locate { run_id, span_id });
        }
        out
    }

    fn open_span(&mut self, key: (String, String)) -> Vec<Request> {
        if self.span.key.as_ref() != Some(&key) {
            self.span = SpanState {
                key: Some(key),
                ..Default::default()
            };
        }
        self.stack.push(ViewId::Span);
        self.load(ViewId::Span)
    }

    fn open_finding_span(&mut self) -> Vec<Request> {
        let Some(f) = self.findings.list.selected() else {
            return Vec::new();
        };
        let Some(span) = f.finding.span_ids.first().cloned() else {
            self.message = Some(("this finding points at no span".into(), true));
            return Vec::new();
        };
        let key = (f.finding.run_id.clone(), span);
        self.open_span(key)
    }

    fn click(&mut self, view: ViewId, column: u16, row: u16) -> Vec<Request> {
        if self.modal.is_some() {
            return Vec::new();
        }
        if row == 0 {
            // The tab bar: each tab is drawn by `views::header`; find which was hit.
            if let Some(tab) = super::views::tab_at(column) {
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

/// Wraps requests into a command (none when empty).
pub(crate) fn fetch(reqs: Vec<Request>) -> Option<Command> {
    (!reqs.is_empty()).then_some(Command::Fetch(reqs))
}
