//! The tailer: follows files and folders as agents write them.
//!
//! Handles new files (also in folders that appear after start), appends, a
//! partial last line (held until its newline), rotation by rename + create
//! (the old file is drained first), truncation (copytruncate), deletion and
//! re-creation. Offsets are committed with the rows they produced, so a
//! restart resumes exactly: no line lost, none stored twice.
//!
//! notify events drive it, and only events that say something changed
//! (created, written, renamed, removed): reading a file or listing a folder
//! raises access events of its own, and answering those would spin. A root
//! that does not exist yet is watched through its nearest existing ancestor. A
//! slow rescan (every [`TailOptions::rescan`]) catches what an event missed and
//! covers filesystems that raise none; with nothing happening, the tailer sleeps.

use super::file::{ends_a_line, identity, is_trace_file, walk, TraceFile};
use super::formats::Format;
use super::pipeline::IngestSender;
use super::reader::DEFAULT_LINE_CAP;
use crate::store::Store;
use anyhow::Result;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tells a running tailer to stop (shared with signal handlers and the TUI).
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How to follow.
#[derive(Debug, Clone)]
pub struct TailOptions {
    pub forced: Option<Format>,
    /// Ignore stored offsets and read every file from its start.
    pub from_start: bool,
    /// How often to rescan for changes notify did not report (the fallback poll).
    pub rescan: Duration,
    pub line_cap: usize,
    /// Follow filesystem events (true) or only poll every `rescan` (false:
    /// what happens on a filesystem that raises no events).
    pub events: bool,
}

/// The fallback poll's default period: slow, since events do the work.
pub const DEFAULT_RESCAN: Duration = Duration::from_secs(2);

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions {
            forced: None,
            from_start: false,
            rescan: DEFAULT_RESCAN,
            line_cap: DEFAULT_LINE_CAP,
            events: true,
        }
    }
}

/// Longest wait for an event before the stop flag is looked at again.
const STOP_CHECK: Duration = Duration::from_millis(250);

/// True for events that say a path changed; access events (a file opened,
/// read or closed without writing, a folder listed) say nothing, and the
/// tailer's own reads raise them.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        _ => true,
    }
}

struct Tracked {
    tf: TraceFile,
    file: File,
    /// For a whole-JSON document: its size and modification time when last read.
    doc_len: Option<(u64, u128)>,
}

/// A document's size and modification time (ns), to tell when it was rewritten.
fn doc_stamp(meta: &std::fs::Metadata) -> (u64, u128) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (meta.len(), mtime)
}

/// An OpenCode store's and its write-ahead log's size and time (zero when absent).
fn db_files_stamp(db: &Path) -> [(u64, u128); 2] {
    let of = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| doc_stamp(&m))
            .unwrap_or((0, 0))
    };
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    [of(db), of(Path::new(&wal))]
}

