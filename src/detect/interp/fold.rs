//! Constant folding over canonical interpreter code: home-folder
//! expressions become `"~"`, literal variables are substituted, decoder calls
//! on literals (base64, hex, rot13, URL, reversal, `chr` sequences,
//! decompression) are decoded, and literals joined by `+`, `.`, `..`, `/` or a
//! path-join call are joined (Python's `"".join([…])` and adjacent literals
//! too), names looked up by a string (`getattr(os, "system")`,
//! `__import__("os")`, `x["execSync"](`, Ruby's `send("system", …)`) become
//! plain names, until nothing changes or the budget is spent.
//! Decoded texts are returned too: code that evaluates one of them runs a
//! payload that was hidden in the command.

use super::data::InterpData;
use super::lex::{lit, unlit};
use super::Lang;
use crate::detect::shell::eval::{decode_base64, inflate_first, Budget};
use regex::{Captures, Regex};
use std::sync::OnceLock;

/// A canonical literal.
pub const LIT: &str = r#""(?:[^"\\]|\\.)*""#;

/// How many folding rounds run at most.
const MAX_ROUNDS: usize = 8;

/// The folded code and the payloads decoding revealed.
pub struct Folded {
    pub code: String,
    pub decoded: Vec<String>,
}

fn re(cell: &'static OnceLock<Option<Regex>>, pat: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| {
        crate::lazyre::note_compile();
        Regex::new(pat).ok()
    })
    .as_ref()
}

/// Folds canonical code (see the module docs).
pub fn fold(lang: Lang, code: &str, data: &InterpData, budget: &mut Budget) -> Folded {
    let mut code = code.to_string();
    let mut decoded = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let before = code.clone();
        code = home(&code, data);
        code = variables(lang, &code, data);
        code = char_codes(&code, data);
        code = decode_calls(&code, data, budget, &mut decoded);
        code = concat(lang, &code, data);
        code = by_name(&code, data);
        if code == before {
            break;
        }
    }
    Folded { code, decoded }
}

/// Home-folder expressions in code → `"~"`; in strings → `~`.
fn home(code: &str, data: &InterpData) -> String {
    if !data.home.is_match(code) && !data.home_in_strings.is_match(code) {
        return code.to_string();
    }
    let spans: Vec<(usize, usize)> = data
        .lit
        .find_iter(code)
        .map(|m| (m.start(), m.end()))
        .collect();
    let inside = |i: usize| spans.iter().any(|(s, e)| *s < i && i < *e);
    let mut step = String::with_capacity(code.len());
    let mut last = 0;
    for m in data.home.find_iter(code) {
        if inside(m.start()) {
            continue;
        }
        step.push_str(&code[last..m.start()]);
        step.push_str("\"~\"");
        last = m.end();
    }
    step.push_str(&code[last..]);
    let mut out = String::with_capacity(step.len());
    let mut last = 0;
    for m in data.lit.find_iter(&step) {
        out.push_str(&step[last..m.start()]);
        let inner = &m.as_str()[1..m.as_str().len() - 1];
        out.push('"');
        out.push_str(&data.home_in_strings.replace_all(inner, "~"));
        out.push('"');
        last = m.end();
    }
    out.push_str(&step[last..]);
    out
}

/// `NAME = "lit"` assignments substituted into later uses of NAME (and into
/// `$NAME`, `${NAME}`, `#{NAME}`, `{NAME}` inside strings).
fn variables(lang: Lang, code: &str, data: &InterpData) -> String {
    static ASSIGN: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(assign) = re(
        &ASSIGN,
        &format!(
            r#"(?:\b(?:my|local|our|const|let|var)\s+)?([$@]?[A-Za-z_][A-Za-z0-9_]*)\s*=\s*({LIT})\s*(?:;|\n|,|\)|$|\s+\w)"#
        ),
    ) else {
        return code.to_string();
    };
    let mut vars: Vec<(String, String)> = Vec::new();
    for c in assign.captures_iter(code) {
        let name = c[1].to_string();
        vars.retain(|(n, _)| n != &name);
        vars.push((name, c[2].to_string()));
        if vars.len() > 64 {
            break;
        }
    }
    if vars.is_empty() {
        return code.to_string();
    }
    let mut out = String::with_capacity(code.len());
    let mut last = 0;
    for m in data.lit.find_iter(code) {
        out.push_str(&subst_idents(&code[last..m.start()], &vars));
        out.push_str(&interpolate(lang, m.as_str(), &vars));
        last = m.end();
    }
    out.push_str(&subst_idents(&code[last..], &vars));
    out
}

