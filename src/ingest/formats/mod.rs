//! Trace formats: one pure parser per format, and the per-file dispatcher that sniffs them.
//!
//! A parser turns JSON values (one per line, or one per whole-file document)
//! into [`Record`]s. Parsers are pure: no I/O, no clock, no randomness; they
//! may keep state across lines of one file (to pair tool calls with results,
//! dedupe usage), and they flush what they hold in [`FormatParser::finish`].

pub mod agents;
pub mod claude;
pub mod cline;
pub mod codex;
mod common;
pub mod companions;
pub mod copilot;
mod fastjson;
pub mod gemini;
pub mod homes;
pub mod json;
pub mod native;
mod nuls;
pub mod opencode;
pub mod opencode_db;
pub mod otlp;
pub mod sniff;
mod split;
#[cfg(test)]
mod test_support;
mod torn;

use crate::ingest::formats::json::Value;
use crate::model::{Finding, Origin, Run, Span, TriageStatus};
use bumpalo::Bump;
use std::fmt;

/// A trace format skilltrace reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Claude Code session transcripts (`~/.claude/projects/*/*.jsonl`).
    ClaudeCode,
    /// OpenAI Codex CLI rollouts (`~/.codex/sessions/**/rollout-*.jsonl`).
    Codex,
    /// OTLP/JSON `ExportTraceServiceRequest`s (GenAI semconv and OpenInference).
    Otlp,
    /// OpenAI Agents SDK `trace` / `trace.span` export objects.
    OpenaiAgents,
    /// skilltrace's own JSONL (proxy recordings, `export --format json`).
    Native,
    /// Gemini CLI chats (`~/.gemini/tmp/<project>/chats/session-*.json` documents, `.jsonl` logs).
    GeminiCli,
    /// GitHub Copilot CLI session state (`~/.copilot/session-state/<id>/events.jsonl`).
    CopilotCli,
    /// OpenCode storage (session, message and part JSON files) and `opencode export` output.
    Opencode,
    /// Cline / Roo Code / Kilo Code task histories (`api_conversation_history.json`, `ui_messages.json`).
    Cline,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::ClaudeCode,
        Format::Codex,
        Format::Otlp,
        Format::OpenaiAgents,
        Format::Native,
        Format::GeminiCli,
        Format::CopilotCli,
        Format::Opencode,
        Format::Cline,
    ];

    /// The name used with `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::ClaudeCode => "claude-code",
            Format::Codex => "codex",
            Format::Otlp => "otlp",
            Format::OpenaiAgents => "openai-agents",
            Format::Native => "skilltrace",
            Format::GeminiCli => "gemini-cli",
            Format::CopilotCli => "copilot-cli",
            Format::Opencode => "opencode",
            Format::Cline => "cline",
        }
    }

    /// Parses a `--format` name (`auto` is handled by the caller).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    fn new_parser(self) -> Box<dyn FormatParser> {
        match self {
            Format::ClaudeCode => Box::new(claude::ClaudeParser::default()),
            Format::Codex => Box::new(codex::CodexParser::default()),
            Format::Otlp => Box::new(otlp::OtlpParser::default()),
            Format::OpenaiAgents => Box::new(agents::AgentsParser::default()),
            Format::Native => Box::new(native::NativeParser::default()),
            Format::GeminiCli => Box::new(gemini::GeminiParser::default()),
            Format::CopilotCli => Box::new(copilot::CopilotParser::default()),
            Format::Opencode => Box::new(opencode::OpencodeParser),
            Format::Cline => Box::new(cline::ClineParser),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a parser produces: run updates and spans (possibly partial, merged by id in the store).
// Spans dominate the stream; boxing them would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Run(Run),
    Span(Span),
    /// A finding carried by the native format (export → import round trip).
    Finding(Box<Finding>),
    /// Triage state carried by the native format, applied to the finding with this fingerprint.
    Triage {
        fingerprint: String,
        status: TriageStatus,
        note: Option<String>,
    },
}

/// Why one line or document could not be used. Messages never quote the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("not valid UTF-8")]
    Utf8,
    #[error("line longer than the {0} byte limit")]
    TooLong(usize),
    #[error("not a known trace record")]
    NotATrace,
    #[error("{0}")]
    Shape(String),
}

