//! The prefilter's two scans: keyword occurrences (a bigram-gated literal matcher)
//! and runs of digits (`digits`).
//!
//! Keywords. Every keyword is found, ASCII case ignored, at every position, overlapping
//! ones included (what an overlapping Aho-Corasick search reports). Instead of a DFA
//! walk (one dependent table load per byte, which holds a few hundred keywords to
//! ~400 MB/s), each keyword is indexed under its rarest two adjacent byte pairs; the
//! scan folds eight bytes at a time, tests the four byte pairs at even positions of
//! the word against a 64 KiB table of one byte per pair (four independent loads ORed,
//! one branch per word: most words hold no indexed pair), and where a pair hits,
//! tests an 8 KiB bitset of hashed three-byte grams (the pair with the keyword byte
//! after it, or before it) before comparing keywords: in prose and code most pair
//! hits (`si` of `asia`, `ok` of `token`) stop there. The comparison loads the eight
//! text bytes around the pair once, lower-cased eight at a time, and tests each
//! keyword indexed under the pair with one masked comparison of its bytes in that
//! window; only keywords reaching past the window are compared whole. The verdict
//! is exact: wherever a keyword occurs, one of its two indexed pairs starts at an
//! even position, and that pair's gram with its neighbour byte is in the bitset.
//!
//! Digit runs. One pass over 64-byte digit bitmasks (a chunk without a digit stops
//! after its SWAR flags) finds runs of digits joined by separators; a shape check
//! then drops runs no built-in digit rule can match (epoch-ms timestamps, ids), so
//! they cost no regex.

/// Folds ASCII upper case onto lower case for the bigram index (other bytes may
/// collide with a neighbour, e.g. `@` with `` ` ``: that only costs a comparison).
#[inline]
fn fold(b: u8) -> u8 {
    b | 0x20
}

/// Rough frequency of a (folded) byte in trace text: English prose, code and JSON.
fn freq(b: u8) -> u32 {
    match b {
        // Folded `_` (0x5f) and `@` / `` ` `` (0x40 / 0x60).
        0x7f => 15,
        0x60 => 3,
        b' ' => 150,
        b'e' => 127,
        b't' => 91,
        b'a' => 82,
        b'o' => 75,
        b'i' => 70,
        b'n' => 67,
        b's' => 63,
        b'h' => 61,
        b'r' => 60,
        b'"' => 50,
        b'd' => 43,
        b'l' => 40,
        b'0'..=b'9' => 30,
        b'c' | b'u' => 28,
        b'm' | b'w' => 24,
        b'f' => 22,
        b'g' | b'y' | b':' | b',' | b'.' | b'/' => 20,
        b'p' => 19,
        b'b' | b'-' => 15,
        b'v' => 10,
        b'k' => 8,
        b'=' | b'|' | b'{' | b'}' | b'(' | b')' => 6,
        b'j' | b'x' => 2,
        b'q' | b'z' => 1,
        _ => 3,
    }
}

/// Pairs so common in English that a product of byte frequencies underrates them.
const COMMON_PAIRS: &[&[u8; 2]] = &[
    b"th", b"he", b"in", b"er", b"an", b"re", b"on", b"at", b"en", b"nd", b"ti", b"es", b"or",
    b"te", b"of", b"ed", b"is", b"it", b"al", b"ar", b"st", b"to", b"nt", b"ng", b"se", b"ha",
    b"as", b"ou", b"io", b"le", b"ve", b"co", b"me", b"de", b"hi", b"ri", b"ro", b"ic", b"ne",
    b"ea", b"ra", b"ce", b"be", b"et", b"ct", b"ss", b"ke", b"ec", b"id", b"si", b"np", b"--",
    b"ut", b"pu", b"ag", b"ge",
];

fn pair_cost(a: u8, b: u8) -> u32 {
    let base = freq(a) * freq(b);
    if COMMON_PAIRS.iter().any(|p| p[0] == a && p[1] == b) {
        base * 4
    } else {
        base
    }
}

