//! Shell patterns and brace lists: `*`/`?`/`[…]` matching, the pattern
//! removal and replacement of `${v#p}` and `${v/p/r}`, and bounded brace
//! expansion (`~/.aws/{config,credentials}`).

use super::options;
use brush_parser::word::{self, BraceExpressionMember, BraceExpressionOrText, SubstringMatchKind};

/// At most this many words come out of one brace expansion.
const MAX_BRACE_WORDS: usize = 64;

/// Shell pattern match over the whole of `s` (`*`, `?`, `[…]`; `*` crosses `/`).
pub(super) fn pattern_match(pat: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char], steps: &mut usize) -> bool {
        *steps += 1;
        if *steps > 100_000 {
            return false;
        }
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..], steps)),
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..], steps),
            Some('[') => {
                let Some(end) = p.iter().position(|c| *c == ']') else {
                    return !s.is_empty() && s[0] == '[' && go(&p[1..], &s[1..], steps);
                };
                let Some(c) = s.first() else { return false };
                let mut class = &p[1..end];
                let negate = matches!(class.first(), Some('!') | Some('^'));
                if negate {
                    class = &class[1..];
                }
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= *c && *c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == *c;
                        i += 1;
                    }
                }
                hit != negate && go(&p[end + 1..], &s[1..], steps)
            }
            Some(c) => !s.is_empty() && s[0] == *c && go(&p[1..], &s[1..], steps),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    go(&p, &s, &mut 0)
}

pub(super) fn remove_pattern(v: &str, pat: &str, prefix: bool, largest: bool) -> String {
    let idx: Vec<usize> = v
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(v.len()))
        .collect();
    if prefix {
        let mut order: Vec<&usize> = idx.iter().collect();
        if largest {
            order.reverse();
        }
        for &i in order {
            if pattern_match(pat, &v[..i]) {
                return v[i..].to_string();
            }
        }
    } else {
        let mut order: Vec<&usize> = idx.iter().collect();
        if !largest {
            order.reverse();
        }
        for &i in order {
            if pattern_match(pat, &v[i..]) {
                return v[..i].to_string();
            }
        }
    }
    v.to_string()
}

pub(super) fn replace_pattern(v: &str, pat: &str, rep: &str, kind: &SubstringMatchKind) -> String {
    if pat.is_empty() {
        return v.to_string();
    }
    let literal = !pat.contains(['*', '?', '[']);
    match kind {
        SubstringMatchKind::Prefix => match v.strip_prefix(pat) {
            Some(rest) if literal => format!("{rep}{rest}"),
            _ => v.to_string(),
        },
        SubstringMatchKind::Suffix => match v.strip_suffix(pat) {
            Some(rest) if literal => format!("{rest}{rep}"),
            _ => v.to_string(),
        },
        SubstringMatchKind::FirstOccurrence if literal => v.replacen(pat, rep, 1),
        SubstringMatchKind::Anywhere if literal => v.replace(pat, rep),
        _ => {
            // a glob pattern: replace the longest match at each position
            let chars: Vec<(usize, char)> = v.char_indices().collect();
            let mut out = String::new();
            let mut i = 0;
            let mut done = false;
            while i < chars.len() {
                let start = chars[i].0;
                let hit = (i + 1..=chars.len()).rev().find(|&j| {
                    let end = chars.get(j).map(|c| c.0).unwrap_or(v.len());
                    !done && pattern_match(pat, &v[start..end])
                });
                match hit {
                    Some(j) => {
                        out.push_str(rep);
                        i = j;
                        if matches!(kind, SubstringMatchKind::FirstOccurrence) {
                            done = true;
                        }
                    }
                    None => {
                        out.push(chars[i].1);
                        i += 1;
                    }
                }
            }
            out
        }
    }
}

/// Brace expansion (`{cat,~/.netrc}`, `~/.aws/{config,credentials}`), bounded.
pub(super) fn braces(raw: &str) -> Vec<String> {
    if !raw.contains('{') || !(raw.contains(',') || raw.contains("..")) {
        return vec![raw.to_string()];
    }
    match word::parse_brace_expansions(raw, &options()) {
        Ok(Some(parts)) => {
            let mut out = vec![String::new()];
            if !brace_product(&parts, &mut out) || out.is_empty() {
                return vec![raw.to_string()];
            }
            out
        }
        _ => vec![raw.to_string()],
    }
}

pub(super) fn brace_product(parts: &[BraceExpressionOrText], acc: &mut Vec<String>) -> bool {
    for p in parts {
        let alts: Vec<String> = match p {
            BraceExpressionOrText::Text(t) => vec![t.clone()],
            BraceExpressionOrText::Expr(members) => {
                let mut alts = Vec::new();
                for m in members {
                    match m {
                        BraceExpressionMember::Child(c) => {
                            let mut sub = vec![String::new()];
                            if !brace_product(c, &mut sub) {
                                return false;
                            }
                            alts.extend(sub);
                        }
                        BraceExpressionMember::NumberSequence {
                            start,
                            end,
                            increment,
                        } => {
                            let step = increment.unsigned_abs().max(1) as usize;
                            let (lo, hi) = (*start.min(end), *start.max(end));
                            if hi - lo > MAX_BRACE_WORDS as i64 * step as i64 {
                                return false;
                            }
                            alts.extend((lo..=hi).step_by(step).map(|n| n.to_string()));
                        }
                        BraceExpressionMember::CharSequence { start, end, .. } => {
                            let (lo, hi) = (*start.min(end) as u32, *start.max(end) as u32);
                            if hi - lo > MAX_BRACE_WORDS as u32 {
                                return false;
                            }
                            alts.extend((lo..=hi).filter_map(char::from_u32).map(String::from));
                        }
                    }
                }
                alts
            }
        };
        if acc.len() * alts.len().max(1) > MAX_BRACE_WORDS {
            return false;
        }
        let mut next = Vec::with_capacity(acc.len() * alts.len());
        for a in acc.iter() {
            for b in &alts {
                next.push(format!("{a}{b}"));
            }
        }
        *acc = next;
    }
    true
}
