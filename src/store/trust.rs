//! What the store checks before it trusts a file it finds beside it: the db,
//! its `-wal` and `-shm`, the key, the spool and the folder holding them.
//!
//! A path that is a symbolic link, or is not a regular file (a folder for the
//! spool), or is owned by another user, is refused: skilltrace never follows a
//! link to turn someone else's file into its store. A key others can read or
//! write, and a folder others can write (where anyone could plant a key or a
//! `-wal` link before skilltrace creates them) are refused too, unless the user
//! says `--allow-shared-store`; then each is named in a warning. Files found
//! wider than `0600` (`0700` for folders) are set back, and that is said.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

static ALLOW_SHARED: AtomicBool = AtomicBool::new(false);

/// Set once from `--allow-shared-store`: a key readable by others or a folder
/// writable by others is then used, with a warning, instead of refused.
pub fn allow_shared(on: bool) {
    ALLOW_SHARED.store(on, Ordering::Relaxed);
}

/// Whether `--allow-shared-store` was given.
pub fn shared_allowed() -> bool {
    ALLOW_SHARED.load(Ordering::Relaxed)
}

/// What a path is, without following a link at its last component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Link,
    Other,
}

/// Facts about one path (from `lstat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub kind: Kind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (`0o777` part).
    pub mode: u32,
    pub dev: u64,
    pub ino: u64,
}

/// `lstat` of `path`: `None` when nothing is there (not even a dangling link).
pub fn facts(path: &Path) -> std::io::Result<Option<Facts>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(facts_of(&m))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Facts of an already opened file (checked on the descriptor, not the name).
pub fn facts_of_meta(m: &std::fs::Metadata) -> Facts {
    facts_of(m)
}

fn kind_of(t: std::fs::FileType) -> Kind {
    if t.is_symlink() {
        Kind::Link
    } else if t.is_file() {
        Kind::File
    } else if t.is_dir() {
        Kind::Dir
    } else {
        Kind::Other
    }
}

#[cfg(unix)]
fn facts_of(m: &std::fs::Metadata) -> Facts {
    use std::os::unix::fs::MetadataExt;
    Facts {
        kind: kind_of(m.file_type()),
        uid: m.uid(),
        gid: m.gid(),
        mode: m.mode() & 0o7777,
        dev: m.dev(),
        ino: m.ino(),
    }
}

#[cfg(not(unix))]
fn facts_of(m: &std::fs::Metadata) -> Facts {
    Facts {
        kind: kind_of(m.file_type()),
        uid: 0,
        gid: 0,
        mode: 0o600,
        dev: 0,
        ino: 0,
    }
}

