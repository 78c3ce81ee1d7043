//! The Replay view: a run's spans appear in their original timing (scaled by
//! the speed), newest at the bottom, with a clock and a progress bar.

use super::{short_id, table, App};
use crate::tui::layout::Regions;
use crate::tui::widgets::{duration, kind_mark, span_label};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let Some(r) = &app.replay else { return };
    let h = g.list.height as usize;
    let skip = r.shown.len().saturating_sub(h);
    let mut rows = Vec::new();
    for s in r.shown.iter().skip(skip) {
        let at = match (s.span.start_ms, r.start_ms) {
            (Some(a), Some(z)) => format!("+{}", duration(a - z)),
            _ => String::new(),
        };
        rows.push(Row::new(vec![
            Cell::from(TSpan::styled(at, t.dim)),
            Cell::from(format!(
                "{} {}",
                kind_mark(s.span.kind),
                span_label(&s.span)
            )),
        ]));
    }
    let state = if r.finished() {
        "■ finished"
    } else if r.paused {
        "❚❚ paused"
    } else {
        "▶ playing"
    };
    let title = Line::from(vec![
        TSpan::styled(format!(" Replay {} ", short_id(&r.run_id)), t.title),
        TSpan::styled(format!("· {state} · speed {}x ", r.speed), t.dim),
    ]);
    let n = rows.len();
    table(
        f,
        t,
        g,
        title,
        &["at", "span"],
        &[Constraint::Length(9), Constraint::Fill(1)],
        rows,
        n.checked_sub(1),
        (r.total == 0 && !r.requested && r.next_offset > 0).then_some("This run has no spans."),
    );
    let next = r
        .pending
        .front()
        .map(|s| r.due_at(s) - r.clock_ms)
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| format!(" · next span in {}", duration((d / r.speed) as i64)))
        .unwrap_or_default();
    let w = g.summary.width as usize;
    let frac = if r.total > 0 {
        r.shown_total as f64 / r.total as f64
    } else {
        0.0
    };
    let filled = ((w as f64) * frac).round() as usize;
    let bar = format!(
        "{}{}",
        "━".repeat(filled.min(w)),
        "─".repeat(w.saturating_sub(filled))
    );
    let skipped = if r.skipped_ms >= 1.0 {
        format!(" · {} idle skipped", duration(r.skipped_ms as i64))
    } else {
        String::new()
    };
    let lines = vec![
        Line::styled(
            format!(
                "{} · {}/{} spans{next}{skipped}",
                duration(r.clock_ms as i64),
                r.shown_total,
                r.total
            ),
            t.text,
        ),
        Line::styled(bar, t.bar),
    ];
    f.render_widget(Paragraph::new(lines), g.summary);
}