/// One format's parser. Implementations live beside this file, one per format.
pub trait FormatParser: Send {
    /// Which format this parses.
    fn format(&self) -> Format;
    /// Parses one JSON value found at `origin`, pushing what it yields onto `out`.
    fn value(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError>;
    /// Parses a whole-file document found at `origin`. The default reads a
    /// JSON array as one value per element (the first error is returned when
    /// no element could be read) and anything else as one value. Formats whose
    /// files are documents (a chat, a task history) read the whole tree here;
    /// they push every good record and return ONE error naming what was not
    /// read, so a bad message never costs its neighbours.
    fn document(
        &mut self,
        v: &Value,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        match v {
            Value::Array(items) => each_item(items, |item| self.value(item, origin, out)),
            _ => self.value(v, origin, out),
        }
    }
    /// End of input (import only; a tailed file never finishes): flush held state.
    fn finish(&mut self, _out: &mut Vec<Record>) {}
}

/// Parses one file: strips BOM and CRLF, decodes JSON, sniffs the format per
/// line (unless forced) and routes each value to that format's parser.
pub struct FileParser {
    path: String,
    router: Router,
    scratch: fastjson::Scratch,
    /// Holds the current line's tree; reset before each line.
    arena: Bump,
    /// A record broken across lines by raw newlines, still open ([`split`]).
    pending: Option<split::Pending>,
}

/// An arena grown past this by one huge line or document is dropped
/// afterwards rather than kept for the rest of the file (a tailed file's
/// parser lives long; typical lines need a few kilobytes).
const ARENA_KEEP: usize = 1 << 20;

/// Sniffs values and hands them to each format's parser.
struct Router {
    forced: Option<Format>,
    parsers: Vec<Box<dyn FormatParser>>,
    /// The origin handed to parsers: the path is set once, the line per value.
    origin: Origin,
    /// The format of the last record sniffed in this file: a line of a shape
    /// no rule knows yet, in its envelope, is handed to it (a record type
    /// newer than this parser is that format's business, not a parse error).
    home: Option<Format>,
}

impl FileParser {
    /// `forced` = `None` sniffs every line.
    pub fn new(path: impl Into<String>, forced: Option<Format>) -> FileParser {
        let path = path.into();
        FileParser {
            router: Router {
                home: None,
                origin: Origin::new(path.clone(), 0),
                forced,
                parsers: Vec::new(),
            },
            path,
            scratch: fastjson::Scratch::default(),
            arena: Bump::new(),
            pending: None,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The formats seen so far in this file.
    pub fn formats(&self) -> Vec<Format> {
        self.router.parsers.iter().map(|p| p.format()).collect()
    }

    /// True once any value of this file was of a known format.
    pub fn knows_format(&self) -> bool {
        !self.router.parsers.is_empty()
    }

    /// Parses one line (without its `\n`). Blank lines yield nothing.
    pub fn line(
        &mut self,
        bytes: &[u8],
        line_no: u64,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        let (bytes, nuls) = nuls::strip(bytes);
        if nuls > 0 {
            // A crash's zero-filled block (see `nuls`): the record beside it is
            // read, and the line reported.
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                self.pending = None;
                return Err(nuls::error(nuls, false));
            }
            let read = self.line(bytes, line_no, out);
            return read.and(Err(nuls::error(nuls, true)));
        }
        let bytes = trim_line(bytes, line_no);
        if let Some(pending) = self.pending.take() {
            return self.continued(pending, bytes, line_no, out);
        }
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(());
        }
        self.arena.reset();
        let result = match decode(bytes, &self.arena, &mut self.scratch) {
            Ok(v) => self.router.value(&v, line_no, out),
            Err(e) => {
                // The line is an error as it stands; its record is still read
                // if the lines after it close it (see `split`), or if it ends
                // in a whole record after a torn one (see `torn`).
                self.pending = split::Pending::open(bytes, line_no);
                match self.pending.is_none().then(|| torn::whole_tail(bytes)) {
                    Some(Some(at)) => {
                        let read = self.line(&bytes[at..], line_no, out);
                        read.and(Err(FormatError::Shape(
                            "a record cut short, then the next one on the same line (the \
                             next was read; the cut one is lost)"
                                .into(),
                        )))
                    }
                    _ => Err(e),
                }
            }
        };
        self.trim_arena();
        result
    }

