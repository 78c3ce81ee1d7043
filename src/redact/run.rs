//! Running the rules on one text, given its prefilter [`Scan`]: keyword rules in
//! windows around their keyword hits (`key = value` rules from each hit), digit rules
//! around the digit runs the scan kept, then validators and allowlists; existing
//! markers are cut out of the result.

use super::engine::{Cand, Engine, Scan, DIGIT_MARGIN, KEY_BACK};
use super::markers::subtract_markers;
use super::memory::Hit;
use super::rules::Trigger;
use super::validate::{Checks, Validator};

impl Engine {
    /// Every range of `text` a rule says to redact, validated, allowlist-filtered and
    /// with existing markers cut out; `memory` hits are added as they are.
    pub fn candidates(&self, text: &str, scan: &Scan, memory: &[Hit]) -> Vec<Cand> {
        let mut out = Vec::new();
        if scan.any_rule {
            for (i, rule) in self.rules.iter().enumerate() {
                if !scan.triggered.contains(i) {
                    continue;
                }
                match rule.window {
                    None => self.run_rule(i, text, 0, text.len(), &mut out),
                    Some(w) => {
                        let pats = &self.rule_pats[i];
                        let fb = &rule.followed_by;
                        let ranges = scan
                            .hits
                            .iter()
                            .filter(|(p, _, e)| {
                                pats.contains(p) && followed(text.as_bytes(), *e, fb)
                            })
                            .map(|&(_, s, e)| (s, e));
                        if rule.trigger == Trigger::Always {
                            self.run_rule(i, text, 0, text.len(), &mut out);
                        } else if rule.builtin && !fb.is_empty() {
                            self.run_at_hits(i, text, ranges, w, &mut out);
                        } else {
                            self.run_windows(i, text, ranges, w, &mut out);
                        }
                    }
                }
            }
        }
        if !scan.digits.is_empty() {
            self.run_digit_windows(text, &scan.digits, &mut out);
        }
        out.extend(memory.iter().map(|h| Cand {
            start: h.start,
            end: h.end,
            label: h.label,
        }));
        if scan.marker && !out.is_empty() {
            out = subtract_markers(text, out);
        }
        out
    }

    /// Digit rules around digit runs: one `RegexSet` pass per merged window says which
    /// (if any) can match there; only those run.
    fn run_digit_windows(&self, text: &str, runs: &[(usize, usize)], out: &mut Vec<Cand>) {
        if runs.is_empty() {
            return;
        }
        let Some(set) = self.digit_set() else { return };
        let mut windows: Vec<(usize, usize)> = Vec::new();
        for &(s, e) in runs {
            let (ws, we) = if self.digit_shape_gate {
                digit_window(text.as_bytes(), s, e)
            } else {
                (s.saturating_sub(DIGIT_MARGIN), e + DIGIT_MARGIN)
            };
            let ws = floor_boundary(text, ws);
            let we = ceil_boundary(text, we);
            match windows.last_mut() {
                Some(last) if ws <= last.1 => last.1 = last.1.max(we),
                _ => windows.push((ws, we)),
            }
        }
        for (ws, we) in windows {
            for k in set.matches(&text[ws..we]).iter() {
                self.run_rule(self.digit_rules[k], text, ws, we, out);
            }
        }
    }

    /// Runs rule `i` in merged windows of `w` bytes around `ranges` (sorted by start).
    fn run_windows(
        &self,
        i: usize,
        text: &str,
        ranges: impl Iterator<Item = (usize, usize)>,
        w: usize,
        out: &mut Vec<Cand>,
    ) {
        let mut cur: Option<(usize, usize)> = None;
        for (s, e) in ranges {
            let ws = s.saturating_sub(w);
            let we = (e + w).min(text.len());
            cur = match cur {
                Some((cs, ce)) if ws <= ce => Some((cs, ce.max(we))),
                Some((cs, ce)) => {
                    self.run_rule(i, text, cs, ce, out);
                    Some((ws, we))
                }
                None => Some((ws, we)),
            };
        }
        if let Some((cs, ce)) = cur {
            self.run_rule(i, text, cs, ce, out);
        }
    }

