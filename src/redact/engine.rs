//! The matching engine: building it from rules, the prefilter scan, field and
//! header names, merging and replacing. Running the rules on a scanned text is in
//! [`super::run`].
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
use super::markers::{MARKER_HASH, MARKER_MASK};
use super::prefilter::{digit_run_may_be_pii, digit_runs, Keywords};
use super::rules::{PhoneCodes, Rule, Trigger};
use super::run::followed;
use super::validate::Validator;
use super::value::{self, Words};
use super::Mode;
use crate::hash::HashSet;
use crate::model::Severity;
use regex::Regex;

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
    pub(super) hits: Vec<(usize, usize, usize)>,
    /// Rules with at least one keyword occurrence.
    pub(super) triggered: RuleBits,
    pub(super) any_rule: bool,
    /// Runs of 9+ digits (start, end) that a digit rule may match.
    pub(super) digits: Vec<(usize, usize)>,
    pub marker: bool,
    /// A sensitive field or header name occurs as a JSON key.
    pub field_key: bool,
    /// A JSON escape that could hide a keyword occurs.
    pub escape: bool,
}

/// A set of rule indices: the first 256 inline (no allocation per scanned text),
/// more in a vector.
#[derive(Debug, Default)]
pub(super) struct RuleBits {
    inline: [u64; 4],
    more: Vec<u64>,
}

impl RuleBits {
    pub(super) fn insert(&mut self, i: usize) {
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        match self.inline.get_mut(w) {
            Some(x) => *x |= bit,
            None => {
                let k = w - self.inline.len();
                if self.more.len() <= k {
                    self.more.resize(k + 1, 0);
                }
                self.more[k] |= bit;
            }
        }
    }

    pub(super) fn contains(&self, i: usize) -> bool {
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        let x = match self.inline.get(w) {
            Some(x) => *x,
            None => self.more.get(w - self.inline.len()).copied().unwrap_or(0),
        };
        x & bit != 0
    }
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
    pub(super) rule_pats: Vec<Vec<usize>>,
    pub(super) digit_rules: Vec<usize>,
    /// The digit rules' patterns as one set, in `digit_rules` order; built on
    /// first use (see [`Engine::digit_set`]).
    digit_set: std::sync::OnceLock<Option<regex::RegexSet>>,
    /// Every digit rule is a built-in PII rule, so runs no such rule can match
    /// (epoch-ms timestamps, ids) are dropped in the prefilter.
    pub(super) digit_shape_gate: bool,
    always_rules: Vec<usize>,
    pub(super) allow_exact: HashSet<String>,
    pub(super) allow_patterns: Vec<Regex>,
    field_leaves: HashSet<String>,
    field_paths: Vec<String>,
    headers: HashSet<String>,
    pub field_label: usize,
    pub header_label: usize,
    /// Label of canary tokens that detection hands back (`canary_token`).
    pub canary_label: usize,
    /// Labels from here on are the "known test or example value" copies of the
    /// labels before: same name, severity info (see [`Engine::example_label`]).
    example_base: usize,
    /// The word lists values are judged by.
    pub(super) words: Words,
    /// E.164 country codes for the phone validator.
    pub(super) phone: PhoneCodes,
    examples: HashSet<String>,
    example_patterns: Vec<crate::lazyre::LazyRegex>,
}

/// Inputs to [`Engine::new`] besides the rules.
#[derive(Debug, Default)]
pub struct Extras {
    pub allow_exact: Vec<String>,
    pub allow_patterns: Vec<Regex>,
    pub fields: Vec<String>,
    pub headers: Vec<String>,
    pub words: Words,
    pub phone: PhoneCodes,
    /// Known test and example values, exact.
    pub examples: Vec<String>,
    /// Patterns such a value matches entirely (built-in, compiled on first use).
    pub example_patterns: Vec<crate::lazyre::LazyRegex>,
}

mod keys;
pub use keys::norm_key;
use keys::norm_key_cow;

/// Margin searched around a digit run (longer than any digit-rule match).
pub(super) const DIGIT_MARGIN: usize = 48;
/// How far before its keyword a built-in `key = value` rule's match can start
/// (`aws_secret_access_key` for the hit `secret_access_key`, `x-goog-api-key` for `api-key`).
pub(super) const KEY_BACK: usize = 32;
/// Digits a run needs before digit rules run.
const MIN_DIGITS: usize = 9;

