//! Injection rule data, compiled: the signals of `assets/detect/injection.toml`
//! (per language, extended from the config), the scoring weights, the hidden
//! carriers, the image-beacon patterns and the look-alike table.
//!
//! The gate (one `RegexSet` over every aimed pattern) is compiled on first
//! use, or at load when the config extends the patterns: most tool outputs
//! stop there. Each signal's own regex, used to find where it matched, is
//! compiled on first use; user patterns are checked at load.

use super::prefilter::Prefilter;
use crate::detect::textnorm::Folding;
use crate::detect::DetectError;
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[cfg(test)]
const INJECTION_TOML: &str = include_str!("../../../assets/detect/injection.toml");
/// The gate's prefilter literals of every built-in aimed pattern (as compiled,
/// `\b` made ASCII), derived from the patterns by
/// `prefilter_literals_match_the_patterns` (which rewrites it with
/// `SKILLTRACE_BLESS=1`); empty: the pattern has no usable literal.
const LITERALS_JSON: &str = include_str!("../../../assets/detect/injection_literals.json");

/// Compiled programs may be large (many languages, case-insensitive Unicode).
const SIZE_LIMIT: usize = 64 << 20;

/// Gate patterns compiled one by one before the gate asks each candidate
/// signal's own regex instead: a short-lived process (the command hook)
/// compiles the few patterns its text may match; a long one (an import)
/// would compile most of the ~300 alone and then every signal's regex again
/// for the judge, which is ~3× the compile work of the signals alone.
const GATE_ONE_MAX: usize = 8;

/// How many gate patterns were compiled alone (shared by the workers that
/// share the rules; a clone starts from the count it was cloned at).
#[derive(Debug, Default)]
struct Compiled(std::sync::atomic::AtomicUsize);

