//! The prefilter's second scan: runs of digits joined by separators, found over
//! 64-byte digit bitmasks (a chunk without a digit stops after its SWAR flags),
//! and the shape check that drops runs no built-in digit rule can match
//! (epoch-ms timestamps, ids), so they cost no regex.

/// 0x80 in each byte of `x` that is an ASCII digit, 0 in every other byte: SWAR,
/// eight bytes at a time.
#[inline]
fn digit_flags8(x: u64) -> u64 {
    const HI: u64 = 0x8080_8080_8080_8080;
    // A digit is 0x30..=0x39: `t = x ^ 0x30` is below 10 exactly in digit bytes.
    let t = x ^ 0x3030_3030_3030_3030;
    // 0x80 where `t` (its low seven bits) is 10 or more; no borrow crosses a byte.
    let ge10 = ((t | HI) - 0x0a0a_0a0a_0a0a_0a0a) & HI;
    !ge10 & !t & HI
}

/// Bit `j` set when `chunk[j]` is an ASCII digit (`chunk` at most 64 bytes). The
/// per-byte flags of all eight words come first; a chunk without a digit (prose,
/// most code) stops there, before gathering them into bits.
#[inline]
pub(super) fn digit_mask(chunk: &[u8]) -> u64 {
    let mut flags = [0u64; 8];
    let mut any = 0u64;
    let mut words = chunk.chunks_exact(8);
    for (slot, w) in flags.iter_mut().zip(&mut words) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        *slot = digit_flags8(u64::from_le_bytes(a));
        any |= *slot;
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut a = [0u8; 8];
        a[..rest.len()].copy_from_slice(rest);
        let f = digit_flags8(u64::from_le_bytes(a));
        if let Some(slot) = flags.get_mut(chunk.len() / 8) {
            *slot = f;
        }
        any |= f;
    }
    if any == 0 {
        return 0;
    }
    let mut m = 0u64;
    for (k, &f) in flags.iter().enumerate() {
        // Gather the eight 0x80 flags into the low byte.
        m |= ((f >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    m
}

/// Runs of at least `min` digits, where single separators (space, `-`, `.`, `(`, `)`, `/`)
/// or a pair of them may sit between digit groups. Returns (start, end) of each run.
///
/// Works on 64-byte digit bitmasks: each group of adjacent digits is found with two
/// bit scans, and groups join when the gap between them is one or two separators.
pub fn digit_runs(b: &[u8], min: usize) -> Vec<(usize, usize)> {
    let is_sep = |c: u8| matches!(c, b' ' | b'-' | b'.' | b'(' | b')' | b'/');
    let mut out = Vec::new();
    // The open run: (start, end, digits).
    let mut cur: Option<(usize, usize, usize)> = None;
    for (k, chunk) in b.chunks(64).enumerate() {
        let base = k * 64;
        let mut m = digit_mask(chunk);
        while m != 0 {
            let tz = m.trailing_zeros() as usize;
            let len = (!(m >> tz)).trailing_zeros() as usize;
            let (gs, ge) = (base + tz, base + tz + len);
            // Clear the lowest run of ones (the carry of adding its lowest bit runs
            // through it; past bit 63 it drops out).
            m &= m.wrapping_add(m & m.wrapping_neg());
            cur = match cur {
                Some((s, e, d))
                    if gs == e
                        || (gs == e + 1 && is_sep(b[e]))
                        || (gs == e + 2 && is_sep(b[e]) && is_sep(b[e + 1])) =>
                {
                    Some((s, ge, d + len))
                }
                Some((s, e, d)) => {
                    if d >= min {
                        out.push((s, e));
                    }
                    Some((gs, ge, len))
                }
                None => Some((gs, ge, len)),
            };
        }
    }
    if let Some((s, e, d)) = cur {
        if d >= min {
            out.push((s, e));
        }
    }
    out
}

/// False when no built-in digit rule can match around the digit run `b[s..e]`:
///
/// - phone and SSN need a separator inside the run or a `+` / `(` before it;
/// - an IBAN needs an upper-case letter before the run (its country code, or a
///   letter group, directly or across one space);
/// - a card written without separators is the whole run: 13–19 digits starting
///   with an issuer digit 2–6.
///
/// So a bare epoch-ms timestamp (`1739376145227`), an epoch-seconds value or a long
/// id glued to quotes, `:` or `,` costs no regex. Any run with a separator, or that
/// could be a card, still goes to the rules (and their validators).
pub fn digit_run_may_be_pii(b: &[u8], s: usize, e: usize) -> bool {
    let Some(run) = b.get(s..e) else {
        return true;
    };
    let prev = s.checked_sub(1).and_then(|i| b.get(i)).copied();
    let prev2 = s.checked_sub(2).and_then(|i| b.get(i)).copied();
    match prev {
        Some(b'+' | b'(') => return true,
        Some(c) if c.is_ascii_uppercase() => return true,
        Some(b' ') if prev2.is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) => {
            return true
        }
        _ => {}
    }
    groups_may_be_pii(run)
}

/// Whether the digit groups of a run (the digits between its separators) have a shape
/// a built-in digit rule needs when no `+`, `(` or upper-case letter stands before the
/// run: every such match is whole groups of one run, so it is an SSN (3-2-4 digits), a
/// phone (3-3-4, `(` and `)` being separators), a grouped card (4-4-4-4 or 4-6-5) as
/// consecutive groups, or one group of 13–19 digits starting with 2–6 (a card written
/// without separators). A UUID's or a date's digit groups (`15-5122611`) are none.
fn groups_may_be_pii(run: &[u8]) -> bool {
    // Lengths of the last four groups, newest last.
    let mut last = [0usize; 4];
    let mut i = 0;
    while i < run.len() {
        if !run[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < run.len() && run[i].is_ascii_digit() {
            i += 1;
        }
        let len = i - start;
        if (13..=19).contains(&len) && matches!(run[start], b'2'..=b'6') {
            return true;
        }
        last = [last[1], last[2], last[3], len];
        if matches!(&last[1..], [3, 2, 4] | [3, 3, 4] | [4, 6, 5]) || last == [4, 4, 4, 4] {
            return true;
        }
    }
    false
}
