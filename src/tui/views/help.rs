//! The help overlay: every key of the current view, generated from the keymap.

use super::{block, centred, App};
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, scroll: usize) {
    let t = &app.theme;
    let view = app.view();
    let bindings = app.keymap.help(view);
    let key_w = bindings
        .iter()
        .map(|b| b.keys_label().chars().count())
        .max()
        .unwrap_or(4)
        .min(20);
    let mut lines: Vec<Line<'_>> = bindings
        .iter()
        .map(|b| {
            Line::from(vec![
                TSpan::styled(format!(" {:<key_w$}  ", b.keys_label()), t.key),
                TSpan::styled(b.desc.clone(), t.text),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Prompts: Enter applies · Ctrl-S saves notes · Esc cancels",
        t.dim,
    ));
    let area = f.area();
    let h = (lines.len() as u16 + 2)
        .min(area.height.saturating_sub(2))
        .max(3);
    let w = area.width.saturating_sub(4).min(76);
    let r = centred(area, w, h);
    f.render_widget(Clear, r);
    let title = Line::styled(
        format!(" Keys: {} (any key closes) ", view.title()),
        t.title,
    );
    let overflow = lines.len() as u16 + 2 > h;
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    let mut b = block(t, title);
    if overflow {
        b = b.title_bottom(Line::styled(" j/k scroll ", t.dim));
    }
    f.render_widget(Paragraph::new(lines).block(b).scroll((scroll, 0)), r);
}