impl Compiled {
    fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn add(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clone for Compiled {
    fn clone(&self) -> Compiled {
        Compiled(self.get().into())
    }
}

/// Each regex's lazy DFA cache, per thread that searches with it (the regex
/// crate's default): it is filled with the states the texts seen so far
/// needed and cleared when full. With [`SIZE_LIMIT`] it was never cleared, so
/// it grew with the variety of text seen (heaptrack, a two-worker import:
/// 6.4 MB of states at the 200 MB peak, 9.3 MB at 1 GB). Above the minimum
/// each pattern needs (`every_pattern_gets_a_lazy_dfa_within_its_cache_limit`).
pub const DFA_LIMIT: usize = 2 << 20;

/// Scoring weights and distances (`[score]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Score {
    pub high: i32,
    pub medium: i32,
    pub low: i32,
    pub context: usize,
    pub pair: usize,
    pub talk_window: usize,
    pub demand: i32,
    pub benign_demand: i32,
    pub hidden: i32,
    pub evasion: i32,
    pub code_literal: i32,
}

#[derive(Debug, Default, Deserialize)]
struct SignalFile {
    #[serde(default)]
    weight: i32,
    #[serde(default)]
    aimed: bool,
    /// Patterns per language (`en`, `zh`, …), or `before`/`after` for negation.
    #[serde(flatten)]
    langs: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct CarriersFile {
    patterns: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ImagesFile {
    exfil: String,
    data_keys: String,
}

#[derive(Debug, Default, Deserialize)]
struct NormaliseFile {
    confusables: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectionFile {
    score: Score,
    signals: BTreeMap<String, SignalFile>,
    carriers: CarriersFile,
    images: ImagesFile,
    normalise: NormaliseFile,
}

/// A regex compiled on first use (its syntax was checked at load).
#[derive(Debug, Clone, Default)]
pub struct LazyRegex {
    src: String,
    re: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    fn new(patterns: &[String]) -> LazyRegex {
        let src = patterns
            .iter()
            .map(|p| format!("(?:{})", ascii_boundaries(p)))
            .collect::<Vec<_>>()
            .join("|");
        LazyRegex {
            src,
            re: OnceLock::new(),
        }
    }

    /// The compiled regex; `None` when it has no pattern.
    pub fn get(&self) -> Option<&Regex> {
        if self.src.is_empty() {
            return None;
        }
        self.re
            .get_or_init(|| {
                crate::lazyre::note_compile();
                builder(&self.src).build().ok()
            })
            .as_ref()
    }
}

/// A regex over a text's bytes, compiled on first use: the carriers, whose
/// bounded runs of characters are spelt as byte classes (`injection.toml`
/// says why), which only a bytes regex accepts. Offsets are the text's.
#[derive(Debug, Clone, Default)]
pub struct LazyBytes {
    src: String,
    re: OnceLock<Option<regex::bytes::Regex>>,
}

impl LazyBytes {
    fn new(pattern: &str) -> LazyBytes {
        LazyBytes {
            src: format!("(?:{})", ascii_boundaries(pattern)),
            re: OnceLock::new(),
        }
    }

    /// The compiled regex; `None` when it has no pattern.
    pub fn get(&self) -> Option<&regex::bytes::Regex> {
        if self.src.is_empty() {
            return None;
        }
        self.re
            .get_or_init(|| {
                crate::lazyre::note_compile();
                regex::bytes::RegexBuilder::new(&self.src)
                    .case_insensitive(true)
                    .size_limit(SIZE_LIMIT)
                    .dfa_size_limit(DFA_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// One aimed signal: its name, weight and regex.
#[derive(Debug, Clone)]
pub struct Signal {
    pub name: String,
    pub weight: i32,
    pub re: LazyRegex,
}

/// Every injection rule, compiled.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub score: Score,
    /// Any aimed pattern at all: most texts stop here. Compiled on first use
    /// (~tens of ms for nine languages, which every guard hook process would
    /// pay at start) unless the config added patterns: then at load, so an
    /// error in them stops the load.
    gate: OnceLock<Option<RegexSet>>,
    gate_src: Vec<String>,
    /// Which aimed patterns a text may match, by their literals: text with
    /// none answers the gate without compiling it. Built on the first text
    /// (its literals' JSON and tables cost a command hook ~5M instructions,
    /// which an event with no text to scan never needs).
    prefilter: OnceLock<Prefilter>,
    /// Off only in the tests that prove it changes no verdict.
    no_prefilter: bool,
    /// Each gate pattern alone, compiled on first use (a text with a
    /// candidate literal compiles only its candidates), and its signal.
    gate_one: Vec<OnceLock<Option<Regex>>>,
    gate_signal: Vec<usize>,
    /// Patterns of `gate_one` compiled so far; past [`GATE_ONE_MAX`] the
    /// candidate signals' own regexes answer the gate.
    gate_one_built: Compiled,
    /// [`GATE_ONE_MAX`], but for the tests that compare the two ways.
    gate_one_max: usize,
    pub aimed: Vec<Signal>,
    pub action: LazyRegex,
    pub target: LazyRegex,
    pub discourse: LazyRegex,
    /// Weaker discourse: counts only when the instruction is quoted.
    pub example: LazyRegex,
    /// A condition right after an aimed phrase ("… if you use Docker").
    pub conditional: LazyRegex,
    pub negation_before: LazyRegex,
    pub negation_after: LazyRegex,
    pub negation_cancel: LazyRegex,
    pub negation_breaks: LazyRegex,
    pub carriers: Vec<LazyBytes>,
    pub image_exfil: LazyRegex,
    pub image_data_keys: LazyRegex,
    pub folding: Folding,
}

/// `\b` as an ASCII word boundary: the Unicode one makes the regex engines fall back
/// to their slowest path on non-ASCII text (tool outputs often have some).
fn ascii_boundaries(p: &str) -> String {
    p.replace("\\b", "(?-u:\\b)")
}

fn builder(src: &str) -> RegexBuilder {
    let mut b = RegexBuilder::new(src);
    b.case_insensitive(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_LIMIT);
    b
}

fn data(e: impl std::fmt::Display) -> DetectError {
    DetectError::Data(format!("injection.toml: {e}"))
}

/// Signals whose names the scorer knows for what they are (not aimed).
const ROLES: [&str; 6] = [
    "action",
    "target",
    "discourse",
    "example",
    "negation",
    "conditional",
];

impl Rules {
    /// No rules: detection is off.
    pub fn off() -> Rules {
        Rules::default()
    }

    /// The built-in data, extended by `phrases` (each alone makes a high
    /// finding) and `extra` (signal name → more patterns).
    pub fn load(
        phrases: &[String],
        extra: &BTreeMap<String, Vec<String>>,
    ) -> Result<Rules, DetectError> {
        let mut file: InjectionFile =
            crate::assets::parse("detect/injection.toml").map_err(|e| data(&e))?;
        for (name, pats) in extra {
            let Some(sig) = file.signals.get_mut(name) else {
                return Err(DetectError::Config(format!(
                    "[detection] injection_patterns: unknown signal '{name}' (known: {})",
                    file.signals.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            };
            for p in pats {
                builder(&ascii_boundaries(p)).build().map_err(|e| {
                    DetectError::Config(format!(
                        "[detection] injection_patterns.{name}: '{p}': {}",
                        first_line(&e.to_string())
                    ))
                })?;
            }
            let key = if name == "negation" {
                "before"
            } else {
                "config"
            };
            sig.langs
                .entry(key.to_string())
                .or_default()
                .extend(pats.iter().cloned());
        }
        if !phrases.is_empty() {
            file.signals.insert(
                "phrase".into(),
                SignalFile {
                    weight: file.score.high,
                    aimed: true,
                    langs: BTreeMap::from([("config".to_string(), phrases.to_vec())]),
                },
            );
        }
        let all = |s: &SignalFile| -> Vec<String> { s.langs.values().flatten().cloned().collect() };
        let mut aimed = Vec::new();
        let mut gate_src = Vec::new();
        let mut gate_signal = Vec::new();
        for (name, s) in &file.signals {
            if ROLES.contains(&name.as_str()) {
                continue;
            }
            if !s.aimed {
                return Err(data(format!(
                    "signal '{name}' is neither aimed nor one of {}",
                    ROLES.join(", ")
                )));
            }
            let pats = all(s);
            gate_src.extend(pats.iter().map(|p| ascii_boundaries(p)));
            gate_signal.extend(pats.iter().map(|_| aimed.len()));
            aimed.push(Signal {
                name: name.clone(),
                weight: s.weight,
                re: LazyRegex::new(&pats),
            });
        }
        let gate = OnceLock::new();
        if !phrases.is_empty() || !extra.is_empty() {
            let _ = gate.set(Some(gate_set(&gate_src)?));
        }
        let role = |n: &str, key: Option<&str>| -> LazyRegex {
            let pats: Vec<String> = match (file.signals.get(n), key) {
                (Some(s), Some(k)) => s.langs.get(k).cloned().unwrap_or_default(),
                (Some(s), None) => all(s),
                (None, _) => Vec::new(),
            };
            LazyRegex::new(&pats)
        };
        // Built-in only (checked by `built_in_data_compiles_entirely`): compiled
        // on first use, as most texts have no markdown image.
        let one = |p: &str| -> LazyRegex {
            let pats: Vec<String> = Some(p.to_string())
                .filter(|p| !p.is_empty())
                .into_iter()
                .collect();
            LazyRegex::new(&pats)
        };
        Ok(Rules {
            aimed,
            gate,
            prefilter: OnceLock::new(),
            no_prefilter: false,
            gate_one: gate_src.iter().map(|_| OnceLock::new()).collect(),
            gate_signal,
            gate_one_built: Compiled::default(),
            gate_one_max: GATE_ONE_MAX,
            gate_src,
            action: role("action", None),
            target: role("target", None),
            discourse: role("discourse", None),
            example: role("example", None),
            conditional: role("conditional", None),
            negation_before: role("negation", Some("before")),
            negation_after: role("negation", Some("after")),
            negation_cancel: role("negation", Some("cancel")),
            negation_breaks: role("negation", Some("breaks")),
            carriers: file
                .carriers
                .patterns
                .iter()
                .map(|p| LazyBytes::new(p))
                .collect(),
            image_exfil: one(&file.images.exfil),
            image_data_keys: one(&file.images.data_keys),
            folding: Folding::new(&file.normalise.confusables).map_err(data)?,
            score: file.score,
        })
    }

    /// Compiles now every regex compiled on first use: the gate, the aimed
    /// signals and the judging context, the image regexes. For a long-lived
    /// process (`guard serve`), so that no request pays for a compile; a
    /// short-lived one (the command hook) leaves them lazy, as most texts stop
    /// at the gate and most events never reach it.
    pub fn warm(&self) {
        self.prefilter().warm();
        self.gate.get_or_init(|| gate_set(&self.gate_src).ok());
        for s in &self.aimed {
            s.re.get();
        }
        for r in [
            &self.action,
            &self.target,
            &self.discourse,
            &self.example,
            &self.conditional,
            &self.negation_before,
            &self.negation_after,
            &self.negation_cancel,
            &self.negation_breaks,
        ] {
            r.get();
        }
        for c in &self.carriers {
            c.get();
        }
        self.image_exfil.get();
        self.image_data_keys.get();
    }

    /// The literal prefilter, built on first use. The built-in literals are
    /// checked by `prefilter_literals_match_the_patterns`; were their JSON
    /// unreadable, every pattern's literals would be derived here instead
    /// (slower, the same answers).
    fn prefilter(&self) -> &Prefilter {
        self.prefilter
            .get_or_init(|| Prefilter::new(&self.gate_src, &known_literals().unwrap_or_default()))
    }

    /// Whether some aimed pattern matches `text` (the cheap first question),
    /// and which signals may match it. Patterns whose literals `text` lacks
    /// are not run (nor compiled); the others run as one compiled set when
    /// it is built already (`warm`, or patterns from the config), else each
    /// alone, compiled on first use, until [`GATE_ONE_MAX`] were: then each
    /// candidate signal's regex (which the judge compiles anyway).
    pub fn gate(&self, text: &str) -> Gate {
        if self.gate_src.is_empty() {
            return Gate::default();
        }
        let cand = if self.no_prefilter {
            vec![true; self.gate_src.len()]
        } else {
            self.prefilter().candidates(text)
        };
        let mut signals = vec![false; self.aimed.len()];
        for (p, _) in cand.iter().enumerate().filter(|c| *c.1) {
            signals[self.gate_signal[p]] = true;
        }
        if !signals.contains(&true) {
            return Gate {
                matched: false,
                signals,
            };
        }
        let matched = match self.gate.get() {
            Some(set) => set.as_ref().is_some_and(|g| g.is_match(text)),
            None if self.no_prefilter => self
                .gate
                // The built-in data is checked by `built_in_data_compiles_entirely`.
                .get_or_init(|| {
                    crate::lazyre::note_compile();
                    gate_set(&self.gate_src).ok()
                })
                .as_ref()
                .is_some_and(|g| g.is_match(text)),
            // A signal's regex is its patterns' alternation, and a pattern
            // whose literals the text lacks cannot match (what the prefilter
            // relies on): the same answer as the candidates alone.
            None if self.gate_one_built.get() >= self.gate_one_max => signals
                .iter()
                .enumerate()
                .filter(|s| *s.1)
                .any(|(i, _)| self.aimed[i].re.get().is_some_and(|r| r.is_match(text))),
            None => cand.iter().enumerate().filter(|c| *c.1).any(|(p, _)| {
                self.gate_one[p]
                    .get_or_init(|| {
                        self.gate_one_built.add();
                        builder(&self.gate_src[p]).build().ok()
                    })
                    .as_ref()
                    .is_some_and(|r| r.is_match(text))
            }),
        };
        Gate { matched, signals }
    }

    /// The rules without the literal prefilter (the tests that prove it
    /// changes no verdict).
    #[cfg(test)]
    pub fn without_prefilter(mut self) -> Rules {
        self.no_prefilter = true;
        self
    }

    /// The rules whose gate asks the candidate patterns alone (`true`) or the
    /// candidate signals' regexes (`false`), whatever was compiled before.
    #[cfg(test)]
    pub fn gate_by_pattern(mut self, alone: bool) -> Rules {
        self.gate_one_max = if alone { usize::MAX } else { 0 };
        self
    }

    /// The aimed patterns the prefilter cannot filter (no usable literal).
    #[cfg(test)]
    pub fn unfiltered_patterns(&self) -> Vec<&str> {
        self.prefilter()
            .unfiltered()
            .iter()
            .map(|&p| self.gate_src[p].as_str())
            .collect()
    }

    /// Byte ranges of `text` hidden from a human reader (comments, alt text,
    /// link titles, hidden elements): the first capture group that matched.
    pub fn hidden_ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for c in &self.carriers {
            let Some(re) = c.get() else { continue };
            for caps in re.captures_iter(text.as_bytes()).take(256) {
                if let Some(g) = caps.iter().skip(1).flatten().next() {
                    out.push((g.start(), g.end()));
                }
            }
        }
        out
    }
}

/// The literals of the built-in patterns (see [`LITERALS_JSON`]).
fn known_literals() -> Result<std::collections::HashMap<String, Vec<String>>, DetectError> {
    serde_json::from_str(LITERALS_JSON)
        .map_err(|e| DetectError::Data(format!("injection_literals.json: {e}")))
}

/// What the gate says about one text.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// Some aimed pattern matches.
    pub matched: bool,
    /// Per aimed signal: false when none of its patterns can match.
    signals: Vec<bool>,
}

impl Gate {
    /// True unless aimed signal `i` cannot match the text.
    pub fn may_match(&self, i: usize) -> bool {
        self.signals.get(i).copied().unwrap_or(false)
    }
}

/// The gate: every aimed pattern in one set.
fn gate_set(src: &[String]) -> Result<RegexSet, DetectError> {
    RegexSetBuilder::new(src)
        .case_insensitive(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_LIMIT)
        .build()
        .map_err(|e| {
            DetectError::Config(format!(
                "injection patterns: {}",
                first_line(&e.to_string())
            ))
        })
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("invalid regex")
        .to_string()
}

#[cfg(test)]
mod tests;
