//! Words as the shell expands them: brush-parser's word pieces folded into
//! fields, quotes and backslashes removed, brace lists expanded, parameters
//! that the same command line set replaced by their values (with the common
//! operators: defaults, substrings, pattern removal and replacement, case),
//! command substitutions replaced by their output when the evaluator can
//! compute it, and unquoted results split on `$IFS` as bash does. What cannot
//! be known is kept as written (`$NAME`, `$(…)`) and marks the word dynamic.

use super::eval::unescape;
use super::options;
pub(super) use super::patterns::pattern_match;
use super::patterns::{braces, remove_pattern, replace_pattern};
use brush_parser::word::{
    self, Parameter, ParameterExpr, SpecialParameter, WordPiece, WordPieceWithSource,
};

/// How deep `${a:-${b:-…}}` defaults are followed.
const MAX_PARAM_DEPTH: usize = 4;

/// A word expanded, with what it expands.
#[derive(Default, Debug, Clone)]
pub(super) struct WordInfo {
    pub(super) text: String,
    pub(super) params: Vec<String>,
    /// Command substitutions whose output is not known (their script text).
    pub(super) substs: Vec<String>,
    /// Something in the word could not be resolved.
    pub(super) dynamic: bool,
    /// The word holds a command substitution (resolved or not).
    pub(super) substituted: bool,
    /// Built from more than one piece, at least one of them an expansion.
    pub(super) assembled: bool,
    /// Decoders the substituted output went through (`base64 -d`…).
    pub(super) decoders: Vec<String>,
}

/// What the shell knows while it expands: the walker answers.
pub(super) trait Expand {
    /// The value of a variable (several for an array or `$@`), when known.
    fn var(&mut self, name: &str) -> Option<Vec<String>>;
    /// Sets a variable (`${x:=v}`).
    fn set_var(&mut self, name: &str, value: String);
    /// Runs (walks) a command substitution; its output and decoders when static.
    fn subst(&mut self, script: &str) -> Option<(String, Vec<String>)>;
}

/// An expander that knows nothing (words unquoted only).
pub(super) struct NoExpand;

impl Expand for NoExpand {
    fn var(&mut self, _: &str) -> Option<Vec<String>> {
        None
    }
    fn set_var(&mut self, _: &str, _: String) {}
    fn subst(&mut self, _: &str) -> Option<(String, Vec<String>)> {
        None
    }
}

/// Unquotes a raw word without expanding anything (one field).
pub(super) fn word(raw: &str) -> WordInfo {
    let mut fields = expand(raw, &mut NoExpand, false);
    let mut first = fields.drain(..).next().unwrap_or_default();
    if first.text.is_empty() && raw.is_empty() {
        first.text = String::new();
    }
    first
}

/// Expands a raw word into fields; `split` says whether unquoted results are
/// split on whitespace (not in assignments, here-strings or redirections).
pub(super) fn expand(raw: &str, ex: &mut dyn Expand, split: bool) -> Vec<WordInfo> {
    let raws = braces(raw);
    let mut out = Vec::new();
    // unquoted results split on the line's `IFS` (`IFS=_; x=cat_~/.netrc; $x`)
    let ifs = if split {
        ex.var("IFS")
            .and_then(|v| v.into_iter().next())
            .unwrap_or_else(|| DEFAULT_IFS.to_string())
    } else {
        DEFAULT_IFS.to_string()
    };
    for r in &raws {
        let mut st = Fields {
            ifs: ifs.clone(),
            ..Fields::default()
        };
        match word::parse(r, &options()) {
            Ok(pieces) => {
                let multi = pieces.len() > 1;
                pieces_into(r, &pieces, false, split, ex, &mut st, 0);
                if multi && (st.cur.dynamic || st.expanded) {
                    st.cur.assembled = true;
                }
            }
            Err(_) => st.cur.text = strip_quotes(r),
        }
        st.finish();
        out.extend(st.fields);
    }
    out
}

/// What a fresh shell splits on.
const DEFAULT_IFS: &str = " \t\n";

/// Fields being built.
#[derive(Default)]
struct Fields {
    /// The characters unquoted expansion results split on (empty: none).
    ifs: String,
    fields: Vec<WordInfo>,
    cur: WordInfo,
    /// The current field exists even if empty (`""`).
    started: bool,
    /// An expansion produced (part of) the text.
    expanded: bool,
}

