//! The Skills view: which skills were seen, how often, by which method and with
//! what confidence; below, where the selected one was seen.

use super::{block, empty_note, short_id, table, visible_sel, App};
use crate::tui::layout::{inner, Regions};
use crate::tui::widgets::time;
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.skills;
    let h = g.list.height as usize;
    let mut rows = Vec::new();
    for i in s.list.top..s.list.top + h {
        let Some(k) = s.list.get(i) else { break };
        rows.push(Row::new(vec![
            Cell::from(crate::sanitize::line(&k.name).into_owned()),
            Cell::from(crate::sanitize::line(&k.skill_id).into_owned()),
            Cell::from(crate::sanitize::line(k.version.as_deref().unwrap_or("")).into_owned()),
            Cell::from(crate::sanitize::line(&k.methods).into_owned()),
            Cell::from(format!("{:.0}%", k.confidence * 100.0)),
            Cell::from(k.hits.to_string()),
            Cell::from(k.runs.to_string()),
            Cell::from(
                k.last_ms
                    .map(|m| time(m, app.utc_offset_s))
                    .unwrap_or_default(),
            ),
        ]));
    }
    let title = Line::styled(format!(" Skills ({}) ", s.list.total), t.title);
    table(
        f,
        t,
        g,
        title,
        &["skill", "id", "version", "seen by", "conf", "hits", "runs", "last seen"],
        &[
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(8),
            Constraint::Fill(2),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(14),
        ],
        rows,
        visible_sel(s.list.sel, s.list.top, h),
        empty_note(
            s.list.loaded,
            s.list.total,
            "No skills recognised yet. Skills are matched against the signed registries (`skilltrace registry list`).",
        ),
    );
    if g.detail.height > 2 {
        let b = block(t, Line::styled(" Seen in (Enter opens the first) ", t.dim));
        let area = inner(g.detail);
        f.render_widget(b, g.detail);
        let lines: Vec<Line<'_>> = s
            .hits
            .iter()
            .take(area.height as usize)
            .map(|(run, span, method, conf)| {
                Line::from(vec![
                    TSpan::styled(format!("run {} ", short_id(run)), t.text),
                    TSpan::styled(format!("span {} ", short_id(span)), t.dim),
                    TSpan::styled(format!("{} ", crate::sanitize::line(method)), t.accent),
                    TSpan::styled(format!("{:.0}%", conf * 100.0), t.dim),
                ])
            })
            .collect();
        f.render_widget(Paragraph::new(lines), area);
    }
}
