//! The encoded forms of a secret, cut into the windows that are remembered:
//! plain and reversed (12 characters), hex (24) and fully `%XX`-encoded (36)
//! in lower case (matched case-blind, so `%5f%6B` mixes are found too), URL-encoded where the secret has reserved
//! characters (12 of the encoded text), and base64 standard and URL-safe in
//! each of the three alignments a secret can take inside a longer encoded
//! blob (16 characters on group boundaries). Each window covers 12 bytes of
//! the secret (fewer for URL-encoded ones); a secret of 8–11 bytes is
//! remembered whole, plain, reversed and hex.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Bytes of the secret one window covers.
pub const PIECE: usize = 12;
/// Shortest secret remembered (then whole).
pub const MIN_SECRET: usize = 8;

/// How a window spells the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Form {
    Plain = 0,
    Reversed = 1,
    Hex = 2,
    Percent = 3,
    Url = 4,
    Base64 = 5,
}

impl Form {
    /// True for forms matched without regard to ASCII case (hex digits).
    pub fn case_blind(self) -> bool {
        matches!(self, Form::Hex | Form::Percent)
    }

    pub const ALL: [Form; 6] = [
        Form::Plain,
        Form::Reversed,
        Form::Hex,
        Form::Percent,
        Form::Url,
        Form::Base64,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Form::Plain => "plain",
            Form::Reversed => "reversed",
            Form::Hex => "hex",
            Form::Percent => "fully %XX-encoded",
            Form::Url => "URL-encoded",
            Form::Base64 => "base64",
        }
    }
}