    /// The next physical line after a line cut inside a string: joined to it
    /// (the raw newline escaped), the record is read, as of the line it began
    /// on, once it closes; if the join cannot close it, this line is read on
    /// its own.
    fn continued(
        &mut self,
        mut pending: split::Pending,
        bytes: &[u8],
        line_no: u64,
        out: &mut Vec<Record>,
    ) -> Result<(), FormatError> {
        if pending.push(bytes) {
            if pending.in_string() {
                if !pending.still_open_after(bytes) {
                    return self.line(bytes, line_no, out);
                }
                self.pending = Some(pending);
                return Ok(());
            }
            self.arena.reset();
            if let Ok(v) = decode(&pending.bytes, &self.arena, &mut self.scratch) {
                let result = self.router.value(&v, pending.first, out);
                self.trim_arena();
                return result;
            }
        }
        self.line(bytes, line_no, out)
    }

    /// Forgets a record left open by the last line (that line was read alone).
    pub fn forget_open(&mut self) {
        self.pending = None;
    }

    /// Parses a whole-file JSON document (a `.json` file that is not JSON Lines).
    pub fn document(&mut self, bytes: &[u8], out: &mut Vec<Record>) -> Result<(), FormatError> {
        let bytes = trim_line(bytes, 1);
        self.arena.reset();
        let result = match decode(bytes, &self.arena, &mut self.scratch) {
            Ok(v) => self.router.document(&v, out),
            Err(e) => Err(e),
        };
        self.trim_arena();
        result
    }

    /// Frees the arena after a line or document that grew it very large.
    fn trim_arena(&mut self) {
        if self.arena.allocated_bytes() > ARENA_KEEP {
            self.arena = Bump::new();
        }
    }

    /// Flushes every parser's held state.
    pub fn finish(&mut self, out: &mut Vec<Record>) {
        for p in &mut self.router.parsers {
            p.finish(out);
        }
    }
}

impl Router {
    /// A whole-file document: handed whole to the format that owns document
    /// files of its shape (a Gemini chat, a Cline task history, an OpenCode
    /// storage file); otherwise a JSON array has each element routed on its own.
    fn document(&mut self, v: &Value, out: &mut Vec<Record>) -> Result<(), FormatError> {
        self.origin.line = 1;
        let format = match self.forced {
            Some(f) => Some(f),
            None => sniff::document(v),
        };
        match format {
            Some(f) => {
                let idx = self.parser_for(f);
                self.parsers[idx].document(v, &self.origin, out)
            }
            None => match v {
                Value::Array(items) => each_item(items, |item| self.value(item, 1, out)),
                _ => self.value(v, 1, out),
            },
        }
    }

    /// The index of `format`'s parser, created on first use.
    fn parser_for(&mut self, format: Format) -> usize {
        match self.parsers.iter().position(|p| p.format() == format) {
            Some(i) => i,
            None => {
                self.parsers.push(format.new_parser());
                self.parsers.len() - 1
            }
        }
    }

