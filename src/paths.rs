//! Where skilltrace keeps things (data and config folders) and how it creates private files.
//!
//! Every file skilltrace writes is created `0600` inside a `0700` folder,
//! whatever the process umask, by setting the mode explicitly after creation.

use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

/// The platform's project folders (`~/.local/share/skilltrace`, `~/.config/skilltrace` on Linux).
fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "skilltrace", "skilltrace")
}

/// Default store: `$SKILLTRACE_DB`, else `<data dir>/skilltrace.db`.
pub fn default_db() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SKILLTRACE_DB") {
        if !p.is_empty() {
            return Ok(PathBuf::from(p));
        }
    }
    let d = dirs().context("cannot locate a data folder: no home directory; pass --db PATH")?;
    Ok(d.data_dir().join("skilltrace.db"))
}

/// Config file: `$SKILLTRACE_CONFIG`, else `<config dir>/config.toml` (may not exist).
pub fn config_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SKILLTRACE_CONFIG") {
        if !p.is_empty() {
            return Some(PathBuf::from(p));
        }
    }
    dirs().map(|d| d.config_dir().join("config.toml"))
}

/// The user's config folder (themes, keymap), if there is a home.
pub fn config_dir() -> Option<PathBuf> {
    config_file().and_then(|f| f.parent().map(Path::to_path_buf))
}

/// Creates `dir` and every missing parent, each `0700` whatever the umask
/// (folders that already exist are left as they are).
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    // The missing folders, outermost first: each is created 0700 and set so,
    // never left at 0777 & !umask as `create_dir_all` would leave them.
    let mut missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
        .collect();
    missing.reverse();
    for d in missing {
        let mut b = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        match b.create(d) {
            Ok(()) => set_mode(d, 0o700)?,
            // Another process made it meanwhile: theirs, checked like any folder found.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("{}: cannot create folder", d.display()))
            }
        }
    }
    Ok(())
}

/// Sets unix permission bits (no-op elsewhere).
pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Sets unix permission bits on an open file (no-op elsewhere): unlike
/// [`set_mode`], it cannot fail because another process removed or renamed
/// the path meanwhile.
pub fn set_file_mode(f: &File, path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(mode))
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (f, path, mode);
    Ok(())
}

/// Opens `path` for appending, creating it `0600` if missing; a symbolic link
/// at `path` is refused. The mode is set on the open file, so a file another
/// process removes between the open and the mode change is no error.
pub fn open_private_append(path: &Path) -> Result<File> {
    let f = private_opts()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open file", path.display()))?;
    set_file_mode(&f, path, 0o600)?;
    Ok(f)
}

/// Options that never follow a symbolic link at the last component and create `0600`.
fn private_opts() -> OpenOptions {
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    opts
}

/// Creates (or truncates) a file readable only by its owner. A symbolic link
/// at `path` is refused, never followed.
pub fn create_private_file(path: &Path) -> Result<File> {
    let f = private_opts()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("{}: cannot create file", path.display()))?;
    set_file_mode(&f, path, 0o600)?;
    Ok(f)
}

/// Creates `path` only if nothing is there (not even a dangling link): `0600`,
/// opened for reading and writing. `Ok(None)` when something already exists.
pub fn create_new_private(path: &Path) -> Result<Option<File>> {
    match private_opts()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => {
            set_file_mode(&f, path, 0o600)?;
            Ok(Some(f))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}: cannot create file", path.display())),
    }
}

/// Opens an existing file for reading without following a symbolic link at
/// `path`, and without waiting: a FIFO planted at `path` opens at once (the
/// caller's type check on the open file then refuses it) instead of blocking
/// until some writer comes.
pub fn open_nofollow(path: &Path) -> std::io::Result<File> {
    let mut opts = private_opts();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(
            (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
        );
    }
    opts.read(true).open(path)
}

/// Reads all of the regular file at `path` (a link to one is followed), at
/// most `cap` bytes. Anything else (a FIFO, a device such as `/dev/zero`, a
/// socket, a folder) is refused before a byte is read, and opening never
/// waits on a pipe, so a config, registry or file beside the store that was
/// swapped for one never hangs a command nor fills its memory. An absent file
/// keeps its `NotFound` kind.
pub fn read_regular(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = opts.read(true).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, NOT_A_FILE));
    }
    if meta.len() > cap {
        return Err(Error::new(ErrorKind::InvalidData, too_large(cap)));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(Error::new(ErrorKind::InvalidData, too_large(cap)));
    }
    Ok(bytes)
}

/// Why [`read_regular`] refuses what is not a file.
pub const NOT_A_FILE: &str = "is not a regular file (a pipe, a device, a socket or a folder)";

fn too_large(cap: u64) -> String {
    format!("is larger than {} MiB", cap >> 20)
}

/// A temporary name beside `path`, unique to this process and call.
pub fn temp_beside(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    PathBuf::from(s)
}

