//! Secrets split inside one text: quoted pieces concatenated (`"ghp_R8x2" +
//! "Kq9Z…"`, shell's `'ghp_R8x2'"Kq9Z…"`, `"sk-…" . "…"`, `'…' || '…'`) and
//! ASCII letters written as `\uXXXX` or `\xXX` escapes in text that is not
//! valid JSON (valid JSON is decoded by its walk). A joined copy of the text
//! goes through the rules, the known-secret memory and deeper decoding; a match
//! that spans a join or an escape redacts the raw bytes it came from, joins
//! included, so `"ghp_R8x2" + "Kq9Z…"` is stored as `"[REDACTED:github_token]"`.
//!
//! Cost: finding no join costs one pass for quotes and backslashes and a look
//! at the bytes beside each; only a text holding a join or an escape is copied.

use super::disguise::MAX_DEPTH;
use super::engine::Cand;
use super::json::Ctx;

/// A joined copy of a text and, per copied byte, where it starts in the raw text.
#[derive(Debug)]
pub struct Joined {
    pub text: String,
    starts: Vec<u32>,
    raw_len: usize,
}

impl Joined {
    /// The raw range a copied range `s..e` came from.
    pub fn raw_range(&self, s: usize, e: usize) -> (usize, usize) {
        let at = |i: usize| self.starts.get(i).map_or(self.raw_len, |&x| x as usize);
        (at(s), at(e))
    }
}

/// Bytes a split token's pieces are made of (keys, tokens, JWTs, base64).
fn token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'/' | b'=' | b'.')
}

fn quote(c: u8) -> bool {
    matches!(c, b'"' | b'\'')
}

fn hex_val(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// `b[i..]` starts an escape of a printable ASCII byte: `\uXXXX` or `\xXX`.
/// Returns the byte and the escape's length.
fn escape_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let digits = match b.get(i + 1) {
        Some(b'u') => 4,
        Some(b'x') => 2,
        _ => return None,
    };
    let hex = b.get(i + 2..i + 2 + digits)?;
    let mut v = 0u32;
    for &c in hex {
        v = (v << 4) | hex_val(c)?;
    }
    (0x21..0x7f).contains(&v).then_some((v as u8, 2 + digits))
}

/// Length of the join starting at `b[i]` (a quote, or the backslashes before one):
/// quote, spaces, an optional concatenation operator, spaces, quote — between two
/// token bytes; or a lone quote between two token bytes (`ab"cd"` in a shell).
fn join_at(b: &[u8], i: usize) -> Option<usize> {
    if i == 0 || !token_byte(b[i - 1]) {
        return None;
    }
    let mut j = i;
    while b.get(j) == Some(&b'\\') {
        j += 1;
    }
    if !b.get(j).copied().is_some_and(quote) {
        return None;
    }
    j += 1;
    let lone = j;
    let spaces = |j: &mut usize| {
        while matches!(b.get(*j), Some(b' ' | b'\t')) {
            *j += 1;
        }
    };
    spaces(&mut j);
    for op in [&b"||"[..], b"..", b"+", b".", b"&"] {
        if b.get(j..j + op.len()) == Some(op) {
            j += op.len();
            break;
        }
    }
    spaces(&mut j);
    while b.get(j) == Some(&b'\\') {
        j += 1;
    }
    if b.get(j).copied().is_some_and(quote) && b.get(j + 1).copied().is_some_and(token_byte) {
        return Some(j + 1 - i);
    }
    b.get(lone)
        .copied()
        .is_some_and(token_byte)
        .then_some(lone - i)
}

