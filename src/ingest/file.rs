//! One trace file being read: identity, line splitting, parsing, and batching
//! of what it yields, with the offset to resume from committed alongside. A
//! file of no known format costs one parse error, not one per line; a
//! whole-JSON-document file is read (and re-read, as it changes) as one unit.

use super::document::{first_line_is_value, salvage, Seen};
use super::formats::{FileParser, Format, FormatError, Record};
use super::lines::{formats_list, Lines, Unknown};
use super::pipeline::{Batch, SourceState};
use super::reader::LineSplitter;
use crate::model::ParseError;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Records per batch handed to the pipeline.
pub const BATCH_RECORDS: usize = 4_096;

/// Bytes of input per batch at most (checked after each read of up to [`READ_CHUNK`]):
/// 4,096 records of a format with long messages held 13 MB of text in one
/// batch, and each import worker holds a batch being parsed, one being
/// scanned and one on its way to the store.
pub const BATCH_BYTES: u64 = 2 << 20;

/// Bytes read (and split into lines and parsed) between two checks of the
/// batch bounds: a batch overshoots [`BATCH_RECORDS`] by at most one chunk's
/// records. At 1 MiB a chunk of short lines held twice the bound, and the
/// vectors that kept that capacity grew with the corpus.
pub const READ_CHUNK: usize = 256 << 10;

/// Capacity a recycled record vector (or a store batch's vector) keeps: a
/// batch that overshot [`BATCH_RECORDS`] does not leave its larger vector
/// behind for every later batch.
pub const KEEP_CAPACITY: usize = BATCH_RECORDS + BATCH_RECORDS / 4;

/// File identity (device, inode); zeros where the platform has none.
pub fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

/// A stored offset is only trusted when the byte before it is a newline (offsets
/// always end on a line boundary): a reused inode with other content fails this.
pub fn ends_a_line(path: &Path, offset: u64) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    if offset == 0 {
        return true;
    }
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(offset - 1)).is_ok() && f.read_exact(&mut b).is_ok() && b[0] == b'\n'
}

/// True for the file names skilltrace reads inside folders (a compressed
/// `.jsonl.zst` too, unless its plain twin is there to be read instead), less
/// the files agents keep beside their traces that hold none
/// (`formats::companions`).
pub fn is_trace_file(p: &Path) -> bool {
    (matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "json" | "ndjson")
    ) || (super::compressed::is_compressed(p) && !super::compressed::has_plain_twin(p))
        || p.file_name().and_then(|n| n.to_str()) == Some(super::formats::opencode_db::FILE_NAME))
        && super::formats::companions::companion(p).is_none()
}

/// Every trace file under `path` (itself when it is a file), sorted.
pub fn walk(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() && is_trace_file(&p) => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Hands a drained batch's record vector back to the file that filled it, so
/// the next batch reuses its capacity instead of allocating (and faulting in)
/// a fresh one.
#[derive(Debug, Clone, Default)]
pub struct Recycler(Arc<Mutex<Option<Vec<Record>>>>);

impl Recycler {
    /// Keeps `records` (emptied, capacity at most [`KEEP_CAPACITY`]) for the next batch.
    pub fn give(&self, mut records: Vec<Record>) {
        records.clear();
        records.shrink_to(KEEP_CAPACITY);
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(records);
        }
    }

    fn take(&self) -> Option<Vec<Record>> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }
}

/// A trace file and how far it has been read.
pub struct TraceFile {
    path: PathBuf,
    display: String,
    forced: Option<Format>,
    parser: FileParser,
    splitter: LineSplitter,
    dev: u64,
    ino: u64,
    records: Vec<Record>,
    errors: Vec<ParseError>,
    line_cap: usize,
    recycler: Recycler,
    /// Lines read before any line of a known format.
    unknown: Unknown,
    /// A read resuming past line 1 has fed line 1 to the parser first.
    primed: bool,
    /// What earlier reads of this document passed on (kept only by a follower).
    seen: Seen,
    remember: bool,
}

