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

/// Creates `dir` (and parents) and sets it to `0700`.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.as_os_str().is_empty() && !dir.exists() {
        fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create folder", dir.display()))?;
        set_mode(dir, 0o700)?;
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

/// Creates (or truncates) a file readable only by its owner.
pub fn create_private_file(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts
        .open(path)
        .with_context(|| format!("{}: cannot create file", path.display()))?;
    set_mode(path, 0o600)?;
    Ok(f)
}

/// Writes `bytes` to `path` atomically (temp file + rename), `0600`.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp-skilltrace");
    {
        let mut f = create_private_file(&tmp)?;
        f.write_all(bytes)
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        f.sync_all().ok();
    }
    fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
