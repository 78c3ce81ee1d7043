//! Prompt injection in tool output (PINJ-TRACE-001), judged by what the text
//! does: instructions aimed at the model (overrides, new instructions,
//! role-play, secrecy from the user, words addressed to the AI, fake chat
//! turns) in nine languages, after [`textnorm`](super::textnorm) has undone
//! disguises; weighed with demands (an action on a credential, a shell or an
//! outside host), hidden carriers and evasion; held to low when the text only
//! talks about injection. Also invisible Unicode tag text, bidi overrides and
//! markdown images that carry data to a host.
//!
//! [`scan`] returns the hits and, for PINJ-TRACE-002, the targets the
//! instructions name (hosts, files) and whether the injection is strong (medium
//! or above) or only talked about (then only an action on those targets
//! counts as following it).

mod judge;
pub mod memo;
mod prefilter;
pub mod rules;

use super::hit::{clip, Hit};
use super::network::{classify, host_of, HostClass};
use super::rules::id;
use super::taxonomy::Taxonomy;
use super::textnorm;
use crate::model::Severity;

pub use rules::Rules;

/// Text longer than this is scanned only in its first part (tool outputs can be huge).
const MAX_SCAN: usize = 512 * 1024;

fn prefix(text: &str) -> &str {
    if text.len() <= MAX_SCAN {
        return text;
    }
    let mut end = MAX_SCAN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What injection scanning found in one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    pub hits: Vec<Hit>,
    /// Hosts and files the injected instructions name (lowercase).
    pub targets: Vec<String>,
    /// At least one hit at medium or above: any risky step that follows is
    /// PINJ-TRACE-002. Otherwise only a step on one of `targets` is.
    pub strong: bool,
}

/// Injection hits in a tool output.
pub fn scan(text: &str, tax: &Taxonomy) -> Scan {
    let text = prefix(text);
    let rules = &tax.injection;
    let mut out = Scan::default();
    let norm = textnorm::normalise(text, &rules.folding);
    // instructions aimed at the model: in the visible text, then in the hidden tag text
    let gate = rules.gate(&norm.text);
    let mut best = judge::judge(&norm.text, &gate, false, norm.evasions, rules, tax);
    if norm.hidden.len() >= 4 {
        let g = rules.gate(&norm.hidden);
        if let Some(v) = judge::judge(&norm.hidden, &g, true, norm.evasions, rules, tax) {
            if best.as_ref().is_none_or(|b| v.rank() > b.rank()) {
                best = Some(v);
            }
        }
    }
    // instructions encoded with a plain request to decode and follow them
    for decoded in encoded_instructions(&norm.text, &gate, rules) {
        let g = rules.gate(&decoded);
        if let Some(v) = judge::judge(&decoded, &g, true, norm.evasions, rules, tax) {
            if best.as_ref().is_none_or(|b| v.rank() > b.rank()) {
                best = Some(v);
            }
        }
    }
    if let Some(v) = best {
        out.targets = v.targets.clone();
        out.hits.push(v.hit());
    }
    // invisible Unicode tag characters (they can spell out hidden ASCII); a
    // subdivision flag (🏴 + a region code in tags) is not hidden text
    if norm.evasions.tags && !norm.hidden.is_empty() && !flag_only(text) {
        out.hits.push(
            Hit::new(
                id::PINJ_OUTPUT,
                "invisible Unicode tag characters hide text".into(),
                &format!("hidden text: {}", clip(&norm.hidden, 160)),
            )
            .key(&format!("tags|{}", clip(&norm.hidden, 120))),
        );
    }
    // bidi overrides (E2 80 AA..AE, E2 81 A6..A9); embeddings and isolates
    // around right-to-left letters (Arabic, Hebrew) are ordinary typesetting,
    // overrides (U+202D, U+202E) never are
    if memchr::memchr(0xE2, text.as_bytes()).is_some() {
        let rtl = || {
            text.chars()
                .any(|c| matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}'))
        };
        let found = text
            .char_indices()
            .find(|(_, c)| matches!(*c, '\u{202D}' | '\u{202E}'))
            .or_else(|| {
                text.char_indices()
                    .find(|(_, c)| matches!(*c, '\u{202A}'..='\u{202C}' | '\u{2066}'..='\u{2069}'))
                    .filter(|_| !rtl())
            });
        if let Some((pos, c)) = found {
            out.hits.push(
                Hit::new(
                    id::PINJ_OUTPUT,
                    format!("bidirectional override U+{:04X} reorders text", c as u32),
                    // Raw, so the window is masked with the redaction of the whole
                    // output; every view escapes the control when it shows it.
                    &excerpt(text, pos, pos + c.len_utf8()),
                )
                .key(&format!("bidi|{:x}", c as u32))
                .confidence(0.6),
            );
        }
    }
    // markdown images that beacon data out
    if let Some(h) = image_beacon(&norm.text, rules, tax) {
        out.hits.push(h);
    }
    out.strong = out.hits.iter().any(|h| h.severity >= Severity::Medium);
    // one injected text is one finding: the strongest sign leads, the others
    // are named in its message
    if out.hits.len() > 1 {
        out.hits.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.confidence.total_cmp(&a.confidence))
        });
        let others: Vec<String> = out.hits[1..].iter().map(|h| h.message.clone()).collect();
        out.hits.truncate(1);
        if let Some(h) = out.hits.first_mut() {
            h.message = format!("{}; also: {}", h.message, others.join("; "));
        }
    }
    out
}