impl Fields {
    fn push_text(&mut self, s: &str) {
        self.cur.text.push_str(s);
        self.started = true;
    }

    /// Appends an unquoted expansion result, splitting it into fields.
    fn push_split(&mut self, v: &str) {
        if self.ifs.is_empty() && !v.is_empty() {
            self.push_text(v);
            return;
        }
        let ifs = std::mem::take(&mut self.ifs);
        let mut parts = v.split(|c: char| ifs.contains(c)).peekable();
        let mut first = true;
        while let Some(p) = parts.next() {
            if !first {
                self.break_field();
            }
            first = false;
            if !p.is_empty() {
                self.push_text(p);
            }
            if parts.peek().is_none() {
                break;
            }
        }
        self.ifs = ifs;
    }

    fn break_field(&mut self) {
        if self.started || !self.cur.text.is_empty() {
            let mut next = WordInfo {
                params: self.cur.params.clone(),
                substs: self.cur.substs.clone(),
                dynamic: self.cur.dynamic,
                substituted: self.cur.substituted,
                decoders: self.cur.decoders.clone(),
                ..WordInfo::default()
            };
            std::mem::swap(&mut next, &mut self.cur);
            self.fields.push(next);
        }
        self.started = false;
    }

    fn finish(&mut self) {
        if self.started || !self.cur.text.is_empty() || self.fields.is_empty() {
            let cur = std::mem::take(&mut self.cur);
            self.fields.push(cur);
        }
    }
}

fn pieces_into(
    raw: &str,
    pieces: &[WordPieceWithSource],
    quoted: bool,
    split: bool,
    ex: &mut dyn Expand,
    st: &mut Fields,
    depth: usize,
) {
    for p in pieces {
        let src = raw.get(p.start_index..p.end_index).unwrap_or("");
        match &p.piece {
            WordPiece::Text(s) | WordPiece::SingleQuotedText(s) => st.push_text(s),
            WordPiece::AnsiCQuotedText(s) => {
                st.push_text(&String::from_utf8_lossy(&unescape(s, false).0))
            }
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                st.started = true;
                pieces_into(raw, inner, true, split, ex, st, depth);
            }
            WordPiece::TildeExpansion(t) => match t {
                word::TildeExpr::UserHome(u) => {
                    st.push_text("~");
                    st.push_text(u);
                }
                _ => st.push_text("~"),
            },
            WordPiece::ParameterExpansion(expr) => {
                // `${#X}` and `${X:+set}` tell whether X is set, not what it holds
                let reveals = !matches!(
                    expr,
                    ParameterExpr::ParameterLength { .. }
                        | ParameterExpr::UseAlternativeValue { .. }
                );
                if let Some(n) = param_name(src).filter(|_| reveals) {
                    if let ParameterExpr::Parameter {
                        parameter,
                        indirect: true,
                    } = expr
                    {
                        // `${!v}` reads the variable v names: that name when the
                        // line says it, else `!v` (any variable at all)
                        match value(parameter, ex) {
                            Some(v) => st.cur.params.push(v.join(" ")),
                            None => st.cur.params.push(format!("!{n}")),
                        }
                    }
                    st.cur.params.push(n);
                }
                match param(expr, ex, depth) {
                    Some(vals) if quoted && split && all_elements(expr) => {
                        // "$@" and "${a[@]}": one field per element, quotes or not
                        st.expanded = true;
                        for (i, v) in vals.iter().enumerate() {
                            if i > 0 {
                                st.break_field();
                            }
                            st.push_text(v);
                        }
                    }
                    Some(vals) => {
                        st.expanded = true;
                        let joined = vals.join(" ");
                        if quoted || !split {
                            st.push_text(&joined);
                        } else {
                            st.push_split(&joined);
                        }
                    }
                    None => {
                        st.cur.dynamic = true;
                        st.push_text(src);
                    }
                }
            }
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                st.cur.substituted = true;
                match ex.subst(s) {
                    Some((out, decoders)) => {
                        st.expanded = true;
                        st.cur.decoders.extend(decoders);
                        let out = out.trim_end_matches('\n');
                        if quoted || !split {
                            st.push_text(out);
                        } else {
                            st.push_split(out);
                        }
                    }
                    None => {
                        st.cur.dynamic = true;
                        st.cur.substs.push(s.clone());
                        st.push_text("$(…)");
                    }
                }
            }
            WordPiece::EscapeSequence(s) => st.push_text(s.strip_prefix('\\').unwrap_or(s)),
            WordPiece::ArithmeticExpression(_) => st.push_text(src),
        }
    }
}

