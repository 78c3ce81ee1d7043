//! The command hook's side of the warm judge: where its socket is, how a hook
//! proves the judge is this very binary before sending it an event, and the
//! small framed protocol they speak.
//!
//! A hook process (`skilltrace guard --agent A`) first asks the warm judge
//! (`warm_judge`, one background process per user, store and config file)
//! over a Unix socket in a private folder (`$XDG_RUNTIME_DIR/skilltrace/`,
//! else the state folder; `0700`, socket `0600`). It accepts the judge only
//! if the folder and socket are its user's and private, and the process
//! serving the socket runs as its user from the same executable file as the
//! hook (Linux: `SO_PEERCRED` and `/proc/<pid>/exe`). It sends the event with
//! its build id and the config's fingerprint; a judge built from another
//! binary or config answers "mismatch" and exits. Anything wrong (none
//! running, refused, slow, mismatch, garbled): the hook judges in its own
//! process, as it always did, within the same budget.

use super::agents::{Agent, Answer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest a request header or reply may be (the answer is short text).
const MAX_FRAME: u32 = 8 * 1024 * 1024;
/// How long the hook waits for the judge to take its request (the judge
/// acknowledges with its budget before judging).
pub const ACK_WAIT: Duration = Duration::from_millis(250);
/// What the hook allows beyond the budget for the judge's reply to arrive.
const REPLY_GRACE: Duration = Duration::from_millis(100);

/// What a hook asks the judge.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Judge the event that follows in the next frame.
    Judge {
        build: String,
        config: String,
        agent: String,
        fail_closed: bool,
        dry_run: bool,
        /// Microseconds since the hook started: the budget counts from there.
        elapsed_us: u64,
    },
    /// Who are you (`guard status`, `doctor`).
    Ping,
}

/// What the judge answers.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    /// The request is taken; the answer follows within `budget_ms` of the
    /// hook's start.
    Taken { budget_ms: u64 },
    /// The answer to print.
    Answer {
        stdout: String,
        stderr: String,
        exit: i32,
    },
    /// Built from another binary or config: judge locally; the judge exits.
    Mismatch { why: String },
    /// The judge's state.
    Pong {
        pid: u32,
        uptime_ms: u64,
        idle_secs: u64,
        idle_for_ms: u64,
        /// Events judged so far.
        judged: u64,
    },
}

/// Why a hook judged in its own process, and whether to start a judge.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    pub why: String,
    /// Start a warm judge for the next event (none running, or one that
    /// must be replaced).
    pub start: bool,
    /// Worth noting on the call's span (not merely "none running").
    pub note: bool,
}

impl Local {
    fn none_running() -> Local {
        Local {
            why: "no warm judge running".into(),
            start: true,
            note: false,
        }
    }

    fn refused(why: String, start: bool) -> Local {
        Local {
            why,
            start,
            note: true,
        }
    }
}

/// The private folder of warm judge sockets: `$XDG_RUNTIME_DIR/skilltrace`,
/// else the state (or local data) folder's `run/`.
pub fn folder() -> Option<PathBuf> {
    if let Some(r) =
        directories::BaseDirs::new().and_then(|b| b.runtime_dir().map(Path::to_path_buf))
    {
        return Some(r.join("skilltrace"));
    }
    let d = directories::ProjectDirs::from("dev", "skilltrace", "skilltrace")?;
    Some(
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .join("run"),
    )
}

