//! The overlays' keys: the help pager and the text prompts (search, filter,
//! a reason for setting findings aside, a note). A prompt refuses what it
//! cannot use and says why inside itself, where the person is typing.

use super::{fetch, App, Command, Modal, PromptKind};
use crate::model::TriageStatus;
use crate::tui::action::{Action, ViewId};
use crate::tui::data::Request;
use crate::tui::state::{Cursor, ViewFilter};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_textarea::TextArea;

impl App {
    pub(super) fn open_prompt(&mut self, kind: PromptKind, text: &str) {
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
            error: None,
        });
    }

    pub(super) fn modal_input(&mut self, key: KeyEvent) -> Option<Command> {
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
            Modal::Prompt {
                kind,
                mut input,
                error,
            } => {
                let multi = matches!(kind, PromptKind::Note { .. });
                let submit = (key.code == KeyCode::Enter && !multi)
                    || (ctrl && key.code == KeyCode::Char('s'));
                if key.code == KeyCode::Esc {
                    // Esc in the filter prompt clears the filter (k9s); elsewhere it cancels.
                    if let PromptKind::Filter(view) = kind {
                        return fetch(self.set_filter(view, ""));
                    }
                    self.message = Some(("cancelled: nothing changed".into(), false));
                    return None;
                }
                if ctrl && key.code == KeyCode::Char('c') {
                    return self.update(Action::Quit);
                }
                if ctrl && key.code == KeyCode::Char('u') {
                    // Clear the input (readline), not the text area's own undo.
                    let mut fresh = TextArea::default();
                    fresh.set_cursor_line_style(input.cursor_line_style());
                    self.modal = Some(Modal::Prompt {
                        kind,
                        input: Box::new(fresh),
                        error: None,
                    });
                    return None;
                }
                if submit {
                    let text = input.lines().join("\n");
                    match self.refuse(&kind, &text) {
                        Some(why) => {
                            self.modal = Some(Modal::Prompt {
                                kind,
                                input,
                                error: Some(why),
                            });
                            return None;
                        }
                        None => return fetch(self.submit(kind, text)),
                    }
                }
                // A control, bidi or invisible character typed or pasted is never
                // held, so the input box never draws one.
                if !matches!(key.code, KeyCode::Char(c) if crate::sanitize::is_unsafe(c)) {
                    input.input(key);
                }
                // A stale refusal goes once the text changes.
                let error = error.filter(|_| matches!(kind, PromptKind::Filter(_)));
                self.modal = Some(Modal::Prompt { kind, input, error });
            }
        }
        None
    }

    /// Why `text` cannot be used for `kind`, if it cannot.
    fn refuse(&self, kind: &PromptKind, text: &str) -> Option<String> {
        match kind {
            PromptKind::Filter(_) => crate::tui::filter::parse(text)
                .errors
                .first()
                .map(|e| e.message.clone()),
            PromptKind::Reason { status, .. } if text.trim().is_empty() => Some(format!(
                "{}: a reason is required (Esc cancels)",
                if *status == TriageStatus::Suppressed {
                    "suppress"
                } else {
                    "false positive"
                }
            )),
            _ => None,
        }
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
                self.search.hits.clear();
                self.search.total = 0;
                if self.view() != ViewId::Search {
                    self.stack.push(ViewId::Search);
                }
                vec![Request::Search {
                    query: q,
                    offset: 0,
                    limit: crate::tui::state::SEARCH_PAGE,
                }]
            }
            PromptKind::Filter(view) => self.set_filter(view, &text),
            PromptKind::Reason {
                status,
                target,
                what,
            } => {
                let reason = text.trim().to_string();
                self.findings.last_reason = reason.clone();
                self.send_decision(target, status, Some(reason), &what)
            }
            PromptKind::Note { target, what } => {
                let text = text.trim_end().to_string();
                if text.trim().is_empty() {
                    self.message = Some(("empty note: nothing saved".into(), false));
                    return Vec::new();
                }
                self.message = Some((format!("saving a note on {what}…"), false));
                vec![Request::Note {
                    target,
                    text,
                    by: self.author.clone(),
                    at_ms: self.now_ms,
                }]
            }
        }
    }

    /// The filter of a list view (none for the others).
    pub(super) fn filter_of(&self, view: ViewId) -> Option<&ViewFilter> {
        match view {
            ViewId::Runs => Some(&self.runs.filter),
            ViewId::Findings => Some(&self.findings.filter),
            ViewId::Skills => Some(&self.skills.filter),
            ViewId::Sources => Some(&self.sources.filter),
            _ => None,
        }
    }

    /// Sets `view`'s filter to `text` and reloads it from the top.
    pub(super) fn set_filter(&mut self, view: ViewId, text: &str) -> Vec<Request> {
        let f = ViewFilter::new(text);
        match view {
            ViewId::Runs => {
                self.runs.filter = f;
                self.runs.tag += 1;
                self.runs.list.reset();
            }
            ViewId::Findings => {
                self.findings.filter = f;
                self.findings.tag += 1;
                self.findings.list.reset();
            }
            ViewId::Skills => {
                self.skills.filter = f;
                self.skills.tag += 1;
                self.skills.list.reset();
            }
            ViewId::Sources => {
                self.sources.filter = f;
                self.sources.cursor = Cursor::default();
                self.sources.loaded = false;
            }
            _ => return Vec::new(),
        }
        self.load(view)
    }
}
