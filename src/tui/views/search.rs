//! The Search view: full-text hits over every span (FTS5), with how far the
//! index is behind ingest, so an empty result is never silently incomplete.

use super::{short_id, table, visible_sel, App};
use crate::tui::layout::Regions;
use crate::tui::widgets::highlight_markers;
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.search;
    let h = g.list.height as usize;
    let mut rows = Vec::new();
    for hit in s.hits.iter().skip(s.cursor.top).take(h) {
        let snip = crate::sanitize::line(&hit.snippet).into_owned();
        rows.push(Row::new(vec![
            Cell::from(crate::sanitize::line(&hit.kind).into_owned()),
            Cell::from(crate::sanitize::line(&hit.name).into_owned()),
            Cell::from(short_id(&hit.run_id)),
            Cell::from(Line::from(highlight_markers(&snip, t.text, t.marker))),
        ]));
    }
    let mut title = vec![TSpan::styled(
        format!(
            " Search “{}” · {} hits ",
            crate::sanitize::line(&s.query),
            s.total
        ),
        t.title,
    )];
    if s.total > crate::store::SEARCH_FIRST_WINDOW as u64 {
        title.push(TSpan::styled(
            format!(
                "best first within the newest {} hits, then within each older {} ",
                crate::pricing::thousands(crate::store::SEARCH_FIRST_WINDOW as u64),
                crate::pricing::thousands(crate::store::SEARCH_WINDOW as u64)
            ),
            t.dim,
        ));
    }
    if s.fts_pending > 0 {
        title.push(TSpan::styled(
            format!(
                " index {} spans behind: newest spans may be missing ",
                s.fts_pending
            ),
            t.loud,
        ));
    }
    let empty = if s.searching {
        Some("searching…")
    } else if s.hits.is_empty() {
        Some("No span matches. Words are matched whole; try fewer words.")
    } else {
        None
    };
    table(
        f,
        t,
        g,
        Line::from(title),
        &["kind", "name", "run", "text"],
        &[
            Constraint::Length(8),
            Constraint::Length(16),
            Constraint::Length(12),
            Constraint::Fill(1),
        ],
        rows,
        visible_sel(s.cursor.sel, s.cursor.top, h),
        empty,
    );
}
