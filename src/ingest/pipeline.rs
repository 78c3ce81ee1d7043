//! The pipeline: parsed records → scan (redact + detect, one pass) → store, in batches.
//!
//! [`Pipeline::process`] is the single place where raw records become stored
//! rows: every span is redacted and scanned here, and the store accepts only
//! the `Redacted` values this stage produces. Sources (tailer, importer,
//! proxy) hand [`Batch`]es to a writer thread through an [`IngestSender`].

use crate::ingest::formats::Record;
use crate::model::ParseError;

/// Where a file source stands: identity and how far it has been read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceState {
    /// File path, or `proxy://addr` for the proxy.
    pub path: String,
    /// `file` or `proxy`.
    pub kind: String,
    pub dev: u64,
    pub ino: u64,
    /// Bytes consumed (up to the end of the last complete line).
    pub offset: u64,
    /// Lines consumed (for the proxy: requests seen).
    pub line: u64,
    /// Formats seen, comma separated.
    pub format: String,
}

/// One unit of work for the writer: records from one source, their parse errors,
/// and where the source stands after them (committed in the same transaction).
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<Record>,
    pub errors: Vec<ParseError>,
    pub source: Option<SourceState>,
}

/// Sends batches to the writer thread. Cloneable; `try_send` never blocks (the
/// proxy uses it and counts drops), `send` waits (the tailer uses it).
#[derive(Debug, Clone)]
pub struct IngestSender {
    tx: std::sync::mpsc::SyncSender<Batch>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl IngestSender {
    /// Wraps a channel end (the writer owns the other end).
    pub fn new(tx: std::sync::mpsc::SyncSender<Batch>) -> IngestSender {
        IngestSender {
            tx,
            dropped: Default::default(),
        }
    }

    /// Queues a batch without waiting; false (and one more drop counted) when the queue is full.
    pub fn try_send(&self, batch: Batch) -> bool {
        match self.tx.try_send(batch) {
            Ok(()) => true,
            Err(_) => {
                self.dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues a batch, waiting while the queue is full; false if the writer is gone.
    pub fn send(&self, batch: Batch) -> bool {
        self.tx.send(batch).is_ok()
    }

    /// Batches dropped by `try_send` so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}
