//! Jumping to the next or previous flagged span (a span that raised a finding,
//! or a folded span hiding one): in the Run view the selection moves there; in
//! the Span view the next flagged span of the run opens in its place.

use super::App;
use crate::tui::action::ViewId;
use crate::tui::data::Request;
use crate::tui::state::SpanState;

impl App {
    /// Asks where the next (or previous) flagged span is.
    pub(super) fn jump_flagged(&mut self, view: ViewId, forward: bool) -> Vec<Request> {
        match view {
            ViewId::Run => {
                let Some(run_id) = self.run.run_id.clone() else {
                    return Vec::new();
                };
                vec![Request::Flagged {
                    tag: self.run.tag,
                    run_id,
                    folded: self.run.folded.iter().copied().collect(),
                    from: self.run.list.sel,
                    forward,
                }]
            }
            ViewId::Span => match self.span.key.clone() {
                Some((run_id, span_id)) => vec![Request::FlaggedAfter {
                    run_id,
                    span_id,
                    forward,
                }],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Selects the flagged row the worker found (Run view).
    pub(in crate::tui) fn flag_at(
        &mut self,
        tag: u64,
        position: Option<u64>,
        wrapped: bool,
    ) -> Vec<Request> {
        if tag != self.run.tag || self.view() != ViewId::Run {
            return Vec::new();
        }
        let Some(p) = position else {
            self.message = Some(("no span of this run raised a finding".into(), false));
            return Vec::new();
        };
        if wrapped {
            self.message = Some(("wrapped around the run".into(), false));
        }
        let h = self.list_height(ViewId::Run);
        self.run.list.select(p as usize, h);
        self.after_move(ViewId::Run)
    }

    /// Opens the flagged span the worker found in place of the one shown (Span view).
    pub(in crate::tui) fn flagged_span(
        &mut self,
        run_id: String,
        span_id: Option<String>,
    ) -> Vec<Request> {
        let same_run = self.span.key.as_ref().is_some_and(|(r, _)| *r == run_id);
        if !same_run || self.view() != ViewId::Span {
            return Vec::new();
        }
        let Some(span_id) = span_id else {
            self.message = Some(("no span of this run raised a finding".into(), false));
            return Vec::new();
        };
        self.span = SpanState {
            key: Some((run_id, span_id)),
            seek_match: true,
            ..Default::default()
        };
        self.load(ViewId::Span)
    }
}