/// The socket (and, with extension `lock`, the lock file) of the judge for
/// store `db` and the config file in use: one judge per user, store and config.
pub fn socket_path(dir: &Path, db: &Path, ext: &str) -> PathBuf {
    let db = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    let cfg = crate::paths::config_file().unwrap_or_default();
    let mut h = Sha256::new();
    h.update(db.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(cfg.as_os_str().as_encoded_bytes());
    let name = hex::encode(&h.finalize()[..8]);
    dir.join(format!("judge-{name}.{ext}"))
}

/// This binary's identity: device, inode, size and modification time of the
/// running executable (a rebuilt or replaced binary has another).
pub fn build_id() -> String {
    let m = std::fs::metadata("/proc/self/exe")
        .or_else(|_| std::env::current_exe().and_then(std::fs::metadata));
    match m {
        Ok(m) => file_id(&m),
        Err(_) => "unknown".into(),
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "{}:{}:{}:{}.{}",
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime(),
        m.mtime_nsec()
    )
}

#[cfg(not(unix))]
fn file_id(m: &std::fs::Metadata) -> String {
    format!("{}:{:?}", m.len(), m.modified().ok())
}

/// What the judge's decisions depend on beside the binary: the config file
/// (path and bytes), the store's key and canary file (size and time).
pub fn config_fingerprint(db: &Path) -> String {
    let mut h = Sha256::new();
    match crate::paths::config_file() {
        Some(p) => {
            h.update(p.as_os_str().as_encoded_bytes());
            h.update([0]);
            match crate::paths::read_regular(&p, 8 << 20) {
                Ok(b) => h.update(&b),
                Err(_) => h.update(b"\x00missing"),
            }
        }
        None => h.update(b"\x00none"),
    }
    for ext in ["key", "canaries"] {
        let p = crate::detect::tokens::beside(db, ext);
        let id = std::fs::metadata(&p)
            .map(|m| file_id(&m))
            .unwrap_or_default();
        h.update([0]);
        h.update(id.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// Writes one frame: length (4 bytes, big-endian), then the bytes.
pub fn write_frame(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    let n = u32::try_from(bytes.len()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    w.write_all(&n.to_be_bytes())?;
    w.write_all(bytes)
}

/// Reads one frame of at most `max` bytes.
pub fn read_frame(r: &mut impl Read, max: u32) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let n = u32::from_be_bytes(len);
    if n > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("frame of {n} bytes"),
        ));
    }
    let mut buf = vec![0u8; n as usize];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Reads one reply.
pub fn read_reply(r: &mut impl Read) -> std::io::Result<Reply> {
    let b = read_frame(r, MAX_FRAME)?;
    serde_json::from_slice(&b).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Writes one message (request or reply) as JSON in a frame.
pub fn write_json(w: &mut impl Write, v: &impl Serialize) -> std::io::Result<()> {
    let b = serde_json::to_vec(v).map_err(std::io::Error::other)?;
    write_frame(w, &b)
}

/// Asks the warm judge for `db` to judge `input` for `agent`; its answer, or
/// why the hook must judge in its own process. `started` is the hook's start.
pub fn ask(
    db: &Path,
    agent: Agent,
    (fail_closed, dry_run): (bool, bool),
    input: &[u8],
    started: Instant,
) -> Result<Answer, Local> {
    let mut s = connect(db)?;
    let req = Request::Judge {
        build: build_id(),
        config: config_fingerprint(db),
        agent: agent.name().into(),
        fail_closed,
        dry_run,
        elapsed_us: started.elapsed().as_micros() as u64,
    };
    let garbled = |e: std::io::Error| Local::refused(format!("warm judge: {e}"), true);
    let _ = s.set_write_timeout(Some(ACK_WAIT));
    write_json(&mut s, &req).map_err(garbled)?;
    write_frame(&mut s, input).map_err(garbled)?;
    let _ = s.set_read_timeout(Some(ACK_WAIT));
    let budget = match read_reply(&mut s).map_err(garbled)? {
        Reply::Taken { budget_ms } => Duration::from_millis(budget_ms),
        Reply::Mismatch { why } => return Err(Local::refused(format!("warm judge: {why}"), true)),
        other => return Err(garbled(unexpected(&other))),
    };
    let left = (started + budget + REPLY_GRACE).saturating_duration_since(Instant::now());
    let _ = s.set_read_timeout(Some(left.max(Duration::from_millis(1))));
    match read_reply(&mut s).map_err(garbled)? {
        Reply::Answer {
            stdout,
            stderr,
            exit,
        } => Ok(Answer {
            stdout,
            stderr,
            exit,
        }),
        other => Err(garbled(unexpected(&other))),
    }
}

fn unexpected(r: &Reply) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("unexpected reply {:?}", std::mem::discriminant(r)),
    )
}

/// What `guard status` tells of a running judge.
#[derive(Debug, Clone, Copy)]
pub struct JudgeInfo {
    pub pid: u32,
    pub uptime_ms: u64,
    pub idle_secs: u64,
    pub idle_for_ms: u64,
    pub judged: u64,
}

/// The running judge's pid, uptime, idle limit, idle time and events judged
/// (for `guard status`), or why there is none to be trusted.
pub fn ping(db: &Path) -> Result<JudgeInfo, String> {
    let mut s = connect(db).map_err(|l| l.why)?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    write_json(&mut s, &Request::Ping).map_err(|e| e.to_string())?;
    match read_reply(&mut s).map_err(|e| e.to_string())? {
        Reply::Pong {
            pid,
            uptime_ms,
            idle_secs,
            idle_for_ms,
            judged,
        } => Ok(JudgeInfo {
            pid,
            uptime_ms,
            idle_secs,
            idle_for_ms,
            judged,
        }),
        other => Err(unexpected(&other).to_string()),
    }
}

#[cfg(target_os = "linux")]
type Stream = std::os::unix::net::UnixStream;

/// Connects to the judge's socket and checks who serves it.
#[cfg(target_os = "linux")]
fn connect(db: &Path) -> Result<Stream, Local> {
    let dir = folder().ok_or_else(|| Local::refused("no runtime folder".into(), false))?;
    let path = socket_path(&dir, db, "sock");
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(none_running(&dir, db)),
        Err(e) => return Err(Local::refused(format!("{}: {e}", path.display()), false)),
        Ok(_) => {}
    }
    check_private(&dir, &path).map_err(|why| Local::refused(why, false))?;
    let s = match Stream::connect(&path) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            ) =>
        {
            return Err(none_running(&dir, db))
        }
        Err(e) => return Err(Local::refused(format!("warm judge: {e}"), true)),
    };
    check_peer(&s).map_err(|why| Local::refused(why, true))?;
    Ok(s)
}

