//! The overlays' keys: the help pager, text prompts (search, filter, suppress
//! reason, note) and the `y`-to-confirm question for triage decisions.

use super::{fetch, App, Command, Modal, Pending, PromptKind};
use crate::model::TriageStatus;
use crate::tui::action::{Action, ViewId};
use crate::tui::data::Request;
use crate::tui::state::Cursor;
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
                let f = crate::tui::filter::parse(&text);
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

    pub(super) fn triage(&mut self, status: TriageStatus) -> Vec<Request> {
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
}