/// The effective user id of this process.
pub fn my_uid() -> u32 {
    #[cfg(unix)]
    {
        rustix::process::geteuid().as_raw()
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// Why a path found beside the store is not used. Each says what to do.
pub fn refusal(f: &Facts, want: Kind, me: u32) -> Option<String> {
    if f.kind == Kind::Link {
        return Some(
            "is a symbolic link; skilltrace never follows a link to its store files \
             (point --db at the real path)"
                .into(),
        );
    }
    if f.kind != want {
        return Some(match want {
            Kind::Dir => "is not a folder".into(),
            _ => "is not a regular file".into(),
        });
    }
    if f.uid != me {
        return Some(format!(
            "is owned by uid {}, not by you (uid {me}); skilltrace uses only store files it owns",
            f.uid
        ));
    }
    None
}

/// Checks a store file (`want` = [`Kind::File`]) or the spool folder
/// ([`Kind::Dir`]) if it exists: not a link, the right kind, ours. `Ok(None)` when absent.
pub fn check_owned(path: &Path, want: Kind) -> Result<Option<Facts>, String> {
    let f = facts(path).map_err(|e| format!("{}: cannot inspect: {e}", path.display()))?;
    match f {
        None => Ok(None),
        Some(f) => match refusal(&f, want, my_uid()) {
            Some(why) => Err(format!("{}: {why}", path.display())),
            None => Ok(Some(f)),
        },
    }
}

/// Problems with a path someone else could have written (the folder that
/// holds the store, the guard's config): writable by every user, or by a
/// group that has other members (a private per-user group is fine), or owned
/// by someone other than you or root. Empty when it is private.
/// `group_has_others(gid)` says whether a group has members besides you.
pub fn folder_problems(f: &Facts, me: u32, group_has_others: impl Fn(u32) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    if f.mode & 0o002 != 0 {
        out.push(format!(
            "is writable by every user (mode {:o})",
            f.mode & 0o7777
        ));
    } else if f.mode & 0o020 != 0 && group_has_others(f.gid) {
        out.push(format!(
            "is writable by its group (gid {}, which has other members; mode {:o})",
            f.gid,
            f.mode & 0o7777
        ));
    }
    if f.uid != me && f.uid != 0 {
        out.push(format!("is owned by uid {}, not by you (uid {me})", f.uid));
    }
    out
}

/// Whether group `gid` has members other than user `me`, from `/etc/group`
/// (listed members) and `/etc/passwd` (users whose primary group it is). A
/// group these files do not describe counts as shared: skilltrace cannot tell.
pub fn group_has_others(gid: u32, me: u32) -> bool {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    group_has_others_in(gid, me, &passwd, &group)
}

fn group_has_others_in(gid: u32, me: u32, passwd: &str, group: &str) -> bool {
    let users: Vec<(&str, u32, u32)> = passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((
                *f.first()?,
                f.get(2)?.parse().ok()?,
                f.get(3)?.parse().ok()?,
            ))
        })
        .collect();
    let my_name = users.iter().find(|u| u.1 == me).map(|u| u.0);
    if users.iter().any(|u| u.2 == gid && u.1 != me) {
        return true;
    }
    let Some(line) = group
        .lines()
        .find(|l| l.split(':').nth(2).and_then(|g| g.parse::<u32>().ok()) == Some(gid))
    else {
        return true;
    };
    line.split(':')
        .nth(3)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .any(|m| !m.is_empty() && Some(m) != my_name)
}

/// Checks the store's folder (following links: a linked data folder is fine).
/// A folder others can write is refused unless `--allow-shared-store`, then warned about.
pub fn check_folder(dir: &Path) -> Result<(), String> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let m = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) => return Err(format!("{}: cannot inspect folder: {e}", dir.display())),
    };
    let me = my_uid();
    let problems = folder_problems(&facts_of(&m), me, |g| group_has_others(g, me));
    if problems.is_empty() {
        return Ok(());
    }
    let what = format!(
        "folder {} {}: others could plant a store, key or -wal file there",
        dir.display(),
        problems.join(" and ")
    );
    if shared_allowed() {
        crate::notice::warn(
            "shared-folder",
            format!("{what} (used: --allow-shared-store)"),
        );
        Ok(())
    } else {
        Err(format!(
            "{what}; keep the store in a private folder (chmod 700) or pass --allow-shared-store"
        ))
    }
}

/// Checks the key file's mode: readable or writable by others means it may have
/// been read (its hashes brute-forced) or planted. Refused unless
/// `--allow-shared-store`; then warned about and set back to `0600`.
pub fn check_key_mode(path: &Path, f: &Facts) -> Result<(), String> {
    if f.mode & 0o077 == 0 {
        return Ok(());
    }
    let what = format!(
        "{}: key is open to others (mode {:o}): it may have been read or planted",
        path.display(),
        f.mode & 0o777
    );
    if !shared_allowed() {
        return Err(format!(
            "{what}; if you made it, chmod 600 it, else delete it (a new key is made), or pass --allow-shared-store"
        ));
    }
    crate::notice::warn("shared-key", format!("{what} (used: --allow-shared-store)"));
    tighten(path, f, 0o600);
    Ok(())
}

/// Sets `path` back to `mode` when it is wider, and says so.
pub fn tighten(path: &Path, f: &Facts, mode: u32) {
    if f.mode & 0o777 & !mode == 0 {
        return;
    }
    if crate::paths::set_mode(path, mode).is_ok() {
        crate::notice::warn(
            "tightened",
            format!(
                "{} was {:o}; set back to {mode:o}",
                path.display(),
                f.mode & 0o777
            ),
        );
    }
}