/// The joined copy of `text`, when it holds a join or an escape of a printable
/// ASCII byte.
pub fn join(text: &str) -> Option<Joined> {
    let b = text.as_bytes();
    if text.len() > u32::MAX as usize {
        return None;
    }
    let mut copy: Option<(Vec<u8>, Vec<u32>)> = None;
    // Raw bytes before `done` are in the copy (once there is one).
    let mut done = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr3(b'"', b'\'', b'\\', &b[i..]) {
        let at = i + off;
        let escape = (b[at] == b'\\').then(|| escape_at(b, at)).flatten();
        let hit = match escape {
            Some((c, n)) => Some((Some(c), n)),
            None => join_at(b, at).map(|n| (None, n)),
        };
        let Some((emit, len)) = hit else {
            i = at + 1;
            continue;
        };
        let (o, s) = copy.get_or_insert_with(|| (Vec::with_capacity(b.len()), Vec::new()));
        o.extend_from_slice(&b[done..at]);
        s.extend((done..at).map(|x| x as u32));
        if let Some(c) = emit {
            o.push(c);
            s.push(at as u32);
        }
        done = at + len;
        i = done;
    }
    let (mut o, mut s) = copy?;
    o.extend_from_slice(&b[done..]);
    s.extend((done..b.len()).map(|x| x as u32));
    let text = String::from_utf8(o).ok()?;
    Some(Joined {
        text,
        starts: s,
        raw_len: b.len(),
    })
}

impl Ctx<'_> {
    /// Redactions of `text` that only its joined copy shows (see [`join`]), as
    /// ranges of `text`.
    pub(super) fn spliced(&mut self, text: &str, depth: u8) -> Vec<Cand> {
        let mut out = Vec::new();
        if depth >= MAX_DEPTH {
            return out;
        }
        let Some(j) = join(text) else {
            return out;
        };
        for c in self.decoded_text(&j.text, depth + 1) {
            let (start, end) = j.raw_range(c.start, c.end);
            // A match the raw text shows as it stands is the rules' already.
            if end > start && end - start != c.end - c.start {
                out.push(Cand {
                    start,
                    end,
                    label: c.label,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(s: &str) -> Option<String> {
        join(s).map(|j| j.text)
    }

    #[test]
    fn concatenations_and_escapes_are_joined_and_map_back() {
        let raw = r#"t = "ghp_R8x2" + "Kq9Z" ."ab"'cd'"#;
        let j = join(raw).expect("joins");
        assert_eq!(j.text, r#"t = "ghp_R8x2Kq9Zabcd'"#);
        let s = j.text.find("ghp_").unwrap_or(0);
        let (rs, re) = j.raw_range(s, s + "ghp_R8x2Kq9Z".len());
        // The end maps to the next copied byte: a join right after a match goes with it.
        assert_eq!(&raw[rs..re], r#"ghp_R8x2" + "Kq9Z" .""#);
        assert_eq!(joined(r"k\u0065y \x41B").as_deref(), Some("key AB"));
        assert_eq!(
            joined(r#"echo ghp_R8x2"Kq9Z""#).as_deref(),
            Some(r#"echo ghp_R8x2Kq9Z""#)
        );
        assert_eq!(joined(r#"a\"b\" + \"c"#).as_deref(), Some("abc"));
        assert_eq!(
            joined(r#"x || 'ab' || 'cd'"#).as_deref(),
            Some("x || 'abcd'")
        );
    }

    #[test]
    fn json_prose_and_controls_have_no_join() {
        for s in [
            r#"{"a":"b","c":"","d":["e", "f"]}"#,
            "plain prose, \"quoted\" words and 'single' ones.",
            r"C:\path\to\x and \u00zz and \u0000 and \x0a",
            "",
        ] {
            assert_eq!(joined(s), None, "{s}");
        }
    }

    #[test]
    fn every_copied_byte_has_a_start() {
        for s in [r#"a"b" + "c"\u0041 tail"#, r#"x'y'z"#, r"\u0041\u0042"] {
            let j = join(s).expect("joins");
            assert_eq!(j.starts.len(), j.text.len(), "{s}");
            assert!(j.starts.windows(2).all(|w| w[0] < w[1]), "{s}");
        }
    }
}
