//! Compiled matchers for rule data: path globs ([`PathSet`]), env-name globs
//! ([`NameSet`]) and domain lists ([`DomainList`]).

use crate::detect::DetectError;
use regex::RegexSet;
use regex::RegexSetBuilder;
use std::collections::HashSet;

/// A compiled set of path globs.
#[derive(Debug, Clone)]
pub struct PathSet {
    /// Compiled on first use: most tool calls need few of the sets, and
    /// compiling them all at start would cost every guard hook process.
    set: LazySet,
    globs: Vec<String>,
}

/// Case-insensitive patterns compiled into one [`RegexSet`] on first use.
/// The patterns are escaped globs, which always compile; only a size limit
/// can refuse them (checked by `name_sets_compile`), and the set then
/// matches nothing.
#[derive(Debug, Clone)]
struct LazySet {
    set: std::sync::OnceLock<RegexSet>,
    res: Vec<String>,
}

impl LazySet {
    fn new(res: Vec<String>) -> LazySet {
        LazySet {
            set: std::sync::OnceLock::new(),
            res,
        }
    }

    fn get(&self) -> &RegexSet {
        self.set.get_or_init(|| {
            crate::lazyre::note_compile();
            RegexSetBuilder::new(&self.res)
                .case_insensitive(true)
                .build()
                .unwrap_or_else(|_| RegexSet::empty())
        })
    }
}

impl PathSet {
    /// Path globs (see `assets/detect/canary.toml` for their syntax). A glob
    /// always makes a valid pattern, so the set is compiled on first use.
    pub fn new(globs: &[String]) -> Result<PathSet, DetectError> {
        Ok(PathSet {
            set: LazySet::new(globs.iter().map(|g| glob_to_regex(g)).collect()),
            globs: globs.to_vec(),
        })
    }

    fn set(&self) -> &RegexSet {
        self.set.get()
    }

    /// Compiles the set now (a long-lived process, before its first request).
    pub fn warm(&self) {
        self.set();
    }

    /// The first glob matching the normalised `path`.
    pub fn matches(&self, path: &str) -> Option<&str> {
        let norm = normalise_path(path);
        // Most paths match nothing: `is_match` stops early, `matches` runs every pattern.
        if !self.set().is_match(&norm) {
            return None;
        }
        self.set()
            .matches(&norm)
            .iter()
            .next()
            .map(|i| self.globs[i].as_str())
    }
}

/// Every spelling of a path folded to one (see [`super::path::normalise`]).
pub fn normalise_path(p: &str) -> String {
    crate::detect::path::normalise(p)
}

/// Concrete paths a credential glob stands for: `*` and `?` become `x`, a
/// folder gets a file inside, a leading `**/` is tried at the top and below.
pub(super) fn glob_examples(g: &str) -> Vec<String> {
    let g = g.trim();
    let mut s = g.replace("**/", "").replace(['*', '?'], "x");
    if s.ends_with('/') {
        s.push('x');
    }
    if g.starts_with("**/") {
        vec![s.clone(), format!("x/{s}"), format!("~/x/{s}")]
    } else {
        vec![s]
    }
}

/// Glob (see `assets/detect/canary.toml`) to an anchored regex.
pub(super) fn glob_to_regex(glob: &str) -> String {
    let mut g = glob.trim().to_string();
    let dir = g.ends_with('/');
    if dir {
        g.pop();
    }
    let mut re = String::from("^");
    let rest: &str = if let Some(r) = g.strip_prefix("**/") {
        re.push_str("(?:.*/)?");
        r
    } else {
        &g
    };
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
                if chars.get(i + 1) == Some(&'/') {
                    i += 1;
                    re.push_str("/?");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => escape_into(c, &mut re),
        }
        i += 1;
    }
    if dir {
        re.push_str("(?:/.*)?$");
    } else {
        re.push('$');
    }
    re
}

/// `c` escaped for a regex, appended to `re` (no allocation per character:
/// the path and name sets are made at every start).
pub(super) fn escape_into(c: char, re: &mut String) {
    let mut buf = [0u8; 4];
    regex_syntax::escape_into(c.encode_utf8(&mut buf), re);
}

/// A set of name globs (env var names), case-insensitive. Compiled on first
/// use, as the path sets: most events never ask about an env var name.
#[derive(Debug, Clone)]
pub struct NameSet {
    set: LazySet,
}

impl NameSet {
    pub(super) fn new(globs: &[String]) -> Result<NameSet, DetectError> {
        let res: Vec<String> = globs
            .iter()
            .map(|g| {
                let mut r = String::from("^");
                for c in g.chars() {
                    match c {
                        '*' => r.push_str(".*"),
                        c => escape_into(c, &mut r),
                    }
                }
                r.push('$');
                r
            })
            .collect();
        Ok(NameSet {
            set: LazySet::new(res),
        })
    }

    fn set(&self) -> &RegexSet {
        self.set.get()
    }

    /// Compiles the set now (a long-lived process, before its first request).
    pub fn warm(&self) {
        self.set();
    }

    pub fn matches(&self, name: &str) -> bool {
        self.set().is_match(name)
    }
}

/// A domain list: exact domains cover their subdomains; `*.x` covers only subdomains.
#[derive(Debug, Clone, Default)]
pub struct DomainList {
    exact_or_sub: HashSet<String>,
    sub_only: HashSet<String>,
}

impl DomainList {
    pub(super) fn new<'a>(items: impl IntoIterator<Item = &'a String>) -> DomainList {
        let mut d = DomainList::default();
        for it in items {
            let it = it.trim().trim_end_matches('.').to_ascii_lowercase();
            if let Some(rest) = it.strip_prefix("*.") {
                d.sub_only.insert(rest.to_string());
            } else if !it.is_empty() {
                d.exact_or_sub.insert(it);
            }
        }
        d
    }

    /// True when `host` (lowercase) is listed or is a subdomain of a listed domain.
    pub fn contains(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.exact_or_sub.contains(&host) {
            return true;
        }
        let mut rest = host.as_str();
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            if self.exact_or_sub.contains(rest) || self.sub_only.contains(rest) {
                return true;
            }
        }
        false
    }
}
