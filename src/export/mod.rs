//! Exports: findings as SARIF 2.1.0 for code scanning and CI ([`sarif`]), runs,
//! spans, findings and triage as native JSONL that `import` reads back ([`json`]),
//! and runs as OpenTelemetry traces for a collector ([`otlp`]).
//!
//! Everything exported is read from the store, which holds redacted values only;
//! nothing here ever sees or adds raw trace text.

pub mod baseline;
pub mod json;
pub mod location;
pub mod otlp;
pub mod rules;
pub mod sarif;

use crate::store::{FindingFilter, FindingRow, RunFilter, RunRow, RunSort, Store, StoreError};
use std::path::Path;

/// Why an export could not be made. Messages name the file, never exported content.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: cannot read baseline: {why}")]
    Baseline { path: String, why: String },
    #[error("{path}: {why}")]
    Io { path: String, why: String },
    #[error("write: {0}")]
    Write(#[from] std::io::Error),
}

/// Findings read per store query.
pub(crate) const PAGE: usize = 1_000;

/// The findings matching `filter` that `keep` accepts, worst first, at most `cap`
/// of them; the flag says more were left out. Reads page by page, never a whole table.
pub fn load_findings(
    store: &Store,
    filter: &FindingFilter,
    cap: usize,
    keep: impl Fn(&FindingRow) -> bool,
) -> Result<(Vec<FindingRow>, bool), StoreError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.findings(filter, offset, PAGE)?;
        let n = page.len();
        for row in page {
            if keep(&row) {
                if out.len() == cap {
                    return Ok((out, true));
                }
                out.push(row);
            }
        }
        if n < PAGE {
            return Ok((out, false));
        }
        offset += n;
    }
}

/// Calls `f` with run `run_id`, or with every run (newest first, read a page at a
/// time), as the streaming exports walk the store.
pub fn for_each_run(
    store: &Store,
    run_id: Option<&str>,
    mut f: impl FnMut(&RunRow) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    if let Some(id) = run_id {
        let run = store
            .run(id)?
            .ok_or_else(|| StoreError::NotFound(format!("run {id}: no such run")))?;
        return f(&run);
    }
    let mut offset = 0;
    loop {
        let page = store.runs(&RunFilter::default(), RunSort::Started, offset, PAGE)?;
        for run in &page {
            f(run)?;
        }
        if page.len() < PAGE {
            return Ok(());
        }
        offset += page.len();
    }
}

/// Calls `f` with each span of run `run_id` in time order, a page at a time.
pub fn for_each_span(
    store: &Store,
    run_id: &str,
    mut f: impl FnMut(crate::model::Span) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let mut offset = 0;
    loop {
        let page = store.spans(run_id, offset, PAGE)?;
        let n = page.len();
        for row in page {
            f(row.span)?;
        }
        if n < PAGE {
            return Ok(());
        }
        offset += n;
    }
}

/// Every finding, worst first, at most `cap` (the flag says more were left out).
pub fn load_findings_all(store: &Store, cap: usize) -> Result<(Vec<FindingRow>, bool), StoreError> {
    load_findings(store, &FindingFilter::default(), cap, |_| true)
}

/// Refuses an output path that names anything but a file, itself or through
/// a link: a device (`/dev/null`, `/dev/stdout`), a FIFO, a socket, a folder.
/// Writing replaces the name with a new file, and a device or a pipe replaced
/// by a file breaks whatever else uses it (`/dev/null` itself, run as root).
/// An absent path, a file and a link to a file (or to nothing) are fine.
pub fn check_output(path: &Path) -> Result<(), ExportError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let target = match meta.file_type().is_symlink() {
        true => match std::fs::metadata(path) {
            Ok(m) => m,
            Err(_) => return Ok(()),
        },
        false => meta,
    };
    if target.is_file() {
        return Ok(());
    }
    Err(ExportError::Io {
        path: path.display().to_string(),
        why: format!(
            "{}; leave out -o to write to standard output",
            crate::paths::NOT_A_FILE
        ),
    })
}

/// Writes `bytes` to `path` as a private (`0600`) file, replacing it atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    check_output(path)?;
    crate::paths::write_private(path, bytes).map_err(|e| ExportError::Io {
        path: path.display().to_string(),
        why: e.root_cause().to_string(),
    })
}

/// Streams an export into `path` as a private (`0600`) file: written to a
/// temporary file beside it, then renamed, so a failed export leaves no half file.
pub fn write_file_with(
    path: &Path,
    f: impl FnOnce(&mut dyn std::io::Write) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let io = |e: anyhow::Error| ExportError::Io {
        path: path.display().to_string(),
        why: e.root_cause().to_string(),
    };
    check_output(path)?;
    let tmp = path.with_extension("tmp-skilltrace");
    let file = crate::paths::create_private_file(&tmp).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    let done = f(&mut w).and_then(|()| {
        use std::io::Write;
        w.flush()?;
        Ok(())
    });
    drop(w);
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ExportError::Io {
            path: path.display().to_string(),
            why: crate::ingest::import::io_why(&e),
        }
    })
}
