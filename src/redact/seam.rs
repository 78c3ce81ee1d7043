//! Secrets split across two strings of one span: a token cut in two OTLP
//! attributes, two span events, two messages of a request, or the end of one
//! field and the start of the next. The span's strings are taken in order (the
//! fields `text`, `tool_input`, `tool_output`, then every string of the
//! attributes in the walk's order: keys sorted, arrays in order); each is
//! paired with the one before it and with the last one before it at the same
//! path (the same field of the previous message or event). Each pair is judged
//! on the last [`SIDE`] bytes of one joined to the first [`SIDE`] of the other.
//! A rule match that crosses the seam teaches the known-secret memory the whole
//! value and each of its two pieces (pieces under the memory's 8 bytes are
//! left: they hold less than a piece worth the name), and the span is then
//! planned with that memory, so every piece is redacted where it stands, in
//! this span and later in the run.
//!
//! Out of reach: pieces in two different spans (the first is stored before the
//! second is read; only the later piece is caught, and only when the whole was
//! seen before), and pieces in two strings that are not neighbours.
//!
//! Only keyword rules (tokens, keys, assignments) are judged across a seam; the
//! digit rules (cards, phone numbers) would find numbers in ids set side by side.

use super::engine::Cand;
use super::Redactor;
use crate::hash::HashMap;
use crate::model::Span;
use serde_json::Value;
use std::hash::BuildHasher;

/// Bytes of each side of a seam judged together (the longest keys, a
/// `sk-proj-` key of 164 characters cut in its middle, fit).
pub const SIDE: usize = 160;

/// The last `n` bytes of `s` (fewer, to start on a character).
fn tail(s: &str, n: usize) -> &str {
    let mut at = s.len().saturating_sub(n);
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}

/// The first `n` bytes of `s` (fewer, to end on a character).
fn head(s: &str, n: usize) -> &str {
    let mut at = n.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

/// A byte a token can be cut beside: a seam with anything else on either side
/// (space, quote, bracket, comma) cannot hide one.
fn cuttable(c: Option<u8>) -> bool {
    c.is_some_and(|c| !c.is_ascii_whitespace() && !b"\"'()[]{}<>,;".contains(&c))
}

/// True when `piece` can be the rest of a key cut beside another that matched
/// alone: at least 8 bytes of letters, digits, `_` and `-`, a letter and a digit among them.
fn continues(piece: &str) -> bool {
    let b = piece.as_bytes();
    b.len() >= 8
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_alphabetic)
}

/// The fewest token bytes a seam between two spans must join (the end of one
/// and the start of the other together) to be judged: the shortest keys cut in
/// two, never a word cut at a line's end.
pub const MIN_JOINED: usize = 16;

fn token_byte(c: &u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')
}

/// Token bytes at the end of `a` and the start of `b` together (0 when either
/// side has none).
fn joined_run(a: &str, b: &str) -> usize {
    let left = a.bytes().rev().take_while(token_byte).count();
    let right = b.bytes().take_while(token_byte).count();
    if left == 0 || right == 0 {
        return 0;
    }
    left + right
}

/// The messages of a span's text: a reader that renders several messages or
/// events as `role: text` lines (the OTLP reader: `assistant: … ghp_Tz7Y`
/// then `assistant: On1M…`) makes each line's text a string of its own, so the
/// seam between two messages is judged; any other text is one string.
fn messages<'a>(text: &'a str, out: &mut Vec<(u64, &'a str)>) {
    fn label(line: &str) -> Option<usize> {
        let n = line
            .bytes()
            .take(17)
            .take_while(|c| c.is_ascii_lowercase() || *c == b'_')
            .count();
        (n > 0 && n <= 16 && line[n..].starts_with(": ")).then_some(n + 2)
    }
    let Some(first) = label(text) else {
        out.push((0, text));
        return;
    };
    let b = text.as_bytes();
    let mut start = first;
    for nl in memchr::memchr_iter(b'\n', b) {
        if nl < start {
            continue;
        }
        if let Some(n) = label(&text[nl + 1..]) {
            out.push((0, &text[start..nl]));
            start = nl + 1 + n;
        }
    }
    out.push((0, &text[start..]));
}

