//! One trace file being read: identity, line splitting, parsing, and batching
//! of what it yields, with the offset to resume from committed alongside.

use super::formats::{FileParser, Format, Record};
use super::pipeline::{Batch, SourceState};
use super::reader::{Line, LineSplitter};
use crate::model::ParseError;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Records per batch handed to the pipeline.
pub const BATCH_RECORDS: usize = 4_096;

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

/// True for the file names skilltrace reads inside folders.
pub fn is_trace_file(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "json" | "ndjson")
    )
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
    /// Keeps `records` (emptied) for the next batch.
    pub fn give(&self, mut records: Vec<Record>) {
        records.clear();
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
    parser: FileParser,
    splitter: LineSplitter,
    dev: u64,
    ino: u64,
    records: Vec<Record>,
    errors: Vec<ParseError>,
    line_cap: usize,
    recycler: Recycler,
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
            splitter: LineSplitter::new(line_cap, offset, line),
            dev,
            ino,
            records: Vec::new(),
            errors: Vec::new(),
            line_cap,
            recycler: Recycler::default(),
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
        let start = self.splitter.offset() + self.splitter.pending() as u64;
        file.seek(SeekFrom::Start(start))?;
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
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
                ..
            } = self;
            splitter.push(&buf[..n], |l| {
                on_line(parser, records, errors, display, *line_cap, l)
            });
            if self.records.len() >= BATCH_RECORDS && !sink(self.take_batch()) {
                return Ok(total);
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
                ..
            } = self;
            splitter.finish(|l| on_line(parser, records, errors, display, *line_cap, l));
            self.parser.finish(&mut self.records);
        }
        if !self.records.is_empty() || !self.errors.is_empty() || total > 0 {
            sink(self.take_batch());
        }
        Ok(total)
    }

    /// Reads a whole `.json` file as one document; falls back to lines when it is not one.
    pub fn pump_document(
        &mut self,
        file: &mut File,
        sink: &mut dyn FnMut(Batch) -> bool,
    ) -> std::io::Result<u64> {
        let len = file.metadata()?.len();
        if len as usize > self.line_cap {
            return self.pump(file, true, sink);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        let first = bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF);
        let multi_line_doc =
            matches!(first, Some(b'[')) || bytes.iter().filter(|&&b| b == b'\n').count() > 1;
        let mut probe = Vec::new();
        if multi_line_doc && self.parser.document(&bytes, &mut probe).is_ok() {
            self.records = probe;
            self.parser.finish(&mut self.records);
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            self.splitter.reset(bytes.len() as u64, lines.max(1));
            sink(self.take_batch());
            return Ok(bytes.len() as u64);
        }
        self.splitter.reset(0, 0);
        self.pump(file, true, sink)
    }
}

fn on_line(
    parser: &mut FileParser,
    records: &mut Vec<Record>,
    errors: &mut Vec<ParseError>,
    display: &str,
    line_cap: usize,
    line: Line<'_>,
) {
    match line {
        Line::Text(bytes, n) => {
            if let Err(e) = parser.line(bytes, n, records) {
                errors.push(ParseError {
                    path: display.to_string(),
                    line: n,
                    message: e.to_string(),
                });
            }
        }
        Line::TooLong(n) => errors.push(ParseError {
            path: display.to_string(),
            line: n,
            message: format!("line longer than the {line_cap} byte limit; skipped"),
        }),
    }
}