    fn value(&mut self, v: &Value, line_no: u64, out: &mut Vec<Record>) -> Result<(), FormatError> {
        let format = match self.forced {
            Some(f) => f,
            None => match sniff::sniff(v) {
                Some(f) => {
                    self.home = Some(f);
                    f
                }
                None => self
                    .home
                    .and_then(|home| sniff::sniff_in(v, home))
                    .ok_or(FormatError::NotATrace)?,
            },
        };
        self.origin.line = line_no;
        let idx = self.parser_for(format);
        self.parsers[idx].value(v, &self.origin, out)
    }
}

/// Reads every element with `f`; the first error is returned only when no
/// element could be read (a file of another format), else the good ones stand.
fn each_item(
    items: &[Value],
    mut f: impl FnMut(&Value) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut first_err = None;
    let mut any = false;
    for item in items {
        match f(item) {
            Ok(()) => any = true,
            Err(e) => first_err = first_err.or(Some(e)),
        }
    }
    match (any, first_err) {
        (false, Some(e)) => Err(e),
        _ => Ok(()),
    }
}

/// Strips a UTF-8 BOM (first line only) and a trailing `\r`.
fn trim_line(bytes: &[u8], line_no: u64) -> &[u8] {
    let bytes = if line_no == 1 {
        bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
    } else {
        bytes
    };
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// Decodes one line or document: the direct reader into `arena`, or serde
/// (an owned tree, or its error) when the reader declines.
fn decode<'b>(
    bytes: &'b [u8],
    arena: &'b Bump,
    scratch: &mut fastjson::Scratch,
) -> Result<Value<'b>, FormatError> {
    if let Some(v) = std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| fastjson::parse_in(t, arena, scratch))
    {
        return Ok(v);
    }
    serde_json::from_slice(bytes).map_err(|e| {
        if std::str::from_utf8(bytes).is_err() {
            FormatError::Utf8
        } else {
            // serde_json's messages name a position, never the content.
            FormatError::Json(e.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(Format::from_name("auto"), None);
    }

    #[test]
    fn bad_lines_are_typed_errors() {
        let mut p = FileParser::new("x.jsonl", None);
        let mut out = Vec::new();
        assert!(matches!(
            p.line(b"{nope", 1, &mut out),
            Err(FormatError::Json(_))
        ));
        assert!(matches!(
            p.line(b"\"\xff\"", 2, &mut out),
            Err(FormatError::Utf8)
        ));
        assert!(matches!(
            p.line(b"null", 3, &mut out),
            Err(FormatError::NotATrace)
        ));
        assert!(matches!(
            p.line(b"[1,2]", 4, &mut out),
            Err(FormatError::NotATrace)
        ));
        assert!(p.line(b"   \r", 5, &mut out).is_ok());
        let deep = "[".repeat(5000);
        assert!(p.line(deep.as_bytes(), 6, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn record_types_newer_than_the_parser_are_no_parse_errors() {
        // Claude Code 2.1.x writes bookkeeping first; later versions add more.
        let claude = [
            r#"{"type":"mode","mode":"normal","sessionId":"s1"}"#,
            r#"{"type":"permission-mode","permissionMode":"default","sessionId":"s1"}"#,
            r#"{"type":"user","sessionId":"s1","uuid":"u1","timestamp":"2026-07-01T00:00:00Z","message":{"role":"user","content":"hi"}}"#,
            r#"{"type":"future-record","sessionId":"s1","uuid":"f1"}"#,
            r#"{"type":"ai-title","aiTitle":"Say hi","sessionId":"s1"}"#,
        ];
        let mut p = FileParser::new("s1.jsonl", None);
        let mut out = Vec::new();
        for (i, l) in claude.iter().enumerate() {
            let r = p.line(l.as_bytes(), i as u64 + 1, &mut out);
            assert!(r.is_ok(), "line {}: {r:?}", i + 1);
        }
        // Codex rollouts: an unknown tag in the rollout envelope.
        let codex = [
            r#"{"timestamp":"2026-07-01T00:00:00Z","type":"session_meta","payload":{"id":"c1","timestamp":"2026-07-01T00:00:00Z","cwd":"/w"}}"#,
            r#"{"timestamp":"2026-07-01T00:00:01Z","type":"world_state","payload":{"x":1}}"#,
        ];
        let mut p = FileParser::new("rollout.jsonl", None);
        for (i, l) in codex.iter().enumerate() {
            let r = p.line(l.as_bytes(), i as u64 + 1, &mut out);
            assert!(r.is_ok(), "line {}: {r:?}", i + 1);
        }
        // The same unknown line opening a file of no known format is still refused.
        let mut p = FileParser::new("x.jsonl", None);
        assert!(matches!(
            p.line(codex[1].as_bytes(), 1, &mut out),
            Err(FormatError::NotATrace)
        ));
        // Bookkeeping makes no run of its own: one run, the session's.
        let runs: std::collections::BTreeSet<_> = out
            .iter()
            .filter_map(|r| match r {
                Record::Run(r) => Some(r.id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(runs.into_iter().collect::<Vec<_>>(), ["c1", "s1"]);
    }

    #[test]
    fn a_huge_line_does_not_keep_its_arena() {
        let mut p = FileParser::new("x.jsonl", None);
        let mut out = Vec::new();
        // 2 MiB of decoded text, copied into the arena (it holds escapes).
        let big = format!(r#"{{"k":["{}"]}}"#, "a\\n".repeat(1 << 20));
        assert!(matches!(
            p.line(big.as_bytes(), 1, &mut out),
            Err(FormatError::NotATrace)
        ));
        assert!(p.arena.allocated_bytes() <= ARENA_KEEP);
        assert!(matches!(
            p.line(br#"{"k":[1,"x\\ny"]}"#, 2, &mut out),
            Err(FormatError::NotATrace)
        ));
        assert!(
            p.arena.allocated_bytes() > 0,
            "small lines keep their arena"
        );
    }
}
