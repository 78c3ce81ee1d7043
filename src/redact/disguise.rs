//! Secrets in disguise: URL-encoded text, and base64 or hex runs, decoded so the
//! rules see what they hide; every match is mapped back onto the raw bytes.
//!
//! - URL encoding: when a text holds a `%XX` escape of an ASCII byte, a decoded copy
//!   (`%XX` of ASCII bytes and `+` decoded, everything else kept) goes through the
//!   rules, the known-secret memory and, one level deeper, this module again. A match
//!   in the copy redacts the raw bytes it came from, so `password%3Dhunter%2122`
//!   is stored as `password%3D[REDACTED:secret_assignment]`.
//! - Base64 (standard or URL-safe, padded or not, wrapped at line breaks) and hex:
//!   runs of at least [`MIN_RUN`] characters of their alphabet are decoded; when the
//!   decoded bytes are printable text in which a rule (or a remembered secret)
//!   matches, the whole encoded run is redacted under the name of that rule.
//!
//! Bounds: decoding nests at most [`MAX_DEPTH`] levels (URL inside base64 inside…),
//! a run longer than [`MAX_RUN`] bytes is not decoded, and a run whose first decoded
//! bytes are not printable ASCII is given up after them. Runs do not overlap, so the
//! decoded bytes of one level are at most the text's own length and the work is
//! linear. Finding the runs costs one test per 24 bytes of text (see
//! [`encoded_runs`]), and most runs that are not base64 of text (ids, paths,
//! hashes) are given up on their first character or bytes, so clean text pays
//! little.

use super::engine::Cand;
use super::json::Ctx;

/// Shortest base64 or hex run decoded (24 bytes of base64, 16 of hex).
pub const MIN_RUN: usize = 32;
/// Longest run decoded.
pub const MAX_RUN: usize = 4 << 20;
/// How many decodings may nest (URL in base64, base64 in base64…).
pub const MAX_DEPTH: u8 = 2;

/// A URL-decoded copy of a text and, per decoded byte, where it starts in the raw text.
#[derive(Debug)]
pub struct PctDecoded {
    pub text: String,
    starts: Vec<u32>,
    raw_len: usize,
}