/// Bytes after a "decode and follow" request searched for the encoded text.
const ENCODED_WINDOW: usize = 4096;

/// Encoded runs decoded per text, and the longest looked at.
const MAX_RUNS: usize = 8;
const MAX_RUN: usize = 64 * 1024;

/// Text hidden in encodings: every base64 or hex run of 32+ characters that
/// decodes to readable UTF-8 (at most [`MAX_RUNS`]), and, after a request to
/// decode and follow (the aimed signal `encoded`), the ROT13 of what follows.
fn encoded_instructions(text: &str, gate: &rules::Gate, rules: &Rules) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let mut out = Vec::new();
    let readable = |t: &str| {
        let n = t.chars().count();
        let letters = t.chars().filter(|c| c.is_alphabetic()).count();
        n >= 16
            && letters * 2 >= n
            && t.chars()
                .filter(|c| !c.is_control() || c.is_whitespace())
                .count()
                * 10
                >= n * 9
    };
    let runs = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')))
        .filter(|r| r.len() >= 32 && r.len() <= MAX_RUN);
    for run in runs {
        let hexish = run.len() % 2 == 0 && run.bytes().all(|b| b.is_ascii_hexdigit());
        let bytes = if hexish {
            hex::decode(run).ok()
        } else {
            let t = run.trim_end_matches('=');
            STANDARD_NO_PAD
                .decode(t)
                .or_else(|_| URL_SAFE_NO_PAD.decode(t))
                .ok()
        };
        if let Some(s) = bytes.and_then(|b| String::from_utf8(b).ok()) {
            if readable(&s) {
                out.push(s);
                if out.len() >= MAX_RUNS {
                    break;
                }
            }
        }
    }
    let asked = rules
        .aimed
        .iter()
        .enumerate()
        .find(|(i, s)| s.name == "encoded" && gate.may_match(*i))
        .and_then(|(_, s)| s.re.get())
        .and_then(|re| re.find(text));
    if let Some(m) = asked {
        let mut end = (m.end() + ENCODED_WINDOW).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let rot13: String = text[m.end()..end]
            .chars()
            .map(|c| match c {
                'a'..='m' | 'A'..='M' => (c as u8 + 13) as char,
                'n'..='z' | 'N'..='Z' => (c as u8 - 13) as char,
                _ => c,
            })
            .collect();
        out.push(rot13);
    }
    out
}

/// A markdown image whose URL, on a host outside the allowlist, carries data.
fn image_beacon(text: &str, rules: &Rules, tax: &Taxonomy) -> Option<Hit> {
    if !text.contains("![") {
        return None;
    }
    let (re, keys) = (rules.image_exfil.get()?, rules.image_data_keys.get()?);
    for cap in re.captures_iter(text).take(256) {
        let Some(url) = cap.get(1) else { continue };
        let url = url.as_str();
        let Some(host) = host_of(url) else { continue };
        if matches!(
            classify(&host, tax),
            HostClass::Allowed | HostClass::Loopback
        ) {
            continue;
        }
        if keys.is_match(url) || url.contains('{') || url.contains('$') {
            return Some(
                Hit::new(
                    id::PINJ_OUTPUT,
                    format!("markdown image would send data to {host}"),
                    &clip(url, 200),
                )
                .key(&format!("image|{host}")),
            );
        }
    }
    None
}

/// True when every tag character in `text` belongs to an emoji flag sequence
/// (🏴 followed by tag letters and a cancel tag).
fn flag_only(text: &str) -> bool {
    let mut after_flag = false;
    for c in text.chars() {
        match c {
            '\u{1F3F4}' => after_flag = true,
            '\u{E0020}'..='\u{E007E}' if after_flag => {}
            '\u{E007F}' => after_flag = false,
            '\u{E0000}'..='\u{E007F}' => return false,
            _ => after_flag = false,
        }
    }
    true
}

/// Up to 200 characters around `start..end` of `text`.
pub(crate) fn excerpt(text: &str, start: usize, end: usize) -> String {
    let mut s = start.saturating_sub(40).min(text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = (end + 80).min(text.len());
    while !text.is_char_boundary(e) {
        e += 1;
    }
    clip(&text[s..e], 200)
}

#[cfg(test)]
mod tests;