/// No judge serves the socket: start one, unless one holds the judge's lock
/// (it is compiling, or exiting): a second would only wait for that lock.
#[cfg(target_os = "linux")]
fn none_running(dir: &Path, db: &Path) -> Local {
    let Ok(f) = std::fs::File::open(socket_path(dir, db, "lock")) else {
        return Local::none_running();
    };
    match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockShared) {
        Ok(()) => Local::none_running(),
        Err(_) => Local {
            why: "a warm judge is starting".into(),
            start: false,
            note: false,
        },
    }
}

#[cfg(not(target_os = "linux"))]
type Stream = std::io::Empty;

/// Without `SO_PEERCRED` and `/proc`, the peer cannot be checked: no warm judge.
#[cfg(not(target_os = "linux"))]
fn connect(_db: &Path) -> Result<Stream, Local> {
    Err(Local {
        why: "no warm judge on this platform".into(),
        start: false,
        note: false,
    })
}

/// The folder is a real folder (not a link) of this user, `0700`; the socket
/// is a socket of this user, closed to others.
#[cfg(unix)]
pub fn check_private(dir: &Path, sock: &Path) -> Result<(), String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let me = rustix::process::getuid().as_raw();
    let d = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !d.is_dir() || d.uid() != me || d.mode() & 0o777 != 0o700 {
        return Err(format!(
            "{}: not a private folder of this user (mode {:o}, owner {})",
            dir.display(),
            d.mode() & 0o777,
            d.uid()
        ));
    }
    let m = std::fs::symlink_metadata(sock).map_err(|e| format!("{}: {e}", sock.display()))?;
    if !m.file_type().is_socket() || m.uid() != me || m.mode() & 0o077 != 0 {
        return Err(format!(
            "{}: not a private socket of this user (mode {:o}, owner {})",
            sock.display(),
            m.mode() & 0o777,
            m.uid()
        ));
    }
    Ok(())
}

