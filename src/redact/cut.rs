//! Shortening text, the one way every title, evidence excerpt, snippet, listing and
//! preview is cut: redact the whole text first, then cut it here.
//!
//! A cut before redaction leaves the start of a secret that no longer matches its
//! rule (`ghp_abc…` at 40 characters); so the redactor's `*_cut` methods redact the
//! whole text and only then call these functions, and views cut text that is already
//! redacted. A cut never splits a redaction marker (`[REDACTED:rule]`,
//! `[HASH:rule:8hex]`): a marker that does not fit is left out whole and the cut
//! lands before it. [`raw_head`] is the exception for memory caps that must bound
//! raw text before redaction: it backs off so that no start of a token is left.
//! Cost: one pass over the kept part plus one marker search; nothing is allocated
//! when nothing is cut.

use super::markers::marker_ranges;
use std::borrow::Cow;
use unicode_width::UnicodeWidthChar;

/// Longest run title kept, in characters.
pub const TITLE_CHARS: usize = 120;
/// Longest finding evidence excerpt, in characters.
pub const EVIDENCE_CHARS: usize = 200;
/// Longest finding message, in characters.
pub const MESSAGE_CHARS: usize = 300;
/// What ends a cut text.
pub const ELLIPSIS: char = '…';

/// How a cut measures length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Unicode scalar values (`chars()`).
    Chars,
    /// Terminal cells (wide characters count two).
    Cells,
}

impl Measure {
    fn of(self, c: char) -> usize {
        match self {
            Measure::Chars => 1,
            Measure::Cells => UnicodeWidthChar::width(c).unwrap_or(0),
        }
    }
}

/// The byte index where `text` must end to fit in `max` units with room for the
/// ellipsis, moved back before any marker it would split; `None` when all of `text`
/// fits.
fn cut_point(text: &str, max: usize, m: Measure) -> Option<usize> {
    let mut used = 0usize;
    let mut fits_whole = true;
    // Where a cut must land to leave room for the ellipsis.
    let mut at = None;
    for (i, c) in text.char_indices() {
        let w = m.of(c);
        if at.is_none() && used + w + 1 > max {
            at = Some(i);
        }
        used += w;
        if used > max {
            fits_whole = false;
            break;
        }
    }
    if fits_whole {
        return None;
    }
    let mut at = at.unwrap_or(text.len());
    if let Some(&(s, _)) = marker_ranges(text).iter().find(|&&(s, e)| s < at && at < e) {
        at = s;
    }
    Some(at)
}

/// At most `max` characters of already-redacted `text`, ending with `…` when cut
/// (`max` 0 gives `…` alone for a non-empty text). Never ends inside a marker.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match cut_point(text, max, Measure::Chars) {
        None => Cow::Borrowed(text),
        Some(at) => {
            let mut out = String::with_capacity(at + 3);
            out.push_str(&text[..at]);
            out.push(ELLIPSIS);
            Cow::Owned(out)
        }
    }
}

/// At most `width` terminal cells of already-redacted `text`, ending with `…` when
/// cut (nothing at all when `width` is 0). Never ends inside a marker.
pub fn cut_cells(text: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    match cut_point(text, width, Measure::Cells) {
        None => text.to_string(),
        Some(at) => {
            let mut out = String::with_capacity(at + 3);
            out.push_str(&text[..at]);
            out.push(ELLIPSIS);
            out
        }
    }
}

/// Already-redacted `text` on one line (whitespace runs collapsed to one space,
/// ends trimmed), then [`cut`] to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let mut flat = String::with_capacity(text.len().min(max * 4 + 8));
    for w in text.split_whitespace() {
        if !flat.is_empty() {
            flat.push(' ');
        }
        flat.push_str(w);
        // Far past any cut: the rest cannot be kept (markers are short).
        if flat.len() > max * 4 + 64 {
            break;
        }
    }
    match cut(&flat, max) {
        Cow::Borrowed(_) => flat,
        Cow::Owned(o) => o,
    }
}

/// Where an excerpt of redacted `text` starting at byte `at` may start: `at`, or
/// the end of the marker `at` falls inside (so an excerpt never opens mid-marker).
pub fn marker_end_at(text: &str, at: usize) -> usize {
    marker_ranges(text)
        .iter()
        .find(|&&(s, e)| s < at && at < e)
        .map_or(at, |&(_, e)| e)
}