/// Every occurrence of a set of keywords, ASCII case ignored.
#[derive(Debug, Clone)]
pub struct Keywords {
    /// The keywords, lower case.
    pats: Vec<Vec<u8>>,
    /// One bit per folded byte pair that some keyword is indexed under.
    bits: Box<[u64; 1024]>,
    /// The same set as `bits`, one byte per pair (nonzero = indexed): the scan's
    /// test is one load per pair and one branch per four pairs.
    hit: Box<[u8; 1 << 16]>,
    /// Set bits in the words before each word of `bits` (so a pair's rank is O(1)).
    before: Box<[u16; 1024]>,
    /// For each indexed pair, by rank, the range of `entries` it owns.
    pairs: Vec<(u32, u32)>,
    /// The keywords indexed under each pair, grouped by offset (see [`Entry`]).
    entries: Vec<Entry>,
    /// One-byte keywords, folded (indexed under every pair they start or end; also
    /// checked at the last byte of the text when no scanned pair covers it).
    singles: Vec<(u8, u32)>,
    /// Second gate after a pair hit: hashed three-byte grams (see [`tri_next`],
    /// [`tri_prev`]) of every indexed keyword's pair with its next or previous byte.
    tri: Box<[u64; 1024]>,
    /// Pairs under which some keyword has no byte before or after the pair (a one- or
    /// two-byte keyword): every hit on them is verified.
    wild: Box<[u64; 1024]>,
}

/// Hash of a pair and the byte after it (all folded), 16 bits.
#[inline]
fn tri_next(pair: u16, c: u8) -> u16 {
    let k = (u32::from(pair) << 8 | u32::from(c)).wrapping_mul(0x9e37_79b1);
    (k >> 16) as u16
}

/// Hash of a pair and the byte before it (all folded), 16 bits.
#[inline]
fn tri_prev(c: u8, pair: u16) -> u16 {
    let k = (u32::from(c) << 16 | u32::from(pair) | 1 << 24).wrapping_mul(0x85eb_ca77);
    (k >> 16) as u16
}

/// One keyword indexed under a pair: which keyword, the offset of the pair in it
/// (-1 = the pair ends at its first byte), and the keyword's bytes that fall in the
/// eight-byte window around a pair hit (text bytes `i - 3 .. i + 5` for a pair at
/// `i`; lower case, little-endian, zeros elsewhere) with a mask of them. One window
/// load per hit, then one masked comparison per entry, rejects most entries;
/// `whole` says the window covers the whole keyword, so that comparison decides.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u32,
    off: i32,
    head: u64,
    mask: u64,
    whole: bool,
}

/// Bytes of the window before a pair hit (see [`Entry`]).
const WIN_BEFORE: i32 = 3;

impl Entry {
    fn new(id: u32, off: i32, p: &[u8]) -> Entry {
        let (mut head, mut mask) = (0u64, 0u64);
        let mut covered = 0;
        for k in 0..8i32 {
            let q = off - WIN_BEFORE + k;
            if let Some(&c) = usize::try_from(q).ok().and_then(|q| p.get(q)) {
                head |= u64::from(c.to_ascii_lowercase()) << (8 * k);
                mask |= 0xff << (8 * k);
                covered += 1;
            }
        }
        // A zero byte in the keyword could match the window's padding past the text.
        let whole = covered == p.len() && !p.contains(&0);
        Entry {
            id,
            off,
            head,
            mask,
            whole,
        }
    }
}

/// The eight bytes of `b` from `i - 3` (see [`Entry`]), zeros outside `b`.
#[inline]
fn window(b: &[u8], i: usize) -> u64 {
    match i.checked_sub(WIN_BEFORE as usize) {
        Some(s) if s + 8 <= b.len() => load8(b, s),
        _ => {
            let mut a = [0u8; 8];
            for (k, slot) in a.iter_mut().enumerate() {
                let at = (i + k).checked_sub(WIN_BEFORE as usize);
                if let Some(&c) = at.and_then(|at| b.get(at)) {
                    *slot = c;
                }
            }
            u64::from_le_bytes(a)
        }
    }
}

/// ASCII upper case folded onto lower case in each byte of `w`, exactly (other bytes,
/// non-ASCII included, unchanged): SWAR, eight bytes at a time.
#[inline]
fn lower8(w: u64) -> u64 {
    const HI: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let low7 = w & !HI;
    // 0x80 in a byte whose low seven bits are >= `A` and whose low seven bits are <= `Z`.
    let ge_a = low7.wrapping_add(ONES * (0x80 - 0x41));
    let gt_z = low7.wrapping_add(ONES * (0x80 - 0x5b));
    let upper = ge_a & !gt_z & !w & HI;
    w | (upper >> 2)
}

