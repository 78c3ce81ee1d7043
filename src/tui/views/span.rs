//! The Span view: one span's header (with the skills recognised in it), the
//! findings on it grouped as in Findings (the selected one, `▶`, takes the
//! triage keys; `J`/`K` move), then its input, output, text and attributes,
//! with redaction markers highlighted and each finding's evidence highlighted
//! where it occurs. Long fields are cut at [`FIELD_CAP`] bytes for display
//! (the store keeps them whole).

use super::findings::{skill_short, status_short};
use super::{block, App};
use crate::tui::group::FindingGroup;
use crate::tui::layout::{inner, Regions};
use crate::tui::theme::Theme;
use crate::tui::widgets::{
    duration, evidence_needle, fit, highlight, highlight_markers, kind_mark, sev_label, time,
};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span as TSpan};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// Most bytes of one field drawn.
pub const FIELD_CAP: usize = 64 * 1024;

pub(super) fn draw(f: &mut Frame<'_>, app: &App, g: &Regions) {
    let t = &app.theme;
    let s = &app.span;
    let title = match &s.span {
        Some(sp) => format!(
            " {} {} {} ",
            kind_mark(sp.kind),
            sp.kind.as_str(),
            crate::sanitize::line(&sp.name)
        ),
        None => " Span ".into(),
    };
    f.render_widget(block(t, Line::styled(title, t.title)), g.body);
    let area = inner(g.body);
    let lines = match &s.span {
        Some(_) => lines(app),
        None if s.loaded => vec![Line::styled("This span is no longer in the store.", t.dim)],
        None => vec![Line::styled("loading…", t.dim)],
    };
    let scroll = s.scroll.min(lines.len().saturating_sub(1));
    let visible: Vec<Line<'static>> = lines
        .into_iter()
        .skip(scroll)
        .take(area.height as usize * 2 + 1)
        .collect();
    f.render_widget(Paragraph::new(visible).wrap(Wrap { trim: false }), area);
}

/// The style evidence found in the span is drawn in.
fn matched(t: &Theme) -> Style {
    t.accent.add_modifier(Modifier::REVERSED)
}

/// The first line (of [`lines`]) holding highlighted evidence.
pub fn first_match(app: &App) -> Option<usize> {
    let m = matched(&app.theme);
    let first_body = lines_with(app, true).1;
    lines(app)
        .iter()
        .enumerate()
        .skip(first_body)
        .find(|(_, l)| l.spans.iter().any(|s| s.style == m))
        .map(|(i, _)| i)
}

/// The span's detail as lines (sanitised, markers and evidence highlighted).
pub fn lines(app: &App) -> Vec<Line<'static>> {
    lines_with(app, false).0
}

/// The evidence of the span's findings as found in its fields.
fn needles(app: &App, fields: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in &app.span.groups {
        for r in &g.rows {
            let ev = crate::sanitize::line(&r.finding.evidence);
            for f in fields {
                let hay = crate::sanitize::block(f);
                if let Some(n) = evidence_needle(&ev, &hay) {
                    if !out.contains(&n) {
                        out.push(n);
                    }
                    break;
                }
            }
        }
    }
    out
}