/// `<db><suffix>` (`-wal`, `-shm`, `.key`, `.spool`).
pub fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Checks the db's `-wal` and `-shm` (when present) like the db; with
/// `tighten`, sets them to `0600` (only once the db is known to be a store).
pub fn check_sidecars(db: &Path, tighten_them: bool) -> Result<(), String> {
    for suffix in ["-wal", "-shm"] {
        let p = sidecar(db, suffix);
        if let Some(f) = check_owned(&p, Kind::File)? {
            if tighten_them {
                tighten(&p, &f, 0o600);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(kind: Kind, uid: u32, mode: u32) -> Facts {
        Facts {
            kind,
            uid,
            gid: 50,
            mode,
            dev: 1,
            ino: 2,
        }
    }

    #[test]
    fn links_other_kinds_and_other_owners_are_refused() {
        assert!(refusal(&f(Kind::File, 7, 0o600), Kind::File, 7).is_none());
        let link = refusal(&f(Kind::Link, 7, 0o777), Kind::File, 7).expect("link");
        assert!(link.contains("symbolic link"), "{link}");
        let dir = refusal(&f(Kind::Dir, 7, 0o700), Kind::File, 7).expect("dir");
        assert!(dir.contains("not a regular file"), "{dir}");
        let theirs = refusal(&f(Kind::File, 8, 0o600), Kind::File, 7).expect("owner");
        assert!(
            theirs.contains("uid 8") && theirs.contains("uid 7"),
            "{theirs}"
        );
        assert!(refusal(&f(Kind::Dir, 7, 0o700), Kind::Dir, 7).is_none());
    }

    #[test]
    fn folders_others_can_write_are_problems() {
        let shared = |_| true;
        let private = |_| false;
        assert!(folder_problems(&f(Kind::Dir, 7, 0o700), 7, shared).is_empty());
        assert!(folder_problems(&f(Kind::Dir, 7, 0o755), 7, shared).is_empty());
        assert!(
            folder_problems(&f(Kind::Dir, 0, 0o755), 7, shared).is_empty(),
            "root's"
        );
        let tmp = folder_problems(&f(Kind::Dir, 0, 0o1777), 7, private);
        assert_eq!(tmp.len(), 1);
        assert!(tmp[0].contains("every user") && tmp[0].contains("1777"));
        let group = folder_problems(&f(Kind::Dir, 7, 0o770), 7, shared);
        assert!(
            group[0].contains("group") && group[0].contains("gid 50"),
            "{group:?}"
        );
        assert!(
            folder_problems(&f(Kind::Dir, 7, 0o775), 7, private).is_empty(),
            "a private per-user group (umask 002) is fine"
        );
        let theirs = folder_problems(&f(Kind::Dir, 9, 0o700), 7, shared);
        assert!(theirs[0].contains("uid 9"), "{theirs:?}");
    }

    #[test]
    fn a_group_is_shared_when_anyone_else_is_in_it() {
        let passwd = "root:x:0:0::/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n";
        let group = "root:x:0:\nann:x:1000:\nbob:x:1001:\ndev:x:2000:ann,bob\nsolo:x:2001:ann\n";
        assert!(
            !group_has_others_in(1000, 1000, passwd, group),
            "ann's own group"
        );
        assert!(
            group_has_others_in(2000, 1000, passwd, group),
            "dev has bob"
        );
        assert!(!group_has_others_in(2001, 1000, passwd, group));
        assert!(
            group_has_others_in(1001, 1000, passwd, group),
            "bob's primary group"
        );
        assert!(
            group_has_others_in(4242, 1000, passwd, group),
            "unknown: shared"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_open_to_others_is_refused_unless_allowed() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().expect("tempdir");
        let k = t.path().join("s.db.key");
        std::fs::write(&k, [1u8; 32]).expect("write");
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let facts = check_owned(&k, Kind::File).expect("ours").expect("there");
        let e = check_key_mode(&k, &facts).expect_err("refused");
        assert!(e.contains("s.db.key") && e.contains("644"), "{e}");
        assert!(!e.contains('\n'));
    }
}
