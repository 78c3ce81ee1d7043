//! Drawing: a pure function of [`App`] state onto a ratatui frame.
//!
//! The frame is the tab bar, the current view, the status line and the footer
//! (generated from the keymap), with overlays (help, prompts, confirmations)
//! on top. Every string that came from a trace goes through
//! [`crate::sanitize`] before it reaches a cell.

mod findings;
mod help;
mod prompt;
mod replay;
mod run;
mod runs;
mod search;
mod skills;
mod sources;
mod span;

use super::action::ViewId;
use super::app::{App, Modal};
use super::layout::{self, Regions};
use super::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

/// Draws the whole screen.
pub fn draw(f: &mut Frame<'_>, app: &App) {
    let area = f.area();
    let view = app.view();
    let g = layout::regions(view, area);
    if area.width < 20 || area.height < 4 {
        f.render_widget(
            Paragraph::new("skilltrace: window too small").style(app.theme.dim),
            area,
        );
        return;
    }
    header(f, app, g.header);
    match view {
        ViewId::Runs => runs::draw(f, app, &g),
        ViewId::Run => run::draw(f, app, &g),
        ViewId::Span => span::draw(f, app, &g),
        ViewId::Findings => findings::draw(f, app, &g),
        ViewId::Skills => skills::draw(f, app, &g),
        ViewId::Sources => sources::draw(f, app, &g),
        ViewId::Search => search::draw(f, app, &g),
        ViewId::Replay => replay::draw(f, app, &g),
    }
    status_line(f, app, g.status);
    footer(f, app, g.footer);
    match &app.modal {
        Some(Modal::Help { scroll }) => help::draw(f, app, *scroll),
        Some(Modal::Prompt { kind, input, error }) => {
            prompt::draw(f, app, kind, input, error.as_deref())
        }
        None => {}
    }
}

/// The Span view's first line with a highlighted match (for scrolling to it).
pub fn span_match_line(app: &App) -> Option<usize> {
    span::first_match(app)
}

const BRAND: &str = " skilltrace ";

/// The tabs' columns in the header: (view, first column, column after).
fn tab_columns() -> Vec<(ViewId, u16, u16)> {
    let mut x = BRAND.len() as u16 + 1;
    ViewId::TABS
        .iter()
        .map(|v| {
            let w = v.title().len() as u16 + 2;
            let r = (*v, x, x + w);
            x += w + 1;
            r
        })
        .collect()
}

/// The tab drawn at header column `x`.
pub fn tab_at(x: u16) -> Option<ViewId> {
    tab_columns()
        .into_iter()
        .find(|(_, a, b)| x >= *a && x < *b)
        .map(|(v, _, _)| v)
}

fn header(f: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let base = app.stack.first().copied().unwrap_or(ViewId::Runs);
    let mut spans = vec![TSpan::styled(BRAND, t.accent), TSpan::raw(" ")];
    for v in ViewId::TABS {
        let st = if v == base { t.tab_active } else { t.tab };
        spans.push(TSpan::styled(format!(" {} ", v.title()), st));
        spans.push(TSpan::raw(" "));
    }
    for v in app.stack.iter().skip(1) {
        spans.push(TSpan::styled("› ", t.dim));
        let label = match v {
            ViewId::Run => format!("Run {} ", short_id(app.run.run_id.as_deref().unwrap_or(""))),
            ViewId::Span => format!(
                "Span {} ",
                short_id(app.span.key.as_ref().map(|k| k.1.as_str()).unwrap_or(""))
            ),
            ViewId::Replay => format!(
                "Replay {} ",
                short_id(app.replay.as_ref().map(|r| r.run_id.as_str()).unwrap_or(""))
            ),
            other => format!("{} ", other.title()),
        };
        spans.push(TSpan::styled(label, t.title));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.text), area);
}

/// A run or span id shortened for headers: sanitised, at most 12 cells.
pub fn short_id(id: &str) -> String {
    super::widgets::fit(&crate::sanitize::line(id), 12)
}

