//! Records broken across lines: a JSON Lines writer that put raw newlines
//! inside a string (GitHub Copilot CLI 1.0.24 wrote fetched pages into
//! `tool.execution_complete` this way, github/copilot-cli#2649) leaves one
//! record as several physical lines. The first of them is a parse error as
//! written (it is not JSON), but it is held when it ends inside an open string
//! of an object, and the following lines are joined to it, each newline
//! restored as the `\n` escape: when they close the record, it is read (as of
//! its first line) and the pieces are no errors of their own; when they cannot
//! (a syntax error, a limit), the line that showed it is read on its own.

/// A record still open at the end of its last line.
#[derive(Debug)]
pub struct Pending {
    /// The line the record began on.
    pub first: u64,
    /// Its bytes so far, newlines escaped.
    pub bytes: Vec<u8>,
    /// Physical lines it spans so far.
    lines: u64,
    /// Where the bytes so far end: inside a string, after a backslash.
    state: Strings,
    /// Whole-record checks made so far (see [`Pending::still_open_after`]).
    checks: u32,
}

/// A held record is given up past this many bytes or lines.
const MAX_BYTES: usize = 16 << 20;
const MAX_LINES: u64 = 100_000;

impl Pending {
    /// Holds `line` when it is an object cut inside a string (else `None`).
    pub fn open(line: &[u8], line_no: u64) -> Option<Pending> {
        opens_cut_string(line).then(|| Pending {
            first: line_no,
            bytes: line.to_vec(),
            lines: 1,
            state: Strings::default().after(line),
            checks: 0,
        })
    }

    /// Appends the next physical line, the newline between them escaped
    /// (each byte is looked at once, so a long record costs its length).
    /// `false` when the record has grown past the limits.
    pub fn push(&mut self, line: &[u8]) -> bool {
        self.bytes.extend_from_slice(b"\\n");
        self.state = self.state.after(b"\\n").after(line);
        self.bytes.extend_from_slice(line);
        self.lines += 1;
        self.bytes.len() <= MAX_BYTES && self.lines <= MAX_LINES
    }

    /// True while the bytes so far end inside a string: more lines may close
    /// it. Once they do not, the record is decoded once, whole or given up.
    pub fn in_string(&self) -> bool {
        self.state.inside
    }

    /// After a pushed `line` that left the record inside a string: still
    /// open, or given up. A piece of a string has its quotes escaped, so a
    /// piece that is a whole JSON object of its own is a new record unless
    /// the joined bytes are still a record cut in a string (checked by the
    /// decoder, at most [`MAX_CHECKS`] times a record).
    pub fn still_open_after(&mut self, line: &[u8]) -> bool {
        let start = line.iter().position(|b| !b.is_ascii_whitespace());
        let object = start.is_some_and(|i| line[i..].starts_with(b"{\""))
            && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok();
        if !object {
            return true;
        }
        self.checks += 1;
        self.checks <= MAX_CHECKS
            && serde_json::from_slice::<serde::de::IgnoredAny>(&self.bytes)
                .is_err_and(|e| e.is_eof())
    }
}

/// Whole-record checks of one held record before it is given up.
const MAX_CHECKS: u32 = 16;

