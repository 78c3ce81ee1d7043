//! Redaction of one string, and of JSON — structured (span attributes) or encoded
//! inside a string (tool arguments, OTLP message attributes) — walked key by key.
//!
//! A string that looks like a JSON object or array is parsed only when the
//! prefilter says something could be inside (a keyword, a digit run, a
//! remembered secret, a sensitive field name or a JSON escape that could hide
//! one). Inside, every string is redacted (recursively, when it is JSON again),
//! keys name field and header rules, long integers are checked as digit runs,
//! and the result is serialised back to valid JSON — only when something
//! changed, so clean JSON keeps its bytes.

use super::engine::{Cand, Engine, Scan};
use super::key::HashKey;
use super::markers::{marker_ranges, subtract_markers};
use super::memory::{Hit, Memory};
use super::quiet::{self, QuietMemo};
use super::Mode;
use serde_json::Value;

/// How deep JSON-inside-a-string is unwrapped.
const MAX_DEPTH: usize = 6;

/// Most redaction passes over one text (see [`Ctx::settled`]). Of 25,000 generated
/// texts (`idempotence_tests`), 404 changed in a second pass, 21 in a third, none
/// in a fourth.
const MAX_PASSES: usize = 6;

/// One redacted range, relative to the string node at `path`.
#[derive(Debug, Clone)]
pub struct Found {
    pub label: usize,
    pub path: String,
    pub start: usize,
    pub end: usize,
    /// The raw value (kept in memory only, to place nested finds in the outer text).
    pub value: String,
}

/// Borrowed pieces of a `Redactor` for one call.
pub struct Ctx<'a> {
    pub engine: &'a Engine,
    pub memory: &'a mut Memory,
    pub mode: Mode,
    pub key: &'a HashKey,
    pub run_id: &'a str,
    /// Set while walking JSON whose raw text holds no remembered secret (and no escape
    /// that could hide one): its strings need no memory search of their own.
    pub skip_memory: bool,
    /// Short plain texts whose scan was clean (see [`super::quiet`]); `None`
    /// keeps none.
    pub quiet: Option<&'a mut QuietMemo>,
}