/// The eight bytes of `b` from `at`, little-endian, zero-padded past its end.
#[inline]
fn load8(b: &[u8], at: usize) -> u64 {
    match b.get(at..at + 8) {
        Some(s) => {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        }
        None => {
            let mut a = [0u8; 8];
            let rest = b.get(at..).unwrap_or_default();
            a[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(a)
        }
    }
}

#[inline]
fn test_bit(bits: &[u64; 1024], k: u16) -> bool {
    bits[usize::from(k >> 6)] & (1u64 << (k & 63)) != 0
}

#[inline]
fn set_bit(bits: &mut [u64; 1024], k: u16) {
    bits[usize::from(k >> 6)] |= 1u64 << (k & 63);
}

impl Keywords {
    /// Indexes `pats` (non-empty; compared ignoring ASCII case).
    pub fn new(pats: &[String]) -> Keywords {
        let pats: Vec<Vec<u8>> = pats.iter().map(|p| p.to_ascii_lowercase().into()).collect();
        // Only pairs at even text positions are tested, so each keyword is indexed under
        // two adjacent pairs (one of them starts at an even position wherever the keyword
        // occurs), and one- and two-byte keywords also under every pair ending at their
        // first byte. Each occurrence is then seen exactly once.
        let mut index: Vec<(u16, u32, i32)> = Vec::new();
        let mut singles = Vec::new();
        // Keywords already indexed under each pair: sharing a pair costs a comparison per
        // hit, so `session_token` goes under `n_` rather than next to `token` under `ok`.
        let mut load: std::collections::HashMap<u16, u32> = std::collections::HashMap::new();
        let mut order: Vec<usize> = (0..pats.len()).collect();
        order.sort_by_key(|&i| (pats[i].len(), i));
        for id in order {
            let p = &pats[id];
            let id = id as u32;
            match p.len() {
                0 => {}
                1 | 2 => {
                    if p.len() == 1 {
                        singles.push((fold(p[0]), id));
                        for x in 0..=255u8 {
                            index.push((u16::from_be_bytes([fold(p[0]), fold(x)]), id, 0));
                        }
                    } else {
                        index.push((u16::from_be_bytes([fold(p[0]), fold(p[1])]), id, 0));
                    }
                    for x in 0..=255u8 {
                        index.push((u16::from_be_bytes([fold(x), fold(p[0])]), id, -1));
                    }
                }
                _ => {
                    let pair_at = |o: usize| u16::from_be_bytes([fold(p[o]), fold(p[o + 1])]);
                    let cost = |o: usize| {
                        pair_cost(fold(p[o]), fold(p[o + 1]))
                            + 150 * load.get(&pair_at(o)).copied().unwrap_or(0)
                    };
                    let best = (0..p.len() - 2)
                        .min_by_key(|&o| cost(o) + cost(o + 1))
                        .unwrap_or(0);
                    for o in [best, best + 1] {
                        *load.entry(pair_at(o)).or_default() += 1;
                        index.push((pair_at(o), id, o as i32));
                    }
                }
            }
        }
        index.sort_unstable();
        index.dedup();
        let mut bits = Box::new([0u64; 1024]);
        let mut tri = Box::new([0u64; 1024]);
        let mut wild = Box::new([0u64; 1024]);
        for &(pair, id, off) in &index {
            let p = &pats[id as usize];
            // The keyword's bytes right after and right before the indexed pair.
            let next = usize::try_from(off + 2).ok().and_then(|o| p.get(o));
            let prev = usize::try_from(off - 1).ok().and_then(|o| p.get(o));
            match (next, prev) {
                (Some(&c), _) => set_bit(&mut tri, tri_next(pair, fold(c))),
                (None, Some(&c)) => set_bit(&mut tri, tri_prev(fold(c), pair)),
                (None, None) => set_bit(&mut wild, pair),
            }
        }
        let mut ranked: Vec<(u16, u32, u32)> = Vec::new();
        let mut entries: Vec<Entry> = Vec::with_capacity(index.len());
        for (pair, id, off) in index {
            bits[usize::from(pair >> 6)] |= 1u64 << (pair & 63);
            let at = entries.len() as u32;
            match ranked.last_mut() {
                Some(last) if last.0 == pair => last.2 = at + 1,
                _ => ranked.push((pair, at, at + 1)),
            }
            entries.push(Entry::new(id, off, &pats[id as usize]));
        }
        let mut hit = Box::new([0u8; 1 << 16]);
        for (k, slot) in hit.iter_mut().enumerate() {
            *slot = u8::from(test_bit(&bits, k as u16));
        }
        let mut before = Box::new([0u16; 1024]);
        let mut total = 0u16;
        for (w, b) in bits.iter().enumerate() {
            before[w] = total;
            total += b.count_ones() as u16;
        }
        Keywords {
            pats,
            bits,
            hit,
            before,
            pairs: ranked.into_iter().map(|(_, from, to)| (from, to)).collect(),
            entries,
            singles,
            tri,
            wild,
        }
    }

    /// Calls `f(keyword, start, end)` for every occurrence, in no particular order;
    /// stops early when `f` returns false.
    pub fn for_each(&self, text: &[u8], mut f: impl FnMut(usize, usize, usize) -> bool) {
        let n = text.len();
        if n == 0 {
            return;
        }
        // Four pairs per 8-byte word, folded at once (`fold` on every byte).
        let mut words = text.chunks_exact(8);
        let mut at = 0;
        for w in &mut words {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            let w = u64::from_be_bytes(a) | 0x2020_2020_2020_2020;
            let pairs = [
                (w >> 48) as u16,
                (w >> 32) as u16,
                (w >> 16) as u16,
                w as u16,
            ];
            let hit = |p: u16| self.hit[usize::from(p)];
            // Most words hold no indexed pair: one branch for the four.
            if hit(pairs[0]) | hit(pairs[1]) | hit(pairs[2]) | hit(pairs[3]) != 0 {
                for (k, &pair) in pairs.iter().enumerate() {
                    let i = at + 2 * k;
                    if hit(pair) != 0
                        && self.third_byte_fits(text, i, pair)
                        && !self.verify(text, i, pair, &mut f)
                    {
                        return;
                    }
                }
            }
            at += 8;
        }
        for (j, ab) in words.remainder().chunks_exact(2).enumerate() {
            let pair = u16::from_be_bytes([fold(ab[0]), fold(ab[1])]);
            if !test_bit(&self.bits, pair) {
                continue;
            }
            let i = at + 2 * j;
            if !self.third_byte_fits(text, i, pair) {
                continue;
            }
            if !self.verify(text, i, pair, &mut f) {
                return;
            }
        }
        if n % 2 == 0 {
            return; // the last byte ended a scanned pair
        }
        let last = fold(text[n - 1]);
        for &(c, id) in &self.singles {
            if c == last
                && self.pats[id as usize][0].eq_ignore_ascii_case(&text[n - 1])
                && !f(id as usize, n - 1, n)
            {
                return;
            }
        }
    }

    /// The second gate after a pair hit at `i`: false only when no keyword indexed
    /// under `pair` can have the bytes around it (exact: a gram of every entry is set).
    #[inline]
    fn third_byte_fits(&self, text: &[u8], i: usize, pair: u16) -> bool {
        if test_bit(&self.wild, pair) {
            return true;
        }
        let (Some(&next), Some(&prev)) =
            (text.get(i + 2), i.checked_sub(1).and_then(|p| text.get(p)))
        else {
            return true; // at an end of the text: verify
        };
        test_bit(&self.tri, tri_next(pair, fold(next)))
            || test_bit(&self.tri, tri_prev(fold(prev), pair))
    }

    /// Compares the keywords indexed under `pair` at text position `i`.
    #[cold]
    fn verify(
        &self,
        text: &[u8],
        i: usize,
        pair: u16,
        f: &mut impl FnMut(usize, usize, usize) -> bool,
    ) -> bool {
        let w = usize::from(pair >> 6);
        let rank = usize::from(self.before[w])
            + (self.bits[w] & ((1u64 << (pair & 63)) - 1)).count_ones() as usize;
        let Some(&(from, to)) = self.pairs.get(rank) else {
            return true;
        };
        let win = lower8(window(text, i));
        for e in &self.entries[from as usize..to as usize] {
            // The keyword's bytes in the window first: most entries differ there.
            if win & e.mask != e.head {
                continue;
            }
            let Some(start) = i.checked_add_signed(-(e.off as isize)) else {
                continue;
            };
            let p = &self.pats[e.id as usize];
            let end = start + p.len();
            if (e.whole
                || text
                    .get(start..end)
                    .is_some_and(|t| t.eq_ignore_ascii_case(p)))
                && !f(e.id as usize, start, end)
            {
                return false;
            }
        }
        true
    }

    /// True when any keyword occurs for which `want` is true.
    pub fn any(&self, text: &[u8], want: impl Fn(usize) -> bool) -> bool {
        let mut found = false;
        self.for_each(text, |id, _, _| {
            found = want(id);
            !found
        });
        found
    }
}

mod digits;
#[cfg(test)]
use digits::digit_mask;
pub use digits::{digit_run_may_be_pii, digit_runs};

#[cfg(test)]
mod tests;
