//! What the guard remembers of one agent session between its events: how many
//! events it has seen, which tool calls wait for their after-event, and (for
//! the command hook, a new process per event) the detector's run state.
//!
//! `guard serve` keeps sessions in memory. The command hook keeps each in a
//! small file beside the store (`<db>.guard/<keyed hash>.json`, `0600`):
//! redacted findings and keyed hashes only, never a secret or a raw command,
//! guarded by a lock file so two hook processes of one session take turns.

use super::event::{EventKind, GuardEvent};
use crate::detect::tokens::keyed_hash_hex;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Tool calls that may wait for their after-event at once (oldest dropped).
const MAX_PENDING: usize = 128;
/// Secrets remembered (as keyed hashes) per session.
const MAX_SECRETS: usize = 4096;
/// A lock file older than this was left by a process that died: taken over.
const STALE_LOCK: Duration = Duration::from_secs(10);
/// Session files untouched this long are removed when a session starts.
const MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

/// One session's memory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// Events seen (numbers the guard's own span ids and origins).
    pub seq: u64,
    /// Calls without an agent call id waiting for their after-event: keyed
    /// hash of tool and arguments, span id.
    pub pending: VecDeque<(String, String)>,
    /// The detector's correlation state for this run (command hook only).
    pub detector: Option<serde_json::Value>,
    /// Secrets redaction saw in this session: keyed hash (hex) and rule name.
    /// Lets a later process redact a bare copy of one (never the value itself).
    pub secrets: Vec<(String, String)>,
}

impl Session {
    /// Remembers that redaction saw a secret with keyed hash `hash` under `rule`.
    pub fn note_secret(&mut self, hash: String, rule: &str) {
        if self.secrets.len() < MAX_SECRETS && !self.secrets.iter().any(|(h, _)| *h == hash) {
            self.secrets.push((hash, rule.to_string()));
        }
    }

    /// The span id for `ev`: the agent's call id when it sends one; else one
    /// that pairs a call's before and after events by tool and arguments.
    /// Advances `seq`.
    pub fn span_id(&mut self, ev: &GuardEvent, key: &[u8; 32]) -> String {
        self.seq += 1;
        let seq = self.seq;
        if let Some(id) = ev.call_id.as_deref().filter(|s| !s.is_empty()) {
            return id.to_string();
        }
        match ev.kind {
            EventKind::PreTool | EventKind::PostTool { .. } => {
                let h = keyed_hash_hex(key, &ev.pair_text());
                let h = h.get(..16).unwrap_or(&h).to_string();
                if matches!(ev.kind, EventKind::PostTool { .. }) {
                    if let Some(i) = self.pending.iter().position(|(k, _)| *k == h) {
                        if let Some((_, id)) = self.pending.remove(i) {
                            return id;
                        }
                    }
                    return format!("guard-{seq}-{h}");
                }
                let id = format!("guard-{seq}-{h}");
                if self.pending.len() >= MAX_PENDING {
                    self.pending.pop_front();
                }
                self.pending.push_back((h, id.clone()));
                id
            }
            EventKind::Prompt => format!("guard-{seq}-prompt"),
            EventKind::SessionStart => format!("guard-{seq}-start"),
            EventKind::SessionEnd => format!("guard-{seq}-end"),
            EventKind::Other => format!("guard-{seq}-event"),
        }
    }
}

/// The folder of session files beside the store: `<db>.guard/`.
pub fn state_dir(db: &Path) -> PathBuf {
    crate::detect::tokens::beside(db, "guard")
}

/// A session file, held locked until dropped.
#[derive(Debug)]
pub struct SessionFile {
    path: PathBuf,
    _lock: Lock,
}