    /// Rule `i` (a built-in `key = value` rule) at each keyword hit in `hits` (sorted):
    /// every match of such a rule holds its keyword, followed by `=`/`:` (a hit), at
    /// most [`KEY_BACK`] bytes after the match start. So instead of every match in
    /// `w` bytes either side, search from just before each hit up to `w` bytes after
    /// it, and stop at the first match that reaches past the hit.
    fn run_at_hits(
        &self,
        i: usize,
        text: &str,
        hits: impl Iterator<Item = (usize, usize)>,
        w: usize,
        out: &mut Vec<Cand>,
    ) {
        let mut pos = 0;
        let prejudge = self.rules[i].prejudge;
        for (s, e) in hits {
            if e <= pos {
                continue; // inside the previous match
            }
            let ws = s.saturating_sub(KEY_BACK).max(pos);
            let we = (e + w).min(text.len());
            if let Some(end) = prejudge.and_then(|p| p.rejects(text.as_bytes(), e, we)) {
                // The search would find the match at this hit first (an earlier match
                // start is an earlier hit, whose search moved `pos` past it), the
                // validator would reject it, and the search would stop there.
                pos = end;
                continue;
            }
            if let Some(end) = self.run_rule_until(i, text, ws, we, Some(s), out) {
                pos = end;
            }
        }
    }

    /// Runs rule `i` over `text[ws..we]` (the text before `ws` is visible to `\b`).
    fn run_rule(&self, i: usize, text: &str, ws: usize, we: usize, out: &mut Vec<Cand>) {
        self.run_rule_until(i, text, ws, we, None, out);
    }

    /// [`Engine::run_rule`], stopping after the first match that ends past `stop`
    /// (if given). Returns the end of the last match, if any.
    fn run_rule_until(
        &self,
        i: usize,
        text: &str,
        ws: usize,
        we: usize,
        stop: Option<usize>,
        out: &mut Vec<Cand>,
    ) -> Option<usize> {
        let rule = &self.rules[i];
        let regex = rule.regex()?;
        let ws = floor_boundary(text, ws);
        let we = ceil_boundary(text, we);
        let hay = &text[..we];
        let mut pos = ws;
        let mut last = None;
        while pos <= we {
            let Some(mut caps) = regex.captures_at(hay, pos) else {
                break;
            };
            let Some(mut m) = caps.get(0) else { break };
            if m.end() == we && we < text.len() {
                // The window may have cut the match short: redo it on the whole text.
                if let Some(c2) = regex.captures_at(text, m.start()) {
                    if c2.get(0).is_some_and(|m2| m2.start() == m.start()) {
                        caps = c2;
                        m = caps.get(0).unwrap_or(m);
                    }
                }
            }
            let secret = rule
                .secret_groups()
                .iter()
                .find_map(|&g| caps.get(g))
                .map(|g| g.range())
                .unwrap_or(m.range());
            // Whether the value is a known example is asked only of values the
            // validator keeps (most matches in clean text are code it rejects), except
            // for card numbers, whose validator needs it.
            let mut example = rule.validator == Some(Validator::Card)
                && !secret.is_empty()
                && self.is_example(&text[secret.clone()]);
            let checks = Checks {
                rule,
                words: &self.words,
                phone: &self.phone,
                example,
            };
            let keep = !secret.is_empty()
                && rule
                    .validator
                    .is_none_or(|v| v.check(text, m.range(), secret.clone(), checks))
                && !self.allowed(&text[secret.clone()])
                && !self.allowed(m.as_str());
            if keep {
                example = example || self.is_example(&text[secret.clone()]);
                out.push(Cand {
                    start: secret.start,
                    end: secret.end,
                    label: if example { self.example_label(i) } else { i },
                });
            }
            pos = if m.end() > m.start() {
                m.end()
            } else {
                ceil_boundary(text, m.end() + 1)
            };
            last = Some(m.end());
            if stop.is_some_and(|s| m.end() > s) {
                break;
            }
        }
        last
    }

    /// True when `value` is allowlisted (exact, or matching a pattern entirely).
    pub fn allowed(&self, value: &str) -> bool {
        self.allow_exact.contains(value) || self.allow_patterns.iter().any(|p| p.is_match(value))
    }
}

