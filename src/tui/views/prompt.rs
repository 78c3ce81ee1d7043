//! The text prompts: search, filter, a reason, a note. The filter prompt reads
//! the text as it is typed and says under it what it means in this view or
//! what is wrong with it, so errors show where the person types.

use super::{block, centred, App};
use crate::tui::action::ViewId;
use crate::tui::app::PromptKind;
use crate::tui::filter;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

/// What a filter condition selects in each view (the prompt's hint).
fn rows_of(view: ViewId) -> &'static str {
    match view {
        ViewId::Runs => "runs with",
        ViewId::Skills => "skills blamed for",
        ViewId::Sources => "sources whose runs have",
        _ => "findings:",
    }
}

pub(super) fn draw(
    f: &mut Frame<'_>,
    app: &App,
    kind: &PromptKind,
    input: &tui_textarea::TextArea<'_>,
    error: Option<&str>,
) {
    let t = &app.theme;
    let area = f.area();
    let text = input.lines().join("\n");
    // (title, hint under the box, the line under the input: (text, is_error))
    let (title, hint, below): (String, &str, Option<(String, bool)>) = match kind {
        PromptKind::Search => (
            "Search every span".into(),
            "Enter search · Esc cancel",
            None,
        ),
        PromptKind::Filter(view) => {
            let q = filter::parse(&text);
            let below = match q.errors.first() {
                Some(e) => (format!("✗ {}", e.message), true),
                None if q.is_empty() => (
                    "sev:high status:open rule:ID skill:NAME agent:NAME run:ID words".into(),
                    false,
                ),
                None => {
                    let d = q.describe().replacen("one finding:", rows_of(*view), 1);
                    (format!("= {d}"), false)
                }
            };
            (
                format!("Filter {}", view.title()),
                "Enter apply · Ctrl-U clear · Esc clear filter",
                Some(below),
            )
        }
        PromptKind::Reason { status, what, .. } => (
            format!(
                "{} {}: why?",
                match status {
                    crate::model::TriageStatus::Suppressed => "Suppress",
                    _ => "False positive:",
                },
                crate::sanitize::line(what)
            ),
            "Enter apply · Ctrl-U clear · Esc cancel",
            None,
        ),
        PromptKind::Note { what, .. } => (
            format!(
                "Note on {} (signed {})",
                crate::sanitize::line(what),
                crate::sanitize::line(&app.author)
            ),
            "Ctrl-S save · Esc cancel",
            None,
        ),
    };
    let below = match error {
        Some(e) => Some((format!("✗ {e}"), true)),
        None => below,
    };
    let multi = matches!(kind, PromptKind::Note { .. });
    let h = if multi { 8 } else { 3 } + u16::from(below.is_some());
    let w = area.width.saturating_sub(4).min(96);
    let r = centred(area, w, h);
    f.render_widget(Clear, r);
    let b = block(t, Line::styled(format!(" {title} "), t.title))
        .title_bottom(Line::styled(format!(" {hint} "), t.dim));
    let mut inside = b.inner(r);
    f.render_widget(b, r);
    if let Some((line, is_err)) = below {
        if inside.height >= 2 {
            let y = inside.y + inside.height - 1;
            let row = ratatui::layout::Rect::new(inside.x, y, inside.width, 1);
            let style = if is_err { t.error } else { t.dim };
            f.render_widget(
                Paragraph::new(Line::from(TSpan::styled(
                    crate::sanitize::line(&line).into_owned(),
                    style,
                ))),
                row,
            );
            inside.height -= 1;
        }
    }
    f.render_widget(input, inside);
}