impl PctDecoded {
    /// The raw range a decoded range `s..e` came from.
    pub fn raw_range(&self, s: usize, e: usize) -> (usize, usize) {
        let at = |i: usize| self.starts.get(i).map_or(self.raw_len, |&x| x as usize);
        (at(s), at(e))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The URL-decoded copy of `text`, when it holds at least one `%XX` escape of an
/// ASCII byte. Escapes of other bytes stay as they are (the copy stays UTF-8);
/// `+` becomes a space.
pub fn pct_decode(text: &str) -> Option<PctDecoded> {
    let b = text.as_bytes();
    let first = memchr::memchr_iter(b'%', b).find(|&i| pct_ascii(b, i))?;
    if text.len() > u32::MAX as usize {
        return None;
    }
    let mut out = Vec::with_capacity(text.len());
    let mut starts = Vec::with_capacity(text.len());
    for (i, &c) in b[..first].iter().enumerate() {
        out.push(if c == b'+' { b' ' } else { c });
        starts.push(i as u32);
    }
    let mut i = first;
    while i < b.len() {
        starts.push(i as u32);
        if b[i] == b'%' && pct_ascii(b, i) {
            out.push((hex_val(b[i + 1]).unwrap_or(0) << 4) | hex_val(b[i + 2]).unwrap_or(0));
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    Some(PctDecoded {
        text,
        starts,
        raw_len: b.len(),
    })
}

/// True when `b[i..i + 3]` is `%XX` for an ASCII byte (`XX` < 0x80).
fn pct_ascii(b: &[u8], i: usize) -> bool {
    matches!(
        (b.get(i + 1).and_then(|&c| hex_val(c)), b.get(i + 2).and_then(|&c| hex_val(c))),
        (Some(h), Some(_)) if h < 8
    )
}

/// Bytes of the base64 alphabets (standard and URL-safe; `=` only as padding).
fn b64_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
}

const HI: u64 = 0x8080_8080_8080_8080;

/// `b` in every byte of a word.
const fn rep(b: u8) -> u64 {
    b as u64 * 0x0101_0101_0101_0101
}

/// 0x80 in each byte of `y` that is >= `c` (every byte of `y` below 0x80, so no
/// addition carries into the next byte).
#[inline]
fn ge(y: u64, c: u8) -> u64 {
    y.wrapping_add(rep(0x80 - c)) & HI
}

/// True when all eight bytes of `w` lie in `+`..=`z` (0x2b..=0x7a): a cheap
/// superset test of the standard base64 alphabet.
#[inline]
fn word_in_range(w: u64) -> bool {
    w & HI == 0 && ge(w, 0x2b) == HI && ge(w, 0x7b) == 0
}

/// True when all eight bytes of `w` are standard base64 (`A-Z a-z 0-9 + /`), hex
/// included; bytes 0x0b, 0x0f and 0x10..=0x19 pass too (a superset, checked later).
#[inline]
fn word_b64(w: u64) -> bool {
    if !word_in_range(w) {
        return false;
    }
    let y = w | rep(0x20); // letters fold to a-z; digits, `+` and `/` stay
    let letter = ge(y, 0x61) & !ge(y, 0x7b);
    let digit = ge(y, 0x30) & !ge(y, 0x3a);
    let plus_slash = (ge(y, 0x2b) & !ge(y, 0x2c)) | (ge(y, 0x2f) & !ge(y, 0x30));
    letter | digit | plus_slash == HI
}

/// Maximal runs of base64-alphabet bytes (standard or URL-safe, with up to two `=`
/// of padding) of at least [`MIN_RUN`] bytes; runs separated by one line break are
/// joined when the line before is a multiple of four long (base64 wrapped at 64 or
/// 76 columns).
///
/// Only every third aligned 8-byte word is tested first: a run of 31 or more bytes
/// holds three neighbouring aligned words, one of them tested, and a run worth
/// decoding has at least one such triple without `-` or `_` (kebab and snake
/// identifiers, UUIDs, ids like `msg_…` and paths of short segments have none), so
/// bytes are looked at one by one only around such triples.
pub fn encoded_runs(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let words = b.len() / 8;
    let word = |k: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[k * 8..k * 8 + 8]);
        word_b64(u64::from_le_bytes(a))
    };
    // Bytes before this index are already examined.
    let mut done = 0usize;
    let mut k = 0;
    while k < words {
        if k * 8 + 8 <= done || !word(k) {
            k += 3;
            continue;
        }
        // The neighbours that pass on each side (at most two are needed).
        let mut lo = k;
        while lo > 0 && k - lo < 2 && word(lo - 1) {
            lo -= 1;
        }
        let mut hi = k;
        while hi + 1 < words && hi - lo < 2 && word(hi + 1) {
            hi += 1;
        }
        if hi - lo < 2 {
            k += 3;
            continue;
        }
        // The exact runs around the triple.
        let (from, to) = (lo * 8, hi * 8 + 8);
        let mut i = from.max(done);
        while i < to {
            if !b64_byte(b[i]) {
                i += 1;
                continue;
            }
            let mut s = i;
            while s > done && b64_byte(b[s - 1]) {
                s -= 1;
            }
            let mut e = i;
            while e < b.len() && b64_byte(b[e]) {
                e += 1;
            }
            let mut pe = e;
            while pe < b.len() && pe < e + 2 && b[pe] == b'=' {
                pe += 1;
            }
            if e - s >= MIN_RUN {
                pe = wrapped_end(b, s, pe);
                push_run(b, &mut out, s, pe);
            }
            i = pe.max(i + 1);
            done = i;
        }
        done = done.max(to);
        k += 3;
    }
    out
}

/// The end of a run that starts at `s` and whose first line ends at `e`, taking in
/// the lines that follow while the one before is a multiple of four characters
/// long (base64 wrapped at 64 or 76 columns, the last line shorter).
fn wrapped_end(b: &[u8], s: usize, mut e: usize) -> usize {
    let mut line_start = s;
    loop {
        if (e - line_start) % 4 != 0 || b[e - 1] == b'=' {
            return e;
        }
        let skip = if b[e..].starts_with(b"\r\n") {
            2
        } else if b[e..].starts_with(b"\n") {
            1
        } else {
            return e;
        };
        let next = e + skip;
        let mut ne = next;
        while ne < b.len() && b64_byte(b[ne]) {
            ne += 1;
        }
        let letters = ne;
        while ne < b.len() && ne < letters + 2 && b[ne] == b'=' {
            ne += 1;
        }
        if ne == next {
            return e;
        }
        line_start = next;
        e = ne;
    }
}

/// Appends a run, joining it to the previous one across one line break when that
/// one looks like a wrapped base64 line.
fn push_run(b: &[u8], out: &mut Vec<(usize, usize)>, s: usize, e: usize) {
    if let Some(last) = out.last_mut() {
        let gap = &b[last.1..s];
        let wrapped = (gap == b"\n" || gap == b"\r\n") && (last.1 - last.0) % 4 == 0;
        if wrapped {
            last.1 = e;
            return;
        }
    }
    out.push((s, e));
}

const B64: [u8; 256] = {
    let mut t = [255u8; 256];
    let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut i = 0;
    while i < 62 {
        t[a[i] as usize] = i as u8;
        i += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

/// Printable text as decoded bytes go: no control byte but tab, CR and LF.
fn printable(c: u8) -> bool {
    c >= 0x20 && c != 0x7f || matches!(c, b'\t' | b'\n' | b'\r')
}

/// Decodes base64 (line breaks skipped, padding optional), giving up at the first
/// byte that is not printable, or when the first three are not printable ASCII.
fn b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    // Most runs (ids, paths, hashes) fail on their first three bytes: check those
    // before allocating anything.
    if let [a, b, c, d, ..] = *s {
        let v = [a, b, c, d].map(|x| u32::from(B64[x as usize]));
        if v.contains(&255) {
            return None;
        }
        let n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
        let ascii = |x: u32| (0x20..0x7f).contains(&x) || matches!(x, 9 | 10 | 13);
        if !(ascii(n >> 16) && ascii((n >> 8) & 0xff) && ascii(n & 0xff)) {
            return None;
        }
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in s {
        if matches!(c, b'\n' | b'\r' | b'=') {
            continue;
        }
        let v = B64[c as usize];
        if v == 255 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = (acc >> bits) as u8;
            acc &= (1 << bits) - 1;
            if !printable(byte) || (out.len() < 3 && byte >= 0x80) {
                return None;
            }
            out.push(byte);
        }
    }
    Some(out)
}

fn hex_decode(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    // Hashes and ids fail on their first bytes: check them before allocating.
    for p in s.chunks_exact(2).take(3) {
        let byte = (hex_val(p[0])? << 4) | hex_val(p[1])?;
        if !(0x20..0x7f).contains(&byte) && !matches!(byte, b'\t' | b'\n' | b'\r') {
            return None;
        }
    }
    let mut out = Vec::with_capacity(s.len() / 2);
    for p in s.chunks_exact(2) {
        let byte = (hex_val(p[0])? << 4) | hex_val(p[1])?;
        if !printable(byte) || (out.len() < 3 && byte >= 0x80) {
            return None;
        }
        out.push(byte);
    }
    Some(out)
}

/// The decoded text of the encoded run `text[s..e]`, or of its longest piece after a
/// `/`, `-` or `_` (a path or word glued before the base64), with the range decoded.
pub fn decode_run(text: &str, s: usize, e: usize) -> Option<(usize, usize, String)> {
    if e - s > MAX_RUN {
        return None;
    }
    let b = text.as_bytes();
    let whole = |s: usize, e: usize| -> Option<String> {
        let run = &b[s..e];
        // Text starts with a printable ASCII byte: hex `0`, `2`–`7`; base64 `C`, `D`,
        // `I`–`Z`, `a`–`f`. Most ids, paths and hashes fail here.
        let first = run.first().copied().unwrap_or(0);
        if !matches!(first, b'0' | b'2'..=b'7' | b'C' | b'D' | b'I'..=b'Z' | b'a'..=b'f') {
            return None;
        }
        let (mut upper, mut lower, mut other) = (false, false, false);
        for &c in run {
            upper |= c.is_ascii_uppercase();
            lower |= c.is_ascii_lowercase();
            other |= !c.is_ascii_hexdigit();
        }
        let bytes = if !other {
            hex_decode(run)?
        } else if upper && lower {
            // Base64 of text has both cases; paths and identifiers often do not.
            b64_decode(run)?
        } else {
            return None;
        };
        String::from_utf8(bytes).ok()
    };
    if let Some(t) = whole(s, e) {
        return Some((s, e, t));
    }
    // A misaligned start: retry after the last separator that leaves a long enough run.
    let cut = b[s..e]
        .iter()
        .rposition(|&c| matches!(c, b'/' | b'-' | b'_'))
        .map(|p| s + p + 1)?;
    let tail_len = e - cut;
    let pad = b[cut..e].iter().filter(|&&c| c == b'=').count();
    if tail_len - pad < MIN_RUN {
        return None;
    }
    whole(cut, e).map(|t| (cut, e, t))
}

impl Ctx<'_> {
    /// Redactions of `text` found only by decoding it (URL encoding, base64 and hex
    /// runs), as ranges of `text`; `depth` counts the decodings around it.
    pub fn disguised(&mut self, text: &str, depth: u8) -> Vec<Cand> {
        let mut out = Vec::new();
        if depth >= MAX_DEPTH {
            return out;
        }
        if let Some(d) = pct_decode(text) {
            for c in self.decoded_text(&d.text, depth + 1) {
                let (start, end) = d.raw_range(c.start, c.end);
                if end > start {
                    out.push(Cand {
                        start,
                        end,
                        label: c.label,
                    });
                }
            }
        }
        for (s, e) in encoded_runs(text.as_bytes()) {
            let Some((s, e, dec)) = decode_run(text, s, e) else {
                continue;
            };
            let inner = self.decoded_text(&dec, depth + 1);
            let engine = self.engine;
            let best = inner
                .iter()
                .map(|c| c.label)
                .max_by_key(|&l| (engine.labels[l].severity, std::cmp::Reverse(l)));
            if let Some(label) = best {
                out.push(Cand {
                    start: s,
                    end: e,
                    label,
                });
            }
        }
        out.extend(self.spliced(text, depth));
        out
    }

    /// Every redaction the rules, the memory and deeper decoding find in a decoded
    /// text; the values found are remembered for the run.
    pub(super) fn decoded_text(&mut self, text: &str, depth: u8) -> Vec<Cand> {
        let engine = self.engine;
        let scan = engine.scan(text);
        let mut mem = Vec::new();
        self.memory.search(self.run_id, text, &mut mem);
        let mut cands = if scan.is_clean() && mem.is_empty() {
            Vec::new()
        } else {
            engine.candidates(text, &scan, &mem)
        };
        cands.extend(self.disguised(text, depth));
        for c in &cands {
            let v = &text[c.start..c.end];
            if engine.rememberable(c.label, v) {
                self.memory.learn(self.run_id, v, c.label);
            }
        }
        cands
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding_maps_back_to_raw_bytes() {
        let raw = "a=1&password%3Dhunter%2122+x";
        let d = pct_decode(raw).expect("has escapes");
        assert_eq!(d.text, "a=1&password=hunter!22 x");
        let s = d.text.find("hunter").unwrap_or(0);
        let (rs, re) = d.raw_range(s, s + "hunter!22".len());
        assert_eq!(&raw[rs..re], "hunter%2122");
        assert!(pct_decode("100% sure, %zz and %e9").is_none());
        // Non-ASCII escapes stay encoded, so the copy is UTF-8.
        let d = pct_decode("%C3%A9%20x").expect("one ASCII escape");
        assert_eq!(d.text, "%C3%A9 x");
    }

    #[test]
    fn runs_are_found_exactly_and_joined_across_wrapped_lines() {
        let b64 = "cGFzc3dvcmQ9aHVudGVyMjIgYW5kIG1vcmUgdGV4dA==";
        for pre in 0..9 {
            let text = format!("{}key: {b64} end", " ".repeat(pre));
            let runs = encoded_runs(text.as_bytes());
            let got: Vec<&str> = runs.iter().map(|&(s, e)| &text[s..e]).collect();
            assert_eq!(got, vec![b64], "offset {pre}");
        }
        let short = "abc defghijklmnopqrstuvwxyzABCDE xyz"; // 28-byte run: too short
        assert!(encoded_runs(short.as_bytes()).is_empty());
        let wrapped = format!("{}\n{}\n{}", "QUJD".repeat(19), "REVG".repeat(19), "R0hJ");
        let runs = encoded_runs(wrapped.as_bytes());
        assert_eq!(runs, vec![(0, wrapped.len())]);
        // A run at the very end, shorter than two words after the last whole word.
        let end = format!("x {}", "QUJD".repeat(9));
        assert_eq!(encoded_runs(end.as_bytes()), vec![(2, end.len())]);
    }

    #[test]
    fn the_word_test_is_a_superset_of_the_alphabet_and_exact_outside_controls() {
        for c in 0..=255u8 {
            let mut w = *b"AAAAAAAA";
            w[3] = c;
            let std = c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
            let got = word_b64(u64::from_le_bytes(w));
            if std {
                assert!(got, "{c:#x}");
            } else if !matches!(c, 0x0b | 0x0f | 0x10..=0x19) {
                assert!(!got, "{c:#x}");
            }
        }
    }

    #[test]
    fn decoding_gives_up_on_binary_and_retries_after_a_glued_prefix() {
        let text = "cGFzc3dvcmQ9aHVudGVyMjIgYW5kIG1vcmUgdGV4dA==";
        let (_, _, t) = decode_run(text, 0, text.len()).expect("text");
        assert_eq!(t, "password=hunter22 and more text");
        let hex = "70617373776f72643d68756e7465723232";
        let (_, _, t) = decode_run(hex, 0, hex.len()).expect("hex");
        assert_eq!(t, "password=hunter22");
        let sha = "4d5611e5241a462a8d155122611a95694d5611e5";
        assert!(decode_run(sha, 0, sha.len()).is_none());
        let glued = format!("files/{text}");
        let (s, _, _) = decode_run(&glued, 0, glued.len()).expect("after the slash");
        assert_eq!(s, 6);
    }
}