impl Engine {
    /// The digit rules as one set (compiled the first time a digit run needs it:
    /// ~8 ms that a trace without candidate numbers never pays).
    pub(super) fn digit_set(&self) -> Option<&regex::RegexSet> {
        self.digit_set
            .get_or_init(|| {
                crate::lazyre::note_compile();
                if self.digit_rules.is_empty() {
                    return None;
                }
                regex::RegexSet::new(self.digit_rules.iter().map(|&i| self.rules[i].pattern())).ok()
            })
            .as_ref()
    }

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
        let canary_label = labels.len();
        labels.push(Label {
            name: "canary_token".into(),
            severity: Severity::Critical,
        });
        let header_label = labels.len();
        labels.push(Label {
            name: "sensitive_header".into(),
            severity: Severity::Medium,
        });
        let example_base = labels.len();
        for i in 0..example_base {
            let name = labels[i].name.clone();
            labels.push(Label {
                name,
                severity: Severity::Info,
            });
        }

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
        let mut field_leaves = HashSet::default();
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
            digit_set: std::sync::OnceLock::new(),
            digit_shape_gate,
            always_rules,
            allow_exact: extras.allow_exact.into_iter().collect(),
            allow_patterns: extras.allow_patterns,
            field_leaves,
            field_paths,
            headers,
            field_label,
            header_label,
            canary_label,
            example_base,
            words: extras.words,
            phone: extras.phone,
            examples: extras.examples.into_iter().collect(),
            example_patterns: extras.example_patterns,
        }
    }

    /// Compiles now the example patterns (rules stay compiled on first use:
    /// most never meet their prefilter's keyword).
    pub fn warm(&self) {
        for p in &self.example_patterns {
            p.get();
        }
        // And every rule with the digit set (a long-lived process only).
        for r in &self.rules {
            r.regex();
        }
        self.digit_set();
    }

    /// True when `value` is a known test or example value (`[values] examples`).
    pub fn is_example(&self, value: &str) -> bool {
        if self.examples.contains(value) || self.example_patterns.iter().any(|p| p.is_match(value))
        {
            return true;
        }
        // Numbers are listed without their separators (`4111 1111 1111 1111`).
        let grouped = value.len() <= 40
            && value.bytes().any(|b| b == b' ' || b == b'-')
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-');
        grouped && self.examples.contains(&value.replace([' ', '-'], ""))
    }

    /// The label a match of `label` gets when its value is a known test or example
    /// value: same name, severity info.
    pub fn example_label(&self, label: usize) -> usize {
        if label < self.example_base {
            self.example_base + label
        } else {
            label
        }
    }

    /// Whether a value found under `label` may be remembered for the run: not a
    /// word-like identifier found by a `key = value` rule (`hunter22`, `csrfToken`),
    /// which would then mask every use of that word.
    pub fn rememberable(&self, label: usize, value: &str) -> bool {
        let rule = label % self.example_base.max(1);
        let assignment = self
            .rules
            .get(rule)
            .is_some_and(|r| matches!(r.validator, Some(Validator::Assignment | Validator::Curl)));
        !(assignment && value::word_like(value))
    }

    /// The prefilter: one keyword pass and one digit-run pass.
    pub fn scan(&self, text: &str) -> Scan {
        let mut s = Scan::default();
        let b = text.as_bytes();
        self.keywords.for_each(b, |p, start, end| {
            let Some(t) = self.targets.get(p) else {
                return true;
            };
            let mut any = false;
            for &r in &t.rules {
                if followed(b, end, &self.rules[r].followed_by) {
                    s.triggered.insert(r);
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
            for &r in &self.always_rules {
                s.triggered.insert(r);
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

    /// The same engine with every rule's `prejudge` off (the regex decides at every
    /// hit), for tests that prove the prejudgement changes no result.
    #[cfg(test)]
    pub fn without_prejudge(mut self) -> Engine {
        for r in &mut self.rules {
            r.prejudge = None;
        }
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
        let n = norm_key_cow(path);
        let n: &str = &n;
        let leaf = n.rsplit('.').next().unwrap_or(n);
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
        self.headers.contains(norm_key_cow(name).as_ref())
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

#[cfg(test)]
mod rule_bits_tests {
    use super::RuleBits;

    #[test]
    fn rule_bits_hold_any_index_inline_or_not() {
        let mut s = RuleBits::default();
        let set = [0usize, 1, 63, 64, 255, 256, 300, 1000];
        for &i in &set {
            s.insert(i);
        }
        for i in 0..1100 {
            assert_eq!(s.contains(i), set.contains(&i), "{i}");
        }
        assert!(!RuleBits::default().contains(5000));
    }
}
