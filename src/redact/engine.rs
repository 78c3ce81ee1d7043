//! The matching engine: prefilter, match, validate, replace.
//!
//! Cost model. One bigram-gated keyword pass over the text finds every rule
//! keyword (plus marker, field-name and JSON-escape literals); one vectorisable
//! pass finds runs of 9+ digits, keeping only runs a digit rule could match
//! (see [`super::prefilter`]). Text with neither costs those two scans and no
//! allocation. A rule whose keyword occurs runs its regex only in a window around
//! each occurrence (256 bytes by default); digit rules run only around digit runs.
//! Every regex is the `regex` crate's, so matching is linear in the window, user
//! rules included.

use super::key::HashKey;
use super::markers::{subtract_markers, MARKER_HASH, MARKER_MASK};
use super::memory::Hit;
use super::prefilter::{digit_run_may_be_pii, digit_runs, Keywords};
use super::rules::{Rule, Trigger};
use super::validate::Validator;
use super::Mode;
use crate::model::Severity;
use regex::Regex;
use std::collections::HashSet;

/// The name and severity recorded for a match.
#[derive(Debug, Clone)]
pub struct Label {
    pub name: String,
    pub severity: Severity,
}

/// A byte range to redact and the label (index into [`Engine::labels`]) that found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cand {
    pub start: usize,
    pub end: usize,
    pub label: usize,
}

/// What a prefilter keyword means (one literal can mean several things).
#[derive(Debug, Clone, Default)]
struct Target {
    /// A rule keyword: these rules may match nearby.
    rules: Vec<usize>,
    /// `[redacted:` / `[hash:`: the text may already hold markers.
    marker: bool,
    /// A sensitive field or header name: when followed by `"` or `\"` (a JSON key),
    /// JSON text must be parsed to apply field rules.
    field_key: bool,
    /// `\u00` / `\/`: JSON escapes can hide keywords; JSON text must be parsed.
    escape: bool,
}

/// The prefilter's verdict on one text.
#[derive(Debug, Default)]
pub struct Scan {
    /// Keyword occurrences: (keyword, start, end), sorted by start.
    hits: Vec<(usize, usize, usize)>,
    /// Rules with at least one keyword occurrence (empty until the first one).
    triggered: Vec<bool>,
    any_rule: bool,
    /// Runs of 9+ digits (start, end) that a digit rule may match.
    digits: Vec<(usize, usize)>,
    pub marker: bool,
    /// A sensitive field or header name occurs as a JSON key.
    pub field_key: bool,
    /// A JSON escape that could hide a keyword occurs.
    pub escape: bool,
}

impl Scan {
    /// True when no rule can match (memory aside).
    pub fn is_clean(&self) -> bool {
        !self.any_rule && self.digits.is_empty()
    }
}

/// Compiled rules plus everything needed to apply them. Immutable; shared.
#[derive(Debug)]
pub struct Engine {
    pub rules: Vec<Rule>,
    pub labels: Vec<Label>,
    keywords: Keywords,
    targets: Vec<Target>,
    /// For each rule, the keywords that trigger it.
    rule_pats: Vec<Vec<usize>>,
    digit_rules: Vec<usize>,
    /// The digit rules' patterns as one set, in `digit_rules` order.
    digit_set: Option<regex::RegexSet>,
    /// Every digit rule is a built-in PII rule, so runs no such rule can match
    /// (epoch-ms timestamps, ids) are dropped in the prefilter.
    digit_shape_gate: bool,
    always_rules: Vec<usize>,
    allow_exact: HashSet<String>,
    allow_patterns: Vec<Regex>,
    field_leaves: HashSet<String>,
    field_paths: Vec<String>,
    headers: HashSet<String>,
    pub field_label: usize,
    pub header_label: usize,
}

