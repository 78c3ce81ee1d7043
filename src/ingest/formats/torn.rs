//! A torn record with the next one on its line: a writer that stopped part
//! way through a record (a crash, a failed write) and then appended the next
//! record without a newline leaves one line of "fragment + whole record"
//! (a Codex rollout, openai/codex#24425: a `reasoning` item cut in its
//! `encrypted_content`, then the same item written whole). The whole record
//! at the end of such a line is found and read; the line is still reported,
//! as the fragment is lost.

/// Where a whole JSON object starts that runs to the end of `bytes`, after
/// the start. Candidates (`{"`) are tried from the right, so the record's own
/// nested objects fail first and the first success is its start; each try
/// costs at most the rest of the line, and all together at most a few times
/// the line (a hostile line of many candidates is given up, not parsed over
/// and over).
pub fn whole_tail(bytes: &[u8]) -> Option<usize> {
    const CANDIDATES: usize = 64;
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace())?;
    if bytes[end] != b'}' {
        return None;
    }
    let budget = bytes.len().saturating_mul(4).max(1 << 16);
    let mut spent = 0usize;
    for i in memchr::memmem::rfind_iter(bytes, b"{\"")
        .filter(|&i| i > 0)
        .take(CANDIDATES)
    {
        spent += bytes.len() - i;
        if spent > budget {
            return None;
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes[i..]).is_ok() {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_record_after_a_fragment_is_found() {
        let whole = r#"{"timestamp":"2026-05-24T21:30:39.830Z","type":"response_item","payload":{"type":"reasoning","summary":[],"content":null,"encrypted_content":"gAAAAB"}}"#;
        let torn = format!("{}{whole}", &whole[..120]);
        let at = whole_tail(torn.as_bytes()).unwrap();
        assert_eq!(&torn[at..], whole);
        // A fragment alone, a whole line, or a tail that is no object: none.
        assert_eq!(whole_tail(&whole.as_bytes()[..120]), None);
        assert_eq!(whole_tail(whole.as_bytes()), None);
        assert_eq!(whole_tail(br#"{"a":"b"#), None);
        assert_eq!(whole_tail(br#"{"a":{"b":1}} x"#), None);
        // A nested object closing at the line's end is not taken for a record.
        assert_eq!(whole_tail(br#"{"a":1,"b":{"c":2}}"#), None);
        // Two whole records after a fragment: the line ends in the second.
        let two = format!("{}{whole}{whole}", &whole[..50]);
        assert_eq!(&two[whole_tail(two.as_bytes()).unwrap()..], whole);
    }

    #[test]
    fn a_line_of_many_candidates_is_given_up_within_its_budget() {
        // Every `{"` starts an object that never closes: each try would run
        // to the line's end; past the budget the line is left as it is.
        let hostile = format!("x{}}}", r#"{"a":"#.repeat(1 << 16));
        assert_eq!(whole_tail(hostile.as_bytes()), None);
    }

    /// The Codex shape of openai/codex#24425 through the file parser: the
    /// line is one error, the record at its end is read.
    #[test]
    fn a_codex_line_of_a_fragment_and_a_record_yields_the_record() {
        use super::super::{FileParser, Record};
        let meta = r#"{"timestamp":"2026-05-24T21:27:00.000Z","type":"session_meta","payload":{"id":"c1","timestamp":"2026-05-24T21:27:00.000Z","cwd":"/w","cli_version":"0.131.0"}}"#;
        let call = r#"{"timestamp":"2026-05-24T21:30:40.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"ls\"]}","call_id":"call_1"}}"#;
        let torn = format!("{}{call}", &call[..90]);
        let mut p = FileParser::new("rollout-2026-05-24T21-27-00-c1.jsonl", None);
        let mut out = Vec::new();
        assert!(p.line(meta.as_bytes(), 1, &mut out).is_ok());
        let e = p.line(torn.as_bytes(), 2, &mut out).unwrap_err();
        assert!(e.to_string().contains("cut short"), "{e}");
        let read = out
            .iter()
            .any(|r| matches!(r, Record::Span(s) if s.id == "call_1" && s.origin.line == 2));
        assert!(read, "the whole record after the fragment is read");
    }
}
