//! Whole-file JSON documents: whether a file is one (a `.json` file, or any
//! file whose first line opens a value it does not close), how a broken one
//! is salvaged (cut after its last complete record and closed again), and
//! what a re-read of a changed document already handed to the store.

use super::formats::Record;
use crate::hash::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::path::Path;

/// Bytes of a file's head looked at to tell a document from JSON Lines.
const HEAD: usize = 4096;

/// True when `path` is read as one JSON document: a `.json` file, or a file
/// (`.jsonl`, `.ndjson`) whose first line is a pretty-printed value's opening.
pub fn is_document(path: &Path) -> bool {
    // A compressed file is read whole, as a document is (`TraceFile::pump_document`).
    if path.extension().and_then(|e| e.to_str()) == Some("json")
        || super::compressed::is_compressed(path)
    {
        return true;
    }
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(HEAD);
    if f.take(HEAD as u64).read_to_end(&mut head).is_err() {
        return false;
    }
    head_opens_document(&head)
}

/// A head whose first non-blank line starts a JSON object or array and is
/// not a whole value on its own (`{` alone, `[`, `{"a": 1,`...).
pub fn head_opens_document(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(line) = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
    else {
        return false;
    };
    let trimmed = line.trim_ascii_start();
    matches!(trimmed.first(), Some(b'{' | b'[')) && !is_complete_value(trimmed)
}

/// True when the first line of `bytes` is a complete JSON value on its own
/// (the file is JSON Lines even if named `.json`).
pub fn first_line_is_value(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    is_complete_value(line.strip_suffix(b"\r").unwrap_or(line))
}

fn is_complete_value(line: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

/// A document cut short (or broken mid-way) made whole again: everything up
/// to the end of the last complete element of an array, with the brackets
/// still open at that point closed. `None` when no element was complete.
/// Returns the repaired text and the byte offset where the original was cut.
pub fn salvage(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut cut: Option<usize> = None; // the byte after the last complete element
    walk_brackets(bytes, |i, b, stack| {
        if matches!(b, b'}' | b']') && stack.last() == Some(&b'[') {
            cut = Some(i + 1);
        }
    });
    let at = cut?;
    let open = walk_brackets(&bytes[..at], |_, _, _| {});
    let mut fixed = bytes[..at].to_vec();
    for &o in open.iter().rev() {
        fixed.push(if o == b'{' { b'}' } else { b']' });
    }
    Some((fixed, at))
}

/// Walks the brackets of `bytes` that lie outside strings, calling `f(index,
/// bracket, open brackets after it)` for each, and stops at a closing bracket
/// that does not match (no longer JSON). Returns the brackets left open.
fn walk_brackets(bytes: &[u8], mut f: impl FnMut(usize, u8, &[u8])) -> Vec<u8> {
    let mut stack = Vec::new();
    let mut in_str = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                stack.push(b);
                f(i, b, &stack);
            }
            b'}' | b']' => {
                let want = if b == b'}' { b'{' } else { b'[' };
                if stack.pop() != Some(want) {
                    break;
                }
                f(i, b, &stack);
            }
            _ => {}
        }
    }
    stack
}

/// What earlier reads of one document handed on: the last version of each
/// span (by run and id) and every run update, as hashes. A re-read of a
/// changed document then passes on only the spans that changed and the run
/// updates not seen before, so the store writes (and the scan redacts and
/// checks) only what is new. Span ids are stable across reads, so what is
/// passed on merges into what is stored.
#[derive(Debug, Default)]
pub struct Seen {
    /// (run, span id, which copy of it in one read) → hash of that copy.
    spans: HashMap<(String, String, u32), u64>,
    runs: HashSet<u64>,
    hasher: foldhash::fast::FixedState,
}

/// Feeds serialized bytes to a hasher without building the text.
struct HashWriter<H: Hasher>(H);