/// A lock file, taken with `O_EXCL` and removed when dropped; one left by a
/// process that died is taken over once it is older than ten seconds.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock at `path`, waiting for its holder until `deadline`.
    pub fn take(path: &Path, deadline: Instant) -> anyhow::Result<Lock> {
        take_lock(path, deadline)?;
        Ok(Lock {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl SessionFile {
    /// Locks and reads the session file of `(agent, session)`, waiting for
    /// another hook process of the same session until `deadline`. A missing
    /// or unreadable file is a fresh session.
    pub fn open(
        dir: &Path,
        key: &[u8; 32],
        agent: &str,
        session: &str,
        deadline: Instant,
    ) -> anyhow::Result<(SessionFile, Session)> {
        crate::paths::ensure_private_dir(dir)?;
        let name = keyed_hash_hex(key, &format!("{agent}\u{0}{session}"));
        let name = name.get(..32).unwrap_or(&name);
        let path = dir.join(format!("{name}.json"));
        let lock = Lock::take(&dir.join(format!("{name}.lock")), deadline)?;
        let file = SessionFile { path, _lock: lock };
        let s = std::fs::read(&file.path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Ok((file, s))
    }

    /// Writes the session back (atomically, `0600`), not waiting for the
    /// disk: the hook process exits (and the agent goes on) only after this,
    /// and an fsync there was the most variable part of its wall time. A file
    /// lost to a crash is a fresh session (its chains forgotten, as a new run).
    pub fn save(&self, s: &Session) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(s)?;
        crate::paths::write_private_cache(&self.path, &bytes)
    }

    /// Removes the session's file (its session ended).
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn take_lock(lock: &Path, deadline: Instant) -> anyhow::Result<()> {
    if let Some(dir) = lock.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(lock)
        {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let stale = std::fs::metadata(lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_LOCK);
                if stale {
                    let _ = std::fs::remove_file(lock);
                    continue;
                }
                if Instant::now() >= deadline {
                    anyhow::bail!("{}: locked by another guard process", lock.display());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => {
                return Err(anyhow::anyhow!("{}: cannot lock: {e}", lock.display()));
            }
        }
    }
}

/// Removes session files nobody touched for two weeks.
pub fn sweep(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > MAX_AGE);
        if old && e.path().extension().is_some_and(|x| x == "json") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::agents::Agent;

    fn tool(kind: EventKind, cmd: &str) -> GuardEvent {
        let mut e = GuardEvent::new(Agent::Cursor, "x", kind, "c1");
        e.tool_name = Some("Shell".into());
        e.tool_input = Some(format!(r#"{{"command":"{cmd}"}}"#));
        e
    }

    #[test]
    fn before_and_after_events_without_ids_pair_up_in_order() {
        let key = [7u8; 32];
        let mut s = Session::default();
        let a1 = s.span_id(&tool(EventKind::PreTool, "ls"), &key);
        let a2 = s.span_id(&tool(EventKind::PreTool, "ls"), &key);
        let b = s.span_id(&tool(EventKind::PreTool, "pwd"), &key);
        assert!(a1 != a2 && a1 != b);
        let post = EventKind::PostTool { failed: false };
        assert_eq!(s.span_id(&tool(post, "pwd"), &key), b);
        assert_eq!(s.span_id(&tool(post, "ls"), &key), a1);
        assert_eq!(s.span_id(&tool(post, "ls"), &key), a2);
        assert!(s.pending.is_empty());
        let mut with_id = tool(EventKind::PreTool, "ls");
        with_id.call_id = Some("toolu_9".into());
        assert_eq!(s.span_id(&with_id, &key), "toolu_9");
    }

    #[test]
    fn session_files_round_trip_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let key = [1u8; 32];
        let soon = || Instant::now() + Duration::from_millis(50);
        let (f, mut s) = SessionFile::open(dir.path(), &key, "codex", "s1", soon()).unwrap();
        s.seq = 41;
        f.save(&s).unwrap();
        let locked = SessionFile::open(dir.path(), &key, "codex", "s1", soon());
        assert!(locked.unwrap_err().to_string().contains("locked"));
        drop(f);
        let (_f, s2) = SessionFile::open(dir.path(), &key, "codex", "s1", soon()).unwrap();
        assert_eq!(s2.seq, 41);
        // the file name is a keyed hash, never the session id
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains("s1")), "{names:?}");
    }
}
