//! Terminal hygiene: makes trace text safe to draw or print.
//!
//! Trace text is hostile input. Before any string from a trace reaches a
//! terminal, every C0/C1 control character (ESC included, so no CSI or OSC
//! sequence — OSC 52 clipboard writes among them — can start), DEL, bidi
//! controls, Unicode tag characters, line and paragraph separators and every
//! other invisible format character are replaced by visible escapes such as
//! `\x1b` or `\u{202e}`. JSON printed or exported ([`json`]) keeps the same
//! characters as `\uXXXX` escapes instead, which every JSON reader decodes back
//! to the same text. A flood of combining marks on one letter is cut to
//! [`MAX_MARKS`] and counted. Cost: one pass over the text, no allocation when nothing
//! needs escaping.

use std::borrow::Cow;
use std::fmt::Write;

/// True for characters that must never reach a terminal as themselves.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // bidi embeddings, overrides, isolates and marks
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        // zero-width and invisible formatting (Unicode's format characters, Cf)
        | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{206a}'..='\u{206f}'
        | '\u{feff}' | '\u{00ad}' | '\u{180e}' | '\u{0600}'..='\u{0605}' | '\u{06dd}'
        | '\u{070f}' | '\u{0890}' | '\u{0891}' | '\u{08e2}' | '\u{110bd}' | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
        // line and paragraph separators: a line break inside one "line"
        | '\u{2028}' | '\u{2029}'
        // blank fillers and the combining grapheme joiner, drawn as nothing
        | '\u{034f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}'
        // variation selectors that carry hidden bytes ("emoji smuggling");
        // U+FE0E/U+FE0F, which pick an emoji's look, stay
        | '\u{fe00}'..='\u{fe0d}' | '\u{e0100}'..='\u{e01ef}'
        // Unicode tag characters (invisible "ASCII smuggling")
        | '\u{e0000}'..='\u{e007f}'
        // interlinear annotations and specials that some terminals mishandle
        | '\u{fff9}'..='\u{fffb}'
    )
}

/// Most zero-width marks (combining accents and the like) kept in a row: a
/// longer run ("Zalgo" text, thousands of marks stacked on one letter, drawn
/// over the lines around it) keeps this many and says how many it left out.
/// Real scripts stack far fewer.
pub const MAX_MARKS: usize = 8;

/// A printable character drawn as nothing, on the one before it.
fn is_mark(c: char) -> bool {
    !c.is_ascii() && unicode_width::UnicodeWidthChar::width(c) == Some(0)
}

/// True when `s` holds an unsafe character that `kept` does not spare, or a
/// run of more than [`MAX_MARKS`] marks.
fn needs_work(s: &str, kept: impl Fn(char) -> bool) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if is_unsafe(c) && !kept(c) {
            return true;
        }
        run = if is_mark(c) { run + 1 } else { 0 };
        if run > MAX_MARKS {
            return true;
        }
    }
    false
}

/// Counts a run of marks as `out` grows: past [`MAX_MARKS`] they are left out,
/// and the next other character (or the end) first says how many.
#[derive(Default)]
struct Marks {
    run: usize,
    left_out: usize,
}

impl Marks {
    /// Whether `c` is pushed (false: a mark past the cap, left out).
    fn keep(&mut self, out: &mut String, c: char) -> bool {
        if is_mark(c) {
            self.run += 1;
            if self.run > MAX_MARKS {
                self.left_out += 1;
                return false;
            }
            return true;
        }
        self.run = 0;
        self.flush(out);
        true
    }

    fn flush(&mut self, out: &mut String) {
        if self.left_out > 0 {
            let _ = write!(out, "[+{} marks]", self.left_out);
            self.left_out = 0;
        }
    }
}

fn escape_into(out: &mut String, c: char) {
    let n = c as u32;
    if n < 0x80 {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:x}}}");
    }
}

/// One line for lists and tables: newlines and tabs become visible too (`⏎`, a space).
pub fn line(s: &str) -> Cow<'_, str> {
    if !needs_work(s, |_| false) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(1 << 20) + 8);
    let mut marks = Marks::default();
    for c in s.chars() {
        if !marks.keep(&mut out, c) {
            continue;
        }
        match c {
            '\n' => out.push('⏎'),
            '\r' => {}
            '\t' => out.push(' '),
            c if is_unsafe(c) => escape_into(&mut out, c),
            c => out.push(c),
        }
    }
    marks.flush(&mut out);
    Cow::Owned(out)
}

/// A block for detail panes: keeps `\n`, expands tabs to four spaces, escapes the rest.
pub fn block(s: &str) -> Cow<'_, str> {
    if !needs_work(s, |c| c == '\n') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(1 << 20) + 8);
    let mut marks = Marks::default();
    for c in s.chars() {
        if !marks.keep(&mut out, c) {
            continue;
        }
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            '\r' => {}
            c if is_unsafe(c) => escape_into(&mut out, c),
            c => out.push(c),
        }
    }
    marks.flush(&mut out);
    Cow::Owned(out)
}

