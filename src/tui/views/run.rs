//! The Run view: a run's spans as a tree, each span directly followed by its
//! children (siblings in time order, see [`crate::store::tree_order`]), indented by
//! depth, with a waterfall bar beside each; tool calls show their command or
//! path. A span that raised a finding carries its worst open severity's glyph
//! (`✓` when all of them are triaged); a span with children shows `▾`, or `▸`
//! and how many rows it hides when its subtree is folded (Space), with the
//! open findings it hides as badges. The header names the run's skills.

use super::{empty_note, short_id, table, visible_sel, App};
use crate::model::SpanKind;
use crate::tui::layout::Regions;
use crate::tui::widgets::{
    badges, duration, kind_mark, sev_glyph, short_count, span_label, time, waterfall,
};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.run;
    let h = g.list.height as usize;
    let (rs, re) = s
        .run
        .as_ref()
        .and_then(|r| Some((r.run.started_ms?, r.run.ended_ms.or(r.run.started_ms)?)))
        .unwrap_or((0, 1));
    let bar_w = (g.list.width as usize / 4).clamp(8, 60);
    let mut rows = Vec::new();
    for i in s.list.top..s.list.top + h {
        let Some((row, tree, flags)) = s.list.get(i) else {
            break;
        };
        let sp = &row.span;
        let indent = "  ".repeat((tree.depth as usize).min(16));
        let folded = tree.descendants > 0 && s.folded.contains(&tree.key);
        let fold_mark = match (tree.descendants, folded) {
            (0, _) => "  ",
            (_, false) => "▾ ",
            (_, true) => "▸ ",
        };
        let label = format!(
            "{indent}{fold_mark}{} {}",
            kind_mark(sp.kind),
            span_label(sp)
        );
        let style = match sp.kind {
            SpanKind::Tool => t.accent,
            SpanKind::Agent => t.title,
            _ => t.text,
        };
        let status = match sp.status {
            crate::model::SpanStatus::Error => TSpan::styled("✗", t.error),
            _ => TSpan::raw(" "),
        };
        let bar_style = match sp.kind {
            SpanKind::Tool => t.bar_tool,
            SpanKind::Llm => t.bar_llm,
            _ => t.bar,
        };
        let glyph = match flags.own.worst_open() {
            Some(sev) => TSpan::styled(sev_glyph(sev), t.severity(sev)),
            None if flags.own.any() => TSpan::styled("✓", t.dim),
            None => TSpan::raw(" "),
        };
        let mut first = vec![glyph, status, TSpan::styled(label, style)];
        if folded {
            first.push(TSpan::styled(
                format!("  (+{})", short_count(u64::from(tree.descendants))),
                t.dim,
            ));
            if flags.hidden.worst_open().is_some() {
                first.push(TSpan::raw(" "));
                first.extend(badges(&flags.hidden.open_counts(), t));
            } else if flags.hidden.any() {
                first.push(TSpan::styled(" ✓", t.dim));
            }
        }
        rows.push(Row::new(vec![
            Cell::from(Line::from(first)),
            Cell::from(sp.duration_ms().map(duration).unwrap_or_default()),
            Cell::from(TSpan::styled(
                waterfall(sp.start_ms, sp.end_ms, rs, re, bar_w),
                bar_style,
            )),
        ]));
    }
    let id = s.run_id.as_deref().unwrap_or("");
    let title = Line::from(vec![
        TSpan::styled(format!(" Run {} ", short_id(id)), t.title),
        TSpan::styled(
            match &s.run {
                Some(r) if !s.folded.is_empty() => {
                    format!("({} of {} spans shown) ", s.list.total, r.span_count)
                }
                _ => format!("({} spans) ", s.list.total),
            },
            t.dim,
        ),
    ]);
    let bar_w16 = bar_w as u16;
    table(
        f,
        t,
        g,
        title,
        &["span", "took", "timeline"],
        &[
            Constraint::Fill(1),
            Constraint::Length(7),
            Constraint::Length(bar_w16),
        ],
        rows,
        visible_sel(s.list.sel, s.list.top, h),
        empty_note(s.list.loaded, s.list.total, "This run has no spans."),
    );
    if let Some(r) = &s.run {
        let title =
            crate::sanitize::line(r.run.title.as_deref().unwrap_or("(untitled)")).into_owned();
        let agent = r.run.agent.map(|a| a.as_str()).unwrap_or("?");
        // Badges (open findings) and skills first: they must survive a narrow screen.
        let mut second = badges(&r.findings, t);
        if second.is_empty() {
            second.push(TSpan::styled("no open findings", t.dim));
        }
        second.push(TSpan::styled(" · ", t.dim));
        for (id, changed) in s.skills.iter().take(3) {
            second.push(TSpan::styled(
                format!("skill {}", crate::sanitize::line(id)),
                t.accent,
            ));
            if *changed {
                second.push(TSpan::styled(" ⚠ changed", t.high));
            }
            second.push(TSpan::styled(" · ", t.dim));
        }
        second.push(TSpan::styled(
            format!(
                "{} · {} · {} spans · {} tools · {}↑ {}↓ tokens{} · {} ",
                r.run
                    .started_ms
                    .map(|m| time(m, app.utc_offset_s))
                    .unwrap_or_default(),
                r.run
                    .started_ms
                    .zip(r.run.ended_ms)
                    .map(|(a, b)| duration(b - a))
                    .unwrap_or_default(),
                r.span_count,
                r.tool_count,
                short_count(r.input_tokens),
                short_count(r.output_tokens),
                run_cost(r),
                crate::sanitize::line(&r.models.join(", ")),
            ),
            t.dim,
        ));
        let lines = vec![
            Line::from(vec![
                TSpan::styled(format!("{agent} "), t.accent),
                TSpan::styled(title, t.title),
            ]),
            Line::from(second),
        ];
        f.render_widget(Paragraph::new(lines), g.summary);
    }
}

/// ` · $1.23 (subagents $0.45)` for the header, or with the agent's own
/// figure ` · $1.30 (agent's figure; priced $1.23) (subagents $0.45)`;
/// empty when the run made no priced or unpriced call and reported no cost
/// (or is not priced yet).
fn run_cost(r: &crate::store::RunRow) -> String {
    let Some(c) = &r.cost else {
        return String::new();
    };
    if c.total().is_empty() && c.reported.is_none() {
        return String::new();
    }
    let subs = if c.subagents.is_empty() {
        String::new()
    } else {
        format!(" (subagents {})", c.subagents.short())
    };
    crate::sanitize::line(&format!(" · {}{subs}", c.long())).into_owned()
}
