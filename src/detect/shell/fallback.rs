//! The walker's plain split, for lines the parser gives up on or that are too
//! big to parse: control operators, pipes and whitespace found by memchr (one
//! pass, linear in the text), quotes stripped, words clipped, here-document
//! bodies left out.

use super::walker::{clip_text, Walker, MAX_NEIGHBOURS};
use super::words::strip_quotes;
use super::{basename, Command, Via, MAX_COMMANDS};

impl Walker<'_> {
    /// When the parser gives up (unbalanced quotes, odd syntax, too big): split
    /// on control operators and whitespace, strip quotes. Better than nothing.
    pub(super) fn fallback(&mut self, text: &str, via: Via, depth: usize) {
        // memchr-driven: this path reads hostile sizes, one pass per byte
        let bytes = text.as_bytes();
        let mut start = 0;
        let mut ends: Vec<usize> = memchr::memchr3_iter(b';', b'&', b'\n', bytes).collect();
        ends.push(bytes.len());
        for end in ends {
            if self.full() {
                return;
            }
            let seg = &text[start..end];
            start = (end + 1).min(bytes.len());
            if seg.trim().is_empty() {
                continue;
            }
            let mut stages: Vec<&str> = Vec::new();
            let mut s0 = 0;
            for p in memchr::memchr_iter(b'|', seg.as_bytes()) {
                stages.push(&seg[s0..p]);
                s0 = p + 1;
                if stages.len() >= MAX_COMMANDS {
                    break;
                }
            }
            if stages.len() < MAX_COMMANDS {
                stages.push(&seg[s0..]);
            }
            self.fallback_pipeline(&stages, via, depth);
        }
    }

    pub(super) fn fallback_pipeline(&mut self, stages: &[&str], via: Via, depth: usize) {
        let names: Vec<String> = stages
            .iter()
            .map(|s| {
                plain_words(s)
                    .next()
                    .map(|w| basename(&strip_quotes(&clip_text(w))).to_string())
                    .unwrap_or_default()
            })
            .collect();
        let mut prev: Option<usize> = None;
        for (i, st) in stages.iter().enumerate() {
            if self.full() {
                return;
            }
            let argv: Vec<String> = plain_words(st)
                .take(256)
                .map(|w| strip_quotes(&clip_text(w)))
                .collect();
            if argv.is_empty() {
                continue;
            }
            let lo = i.saturating_sub(MAX_NEIGHBOURS);
            let hi = (i + 1 + MAX_NEIGHBOURS).min(names.len());
            let cmd = Command {
                piped_from: names[lo..i].to_vec(),
                piped_to: names[i + 1..hi].to_vec(),
                stdin_from: prev.into_iter().collect(),
                unresolved: memchr::memchr2(b'$', b'`', st.as_bytes()).is_some(),
                ..Command::new(argv, via, depth, clip_text(st.trim()))
            };
            prev = self.finish_command(cmd, Vec::new());
        }
    }
}

/// Words split on spaces and tabs (memchr-driven: hostile sizes go through here).
fn plain_words(s: &str) -> impl Iterator<Item = &str> {
    let b = s.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < b.len() && (b[at] == b' ' || b[at] == b'\t' || b[at] == b'\r') {
            at += 1;
        }
        if at >= b.len() {
            return None;
        }
        let end = memchr::memchr3(b' ', b'\t', b'\r', &b[at..]).map_or(b.len(), |i| at + i);
        let w = &s[at..end];
        at = end;
        Some(w)
    })
}

/// The text without the bodies of its here-documents (a plain split would
/// read their lines as commands).
pub(super) fn strip_heredoc_bodies(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut until: Option<String> = None;
    for line in text.split('\n') {
        if let Some(d) = &until {
            if line.trim() == d {
                until = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if let Some(i) = line.find("<<") {
            let rest = line[i + 2..].trim_start_matches(['-', '~']);
            if !rest.starts_with('<') {
                let d: String = rest
                    .trim_start()
                    .trim_start_matches(['\'', '"'])
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !d.is_empty() {
                    until = Some(d);
                }
            }
        }
    }
    out
}
