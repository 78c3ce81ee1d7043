//! The Replay view: a run's spans appear in their original timing (scaled by
//! the speed), newest at the bottom, each with the findings it raised (its
//! glyph and rules), with a clock, a progress bar and the findings raised so
//! far. At the end the clock stops; `R` plays it again.

use super::{short_id, table, App};
use crate::tui::layout::Regions;
use crate::tui::widgets::{badges, duration, fit, kind_mark, sev_glyph, span_label};
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
        let raised: Vec<&crate::store::FindingRow> = r
            .raised
            .iter()
            .filter(|f| f.finding.span_ids.first() == Some(&s.span.id))
            .collect();
        let glyph = match r.worst_on(&s.span.id) {
            Some(sev) => TSpan::styled(sev_glyph(sev), t.severity(sev)),
            None => TSpan::raw(" "),
        };
        let mut line = vec![
            glyph,
            TSpan::raw(format!(
                " {} {}",
                kind_mark(s.span.kind),
                span_label(&s.span)
            )),
        ];
        if !raised.is_empty() {
            let mut rules: Vec<String> = Vec::new();
            for f in &raised {
                let rid = crate::sanitize::line(&f.finding.rule_id).into_owned();
                if !rules.contains(&rid) {
                    rules.push(rid);
                }
            }
            line.push(TSpan::styled(format!("  ⚑ {}", rules.join(" ")), t.high));
        }
        rows.push(Row::new(vec![
            Cell::from(TSpan::styled(at, t.dim)),
            Cell::from(Line::from(line)),
        ]));
    }
    let state = if r.finished() {
        "■ finished · R plays it again"
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
    let mut first = vec![TSpan::styled(
        format!(
            "{} · {}/{} spans{next}{skipped} · ",
            duration(r.clock_ms as i64),
            r.shown_total,
            r.total
        ),
        t.text,
    )];
    let found = badges(&r.raised_counts, t);
    if found.is_empty() {
        first.push(TSpan::styled("no findings raised yet", t.dim));
    } else {
        first.push(TSpan::styled("raised ", t.text));
        first.extend(found);
        if let Some(last) = r.raised.back() {
            let what = format!(
                "  latest: {} {}",
                crate::sanitize::line(&last.finding.rule_id),
                crate::sanitize::line(&last.finding.title)
            );
            first.push(TSpan::styled(
                fit(&what, w.saturating_sub(40).max(10)),
                t.dim,
            ));
        }
    }
    let lines = vec![Line::from(first), Line::styled(bar, t.bar)];
    f.render_widget(Paragraph::new(lines), g.summary);
}