/// True when `bytes` ends inside a string of a JSON object that is still
/// open: the JSON decoder stops at the end of input (not at a syntax error)
/// and a string is open there.
pub fn opens_cut_string(bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') || !Strings::default().after(bytes).inside {
        return false;
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

/// Where JSON text ends with respect to its strings (unescaped quotes counted).
#[derive(Debug, Default, Clone, Copy)]
struct Strings {
    inside: bool,
    escaped: bool,
}

impl Strings {
    fn after(mut self, bytes: &[u8]) -> Strings {
        for &b in bytes {
            if self.escaped {
                self.escaped = false;
            } else if self.inside && b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.inside = !self.inside;
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_cut_inside_a_string_is_held() {
        assert!(opens_cut_string(
            br#"{"type":"x","data":{"content":"line one"#
        ));
        assert!(opens_cut_string(br#"{"a":"say \"hi"#));
        // Complete, broken elsewhere, or cut outside a string: not this class.
        assert!(!opens_cut_string(br#"{"a":"b"}"#));
        assert!(!opens_cut_string(br#"{"a":"b" "c"}"#));
        assert!(!opens_cut_string(b"{"));
        assert!(!opens_cut_string(br#"{"a":["b","#));
        assert!(!opens_cut_string(br#"["a","b"#));
        assert!(!opens_cut_string(b"plain text"));
    }

    #[test]
    fn joined_lines_close_the_record_with_escaped_newlines() {
        let mut p = Pending::open(br#"{"a":"one"#, 7).unwrap();
        assert!(p.push(b""));
        assert!(p.in_string());
        assert!(p.push(br#"three"}"#));
        assert!(!p.in_string());
        let v: serde_json::Value = serde_json::from_slice(&p.bytes).unwrap();
        assert_eq!(v["a"], "one\n\nthree");
        assert_eq!(p.first, 7);
        assert_eq!(p.lines, 3);
    }

    /// Copilot CLI 1.0.24's `tool.execution_complete` with a fetched page's raw
    /// newlines (the shape of github/copilot-cli#2649), between whole records.
    fn copilot_lines() -> Vec<String> {
        let start = r#"{"type":"session.start","data":{"sessionId":"s1","version":1,"producer":"copilot-agent","copilotVersion":"1.0.24","startTime":"2026-04-11T10:00:00Z","context":{"cwd":"/w"}},"id":"e0","timestamp":"2026-04-11T10:00:00Z","parentId":null}"#;
        let call = r#"{"type":"tool.execution_start","data":{"toolCallId":"c1","toolName":"web_fetch","arguments":{"url":"https://example.com/pricing"}},"id":"e1","timestamp":"2026-04-11T10:00:01Z","parentId":"e0"}"#;
        let done = "{\"type\":\"tool.execution_complete\",\"data\":{\"toolCallId\":\"c1\",\"success\":true,\"result\":{\"content\":\"Contents of https://example.com/pricing:\n\nPlans\n\\\"Pro\\\" tier\"}},\"id\":\"e2\",\"timestamp\":\"2026-04-11T10:00:02Z\",\"parentId\":\"e1\"}";
        let next = r#"{"type":"user.message","data":{"content":"thanks"},"id":"e3","timestamp":"2026-04-11T10:00:03Z","parentId":"e2"}"#;
        let mut v = vec![start.to_owned(), call.to_owned()];
        v.extend(done.split('\n').map(str::to_owned));
        v.push(next.to_owned());
        v
    }

    fn tool_output(out: &[super::super::Record]) -> Option<String> {
        out.iter().rev().find_map(|r| match r {
            super::super::Record::Span(s) if s.id == "c1" => s.tool_output.clone(),
            _ => None,
        })
    }

    /// Feeds `lines` numbered from 1; returns the lines that were errors.
    fn feed(
        p: &mut super::super::FileParser,
        lines: &[&String],
        out: &mut Vec<super::super::Record>,
    ) -> Vec<u64> {
        let mut errors = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if p.line(l.as_bytes(), i as u64 + 1, out).is_err() {
                errors.push(i as u64 + 1);
            }
        }
        errors
    }

    #[test]
    fn a_copilot_result_broken_by_raw_newlines_is_read_whole() {
        let lines = copilot_lines();
        assert_eq!(lines.len(), 7, "the result spans four physical lines");
        let mut p = super::super::FileParser::new("events.jsonl", None);
        let mut out = Vec::new();
        // The first piece is not JSON as written: one error; the rest are the record's.
        let errors = feed(&mut p, &lines.iter().collect::<Vec<_>>(), &mut out);
        assert_eq!(errors, [3]);
        let text = tool_output(&out).expect("the call has its result");
        assert_eq!(
            text,
            "Contents of https://example.com/pricing:\n\nPlans\n\"Pro\" tier"
        );
        let at = out.iter().rev().find_map(|r| match r {
            super::super::Record::Span(s) if s.id == "c1" => Some(s.origin.line),
            _ => None,
        });
        assert_eq!(at, Some(3), "the record is of the line it began on");
    }

    #[test]
    fn a_record_that_never_closes_leaves_the_next_record_standing() {
        let lines = copilot_lines();
        let mut p = super::super::FileParser::new("events.jsonl", None);
        let mut out = Vec::new();
        // The result's first two pieces, then the next whole record: the
        // writer stopped mid-record.
        let cut = [&lines[0], &lines[1], &lines[2], &lines[3], &lines[6]];
        assert_eq!(feed(&mut p, &cut, &mut out), [3]);
        assert!(tool_output(&out).is_none());
        let next = out
            .iter()
            .any(|r| matches!(r, super::super::Record::Span(s) if s.origin.line == 5));
        assert!(next, "the record after the broken one is read");
        // A line cut inside a string, then a whole record (issue 2's truncated
        // line): the cut line is the one error, the next record is read.
        let mut p = super::super::FileParser::new("events.jsonl", None);
        let mut out = Vec::new();
        let half = lines[1][..lines[1].len() / 2].to_owned();
        assert!(opens_cut_string(half.as_bytes()));
        assert_eq!(feed(&mut p, &[&lines[0], &half, &lines[1]], &mut out), [2]);
        assert!(out
            .iter()
            .any(|r| matches!(r, super::super::Record::Span(s) if s.id == "c1")));
        // A record open when a tail starts elsewhere is not joined.
        let mut p = super::super::FileParser::new("events.jsonl", None);
        assert!(p.line(lines[2].as_bytes(), 1, &mut out).is_err());
        p.forget_open();
        assert!(p.line(lines[4].as_bytes(), 2, &mut out).is_err());
    }

    #[test]
    fn a_record_of_many_pieces_costs_its_length() {
        // 20,000 raw newlines in one string: each piece is scanned once.
        let mut p = Pending::open(br#"{"a":"start"#, 1).unwrap();
        for _ in 0..20_000 {
            assert!(p.push(&[b'x'; 100]));
            assert!(p.in_string());
        }
        assert!(p.push(br#"end"}"#));
        assert!(!p.in_string());
        let v: serde_json::Value = serde_json::from_slice(&p.bytes).unwrap();
        assert_eq!(v["a"].as_str().unwrap().len(), 5 + 20_000 * 101 + 1 + 3);
    }

    #[test]
    fn a_record_past_the_limits_is_given_up() {
        let mut p = Pending::open(br#"{"a":"x"#, 1).unwrap();
        let big = vec![b'y'; MAX_BYTES];
        assert!(!p.push(&big));
    }
}
