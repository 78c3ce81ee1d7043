//! The spool: work a writer has accepted but cannot store yet (the store busy
//! for long, the disk full, an I/O error), kept on disk beside the store until
//! it can be, in `<db>.spool/` (folder `0700`, files `0600`).
//!
//! It holds only what the store would hold: batches that went through
//! redaction (the spool is disk too). Each writer appends frames, one JSON line
//! per batch, to a file of its own that it keeps locked (`flock`) while it
//! lives; a file whose writer is gone (crashed, or stopped with work left) is an
//! orphan that the next writer claims by taking the lock. A frame is replayed
//! into the store together with a `spool_replayed` row naming it, in one
//! transaction, so no frame is ever stored twice, even across a crash. The
//! folder is bounded in bytes ([`DEFAULT_MAX`], or `[store] spool_max_mb`).
//!
//! What is found there is trusted no more than the key: the folder must be a
//! folder of the user's, never a link (a link is not listed, so another
//! folder's files are never replayed nor removed), and a file is read only
//! when, checked on the open descriptor, it is a regular file of the user's
//! with one link (a pipe, a device, a link or a hard link to some other file
//! is passed over, said, and left where it is), read no further than its size
//! when it was claimed.

use super::trust;
use super::StoreBatch;
use crate::model::SourceState;
use crate::model::{Finding, ParseError, Run, SkillHit, Span, TriageStatus};
use crate::redact::Redacted;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Default bound of the spool folder.
pub const DEFAULT_MAX: u64 = 1 << 30;

/// Proof for [`Redacted::from_spool`] that a value was read back from the
/// spool, which only ever holds values that were `Redacted` when written.
/// Only this module can make one.
pub struct SpoolToken(());

/// Why a batch could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {0} is full ({1} MB, the bound set by [store] spool_max_mb)")]
    Full(String, u64),
    #[error("{0}")]
    Io(String),
}

/// One frame read back: its id (`<file>:<n>`) and the batch.
pub struct Frame {
    pub id: String,
    pub batch: StoreBatch,
    next_at: u64,
}

/// How a frame is written: the batch's redacted values, borrowed.
#[derive(Serialize)]
struct FrameOut<'a> {
    frame: &'a str,
    runs: Vec<&'a Run>,
    spans: Vec<&'a Span>,
    findings: Vec<&'a Finding>,
    skill_hits: Vec<&'a SkillHit>,
    errors: Vec<&'a ParseError>,
    triage: Vec<(&'a str, TriageStatus, Option<&'a str>)>,
    sources: &'a [SourceState],
}

#[derive(Deserialize)]
struct FrameIn {
    frame: String,
    runs: Vec<Run>,
    spans: Vec<Span>,
    findings: Vec<Finding>,
    skill_hits: Vec<SkillHit>,
    errors: Vec<ParseError>,
    triage: Vec<(String, TriageStatus, Option<String>)>,
    sources: Vec<SourceState>,
}

impl FrameIn {
    fn into_batch(self) -> StoreBatch {
        let t = SpoolToken(());
        fn back<T>(v: Vec<T>, t: &SpoolToken) -> Vec<Redacted<T>> {
            v.into_iter().map(|v| Redacted::from_spool(v, t)).collect()
        }
        StoreBatch {
            runs: back(self.runs, &t),
            spans: back(self.spans, &t),
            findings: back(self.findings, &t),
            skill_hits: back(self.skill_hits, &t),
            errors: back(self.errors, &t),
            triage: self
                .triage
                .into_iter()
                .map(|(fp, s, n)| (fp, s, n.map(|n| Redacted::from_spool(n, &t))))
                .collect(),
            sources: self.sources,
        }
    }
}

/// One JSON line for `batch`, ending in a newline.
fn encode(id: &str, b: &StoreBatch) -> Result<Vec<u8>, SpoolError> {
    let out = FrameOut {
        frame: id,
        runs: b.runs.iter().map(Redacted::get).collect(),
        spans: b.spans.iter().map(Redacted::get).collect(),
        findings: b.findings.iter().map(Redacted::get).collect(),
        skill_hits: b.skill_hits.iter().map(Redacted::get).collect(),
        errors: b.errors.iter().map(Redacted::get).collect(),
        triage: b
            .triage
            .iter()
            .map(|(fp, s, n)| (fp.as_str(), *s, n.as_ref().map(|n| n.get().as_str())))
            .collect(),
        sources: &b.sources,
    };
    let mut line =
        serde_json::to_vec(&out).map_err(|e| SpoolError::Io(format!("cannot encode: {e}")))?;
    line.push(b'\n');
    Ok(line)
}

