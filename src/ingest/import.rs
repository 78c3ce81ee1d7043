//! One-shot import of files and folders through the pipeline, resuming where a
//! previous import or tail of the same file stopped (so nothing is stored twice).

use super::file::{ends_a_line, identity, walk, Recycler, TraceFile, BATCH_BYTES, BATCH_RECORDS};
use super::formats::Format;
use super::pipeline::{Pipeline, StoreLink, StoreThread};
use crate::store::{StoreBatch, StoreError};
use std::path::{Path, PathBuf};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub files: u64,
    pub bytes: u64,
    /// Paths that could not be read, with why (one line each).
    pub unreadable: Vec<String>,
}

/// Finds the trace files under `paths`, each once; unreadable paths are reported, not fatal.
pub fn collect(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut bad = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        match walk(p) {
            // One folder walked yields each file once (a store folder of
            // OpenCode parts holds thousands: no path resolution for them).
            Ok(v) if paths.len() == 1 => files.extend(v),
            // A file named twice (`import dir dir/a.jsonl`) is read once.
            Ok(v) => files.extend(
                v.into_iter()
                    .filter(|f| seen.insert(std::fs::canonicalize(f).unwrap_or(f.clone()))),
            ),
            Err(e) => bad.push(format!("{}: {}", p.display(), io_why(&e))),
        }
    }
    (files, bad)
}

