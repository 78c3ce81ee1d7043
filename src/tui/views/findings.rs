//! The Findings view: the triage queue, worst first then oldest, one row per
//! action and behaviour (its rules listed), open findings only unless `a`;
//! below, the selected row's detail: what happened, where, the skill, the
//! evidence, what to do about it (the catalogue's help), a chain's steps
//! (`1`–`9` open them), the reason it was set aside and its notes.

use super::{block, empty_note, short_id, table, visible_sel, App};
use crate::model::TriageStatus;
use crate::tui::group::FindingGroup;
use crate::tui::layout::{inner, Regions};
use crate::tui::widgets::{fit, highlight_markers, sev_label, time};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};
use ratatui::Frame;

/// A status in at most 10 cells.
pub(super) fn status_short(s: Option<TriageStatus>) -> &'static str {
    match s {
        Some(TriageStatus::Open) => "open",
        Some(TriageStatus::Confirmed) => "confirmed",
        Some(TriageStatus::FalsePositive) => "false+",
        Some(TriageStatus::Suppressed) => "suppressed",
        None => "mixed",
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

/// The skill column's width: narrow, wide.
const SKILL_W: [u16; 2] = [11, 16];

/// A group's rules for a narrow column: the worst, then `+N`.
fn rules_label(g: &FindingGroup) -> String {
    let rules = g.rules();
    let first = crate::sanitize::line(rules[0]).into_owned();
    match rules.len() {
        1 => first,
        n => format!("{first} +{}", n - 1),
    }
}

/// A skill id shown short: its last segment.
pub(super) fn skill_short(id: &str) -> String {
    crate::sanitize::line(id.rsplit('/').next().unwrap_or(id)).into_owned()
}

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.findings;
    let h = g.list.height as usize;
    let wide = g.list.width >= 120;
    let narrow = g.list.width < 100;
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Length(11),
        Constraint::Length(if wide { 22 } else { 17 }),
        Constraint::Length(SKILL_W[usize::from(wide)]),
        Constraint::Fill(2),
        Constraint::Fill(3),
    ];
    let mut header = vec!["", "sev", "status", "rule", "skill", "title", "evidence"];
    if narrow {
        widths.remove(5);
        header.remove(5);
    }
    // The evidence column's width, to end it with an ellipsis rather than a cut.
    let cols = Layout::horizontal(widths.clone())
        .spacing(1)
        .split(Rect::new(0, 0, g.list.width, 1));
    let ev_w = cols.last().map(|c| c.width as usize).unwrap_or(20);
    let mut rows = Vec::new();
    for i in s.list.top..s.list.top + h {
        let Some(grp) = s.list.get(i) else { break };
        let fr = grp.lead();
        let fi = &fr.finding;
        let status = grp.status();
        let st = match status {
            Some(TriageStatus::Open) => t.accent,
            Some(TriageStatus::Confirmed) => t.error,
            None if grp.any_open() => t.accent,
            _ => t.dim,
        };
        let noted = grp.rows.iter().any(|r| !r.notes.is_empty());
        let mark = if s.marks.covers(grp) { "●" } else { " " };
        let skill = fi
            .skill_id
            .as_deref()
            .or_else(|| grp.rows.iter().find_map(|r| r.finding.skill_id.as_deref()))
            .map(|k| fit(&skill_short(k), usize::from(SKILL_W[usize::from(wide)])))
            .unwrap_or_default();
        let ev = fit(&crate::sanitize::line(&fi.evidence), ev_w);
        let mut cells = vec![
            Cell::from(TSpan::styled(mark, t.accent)),
            Cell::from(TSpan::styled(
                sev_label(fi.severity),
                t.severity(fi.severity),
            )),
            Cell::from(Line::from(vec![
                TSpan::styled(status_short(status), st),
                TSpan::styled(if noted { "✎" } else { " " }, t.dim),
            ])),
            Cell::from(rules_label(grp)),
            Cell::from(TSpan::styled(skill, t.accent)),
            Cell::from(guard_title(fr)),
            Cell::from(Line::from(highlight_markers(&ev, t.dim, t.marker))),
        ];
        if narrow {
            cells.remove(5);
        }
        rows.push(Row::new(cells));
    }
    let mut title = vec![
        TSpan::styled(format!(" Findings ({})", s.list.total), t.title),
        TSpan::styled(
            if s.hide_triaged && s.filter.query.status.is_none() {
                format!(" · open · {} triaged hidden (a)", s.hidden)
            } else {
                " · all statuses".to_string()
            },
            t.dim,
        ),
        TSpan::styled(format!("{} ", s.filter.title()), t.dim),
    ];
    if !s.marks.is_empty() {
        title.push(TSpan::styled(format!(" {} ", s.marks.label()), t.loud));
    }
    let empty = if s.hide_triaged && s.hidden > 0 && s.filter.text.is_empty() {
        "Nothing left to triage. Press a to see the triaged findings."
    } else {
        "No findings match. Press f to change the filter (Esc clears it)."
    };
    table(
        f,
        t,
        g,
        Line::from(title),
        &header,
        &widths,
        rows,
        visible_sel(s.list.sel, s.list.top, h),
        empty_note(s.list.loaded, s.list.total, empty),
    );
    if g.detail.height > 2 {
        detail(f, app, g);
    }
}