/// A spool file this process holds (locked): its own, or an orphan it claimed.
pub struct SpoolFile {
    path: PathBuf,
    name: String,
    file: File,
    /// Where the next unreplayed frame starts, and where the file ends.
    read_at: u64,
    end: u64,
    written: u64,
}

impl SpoolFile {
    /// The file's name (frame ids start with it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when every frame has been read back.
    pub fn drained(&self) -> bool {
        self.read_at >= self.end
    }

    /// The next frame not yet replayed. A damaged frame (a write cut short by a
    /// crash) is skipped and reported as `Err` with what was lost.
    pub fn next_frame(&mut self) -> Option<Result<Frame, String>> {
        if self.drained() {
            return None;
        }
        let mut f = &self.file;
        if f.seek(SeekFrom::Start(self.read_at)).is_err() {
            self.read_at = self.end;
            return Some(Err(format!("{}: cannot read", self.path.display())));
        }
        // Never past the size the file had when it was claimed or written.
        let mut r = BufReader::new(f.take(self.end - self.read_at));
        let mut line = Vec::new();
        let n = match r.read_until(b'\n', &mut line) {
            Ok(n) => n as u64,
            Err(e) => {
                self.read_at = self.end;
                return Some(Err(format!("{}: cannot read: {e}", self.path.display())));
            }
        };
        let next_at = self.read_at + n.max(1);
        if n == 0 || line.last() != Some(&b'\n') {
            self.read_at = self.end;
            return Some(Err(format!(
                "{}: its last frame was cut short ({n} bytes; a crash while spooling); skipped",
                self.path.display()
            )));
        }
        match serde_json::from_slice::<FrameIn>(&line) {
            Ok(f) => Some(Ok(Frame {
                id: f.frame.clone(),
                batch: f.into_batch(),
                next_at,
            })),
            Err(_) => {
                self.read_at = next_at;
                Some(Err(format!(
                    "{}: a damaged frame ({n} bytes at {}) skipped",
                    self.path.display(),
                    next_at - n
                )))
            }
        }
    }

    /// Marks `frame` stored (it will not be read again by this process).
    pub fn advance(&mut self, frame: &Frame) {
        self.read_at = self.read_at.max(frame.next_at);
    }

    /// Removes the file (while still holding its lock, so no one claims it after).
    fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The spool of one writer.
pub struct Spool {
    dir: PathBuf,
    max: u64,
    own: Option<SpoolFile>,
    /// Bytes of the other files in the folder when ours was created.
    others: u64,
}

impl Spool {
    /// The spool beside `db` (nothing is created until the first [`Spool::push`]).
    pub fn new(db: &Path, max_bytes: u64) -> Spool {
        Spool {
            dir: folder(db),
            max: max_bytes,
            own: None,
            others: 0,
        }
    }

    /// The folder (`<db>.spool`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends `batch` as one frame (written through to disk before returning).
    pub fn push(&mut self, batch: &StoreBatch) -> Result<(), SpoolError> {
        if self.own.is_none() {
            self.own = Some(self.create()?);
        }
        let Some(own) = self.own.as_mut() else {
            return Err(SpoolError::Io("spool file missing".into()));
        };
        let id = format!("{}:{}", own.name, own.written);
        let line = encode(&id, batch)?;
        if self.others + own.end + line.len() as u64 > self.max {
            return Err(SpoolError::Full(
                self.dir.display().to_string(),
                self.max >> 20,
            ));
        }
        let io = |e: std::io::Error| SpoolError::Io(format!("{}: {e}", own.path.display()));
        // A short write (disk full midway) is cut back so the file stays whole frames.
        let done = own
            .file
            .seek(SeekFrom::Start(own.end))
            .and_then(|_| own.file.write_all(&line))
            .and_then(|()| own.file.sync_data());
        if let Err(e) = done {
            let _ = own.file.set_len(own.end);
            return Err(io(e));
        }
        own.end += line.len() as u64;
        own.written += 1;
        Ok(())
    }

    /// This writer's file, to replay from (`None` when it spooled nothing).
    pub fn own(&mut self) -> Option<&mut SpoolFile> {
        self.own.as_mut()
    }

