//! HTML entities (named and numeric) and JSON string escapes, decoded one
//! round at a time for [`super::normalise`], noting letters spelled as escapes
//! (a sign of evasion).

/// Longest HTML entity name looked up (`&thinsp;`).
const MAX_ENTITY: usize = 10;

/// Named HTML entities worth decoding (punctuation an injection could hide
/// behind, and the invisible ones).
fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "shy" => '\u{AD}',
        "zwj" => '\u{200D}',
        "zwnj" => '\u{200C}',
        "lrm" => '\u{200E}',
        "rlm" => '\u{200F}',
        "colon" => ':',
        "sol" => '/',
        "bsol" => '\\',
        "lpar" => '(',
        "rpar" => ')',
        "lsqb" | "lbrack" => '[',
        "rsqb" | "rbrack" => ']',
        "lcub" | "lbrace" => '{',
        "rcub" | "rbrace" => '}',
        "comma" => ',',
        "period" => '.',
        "excl" => '!',
        "quest" => '?',
        "num" => '#',
        "dollar" => '$',
        "percnt" => '%',
        "equals" => '=',
        "plus" => '+',
        "hyphen" | "dash" => '-',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        "grave" => '`',
        "verbar" | "vert" => '|',
        "ast" => '*',
        "semi" => ';',
        "commat" => '@',
        "lowbar" => '_',
        "tilde" => '~',
        "Hat" => '^',
        "NewLine" => '\n',
        "Tab" => '\t',
        _ => return None,
    })
}

/// One round of decoding HTML entities and JSON string escapes (`\n`,
/// `\"`, `\u0069`: tool outputs are often JSON inside a string). `letters`
/// is set when a numeric entity or `\u` escape spelled an ASCII letter or
/// digit (a sign of evasion, not formatting).
pub(super) fn decode_escapes(text: &str, letters: &mut bool) -> Option<String> {
    let b = text.as_bytes();
    memchr::memchr2(b'&', b'\\', b)?;
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while let Some(i) = rest.find(['&', '\\']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let lead = rest.as_bytes()[i];
        let decoded = if lead == b'&' {
            entity_at(tail)
        } else {
            json_escape_at(tail)
        };
        match decoded {
            Some((c, used, numeric)) => {
                if numeric && c.is_ascii_alphanumeric() {
                    *letters = true;
                }
                out.push(c);
                rest = &tail[used..];
                changed = true;
            }
            None => {
                out.push(lead as char);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The JSON escape at the start of `s` (just after `\\`): its character, the
/// bytes it used and whether it was a `\u` escape. Surrogate pairs combine.
fn json_escape_at(s: &str) -> Option<(char, usize, bool)> {
    let hex4 = |t: &str| -> Option<u32> {
        let h = t.get(..4)?;
        if h.bytes().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(h, 16).ok()
        } else {
            None
        }
    };
    Some(match s.as_bytes().first()? {
        b'n' => ('\n', 1, false),
        b'r' | b't' | b'b' | b'f' => (' ', 1, false),
        b'"' => ('"', 1, false),
        b'\\' => ('\\', 1, false),
        b'/' => ('/', 1, false),
        b'u' => {
            let hi = hex4(&s[1..])?;
            if (0xD800..0xDC00).contains(&hi) && s.get(5..7) == Some("\\u") {
                let lo = hex4(&s[7..])?;
                let c = char::from_u32(
                    0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)? & 0x3FF),
                )?;
                (c, 11, true)
            } else {
                (char::from_u32(hi)?, 5, true)
            }
        }
        _ => return None,
    })
}

/// The entity at the start of `s` (just after `&`): its character, the bytes
/// it used (with the `;` if present) and whether it was numeric.
fn entity_at(s: &str) -> Option<(char, usize, bool)> {
    let b = s.as_bytes();
    if b.first() == Some(&b'#') {
        let (hexa, start) = match b.get(1) {
            Some(b'x') | Some(b'X') => (true, 2),
            _ => (false, 1),
        };
        let digits = b[start..]
            .iter()
            .take(8)
            .take_while(|c| {
                if hexa {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return None;
        }
        let n = u32::from_str_radix(&s[start..start + digits], if hexa { 16 } else { 10 }).ok()?;
        let c = char::from_u32(n)?;
        let semi = usize::from(b.get(start + digits) == Some(&b';'));
        return Some((c, start + digits + semi, true));
    }
    let name_len = b
        .iter()
        .take(MAX_ENTITY + 1)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if name_len == 0 || name_len > MAX_ENTITY || b.get(name_len) != Some(&b';') {
        return None;
    }
    named_entity(&s[..name_len]).map(|c| (c, name_len + 1, false))
}
