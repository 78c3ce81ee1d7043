//! Where a file's lines go: each is parsed into records, a bad one becomes a
//! parse error naming file and line, and while no line of the file has been
//! of a known format the errors are held, so that a file of an unsupported
//! format costs ONE error instead of one per line.

use super::formats::{FileParser, Format, FormatError, Record};
use super::reader::Line;
use crate::model::ParseError;

/// Errors held while no line of a file has been of a known format: if one
/// comes, they are reported line by line (bad lines of a known file); if none
/// does, the file is reported once, as of an unsupported format.
#[derive(Debug, Default)]
pub struct Unknown {
    held: Vec<ParseError>,
    lines: u64,
    reported: bool,
}

/// Errors held per file while its format is unknown (the rest are counted).
const HELD_ERRORS: usize = 4096;

impl Unknown {
    pub fn hold(&mut self, e: ParseError) {
        self.lines += 1;
        if !self.reported && self.held.len() < HELD_ERRORS {
            self.held.push(e);
        }
    }

    /// The file turned out to be of a known format: its held errors are real.
    pub fn release(&mut self, errors: &mut Vec<ParseError>) {
        errors.append(&mut self.held);
    }

    /// No line so far is of a known format: one error for the whole file.
    pub fn report(&mut self, errors: &mut Vec<ParseError>) {
        if self.reported || self.held.is_empty() {
            return;
        }
        self.reported = true;
        let first = &self.held[0];
        let all_json = self
            .held
            .iter()
            .all(|e| e.message == FormatError::NotATrace.to_string());
        let message = if all_json {
            format!(
                "unsupported format: {} line(s) of JSON, none a record of a format skilltrace reads ({})",
                self.lines,
                formats_list()
            )
        } else {
            format!(
                "unsupported format: {} line(s), none a record of a format skilltrace reads (first problem, line {}: {})",
                self.lines, first.line, first.message
            )
        };
        errors.push(ParseError {
            path: first.path.clone(),
            line: first.line,
            message,
        });
        self.held.clear();
    }
}

/// The `--format` names, comma separated.
pub fn formats_list() -> String {
    Format::ALL.map(Format::name).join(", ")
}

/// Where one file's lines go: parsed records, and errors (held while the
/// file's format is still unknown).
pub struct Lines<'a> {
    pub parser: &'a mut FileParser,
    pub records: &'a mut Vec<Record>,
    pub errors: &'a mut Vec<ParseError>,
    pub unknown: &'a mut Unknown,
    pub display: &'a str,
    pub line_cap: usize,
}

impl Lines<'_> {
    pub fn line(&mut self, line: Line<'_>) {
        let (n, message) = match line {
            Line::Text(bytes, n) => match self.parser.line(bytes, n, self.records) {
                Ok(()) => {
                    if self.parser.knows_format() {
                        self.unknown.release(self.errors);
                    }
                    return;
                }
                Err(e) => (n, e.to_string()),
            },
            Line::TooLong(n) => (
                n,
                format!("line longer than the {} byte limit; skipped", self.line_cap),
            ),
        };
        let e = ParseError {
            path: self.display.to_string(),
            line: n,
            message,
        };
        if self.parser.knows_format() {
            self.unknown.release(self.errors);
            self.errors.push(e);
        } else {
            self.unknown.hold(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: u64, message: String) -> ParseError {
        ParseError {
            path: "f".into(),
            line,
            message,
        }
    }

    #[test]
    fn held_errors_are_released_or_reported_once() {
        let mut u = Unknown::default();
        u.hold(err(1, FormatError::NotATrace.to_string()));
        u.hold(err(2, FormatError::NotATrace.to_string()));
        let mut out = Vec::new();
        u.report(&mut out);
        u.report(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, 1);
        assert!(
            out[0].message.contains("2 line(s) of JSON"),
            "{}",
            out[0].message
        );
        assert!(out[0].message.contains("gemini-cli"), "{}", out[0].message);

        let mut u = Unknown::default();
        u.hold(err(3, "invalid JSON: eof".into()));
        let mut out = Vec::new();
        u.release(&mut out);
        u.report(&mut out);
        assert_eq!(out.len(), 1, "released, so nothing left to report");
        assert_eq!(out[0].message, "invalid JSON: eof");
    }
}