    /// Removes this writer's file once every frame is stored; its name, for
    /// forgetting its `spool_replayed` rows.
    pub fn finish_own(&mut self) -> Option<String> {
        if !self.own.as_ref().is_some_and(SpoolFile::drained) {
            return None;
        }
        let own = self.own.take()?;
        let name = own.name.clone();
        own.remove();
        Some(name)
    }

    /// Lets go of this writer's file without replaying it (closing it drops its
    /// lock): it is then an orphan that the store's writer claims and stores
    /// (the proxy's recorder spills so). The next push starts a new file.
    /// Its name and frames, or `None` when nothing was spooled.
    pub fn release_own(&mut self) -> Option<(String, u64)> {
        let own = self.own.take()?;
        Some((own.name, own.written))
    }

    /// Bytes this writer's file holds.
    pub fn own_bytes(&self) -> u64 {
        self.own.as_ref().map_or(0, |f| f.end)
    }

    /// Removes a claimed orphan whose frames are all stored.
    pub fn finish_orphan(&mut self, f: SpoolFile) -> String {
        let name = f.name.clone();
        f.remove();
        name
    }

    fn create(&mut self) -> Result<SpoolFile, SpoolError> {
        let io = |e: String| SpoolError::Io(e);
        ensure_folder(&self.dir).map_err(io)?;
        self.others = usage(&self.dir);
        let name = format!(
            "{}-{}-{:08x}.spool",
            super::now_ms(),
            std::process::id(),
            rand::random::<u32>()
        );
        let path = self.dir.join(&name);
        let file = crate::paths::create_new_private(&path)
            .map_err(|e| io(format!("{e:#}")))?
            .ok_or_else(|| io(format!("{}: exists", path.display())))?;
        lock(&file, true).map_err(|e| io(format!("{}: cannot lock: {e}", path.display())))?;
        Ok(SpoolFile {
            path,
            name,
            file,
            read_at: 0,
            end: 0,
            written: 0,
        })
    }

    /// Claims the next orphan (a spool file no running writer holds), skipping
    /// this writer's own file and anything not owned by the user.
    pub fn claim_orphan(&self) -> Option<SpoolFile> {
        let own = self.own.as_ref().map(|f| f.name.as_str());
        let listed = match listing(&self.dir) {
            Ok(l) => l,
            Err(why) => {
                crate::notice::warn("spool-foreign", format!("spool not replayed: {why}"));
                return None;
            }
        };
        for (path, name) in listed {
            if Some(name.as_str()) == own {
                continue;
            }
            let file = match open_frames(&path) {
                Ok(Some(file)) => file,
                Ok(None) => continue, // removed meanwhile
                Err(why) => {
                    crate::notice::warn("spool-foreign", format!("spool file not replayed: {why}"));
                    continue;
                }
            };
            if lock(&file, false).is_err() {
                continue; // its writer is alive
            }
            // Its writer may have removed it (all stored) just before we locked it.
            let Ok(meta) = file.metadata() else { continue };
            if nlink(&meta) == 0 {
                continue;
            }
            return Some(SpoolFile {
                path,
                name,
                read_at: 0,
                end: meta.len(),
                written: 0,
                file,
            });
        }
        None
    }
}

/// `<db>.spool`.
pub fn folder(db: &Path) -> PathBuf {
    trust::sidecar(db, ".spool")
}

/// Creates the spool folder (`0700`) or checks the one found: a folder, ours, not a link.
fn ensure_folder(dir: &Path) -> Result<(), String> {
    match trust::check_owned(dir, trust::Kind::Dir)? {
        Some(f) => {
            trust::tighten(dir, &f, 0o700);
            Ok(())
        }
        None => {
            let mut b = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            match b.create(dir) {
                Ok(()) => crate::paths::set_mode(dir, 0o700).map_err(|e| format!("{e:#}")),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    trust::check_owned(dir, trust::Kind::Dir).map(|_| ())
                }
                Err(e) => Err(format!("{}: cannot create folder: {e}", dir.display())),
            }
        }
    }
}

/// The spool files in `dir` (path, name), oldest name first; none when `dir`
/// is not a folder of the user's (a link to one included).
pub fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    listing(dir).unwrap_or_default()
}