/// Every string under `v`, in the walk's order, with a hash of its path (keys
/// joined, array indices left out, so the same field of two items shares one).
fn leaves<'a>(v: &'a Value, path: &mut String, out: &mut Vec<(u64, &'a str)>) {
    match v {
        Value::String(s) => {
            let h = foldhash::fast::FixedState::default().hash_one(path.as_str());
            out.push((h, s));
        }
        Value::Array(items) => items.iter().for_each(|x| leaves(x, path, out)),
        Value::Object(m) => {
            for (k, x) in m {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                leaves(x, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The neighbouring pairs of `strings`: each string with the one before it, and
/// with the last one before it of the same path (two messages, two events).
fn seams<'a>(strings: &[(u64, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut last: HashMap<u64, usize> = HashMap::default();
    let mut out = Vec::new();
    for (i, &(path, s)) in strings.iter().enumerate() {
        if i > 0 {
            out.push((strings[i - 1].1, s));
        }
        if let Some(j) = last.insert(path, i) {
            if j + 1 < i {
                out.push((strings[j].1, s));
            }
        }
    }
    out
}

impl Redactor {
    /// Judges each seam between neighbouring strings of `span` and remembers, for
    /// its run, the values and pieces of every match that crosses one.
    pub(super) fn learn_seams(&mut self, span: &Span) {
        let mut strings: Vec<(u64, &str)> = Vec::new();
        let mut path = String::new();
        self.learn_shell_joins(span);
        if let Some(t) = span.text.as_deref() {
            messages(t, &mut strings);
        }
        for (i, s) in [&span.tool_input, &span.tool_output]
            .into_iter()
            .enumerate()
        {
            if let Some(s) = s.as_deref() {
                strings.push((i as u64 + 1, s));
            }
        }
        for (k, v) in &span.attributes {
            path.clear();
            path.push_str(k);
            leaves(v, &mut path, &mut strings);
        }
        strings.retain(|(_, s)| !s.is_empty());
        if strings.len() < 2 {
            return;
        }
        let mut window = String::new();
        for (a, b) in seams(&strings) {
            self.judge_seam(&span.run_id, a, b, &mut window);
        }
    }

    /// Judges the seam between the end of `a` and the start of `b` and
    /// remembers, for `run`, the value and both pieces of a match across it.
    fn judge_seam(&mut self, run: &str, a: &str, b: &str, window: &mut String) {
        if !cuttable(a.as_bytes().last().copied()) || !cuttable(b.as_bytes().first().copied()) {
            return;
        }
        window.clear();
        window.push_str(tail(a, SIDE));
        let cut = window.len();
        window.push_str(head(b, SIDE));
        for c in self.crossing(window, cut) {
            let value = &window[c.start..c.end];
            if !self.engine.rememberable(c.label, value) {
                continue;
            }
            self.memory.learn(run, value, c.label);
            self.memory.learn(run, &window[c.start..cut], c.label);
            self.memory.learn(run, &window[cut..c.end], c.label);
        }
    }

    /// Judges the seams between consecutive spans of a batch: the same field
    /// (text, tool input, tool output) of the last span before of the same run,
    /// so a token cut across two records read together (two tool-output chunks,
    /// two messages) is learned before either is redacted. Only a seam where a
    /// run of at least [`MIN_JOINED`] token bytes crosses is judged.
    fn learn_cross_seams<'a>(&mut self, spans: impl Iterator<Item = &'a Span>) {
        let mut last: HashMap<(&'a str, usize), &'a str> = HashMap::default();
        let mut window = String::new();
        for s in spans {
            for (i, f) in [&s.text, &s.tool_input, &s.tool_output]
                .into_iter()
                .enumerate()
            {
                let Some(b) = f.as_deref().filter(|b| !b.is_empty()) else {
                    continue;
                };
                let key = (s.run_id.as_str(), i);
                if let Some(a) = last.insert(key, b) {
                    if joined_run(a, b) >= MIN_JOINED {
                        self.judge_seam(&s.run_id, a, b, &mut window);
                    }
                }
            }
        }
    }

    /// Learns the seams of `spans` before any record of their batch is
    /// redacted, so a run's title (the first prompt, redacted before the spans
    /// that follow it) loses the pieces too; false (learning nothing) when seam
    /// learning is off. Spans redacted until [`Redactor::seams_learned`] is
    /// called do not learn them again.
    pub fn learn_seams_ahead<'a>(&mut self, spans: impl Iterator<Item = &'a Span>) -> bool {
        if !self.enabled {
            return false;
        }
        let spans: Vec<&Span> = spans.collect();
        for s in &spans {
            self.learn_seams(s);
        }
        self.learn_cross_seams(spans.into_iter());
        self.seams_ahead = true;
        true
    }

    /// Ends [`Redactor::learn_seams_ahead`]: spans learn their own seams again.
    pub fn seams_learned(&mut self) {
        self.seams_ahead = false;
    }

    /// The keyword rules' matches in `text`.
    pub(super) fn keyword_matches(&self, text: &str) -> Vec<Cand> {
        let engine = &self.engine;
        let mut scan = engine.scan(text);
        if !scan.any_rule {
            return Vec::new();
        }
        scan.digits.clear();
        engine.candidates(text, &scan, &[])
    }

    /// The keyword rules' matches in `window` that cross byte `cut` and are a
    /// secret cut there. A match one side explains alone (`Bearer <token>` ending
    /// at the seam, then `curl/8.5.0`) is a whole secret beside other text: it
    /// counts only when the other side continues it, a run of at least 8 letters,
    /// digits, `_` or `-` holding a letter and a digit (the rest of a cut key).
    fn crossing(&self, window: &str, cut: usize) -> Vec<Cand> {
        let mut cands = self.keyword_matches(window);
        cands.retain(|c| c.start < cut && c.end > cut);
        if cands.is_empty() {
            return cands;
        }
        let left = self.keyword_matches(&window[..cut]);
        let right = self.keyword_matches(&window[cut..]);
        cands.retain(|c| {
            let left_alone = left.iter().any(|l| l.start <= c.start && l.end >= cut);
            let right_alone = right.iter().any(|r| r.start == 0 && r.end >= c.end - cut);
            (!left_alone || continues(&window[cut..c.end]))
                && (!right_alone || continues(&window[c.start..cut]))
        });
        cands
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Origin, Span, SpanKind};
    use crate::redact::{Mode, Redactor};

    const GH: &str = "ghp_R8x2Kq9ZtW4mN7vB3cY6pL1dF5hJ0sGaE2uQ";

    fn span() -> Span {
        Span::new("s", "r", SpanKind::Llm, "chat", Origin::new("f", 1))
    }

    fn redacted(r: &mut Redactor, s: Span) -> String {
        let (red, _) = r.redact_span(s);
        serde_json::to_string(red.get()).unwrap_or_default()
    }

    #[test]
    fn a_token_cut_in_two_attributes_or_fields_is_redacted_in_both() {
        let (a, b) = GH.split_at(17);
        let mut s = span();
        s.attributes.insert("part.1".into(), a.into());
        s.attributes.insert("part.2".into(), b.into());
        let mut r = Redactor::new(Mode::Mask);
        let out = redacted(&mut r, s);
        assert!(!out.contains(&a[4..]) && !out.contains(b), "{out}");
        assert!(out.contains("[REDACTED:"), "{out}");

        let mut s = span();
        s.text = Some(format!("the key is {a}"));
        s.attributes.insert(
            "events".into(),
            serde_json::json!([{"body": format!("{b} and more")}]),
        );
        let out = redacted(&mut Redactor::new(Mode::Mask), s);
        assert!(!out.contains(&a[4..]), "{out}");

        // The same field of two messages, a role between them.
        let mut s = span();
        s.attributes.insert(
            "request.messages".into(),
            serde_json::json!([{"role": "user", "text": format!("use {a}")}, {"role": "user", "text": b}]),
        );
        let out = redacted(&mut Redactor::new(Mode::Mask), s);
        assert!(!out.contains(&a[4..]) && !out.contains(b), "{out}");

        // Later in the run, a bare piece is redacted too.
        let mut s = span();
        s.text = Some(format!("again {b}"));
        let out = redacted(&mut r, s);
        assert!(!out.contains(b), "{out}");
    }

    #[test]
    fn a_whole_secret_beside_other_text_keeps_the_text_and_a_cut_one_loses_both_pieces() {
        let mut s = span();
        let bearer = "Bearer Zx8Cv7Bn6Mq5Wr4Et3Yu2Io1PaSdFgHjKlZxCvBnMqWeRtYu";
        s.attributes.insert("h.authorization".into(), bearer.into());
        s.attributes
            .insert("h.user-agent".into(), "curl/8.5.0".into());
        let out = redacted(&mut Redactor::new(Mode::Mask), s);
        assert!(out.contains("curl/8.5.0"), "{out}");
        // The left half of this key matches alone; the right half is its rest.
        let key = "sk-ant-api03-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHFAA";
        let (a, b) = key.split_at(60);
        let mut s = span();
        s.attributes.insert("part.1".into(), a.into());
        s.attributes.insert("part.2".into(), b.into());
        let out = redacted(&mut Redactor::new(Mode::Mask), s);
        assert!(!out.contains(&a[13..]) && !out.contains(b), "{out}");
    }

    #[test]
    fn two_messages_rendered_as_two_lines_of_one_text_are_a_seam() {
        let (a, b) = GH.split_at(21);
        let mut s = span();
        s.text = Some(format!(
            "user: deploy it\nassistant: the token is {a}\nassistant: {b}, keep it"
        ));
        let out = redacted(&mut Redactor::new(Mode::Mask), s);
        assert!(!out.contains(&a[4..]) && !out.contains(b), "{out}");
        // Lines of a text that is not rendered messages stay one string, and
        // a line's end beside the next label is no seam of prose.
        let mut s = span();
        s.text = Some("assistant: see the docs\nuser: thanks".into());
        let out = redacted(&mut Redactor::new(Mode::Mask), s);
        assert!(!out.contains("[REDACTED:"), "{out}");
    }

    #[test]
    fn a_token_cut_across_two_spans_of_a_batch_is_learned_before_either_is_redacted() {
        let (a, b) = GH.split_at(21);
        let mut one = span();
        one.tool_output = Some(format!("chunk one ends with {a}"));
        let mut two = span();
        two.tool_output = Some(format!("{b} and chunk two goes on"));
        // Another run between them, and a word cut at a line's end, change nothing.
        let mut other = span();
        other.run_id = "other".into();
        other.tool_output = Some("no secret here".into());
        let mut r = Redactor::new(Mode::Mask);
        assert!(r.learn_seams_ahead([&one, &other, &two].into_iter()));
        let first = redacted(&mut r, one);
        let second = redacted(&mut r, two);
        r.seams_learned();
        assert!(!first.contains(&a[4..]), "{first}");
        assert!(!second.contains(b), "{second}");
        let mut x = span();
        x.text = Some("the build went wel".into());
        let mut y = span();
        y.text = Some("l and the tests pass".into());
        let mut r = Redactor::new(Mode::Mask);
        r.learn_seams_ahead([&x, &y].into_iter());
        assert!(!redacted(&mut r, y).contains("[REDACTED:"));
    }

    #[test]
    fn seams_beside_a_space_or_of_unrelated_text_change_nothing() {
        let (a, b) = GH.split_at(17);
        let mut s = span();
        s.attributes.insert("part.1".into(), format!("{a} ").into());
        s.attributes.insert("part.2".into(), b.into());
        s.attributes.insert(
            "x.ids".into(),
            serde_json::json!(["4111111111", "111111", "abc"]),
        );
        let out = redacted(&mut Redactor::new(Mode::Mask), s);
        assert!(!out.contains("[REDACTED:"), "{out}");
    }
}
