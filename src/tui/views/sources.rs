//! The Sources view: tailed files (offset, lines, parse errors) and proxies
//! (address, requests seen); below, the selected source's parse errors as file:line.

use super::{block, empty_note, table, visible_sel, App};
use crate::tui::layout::{inner, Regions};
use crate::tui::widgets::{short_count, time};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.sources;
    let h = g.list.height as usize;
    let narrow = g.list.width < 100;
    let mut rows = Vec::new();
    for r in s.rows.iter().skip(s.cursor.top).take(h) {
        let st = &r.state;
        let proxy = st.kind == "proxy";
        let path = crate::sanitize::line(st.path.strip_prefix("proxy://").unwrap_or(&st.path))
            .into_owned();
        let errs = if r.errors > 0 {
            TSpan::styled(r.errors.to_string(), t.error)
        } else {
            TSpan::styled("0", t.dim)
        };
        let mut cells = vec![
            Cell::from(path),
            Cell::from(crate::sanitize::line(&st.kind).into_owned()),
            Cell::from(crate::sanitize::line(&st.format).into_owned()),
            Cell::from(if proxy {
                "-".into()
            } else {
                short_count(st.offset) + "B"
            }),
            Cell::from(if proxy {
                format!("{} req", st.line)
            } else {
                st.line.to_string()
            }),
            Cell::from(errs),
            Cell::from(time(r.updated_ms, app.utc_offset_s)),
        ];
        if narrow {
            cells.pop();
        }
        rows.push(Row::new(cells));
    }
    let title = Line::from(vec![
        TSpan::styled(format!(" Sources ({})", s.rows.len()), t.title),
        TSpan::styled(format!("{} ", s.filter.title()), t.dim),
    ]);
    table(
        f,
        t,
        g,
        title,
        &[
            "path / address",
            "kind",
            "format",
            "offset",
            "lines",
            "errors",
            "updated",
        ],
        &[
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(13),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(14),
        ][..if narrow { 6 } else { 7 }],
        rows,
        visible_sel(s.cursor.sel, s.cursor.top, h),
        empty_note(
            s.loaded,
            s.rows.len() as u64,
            "No sources yet: `skilltrace tail PATH` or `skilltrace proxy` adds them.",
        ),
    );
    if g.detail.height > 2 {
        let b = block(t, Line::styled(" Parse errors (file:line) ", t.dim));
        let area = inner(g.detail);
        f.render_widget(b, g.detail);
        let lines: Vec<Line<'_>> = if s.errors.is_empty() {
            vec![Line::styled("none", t.dim)]
        } else {
            s.errors
                .iter()
                .take(area.height as usize)
                .map(|e| {
                    Line::from(vec![
                        TSpan::styled(
                            format!("{}:{}", crate::sanitize::line(&e.path), e.line),
                            t.accent,
                        ),
                        TSpan::styled(format!(": {}", crate::sanitize::line(&e.message)), t.text),
                    ])
                })
                .collect()
        };
        f.render_widget(Paragraph::new(lines), area);
    }
}