fn status_line(f: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let s = &app.status;
    let mut spans: Vec<TSpan<'static>> = Vec::new();
    let sep = || TSpan::styled(" · ", t.dim);
    if let Some((msg, err)) = &app.message {
        spans.push(TSpan::styled(
            format!(" {} ", crate::sanitize::line(msg)),
            if *err { t.loud } else { t.accent },
        ));
        spans.push(sep());
    }
    if s.redaction == "off" {
        spans.push(TSpan::styled(
            " ⚠ REDACTION OFF: secrets are stored as-is ",
            t.loud,
        ));
    } else {
        spans.push(TSpan::styled(format!(" redaction {}", s.redaction), t.ok));
    }
    if let Some(e) = &s.error {
        spans.push(sep());
        spans.push(TSpan::styled(
            format!(" {} ", crate::sanitize::line(e)),
            t.loud,
        ));
    }
    if s.dropped > 0 {
        spans.push(sep());
        spans.push(TSpan::styled(
            format!(" dropped {} batches ", s.dropped),
            t.loud,
        ));
    }
    if let Some(n) = &s.store {
        spans.push(sep());
        spans.push(TSpan::styled(
            format!(" {} ", crate::sanitize::line(n)),
            t.loud,
        ));
    }
    if let Some((done, total)) = s.importing {
        spans.push(sep());
        let pct = (done * 100).checked_div(total).unwrap_or(0).min(100);
        spans.push(TSpan::styled(format!("importing {pct}%"), t.accent));
    }
    for src in &s.sources {
        spans.push(sep());
        spans.push(TSpan::styled(
            crate::sanitize::line(src).into_owned(),
            t.text,
        ));
    }
    let c = &app.counts;
    spans.push(sep());
    spans.push(TSpan::raw(format!(
        "{} runs {} spans ",
        super::widgets::short_count(c.runs),
        super::widgets::short_count(c.spans)
    )));
    let total: u64 = c.findings.iter().sum();
    spans.push(TSpan::raw(format!("{} open ", c.open_findings)));
    spans.extend(super::widgets::badges(&c.open, t));
    spans.push(TSpan::styled(
        format!(" ({} triaged)", total.saturating_sub(c.open_findings)),
        t.dim,
    ));
    if c.sources > 0 {
        spans.push(sep());
        spans.push(TSpan::raw(format!("{} sources", c.sources)));
    }
    if c.parse_errors > 0 {
        spans.push(sep());
        spans.push(TSpan::styled(
            format!("{} parse errors", c.parse_errors),
            t.error,
        ));
    }
    if app.fts_pending > 0 {
        spans.push(sep());
        spans.push(TSpan::styled(
            format!("search index {} behind", app.fts_pending),
            t.dim,
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.status), area);
}

/// The footer: the view's key hints, dropping the last ones that do not fit
/// but never `? help` and `q quit`.
fn footer(f: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let mut hints = app.keymap.footer(app.view());
    let width = |h: &[(String, String, bool)]| -> usize {
        h.iter()
            .map(|(k, l, _)| k.chars().count() + l.chars().count() + 3)
            .sum()
    };
    while width(&hints) > area.width as usize {
        match hints.iter().rposition(|(_, _, pinned)| !pinned) {
            Some(i) => {
                hints.remove(i);
            }
            None => break,
        }
    }
    let mut spans = Vec::new();
    for (k, label, _) in hints {
        spans.push(TSpan::styled(format!(" {k}"), t.key));
        spans.push(TSpan::styled(format!(" {label} "), t.dim));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A bordered block in the theme.
pub(super) fn block<'a>(t: &Theme, title: Line<'a>) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(title)
}

/// Draws a virtual list: only the visible `rows`, the selection at `sel` among them.
#[expect(
    clippy::too_many_arguments,
    reason = "one call per view; a struct would only rename them"
)]
pub(super) fn table(
    f: &mut Frame<'_>,
    t: &Theme,
    g: &Regions,
    title: Line<'_>,
    header: &[&str],
    widths: &[Constraint],
    rows: Vec<Row<'_>>,
    sel: Option<usize>,
    empty: Option<&str>,
) {
    f.render_widget(block(t, title), g.body);
    let area = g
        .table_header
        .union(g.list)
        .intersection(layout::inner(g.body));
    if area.is_empty() {
        return;
    }
    if let Some(msg) = empty {
        let p = Paragraph::new(msg.to_string())
            .style(t.dim)
            .wrap(Wrap { trim: true });
        f.render_widget(p, g.list);
        return;
    }
    let head = Row::new(header.iter().map(|h| h.to_string())).style(t.header);
    let table = Table::new(rows, widths.to_vec())
        .header(head)
        .column_spacing(1)
        .row_highlight_style(t.selected);
    let mut state = TableState::default().with_selected(sel);
    f.render_stateful_widget(table, area, &mut state);
}

/// The row index of `sel` within the visible window starting at `top`.
pub(super) fn visible_sel(sel: usize, top: usize, height: usize) -> Option<usize> {
    sel.checked_sub(top).filter(|i| *i < height)
}

/// A popup rectangle centred in `area`.
pub(super) fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A "loading" or "empty" message for a list, or none when rows exist.
pub(super) fn empty_note(loaded: bool, total: u64, what: &str) -> Option<&str> {
    if !loaded {
        Some("loading…")
    } else if total == 0 {
        Some(what)
    } else {
        None
    }
}
