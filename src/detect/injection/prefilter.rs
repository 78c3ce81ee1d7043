//! The injection gate's literal prefilter: for every aimed pattern, a set of
//! literals one of which each of its matches contains (derived from the
//! pattern's syntax, up to Unicode simple case folding, as the regex engine
//! matches it), searched all at once with Aho-Corasick. A text holding none of
//! a pattern's literals cannot match it, so clean tool output is answered
//! without compiling a regex, and text with a candidate compiles only the
//! patterns (and signals) whose literals it holds.
//!
//! The literals are derived when the rules load, so a pattern added from the
//! config gets its own; a pattern with no usable literal is always a candidate.
//!
//! The automaton is built on first need: a text shorter than [`SHORT`] is
//! searched literal by literal instead (a short-lived process, the command
//! hook, mostly sees short texts, and building the automaton costs more than
//! hundreds of such searches); once built (or warmed, `guard serve`), every
//! text uses it.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

/// Texts shorter than this (bytes) are searched literal by literal while the
/// automaton is not built yet.
const SHORT: usize = 4096;

/// Strings a literal set may hold (wider sets give up on the part).
const MAX_SET: usize = 64;
/// Characters a class may hold and still be enumerated, and the distinct
/// characters (after folding) it may stand for.
const MAX_CLASS_CHARS: u32 = 32;
const MAX_CLASS_KINDS: usize = 8;
/// Largest bounded repetition expanded into literals.
const MAX_REPEAT: u32 = 3;

/// Bytes of a literal searched for: any part of a required literal is
/// required too, and a shorter automaton is built faster (every short-lived
/// process builds it).
const SEARCHED: usize = 6;

/// The first [`SEARCHED`] bytes of `l` (whole characters, at least one).
fn cut(l: &str) -> &str {
    let mut end = SEARCHED.min(l.len());
    while !l.is_char_boundary(end) {
        end += 1;
    }
    &l[..end]
}

/// Which patterns a text may match.
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    /// The literals, ASCII lower case (the search is ASCII case-insensitive).
    lits: Vec<String>,
    /// Their automaton, built on first need; `None` inside: it could not be
    /// built, and every pattern is a candidate.
    ac: OnceLock<Option<AhoCorasick>>,
    /// Literal → the patterns that need it.
    owners: Vec<Vec<usize>>,
    /// Patterns with no usable literal: always candidates.
    always: Vec<usize>,
    /// Every character folding-equivalent to a literal's character → the
    /// canonical one the literals are written in.
    fold: HashMap<char, char>,
    patterns: usize,
}

/// The literal set of one pattern (compiled case-insensitively), in folded
/// form; `None` when it has no usable literal.
pub fn derive(pattern: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(true)
        .build()
        .parse(pattern)
        .ok()?;
    usable(info(&hir, &mut Folder::default()).req)
}

impl Prefilter {
    /// The prefilter of `patterns`, each compiled case-insensitively. Literal
    /// sets found in `known` (by pattern; empty: no usable literal) are taken
    /// as they are (the built-in ones, derived once at test time: deriving
    /// them costs more than a short-lived process saves); the others are
    /// derived here.
    pub fn new(patterns: &[String], known: &HashMap<String, Vec<String>>) -> Prefilter {
        let mut folder = Folder::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut lits: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (p, src) in patterns.iter().enumerate() {
            let set = match known.get(src) {
                Some(k) => usable(Some(k.clone())),
                None => derive(src),
            };
            let Some(set) = set else {
                always.push(p);
                continue;
            };
            for l in set.iter().map(|l| cut(l)) {
                for c in l.chars() {
                    folder.canon(c);
                }
                let i = *index.entry(l.to_string()).or_insert_with(|| {
                    lits.push(l.to_string());
                    owners.push(Vec::new());
                    owners.len() - 1
                });
                if owners[i].last() != Some(&p) {
                    owners[i].push(p);
                }
            }
        }
        Prefilter {
            lits: lits.iter().map(|l| l.to_ascii_lowercase()).collect(),
            ac: OnceLock::new(),
            owners,
            always,
            fold: folder.map,
            patterns: patterns.len(),
        }
    }

    /// Patterns without a usable literal (always candidates).
    #[cfg(test)]
    pub fn unfiltered(&self) -> &[usize] {
        &self.always
    }

    /// Builds the automaton now (a long-lived process, before its first text).
    pub fn warm(&self) {
        self.automaton();
    }