impl<H: Hasher> std::io::Write for HashWriter<H> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seen {
    fn hash<T: serde::Serialize>(&self, v: &T) -> u64 {
        let mut w = HashWriter(self.hasher.build_hasher());
        // Writing into a hasher cannot fail; a value serde cannot write hashes as what it wrote.
        let _ = serde_json::to_writer(&mut w, v);
        w.0.finish()
    }

    /// Drops from `records` what an earlier read already passed on, and remembers the rest.
    /// A span may come twice in one read (a call, then its result): each copy
    /// is compared with the same copy of the last read.
    pub fn keep_new(&mut self, records: &mut Vec<Record>) {
        let mut copies: HashMap<(&str, &str), u32> = HashMap::default();
        let keep: Vec<bool> = records
            .iter()
            .map(|r| match r {
                Record::Span(s) => {
                    let n = copies.entry((&s.run_id, &s.id)).or_default();
                    *n += 1;
                    let h = self.hash(s);
                    let key = (s.run_id.clone(), s.id.clone(), *n);
                    self.spans.insert(key, h) != Some(h)
                }
                Record::Run(run) => {
                    let h = self.hash(run);
                    self.runs.insert(h)
                }
                _ => true,
            })
            .collect();
        let mut i = 0;
        records.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }

    /// Span copies remembered.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Run, Span, SpanKind};

    #[test]
    fn documents_are_told_from_lines_by_their_head() {
        assert!(head_opens_document(b"{\n  \"sessionId\": \"x\",\n"));
        assert!(head_opens_document(
            b"\xEF\xBB\xBF\n[\n  {\"role\": \"user\"}\n"
        ));
        assert!(head_opens_document(b"{\"a\": 1,\n\"b\": 2}"));
        assert!(!head_opens_document(b"{\"a\": 1}\n{\"a\": 2}\n"));
        assert!(!head_opens_document(b"plain text\n"));
        assert!(!head_opens_document(b""));
        assert!(first_line_is_value(b"{\"a\":1}\r\n{\"a\":2}"));
        assert!(!first_line_is_value(b"{\n\"a\":1}"));
    }

    #[test]
    fn a_cut_document_keeps_its_complete_records() {
        let doc =
            br#"{"sessionId":"s","messages":[{"id":"a","text":"x]}"},{"id":"b"},{"id":"c","te"#;
        let (fixed, at) = salvage(doc).expect("salvaged");
        let v: serde_json::Value = serde_json::from_slice(&fixed).expect("valid");
        assert_eq!(v["messages"].as_array().map(Vec::len), Some(2));
        assert!(doc[..at].ends_with(br#"{"id":"b"}"#));
        let arr = b"[{\"a\":1},\n{\"a\":2},\n{\"a\"";
        let (fixed, _) = salvage(arr).expect("salvaged");
        assert_eq!(fixed, b"[{\"a\":1},\n{\"a\":2}]");
        assert!(salvage(b"{\"a\":\"no array\"").is_none());
        assert!(salvage(b"[1, 2, 3").is_none(), "scalars are not records");
    }

    #[test]
    fn a_reread_passes_on_only_what_changed() {
        let o = Origin::new("d.json", 1);
        let run = Run {
            id: "r".into(),
            ..Run::default()
        };
        let a = Span::new("a", "r", SpanKind::Tool, "bash", o.clone());
        let mut b = Span::new("b", "r", SpanKind::Tool, "bash", o);
        let mut seen = Seen::default();
        let mut first = vec![
            Record::Run(run.clone()),
            Record::Span(a.clone()),
            Record::Span(b.clone()),
        ];
        seen.keep_new(&mut first);
        assert_eq!(first.len(), 3);
        b.tool_output = Some("done".into());
        let mut second = vec![Record::Run(run), Record::Span(a), Record::Span(b)];
        seen.keep_new(&mut second);
        assert!(matches!(&second[..], [Record::Span(s)] if s.id == "b"));
        assert_eq!(seen.len(), 2);
    }
}
