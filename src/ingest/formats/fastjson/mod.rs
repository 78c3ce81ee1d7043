//! A direct JSON reader for the borrowed tree ([`Value`]), faster than going
//! through serde: members and items gather on shared stacks and move, once
//! complete, into an exactly sized slice of a caller's arena ([`parse_in`]:
//! no heap allocation, nothing to drop) or into an owned vector ([`parse`]);
//! strings borrow from the input (those with escapes are decoded into the
//! arena, or owned); UTF-8 is checked once per line.
//!
//! It is a fast path only: it returns `None` whenever it cannot be sure to
//! build exactly the tree `serde_json` would (any syntax error, a lone
//! surrogate escape, deep nesting, numbers other than plain integers are
//! handed to `serde_json` itself), and the caller then decodes with serde,
//! which yields the same tree or the same error as before.

use super::json::{Array, Member, Object, Value};
use bumpalo::Bump;
use std::borrow::Cow;

/// Deepest nesting read here; deeper input goes to serde (whose limit is 128).
const MAX_DEPTH: u32 = 100;

/// Largest escape buffer kept between documents.
const UNESCAPED_KEEP: usize = 1 << 20;

// The arena never runs destructors: whatever goes into it must own nothing
// (numbers hold no heap text as long as serde_json's `arbitrary_precision`
// stays off).
const _: () = assert!(!std::mem::needs_drop::<serde_json::Number>());

/// Parses `text` as one JSON value into an owned tree; `None` = let serde decide.
pub fn parse(text: &str) -> Option<Value<'_>> {
    parse_with(text, &mut Scratch::default())
}

/// The member and item stacks and the escape buffer, kept (empty) between
/// documents so their capacity is reused: no regrowth per line.
#[derive(Debug, Default)]
pub struct Scratch {
    members: Vec<Member<'static>>,
    items: Vec<Value<'static>>,
    unescaped: String,
}

/// An emptied vector with its capacity, for values of another lifetime
/// (same layout, so the collect reuses the allocation in place).
fn recycle<'x, 'y, T: Relifetime<'x, 'y>>(mut v: Vec<T>) -> Vec<T::Out> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Tree element types that differ only by lifetime.
trait Relifetime<'x, 'y> {
    type Out;
}
impl<'x, 'y> Relifetime<'x, 'y> for Member<'x> {
    type Out = Member<'y>;
}
impl<'x, 'y> Relifetime<'x, 'y> for Value<'x> {
    type Out = Value<'y>;
}

/// [`parse`] with stacks kept in `scratch`.
pub fn parse_with<'a>(text: &'a str, scratch: &mut Scratch) -> Option<Value<'a>> {
    read(text, None, scratch)
}

/// [`parse`] building the tree in `arena`: arrays, objects and escaped
/// strings are slices of it, so the tree needs no drop (reset the arena to
/// free it). The tree is the same as [`parse`]'s.
pub fn parse_in<'a>(text: &'a str, arena: &'a Bump, scratch: &mut Scratch) -> Option<Value<'a>> {
    read(text, Some(arena), scratch)
}

fn read<'a>(text: &'a str, arena: Option<&'a Bump>, scratch: &mut Scratch) -> Option<Value<'a>> {
    let mut r = Reader {
        s: text,
        b: text.as_bytes(),
        i: 0,
        depth: 0,
        arena,
        // Empty stacks of `'static` values serve as stacks of `'a` ones as
        // they are (covariance); only the way back needs `recycle`.
        members: std::mem::take(&mut scratch.members),
        items: std::mem::take(&mut scratch.items),
        unescaped: std::mem::take(&mut scratch.unescaped),
    };
    let v = r.value().and_then(|v| {
        r.skip_ws();
        (r.i == r.b.len()).then_some(v)
    });
    scratch.members = recycle(r.members);
    scratch.items = recycle(r.items);
    // A huge escaped string's buffer is not kept for the rest of the file.
    if r.unescaped.capacity() <= UNESCAPED_KEEP {
        scratch.unescaped = r.unescaped;
    }
    v
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    depth: u32,
    /// Where complete arrays, objects and escaped strings go (`None`: owned).
    arena: Option<&'a Bump>,
    /// Members of the objects being read, innermost last.
    members: Vec<Member<'a>>,
    /// Items of the arrays being read, innermost last.
    items: Vec<Value<'a>>,
    /// Decoding buffer for escaped strings bound for the arena.
    unescaped: String,
}