fn detail(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let Some(grp) = app.findings.list.selected() else {
        f.render_widget(block(t, Line::raw("")), g.detail);
        return;
    };
    let fr = grp.lead();
    let fi = &fr.finding;
    let b = block(
        t,
        Line::styled(
            format!(
                " #{} · {} · confidence {:.0}%{}{} · J/K scroll ",
                fr.id,
                status_short(grp.status()),
                fi.confidence * 100.0,
                if grp.rows.len() > 1 {
                    format!(" · {} findings about this action", grp.rows.len())
                } else {
                    String::new()
                },
                fr.guard
                    .map(|d| format!(" · guard {d} the call"))
                    .unwrap_or_default()
            ),
            t.dim,
        ),
    );
    let steps = app
        .findings
        .steps
        .as_ref()
        .filter(|(id, _)| *id == fr.id)
        .map(|(_, s)| s.as_slice());
    let lines = detail_lines(app, grp, steps);
    let area = inner(g.detail);
    f.render_widget(b, g.detail);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .scroll((app.findings.detail_scroll, 0)),
        area,
    );
}

/// A labelled line: `label` in the accent style, then `text`.
fn labelled(app: &App, label: &str, text: Vec<TSpan<'static>>) -> Line<'static> {
    let mut l = vec![TSpan::styled(format!("{label:>9} "), app.theme.dim)];
    l.extend(text);
    Line::from(l)
}

/// The detail pane's lines for a group (sanitised, markers highlighted).
pub(super) fn detail_lines(
    app: &App,
    grp: &FindingGroup,
    steps: Option<&[crate::tui::data::Step]>,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let fr = grp.lead();
    let fi = &fr.finding;
    let text = |s: &str| TSpan::styled(crate::sanitize::line(s).into_owned(), t.text);
    let mut lines = vec![Line::from(highlight_markers(
        &crate::sanitize::line(&fi.message),
        t.text,
        t.marker,
    ))];
    if grp.rows.len() > 1 {
        let mut l = Vec::new();
        for (i, rule) in grp.rules().into_iter().enumerate() {
            let of: Vec<&crate::store::FindingRow> = grp
                .rows
                .iter()
                .filter(|r| r.finding.rule_id == rule)
                .collect();
            if i > 0 {
                l.push(TSpan::styled(" · ", t.dim));
            }
            let sev = of[0].finding.severity;
            l.push(TSpan::styled(
                crate::sanitize::line(rule).into_owned(),
                t.severity(sev),
            ));
            let ids: Vec<String> = of.iter().map(|r| format!("#{}", r.id)).collect();
            l.push(TSpan::styled(format!(" {sev} {}", ids.join(" ")), t.dim));
        }
        lines.push(labelled(app, "rules", l));
    }
    let mut where_ = format!("run {}", short_id(&fi.run_id));
    if let Some(sp) = fi.span_ids.first() {
        where_.push_str(&format!(" · span {}", short_id(sp)));
    }
    if let Some(o) = &fi.origin {
        let file = o.path.rsplit('/').next().unwrap_or(&o.path);
        where_.push_str(&format!(" · {}:{}", crate::sanitize::line(file), o.line));
    }
    if let Some(ts) = fi.ts_ms {
        where_.push_str(&format!(" · {}", time(ts, app.utc_offset_s)));
    }
    let mut at = vec![TSpan::styled(where_, t.dim)];
    if let Some(skill) = grp.rows.iter().find_map(|r| r.finding.skill_id.as_deref()) {
        at.push(TSpan::styled(
            format!(" · skill {}", crate::sanitize::line(skill)),
            t.accent,
        ));
    }
    lines.push(labelled(app, "where", at));
    decisions(app, grp, &mut lines);
    if let Some(rule) = crate::detect::rules::rule(&fi.rule_id) {
        lines.push(labelled(app, "what to do", vec![text(&rule.help)]));
    }
    if fi.span_ids.len() > 1 {
        lines.push(labelled(
            app,
            "steps",
            vec![TSpan::styled(
                format!("{} (1-9 opens one)", fi.span_ids.len()),
                t.dim,
            )],
        ));
        for (i, sid) in fi.span_ids.iter().enumerate().take(9) {
            let label = steps
                .and_then(|s| s.iter().find(|(id, _)| id == sid))
                .map(|(_, l)| {
                    l.clone()
                        .unwrap_or_else(|| "(span not in the store)".into())
                })
                .unwrap_or_else(|| crate::sanitize::line(sid).into_owned());
            lines.push(Line::from(vec![
                TSpan::styled(format!("{:>9} ", i + 1), t.key),
                TSpan::styled(crate::sanitize::line(&label).into_owned(), t.text),
            ]));
        }
    }
    if !fi.evidence.is_empty() {
        lines.push(labelled(
            app,
            "evidence",
            highlight_markers(&crate::sanitize::line(&fi.evidence), t.text, t.marker),
        ));
    }
    lines
}

/// The reason a group was set aside (who, when) and its notes, each signed.
fn decisions(app: &App, grp: &FindingGroup, lines: &mut Vec<Line<'static>>) {
    let t = &app.theme;
    let text = |s: &str| TSpan::styled(crate::sanitize::line(s).into_owned(), t.text);
    for r in &grp.rows {
        if let Some(reason) = r.reason.as_deref().filter(|x| !x.is_empty()) {
            let by = r
                .triaged_by
                .as_deref()
                .map(|b| format!(" by {}", crate::sanitize::line(b)))
                .unwrap_or_default();
            let at = r
                .triaged_ms
                .map(|m| format!(" {}", time(m, app.utc_offset_s)))
                .unwrap_or_default();
            lines.push(labelled(
                app,
                "reason",
                vec![
                    TSpan::styled(format!("{}{by}{at}: ", r.status), t.dim),
                    text(reason),
                ],
            ));
            break;
        }
    }
    let mut seen = Vec::new();
    for r in &grp.rows {
        for n in &r.notes {
            if seen.contains(&(n.author.as_str(), n.ts_ms, n.text.as_str())) {
                continue;
            }
            seen.push((n.author.as_str(), n.ts_ms, n.text.as_str()));
            let who = if n.author.is_empty() { "?" } else { &n.author };
            lines.push(labelled(
                app,
                "✎ note",
                vec![
                    TSpan::styled(
                        format!(
                            "{} {}: ",
                            crate::sanitize::line(who),
                            time(n.ts_ms, app.utc_offset_s)
                        ),
                        t.accent,
                    ),
                    text(&n.text),
                ],
            ));
        }
    }
}