/// `text` on one line, whole: whitespace runs collapsed to one space, ends trimmed.
/// For raw text on its way to the redactor, which cuts it after redacting.
pub fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for w in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Bytes that can continue a token (a key, a password, a digit group).
fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_+/=.~%:@!*$#^&".contains(&b) || b >= 0x80
}

/// How far back from a raw cut [`raw_head`] looks for the start of the line.
const LINE_BACK: usize = 4096;

/// The first `max` bytes of *raw* text, for the few places that must bound text
/// before it can be redacted (memory caps on captured traffic). The cut backs off to
/// the start of the line it falls in (when that is at most 4 KiB back), else over the
/// token it would split and any digit groups before it, so no start of a secret is
/// left for the redactor to miss. Whole PEM blocks cut in their body are caught by
/// the `private_key` rule, which matches a block up to the end of its base64.
pub fn raw_head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let b = text.as_bytes();
    let mut at = max;
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    // The cut splits nothing when it falls on a line break.
    if at > 0 && (b[at] == b'\n' || b[at - 1] == b'\n') {
        return &text[..at];
    }
    let floor = at.saturating_sub(LINE_BACK);
    if let Some(nl) = memchr::memrchr(b'\n', &b[floor..at]) {
        return &text[..floor + nl + 1];
    }
    loop {
        while at > 0 && token_byte(b[at - 1]) {
            at -= 1;
        }
        // "4111 1111 1111 11|11": digit groups joined by one space or dash go too.
        let joined = at >= 2
            && matches!(b[at - 1], b' ' | b'-')
            && b[at - 2].is_ascii_digit()
            && b.get(at).is_some_and(u8::is_ascii_digit);
        if !joined {
            break;
        }
        at -= 1;
    }
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    &text[..at]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition for text without markers: first `max - 1` characters and `…`.
    fn reference(s: &str, max: usize) -> String {
        if s.chars().count() <= max {
            s.to_string()
        } else {
            let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
            t.push(ELLIPSIS);
            t
        }
    }

    #[test]
    fn without_markers_a_cut_is_the_plain_one() {
        for s in ["", "a", "abcdef", "héllo wörld ✓✓ 日本語", "a b c d e f g"] {
            for max in 0..12 {
                assert_eq!(cut(s, max), reference(s, max), "{s:?} at {max}");
            }
        }
        assert_eq!(cut_cells("日本語テキスト", 5), "日本…");
        assert_eq!(cut_cells("abc", 0), "");
        assert_eq!(one_line("  a \n\t b  ", 10), "a b");
    }

    #[test]
    fn markers_are_never_split_at_any_length() {
        let text = "key [REDACTED:github_token] then [HASH:email:0a1b2c3d] end";
        let marks = marker_ranges(text);
        for max in 0..=text.chars().count() + 2 {
            let out = cut(text, max);
            assert!(out.chars().count() <= max.max(1), "{max}: {out}");
            let kept = out.trim_end_matches(ELLIPSIS);
            for &(s, e) in &marks {
                // A marker is either wholly kept or wholly left out.
                assert!(
                    kept.len() >= e || kept.len() <= s,
                    "{max}: marker split in {out:?}"
                );
            }
            let cells = cut_cells(text, max);
            let kept = cells.trim_end_matches(ELLIPSIS);
            for &(s, e) in &marks {
                assert!(kept.len() >= e || kept.len() <= s, "{max}: {cells:?}");
            }
        }
    }

    #[test]
    fn raw_head_leaves_no_start_of_a_token() {
        let key = format!("gh{}_{}", "p", "A1b2C3d4".repeat(5));
        let text = format!("line one\nsend {key} now");
        for max in 0..text.len() + 2 {
            let head = raw_head(&text, max);
            assert!(head.len() <= max || head == text, "{max}");
            if !head.contains(&key) {
                for w in key.as_bytes().windows(4) {
                    let w = std::str::from_utf8(w).unwrap_or("");
                    assert!(!head.contains(w), "{max}: {head:?}");
                }
            }
        }
        let long = format!("{}{}", "x ".repeat(3000), "4111 1111 1111 1111 ok");
        let cut_at = long.find("1111 11").unwrap_or(0) + 6;
        let head = raw_head(&long, cut_at);
        assert!(!head.contains("4111"), "{:?}", &head[head.len() - 20..]);
    }
}