    fn automaton(&self) -> Option<&AhoCorasick> {
        self.ac
            .get_or_init(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(&self.lits)
                    .ok()
            })
            .as_ref()
    }

    /// Which patterns `text` may match: `out[i]` false means pattern `i`
    /// cannot match it.
    pub fn candidates(&self, text: &str) -> Vec<bool> {
        let by_automaton = self.ac.get().is_some() || text.len() >= SHORT;
        self.candidates_by(text, by_automaton)
    }

    /// [`Prefilter::candidates`], searching with the automaton or literal by
    /// literal (the same answer).
    fn candidates_by(&self, text: &str, by_automaton: bool) -> Vec<bool> {
        let mut out = vec![false; self.patterns];
        for &p in &self.always {
            out[p] = true;
        }
        // ASCII text: ASCII case-insensitivity is the whole folding (no ASCII
        // character folds to another ASCII one otherwise).
        let folded;
        let hay = if text.is_ascii() {
            text
        } else {
            folded = text
                .chars()
                .map(|c| self.fold.get(&c).copied().unwrap_or(c))
                .collect::<String>();
            &folded
        };
        let mut mark = |lit: usize| {
            for &p in &self.owners[lit] {
                out[p] = true;
            }
        };
        if by_automaton {
            let Some(ac) = self.automaton() else {
                // Without the automaton every pattern is a candidate.
                return vec![true; self.patterns];
            };
            for m in ac.find_overlapping_iter(hay) {
                mark(m.pattern().as_usize());
            }
        } else {
            let lower = hay.to_ascii_lowercase();
            for (i, l) in self.lits.iter().enumerate() {
                if memchr::memmem::find(lower.as_bytes(), l.as_bytes()).is_some() {
                    mark(i);
                }
            }
        }
        out
    }
}

/// Folds characters to the smallest of their simple case folding orbit (for
/// an ASCII letter: its upper case) and remembers every orbit it saw.
#[derive(Default)]
struct Folder {
    map: HashMap<char, char>,
}

impl Folder {
    fn canon(&mut self, c: char) -> char {
        if let Some(&k) = self.map.get(&c) {
            return k;
        }
        let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
        class.case_fold_simple();
        let orbit: Vec<char> = class
            .iter()
            .flat_map(|r| (r.start()..=r.end()).collect::<Vec<_>>())
            .collect();
        let k = orbit.iter().copied().min().unwrap_or(c);
        for o in orbit {
            self.map.insert(o, k);
        }
        k
    }

    fn string(&mut self, s: &str) -> String {
        s.chars().map(|c| self.canon(c)).collect()
    }
}

/// What a part of a pattern can match: every string, when few (`exact`), and
/// a set one of which every match contains (`req`).
struct Info {
    exact: Option<Vec<String>>,
    req: Option<Vec<String>>,
}

impl Info {
    fn exact(set: Vec<String>) -> Info {
        Info {
            req: usable(Some(set.clone())),
            exact: Some(set),
        }
    }

    fn none() -> Info {
        Info {
            exact: None,
            req: None,
        }
    }
}

/// A set that constrains: not empty, no empty string in it.
fn usable(set: Option<Vec<String>>) -> Option<Vec<String>> {
    set.filter(|s| !s.is_empty() && s.iter().all(|l| !l.is_empty()))
}

/// How selective a literal set is: its shortest literal, then fewer literals.
fn quality(set: &[String]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(|l| l.chars().count()).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(set.len()))
}

