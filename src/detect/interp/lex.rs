//! String literals of interpreter code, read with each language's quoting
//! rules and rewritten in one canonical spelling (`"…"` with `\\`, `\"` and
//! `\n` escaped), so the folding and call matching that follow need to know
//! only one kind of literal. Comments are dropped; backquoted commands of
//! Perl, Ruby and PHP become `qx("…")` calls.

use super::Lang;
use crate::detect::shell::eval::unescape;

/// Code with every literal in canonical form.
pub fn canonical(lang: Lang, code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // comments
        if starts_comment(lang, &chars, i) {
            let block = matches!((c, next), ('/', Some('*')));
            if block {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            } else if lang == Lang::Lua && c == '-' && long_bracket(&chars, i + 2).is_some() {
                let end = long_bracket(&chars, i + 2)
                    .map(|x| x.1)
                    .unwrap_or(chars.len());
                i = end;
            } else {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            continue;
        }
        // Python string prefixes: r, b, u, f and pairs of them
        if lang == Lang::Python && c.is_ascii_alphabetic() && !prev_is_ident(&chars, i) {
            let mut j = i;
            let mut prefix = String::new();
            while j < chars.len() && j - i < 2 && "rRbBuUfF".contains(chars[j]) {
                prefix.push(chars[j].to_ascii_lowercase());
                j += 1;
            }
            if !prefix.is_empty() && matches!(chars.get(j), Some('\'') | Some('"')) {
                let (value, end) = python_string(&chars, j, prefix.contains('r'));
                push_lit(&mut out, &value);
                i = end;
                continue;
            }
        }
        match c {
            '\'' | '"' => {
                let (value, end) = quoted(lang, &chars, i);
                push_lit(&mut out, &value);
                i = end;
            }
            '`' if matches!(lang, Lang::Js) => {
                let (value, end) = raw_until(&chars, i + 1, '`', true);
                push_lit(&mut out, &value);
                i = end;
            }
            '`' if matches!(lang, Lang::Perl | Lang::Ruby | Lang::Php) => {
                let (value, end) = raw_until(&chars, i + 1, '`', true);
                push_quoted(&mut out, &value, true);
                i = end;
            }
            '[' if lang == Lang::Lua && long_bracket(&chars, i).is_some() => {
                let (value, end) = long_bracket(&chars, i).unwrap_or_default();
                push_lit(&mut out, &value);
                i = end;
            }
            '@' if lang == Lang::Pwsh && matches!(next, Some('\'') | Some('"')) => {
                // here-strings @'…'@ and @"…"@
                let q = next.unwrap_or('\'');
                let mut j = i + 2;
                let start = j;
                while j + 1 < chars.len() && !(chars[j] == q && chars[j + 1] == '@') {
                    j += 1;
                }
                let value: String = chars[start..j.min(chars.len())].iter().collect();
                push_lit(&mut out, value.trim_matches('\n'));
                i = (j + 2).min(chars.len());
            }
            'q' if matches!(lang, Lang::Perl) && !prev_is_ident(&chars, i) => {
                match perl_q(&chars, i) {
                    Some((value, end, exec)) => {
                        push_quoted(&mut out, &value, exec);
                        i = end;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '%' if matches!(lang, Lang::Ruby)
                && matches!(next, Some('q') | Some('Q') | Some('x')) =>
            {
                let exec = next == Some('x');
                match chars.get(i + 2).copied().and_then(closing) {
                    Some(close) => {
                        let (value, end) = raw_until(&chars, i + 3, close, next != Some('q'));
                        push_quoted(&mut out, &value, exec);
                        i = end;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// A quoted literal, as `qx("…")` when the quoting runs it as a command.
fn push_quoted(out: &mut String, value: &str, exec: bool) {
    if exec {
        out.push_str("qx(");
        push_lit(out, value);
        out.push(')');
    } else {
        push_lit(out, value);
    }
}

/// Appends a literal in canonical form.
pub fn push_lit(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A literal's canonical text.
pub fn lit(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    push_lit(&mut s, value);
    s
}

/// The value of a canonical literal's inside (between the quotes).
pub fn unlit(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn starts_comment(lang: Lang, chars: &[char], i: usize) -> bool {
    let c = chars[i];
    let next = chars.get(i + 1).copied();
    match lang {
        Lang::Python | Lang::Ruby | Lang::Perl | Lang::Pwsh | Lang::Awk => {
            c == '#'
                && !(lang == Lang::Perl && i > 0 && chars[i - 1] == '$')
                && !(lang == Lang::Pwsh && i > 0 && chars[i - 1] == '<')
                && (i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == ';')
        }
        Lang::Js | Lang::Php => {
            (c == '/' && matches!(next, Some('/') | Some('*')) && !(i > 0 && chars[i - 1] == ':'))
                || (lang == Lang::Php && c == '#' && next != Some('['))
        }
        Lang::Lua => c == '-' && next == Some('-'),
        Lang::Osascript => c == '-' && next == Some('-'),
    }
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '$')
}

/// A quoted string starting at `i` (a quote): its value and the index after it.
fn quoted(lang: Lang, chars: &[char], i: usize) -> (String, usize) {
    let q = chars[i];
    if lang == Lang::Python {
        return python_string(chars, i, false);
    }
    let raw_single = q == '\'' && matches!(lang, Lang::Perl | Lang::Ruby | Lang::Php | Lang::Pwsh);
    if raw_single {
        // only \\ and \' (Perl, Ruby, PHP) or '' (PowerShell) are escapes
        let mut out = String::new();
        let mut j = i + 1;
        while j < chars.len() {
            let c = chars[j];
            if lang == Lang::Pwsh && c == '\'' && chars.get(j + 1) == Some(&'\'') {
                out.push('\'');
                j += 2;
                continue;
            }
            if c == '\'' {
                return (out, j + 1);
            }
            if lang != Lang::Pwsh
                && c == '\\'
                && matches!(chars.get(j + 1), Some('\\') | Some('\''))
            {
                out.push(chars[j + 1]);
                j += 2;
                continue;
            }
            out.push(c);
            j += 1;
        }
        return (out, j);
    }
    if lang == Lang::Pwsh {
        // backtick escapes in "…"
        let mut out = String::new();
        let mut j = i + 1;
        while j < chars.len() {
            let c = chars[j];
            if c == '"' {
                if chars.get(j + 1) == Some(&'"') {
                    out.push('"');
                    j += 2;
                    continue;
                }
                return (out, j + 1);
            }
            if c == '`' {
                match chars.get(j + 1) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('0') => out.push('\0'),
                    Some(o) => out.push(*o),
                    None => {}
                }
                j += 2;
                continue;
            }
            out.push(c);
            j += 1;
        }
        return (out, j);
    }
    let (raw, end) = raw_until(chars, i + 1, q, true);
    let value = if lang == Lang::Lua {
        lua_unescape(&raw)
    } else {
        String::from_utf8_lossy(&unescape(&raw, false).0).into_owned()
    };
    (value, end)
}

/// The raw text up to an unescaped `close`, and the index after it.
fn raw_until(chars: &[char], start: usize, close: char, escapes: bool) -> (String, usize) {
    let mut out = String::new();
    let mut j = start;
    while j < chars.len() {
        let c = chars[j];
        if escapes && c == '\\' && j + 1 < chars.len() {
            out.push(c);
            out.push(chars[j + 1]);
            j += 2;
            continue;
        }
        if c == close {
            return (out, j + 1);
        }
        out.push(c);
        j += 1;
    }
    (out, j)
}

fn python_string(chars: &[char], i: usize, raw: bool) -> (String, usize) {
    let q = chars[i];
    let triple = chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut body = String::new();
    while j < chars.len() {
        let c = chars[j];
        if c == '\\' && j + 1 < chars.len() {
            body.push(c);
            body.push(chars[j + 1]);
            j += 2;
            continue;
        }
        if c == q && (!triple || (chars.get(j + 1) == Some(&q) && chars.get(j + 2) == Some(&q))) {
            j += if triple { 3 } else { 1 };
            break;
        }
        body.push(c);
        j += 1;
    }
    let value = if raw {
        body
    } else {
        String::from_utf8_lossy(&unescape(&body, false).0).into_owned()
    };
    (value, j)
}

/// Lua's `\ddd` escapes are decimal; the rest as in C.
fn lua_unescape(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() && chars[i + 1].is_ascii_digit() {
            let d: String = chars[i + 1..]
                .iter()
                .take(3)
                .take_while(|c| c.is_ascii_digit())
                .collect();
            out.push(d.parse::<u32>().unwrap_or(0).min(255) as u8);
            i += 1 + d.len();
            continue;
        }
        let rest: String = chars[i..].iter().take(12).collect();
        let (bytes, used) = unescape(&rest, true);
        out.extend(bytes);
        i += used.max(1);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lua long brackets `[[…]]`, `[==[…]==]`: (value, index after).
fn long_bracket(chars: &[char], i: usize) -> Option<(String, usize)> {
    if chars.get(i) != Some(&'[') {
        return None;
    }
    let mut j = i + 1;
    let mut level = 0;
    while chars.get(j) == Some(&'=') {
        level += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'[') {
        return None;
    }
    let start = j + 1;
    let mut k = start;
    while k < chars.len() {
        if chars[k] == ']' {
            let mut m = k + 1;
            let mut l = 0;
            while chars.get(m) == Some(&'=') {
                l += 1;
                m += 1;
            }
            if l == level && chars.get(m) == Some(&']') {
                return Some((chars[start..k].iter().collect(), m + 1));
            }
        }
        k += 1;
    }
    Some((chars[start..].iter().collect(), chars.len()))
}

/// Perl `q(…)`, `qq{…}`, `qx[…]`: (value, index after, runs a command).
fn perl_q(chars: &[char], i: usize) -> Option<(String, usize, bool)> {
    let (kind, open_at) = match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('q'), Some(o)) if !o.is_ascii_alphanumeric() && !o.is_whitespace() => ("qq", i + 2),
        (Some('x'), Some(o)) if !o.is_ascii_alphanumeric() && !o.is_whitespace() => ("qx", i + 2),
        (Some(o), _)
            if !o.is_ascii_alphanumeric()
                && !o.is_whitespace()
                && *o != '_'
                && *o != ','
                && *o != ';'
                && *o != ')'
                && *o != '=' =>
        {
            ("q", i + 1)
        }
        _ => return None,
    };
    let open = chars[open_at];
    let close = closing(open).unwrap_or(open);
    let (raw, end) = raw_until(chars, open_at + 1, close, true);
    let value = if kind == "q" {
        raw.replace("\\\\", "\\")
    } else {
        String::from_utf8_lossy(&unescape(&raw, false).0).into_owned()
    };
    Some((value, end, kind == "qx"))
}

fn closing(open: char) -> Option<char> {
    Some(match open {
        '(' => ')',
        '{' => '}',
        '[' => ']',
        '<' => '>',
        c if !c.is_ascii_alphanumeric() && !c.is_whitespace() => c,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quote_style_becomes_one() {
        assert_eq!(
            canonical(Lang::Python, r#"open('a\x2fb')"#),
            r#"open("a/b")"#
        );
        assert_eq!(canonical(Lang::Python, r#"x=r'\n' # c"#), r#"x="\\n" "#);
        assert_eq!(canonical(Lang::Python, "f'''a\nb'''"), r#""a\nb""#);
        assert_eq!(canonical(Lang::Js, "a=`x`;// y"), r#"a="x";"#);
        assert_eq!(
            canonical(Lang::Perl, r#"system q(id); print 'a\n'"#),
            r#"system "id"; print "a\\n""#
        );
        assert_eq!(canonical(Lang::Ruby, "`id`"), r#"qx("id")"#);
        assert_eq!(canonical(Lang::Ruby, "%x(id)"), r#"qx("id")"#);
        assert_eq!(
            canonical(Lang::Lua, r#"os.execute("\105\100") -- x"#),
            r#"os.execute("id") "#
        );
        assert_eq!(canonical(Lang::Lua, "x=[[a]]"), r#"x="a""#);
        assert_eq!(canonical(Lang::Pwsh, "iex 'a''b'"), r#"iex "a'b""#);
        assert_eq!(canonical(Lang::Pwsh, "\"a`nb\""), r#""a\nb""#);
        assert_eq!(canonical(Lang::Php, r#"echo "a"; # c"#), r#"echo "a"; "#);
        assert_eq!(unlit(r#"a\"b\\c\n"#), "a\"b\\c\n");
    }
}