/// Serialised JSON made safe to print: every unsafe character (all of them
/// sit inside JSON strings; the whitespace between tokens stays) becomes a
/// `\uXXXX` escape (a surrogate pair above U+FFFF). Lossless: a JSON reader
/// gets back exactly the strings that went in; a terminal gets no control,
/// bidi or invisible character. For every JSON skilltrace prints or exports.
pub fn json(text: &str) -> Cow<'_, str> {
    let unsafe_here = |c: char| is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t');
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut units = [0u16; 2];
    for c in text.chars() {
        if unsafe_here(c) {
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes `value` as compact JSON through [`json`], so nothing unsafe reaches `out`.
pub fn write_json(
    out: &mut dyn std::io::Write,
    value: &impl serde::Serialize,
) -> std::io::Result<()> {
    let text = serde_json::to_string(value).map_err(std::io::Error::from)?;
    out.write_all(json(&text).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(line("cat README.md — ok ✓"), Cow::Borrowed(_)));
        assert!(matches!(block("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_flood_of_combining_marks_is_cut_and_counted_and_real_accents_stay() {
        let zalgo = format!("ok H{}e end", "\u{301}\u{317}".repeat(2_000));
        for out in [line(&zalgo), block(&zalgo)] {
            let marks = out.chars().filter(|&c| is_mark(c)).count();
            assert_eq!(marks, MAX_MARKS, "{out}");
            assert!(out.contains("[+3992 marks]e end"), "{out}");
            assert!(out.starts_with("ok H"));
        }
        let tail = format!("H{}", "\u{301}".repeat(20));
        assert!(line(&tail).ends_with("[+12 marks]"));
        for real in ["Tiếng Việt", "é́", "ก็่", "👍🏽", "✔\u{fe0f}", "नमस्ते"]
        {
            assert!(matches!(line(real), Cow::Borrowed(_)), "{real}");
            assert!(matches!(block(real), Cow::Borrowed(_)), "{real}");
        }
    }

    #[test]
    fn hostile_text_is_escaped() {
        let evil = "a\u{1b}[31mred\u{1b}]52;c;aGk=\u{7}\u{202e}txt.exe\u{0}\u{9b}x\u{e0041}";
        for out in [line(evil).into_owned(), block(evil).into_owned()] {
            assert!(!out.chars().any(is_unsafe), "{out:?}");
            assert!(out.contains("\\x1b[31mred"));
            assert!(out.contains("\\u{202e}"));
            assert!(out.contains("\\x00"));
            assert!(out.contains("\\u{9b}"));
            assert!(out.contains("\\u{e0041}"));
        }
        let invisible =
            "a\u{2028}b\u{2029}c\u{180e}\u{206b}\u{3164}\u{fe01}\u{e0101}\u{1d173}\u{600}";
        for out in [line(invisible).into_owned(), block(invisible).into_owned()] {
            assert!(!out.chars().any(is_unsafe), "{out:?}");
            assert!(
                out.contains("\\u{2028}") && out.contains("\\u{e0101}"),
                "{out:?}"
            );
        }
        assert!(!is_unsafe('\u{fe0f}') && !is_unsafe('é') && !is_unsafe('✓'));
        assert_eq!(line("a\nb\tc"), "a⏎b c");
        assert_eq!(block("a\nb\tc"), "a\nb    c");
    }

    #[test]
    fn json_keeps_every_string_and_prints_nothing_unsafe() {
        let evil =
            "x\u{1b}]52;c;aGk=\u{7}\u{9b}31m\u{202e}\u{200b}\u{2028}\u{7f}\u{e0041}\u{fe0f}é\"\\";
        let v = serde_json::json!({ "k\u{202e}": [evil, 1], "plain": "ok" });
        for text in [
            serde_json::to_string(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap(),
        ] {
            let safe = json(&text);
            assert!(
                !safe.chars().any(|c| is_unsafe(c) && !matches!(c, '\n')),
                "{safe}"
            );
            let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
            assert_eq!(back, v, "lossless");
        }
        assert!(safe_is_borrowed(r#"{"a":"b\n","c":[1,2]}"#));
        let mut out = Vec::new();
        write_json(&mut out, &v).unwrap();
        let written = String::from_utf8(out).unwrap();
        assert!(
            written.contains("\\udb40\\udc41"),
            "a tag character as a surrogate pair: {written}"
        );
        assert!(
            written.contains("\\u202e") && written.contains("\\u009b"),
            "{written}"
        );
    }

    fn safe_is_borrowed(text: &str) -> bool {
        matches!(json(text), Cow::Borrowed(_))
    }
}
