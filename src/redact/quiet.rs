//! Short plain texts the rules find nothing in: JSON keys (`role`, `type`,
//! `content`), short values and names repeat across spans and runs, and each
//! was scanned, decoded and searched every time.
//!
//! A text is *plain* ([`plain`]) when it is shorter than the shortest encoded
//! run decoded ([`MIN_RUN`]), holds no `%` (URL escapes), no quote or
//! backslash (joins and `\uXXXX` escapes, see `splice`) and does not look like
//! JSON. On a plain text the decoders have nothing to look at, so its verdict
//! is the prefilter's and the run memory's alone; when the prefilter found no
//! rule that could match (a clean scan), only the memory can redact it. The
//! scan depends on the text and the rules alone, and a redactor's rules never
//! change, so such a text is kept here ([`QuietMemo`]) and next time only the
//! run's memory is searched. In memory only, bounded, all forgotten when full.

use super::disguise::MIN_RUN;

/// Texts kept at once; all are forgotten when one more would not fit.
const CAP: usize = 4096;

/// True when the decoders have nothing to look at in `text` (see the module doc).
pub(super) fn plain(text: &str) -> bool {
    !text.is_empty()
        && text.len() < MIN_RUN
        && !matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
        && !text
            .bytes()
            .any(|b| matches!(b, b'%' | b'"' | b'\'' | b'\\'))
}

/// Plain texts whose scan found no rule that could match.
#[derive(Debug, Default)]
pub(super) struct QuietMemo {
    texts: crate::hash::HashSet<Box<str>>,
}

impl QuietMemo {
    /// True when `text` is a plain text found quiet before.
    pub(super) fn contains(&self, text: &str) -> bool {
        text.len() < MIN_RUN && self.texts.contains(text)
    }

    /// Keeps `text`, a plain text whose scan was clean.
    pub(super) fn note(&mut self, text: &str) {
        if self.texts.len() >= CAP {
            self.texts.clear();
        }
        self.texts.insert(text.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::{Field, Mode, Redactor, Report};

    #[test]
    fn plain_texts_are_the_ones_no_decoder_reads() {
        for t in ["role", "content", "gpt-4o", "Bash", "a b c", "x=1"] {
            assert!(plain(t), "{t}");
        }
        for t in [
            "",
            "p%3Dx",
            "\"a\" + \"b\"",
            "it's",
            "\\u0041",
            "{\"a\":1}",
            " [1]",
            &"a".repeat(MIN_RUN),
        ] {
            assert!(!plain(t), "{t}");
        }
    }

    #[test]
    fn the_memo_is_bounded() {
        let mut m = QuietMemo::default();
        for i in 0..CAP + 5 {
            m.note(&format!("k{i}"));
        }
        assert!(m.texts.len() <= CAP);
        assert!(m.contains(&format!("k{}", CAP + 4)));
        assert!(!m.contains(&"a".repeat(MIN_RUN)));
    }

    /// What a fresh redactor (nothing kept) gives, against one that saw the
    /// texts before: the same output and matches, memory hits included.
    #[test]
    fn a_quiet_text_is_still_redacted_once_the_run_remembers_it() {
        let mut r = Redactor::new(Mode::Mask);
        // a sensitive key makes the JSON walked every time
        let attrs = |v: &str| {
            format!(
                "{{\"role\":\"user\",\"note\":\"{v}\",\"hunter2hunter\":1,\"password\":\"pw\"}}"
            )
        };
        for round in 0..3 {
            let mut rep = Report::default();
            let out = r.redact_str("run", &attrs("hunter2hunter"), Field::Text, &mut rep);
            let mut fresh = Redactor::new(Mode::Mask);
            if round == 2 {
                fresh.remember_secret("run", "hunter2hunter", "password");
            }
            let mut want_rep = Report::default();
            let want = fresh.redact_str("run", &attrs("hunter2hunter"), Field::Text, &mut want_rep);
            assert_eq!(out, want, "round {round}");
            assert_eq!(rep.matches.len(), want_rep.matches.len(), "round {round}");
            if round == 1 {
                assert!(out.contains("hunter2hunter"), "{out}");
                assert!(r.quiet.contains("hunter2hunter"), "kept");
                // the run learns the value: key and value are redacted from now on
                r.remember_secret("run", "hunter2hunter", "password");
            }
            if round == 2 {
                assert!(!out.contains("hunter2hunter"), "{out}");
            }
        }
        // another run never learned it
        let mut rep = Report::default();
        let other = r.redact_str("other", &attrs("hunter2hunter"), Field::Text, &mut rep);
        assert!(other.contains("hunter2hunter"), "{other}");
    }
}