/// The value of a parameter expression, when the command line says what it is.
fn param(expr: &ParameterExpr, ex: &mut dyn Expand, depth: usize) -> Option<Vec<String>> {
    use ParameterExpr as P;
    if depth > MAX_PARAM_DEPTH {
        return None;
    }
    let scalar = |v: Option<Vec<String>>| v.map(|v| v.join(" "));
    match expr {
        P::Parameter {
            parameter,
            indirect,
        } => {
            let v = value(parameter, ex)?;
            if *indirect {
                let name = v.join(" ");
                return ex.var(&name);
            }
            Some(v)
        }
        P::UseDefaultValues {
            parameter,
            default_value,
            ..
        }
        | P::AssignDefaultValues {
            parameter,
            default_value,
            ..
        } => {
            let v = scalar(value(parameter, ex));
            match v {
                Some(v) if !v.is_empty() => Some(vec![v]),
                _ => {
                    // Unknown here: the default is what a fresh shell prints.
                    let d = default_value.as_deref().unwrap_or("");
                    let w = expand_inner(d, ex, depth + 1)?;
                    if let (P::AssignDefaultValues { .. }, Parameter::Named(n)) = (expr, parameter)
                    {
                        ex.set_var(n, w.clone());
                    }
                    Some(vec![w])
                }
            }
        }
        P::UseAlternativeValue {
            parameter,
            alternative_value,
            ..
        } => match scalar(value(parameter, ex)) {
            Some(v) if !v.is_empty() => {
                let a = alternative_value.as_deref().unwrap_or("");
                Some(vec![expand_inner(a, ex, depth + 1)?])
            }
            Some(_) => Some(vec![String::new()]),
            None => None,
        },
        P::ParameterLength { parameter, .. } => {
            let v = scalar(value(parameter, ex))?;
            Some(vec![v.chars().count().to_string()])
        }
        P::Substring {
            parameter,
            offset,
            length,
            ..
        } => {
            let v: Vec<char> = scalar(value(parameter, ex))?.chars().collect();
            let n = v.len() as i64;
            let mut off = arith(&offset.value)?;
            if off < 0 {
                off = (n + off).max(0);
            }
            let off = off.min(n) as usize;
            let end = match length {
                Some(l) => {
                    let l = arith(&l.value)?;
                    if l < 0 {
                        ((n + l).max(off as i64)) as usize
                    } else {
                        (off + l as usize).min(v.len())
                    }
                }
                None => v.len(),
            };
            Some(vec![v[off..end.max(off)].iter().collect()])
        }
        P::RemoveSmallestPrefixPattern {
            parameter, pattern, ..
        }
        | P::RemoveLargestPrefixPattern {
            parameter, pattern, ..
        }
        | P::RemoveSmallestSuffixPattern {
            parameter, pattern, ..
        }
        | P::RemoveLargestSuffixPattern {
            parameter, pattern, ..
        } => {
            let v = scalar(value(parameter, ex))?;
            let pat = expand_inner(pattern.as_deref().unwrap_or(""), ex, depth + 1)?;
            let largest = matches!(
                expr,
                P::RemoveLargestPrefixPattern { .. } | P::RemoveLargestSuffixPattern { .. }
            );
            let prefix = matches!(
                expr,
                P::RemoveSmallestPrefixPattern { .. } | P::RemoveLargestPrefixPattern { .. }
            );
            Some(vec![remove_pattern(&v, &pat, prefix, largest)])
        }
        P::ReplaceSubstring {
            parameter,
            pattern,
            replacement,
            match_kind,
            ..
        } => {
            let v = scalar(value(parameter, ex))?;
            let pat = expand_inner(pattern, ex, depth + 1)?;
            let rep = expand_inner(replacement.as_deref().unwrap_or(""), ex, depth + 1)?;
            Some(vec![replace_pattern(&v, &pat, &rep, match_kind)])
        }
        P::UppercasePattern { parameter, .. } | P::UppercaseFirstChar { parameter, .. } => {
            let v = scalar(value(parameter, ex))?;
            Some(vec![if matches!(expr, P::UppercasePattern { .. }) {
                v.to_uppercase()
            } else {
                first_char(&v, true)
            }])
        }
        P::LowercasePattern { parameter, .. } | P::LowercaseFirstChar { parameter, .. } => {
            let v = scalar(value(parameter, ex))?;
            Some(vec![if matches!(expr, P::LowercasePattern { .. }) {
                v.to_lowercase()
            } else {
                first_char(&v, false)
            }])
        }
        P::Transform { parameter, op, .. } => {
            use word::ParameterTransformOp as T;
            let v = scalar(value(parameter, ex))?;
            match op {
                T::ToUpperCase => Some(vec![v.to_uppercase()]),
                T::ToLowerCase => Some(vec![v.to_lowercase()]),
                T::ExpandEscapeSequences => {
                    Some(vec![
                        String::from_utf8_lossy(&unescape(&v, false).0).into_owned()
                    ])
                }
                T::CapitalizeInitial => Some(vec![first_char(&v, true)]),
                _ => Some(vec![v]),
            }
        }
        _ => None,
    }
}