/// The lines, and the index of the first line of the span's fields.
fn lines_with(app: &App, count_only: bool) -> (Vec<Line<'static>>, usize) {
    let t = &app.theme;
    let Some(sp) = &app.span.span else {
        return (Vec::new(), 0);
    };
    let mut out = Vec::new();
    let kv = |k: &str, v: String| {
        Line::from(vec![
            TSpan::styled(format!("{k:>9} "), t.dim),
            TSpan::styled(crate::sanitize::line(&v).into_owned(), t.text),
        ])
    };
    out.push(kv("id", sp.id.clone()));
    out.push(kv("run", sp.run_id.clone()));
    if let Some(p) = &sp.parent_id {
        out.push(kv("parent", p.clone()));
    }
    let mut when = sp
        .start_ms
        .map(|m| time(m, app.utc_offset_s))
        .unwrap_or_default();
    if let Some(d) = sp.duration_ms() {
        when.push_str(&format!(" · took {}", duration(d)));
    }
    out.push(kv("when", when));
    out.push(kv("status", sp.status.as_str().to_string()));
    if let Some(m) = &sp.model {
        out.push(kv("model", m.clone()));
    }
    if let Some(tn) = &sp.tool_name {
        out.push(kv("tool", tn.clone()));
    }
    if sp.input_tokens.is_some() || sp.output_tokens.is_some() {
        out.push(kv(
            "tokens",
            format!(
                "{} in · {} out",
                sp.input_tokens.unwrap_or(0),
                sp.output_tokens.unwrap_or(0)
            ),
        ));
    }
    if let Some(c) = crate::pricing::Cost::of_span(&crate::pricing::table(), sp) {
        let u = c.usage();
        let cached = if u.cache_read + u.cache_write > 0 {
            format!(
                " ({} cache read, {} cache write)",
                u.cache_read, u.cache_write
            )
        } else {
            String::new()
        };
        out.push(kv("cost", format!("{}{cached}", c.long())));
    }
    out.push(kv(
        "origin",
        format!("{}:{}", sp.origin.path, sp.origin.line),
    ));
    let mut skills: Vec<String> = app
        .span
        .skills
        .iter()
        .map(|(id, how, conf)| format!("{id} ({how} {:.0}%)", conf * 100.0))
        .collect();
    for g in &app.span.groups {
        for r in &g.rows {
            if let Some(id) = &r.finding.skill_id {
                if !skills.iter().any(|s| s.starts_with(id.as_str())) {
                    skills.push(format!("{id} (active)"));
                }
            }
        }
    }
    if !skills.is_empty() {
        out.push(Line::from(vec![
            TSpan::styled(format!("{:>9} ", "skill"), t.dim),
            TSpan::styled(
                crate::sanitize::line(&skills.join(", ")).into_owned(),
                t.accent,
            ),
        ]));
    }
    if !app.span.groups.is_empty() {
        out.push(Line::raw(""));
        let n: usize = app.span.groups.iter().map(|g| g.rows.len()).sum();
        out.push(Line::from(vec![
            TSpan::styled(format!("Findings on this span ({n})"), t.header),
            TSpan::styled("  (J/K select · c x s r n u triage)", t.dim),
        ]));
        for (i, g) in app.span.groups.iter().enumerate() {
            out.extend(group_lines(g, i == app.span.sel, t));
        }
    }
    let body = out.len();
    if count_only {
        return (Vec::new(), body);
    }
    let fields: Vec<&str> = [&sp.tool_input, &sp.tool_output, &sp.text]
        .into_iter()
        .filter_map(|f| f.as_deref())
        .collect();
    let needles = needles(app, &fields);
    let mut section = |name: &str, text: Option<&str>| {
        let Some(text) = text.filter(|s| !s.is_empty()) else {
            return;
        };
        out.push(Line::raw(""));
        out.push(Line::styled(name.to_string(), t.header));
        let (shown, cut) = cap(text);
        let pretty = pretty_json(shown);
        let body = crate::sanitize::block(pretty.as_deref().unwrap_or(shown)).into_owned();
        for l in body.lines() {
            out.push(Line::from(highlight(
                l,
                &needles,
                t.text,
                t.marker,
                matched(t),
            )));
        }
        if cut > 0 {
            out.push(Line::styled(format!("… {cut} more bytes not shown"), t.dim));
        }
    };
    section("Input", sp.tool_input.as_deref());
    section("Output", sp.tool_output.as_deref());
    section("Text", sp.text.as_deref());
    if !sp.attributes.is_empty() {
        let attrs = serde_json::to_string_pretty(&sp.attributes).unwrap_or_default();
        section("Attributes", Some(&attrs));
    }
    (out, body)
}

/// A group of findings on the span: severity, rules, title, status, skill;
/// then its evidence. The selected group is marked `▶`.
fn group_lines(g: &FindingGroup, selected: bool, t: &Theme) -> Vec<Line<'static>> {
    let f = &g.lead().finding;
    let rules: Vec<String> = g
        .rules()
        .iter()
        .map(|r| crate::sanitize::line(r).into_owned())
        .collect();
    let mut head = vec![
        TSpan::styled(if selected { "▶" } else { " " }, t.key),
        TSpan::styled(sev_label(f.severity), t.severity(f.severity)),
        TSpan::raw(" "),
        TSpan::styled(rules.join(" + "), t.accent),
        TSpan::raw(" "),
        TSpan::styled(crate::sanitize::line(&f.title).into_owned(), t.title),
        TSpan::styled(format!("  [{}]", status_short(g.status())), t.dim),
    ];
    if let Some(s) = g.rows.iter().find_map(|r| r.finding.skill_id.as_deref()) {
        head.push(TSpan::styled(
            format!("  skill {}", skill_short(s)),
            t.accent,
        ));
    }
    let mut v = vec![Line::from(head)];
    let ev = fit(&crate::sanitize::line(&f.evidence), 400);
    let mut l = vec![TSpan::styled("        ", t.dim)];
    l.extend(highlight_markers(&ev, t.text, t.marker));
    v.push(Line::from(l));
    v
}

/// The first [`FIELD_CAP`] bytes (on a char boundary) and how many were cut.
fn cap(s: &str) -> (&str, usize) {
    if s.len() <= FIELD_CAP {
        return (s, 0);
    }
    let mut end = FIELD_CAP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], s.len() - end)
}

/// JSON objects and arrays pretty-printed; anything else as is.
fn pretty_json(s: &str) -> Option<String> {
    let trimmed = s.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(s).ok()?;
    serde_json::to_string_pretty(&v).ok()
}