/// A short reason for an I/O error, without the OS error number noise.
pub fn io_why(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Scanned rows of small files held back to share one transaction: a session
/// kept as hundreds of small files (OpenCode parts, Cline tasks, Gemini chats)
/// would otherwise cost a commit per file. A file's source offset travels in
/// the same batch as its rows, so what is committed stays consistent.
#[derive(Default)]
pub struct Held(Option<StoreBatch>, usize);

impl Held {
    /// Adds a file's scanned rows to what is held; hands it all to `writer`
    /// once it is a batch's worth of rows or of bytes ([`BATCH_BYTES`]).
    /// (Each file's rows were folded when scanned; appending keeps that work
    /// from being redone over the whole batch.)
    fn add(&mut self, mut b: StoreBatch, writer: &StoreLink) -> bool {
        self.1 += super::store_thread::batch_bytes(&b);
        let acc = match self.0.take() {
            Some(mut acc) => {
                acc.runs.append(&mut b.runs);
                acc.spans.append(&mut b.spans);
                acc.findings.append(&mut b.findings);
                acc.skill_hits.append(&mut b.skill_hits);
                acc.errors.append(&mut b.errors);
                acc.triage.append(&mut b.triage);
                acc.sources.append(&mut b.sources);
                acc
            }
            None => b,
        };
        let rows = acc.spans.len() + acc.runs.len() + acc.errors.len() + acc.findings.len();
        if rows >= BATCH_RECORDS || self.1 as u64 >= BATCH_BYTES {
            self.1 = 0;
            return writer.send(acc);
        }
        self.0 = Some(acc);
        true
    }

    /// Sends what is held.
    pub fn flush(&mut self, writer: &StoreLink) -> bool {
        self.1 = 0;
        match self.0.take() {
            Some(b) => writer.send(b),
            None => true,
        }
    }
}

/// Imports one file, resuming from the stored offset when it is the same file.
/// Calls `progress` with bytes read as it goes. Small files' rows may be left
/// in `held`, to go with the next files' ([`Held::flush`] sends them).
pub fn import_file(
    pipeline: &mut Pipeline,
    writer: &StoreLink,
    path: &Path,
    forced: Option<Format>,
    recycler: &Recycler,
    held: &mut Held,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ImportError> {
    if super::formats::opencode_db::is_db(path) {
        return import_db(pipeline, writer, path, held, progress);
    }
    let mut file = std::fs::File::open(path)
        .map_err(|e| ImportError::Io(format!("{}: {}", path.display(), io_why(&e))))?;
    let meta = file
        .metadata()
        .map_err(|e| ImportError::Io(format!("{}: {}", path.display(), io_why(&e))))?;
    let (dev, ino) = identity(&meta);
    let display = path.display().to_string();
    let (offset, line) = match pipeline.store().source(&display)? {
        Some(s)
            if s.dev == dev
                && s.ino == ino
                && s.offset <= meta.len()
                && ends_a_line(path, s.offset) =>
        {
            (s.offset, s.line)
        }
        _ => (0, 0),
    };
    if offset == meta.len() && offset > 0 {
        return Ok(0);
    }
    let mut tf = TraceFile::new(path, forced, pipeline.line_cap(), offset, line, dev, ino)
        .with_recycler(recycler.clone());
    let recycler = tf.recycler();
    let mut sink = |mut b: super::pipeline::Batch| {
        let before = tf_bytes(&b);
        let scanned = pipeline.scan_into(&mut b, writer.spare());
        recycler.give(b.records);
        let sent = held.add(scanned, writer);
        if sent {
            progress(before);
        }
        sent
    };
    // A document is read whole whenever it changed (it changes in place).
    let read = if super::document::is_document(path) {
        tf.pump_document(&mut file, &mut sink)
    } else {
        tf.pump(&mut file, true, &mut sink)
    }
    .map_err(|e| ImportError::Io(format!("{}: {}", path.display(), io_why(&e))))?;
    Ok(read)
}

/// Imports an OpenCode SQLite store ([`super::formats::opencode_db`]): whole
/// the first time, then the rows stamped since the stored read (the source's
/// `line` holds the latest `time_updated` read), nothing when none changed.
/// Rows keep their ids, so a row read twice is stored once.
fn import_db(
    pipeline: &mut Pipeline,
    writer: &StoreLink,
    path: &Path,
    held: &mut Held,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ImportError> {
    use super::formats::opencode_db;
    let display = path.display().to_string();
    let fail = |why: String| ImportError::Io(format!("{display}: {why}"));
    let meta = std::fs::metadata(path).map_err(|e| fail(io_why(&e)))?;
    let (dev, ino) = identity(&meta);
    // Rows OpenCode deleted since the last read: their spans are marked, kept.
    let gone = super::upstream_deletes::opencode_deletions(pipeline.store(), path, &display)
        .map_err(fail)?;
    // The same file read before: only rows stamped since that read.
    let mut since = 0;
    if let Some(s) = pipeline.store().source(&display)? {
        if s.dev == dev && s.ino == ino {
            if gone.is_empty() && s.line == opencode_db::stamp(path).map_err(fail)?.max(0) as u64 {
                return Ok(0);
            }
            since = i64::try_from(s.line).unwrap_or(0);
        }
    }
    let mut read = opencode_db::read(path, &display, since).map_err(fail)?;
    read.records.extend(gone);
    let mut b = read.into_batch(display, &meta);
    let scanned = pipeline.scan_into(&mut b, writer.spare());
    if held.add(scanned, writer) {
        progress(meta.len());
    }
    Ok(meta.len())
}

fn tf_bytes(b: &super::pipeline::Batch) -> u64 {
    b.source.as_ref().map(|s| s.offset).unwrap_or(0)
}

/// Puts FTS5's incremental merge settings back if a killed bulk import left
/// them off ([`crate::store::Store::restore_fts_if_orphaned`]); a busy store
/// leaves that to the next writer.
pub fn restore_fts(pipeline: &mut Pipeline) -> Result<(), StoreError> {
    use crate::store::busy;
    match pipeline.store_mut().restore_fts_if_orphaned() {
        Err(e) if busy::classify(&e) == busy::Failure::Fatal => Err(e),
        _ => Ok(()),
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports every file under `paths` on one thread (see [`import_paths_with`]).
pub fn import_paths(
    pipeline: &mut Pipeline,
    paths: &[PathBuf],
    forced: Option<Format>,
    progress: &mut dyn FnMut(u64, &Path),
) -> Result<ImportReport, StoreError> {
    import_paths_with(pipeline, paths, forced, 1, false, progress)
}

/// Imports every file under `paths`. A file that cannot be read is skipped and
/// reported; a store failure stops the import (what was committed stays).
/// With `jobs` 1, parsing and scanning run on this thread, file after file;
/// with more, `jobs` workers scan whole runs side by side
/// ([`super::parallel`]). SQLite writes run on a [`StoreThread`] either way;
/// with `index`, it also builds most of the full-text index as it writes
/// ([`StoreThread::spawn_indexing`]; the caller finishes it).
pub fn import_paths_with(
    pipeline: &mut Pipeline,
    paths: &[PathBuf],
    forced: Option<Format>,
    jobs: usize,
    index: bool,
    progress: &mut dyn FnMut(u64, &Path),
) -> Result<ImportReport, StoreError> {
    let (files, unreadable) = collect(paths);
    let mut rep = ImportReport {
        unreadable,
        ..Default::default()
    };
    restore_fts(pipeline)?;
    let writer = match index {
        true => StoreThread::spawn_indexing(pipeline.store().path(), pipeline.commit_config())?,
        false => StoreThread::spawn_with(pipeline.store().path(), pipeline.commit_config())?,
    };
    super::phases::mark("store thread spawned");
    let failed = if jobs > 1 && files.len() > 1 {
        super::parallel::import_files(pipeline, &writer, &files, forced, jobs, &mut rep, progress)
    } else {
        import_serially(pipeline, &writer, files, forced, &mut rep, progress)
    };
    // The store thread's own error (disk full...) comes first: it is the cause.
    pipeline.absorb(writer.finish()?);
    match failed {
        Some(e) => Err(e),
        None => Ok(rep),
    }
}

/// Imports `files` one after the other on this thread; the store error that
/// stopped it, if one did.
fn import_serially(
    pipeline: &mut Pipeline,
    writer: &StoreThread,
    files: Vec<PathBuf>,
    forced: Option<Format>,
    rep: &mut ImportReport,
    progress: &mut dyn FnMut(u64, &Path),
) -> Option<StoreError> {
    let recycler = Recycler::default();
    let mut held = Held::default();
    let mut failed = None;
    for f in files {
        if writer.stopped() {
            break;
        }
        let mut last = 0u64;
        let mut cb = |offset: u64| {
            progress(offset.saturating_sub(last), &f);
            last = offset;
        };
        match import_file(pipeline, writer, &f, forced, &recycler, &mut held, &mut cb) {
            Ok(n) => {
                rep.files += 1;
                rep.bytes += n;
            }
            Err(ImportError::Io(why)) => rep.unreadable.push(why),
            Err(ImportError::Store(e)) => {
                failed = Some(e);
                break;
            }
        }
    }
    held.flush(writer);
    failed
}