/// As [`files`], saying why a folder found at `dir` is not listed: a link
/// (never followed: its target's files are another store's, or no spool's),
/// not a folder, another user's. An absent folder lists nothing.
fn listing(dir: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    trust::check_owned(dir, trust::Kind::Dir)?;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(PathBuf, String)> = rd
        .filter_map(|e| e.ok())
        .map(|e| (e.path(), e.file_name().to_string_lossy().into_owned()))
        .filter(|(_, n)| n.ends_with(".spool"))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// Opens a spool file found in the folder to read its frames, checked on the
/// open descriptor (so nothing is swapped in between): a regular file of the
/// user's with exactly one link. Opening never follows a link nor waits on a
/// pipe. `Ok(None)` when it is gone (removed by its writer meanwhile); `Err`
/// saying why anything else is passed over.
fn open_frames(path: &Path) -> Result<Option<File>, String> {
    // Looked at before opening, so no pipe or device is ever opened...
    let Some(seen) = trust::check_owned(path, trust::Kind::File)? else {
        return Ok(None);
    };
    let file = match crate::paths::open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot open: {e}", path.display())),
    };
    // ...and checked again on the descriptor, so nothing was swapped in between.
    let meta = file
        .metadata()
        .map_err(|e| format!("{}: cannot inspect: {e}", path.display()))?;
    let facts = trust::facts_of_meta(&meta);
    if let Some(why) = trust::refusal(&facts, trust::Kind::File, trust::my_uid()) {
        return Err(format!("{}: {why}", path.display()));
    }
    if (facts.dev, facts.ino) != (seen.dev, seen.ino) {
        return Err(format!(
            "{}: was replaced while it was opened",
            path.display()
        ));
    }
    match nlink(&meta) {
        0 => Ok(None),
        1 => Ok(Some(file)),
        n => Err(format!(
            "{}: has {n} hard links; a spool file skilltrace wrote has one, so this may be \
             some other file linked in (remove it)",
            path.display()
        )),
    }
}

/// Bytes of spool files in `dir`.
pub fn usage(dir: &Path) -> u64 {
    files(dir)
        .iter()
        .filter_map(|(p, _)| std::fs::symlink_metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// What the spool beside `db` holds: files, frames, bytes, and how many files
/// a running writer holds (the rest are orphans, replayed by the next writer);
/// and what was found there and is never read (a link, a pipe, a device, a
/// hard-linked file, another user's; or the folder itself), the first reason.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Survey {
    pub files: u64,
    pub frames: u64,
    pub bytes: u64,
    pub held: u64,
    pub refused: u64,
    pub why: Option<String>,
}

/// Looks at the spool beside `db` without changing it. Frames are counted by
/// their newlines, a block at a time, so no line is ever held whole.
pub fn survey(db: &Path) -> Survey {
    let mut s = Survey::default();
    fn refuse(s: &mut Survey, why: String) {
        s.refused += 1;
        s.why.get_or_insert(why);
    }
    let listed = match listing(&folder(db)) {
        Ok(l) => l,
        Err(why) => {
            refuse(&mut s, why);
            return s;
        }
    };
    for (path, _) in listed {
        let file = match open_frames(&path) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(why) => {
                refuse(&mut s, why);
                continue;
            }
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        s.files += 1;
        s.bytes += len;
        s.frames += count_lines(&file, len);
        if lock(&file, false).is_err() {
            s.held += 1;
        }
    }
    s
}

/// Non-empty lines in the first `len` bytes of `file`.
fn count_lines(file: &File, len: u64) -> u64 {
    let mut r = file.take(len);
    let mut buf = vec![0u8; 64 << 10];
    let (mut n, mut in_line) = (0u64, false);
    while let Ok(got) = r.read(&mut buf) {
        if got == 0 {
            break;
        }
        for &b in &buf[..got] {
            if b == b'\n' {
                n += u64::from(in_line);
                in_line = false;
            } else {
                in_line = true;
            }
        }
    }
    n + u64::from(in_line)
}

#[cfg(unix)]
fn lock(file: &File, wait: bool) -> std::io::Result<()> {
    use rustix::fs::{flock, FlockOperation};
    let op = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    flock(file, op).map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn lock(_file: &File, _wait: bool) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn nlink(m: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.nlink()
}

#[cfg(not(unix))]
fn nlink(_m: &std::fs::Metadata) -> u64 {
    1
}

#[cfg(test)]
pub(super) mod tests;