/// The process serving `s` runs as this user, from this very executable file.
#[cfg(target_os = "linux")]
fn check_peer(s: &Stream) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let cred = rustix::net::sockopt::socket_peercred(s)
        .map_err(|e| format!("warm judge: cannot tell who serves the socket: {e}"))?;
    let me = rustix::process::getuid();
    if cred.uid != me {
        return Err(format!(
            "warm judge refused: the socket is served by uid {}, not this user",
            cred.uid.as_raw()
        ));
    }
    let pid = cred.pid.as_raw_nonzero();
    let theirs = std::fs::metadata(format!("/proc/{pid}/exe"));
    let mine = std::fs::metadata("/proc/self/exe");
    match (theirs, mine) {
        (Ok(t), Ok(m)) if t.dev() == m.dev() && t.ino() == m.ino() => Ok(()),
        (Ok(_), Ok(_)) => Err(format!(
            "warm judge refused: the socket is served by pid {pid}, which is not this skilltrace binary"
        )),
        (Err(e), _) | (_, Err(e)) => Err(format!(
            "warm judge refused: cannot check the program of pid {pid}: {e}"
        )),
    }
}

/// Starts a warm judge for `db` in the background (`exe guard --warm-judge
/// --db DB`, its own process group, stdio closed). One that finds another
/// holding its lock exits at once.
pub fn start(db: &Path) {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("skilltrace"));
    super::record::spawn_detached(&exe, &["guard", "--warm-judge", "--db"], db);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_refuse_oversize() {
        let mut buf = Vec::new();
        write_json(&mut buf, &Reply::Taken { budget_ms: 7 }).unwrap();
        write_frame(&mut buf, b"event").unwrap();
        let mut r = buf.as_slice();
        assert!(matches!(
            read_reply(&mut r).unwrap(),
            Reply::Taken { budget_ms: 7 }
        ));
        assert_eq!(read_frame(&mut r, 16).unwrap(), b"event");
        let mut big = Vec::new();
        write_frame(&mut big, &[0u8; 32]).unwrap();
        assert!(read_frame(&mut big.as_slice(), 16).is_err());
        // cut short
        assert!(read_frame(&mut &big[..10], 64).is_err());
    }

    #[test]
    fn socket_names_differ_by_store_and_stay_short() {
        let d = Path::new("/run/user/1000/skilltrace");
        let a = socket_path(d, Path::new("/tmp/a.db"), "sock");
        let b = socket_path(d, Path::new("/tmp/b.db"), "sock");
        assert_ne!(a, b);
        assert_eq!(a, socket_path(d, Path::new("/tmp/a.db"), "sock"));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("judge-") && name.ends_with(".sock") && name.len() < 40);
    }

    #[test]
    fn the_fingerprint_follows_the_canary_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let a = config_fingerprint(&db);
        assert_eq!(a, config_fingerprint(&db));
        std::fs::write(crate::detect::tokens::beside(&db, "canaries"), b"x").unwrap();
        assert_ne!(a, config_fingerprint(&db));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn no_second_judge_is_started_while_one_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        assert!(none_running(dir.path(), &db).start, "no lock file");
        let lock = std::fs::File::create(socket_path(dir.path(), &db, "lock")).unwrap();
        assert!(none_running(dir.path(), &db).start, "nobody holds it");
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).unwrap();
        let l = none_running(dir.path(), &db);
        assert!(!l.start && l.why.contains("starting"), "{l:?}");
        drop(lock);
        assert!(none_running(dir.path(), &db).start, "let go");
    }

    #[cfg(unix)]
    #[test]
    fn open_folders_and_sockets_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("run");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        let sock = d.join("j.sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(check_private(&d, &sock), Ok(()));
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(check_private(&d, &sock)
            .unwrap_err()
            .contains("private socket"));
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_private(&d, &sock)
            .unwrap_err()
            .contains("private folder"));
        let plain = dir.path().join("f");
        std::fs::write(&plain, b"").unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_private(&d, &plain).is_err());
    }
}