/// `$@` / `${a[@]}` (not `$*` / `${a[*]}`).
fn all_elements(expr: &ParameterExpr) -> bool {
    match expr {
        ParameterExpr::Parameter { parameter, .. } => matches!(
            parameter,
            Parameter::Special(SpecialParameter::AllPositionalParameters { concatenate: false })
                | Parameter::NamedWithAllIndices {
                    concatenate: false,
                    ..
                }
        ),
        _ => false,
    }
}

fn value(p: &Parameter, ex: &mut dyn Expand) -> Option<Vec<String>> {
    match p {
        Parameter::Named(n) => ex.var(n),
        Parameter::Positional(i) => ex.var(&i.to_string()),
        Parameter::Special(SpecialParameter::AllPositionalParameters { .. }) => ex.var("@"),
        Parameter::Special(SpecialParameter::PositionalParameterCount) => {
            Some(vec![ex.var("@").map(|v| v.len()).unwrap_or(0).to_string()])
        }
        Parameter::Special(SpecialParameter::ShellName) => ex.var("0"),
        Parameter::Special(_) => None,
        Parameter::NamedWithIndex { name, index } => {
            let all = ex.var(name)?;
            let i: usize = index.trim().parse().ok()?;
            all.get(i).map(|v| vec![v.clone()])
        }
        Parameter::NamedWithAllIndices { name, .. } => ex.var(name),
    }
}

/// A word inside an expansion (a default, a pattern), expanded unsplit.
fn expand_inner(raw: &str, ex: &mut dyn Expand, depth: usize) -> Option<String> {
    if depth > MAX_PARAM_DEPTH {
        return None;
    }
    let mut st = Fields::default();
    let pieces = word::parse(raw, &options()).ok()?;
    pieces_into(raw, &pieces, true, false, ex, &mut st, depth);
    if st.cur.dynamic {
        return None;
    }
    Some(st.cur.text)
}

fn first_char(v: &str, upper: bool) -> String {
    let mut c = v.chars();
    match c.next() {
        Some(f) if upper => f.to_uppercase().chain(c).collect(),
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An arithmetic expression that is a plain (signed) integer.
fn arith(s: &str) -> Option<i64> {
    s.trim().replace(' ', "").parse().ok()
}

/// `$NAME`, `${NAME}`, `${NAME:-x}`, `${#NAME}` → `NAME`.
fn param_name(src: &str) -> Option<String> {
    let s = src.strip_prefix('$')?;
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.trim_start_matches(['#', '!']);
    let n: String = s
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if n.is_empty() {
        None
    } else {
        Some(n)
    }
}

pub(super) fn strip_quotes(w: &str) -> String {
    w.chars().filter(|c| *c != '\'' && *c != '"').collect()
}

#[cfg(test)]
mod tests;
