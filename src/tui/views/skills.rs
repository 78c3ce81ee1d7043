//! The Skills view: every skill seen in a span or blamed for a finding, with
//! its integrity (`⚠ changed`: its content differs from the registered digest;
//! `? unknown`: no registry knows it), its open findings, how it was
//! recognised and where; below, the runs and spans it was seen or blamed in.

use super::{block, empty_note, short_id, table, visible_sel, App};
use crate::store::SkillRow;
use crate::tui::layout::{inner, Regions};
use crate::tui::widgets::{badges, time};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;

/// A skill's integrity as a short label and whether it is alarming.
fn integrity(k: &SkillRow) -> (&'static str, bool) {
    if k.changed > 0 {
        ("⚠ changed", true)
    } else if k.unknown > 0 {
        ("? unknown", true)
    } else if k.hits > 0 {
        ("✓", false)
    } else {
        ("", false)
    }
}

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.skills;
    let h = g.list.height as usize;
    let narrow = g.list.width < 100;
    let mut rows = Vec::new();
    for i in s.list.top..s.list.top + h {
        let Some(k) = s.list.get(i) else { break };
        let (label, bad) = integrity(k);
        let mut found = badges(&k.open, t);
        if found.is_empty() && k.findings > 0 {
            found.push(TSpan::styled(format!("{} triaged", k.findings), t.dim));
        }
        let mut cells = vec![
            Cell::from(TSpan::styled(label, if bad { t.high } else { t.ok })),
            Cell::from(crate::sanitize::line(&k.name).into_owned()),
            Cell::from(crate::sanitize::line(&k.skill_id).into_owned()),
            Cell::from(Line::from(found)),
            Cell::from(crate::sanitize::line(k.version.as_deref().unwrap_or("")).into_owned()),
            Cell::from(crate::sanitize::line(&k.methods).into_owned()),
            Cell::from(if k.hits > 0 {
                format!("{:.0}%", k.confidence * 100.0)
            } else {
                String::new()
            }),
            Cell::from(k.hits.to_string()),
            Cell::from(k.runs.to_string()),
            Cell::from(
                k.last_ms
                    .map(|m| time(m, app.utc_offset_s))
                    .unwrap_or_default(),
            ),
        ];
        if narrow {
            cells.truncate(4);
            cells.push(Cell::from(k.runs.to_string()));
        }
        rows.push(Row::new(cells));
    }
    let title = Line::from(vec![
        TSpan::styled(format!(" Skills ({})", s.list.total), t.title),
        TSpan::styled(format!("{} ", s.filter.title()), t.dim),
    ]);
    let (header, widths): (Vec<&str>, Vec<Constraint>) = if narrow {
        (
            vec!["integrity", "skill", "id", "findings", "runs"],
            vec![
                Constraint::Length(9),
                Constraint::Fill(1),
                Constraint::Fill(2),
                Constraint::Length(14),
                Constraint::Length(4),
            ],
        )
    } else {
        (
            vec![
                "integrity",
                "skill",
                "id",
                "findings",
                "version",
                "seen by",
                "conf",
                "hits",
                "runs",
                "last seen",
            ],
            vec![
                Constraint::Length(9),
                Constraint::Fill(2),
                Constraint::Fill(2),
                Constraint::Length(16),
                Constraint::Length(8),
                Constraint::Fill(2),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(14),
            ],
        )
    };
    table(
        f,
        t,
        g,
        title,
        &header,
        &widths,
        rows,
        visible_sel(s.list.sel, s.list.top, h),
        empty_note(
            s.list.loaded,
            s.list.total,
            "No skills recognised or blamed yet. Skills are matched against the signed registries (`skilltrace registry list`).",
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
            .map(|hit| {
                let what = match hit.severity {
                    Some(sev) => TSpan::styled(
                        format!("{} {} ", crate::sanitize::line(&hit.what), sev),
                        t.severity(sev),
                    ),
                    None => TSpan::styled(
                        format!(
                            "{} {:.0}% ",
                            crate::sanitize::line(&hit.what),
                            hit.confidence * 100.0
                        ),
                        t.accent,
                    ),
                };
                Line::from(vec![
                    TSpan::styled(format!("run {} ", short_id(&hit.run_id)), t.text),
                    TSpan::styled(format!("span {} ", short_id(&hit.span_id)), t.dim),
                    what,
                ])
            })
            .collect();
        f.render_widget(Paragraph::new(lines), area);
    }
}
