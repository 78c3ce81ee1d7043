//! Terminal hygiene: makes trace text safe to draw or print.
//!
//! Trace text is hostile input. Before any string from a trace reaches a
//! terminal, every C0/C1 control character (ESC included, so no CSI or OSC
//! sequence — OSC 52 clipboard writes among them — can start), DEL, bidi
//! controls, Unicode tag characters and zero-width characters are replaced by
//! visible escapes such as `\x1b` or `\u{202e}`. Cost: one pass over the text,
//! no allocation when nothing needs escaping.

use std::borrow::Cow;
use std::fmt::Write;

/// True for characters that must never reach a terminal as themselves.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // bidi embeddings, overrides, isolates and marks
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        // zero-width and invisible formatting
        | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}'
        // Unicode tag characters (invisible "ASCII smuggling")
        | '\u{e0000}'..='\u{e007f}'
        // interlinear annotations and specials that some terminals mishandle
        | '\u{fff9}'..='\u{fffb}'
    )
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
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push('⏎'),
            '\r' => {}
            '\t' => out.push(' '),
            c if is_unsafe(c) => escape_into(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A block for detail panes: keeps `\n`, expands tabs to four spaces, escapes the rest.
pub fn block(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            '\r' => {}
            c if is_unsafe(c) => escape_into(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
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
        assert_eq!(line("a\nb\tc"), "a⏎b c");
        assert_eq!(block("a\nb\tc"), "a\nb    c");
    }
}
