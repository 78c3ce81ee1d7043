//! Splits a byte stream into lines: holds a partial last line until its newline
//! arrives, and skips (with an error) any line longer than the cap without ever
//! holding more than the cap in memory.

/// What the splitter yields for each line.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line (without `\n`) and its 1-based number.
    Text(&'a [u8], u64),
    /// A line longer than the cap was skipped; its number.
    TooLong(u64),
}

/// Incremental line splitter with a byte offset that always ends on a line boundary.
#[derive(Debug)]
pub struct LineSplitter {
    pending: Vec<u8>,
    skipping: bool,
    cap: usize,
    line: u64,
    offset: u64,
}

/// Default line cap: 16 MiB.
pub const DEFAULT_LINE_CAP: usize = 16 << 20;

impl LineSplitter {
    /// Starts at byte `offset` / line `line` (lines already consumed).
    pub fn new(cap: usize, offset: u64, line: u64) -> LineSplitter {
        LineSplitter {
            pending: Vec::new(),
            skipping: false,
            cap,
            line,
            offset,
        }
    }

    /// Bytes consumed up to the end of the last complete line.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Lines consumed.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Bytes held for an unfinished last line.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Forgets a held partial line (after truncation or rotation).
    pub fn reset(&mut self, offset: u64, line: u64) {
        self.pending.clear();
        self.skipping = false;
        self.offset = offset;
        self.line = line;
    }

    /// Feeds a chunk; calls `f` for each complete line.
    pub fn push(&mut self, mut chunk: &[u8], mut f: impl FnMut(Line<'_>)) {
        while !chunk.is_empty() {
            match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    let part = &chunk[..i];
                    self.line += 1;
                    let consumed = (self.pending.len() + i + 1) as u64;
                    if self.skipping {
                        f(Line::TooLong(self.line));
                        self.skipping = false;
                    } else if self.pending.len() + part.len() > self.cap {
                        f(Line::TooLong(self.line));
                    } else if self.pending.is_empty() {
                        f(Line::Text(part, self.line));
                    } else {
                        self.pending.extend_from_slice(part);
                        let whole = std::mem::take(&mut self.pending);
                        f(Line::Text(&whole, self.line));
                        self.pending = whole;
                    }
                    self.offset += consumed;
                    self.pending.clear();
                    chunk = &chunk[i + 1..];
                }
                None => {
                    if !self.skipping {
                        if self.pending.len() + chunk.len() > self.cap {
                            self.skipping = true;
                            self.offset += self.pending.len() as u64;
                            self.pending.clear();
                            self.offset += chunk.len() as u64;
                        } else {
                            self.pending.extend_from_slice(chunk);
                        }
                    } else {
                        self.offset += chunk.len() as u64;
                    }
                    chunk = &[];
                }
            }
        }
    }

    /// End of input: a final line without `\n` counts as a line (import only).
    pub fn finish(&mut self, mut f: impl FnMut(Line<'_>)) {
        if self.skipping {
            self.line += 1;
            f(Line::TooLong(self.line));
        } else if !self.pending.is_empty() {
            self.line += 1;
            let whole = std::mem::take(&mut self.pending);
            f(Line::Text(&whole, self.line));
            self.offset += whole.len() as u64;
        }
        self.skipping = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &mut LineSplitter, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, |l| {
                out.push(match l {
                    Line::Text(t, n) => format!("{n}:{}", String::from_utf8_lossy(t)),
                    Line::TooLong(n) => format!("{n}:TOOLONG"),
                })
            });
        }
        out
    }

    #[test]
    fn holds_partial_lines() {
        let mut s = LineSplitter::new(100, 0, 0);
        let out = collect(&mut s, &[b"ab", b"c\nde", b"f\n\ng"]);
        assert_eq!(out, ["1:abc", "2:def", "3:"]);
        assert_eq!(s.offset(), 9);
        assert_eq!(s.pending(), 1);
        let mut last = Vec::new();
        s.finish(|l| last.push(format!("{l:?}")));
        assert_eq!(last.len(), 1);
        assert_eq!(s.offset(), 10);
    }

    #[test]
    fn skips_long_lines_without_holding_them() {
        let mut s = LineSplitter::new(4, 0, 0);
        let out = collect(&mut s, &[b"ok\n12345", b"6789", b"0\nfine\n"]);
        assert_eq!(out, ["1:ok", "2:TOOLONG", "3:fine"]);
        assert!(s.pending() == 0);
        assert_eq!(s.offset(), 3 + 11 + 5);
        let mut s = LineSplitter::new(4, 0, 0);
        let out = collect(&mut s, &[b"123456\n"]);
        assert_eq!(out, ["1:TOOLONG"]);
        assert_eq!(s.offset(), 7);
    }
}