/// Follows `paths` until `stop` is set, sending batches to the writer.
pub fn follow(
    paths: &[PathBuf],
    db: &Path,
    opts: TailOptions,
    tx: IngestSender,
    stop: &StopFlag,
) -> Result<()> {
    let (ev_tx, ev_rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    // Without events (asked for, or the platform refuses a watcher) the rescan does all the work.
    let mut watcher = if opts.events {
        notify::recommended_watcher(move |e| {
            let _ = ev_tx.send(e);
        })
        .ok()
    } else {
        drop(ev_tx);
        None
    };
    let mut t = Tailer {
        roots: paths.to_vec(),
        watched: Vec::new(),
        watched_ancestors: Vec::new(),
        files: HashMap::new(),
        deleted: Default::default(),
        stores: HashMap::new(),
        unreadable: Default::default(),
        store_files: HashMap::new(),
        reader: Store::open_read(db).ok(),
        db: db.to_path_buf(),
        opts,
        tx,
    };
    if let Some(w) = watcher.as_mut() {
        t.watch_roots(w);
    }
    t.rescan();
    let mut next_scan = Instant::now() + t.opts.rescan;
    while !stop.is_stopped() {
        let wait = next_scan
            .saturating_duration_since(Instant::now())
            .min(STOP_CHECK);
        match ev_rx.recv_timeout(wait) {
            Ok(first) => {
                let mut touched: Vec<PathBuf> = Vec::new();
                for ev in std::iter::once(first).chain(ev_rx.try_iter()).flatten() {
                    if is_change(&ev.kind) {
                        touched.extend(ev.paths);
                    }
                }
                touched.sort();
                touched.dedup();
                if let Some(w) = watcher.as_mut() {
                    t.on_changes(touched, w);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // No watcher: sleep until the next poll (in steps, to see the stop flag).
                std::thread::sleep(wait);
            }
        }
        if Instant::now() >= next_scan {
            if let Some(w) = watcher.as_mut() {
                t.watch_roots(w);
            }
            t.rescan();
            next_scan = Instant::now() + t.opts.rescan;
        }
    }
    Ok(())
}

struct Tailer {
    roots: Vec<PathBuf>,
    watched: Vec<PathBuf>,
    /// Existing ancestors of roots that do not exist yet, watched to see them appear.
    watched_ancestors: Vec<PathBuf>,
    files: HashMap<PathBuf, Tracked>,
    /// Paths seen deleted while following: a file re-created there is new,
    /// even if the filesystem hands it the same inode number again.
    deleted: std::collections::HashSet<PathBuf>,
    /// OpenCode SQLite stores followed, with the change stamp last read.
    stores: HashMap<PathBuf, i64>,
    /// OpenCode stores that could not be read, said once each (until one
    /// reads again): the others are followed meanwhile.
    unreadable: std::collections::HashSet<PathBuf>,
    /// Per OpenCode store: its and its log's size and time at the last look
    /// for deleted rows.
    store_files: HashMap<PathBuf, [(u64, u128); 2]>,
    reader: Option<Store>,
    db: PathBuf,
    opts: TailOptions,
    tx: IngestSender,
}

impl Tailer {
    fn watch_roots(&mut self, watcher: &mut notify::RecommendedWatcher) {
        use notify::{RecursiveMode, Watcher};
        for r in &self.roots {
            if self.watched.contains(r) {
                continue;
            }
            if !r.exists() {
                // Watch the nearest existing ancestor, to hear of the root when it appears.
                if let Some(a) = r.ancestors().skip(1).find(|a| a.is_dir()) {
                    if !self.watched_ancestors.iter().any(|w| w == a)
                        && watcher.watch(a, RecursiveMode::NonRecursive).is_ok()
                    {
                        self.watched_ancestors.push(a.to_path_buf());
                    }
                }
                continue;
            }
            let mode = if r.is_dir() {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            // Watch a file's folder too, so rotation and re-creation are seen.
            let target = if r.is_file() {
                r.parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| r.clone())
            } else {
                r.clone()
            };
            if watcher.watch(&target, mode).is_ok() {
                self.watched.push(r.clone());
            }
        }
    }

    /// Brings up to date what changed events named.
    fn on_changes(&mut self, touched: Vec<PathBuf>, watcher: &mut notify::RecommendedWatcher) {
        let mut roots_appeared = false;
        for p in touched {
            // OpenCode writes its store's log first: the store changed.
            let p = super::formats::opencode_db::owner_of_log(&p).unwrap_or(p);
            // A root not watched yet, or a folder on its way, appeared.
            roots_appeared |= self
                .roots
                .iter()
                .any(|r| !self.watched.contains(r) && r.starts_with(&p));
            let beside_roots = p
                .parent()
                .is_some_and(|d| self.watched_ancestors.iter().any(|a| a == d))
                && !self.roots.iter().any(|r| p.starts_with(r));
            if beside_roots {
                // Heard through an ancestor's watch: nothing else there is followed.
                continue;
            }
            if p.is_dir() {
                if let Ok(found) = walk(&p) {
                    for f in found {
                        self.check(&f);
                    }
                }
            } else if is_trace_file(&p) || self.files.contains_key(&p) {
                self.check(&p);
            }
        }
        if roots_appeared {
            self.watch_roots(watcher);
            self.rescan();
        }
    }

    fn rescan(&mut self) {
        let mut all = Vec::new();
        for r in &self.roots {
            if let Ok(found) = walk(r) {
                all.extend(found);
            }
        }
        let known: Vec<PathBuf> = self.files.keys().cloned().collect();
        for p in known {
            if !all.contains(&p) {
                all.push(p);
            }
        }
        for p in all {
            self.check(&p);
        }
    }

    fn stored_state(&mut self, path: &Path) -> Option<crate::ingest::pipeline::SourceState> {
        if self.reader.is_none() {
            self.reader = Store::open_read(&self.db).ok();
        }
        self.reader
            .as_ref()?
            .source(&path.display().to_string())
            .ok()
            .flatten()
    }

    fn send(&self) -> impl FnMut(crate::ingest::pipeline::Batch) -> bool + '_ {
        move |b| self.tx.send(b)
    }

    /// Brings one path up to date.
    fn check(&mut self, path: &Path) {
        if super::formats::opencode_db::is_db(path) {
            self.check_store(path);
            return;
        }
        let meta = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => m,
            _ => {
                // Deleted (or not a file): drain what the open handle still has, then forget it.
                if let Some(mut tr) = self.files.remove(path) {
                    {
                        let mut sink = self.send();
                        let _ = tr.tf.pump(&mut tr.file, false, &mut sink);
                    }
                    self.deleted.insert(path.to_path_buf());
                }
                return;
            }
        };
        let (dev, ino) = identity(&meta);
        if let Some(tr) = self.files.get(path) {
            if tr.tf.identity() != (dev, ino) {
                // Rotated: drain the old file, then start the new one from its beginning.
                let is_doc = tr.doc_len.is_some();
                let mut seen = None;
                if let Some(mut old) = self.files.remove(path) {
                    let mut sink = self.send();
                    if is_doc {
                        // A document rewritten by rename: what was read stays known.
                        seen = Some(old.tf.take_seen());
                    } else {
                        let _ = old.tf.pump(&mut old.file, false, &mut sink);
                    }
                }
                self.open(path, dev, ino, 0, 0, is_doc);
                if let (Some(seen), Some(tr)) = (seen, self.files.get_mut(path)) {
                    tr.tf.put_seen(seen);
                }
            }
        } else {
            let recreated = self.deleted.remove(path);
            let (offset, line) = match self.stored_state(path) {
                Some(s)
                    if !self.opts.from_start
                        && !recreated
                        && s.dev == dev
                        && s.ino == ino
                        && s.offset <= meta.len()
                        && ends_a_line(path, s.offset) =>
                {
                    (s.offset, s.line)
                }
                _ => (0, 0),
            };
            let is_doc = crate::ingest::document::is_document(path);
            self.open(path, dev, ino, offset, line, is_doc);
        }
        let Some(mut tr) = self.files.remove(path) else {
            return;
        };
        if let Some(prev) = tr.doc_len {
            // A document changes in place: read it again whole when its size
            // or time changed; only what changed is passed on.
            let stamp = doc_stamp(&meta);
            if prev != stamp {
                tr.doc_len = Some(stamp);
                let mut sink = self.send();
                let _ = tr.tf.pump_document(&mut tr.file, &mut sink);
            }
        } else {
            if meta.len() < tr.tf.offset() {
                // Truncated in place (copytruncate): start over.
                tr.tf.restart(dev, ino);
            }
            let mut sink = self.send();
            let _ = tr.tf.pump(&mut tr.file, false, &mut sink);
        }
        self.files.insert(path.to_path_buf(), tr);
    }

    /// An OpenCode SQLite store: reads the rows stamped since the last read
    /// (the stored one, for the same file, when not following from the start).
    fn check_store(&mut self, path: &Path) {
        use super::formats::opencode_db;
        let Ok(meta) = std::fs::metadata(path) else {
            self.stores.remove(path);
            return;
        };
        let (dev, ino) = identity(&meta);
        let stamp = match opencode_db::stamp(path) {
            Ok(s) => s,
            Err(why) => return self.unreadable_store(path, &why),
        };
        let since = match self.stores.get(path) {
            Some(s) => Some(*s),
            None => self
                .stored_state(path)
                .filter(|s| !self.opts.from_start && s.dev == dev && s.ino == ino)
                .and_then(|s| i64::try_from(s.line).ok()),
        };
        let display = path.display().to_string();
        // Rows OpenCode deleted (which move no stamp): looked for when the
        // database or its log changed since the last look.
        let files = db_files_stamp(path);
        let mut gone = Vec::new();
        if self.store_files.get(path) != Some(&files) {
            if self.reader.is_none() {
                self.reader = Store::open_read(&self.db).ok();
            }
            if let Some(r) = self.reader.as_ref() {
                match super::upstream_deletes::opencode_deletions(r, path, &display) {
                    Ok(g) => gone = g,
                    Err(why) => return self.unreadable_store(path, &why),
                }
            }
            self.store_files.insert(path.to_path_buf(), files);
        }
        if since == Some(stamp) && gone.is_empty() {
            self.stores.insert(path.to_path_buf(), stamp);
            return;
        }
        let mut read = match opencode_db::read(path, &display, since.unwrap_or(0)) {
            Ok(r) => r,
            Err(why) => return self.unreadable_store(path, &why),
        };
        read.records.extend(gone);
        self.unreadable.remove(path);
        self.stores.insert(path.to_path_buf(), read.stamp);
        self.tx.send(read.into_batch(display, &meta));
    }

    /// Says once on stderr (`warning: <path>: <why>`) that an OpenCode store
    /// cannot be read; it is tried again at each change and rescan.
    fn unreadable_store(&mut self, path: &Path, why: &str) {
        if self.unreadable.insert(path.to_path_buf()) {
            crate::notice::warn("opencode_db", format!("{}: {why}", path.display()));
        }
    }

    fn open(&mut self, path: &Path, dev: u64, ino: u64, offset: u64, line: u64, is_doc: bool) {
        let Ok(file) = File::open(path) else { return };
        let tf = TraceFile::new(
            path,
            self.opts.forced,
            self.opts.line_cap,
            offset,
            line,
            dev,
            ino,
        );
        let (tf, doc_len) = if is_doc {
            (tf.remembering(), Some((u64::MAX, 0)))
        } else {
            (tf, None)
        };
        self.files
            .insert(path.to_path_buf(), Tracked { tf, file, doc_len });
    }
}
