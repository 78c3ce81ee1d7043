//! Zero-filled blocks in a JSON Lines file: after a crash or power loss a
//! file can be longer than what reached the disk, the gap read back as NUL
//! bytes (ext4 delayed allocation, NTFS; reported for Claude Code in
//! anthropics/claude-code#49876 and #76059, for Copilot CLI in
//! github/copilot-cli#2927). NUL bytes at either end of a line are cut off,
//! so a whole record beside such a block is still read; the line is still
//! reported, as what was written into the block is lost.

use super::FormatError;

/// The line without the NUL bytes at its ends, and how many were cut.
pub fn strip(bytes: &[u8]) -> (&[u8], usize) {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| b != 0).map_or(start, |i| i + 1);
    (&bytes[start..end], bytes.len() - (end - start))
}

/// The error for a line that held `n` NUL bytes; `read` when a record beside them was read.
pub fn error(n: usize, read: bool) -> FormatError {
    let what = if read {
        "the record beside it was read"
    } else {
        "no record in it"
    };
    FormatError::Shape(format!(
        "a block of {n} NUL byte(s), zero-filled by a crash before the data reached the disk \
         ({what}; what was written there is lost)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nuls_are_cut_from_both_ends_only() {
        assert_eq!(strip(b"\0\0{\"a\":1}\0\0\0"), (&b"{\"a\":1}"[..], 5));
        assert_eq!(strip(b"{\"a\":1}"), (&b"{\"a\":1}"[..], 0));
        assert_eq!(strip(b"{\"a\":\0}"), (&b"{\"a\":\0}"[..], 0));
        assert_eq!(strip(b"\0\0\0"), (&b""[..], 3));
        assert_eq!(strip(b""), (&b""[..], 0));
    }

    /// The shapes of anthropics/claude-code#76059 (a 159-byte record followed
    /// by ~9 KB of NULs; a last line of NULs only) in a Claude Code file.
    #[test]
    fn a_record_padded_with_nuls_is_read_and_the_block_reported() {
        use super::super::{FileParser, Record};
        let user = |n: u32| {
            format!(
                r#"{{"type":"user","sessionId":"s","uuid":"u{n}","timestamp":"2026-07-09T10:00:0{n}Z","message":{{"role":"user","content":"prompt {n}"}}}}"#
            )
        };
        let mut padded = user(2).into_bytes();
        padded.extend(std::iter::repeat_n(0u8, 9 << 10));
        let lines = [
            user(1).into_bytes(),
            padded,
            user(3).into_bytes(),
            vec![0u8; 4096],
        ];
        let mut p = FileParser::new("s.jsonl", None);
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if let Err(e) = p.line(l, i as u64 + 1, &mut out) {
                errors.push((i + 1, e.to_string()));
            }
        }
        let read: Vec<_> = out
            .iter()
            .filter_map(|r| match r {
                Record::Span(s) => s.text.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(read, ["prompt 1", "prompt 2", "prompt 3"]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].0, 2);
        assert!(errors[0].1.contains("9216 NUL") && errors[0].1.contains("was read"));
        assert_eq!(errors[1].0, 4);
        assert!(errors[1].1.contains("4096 NUL") && errors[1].1.contains("no record"));
    }
}