/// A verdict a built-in `key = value` rule takes at a keyword hit before its regex
/// runs (`prejudge` in `rules.toml`): the regex's match at the hit, the validator's
/// verdict on it and where the match ends, read off the bytes after the keyword.
/// `gate_tests` compares it with the regex and validator on generated text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prejudge {
    /// For a pattern `keyword \\?["']?[ \t]*(=|:=|:|=>)[ \t]*(quoted | unquoted)`,
    /// whose unquoted value is 4+ bytes of `[^\s"'\\,;&(){}\[\]<>`]` and ends the match,
    /// with the `assignment` validator: a value that runs into `(`, `[`, `<` or `{` is
    /// code (`token = client.get_token()`), which the validator rejects first.
    CodeValue,
}

impl Prejudge {
    pub const NAMES: &'static str = "code_value";

    pub fn from_name(name: &str) -> Option<Prejudge> {
        (name == "code_value").then_some(Prejudge::CodeValue)
    }

    /// `Some(end of the match)` when the match at the keyword hit ending at `e` is
    /// certainly rejected and ends before `we`; `None` when the regex must decide.
    pub fn rejects(self, b: &[u8], e: usize, we: usize) -> Option<usize> {
        let Prejudge::CodeValue = self;
        let mut p = e;
        if b.get(p) == Some(&b'\\') {
            p += 1;
        }
        if matches!(b.get(p), Some(b'"' | b'\'')) {
            p += 1;
        }
        while matches!(b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        // `=` or `:` alone (`=>`, `:=` and `==` take other paths through the pattern).
        match (b.get(p), b.get(p + 1)) {
            (Some(b'=' | b':'), Some(n)) if !matches!(n, b'=' | b'>') => p += 1,
            _ => return None,
        }
        while matches!(b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        let start = p;
        // The unquoted value: ASCII only (the pattern's `\s` is Unicode-aware).
        while let Some(&c) = b.get(p) {
            let other = !c.is_ascii()
                || matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
                || b"\"'\\,;&(){}[]<>`".contains(&c);
            if other {
                break;
            }
            p += 1;
        }
        let code = matches!(b.get(p), Some(b'(' | b'[' | b'<' | b'{'));
        (p - start >= 4 && code && p < we).then_some(p)
    }
}

/// The window the built-in digit rules need around the run `b[s..e]`: cards and SSNs
/// lie inside the run, a phone starts at most at the `+` or `(` before it, and an IBAN
/// extends the run only through upper-case letters, digits and spaces (its country
/// code and letter groups), at most [`DIGIT_MARGIN`] bytes each way.
fn digit_window(b: &[u8], s: usize, e: usize) -> (usize, usize) {
    let iban = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b' ';
    let left = b[s.saturating_sub(DIGIT_MARGIN)..s]
        .iter()
        .rev()
        .take_while(|c| iban(c))
        .count();
    let right = b[e..(e + DIGIT_MARGIN).min(b.len())]
        .iter()
        .take_while(|c| iban(c))
        .count();
    (s.saturating_sub(left + 2), e + right + 2)
}

/// True when `need` is empty, or one of its bytes follows `at` after at most four
/// quotes, spaces, tabs or backslashes, where any run of padding whitespace (up to 64
/// bytes, as in aligned `.env` or INI columns) may sit after the leading quotes.
pub(super) fn followed(b: &[u8], at: usize, need: &[u8]) -> bool {
    if need.is_empty() {
        return true;
    }
    let rest = b.get(at..).unwrap_or_default();
    // Most hits run on into a word (`tokens`, `password_field`): with no quote, padding
    // or backslash after the keyword, the next byte decides.
    match rest.first() {
        Some(&c) if !matches!(c, b'"' | b'\'' | b'\\') && !c.is_ascii_whitespace() => {
            need.contains(&c)
        }
        _ => followed_past_padding(rest, need),
    }
}

/// [`followed`] on the text after the keyword, `need` not empty, without the
/// next-byte shortcut (tests compare the two).
pub(super) fn followed_past_padding(rest: &[u8], need: &[u8]) -> bool {
    let quotes = rest
        .iter()
        .take(4)
        .take_while(|c| matches!(c, b'"' | b'\'' | b'\\'))
        .count();
    // Then any padding (aligned `.env` / INI columns), then up to two more quotes.
    let spaces = rest[quotes..]
        .iter()
        .take(64)
        .take_while(|c| c.is_ascii_whitespace())
        .count();
    rest[quotes + spaces..]
        .iter()
        .take(5)
        .find(|c| !matches!(c, b'"' | b'\'' | b' ' | b'\t' | b'\\'))
        .is_some_and(|c| need.contains(c))
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}