impl TraceFile {
    /// Starts reading `path` at `offset`/`line` (0 for a new file).
    pub fn new(
        path: &Path,
        forced: Option<Format>,
        line_cap: usize,
        offset: u64,
        line: u64,
        dev: u64,
        ino: u64,
    ) -> TraceFile {
        let display = path.display().to_string();
        TraceFile {
            path: path.to_path_buf(),
            parser: FileParser::new(display.clone(), forced),
            display,
            forced,
            splitter: LineSplitter::new(line_cap, offset, line),
            dev,
            ino,
            records: Vec::new(),
            errors: Vec::new(),
            line_cap,
            recycler: Recycler::default(),
            unknown: Unknown::default(),
            primed: line == 0,
            seen: Seen::default(),
            remember: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn identity(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }

    pub fn offset(&self) -> u64 {
        self.splitter.offset()
    }

    /// Starts over from the beginning (truncation, or a new file at the same path).
    pub fn restart(&mut self, dev: u64, ino: u64) {
        self.splitter.reset(0, 0);
        self.dev = dev;
        self.ino = ino;
    }

    /// Where this file stands, for the `sources` table.
    pub fn state(&self) -> SourceState {
        SourceState {
            path: self.display.clone(),
            kind: "file".into(),
            dev: self.dev,
            ino: self.ino,
            offset: self.splitter.offset(),
            line: self.splitter.line(),
            format: self
                .parser
                .formats()
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Keeps what each read of a document passed on, so the next read of it
    /// (a follower's, after the agent rewrote it) passes on only what changed.
    /// A one-shot import reads each document once and does without.
    pub fn remembering(mut self) -> TraceFile {
        self.remember = true;
        self
    }

    /// What this document's reads passed on (kept across a rewrite by rename).
    pub fn take_seen(&mut self) -> Seen {
        std::mem::take(&mut self.seen)
    }

    pub fn put_seen(&mut self, seen: Seen) {
        self.seen = seen;
    }

    /// Shares `recycler` (one pool for every file of an import).
    pub fn with_recycler(mut self, recycler: Recycler) -> TraceFile {
        self.recycler = recycler;
        self
    }

    /// Where to give back the record vectors of batches this file hands out.
    pub fn recycler(&self) -> Recycler {
        self.recycler.clone()
    }

    fn take_batch(&mut self) -> Batch {
        // The next batch starts with room for a whole batch (no regrowth copies).
        let next = self
            .recycler
            .take()
            .unwrap_or_else(|| Vec::with_capacity(BATCH_RECORDS + 64));
        Batch {
            records: std::mem::replace(&mut self.records, next),
            errors: std::mem::take(&mut self.errors),
            source: Some(self.state()),
        }
    }

    /// Reads from the current offset to end of file, handing batches to `sink`
    /// (which returns false to stop). `at_end` = this is a one-shot import: a
    /// last line without newline counts, and parsers flush what they hold.
    /// Returns the bytes read.
    pub fn pump(
        &mut self,
        file: &mut File,
        at_end: bool,
        sink: &mut dyn FnMut(Batch) -> bool,
    ) -> std::io::Result<u64> {
        if !self.primed {
            self.prime(file)?;
        }
        let start = self.splitter.offset() + self.splitter.pending() as u64;
        file.seek(SeekFrom::Start(start))?;
        self.feed(file, at_end, sink)
    }

    /// Reads `input` to its end as the continuation of what was read (see [`TraceFile::pump`]).
    fn feed(
        &mut self,
        file: &mut dyn Read,
        at_end: bool,
        sink: &mut dyn FnMut(Batch) -> bool,
    ) -> std::io::Result<u64> {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut total = 0u64;
        let mut batched = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            total += n as u64;
            let TraceFile {
                splitter,
                parser,
                records,
                errors,
                display,
                line_cap,
                unknown,
                ..
            } = self;
            let mut lines = Lines {
                parser,
                records,
                errors,
                unknown,
                display,
                line_cap: *line_cap,
            };
            splitter.push(&buf[..n], |l| lines.line(l));
            let full = self.records.len() >= BATCH_RECORDS
                || (total - batched >= BATCH_BYTES && !self.records.is_empty());
            if full {
                batched = total;
                if !sink(self.take_batch()) {
                    return Ok(total);
                }
            }
        }
        if at_end {
            let TraceFile {
                splitter,
                parser,
                records,
                errors,
                display,
                line_cap,
                unknown,
                ..
            } = self;
            let mut lines = Lines {
                parser,
                records,
                errors,
                unknown,
                display,
                line_cap: *line_cap,
            };
            splitter.finish(|l| lines.line(l));
            self.parser.finish(&mut self.records);
        }
        if !self.parser.knows_format() {
            self.unknown.report(&mut self.errors);
        }
        if !self.records.is_empty() || !self.errors.is_empty() || total > 0 {
            sink(self.take_batch());
        }
        Ok(total)
    }

    /// A read that resumes past line 1 first feeds line 1 to the parser
    /// (what it yields is already stored), so formats whose first line names
    /// the session (Codex, Gemini CLI logs, Copilot CLI) keep their run.
    fn prime(&mut self, file: &mut File) -> std::io::Result<()> {
        self.primed = true;
        file.seek(SeekFrom::Start(0))?;
        let mut first = Vec::new();
        let mut limited = Read::by_ref(file).take(self.line_cap as u64 + 1);
        let mut buf = [0u8; 64 << 10];
        loop {
            let n = limited.read(&mut buf)?;
            if n == 0 {
                break;
            }
            match memchr::memchr(b'\n', &buf[..n]) {
                Some(i) => {
                    first.extend_from_slice(&buf[..i]);
                    let mut discard = Vec::new();
                    let _ = self.parser.line(&first, 1, &mut discard);
                    // A record open past this line is not joined to a later one.
                    self.parser.forget_open();
                    return Ok(());
                }
                None => first.extend_from_slice(&buf[..n]),
            }
        }
        Ok(())
    }

    /// Reads the whole file as one JSON document, from its start, whatever
    /// was read before (a document changes in place): a fresh parser reads
    /// it, and only what earlier reads did not already pass on is handed to
    /// `sink`. A `.json` file that is really JSON Lines is read as lines; a
    /// document cut short keeps its complete records and reports one error;
    /// a document of no known format reports one "unsupported format" error.
    pub fn pump_document(
        &mut self,
        file: &mut File,
        sink: &mut dyn FnMut(Batch) -> bool,
    ) -> std::io::Result<u64> {
        if super::compressed::is_compressed(&self.path) {
            return self.pump_compressed(file, sink);
        }
        let len = file.metadata()?.len();
        self.parser = FileParser::new(self.display.clone(), self.forced);
        self.unknown = Unknown::default();
        if len > self.doc_cap() {
            let mut head = vec![0u8; self.line_cap.min(1 << 16)];
            file.seek(SeekFrom::Start(0))?;
            let n = file.read(&mut head)?;
            self.splitter.reset(0, 0);
            if first_line_is_value(&head[..n]) || !head[..n].contains(&b'\n') {
                return self.pump(file, true, sink); // JSON Lines under a `.json` name
            }
            self.errors.push(ParseError {
                path: self.display.clone(),
                line: 1,
                message: format!(
                    "JSON document larger than the {} byte limit for documents; skipped",
                    self.doc_cap()
                ),
            });
            self.splitter.reset(len, 1);
            sink(self.take_batch());
            return Ok(0);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // Nothing yet: an agent rewriting its document in place truncates it
            // first, and a reader may look in between. Not an error; the write's
            // own change brings the next read.
            self.splitter.reset(0, 0);
            sink(self.take_batch());
            return Ok(0);
        }
        let mut records = Vec::new();
        let error = match self.parser.document(&bytes, &mut records) {
            Ok(()) => None,
            Err(FormatError::NotATrace) if records.is_empty() => Some((
                1,
                format!(
                    "unsupported format: a JSON document of no format skilltrace reads ({})",
                    formats_list()
                ),
            )),
            Err(e @ (FormatError::Json(_) | FormatError::Utf8)) => {
                if first_line_is_value(&bytes) {
                    // JSON Lines in a `.json` file.
                    self.splitter.reset(0, 0);
                    return self.pump(file, true, sink);
                }
                match salvage(&bytes) {
                    Some((fixed, cut)) => {
                        records.clear();
                        let _ = self.parser.document(&fixed, &mut records);
                        let line = line_of(&bytes, cut);
                        Some((
                            line,
                            format!("JSON document cut short or broken ({e}); the records before line {line} were kept"),
                        ))
                    }
                    None => Some((1, format!("not a readable JSON document ({e})"))),
                }
            }
            Err(e) => Some((1, e.to_string())),
        };
        self.parser.finish(&mut records);
        if self.remember {
            self.seen.keep_new(&mut records);
        }
        self.records.append(&mut records);
        if let Some((line, message)) = error {
            self.errors.push(ParseError {
                path: self.display.clone(),
                line,
                message,
            });
        }
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        self.splitter.reset(bytes.len() as u64, lines.max(1));
        sink(self.take_batch());
        Ok(bytes.len() as u64)
    }
}

impl TraceFile {
    /// Reads a compressed file (`.jsonl.zst`) whole, from its start, as JSON
    /// Lines, whatever was read before (it is rewritten, not appended to);
    /// a follower passes on only what earlier reads did not. Decoding is
    /// bounded ([`super::compressed`]): past a bound, one error.
    fn pump_compressed(
        &mut self,
        file: &mut File,
        sink: &mut dyn FnMut(Batch) -> bool,
    ) -> std::io::Result<u64> {
        self.parser = FileParser::new(self.display.clone(), self.forced);
        self.unknown = Unknown::default();
        self.splitter.reset(0, 0);
        file.seek(SeekFrom::Start(0))?;
        let mut decoded = super::compressed::decode(
            std::io::BufReader::new(&mut *file),
            super::compressed::MAX_DECODED,
        )?;
        if !self.remember {
            return self.feed(&mut decoded, true, sink);
        }
        let mut seen = std::mem::take(&mut self.seen);
        let mut keep_new = |mut b: Batch| {
            seen.keep_new(&mut b.records);
            sink(b)
        };
        let read = self.feed(&mut decoded, true, &mut keep_new);
        self.seen = seen;
        read
    }

    /// The largest whole document read (a task history or chat is one value):
    /// four lines' worth, 64 MiB by default.
    fn doc_cap(&self) -> u64 {
        4 * self.line_cap as u64
    }
}

/// The 1-based line of byte `at`.
fn line_of(bytes: &[u8], at: usize) -> u64 {
    bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

#[cfg(test)]
mod tests;
