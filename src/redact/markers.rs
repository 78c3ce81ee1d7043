//! Redaction markers (`[REDACTED:<rule>]`, `[HASH:<rule>:<8 hex>]`): finding the
//! well-formed ones already in a text, and cutting them out of candidate ranges so
//! that redacting twice changes nothing.

use super::engine::Cand;

pub const MARKER_MASK: &str = "[REDACTED:";
pub const MARKER_HASH: &str = "[HASH:";

/// Ranges of well-formed markers (`[REDACTED:name]`, `[HASH:name:8hex]`) in `text`.
pub fn marker_ranges(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (lit, hashed) in [(MARKER_MASK, false), (MARKER_HASH, true)] {
        for s in memchr::memmem::find_iter(b, lit.as_bytes()) {
            let mut i = s + lit.len();
            let name_start = i;
            while i < b.len()
                && (b[i].is_ascii_lowercase() || b[i].is_ascii_digit() || b[i] == b'_')
            {
                i += 1;
            }
            if i == name_start {
                continue;
            }
            if hashed {
                if b.get(i) != Some(&b':') {
                    continue;
                }
                let h = i + 1;
                if b.len() < h + 8 || !b[h..h + 8].iter().all(u8::is_ascii_hexdigit) {
                    continue;
                }
                i = h + 8;
            }
            if b.get(i) == Some(&b']') {
                out.push((s, i + 1));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Cuts marker ranges out of candidates; keeps pieces that still hold an alphanumeric.
pub fn subtract_markers(text: &str, cands: Vec<Cand>) -> Vec<Cand> {
    let marks = marker_ranges(text);
    if marks.is_empty() {
        return cands;
    }
    let mut out = Vec::with_capacity(cands.len());
    for c in cands {
        let mut start = c.start;
        for &(ms, me) in marks.iter().filter(|(ms, me)| *ms < c.end && *me > c.start) {
            if ms > start {
                out.push(Cand {
                    start,
                    end: ms,
                    label: c.label,
                });
            }
            start = start.max(me);
        }
        if start < c.end {
            out.push(Cand {
                start,
                end: c.end,
                label: c.label,
            });
        }
    }
    out.retain(|c| {
        text[c.start..c.end]
            .bytes()
            .any(|b| b.is_ascii_alphanumeric())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_exactly() {
        let t = "a [REDACTED:github_token] b [HASH:email:0a1b2c3d] c [REDACTED:] [HASH:x:zz]";
        let r = marker_ranges(t);
        assert_eq!(r.len(), 2);
        assert_eq!(&t[r[0].0..r[0].1], "[REDACTED:github_token]");
        assert_eq!(&t[r[1].0..r[1].1], "[HASH:email:0a1b2c3d]");
    }
}