fn looks_like_json(s: &str) -> bool {
    matches!(s.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

impl Ctx<'_> {
    /// True when `text` is a plain text whose scan was clean before and the
    /// run's memory holds none of it: nothing in it is redacted (see
    /// [`super::quiet`]; the full path would scan, find no rule, decode
    /// nothing and search the memory alone).
    fn known_quiet(&mut self, text: &str) -> bool {
        if !self.quiet.as_deref().is_some_and(|q| q.contains(text)) {
            return false;
        }
        if self.skip_memory {
            return true;
        }
        let mut mem = Vec::new();
        self.memory.search(self.run_id, text, &mut mem);
        mem.is_empty()
    }

    /// Keeps `text` when it is plain and `scan`, its scan, is clean.
    fn note_quiet(&mut self, text: &str, scan: &Scan) {
        if scan.is_clean() && quiet::plain(text) {
            if let Some(q) = self.quiet.as_deref_mut() {
                q.note(text);
            }
        }
    }

    fn remember(&mut self, text: &str, cands: &[Cand]) {
        for c in cands {
            let v = &text[c.start..c.end];
            if self.engine.rememberable(c.label, v) {
                self.memory.learn(self.run_id, v, c.label);
            }
        }
    }

    /// Plain-text redaction of `text`, as if `prefix` stood before it (for a JSON key that
    /// gives context, e.g. `aws_secret_access_key`). Returns the new text (`None` when
    /// nothing changed) and the merged ranges, relative to `text`.
    fn plain_ranges(&mut self, prefix: &str, text: &str) -> (Option<String>, Vec<Cand>) {
        let engine = self.engine;
        let owned;
        let (hay, off) = if prefix.is_empty() {
            if self.known_quiet(text) {
                return (None, Vec::new());
            }
            (text, 0)
        } else {
            owned = format!("{prefix}{text}");
            (owned.as_str(), prefix.len())
        };
        let scan = engine.scan(hay);
        if prefix.is_empty() {
            self.note_quiet(text, &scan);
        }
        let mut mem: Vec<Hit> = Vec::new();
        if !self.skip_memory {
            self.memory.search(self.run_id, hay, &mut mem);
        }
        let hidden = self.disguised(hay, 0);
        self.finish(hay, off, text, &scan, &mem, hidden)
    }

    /// Rules, memory hits and `hidden` (redactions found by decoding, see
    /// [`Ctx::disguised`]) — `scan`, `mem` and `hidden` over `hay` = prefix + `text` —
    /// applied to `text`.
    fn finish(
        &mut self,
        hay: &str,
        off: usize,
        text: &str,
        scan: &super::engine::Scan,
        mem: &[Hit],
        hidden: Vec<Cand>,
    ) -> (Option<String>, Vec<Cand>) {
        let engine = self.engine;
        let clean = scan.is_clean() && mem.is_empty();
        if clean && hidden.is_empty() {
            return (None, Vec::new());
        }
        let mut cands = if clean {
            Vec::new()
        } else {
            engine.candidates(hay, scan, mem)
        };
        if !hidden.is_empty() {
            cands.extend(if scan.marker {
                subtract_markers(hay, hidden)
            } else {
                hidden
            });
        }
        if off > 0 {
            cands.retain_mut(|c| {
                c.start = c.start.max(off) - off;
                c.end = c.end.saturating_sub(off);
                c.end > c.start
            });
        }
        if cands.is_empty() {
            return (None, Vec::new());
        }
        self.remember(text, &cands);
        let merged = engine.merge(cands);
        (
            Some(engine.replace(text, &merged, self.mode, self.key)),
            merged,
        )
    }

    /// [`Ctx::string`] repeated on its own output until nothing changes: the
    /// redaction of `text` at depth 0. A rule's verdict can depend on bytes another
    /// rule redacts in the same pass (a value running into a URL, a phone number
    /// glued to a card number); the next pass judges them beside a marker instead.
    /// Markers are never redacted again and each pass that changes the text redacts
    /// at least one more character, so the passes end; [`MAX_PASSES`] bounds them.
    /// Finds of later passes are placed in `text` where their value occurs in it.
    /// Remove mode leaves no marker to judge beside: one pass.
    pub fn settled(&mut self, text: &str) -> (Option<String>, Vec<Found>) {
        if self.known_quiet(text) {
            return (None, Vec::new());
        }
        let scan = self.engine.scan(text);
        self.settled_scanned(text, scan)
    }

    /// [`Ctx::settled`] given the prefilter's scan of `text` (made by the caller,
    /// which reads it too).
    pub fn settled_scanned(&mut self, text: &str, scan: Scan) -> (Option<String>, Vec<Found>) {
        let (mut out, mut found) = self.string_scanned(text, 0, scan);
        if self.mode == Mode::Remove {
            return (out, found);
        }
        for _ in 1..MAX_PASSES {
            let Some(cur) = out.as_deref() else { break };
            let (next, more) = self.string(cur, 0);
            let Some(next) = next else { break };
            found.extend(more.into_iter().map(|f| place(text, f)));
            out = Some(next);
        }
        (out, found)
    }

    /// [`Ctx::walk`] repeated on the walked value until nothing changes (see
    /// [`Ctx::settled`]); finds of later passes index the strings as redacted.
    pub fn walk_settled(&mut self, v: &mut Value, found: &mut Vec<Found>) -> bool {
        let mut changed = self.walk(v, &mut String::new(), 0, found);
        if self.mode == Mode::Remove {
            return changed;
        }
        let mut again = changed;
        for _ in 1..MAX_PASSES {
            if !again {
                break;
            }
            again = self.walk(v, &mut String::new(), 0, found);
            changed |= again;
        }
        changed
    }

    /// Redacts one string, unwrapping JSON inside it. Ranges are relative to `text`.
    pub fn string(&mut self, text: &str, depth: usize) -> (Option<String>, Vec<Found>) {
        if self.known_quiet(text) {
            return (None, Vec::new());
        }
        let scan = self.engine.scan(text);
        self.string_scanned(text, depth, scan)
    }

    /// [`Ctx::string`] given the prefilter's scan of `text`.
    fn string_scanned(
        &mut self,
        text: &str,
        depth: usize,
        scan: Scan,
    ) -> (Option<String>, Vec<Found>) {
        self.note_quiet(text, &scan);
        let mut mem = Vec::new();
        if !self.skip_memory {
            self.memory.search(self.run_id, text, &mut mem);
        }
        let learned_before = self.memory.len();
        if looks_like_json(text) && depth < MAX_DEPTH {
            // Parse only when something is there: a sensitive key, an escape that could
            // hide a keyword, a remembered secret, or a rule match in the raw JSON text.
            let (field_key, escape) = (scan.field_key, scan.escape);
            let maybe = field_key
                || escape
                || !mem.is_empty()
                || (!scan.is_clean() && !self.engine.candidates(text, &scan, &[]).is_empty());
            if !maybe {
                // Nothing a rule sees in the raw JSON: only a decoded run can hold a secret.
                let hidden = self.disguised(text, 0);
                if hidden.is_empty() {
                    return (None, Vec::new());
                }
                let (out, ranges) = self.finish(text, 0, text, &scan, &mem, hidden);
                return (out, found_in(text, ranges));
            }
            if let Ok(mut v) = serde_json::from_str::<Value>(text) {
                let mut inner = Vec::new();
                let outer_skip = self.skip_memory;
                let learned = self.memory.len();
                self.skip_memory = outer_skip || (mem.is_empty() && !escape);
                let mut changed = self.walk(&mut v, &mut String::new(), depth + 1, &mut inner);
                if self.skip_memory && !outer_skip && self.memory.len() > learned {
                    // A secret first seen in this document may recur in a string walked
                    // before it, or in one that skipped the memory search: walk again.
                    self.skip_memory = false;
                    // parsed again rather than copied up front: this is rare
                    v = serde_json::from_str(text).unwrap_or(Value::Null);
                    inner.clear();
                    changed = self.walk(&mut v, &mut String::new(), depth + 1, &mut inner);
                }
                self.skip_memory = outer_skip;
                if !changed {
                    // The walk judged every string decoded; the raw text would be
                    // judged again with its escapes (`\n` before an env-style key is
                    // no line start), and differently than the walk judges this
                    // document's redacted form: redacting twice would change it.
                    return (None, Vec::new());
                }
                if let Ok(out) = serde_json::to_string(&v) {
                    let found = inner.into_iter().map(|f| place(text, f)).collect();
                    return (Some(out), found);
                }
            }
        }
        // Reuse the prefilter results unless the JSON walk learned new secrets.
        let (out, ranges) = if self.memory.len() == learned_before {
            let hidden = self.disguised(text, 0);
            self.finish(text, 0, text, &scan, &mem, hidden)
        } else {
            self.plain_ranges("", text)
        };
        (out, found_in(text, ranges))
    }

    /// Redacts every string under `v` in place; true if anything changed.
    pub fn walk(
        &mut self,
        v: &mut Value,
        path: &mut String,
        depth: usize,
        found: &mut Vec<Found>,
    ) -> bool {
        match v {
            Value::String(s) => {
                let (out, f) = self.string(s, depth);
                found.extend(f.into_iter().map(|mut x| {
                    x.path = path.clone();
                    x
                }));
                match out {
                    Some(o) => {
                        *s = o;
                        true
                    }
                    None => false,
                }
            }
            Value::Number(n) => {
                let long = n.as_u64().is_some_and(|u| u >= 100_000_000)
                    || n.as_i64().is_some_and(|i| i <= -100_000_000);
                if !long {
                    return false;
                }
                let s = n.to_string();
                let (out, ranges) = self.plain_ranges("", &s);
                match out {
                    Some(o) => {
                        for c in ranges {
                            found.push(Found {
                                label: c.label,
                                path: path.clone(),
                                start: 0,
                                end: s.len(),
                                value: s[c.start..c.end].to_string(),
                            });
                        }
                        *v = Value::String(o);
                        true
                    }
                    None => false,
                }
            }
            Value::Array(items) => {
                if let [Value::String(name), Value::String(_)] = items.as_slice() {
                    if self.engine.is_header(name) {
                        let label = self.engine.header_label;
                        return self.whole(&mut items[1], label, path, found);
                    }
                }
                let mut changed = false;
                for item in items.iter_mut() {
                    changed |= self.walk(item, path, depth, found);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                let mut renamed: Vec<(String, String)> = Vec::new();
                for (k, val) in map.iter_mut() {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    if let Some(label) = self.engine.sensitive_key(path) {
                        changed |= self.whole(val, label, path, found);
                    } else if let (true, Value::String(s)) = (
                        val.is_string()
                            && (self.engine.has_keyword(k)
                                || digit_context(self.engine, k, s_of(val))),
                        &mut *val,
                    ) {
                        if looks_like_json(s) {
                            changed |= self.walk(val, path, depth, found);
                        } else {
                            let prefix = format!("{k}: ");
                            let (out, ranges) = self.plain_ranges(&prefix, s);
                            if let Some(o) = out {
                                for c in ranges {
                                    found.push(Found {
                                        label: c.label,
                                        path: path.clone(),
                                        start: c.start,
                                        end: c.end,
                                        value: s[c.start..c.end].to_string(),
                                    });
                                }
                                *s = o;
                                changed = true;
                            }
                        }
                    } else {
                        changed |= self.walk(val, path, depth, found);
                    }
                    path.truncate(len);
                    // Keys can hold secrets too (an email used as a map key).
                    let (out, ranges) = self.plain_ranges("", k);
                    if let Some(o) = out {
                        for c in ranges {
                            found.push(Found {
                                label: c.label,
                                path: path.clone(),
                                start: c.start,
                                end: c.end,
                                value: k[c.start..c.end].to_string(),
                            });
                        }
                        renamed.push((k.clone(), o));
                    }
                }
                for (old, new) in renamed {
                    if let Some(val) = map.remove(&old) {
                        map.insert(new, val);
                        changed = true;
                    }
                }
                changed
            }
            Value::Bool(_) | Value::Null => false,
        }
    }

    /// Replaces every string and number under `v` whole (field and header rules).
    /// The marker names the most severe rule that matches inside, else `label`.
    pub fn whole(
        &mut self,
        v: &mut Value,
        label: usize,
        path: &str,
        found: &mut Vec<Found>,
    ) -> bool {
        match v {
            Value::String(s) => {
                if s.trim().is_empty()
                    || super::value::placeholder(s, &self.engine.words)
                    || marker_ranges(s)
                        .first()
                        .is_some_and(|&(a, b)| a == 0 && b == s.len())
                {
                    return false;
                }
                let engine = self.engine;
                let scan = engine.scan(s);
                let cands = if scan.is_clean() {
                    Vec::new()
                } else {
                    engine.candidates(s, &scan, &[])
                };
                let fallback = if engine.is_example(s) {
                    engine.example_label(label)
                } else {
                    label
                };
                let best = cands
                    .iter()
                    .map(|c| c.label)
                    .max_by_key(|&l| (engine.labels[l].severity, std::cmp::Reverse(l)))
                    .unwrap_or(fallback);
                self.memory.learn(self.run_id, s, best);
                // "Bearer abc..." / "Basic abc...": remember the credential alone too.
                if let Some((_, last)) = s.trim().rsplit_once(' ') {
                    self.memory.learn(self.run_id, last, best);
                }
                found.push(Found {
                    label: best,
                    path: path.to_string(),
                    start: 0,
                    end: s.len(),
                    value: s.clone(),
                });
                *s = engine.marker(best, s, self.mode, self.key);
                true
            }
            Value::Number(n) => {
                let s = n.to_string();
                self.memory.learn(self.run_id, &s, label);
                found.push(Found {
                    label,
                    path: path.to_string(),
                    start: 0,
                    end: s.len(),
                    value: s.clone(),
                });
                *v = Value::String(self.engine.marker(label, &s, self.mode, self.key));
                true
            }
            Value::Array(items) => {
                let mut changed = false;
                for item in items {
                    changed |= self.whole(item, label, path, found);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                for (_, item) in map.iter_mut() {
                    changed |= self.whole(item, label, path, found);
                }
                changed
            }
            Value::Bool(_) | Value::Null => false,
        }
    }
}

/// Finds at the merged ranges `ranges` of `text`.
fn s_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// A key that gives a digit rule its context (`card_number`, `cc_num`) over a value
/// with a long digit run: the value is judged with the key before it, as in text
/// (`"card_number": "4…"` holds a card number written without separators).
fn digit_context(engine: &Engine, key: &str, value: &str) -> bool {
    if value.bytes().filter(u8::is_ascii_digit).count() < 12 {
        return false;
    }
    let key = key.to_ascii_lowercase();
    engine.digit_rules.iter().any(|&r| {
        engine.rules[r]
            .context
            .iter()
            .any(|w| key.contains(w.as_str()))
    })
}

fn found_in(text: &str, ranges: Vec<Cand>) -> Vec<Found> {
    ranges
        .into_iter()
        .map(|c| Found {
            label: c.label,
            path: String::new(),
            start: c.start,
            end: c.end,
            value: text[c.start..c.end].to_string(),
        })
        .collect()
}

/// Places a find from inside a JSON-encoded string into the raw outer text: where its
/// value occurs literally, else the whole outer text.
fn place(outer: &str, f: Found) -> Found {
    let (start, end) = memchr::memmem::find(outer.as_bytes(), f.value.as_bytes())
        .filter(|_| !f.value.is_empty())
        .map(|s| (s, s + f.value.len()))
        .unwrap_or((0, outer.len()));
    Found {
        start,
        end,
        path: String::new(),
        ..f
    }
}
