//! The recorder's spill to disk: when the store is slower than exchanges
//! arrive and the in-memory hand-off queue passes its high-water mark (a
//! quarter of `[limits] proxy_queue_bytes`), a round of recordings is scanned
//! on the recorder thread (redacted and checked, exactly as the writer would:
//! [`scan_batch`]) and appended to the spool beside the store
//! ([`crate::store::spool`]: `0600`, written through, bounded by
//! `[store] spool_max_mb`) instead of waiting for the writer. Nothing
//! unredacted reaches the spool, and forwarding never waits on any of it.
//!
//! Once the queue is low again (a sixteenth of the bound) and the writer has
//! room, the spool file is let go (closing it drops its lock) and the writer is
//! told: it stores the file's frames in order, exactly once, before the
//! batches sent after. A proxy killed while spilling leaves the file for the
//! next writer on the store (proxy, tail, import, tui); `doctor` lists it
//! meanwhile.
//!
//! Detection on the spill path runs in its own detector: a chain of calls
//! that straddles the start or end of a spill is judged in two halves.

use crate::detect::Detector;
use crate::ingest::pipeline::{scan_batch, Batch};
use crate::redact::Redactor;
use crate::store::spool::Spool;
use crate::store::StoreBatch;
use std::path::{Path, PathBuf};

/// Builds the redactor and detector the spill scans with (called at the first spill).
pub type ScannerFactory = Box<dyn FnOnce() -> anyhow::Result<(Redactor, Detector)> + Send>;

type Scanner = (Redactor, Detector);

/// Where and how the recorder spills.
pub struct Spill {
    /// The scanner being built on its own thread (from the start: a spill
    /// begins when the queue is already high, and must not wait for it then).
    making: Option<std::thread::JoinHandle<anyhow::Result<Scanner>>>,
    scanner: Option<Scanner>,
    spool: Spool,
    /// True from the first spilled round until the file is let go.
    active: bool,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("dir", &self.spool.dir())
            .field("active", &self.active)
            .finish()
    }
}

impl Spill {
    /// Spills into the spool beside `db`, bounded at `spool_max` bytes (the
    /// writer's own spool shares the bound); `make` builds the scanner.
    pub fn new(db: &Path, spool_max: u64, make: ScannerFactory) -> Spill {
        let making = std::thread::Builder::new()
            .name("skilltrace-spill-scanner".into())
            .spawn(make)
            .ok();
        Spill {
            making,
            scanner: None,
            spool: Spool::new(db, spool_max),
            active: false,
        }
    }

    /// True while rounds go to the spool (until [`Spill::release`]).
    pub fn active(&self) -> bool {
        self.active
    }

    /// The spool folder (for messages).
    pub fn dir(&self) -> PathBuf {
        self.spool.dir().to_path_buf()
    }

    /// Bytes in the file being spilled to.
    pub fn bytes(&self) -> u64 {
        self.spool.own_bytes()
    }

    /// Scans `batch` and appends it to the spool as one frame (on disk when
    /// this returns); why not, when the spool is full or cannot be written.
    pub fn push(&mut self, mut batch: Batch) -> Result<(), String> {
        if self.scanner.is_none() {
            let built = self
                .making
                .take()
                .ok_or("its redactor could not be built")?
                .join()
                .map_err(|_| "its redactor could not be built")?;
            self.scanner = Some(built.map_err(|e| format!("cannot build its redactor: {e:#}"))?);
        }
        let Some((redactor, detector)) = self.scanner.as_mut() else {
            return Err("its redactor could not be built".into());
        };
        let scanned = scan_batch(redactor, detector, &mut batch, StoreBatch::default());
        self.spool.push(&scanned).map_err(|e| e.to_string())?;
        self.active = true;
        Ok(())
    }

    /// Lets the file go for the writer to store; its frames (0 when nothing was spilled).
    pub fn release(&mut self) -> u64 {
        self.active = false;
        self.spool.release_own().map_or(0, |(_, frames)| frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::Record;
    use crate::model::{Span, SpanKind};

    fn scanner() -> ScannerFactory {
        Box::new(|| {
            let config = crate::config::Config::default();
            let t = tempfile::tempdir()?;
            crate::ingest::scan::build(&config, &t.path().join("k.db"), None)
        })
    }

    fn batch_with(text: &str) -> Batch {
        let mut s = Span::new(
            "s1",
            "r1",
            SpanKind::Llm,
            "chat",
            crate::model::Origin::new("proxy://t", 1),
        );
        s.text = Some(text.into());
        Batch {
            records: vec![Record::Span(s)],
            ..Batch::default()
        }
    }

    #[test]
    fn a_spilled_round_is_redacted_on_disk_and_let_go_for_the_writer() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("st.db");
        let mut spill = Spill::new(&db, 1 << 20, scanner());
        assert!(!spill.active());
        let secret = "sk-ant-api03-AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJ";
        spill
            .push(batch_with(&format!("the key is {secret}")))
            .unwrap();
        assert!(spill.active());
        assert!(spill.bytes() > 0);
        let files = crate::store::spool::files(&spill.dir());
        assert_eq!(files.len(), 1);
        let on_disk = std::fs::read_to_string(&files[0].0).unwrap();
        assert!(on_disk.contains("the key is"), "{on_disk}");
        assert!(!on_disk.contains(secret), "unredacted on disk: {on_disk}");
        // Held while spilling; an orphan (the writer's to store) once let go.
        assert_eq!(crate::store::spool::survey(&db).held, 1);
        assert_eq!(spill.release(), 1);
        assert!(!spill.active());
        let s = crate::store::spool::survey(&db);
        assert_eq!((s.files, s.frames, s.held), (1, 1, 0));
    }

    #[test]
    fn a_full_spool_is_refused_with_why() {
        let t = tempfile::tempdir().unwrap();
        let mut spill = Spill::new(&t.path().join("st.db"), 64, scanner());
        let err = spill.push(batch_with("hello")).unwrap_err();
        assert!(err.contains("full"), "{err}");
        assert!(!spill.active());
    }
}