impl<'a> Reader<'a> {
    #[inline]
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                break;
            }
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self) -> Option<Value<'a>> {
        self.skip_ws();
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.string().map(Value::String)
            }
            b'{' => self.object(),
            b'[' => self.array(),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// [`Reader::value`] with strings (most members) read without the dispatch.
    #[inline]
    fn member_value(&mut self) -> Option<Value<'a>> {
        self.skip_ws();
        if self.peek() == Some(b'"') {
            self.i += 1;
            return self.string().map(Value::String);
        }
        self.value()
    }

    fn literal(&mut self, word: &[u8], v: Value<'a>) -> Option<Value<'a>> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn object(&mut self) -> Option<Value<'a>> {
        self.i += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mark = self.members.len();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                self.skip_ws();
                if self.peek()? != b'"' {
                    return None;
                }
                self.i += 1;
                let key = self.string()?;
                self.skip_ws();
                if self.peek()? != b':' {
                    return None;
                }
                self.i += 1;
                let v = self.member_value()?;
                self.members.push((key, v));
                self.skip_ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        let members = self.members.drain(mark..);
        Some(Value::Object(match self.arena {
            Some(arena) => Object::from_slice(arena.alloc_slice_fill_iter(members)),
            None => Object::from_members(members.collect()),
        }))
    }

    fn array(&mut self) -> Option<Value<'a>> {
        self.i += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mark = self.items.len();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                let v = self.member_value()?;
                self.items.push(v);
                self.skip_ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        let items = self.items.drain(mark..);
        Some(Value::Array(match self.arena {
            Some(arena) => Array::from_slice(arena.alloc_slice_fill_iter(items)),
            None => Array::from_vec(items.collect()),
        }))
    }

    /// A number: plain integers here, anything else through serde_json on its own text.
    fn number(&mut self) -> Option<Value<'a>> {
        let start = self.i;
        let mut end = start;
        while let Some(&c) = self.b.get(end) {
            if !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                break;
            }
            end += 1;
        }
        self.i = end;
        let tok = &self.b[start..end];
        let (neg, digits) = match tok.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, tok),
        };
        let plain = !digits.is_empty()
            && digits.len() <= 18
            && digits.iter().all(u8::is_ascii_digit)
            && (digits[0] != b'0' || digits.len() == 1);
        if plain {
            let n = digits
                .iter()
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            if !neg {
                return Some(Value::Number(n.into()));
            }
            if n != 0 {
                // n < 10^18 fits: serde_json yields a negative i64 here.
                return Some(Value::Number((-(n as i64)).into()));
            }
        }
        // `-0`, fractions, exponents, big integers and malformed numbers: serde_json
        // reads the same text the same way it would inside the document (the token
        // ends where its grammar must end, or serde rejects both).
        serde_json::from_slice::<serde_json::Number>(tok)
            .ok()
            .map(Value::Number)
    }

    /// The rest of a string whose opening quote is consumed. Its bytes are
    /// scanned once: a string with escapes is decoded from where the scan
    /// for its end stopped at the first `\`.
    #[inline]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.i;
        let end = self.scan_plain(start);
        match self.b.get(end)? {
            b'"' => {
                self.i = end + 1;
                self.s.get(start..end).map(Cow::Borrowed)
            }
            b'\\' => self.escaped_string(start, end),
            _ => None, // a control character: serde rejects it
        }
    }

    /// A string with escapes from `start`, its first `\` at `at`: decoded in
    /// the reused buffer, then copied once, exactly sized, into the arena
    /// (or into an owned string).
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, at: usize) -> Option<Cow<'a, str>> {
        let mut out = std::mem::take(&mut self.unescaped);
        out.clear();
        let done = self.escaped(start, at, &mut out);
        let s = done.map(|()| match self.arena {
            Some(arena) => Cow::Borrowed(&*arena.alloc_str(&out)),
            None => Cow::Owned(out.as_str().to_owned()),
        });
        self.unescaped = out;
        s
    }

    /// Index of the first `"`, `\` or control byte at or after `i` (or the end).
    #[inline]
    fn scan_plain(&self, mut i: usize) -> usize {
        const ONES: u64 = u64::MAX / 255;
        const HIGH: u64 = ONES << 7;
        let b = self.b;
        while i + 8 <= b.len() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            let x = u64::from_le_bytes(w);
            let ctrl = x.wrapping_sub(ONES * 0x20) & !x;
            let q = x ^ (ONES * u64::from(b'"'));
            let quote = q.wrapping_sub(ONES) & !q;
            let bs = x ^ (ONES * u64::from(b'\\'));
            let back = bs.wrapping_sub(ONES) & !bs;
            let hit = (ctrl | quote | back) & HIGH;
            if hit != 0 {
                return i + hit.trailing_zeros() as usize / 8;
            }
            i += 8;
        }
        while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) {
            i += 1;
        }
        i
    }

    /// A string with escapes, from `start`; the first `\` is at `at`.
    fn escaped(&mut self, start: usize, mut at: usize, out: &mut String) -> Option<()> {
        let mut from = start;
        loop {
            out.push_str(self.s.get(from..at)?);
            match self.b.get(at)? {
                b'"' => {
                    self.i = at + 1;
                    return Some(());
                }
                b'\\' => {}
                _ => return None,
            }
            let esc = *self.b.get(at + 1)?;
            at += 2;
            match esc {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let n = self.hex4(at)?;
                    at += 4;
                    let c = match n {
                        0xD800..=0xDBFF => {
                            // A leading surrogate must be followed by a trailing one.
                            if self.b.get(at..at + 2)? != b"\\u" {
                                return None;
                            }
                            let lo = self.hex4(at + 2)?;
                            if !(0xDC00..=0xDFFF).contains(&lo) {
                                return None;
                            }
                            at += 6;
                            char::from_u32(0x10000 + ((n - 0xD800) << 10) + (lo - 0xDC00))?
                        }
                        0xDC00..=0xDFFF => return None,
                        _ => char::from_u32(n)?,
                    };
                    out.push(c);
                }
                _ => return None,
            }
            from = at;
            at = self.scan_plain(at);
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.b.get(at..at + 4)?;
        h.iter().try_fold(0u32, |n, &c| {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            Some(n * 16 + u32::from(d))
        })
    }
}

#[cfg(test)]
mod tests;