/// Inputs to [`Engine::new`] besides the rules.
#[derive(Debug, Default)]
pub struct Extras {
    pub allow_exact: Vec<String>,
    pub allow_patterns: Vec<Regex>,
    pub fields: Vec<String>,
    pub headers: Vec<String>,
}

/// Lower case, `-` as `_`: how field and header names compare.
pub fn norm_key(k: &str) -> String {
    k.trim()
        .chars()
        .map(|c| match c {
            '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Margin searched around a digit run (longer than any digit-rule match).
const DIGIT_MARGIN: usize = 48;
/// How far before its keyword a built-in `key = value` rule's match can start
/// (`aws_secret_access_key` for the hit `secret_access_key`, `x-goog-api-key` for `api-key`).
const KEY_BACK: usize = 32;
/// Digits a run needs before digit rules run.
const MIN_DIGITS: usize = 9;

impl Engine {
    /// Builds the prefilter over `rules` and the extras.
    pub fn new(rules: Vec<Rule>, extras: Extras) -> Engine {
        let mut labels: Vec<Label> = rules
            .iter()
            .map(|r| Label {
                name: r.name.clone(),
                severity: r.severity,
            })
            .collect();
        let field_label = labels.len();
        labels.push(Label {
            name: "sensitive_field".into(),
            severity: Severity::Medium,
        });
        let header_label = labels.len();
        labels.push(Label {
            name: "sensitive_header".into(),
            severity: Severity::Medium,
        });

        // Keywords, deduplicated. Overlapping search reports every keyword, so
        // `token` and `session_token` are both seen where both occur.
        let mut kept: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if let Trigger::Keywords(ks) = &r.trigger {
                for k in ks {
                    match kept.iter_mut().find(|(x, _)| x == k) {
                        Some((_, rs)) => rs.push(i),
                        None => kept.push((k.clone(), vec![i])),
                    }
                }
            }
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut targets: Vec<Target> = Vec::new();
        let mut rule_pats = vec![Vec::new(); rules.len()];
        for (k, mut rs) in kept {
            rs.sort_unstable();
            rs.dedup();
            for &r in &rs {
                rule_pats[r].push(patterns.len());
            }
            patterns.push(k);
            targets.push(Target {
                rules: rs,
                ..Target::default()
            });
        }
        // One literal may serve several purposes (`password` is a keyword and a field name).
        let mut add = |lit: String, set: &dyn Fn(&mut Target)| {
            let i = match patterns.iter().position(|p| *p == lit) {
                Some(i) => i,
                None => {
                    patterns.push(lit);
                    targets.push(Target::default());
                    patterns.len() - 1
                }
            };
            set(&mut targets[i]);
        };
        for m in [MARKER_MASK, MARKER_HASH] {
            add(m.to_ascii_lowercase(), &|t| t.marker = true);
        }
        for e in ["\\u00", "\\/"] {
            add(e.into(), &|t| t.escape = true);
        }
        let mut field_leaves = HashSet::new();
        let mut field_paths = Vec::new();
        for f in &extras.fields {
            let n = norm_key(f);
            if n.contains('.') {
                field_paths.push(n);
            } else if !n.is_empty() {
                field_leaves.insert(n);
            }
        }
        let headers: HashSet<String> = extras.headers.iter().map(|h| norm_key(h)).collect();
        let mut key_names: Vec<String> = field_leaves.iter().cloned().collect();
        key_names.extend(
            field_paths
                .iter()
                .filter_map(|p| p.rsplit('.').next().map(String::from)),
        );
        key_names.extend(headers.iter().cloned());
        key_names.sort_unstable();
        for name in key_names {
            // As a JSON key (followed by `"`, or `\"` in JSON inside a string); names
            // compare with `-` = `_`, so look for both spellings.
            for spelling in [name.clone(), name.replace('_', "-")] {
                if !spelling.is_empty() {
                    add(spelling, &|t| t.field_key = true);
                }
            }
        }
        let keywords = Keywords::new(&patterns);
        let digit_rules: Vec<usize> = (0..rules.len())
            .filter(|&i| rules[i].trigger == Trigger::Digits)
            .collect();
        let digit_set = if digit_rules.is_empty() {
            None
        } else {
            regex::RegexSet::new(digit_rules.iter().map(|&i| rules[i].regex.as_str())).ok()
        };
        let digit_shape_gate = digit_rules.iter().all(|&i| {
            rules[i].builtin
                && matches!(
                    rules[i].validator,
                    Some(Validator::Card | Validator::Ssn | Validator::Iban | Validator::Phone)
                )
        });
        let always_rules = (0..rules.len())
            .filter(|&i| rules[i].trigger == Trigger::Always)
            .collect();
        Engine {
            rules,
            labels,
            keywords,
            targets,
            rule_pats,
            digit_rules,
            digit_set,
            digit_shape_gate,
            always_rules,
            allow_exact: extras.allow_exact.into_iter().collect(),
            allow_patterns: extras.allow_patterns,
            field_leaves,
            field_paths,
            headers,
            field_label,
            header_label,
        }
    }

    /// The prefilter: one keyword pass and one digit-run pass.
    pub fn scan(&self, text: &str) -> Scan {
        let mut s = Scan::default();
        let n = self.rules.len();
        let b = text.as_bytes();
        self.keywords.for_each(b, |p, start, end| {
            let Some(t) = self.targets.get(p) else {
                return true;
            };
            let mut any = false;
            for &r in &t.rules {
                if followed(b, end, &self.rules[r].followed_by) {
                    if s.triggered.is_empty() {
                        s.triggered = vec![false; n];
                    }
                    s.triggered[r] = true;
                    any = true;
                }
            }
            if any {
                s.any_rule = true;
                s.hits.push((p, start, end));
            }
            s.marker |= t.marker;
            s.escape |= t.escape;
            s.field_key |= t.field_key
                && (b.get(end) == Some(&b'"')
                    || (b.get(end) == Some(&b'\\') && b.get(end + 1) == Some(&b'"')));
            true
        });
        s.hits.sort_unstable_by_key(|&(_, start, end)| (start, end));
        if !self.always_rules.is_empty() {
            s.any_rule = true;
            if s.triggered.is_empty() {
                s.triggered = vec![false; n];
            }
            for &r in &self.always_rules {
                s.triggered[r] = true;
            }
        }
        if !self.digit_rules.is_empty() {
            s.digits = digit_runs(b, MIN_DIGITS);
            if self.digit_shape_gate {
                s.digits.retain(|&(rs, re)| digit_run_may_be_pii(b, rs, re));
            }
        }
        s
    }

    /// The same engine with the digit-run shape gate off (every run reaches the rules),
    /// for tests that prove the gate drops nothing.
    #[cfg(test)]
    pub fn without_digit_gate(mut self) -> Engine {
        self.digit_shape_gate = false;
        self
    }

    /// True when `text` holds a rule keyword (used to decide whether a JSON key gives context).
    pub fn has_keyword(&self, text: &str) -> bool {
        self.keywords.any(text.as_bytes(), |p| {
            self.targets.get(p).is_some_and(|t| !t.rules.is_empty())
        })
    }

    /// The label for a whole-value field or header rule on `path` (keys joined by `.`), if any.
    pub fn sensitive_key(&self, path: &str) -> Option<usize> {
        let n = norm_key(path);
        let leaf = n.rsplit('.').next().unwrap_or(&n);
        if self.headers.contains(leaf) {
            return Some(self.header_label);
        }
        if self.field_leaves.contains(leaf) {
            return Some(self.field_label);
        }
        self.field_paths
            .iter()
            .any(|p| n == *p || (n.ends_with(p.as_str()) && n[..n.len() - p.len()].ends_with('.')))
            .then_some(self.field_label)
    }

    /// True when `name` is a sensitive header name (for `["name", "value"]` pairs).
    pub fn is_header(&self, name: &str) -> bool {
        self.headers.contains(&norm_key(name))
    }

    /// Every range of `text` a rule says to redact, validated, allowlist-filtered and
    /// with existing markers cut out; `memory` hits are added as they are.
    pub fn candidates(&self, text: &str, scan: &Scan, memory: &[Hit]) -> Vec<Cand> {
        let mut out = Vec::new();
        if scan.any_rule {
            for (i, rule) in self.rules.iter().enumerate() {
                if scan.triggered.get(i) != Some(&true) {
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
        let Some(set) = &self.digit_set else { return };
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
        for (s, e) in hits {
            if e <= pos {
                continue; // inside the previous match
            }
            let ws = s.saturating_sub(KEY_BACK).max(pos);
            let we = (e + w).min(text.len());
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
        let ws = floor_boundary(text, ws);
        let we = ceil_boundary(text, we);
        let hay = &text[..we];
        let mut pos = ws;
        let mut last = None;
        while pos <= we {
            let Some(mut caps) = rule.regex.captures_at(hay, pos) else {
                break;
            };
            let Some(mut m) = caps.get(0) else { break };
            if m.end() == we && we < text.len() {
                // The window may have cut the match short: redo it on the whole text.
                if let Some(c2) = rule.regex.captures_at(text, m.start()) {
                    if c2.get(0).is_some_and(|m2| m2.start() == m.start()) {
                        caps = c2;
                        m = caps.get(0).unwrap_or(m);
                    }
                }
            }
            let secret = rule
                .secret_groups
                .iter()
                .find_map(|&g| caps.get(g))
                .map(|g| g.range())
                .unwrap_or(m.range());
            let keep = !secret.is_empty()
                && rule
                    .validator
                    .is_none_or(|v| v.check(text, m.range(), secret.clone()))
                && !self.allowed(&text[secret.clone()])
                && !self.allowed(m.as_str());
            if keep {
                out.push(Cand {
                    start: secret.start,
                    end: secret.end,
                    label: i,
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

    /// The better of two labels for one merged range: higher severity, then earlier rule.
    fn better(&self, a: usize, b: usize) -> usize {
        let (sa, sb) = (self.labels[a].severity, self.labels[b].severity);
        if sb > sa || (sb == sa && b < a) {
            b
        } else {
            a
        }
    }

    /// Merges overlapping candidates (the union is redacted; the best label names it).
    pub fn merge(&self, mut cands: Vec<Cand>) -> Vec<Cand> {
        cands.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut out: Vec<Cand> = Vec::with_capacity(cands.len());
        for c in cands {
            match out.last_mut() {
                Some(last) if c.start < last.end => {
                    last.end = last.end.max(c.end);
                    last.label = self.better(last.label, c.label);
                }
                _ => out.push(c),
            }
        }
        out
    }

    /// The text that replaces `value` found by `label`.
    pub fn marker(&self, label: usize, value: &str, mode: Mode, key: &HashKey) -> String {
        let name = self
            .labels
            .get(label)
            .map(|l| l.name.as_str())
            .unwrap_or("secret");
        match mode {
            Mode::Mask => format!("[REDACTED:{name}]"),
            Mode::Hash => format!("[HASH:{name}:{}]", key.tag(value.as_bytes())),
            Mode::Remove => String::new(),
        }
    }

    /// Replaces the merged ranges `spans` of `text`.
    pub fn replace(&self, text: &str, spans: &[Cand], mode: Mode, key: &HashKey) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for c in spans {
            out.push_str(&text[last..c.start]);
            out.push_str(&self.marker(c.label, &text[c.start..c.end], mode, key));
            last = c.end;
        }
        out.push_str(&text[last..]);
        out
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
fn followed(b: &[u8], at: usize, need: &[u8]) -> bool {
    if need.is_empty() {
        return true;
    }
    let rest = b.get(at..).unwrap_or_default();
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
