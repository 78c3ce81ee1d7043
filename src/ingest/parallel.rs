//! The parallel import: workers that scan whole runs side by side and hand
//! what they scanned to the one store thread.
//!
//! The discovered files are grouped into work units by the run they feed
//! ([`super::units`]). Each of `jobs` workers owns a [`Pipeline::fork`]: the
//! compiled redaction and detection rules are shared (`Arc`, compiled once),
//! the run state (redaction memory, chains) and a read connection (where each
//! file stopped) are the worker's own. A worker takes the next unit, imports
//! its files in order exactly as the serial import does ([`import_file`]:
//! resume offsets, small files held to share a transaction) and sends its
//! batches through its own [`StoreLink`], so the rows of one run reach the
//! store in the order a serial import writes them; what waits for the store
//! thread is bounded in bytes across all workers. The calling thread only
//! relays progress. A file that cannot be read is reported and skipped; a
//! store failure stops every worker after its current file (what was
//! committed stays).

use super::file::Recycler;
use super::formats::Format;
use super::import::{import_file, Held, ImportError, ImportReport};
use super::pipeline::{Pipeline, StoreLink, StoreThread};
use crate::store::StoreError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// What a worker tells the calling thread.
enum Event {
    /// Bytes of file `.0` read (for the progress bar).
    Read(usize, u64),
    /// File `.0` is done.
    Done(usize, Result<u64, ImportError>),
}

/// Imports `files` with `jobs` workers (see the module doc), adding to `rep`;
/// the store error that stopped it, if one did.
pub fn import_files(
    pipeline: &Pipeline,
    writer: &StoreThread,
    files: &[PathBuf],
    forced: Option<Format>,
    jobs: usize,
    rep: &mut ImportReport,
    progress: &mut dyn FnMut(u64, &Path),
) -> Option<StoreError> {
    let units = super::units::units(files);
    super::phases::mark("units grouped");
    let mut workers = Vec::new();
    for _ in 0..jobs.clamp(1, units.len().max(1)) {
        match pipeline.fork() {
            Ok(p) => workers.push((p, writer.link())),
            Err(e) => return Some(e),
        }
    }
    super::phases::mark("workers forked");
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Event>();
    let mut done: Vec<(usize, Result<u64, ImportError>)> = Vec::new();
    std::thread::scope(|s| {
        for (i, (mut p, link)) in workers.into_iter().enumerate() {
            let (tx, units, next, stop) = (tx.clone(), &units, &next, &stop);
            let spawned = std::thread::Builder::new()
                .name(format!("skilltrace-import-{i}"))
                .spawn_scoped(s, move || {
                    super::phases::mark("worker start");
                    let recycler = Recycler::default();
                    let mut held = Held::default();
                    while let Some(unit) = units.get(next.fetch_add(1, Ordering::Relaxed)) {
                        for &f in &unit.files {
                            if stop.load(Ordering::Relaxed) || link.stopped() {
                                break;
                            }
                            let r = import_one(
                                &mut p, &link, files, f, forced, &recycler, &mut held, &tx,
                            );
                            if matches!(r, Err(ImportError::Store(_))) {
                                stop.store(true, Ordering::Relaxed);
                            }
                            let _ = tx.send(Event::Done(f, r));
                        }
                        if stop.load(Ordering::Relaxed) || link.stopped() {
                            break;
                        }
                    }
                    super::phases::mark("no unit left");
                    // The other workers may still scan: the store thread
                    // builds the index on the core this one leaves free.
                    link.winding_down();
                    held.flush(&link);
                    super::phases::mark("worker done");
                });
            if let Err(e) = spawned {
                stop.store(true, Ordering::Relaxed);
                let why = StoreError::NotFound(format!("cannot start an import worker: {e}"));
                done.push((usize::MAX, Err(ImportError::Store(why))));
            }
        }
        drop(tx);
        for ev in rx {
            match ev {
                Event::Read(f, n) => progress(n, &files[f]),
                Event::Done(f, r) => done.push((f, r)),
            }
        }
    });
    // Reported in file order, as a serial import reports them.
    done.sort_by_key(|(f, _)| *f);
    let mut failed = None;
    for (_, r) in done {
        match r {
            Ok(n) => {
                rep.files += 1;
                rep.bytes += n;
            }
            Err(ImportError::Io(why)) => rep.unreadable.push(why),
            Err(ImportError::Store(e)) => {
                failed.get_or_insert(e);
            }
        }
    }
    failed
}

/// [`import_file`] of `files[f]`, its progress sent as [`Event::Read`].
#[allow(clippy::too_many_arguments)]
fn import_one(
    p: &mut Pipeline,
    link: &StoreLink,
    files: &[PathBuf],
    f: usize,
    forced: Option<Format>,
    recycler: &Recycler,
    held: &mut Held,
    tx: &mpsc::Sender<Event>,
) -> Result<u64, ImportError> {
    let mut last = 0u64;
    let mut cb = |offset: u64| {
        let _ = tx.send(Event::Read(f, offset.saturating_sub(last)));
        last = offset;
    };
    import_file(p, link, &files[f], forced, recycler, held, &mut cb)
}
