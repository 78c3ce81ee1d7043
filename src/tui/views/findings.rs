//! The Findings view: the triage queue, worst first then oldest, with the
//! selected finding's message, evidence and note in a pane below.

use super::{block, empty_note, table, visible_sel, App};
use crate::model::TriageStatus;
use crate::tui::layout::{inner, Regions};
use crate::tui::widgets::{highlight_markers, sev_label, time};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};
use ratatui::Frame;

fn status_short(s: TriageStatus) -> &'static str {
    match s {
        TriageStatus::Open => "open",
        TriageStatus::Confirmed => "confirmed",
        TriageStatus::FalsePositive => "false+",
        TriageStatus::Suppressed => "suppressed",
    }
}

/// The title cell: prefixed with what the guard answered, when it judged the call.
fn guard_title(fr: &crate::store::FindingRow) -> String {
    let title = crate::sanitize::line(&fr.finding.title);
    match fr.guard {
        Some(d) => format!("[{}] {title}", d.as_str()),
        None => title.into_owned(),
    }
}

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.findings;
    let h = g.list.height as usize;
    let mut rows = Vec::new();
    for i in s.list.top..s.list.top + h {
        let Some(fr) = s.list.get(i) else { break };
        let fi = &fr.finding;
        let st = match fr.status {
            TriageStatus::Open => t.accent,
            TriageStatus::Confirmed => t.error,
            _ => t.dim,
        };
        let ev = crate::sanitize::line(&fi.evidence).into_owned();
        let note = if fr.note.as_deref().is_some_and(|n| !n.is_empty()) {
            "✎"
        } else {
            " "
        };
        rows.push(Row::new(vec![
            Cell::from(TSpan::styled(
                sev_label(fi.severity),
                t.severity(fi.severity),
            )),
            Cell::from(Line::from(vec![
                TSpan::styled(status_short(fr.status), st),
                TSpan::styled(note, t.dim),
            ])),
            Cell::from(crate::sanitize::line(&fi.rule_id).into_owned()),
            Cell::from(guard_title(fr)),
            Cell::from(Line::from(highlight_markers(&ev, t.dim, t.marker))),
        ]));
    }
    let filter = if s.filter_text.is_empty() {
        String::new()
    } else {
        format!(" · filter: {}", crate::sanitize::line(&s.filter_text))
    };
    let title = Line::from(vec![
        TSpan::styled(format!(" Findings ({})", s.list.total), t.title),
        TSpan::styled(format!(" · severity, then time{filter} "), t.dim),
    ]);
    let wide = g.list.width >= 120;
    table(
        f,
        t,
        g,
        title,
        &["sev", "status", "rule", "title", "evidence"],
        &[
            Constraint::Length(6),
            Constraint::Length(11),
            Constraint::Length(if wide { 22 } else { 14 }),
            Constraint::Fill(2),
            Constraint::Fill(3),
        ],
        rows,
        visible_sel(s.list.sel, s.list.top, h),
        empty_note(
            s.list.loaded,
            s.list.total,
            "No findings match. Press f to change the filter.",
        ),
    );
    if g.detail.height > 2 {
        detail(f, app, g);
    }
}

fn detail(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let Some(fr) = app.findings.list.selected() else {
        f.render_widget(block(t, Line::raw("")), g.detail);
        return;
    };
    let fi = &fr.finding;
    let b = block(
        t,
        Line::styled(
            format!(
                " #{} · {} · confidence {:.0}%{} ",
                fr.id,
                fr.status,
                fi.confidence * 100.0,
                fr.guard
                    .map(|d| format!(" · guard {d} the call"))
                    .unwrap_or_default()
            ),
            t.dim,
        ),
    );
    let mut lines = vec![Line::from(highlight_markers(
        &crate::sanitize::line(&fi.message),
        t.text,
        t.marker,
    ))];
    let mut where_ = format!("run {}", crate::sanitize::line(&fi.run_id));
    if let Some(sp) = fi.span_ids.first() {
        where_.push_str(&format!(" · span {}", crate::sanitize::line(sp)));
    }
    if let Some(o) = &fi.origin {
        where_.push_str(&format!(" · {}:{}", crate::sanitize::line(&o.path), o.line));
    }
    if let Some(ts) = fi.ts_ms {
        where_.push_str(&format!(" · {}", time(ts, app.utc_offset_s)));
    }
    lines.push(Line::styled(where_, t.dim));
    if let Some(n) = fr.note.as_deref().filter(|n| !n.is_empty()) {
        let mut l = vec![TSpan::styled("note: ", t.accent)];
        l.push(TSpan::styled(crate::sanitize::line(n).into_owned(), t.text));
        lines.push(Line::from(l));
    }
    let area = inner(g.detail);
    f.render_widget(b, g.detail);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}