fn better(a: Option<Vec<String>>, b: Option<Vec<String>>) -> Option<Vec<String>> {
    match (usable(a), usable(b)) {
        (Some(a), Some(b)) => Some(if quality(&b) > quality(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// Every `a` followed by every `b`, or `None` past [`MAX_SET`].
fn product(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    Some(dedup(
        a.iter()
            .flat_map(|x| b.iter().map(move |y| format!("{x}{y}")))
            .collect(),
    ))
}

fn class_chars(h: &Class, folder: &mut Folder) -> Option<Vec<String>> {
    let chars: Vec<char> = match h {
        Class::Unicode(c) => {
            let n: u32 = c
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
            if n > MAX_CLASS_CHARS {
                return None;
            }
            c.iter().flat_map(|r| r.start()..=r.end()).collect()
        }
        Class::Bytes(c) => {
            let n: u32 = c
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
            if n > MAX_CLASS_CHARS || c.iter().any(|r| !r.end().is_ascii()) {
                return None;
            }
            c.iter()
                .flat_map(|r| r.start()..=r.end())
                .map(char::from)
                .collect()
        }
    };
    let set = dedup(
        chars
            .into_iter()
            .map(|c| folder.canon(c).to_string())
            .collect(),
    );
    (set.len() <= MAX_CLASS_KINDS).then_some(set)
}

fn info(h: &Hir, folder: &mut Folder) -> Info {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Info::exact(vec![String::new()]),
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => Info::exact(vec![folder.string(s)]),
            Err(_) => Info::none(),
        },
        HirKind::Class(c) => match class_chars(c, folder) {
            Some(set) => Info::exact(set),
            None => Info::none(),
        },
        HirKind::Capture(c) => info(&c.sub, folder),
        HirKind::Repetition(r) => {
            let sub = info(&r.sub, folder);
            let exact = match (&sub.exact, r.max) {
                (Some(e), Some(max)) if max <= MAX_REPEAT => {
                    let mut all = Vec::new();
                    let mut power = vec![String::new()];
                    let mut ok = true;
                    for k in 0..=max {
                        if k >= r.min {
                            all.extend(power.iter().cloned());
                        }
                        if k < max {
                            match product(&power, e) {
                                Some(p) => power = p,
                                None => {
                                    ok = false;
                                    break;
                                }
                            }
                        }
                    }
                    let all = dedup(all);
                    (ok && all.len() <= MAX_SET).then_some(all)
                }
                _ => None,
            };
            let req = if r.min >= 1 { sub.req } else { None };
            Info {
                req: better(usable(exact.clone()), req),
                exact,
            }
        }
        HirKind::Concat(parts) => {
            let mut run: Vec<String> = vec![String::new()];
            let mut whole = true;
            let mut req: Option<Vec<String>> = None;
            for p in parts {
                let i = info(p, folder);
                req = better(req, i.req);
                match i.exact {
                    Some(e) => match product(&run, &e) {
                        Some(next) => run = next,
                        None => {
                            req = better(req, Some(std::mem::replace(&mut run, e)));
                            whole = false;
                        }
                    },
                    None => {
                        req = better(req, Some(std::mem::replace(&mut run, vec![String::new()])));
                        whole = false;
                    }
                }
            }
            let exact = whole.then(|| run.clone());
            Info {
                req: better(req, Some(run)),
                exact,
            }
        }
        HirKind::Alternation(alts) => {
            let infos: Vec<Info> = alts.iter().map(|a| info(a, folder)).collect();
            let union = |f: fn(&Info) -> Option<&Vec<String>>| -> Option<Vec<String>> {
                let mut all = Vec::new();
                for i in &infos {
                    all.extend(f(i)?.iter().cloned());
                }
                let all = dedup(all);
                (all.len() <= MAX_SET * 4).then_some(all)
            };
            let exact = union(|i| i.exact.as_ref()).filter(|e| e.len() <= MAX_SET);
            let req = usable(union(|i| i.req.as_ref()));
            Info {
                req: better(usable(exact.clone()), req),
                exact,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(p: &[&str]) -> Prefilter {
        let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
        Prefilter::new(&p, &HashMap::new())
    }

    fn sets(p: &str) -> Option<Vec<String>> {
        derive(p)
    }

    #[test]
    fn literals_are_the_selective_required_part() {
        assert_eq!(
            sets(r"\b(?:ignore|forget)\s+previous\s+instructions"),
            Some(vec!["INSTRUCTIONS".to_string()])
        );
        assert_eq!(
            sets(r"(?:ai|bot)\s*[:,]"),
            Some(vec!["AI".to_string(), "BOT".to_string()])
        );
        // adjacent small classes and bounded repeats widen the literal
        assert_eq!(
            sets(r"\[/?INST\]"),
            Some(vec!["[/INST]".to_string(), "[INST]".to_string()])
        );
        // nothing required: no literal
        assert_eq!(sets(r"\w+\s*"), None);
        assert_eq!(sets(r"(?:abc)?\d+"), None);
        assert_eq!(sets(r"abc|\d+"), None);
    }

    #[test]
    fn candidates_follow_unicode_case_folding_as_the_regex_does() {
        let p = pf(&[r"\bsecret\s+key", r"игнорируй", r"\d+"]);
        assert_eq!(p.unfiltered(), &[2]);
        assert_eq!(p.candidates("nothing here"), vec![false, false, true]);
        assert_eq!(p.candidates("a SeCrEt"), vec![true, false, true]);
        // long s and the Kelvin sign fold to s and k, as the regex engine folds them
        assert_eq!(p.candidates("ſecret"), vec![true, false, true]);
        let re = regex::RegexBuilder::new(r"\bsecret\s+key")
            .case_insensitive(true)
            .build()
            .expect("re");
        assert!(re.is_match("ſecret \u{212A}ey"));
        assert_eq!(p.candidates("ИГНОРИРУЙ это"), vec![false, true, true]);
    }

    #[test]
    fn short_texts_searched_literal_by_literal_get_the_automatons_answer() {
        let p = pf(&[
            r"\bsecret\s+key",
            r"игнорируй",
            r"\d+",
            r"(?:ignore|disregard)\s+(?:all\s+)?previous",
            r"\[/?INST\]",
        ]);
        let texts = [
            "",
            "nothing here",
            "a SeCrEt",
            "ſecret \u{212A}ey",
            "ИГНОРИРУЙ это",
            "Please IGNORE all previous; [inst] and [/INST]",
            "disreGARD previously",
            "naïve café: ignore",
        ];
        // Short text before the automaton is built: searched without it.
        assert!(p.ac.get().is_none());
        assert_eq!(
            p.candidates("a SeCrEt"),
            vec![true, false, true, false, false]
        );
        assert!(p.ac.get().is_none(), "a short text builds no automaton");
        let long = "x".repeat(SHORT) + " IGNORE previous";
        assert_eq!(p.candidates(&long), vec![false, false, true, true, false]);
        assert!(p.ac.get().is_some(), "a long text builds it");
        for t in texts {
            assert_eq!(p.candidates_by(t, false), p.candidates_by(t, true), "{t}");
        }
    }
}
