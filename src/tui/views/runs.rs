//! The Runs view: every run, newest (or worst, or biggest) first, with badges
//! of its open findings (the column grows to fit them) and a sparkline of
//! activity, paged from the store; what they all cost on the bottom border.

use super::{empty_note, table, visible_sel, App};
use crate::tui::layout::Regions;
use crate::tui::state::sort_name;
use crate::tui::widgets::{badges, duration, fit, sparkline, time, SPARK_WIDTH};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.runs;
    let h = g.list.height as usize;
    let wide = g.list.width >= 120;
    let narrow = g.list.width < 100;
    // The badges column is as wide as the widest badges on screen: never cut.
    let badge_w = (s.list.top..s.list.top + h)
        .filter_map(|i| s.list.get(i))
        .map(|r| {
            badges(&r.findings, t)
                .iter()
                .map(|b| b.content.chars().count())
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
        .clamp(8, 30) as u16;
    let mut rows = Vec::new();
    for i in s.list.top..s.list.top + h {
        let Some(r) = s.list.get(i) else { break };
        let title = crate::sanitize::line(r.run.title.as_deref().unwrap_or("")).into_owned();
        let agent = r.run.agent.map(|a| a.as_str()).unwrap_or("?");
        let start = r
            .run
            .started_ms
            .map(|m| time(m, app.utc_offset_s))
            .unwrap_or_default();
        let dur = match (r.run.started_ms, r.run.ended_ms) {
            (Some(a), Some(b)) => duration(b - a),
            _ => String::new(),
        };
        let spark = s
            .hist
            .get(&r.run.id)
            .map(|h| sparkline(h))
            .unwrap_or_else(|| " ".repeat(SPARK_WIDTH));
        let mut cells = vec![
            Cell::from(Line::from(badges(&r.findings, t))),
            Cell::from(fit(agent, if wide { 13 } else { 11 })),
            Cell::from(title),
            Cell::from(start),
            Cell::from(dur),
            Cell::from(r.span_count.to_string()),
            Cell::from(r.cost.as_ref().map(|c| c.short()).unwrap_or_default()),
            Cell::from(TSpan::styled(spark, t.bar)),
        ];
        if narrow {
            // No room for the cost and the duration under 100 columns.
            cells.remove(6);
            cells.remove(4);
        }
        if wide {
            let models = crate::sanitize::line(&r.models.join(",")).into_owned();
            cells.insert(3, Cell::from(fit(&models, 24)));
        }
        rows.push(Row::new(cells));
    }
    let mut header = vec![
        "findings", "agent", "title", "started", "took", "spans", "cost", "activity",
    ];
    let mut widths = vec![
        Constraint::Length(badge_w),
        Constraint::Length(if wide { 13 } else { 11 }),
        Constraint::Fill(1),
        Constraint::Length(14),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(SPARK_WIDTH as u16),
    ];
    if narrow {
        for i in [6, 4] {
            header.remove(i);
            widths.remove(i);
        }
    }
    if wide {
        header.insert(3, "model");
        widths.insert(3, Constraint::Length(24));
    }
    let filter = s.filter.title();
    let title = Line::from(vec![
        TSpan::styled(format!(" Runs ({})", s.list.total), t.title),
        TSpan::styled(format!(" · {}{filter} ", sort_name(s.sort)), t.dim),
    ]);
    let empty = empty_note(
        s.list.loaded,
        s.list.total,
        "No runs yet. Bring some in with `skilltrace import PATH`, `skilltrace tail PATH`, or try `skilltrace tui samples/`.",
    );
    table(
        f,
        t,
        g,
        title,
        &header,
        &widths,
        rows,
        visible_sel(s.list.sel, s.list.top, h),
        empty,
    );
    if let Some(c) = s.cost_total.as_ref().filter(|c| !c.is_empty()) {
        total_line(f, app, g, c);
    }
}

/// What every run cost together (as `skilltrace cost` totals it, the unpriced
/// part named), on the list's bottom border, right-aligned.
fn total_line(f: &mut Frame<'_>, app: &App, g: &Regions, c: &crate::pricing::Cost) {
    let b = g.body;
    if b.height < 3 || b.width < 12 {
        return;
    }
    let room = b.width as usize - 4;
    let text = fit(
        &format!(" total {} ", crate::sanitize::line(&c.long())),
        room,
    );
    let line = Line::from(TSpan::styled(text, app.theme.dim));
    let w = (line.width() as u16).min(b.width - 4);
    let at = Rect::new(b.x + b.width - 2 - w, b.y + b.height - 1, w, 1);
    f.render_widget(Paragraph::new(line), at);
}
