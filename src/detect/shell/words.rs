//! Words unquoted: brush-parser's word pieces folded into plain text, with the
//! parameters and command substitutions they expand noted on the side.

use super::options;
use brush_parser::word::{self, WordPiece, WordPieceWithSource};

/// A word unquoted, with what it expands.
#[derive(Default)]
pub(super) struct WordInfo {
    pub(super) text: String,
    pub(super) params: Vec<String>,
    pub(super) substs: Vec<String>,
    pub(super) dynamic: bool,
}

/// Unquotes a raw word, noting parameter expansions and command substitutions.
pub(super) fn word(raw: &str) -> WordInfo {
    let mut info = WordInfo::default();
    match word::parse(raw, &options()) {
        Ok(pieces) => pieces_into(raw, &pieces, &mut info),
        Err(_) => info.text = strip_quotes(raw),
    }
    info
}

fn pieces_into(raw: &str, pieces: &[WordPieceWithSource], info: &mut WordInfo) {
    for p in pieces {
        let src = raw.get(p.start_index..p.end_index).unwrap_or("");
        match &p.piece {
            WordPiece::Text(s) | WordPiece::SingleQuotedText(s) => info.text.push_str(s),
            WordPiece::AnsiCQuotedText(s) => info.text.push_str(&unescape_ansi_c(s)),
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => pieces_into(raw, inner, info),
            WordPiece::TildeExpansion(t) => match t {
                word::TildeExpr::UserHome(u) => {
                    info.text.push('~');
                    info.text.push_str(u);
                }
                _ => info.text.push('~'),
            },
            WordPiece::ParameterExpansion(_) => {
                info.dynamic = true;
                if let Some(n) = param_name(src) {
                    info.params.push(n);
                }
                info.text.push_str(src);
            }
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                info.dynamic = true;
                info.substs.push(s.clone());
                info.text.push_str("$(…)");
            }
            WordPiece::EscapeSequence(s) => {
                info.text.push_str(s.strip_prefix('\\').unwrap_or(s));
            }
            WordPiece::ArithmeticExpression(_) => info.text.push_str(src),
        }
    }
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

fn unescape_ansi_c(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('x') => {
                let h: String = std::iter::from_fn(|| it.next_if(|c| c.is_ascii_hexdigit()))
                    .take(2)
                    .collect();
                if let Ok(b) = u8::from_str_radix(&h, 16) {
                    out.push(b as char);
                }
            }
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

pub(super) fn strip_quotes(w: &str) -> String {
    w.chars().filter(|c| *c != '\'' && *c != '"').collect()
}
