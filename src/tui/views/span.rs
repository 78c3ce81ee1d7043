//! The Span view: one span's header, the findings on it, then its input, output,
//! text and attributes, with redaction markers highlighted. Long fields are cut
//! at [`FIELD_CAP`] bytes for display (the store keeps them whole).

use super::{block, App};
use crate::store::FindingRow;
use crate::tui::layout::{inner, Regions};
use crate::tui::theme::Theme;
use crate::tui::widgets::{duration, highlight_markers, kind_mark, sev_label, time};
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

/// The span's detail as lines (sanitised, markers highlighted).
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(sp) = &app.span.span else {
        return Vec::new();
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
    if !app.span.findings.is_empty() {
        out.push(Line::raw(""));
        out.push(Line::styled(
            format!("Findings on this span ({})", app.span.findings.len()),
            t.header,
        ));
        for fr in &app.span.findings {
            out.extend(finding_lines(fr, t));
        }
    }
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
            out.push(Line::from(highlight_markers(l, t.text, t.marker)));
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
    out
}

fn finding_lines(fr: &FindingRow, t: &Theme) -> Vec<Line<'static>> {
    let f = &fr.finding;
    let mut v = vec![Line::from(vec![
        TSpan::styled(sev_label(f.severity), t.severity(f.severity)),
        TSpan::raw(" "),
        TSpan::styled(crate::sanitize::line(&f.rule_id).into_owned(), t.accent),
        TSpan::raw(" "),
        TSpan::styled(crate::sanitize::line(&f.title).into_owned(), t.title),
        TSpan::styled(format!("  [{}]", fr.status), t.dim),
    ])];
    let ev = crate::sanitize::line(&f.evidence).into_owned();
    let mut l = vec![TSpan::styled("       ", t.dim)];
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