/// Bare identifiers (not assigned, called, or an attribute) → their literal.
fn subst_idents(code: &str, vars: &[(String, String)]) -> String {
    let b = code.as_bytes();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        let ident_start = (c.is_ascii_alphabetic() || c == '_' || c == '$' || c == '@')
            && (i == 0 || !is_ident_byte(b[i - 1]) && b[i - 1] != b'.');
        if ident_start {
            let mut j = i + 1;
            while j < b.len() && is_ident_byte(b[j]) {
                j += 1;
            }
            let name = &code[i..j];
            let rest = code[j..].trim_start();
            let assigned = rest.starts_with('=') && !rest.starts_with("==");
            let called = rest.starts_with('(') || rest.starts_with('.') && !rest.starts_with("..");
            let keyed = rest.starts_with('[') || rest.starts_with("->");
            match vars.iter().find(|(n, _)| n == name) {
                Some((_, v)) if !assigned && !called && !keyed => out.push_str(v),
                _ => out.push_str(name),
            }
            i = j;
            continue;
        }
        let ch = code[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Interpolation of known variables inside a literal.
fn interpolate(lang: Lang, literal: &str, vars: &[(String, String)]) -> String {
    if !literal.contains(['$', '{', '#']) {
        return literal.to_string();
    }
    let mut inner = unlit(&literal[1..literal.len() - 1]);
    for (n, v) in vars {
        let value = unlit(&v[1..v.len() - 1]);
        let bare = n.trim_start_matches(['$', '@']);
        let forms: Vec<String> = match lang {
            Lang::Python => vec![format!("{{{bare}}}")],
            Lang::Ruby => vec![format!("#{{{bare}}}")],
            Lang::Js => vec![format!("${{{bare}}}")],
            _ => vec![format!("${{{bare}}}"), format!("${bare}")],
        };
        for f in forms {
            if inner.contains(&f) {
                inner = inner.replace(&f, &value);
            }
        }
    }
    lit(&inner)
}

/// `chr(99)+chr(117)`, `String.fromCharCode(99,117)`, `[char]99`,
/// `string.char(99,117)`, `map(chr,[99,117])` → literals.
fn char_codes(code: &str, data: &InterpData) -> String {
    static ONE: OnceLock<Option<Regex>> = OnceLock::new();
    static LIST: OnceLock<Option<Regex>> = OnceLock::new();
    let mut out = code.to_string();
    let codes = code.contains("chr") || code.contains("har") || code.contains("CharCode");
    if let Some(r) = re(&ONE, r"(?i)(?:\bchr|\[char\])\s*\(?\s*(\d{1,7})\s*\)?").filter(|_| codes) {
        out = r
            .replace_all(&out, |c: &Captures| {
                num_lit(&c[1]).unwrap_or_else(|| c[0].to_string())
            })
            .into_owned();
    }
    if let Some(r) = re(
        &LIST,
        r"(?:String\.fromCharCode|string\.char|map\(\s*chr\s*,|chr\(\w+\)\s+for\s+\w+\s+in|pack\(\s*.C\*.\s*,)\s*\(?\s*\[?\s*([\d\s,]+)\]?\s*\)?\)?",
    )
    .filter(|_| codes)
    {
        out = r
            .replace_all(&out, |c: &Captures| {
                let s: Option<String> = c[1]
                    .split(',')
                    .filter(|x| !x.trim().is_empty())
                    .map(|x| x.trim().parse::<u32>().ok().and_then(char::from_u32))
                    .collect();
                s.map(|s| lit(&s)).unwrap_or_else(|| c[0].to_string())
            })
            .into_owned();
    }
    // `"".join(["c","u"])` / `["c","u"].join("")`
    static JOIN: OnceLock<Option<Regex>> = OnceLock::new();
    if let Some(r) = re(
        &JOIN,
        &format!(
            r#"(?:""\.join\(\s*\[((?:\s*{LIT}\s*,?)+)\]\s*\)|\[((?:\s*{LIT}\s*,?)+)\]\.join\(\s*""\s*\))"#
        ),
    ) {
        out = r
            .replace_all(&out, |c: &Captures| {
                let list = c
                    .get(1)
                    .or_else(|| c.get(2))
                    .map(|m| m.as_str())
                    .unwrap_or("");
                let joined: String = data
                    .lit
                    .find_iter(list)
                    .map(|m| unlit(&m.as_str()[1..m.as_str().len() - 1]))
                    .collect();
                lit(&joined)
            })
            .into_owned();
    }
    out
}

fn num_lit(n: &str) -> Option<String> {
    let c = char::from_u32(n.parse().ok()?)?;
    Some(lit(&c.to_string()))
}

/// Decoder calls on literals, decoded.
fn decode_calls(
    code: &str,
    data: &InterpData,
    budget: &mut Budget,
    decoded: &mut Vec<String>,
) -> String {
    let mut out = code.to_string();
    for (kind, r) in &data.decoders {
        if !r.is_match(&out) {
            continue;
        }
        out = r
            .replace_all(&out, |c: &Captures| {
                let Some(m) = c.name("lit") else {
                    return c[0].to_string();
                };
                let value = unlit(&m.as_str()[1..m.as_str().len() - 1]);
                match decode_value(kind, &value, c.name("buf").map(|b| b.as_str())) {
                    Some(v) if budget.take(v.len()) => {
                        if v.len() >= 4 {
                            decoded.push(v.clone());
                        }
                        lit(&v)
                    }
                    _ => c[0].to_string(),
                }
            })
            .into_owned();
    }
    // A literal followed by `[::-1]`, `.reverse`, `.decode()`, `.toString()` …
    static SUFFIX: OnceLock<Option<Regex>> = OnceLock::new();
    if let Some(r) = re(
        &SUFFIX,
        &format!(
            r#"({LIT})\s*(\[::-1\]|\.reverse\b(?:\(\))?|\.split\(\s*""\s*\)\.reverse\(\)\.join\(\s*""\s*\)|\.decode\(\s*(?:"utf-?8")?\s*\)|\.toString\(\s*\)|\.encode\(\s*\))"#
        ),
    ) {
        out = r
            .replace_all(&out, |c: &Captures| {
                let v = unlit(&c[1][1..c[1].len() - 1]);
                if c[2].contains("reverse") || c[2].contains("::-1") {
                    lit(&v.chars().rev().collect::<String>())
                } else {
                    c[1].to_string()
                }
            })
            .into_owned();
    }
    out
}

/// Decodes one literal by kind; `buf` is Node's `Buffer.from(x, "…")` encoding.
fn decode_value(kind: &str, v: &str, buf: Option<&str>) -> Option<String> {
    let kind = match buf {
        Some(b) => match b.trim_matches('"').to_ascii_lowercase().as_str() {
            "base64" | "base64url" => "base64",
            "hex" => "hex",
            _ => return Some(v.to_string()),
        },
        None => kind,
    };
    let bytes: Vec<u8> = match kind {
        "base64" => {
            let clean: Vec<u8> = v.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            decode_base64(&clean)?
        }
        "hex" => {
            let clean: String = v.chars().filter(|c| c.is_ascii_hexdigit()).collect();
            hex::decode(clean).ok()?
        }
        "rot13" => v.chars().map(rot13).collect::<String>().into_bytes(),
        "reverse" => v.chars().rev().collect::<String>().into_bytes(),
        "url" => percent_encoding::percent_decode_str(v).collect(),
        "decompress" => {
            let raw: Vec<u8> = v.chars().map(|c| c as u32 as u8).collect();
            inflate_any(&raw)?
        }
        "identity" => v.as_bytes().to_vec(),
        _ => return None,
    };
    Some(text_of(&bytes))
}

/// Bytes as text: UTF-8, UTF-16LE (PowerShell), or Latin-1 kept byte for byte.
fn text_of(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let utf16 = bytes.len() >= 4
        && bytes.len() % 2 == 0
        && bytes.iter().skip(1).step_by(2).all(|b| *b == 0);
    if utf16 {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|b| *b as char).collect()
}

/// gzip, zlib or raw deflate, at most 1 MiB of it.
fn inflate_any(raw: &[u8]) -> Option<Vec<u8>> {
    inflate_first(raw, 1 << 20, true)
}

fn rot13(c: char) -> char {
    match c {
        'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
        'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
        c => c,
    }
}

/// Replaces each pair of literals `r` matches (groups 1 and 2) by one literal
/// `join` makes of their values, until nothing changes or `rounds` are spent.
fn fold_pairs(
    r: &Regex,
    mut out: String,
    rounds: usize,
    join: impl Fn(&str, &str) -> String,
) -> String {
    for _ in 0..rounds {
        let next = r
            .replace_all(&out, |c: &Captures| {
                let a = unlit(&c[1][1..c[1].len() - 1]);
                let b = unlit(&c[2][1..c[2].len() - 1]);
                lit(&join(&a, &b))
            })
            .into_owned();
        if next == out {
            break;
        }
        out = next;
    }
    out
}

/// `"a" + "b"`, `"a" . "b"`, `"a" .. "b"`, Python `"~" / ".aws"`, and
/// path-join calls over literals.
fn concat(lang: Lang, code: &str, data: &InterpData) -> String {
    static CAT: OnceLock<Option<Regex>> = OnceLock::new();
    static SLASH: OnceLock<Option<Regex>> = OnceLock::new();
    let mut out = code.to_string();
    if let Some(r) = re(&CAT, &format!(r#"({LIT})\s*(?:\+|\.\.|\.)\s*({LIT})"#)) {
        out = fold_pairs(r, out, 64, |a, b| format!("{a}{b}"));
    }
    if matches!(lang, Lang::Awk | Lang::Python) {
        // awk and Python concatenate by juxtaposition: `"~" "/.pypirc"`, `"sys" "tem"`
        static JUXTA: OnceLock<Option<Regex>> = OnceLock::new();
        if let Some(r) = re(&JUXTA, &format!(r#"({LIT})[ \t]*({LIT})"#)) {
            out = fold_pairs(r, out, 16, |a, b| format!("{a}{b}"));
        }
    }
    if lang == Lang::Python {
        if let Some(r) = re(&SLASH, &format!(r#"({LIT})\s*/\s*({LIT})"#)) {
            out = fold_pairs(r, out, 16, |a, b| {
                format!("{}/{}", a.trim_end_matches('/'), b.trim_start_matches('/'))
            });
        }
    }
    if lang == Lang::Python && out.contains(".join(") {
        // `"".join(["o", "s"])`, `"-".join(("a", "b"))`
        static STRJOIN: OnceLock<Option<Regex>> = OnceLock::new();
        let pat = format!(
            r#"(?P<sep>{LIT})\.join\(\s*[\[(]\s*(?P<args>{LIT}(?:\s*,\s*{LIT})*)\s*,?\s*[\])]\s*\)"#
        );
        if let Some(r) = re(&STRJOIN, &pat) {
            out = r
                .replace_all(&out, |c: &Captures| {
                    let sep = unlit(&c["sep"][1..c["sep"].len() - 1]);
                    let parts: Vec<String> = data
                        .lit
                        .find_iter(&c["args"])
                        .map(|m| unlit(&m.as_str()[1..m.as_str().len() - 1]))
                        .collect();
                    lit(&parts.join(&sep))
                })
                .into_owned();
        }
    }
    if data.join.is_match(&out) {
        out = data
            .join
            .replace_all(&out, |c: &Captures| {
                let parts: Vec<String> = data
                    .lit
                    .find_iter(&c["args"])
                    .map(|m| unlit(&m.as_str()[1..m.as_str().len() - 1]))
                    .collect();
                let mut joined = String::new();
                for p in parts {
                    if p.starts_with('/') || joined.is_empty() {
                        joined = p;
                    } else {
                        joined = format!("{}/{}", joined.trim_end_matches('/'), p);
                    }
                }
                lit(&joined)
            })
            .into_owned();
    }
    if data.identity.is_match(&out) {
        out = data.identity.replace_all(&out, "${pre}${lit}").into_owned();
    }
    out
}

/// Names looked up by a string become plain names (`by_name` in
/// `interpreters.toml`): `getattr(os, "system")` → `os.system`. A name that is
/// not an identifier stays as it was.
fn by_name(code: &str, data: &InterpData) -> String {
    let mut out = code.to_string();
    for r in &data.by_name {
        if !r.is_match(&out) {
            continue;
        }
        out = r
            .replace_all(&out, |c: &Captures| {
                let raw = &c["name"];
                let name = match raw.strip_prefix(':') {
                    Some(sym) => sym.to_string(),
                    None => unlit(&raw[1..raw.len() - 1]),
                };
                let ident = name.split('.').all(|p| {
                    !p.is_empty()
                        && !p.starts_with(|ch: char| ch.is_ascii_digit())
                        && p.chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '$')
                });
                if !ident {
                    return c[0].to_string();
                }
                let mut s = match c.name("obj") {
                    Some(o) => format!("{}.{name}", o.as_str()),
                    None => name,
                };
                if c.name("call").is_some() {
                    s.push('(');
                }
                s
            })
            .into_owned();
    }
    out
}
