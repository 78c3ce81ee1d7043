//! Regexes and regex sets of the built-in data compiled on first use, so a
//! short-lived process (the guard's command hook, one per tool call) pays only
//! for the ones its input reaches. Only for built-in patterns, whose unit tests
//! compile every one ([`LazyRegex::compile`]): a pattern that did not compile
//! would match nothing. Patterns from the config are compiled at load instead,
//! so an error in them stops the load.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use std::cell::Cell;
use std::sync::OnceLock;

thread_local! {
    /// Lazy compiles run on this thread (see [`note_compile`]).
    static COMPILES: Cell<u64> = const { Cell::new(0) };
}

/// Counts one regex compiled on first use, on the thread that compiled it.
/// Every lazily compiled regex of the built-in data calls it, so a test can
/// check that a warmed `guard serve` compiles nothing inside a decision.
pub fn note_compile() {
    COMPILES.with(|c| c.set(c.get() + 1));
}

/// How many lazy compiles ran on this thread so far.
pub fn compiles_on_this_thread() -> u64 {
    COMPILES.with(Cell::get)
}

/// How to build: case-insensitive or not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub case_insensitive: bool,
}

/// One regex, compiled on first use.
#[derive(Debug, Clone, Default)]
pub struct LazyRegex {
    src: String,
    flags: Flags,
    re: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    pub fn new(src: impl Into<String>, flags: Flags) -> LazyRegex {
        LazyRegex {
            src: src.into(),
            flags,
            re: OnceLock::new(),
        }
    }

    /// Compiles it now (tests of the built-in data).
    pub fn compile(&self) -> Result<Regex, regex::Error> {
        RegexBuilder::new(&self.src)
            .case_insensitive(self.flags.case_insensitive)
            .build()
    }

    /// The compiled regex (`None`: it does not compile, which the tests rule out).
    pub fn get(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| {
                note_compile();
                self.compile().ok()
            })
            .as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.get().is_some_and(|r| r.is_match(text))
    }

    /// The pattern, as given.
    pub fn as_str(&self) -> &str {
        &self.src
    }
}

/// A set of regexes, compiled on first use.
#[derive(Debug, Clone, Default)]
pub struct LazyRegexSet {
    src: Vec<String>,
    flags: Flags,
    set: OnceLock<Option<RegexSet>>,
}

impl LazyRegexSet {
    pub fn new(src: Vec<String>, flags: Flags) -> LazyRegexSet {
        LazyRegexSet {
            src,
            flags,
            set: OnceLock::new(),
        }
    }

    /// Compiles it now (tests of the built-in data).
    pub fn compile(&self) -> Result<RegexSet, regex::Error> {
        RegexSetBuilder::new(&self.src)
            .case_insensitive(self.flags.case_insensitive)
            .build()
    }

    /// The compiled set (`None`: it does not compile, which the tests rule out).
    pub fn get(&self) -> Option<&RegexSet> {
        self.set
            .get_or_init(|| {
                note_compile();
                self.compile().ok()
            })
            .as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.get().is_some_and(|s| s.is_match(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_on_first_use_and_matches_as_the_regex_would() {
        let r = LazyRegex::new(r"^a+b$", Flags::default());
        assert!(r.re.get().is_none(), "nothing compiled before use");
        assert!(r.is_match("aab"));
        assert!(!r.is_match("AAB"));
        assert!(r.re.get().is_some());
        let i = LazyRegex::new(
            r"^a+b$",
            Flags {
                case_insensitive: true,
            },
        );
        assert!(i.is_match("AAB"));
        let s = LazyRegexSet::new(vec!["x".into(), "y+z".into()], Flags::default());
        assert!(s.set.get().is_none());
        let before = compiles_on_this_thread();
        assert!(s.is_match("..yyz"));
        assert!(s.is_match("x"));
        assert_eq!(
            compiles_on_this_thread(),
            before + 1,
            "compiled once, counted"
        );
        assert!(!s.is_match("abc"));
    }

    #[test]
    fn a_pattern_that_does_not_compile_matches_nothing_and_says_why() {
        let r = LazyRegex::new("(", Flags::default());
        assert!(r.compile().is_err());
        assert!(!r.is_match("("));
        let s = LazyRegexSet::new(vec!["ok".into(), "[".into()], Flags::default());
        assert!(s.compile().is_err());
        assert!(!s.is_match("ok"));
    }
}