/// Calls `f(window, source start, source length, form)` for every window of
/// every form of `v` whose source bytes are all `eligible`. A URL-encoded
/// window that two spellings share (no `/` in it, or escapes of digits only)
/// is given once: its tag is the same.
pub fn each_window(v: &[u8], eligible: &[bool], mut f: impl FnMut(&[u8], usize, usize, Form)) {
    let n = v.len();
    if n < MIN_SECRET {
        return;
    }
    let ok = |s: usize, len: usize| s + len <= n && eligible[s..s + len].iter().all(|e| *e);
    let w = PIECE.min(n);
    // plain and reversed
    let rev: Vec<u8> = v.iter().rev().copied().collect();
    for i in 0..=n - w {
        if ok(i, w) {
            f(&v[i..i + w], i, w, Form::Plain);
            f(&rev[n - i - w..n - i], i, w, Form::Reversed);
        }
    }
    // hex, lower case (matched case-blind)
    let h = hex::encode(v);
    let h = h.as_bytes();
    for i in 0..=n - w {
        if ok(i, w) {
            f(&h[2 * i..2 * (i + w)], i, w, Form::Hex);
        }
    }
    if n < PIECE {
        return;
    }
    // every byte as %XX, lower case (matched case-blind)
    let p: Vec<u8> = v
        .iter()
        .flat_map(|b| {
            let h = hex::encode([*b]);
            let h = h.as_bytes();
            [b'%', h[0], h[1]]
        })
        .collect();
    for i in 0..=n - w {
        if ok(i, w) {
            f(&p[3 * i..3 * (i + w)], i, w, Form::Percent);
        }
    }
    // URL-encoded (reserved characters only), with and without `/` kept
    if v.iter().any(|b| !unreserved(*b)) {
        let slash = v.contains(&b'/');
        let mut seen: crate::hash::HashSet<[u8; PIECE]> = crate::hash::HashSet::default();
        for (keep_slash, upper) in [(false, true), (true, true), (false, false), (true, false)] {
            if keep_slash && !slash {
                continue; // the same text as without `/` kept
            }
            let (u, src) = url_encode(v, keep_slash, upper);
            if u.len() < PIECE {
                continue;
            }
            for k in 0..=u.len() - PIECE {
                let win = &u[k..k + PIECE];
                if !win.contains(&b'%') {
                    continue; // the same as a plain window
                }
                let (s, e) = (src[k], src[k + PIECE - 1] + 1);
                let mut key = [0u8; PIECE];
                key.copy_from_slice(win);
                // a window given before in another spelling (an escape of
                // digits only, no `/` in it) has the same tag: given once
                if ok(s, e - s) && seen.insert(key) {
                    f(win, s, e - s, Form::Url);
                }
            }
        }
    }
    // base64 in the three alignments, standard and URL-safe
    for a in 0..3usize {
        let mut buf = vec![0u8; a];
        buf.extend_from_slice(v);
        let enc = STANDARD_NO_PAD.encode(&buf);
        let url = URL_SAFE_NO_PAD.encode(&buf);
        let mut m = a.div_ceil(3);
        while 3 * m - a + PIECE <= n {
            let s = 3 * m - a;
            if ok(s, PIECE) {
                let k = 4 * m;
                f(&enc.as_bytes()[k..k + 16], s, PIECE, Form::Base64);
                let u = &url.as_bytes()[k..k + 16];
                if u != &enc.as_bytes()[k..k + 16] {
                    f(u, s, PIECE, Form::Base64);
                }
            }
            m += 1;
        }
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `v` with reserved bytes as `%XX`, and for each output byte the source index.
fn url_encode(v: &[u8], keep_slash: bool, upper: bool) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(v.len() * 2);
    let mut src = Vec::with_capacity(v.len() * 2);
    for (i, &b) in v.iter().enumerate() {
        if unreserved(b) || (keep_slash && b == b'/') {
            out.push(b);
            src.push(i);
        } else {
            let h = if upper {
                hex::encode_upper([b])
            } else {
                hex::encode([b])
            };
            out.push(b'%');
            out.extend_from_slice(h.as_bytes());
            src.extend([i, i, i]);
        }
    }
    (out, src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(v: &[u8]) -> Vec<(String, usize, usize, Form)> {
        let mut out = Vec::new();
        each_window(v, &vec![true; v.len()], |w, s, l, f| {
            out.push((String::from_utf8_lossy(w).into_owned(), s, l, f))
        });
        out
    }

    #[test]
    fn every_piece_of_every_form_is_a_window() {
        let v = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let ws = all(v);
        let has = |s: &str, f: Form| ws.iter().any(|(w, _, _, g)| w == s && *g == f);
        assert!(has("wJalrXUtnFEM", Form::Plain));
        assert!(has("YEKELPMAXEYC", Form::Reversed));
        assert!(has(&hex::encode(&v[3..15]), Form::Hex));
        let pct: String = v[5..17].iter().map(|b| format!("%{b:02x}")).collect();
        assert!(has(&pct, Form::Percent));
        assert!(has("MI%2FK7MDENG", Form::Url) && has("MI%2fK7MDENG", Form::Url));
        // base64 of any 12-byte piece, whatever its offset, is a window
        for i in 0..=v.len() - PIECE {
            let b = STANDARD_NO_PAD.encode(&v[i..i + PIECE]);
            assert!(has(&b, Form::Base64), "piece at {i}");
        }
    }

    #[test]
    fn base64_inside_a_longer_blob_lines_up_in_some_alignment() {
        let v = b"ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI";
        let ws = all(v);
        for pre in ["", "k", "ke", "key=", "TOKEN=x"] {
            let blob = STANDARD_NO_PAD.encode([pre.as_bytes(), v, b"\n"].concat());
            let found = ws
                .iter()
                .filter(|(w, _, _, f)| *f == Form::Base64 && blob.contains(w.as_str()))
                .count();
            assert!(found >= 4, "prefix {pre:?}: {found}");
        }
    }

    #[test]
    fn ineligible_bytes_are_never_in_a_window() {
        let v = b"sk-proj-Q2hhbmdlTWVJbkRlbW9Pbmx5";
        let mut el = vec![true; v.len()];
        el[..8].iter_mut().for_each(|e| *e = false);
        let mut n = 0;
        each_window(v, &el, |_, s, l, _| {
            assert!(s >= 8, "{s}+{l}");
            n += 1;
        });
        assert!(n > 0);
    }

    #[test]
    fn every_url_spelling_window_is_given_once() {
        for v in [
            &b"wJalrXUtnFEMI/K7MDENG+bPxRfiCY/x9L+mn2p"[..],
            b"pa ss+wo=rd!12345:6789?0",
            b"no-slash+here=and&there!1234567",
        ] {
            let ws = all(v);
            let url: Vec<&String> = ws
                .iter()
                .filter(|(.., f)| *f == Form::Url)
                .map(|(w, ..)| w)
                .collect();
            let distinct: std::collections::BTreeSet<&String> = url.iter().copied().collect();
            assert_eq!(distinct.len(), url.len(), "a window given twice");
            for (keep, upper) in [(false, true), (true, true), (false, false), (true, false)] {
                let (u, _) = url_encode(v, keep, upper);
                for w in u.windows(PIECE).filter(|w| w.contains(&b'%')) {
                    let w = String::from_utf8_lossy(w).into_owned();
                    assert!(distinct.contains(&w), "{w} of {keep} {upper} missing");
                }
            }
        }
    }

    #[test]
    fn short_secrets_are_whole_and_tiny_ones_skipped() {
        let ws = all(b"hunter2!x");
        assert!(ws.iter().all(|(_, s, l, _)| *s == 0 && *l == 9));
        assert!(ws.iter().any(|(w, ..)| w == "x!2retnuh"));
        assert!(all(b"short").is_empty());
    }
}