/// Writes `bytes` to a new private temp file beside `path`, then hands it to
/// `place` (which moves or links it where it belongs); the temp name is
/// removed whatever happens.
fn via_temp<T>(path: &Path, bytes: &[u8], place: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    via_temp_sync(path, bytes, true, place)
}

fn via_temp_sync<T>(
    path: &Path,
    bytes: &[u8],
    sync: bool,
    place: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    use std::io::Write;
    let tmp = temp_beside(path);
    let done = (|| -> Result<T> {
        let mut f = create_new_private(&tmp)?
            .with_context(|| format!("{}: cannot create file: exists", tmp.display()))?;
        f.write_all(bytes)
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        if sync {
            f.sync_all().ok();
        }
        place(&tmp)
    })();
    let _ = fs::remove_file(&tmp);
    done
}

/// Writes `bytes` to `path` atomically (a temp file of its own + rename), `0600`.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    via_temp(path, bytes, |tmp| {
        fs::rename(tmp, path).with_context(|| format!("{}: cannot write", path.display()))
    })
}

/// As [`write_private`], without waiting for the disk (no `fsync`): for a
/// cache a crash may lose (the reader takes a missing or torn file as empty),
/// written where a flush would cost a waiting caller its latency.
pub fn write_private_cache(path: &Path, bytes: &[u8]) -> Result<()> {
    via_temp_sync(path, bytes, false, |tmp| {
        fs::rename(tmp, path).with_context(|| format!("{}: cannot write", path.display()))
    })
}

/// Creates `path` holding `bytes` (`0600`) unless something is already there:
/// written to a temp file first and hard-linked into place, so no reader ever
/// sees it half written and no existing file is replaced. True when this call
/// created it, false when another process (or anything else) got there first.
pub fn create_once(path: &Path, bytes: &[u8]) -> Result<bool> {
    via_temp(path, bytes, |tmp| match fs::hard_link(tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("{}: cannot create file", path.display())),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode_of(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).expect("meta").permissions().mode() & 0o777
    }

    /// Makes a FIFO at `p` (`0600`), for tests of what is planted where a file belongs.
    #[cfg(unix)]
    pub(crate) fn mkfifo(p: &Path) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            p,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
    }

    #[cfg(unix)]
    #[test]
    fn read_regular_refuses_pipes_folders_and_devices_without_waiting_and_caps_size() {
        let t = tempfile::tempdir().expect("tempdir");
        let fifo = t.path().join("fifo");
        mkfifo(&fifo);
        let started = std::time::Instant::now();
        for p in [fifo.as_path(), t.path(), Path::new("/dev/zero")] {
            let e = read_regular(p, 1 << 20).expect_err("refused");
            assert_eq!(e.to_string(), NOT_A_FILE, "{}", p.display());
        }
        assert!(open_nofollow(&fifo).is_ok(), "a fifo opens without waiting");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let f = t.path().join("f");
        fs::write(&f, vec![b'a'; 3 << 20]).expect("write");
        let e = read_regular(&f, 2 << 20).expect_err("too large");
        assert!(e.to_string().contains("larger than 2 MiB"), "{e}");
        assert_eq!(read_regular(&f, 4 << 20).expect("read").len(), 3 << 20);
        let absent = read_regular(&t.path().join("none"), 1).expect_err("absent");
        assert_eq!(absent.kind(), std::io::ErrorKind::NotFound);
    }

    #[cfg(unix)]
    #[test]
    fn every_created_parent_is_private() {
        let t = tempfile::tempdir().expect("tempdir");
        let d = t.path().join("one/two/three");
        ensure_private_dir(&d).expect("dir");
        for p in ["one", "one/two", "one/two/three"] {
            assert_eq!(mode_of(&t.path().join(p)), 0o700, "{p}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_are_never_followed_and_create_once_never_replaces() {
        let t = tempfile::tempdir().expect("tempdir");
        let target = t.path().join("target");
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(
            create_private_file(&link).is_err(),
            "dangling link followed"
        );
        assert!(!target.exists(), "the link's target was created");
        assert!(create_new_private(&link).expect("no error").is_none());
        let k = t.path().join("k");
        assert!(create_once(&k, b"first").expect("create"));
        assert!(!create_once(&k, b"second").expect("exists"));
        assert_eq!(fs::read(&k).expect("read"), b"first");
        assert_eq!(mode_of(&k), 0o600);
        let left: Vec<_> = fs::read_dir(t.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(left.is_empty(), "temp files left behind");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_ignore_umask() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().expect("tempdir");
        let d = t.path().join("a/b");
        ensure_private_dir(&d).expect("dir");
        assert_eq!(
            fs::metadata(&d).expect("meta").permissions().mode() & 0o777,
            0o700
        );
        let f = d.join("x");
        write_private(&f, b"hi").expect("write");
        assert_eq!(
            fs::metadata(&f).expect("meta").permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read(&f).expect("read"), b"hi");
    }
}
