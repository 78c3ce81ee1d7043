//! The SQLite store: one file (`0600`, WAL, `secure_delete`) holding runs, spans,
//! findings, skill hits, sources and parse errors.
//!
//! One writer ([`Store::write`], batched transactions, accepting only
//! `Redacted` values) and any number of readers ([`Store::open_read`]) on
//! their own connections. Full-text search is built behind ingest from a
//! queue ([`Store::index_fts`]) so ingest speed does not pay for indexing.

mod fts;
mod read;
mod rows;
pub mod schema;
mod triage;
mod workbench;
mod write;

pub use read::{
    Counts, FindingFilter, FindingRow, RunFilter, RunRow, RunSort, SearchHit, SkillSummary,
    SourceRow, SpanLink, SpanRow,
};
pub use rows::Note;
pub use triage::TriageState;
pub use workbench::{FindingKey, SkillFilter, SkillRow, SkillSighting, SpanFlagRow};
pub use write::{StoreBatch, WriteStats};

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Why the store could not be used. Messages name the file, never row contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: no store here (run `skilltrace import` or `skilltrace tail` first)")]
    Missing { path: String },
    #[error("{path}: {why}")]
    Open { path: String, why: String },
    #[error("{path}: store schema version {found} is newer than this skilltrace ({supported}); upgrade skilltrace")]
    TooNew {
        path: String,
        found: usize,
        supported: usize,
    },
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{0}")]
    NotFound(String),
}

/// A connection to the store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    run_keys: write::RunKeys,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store for writing: folder `0700`, files `0600`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let p = path.display().to_string();
        let err = |why: String| StoreError::Open {
            path: p.clone(),
            why,
        };
        if let Some(dir) = path.parent() {
            crate::paths::ensure_private_dir(dir).map_err(|e| err(format!("{e:#}")))?;
        }
        if !path.exists() {
            crate::paths::create_private_file(path).map_err(|e| err(format!("{e:#}")))?;
        }
        let mut conn = Connection::open(path).map_err(|e| err(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // 16 KiB pages (new stores only; an existing file keeps its size): span
        // rows average ~1 KB, and `cargo bench --bench store` writes them 1.5x
        // faster than with SQLite's default 4 KiB pages.
        conn.execute_batch(
            "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON; \
             PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768;",
        )
        .map_err(|e| err(not_a_store(e)))?;
        let found = check_version(&conn, &p)?;
        if (1..schema::latest()).contains(&found) {
            // An existing store from an older skilltrace: upgrading copies tables
            // once, which takes a while on a big store, so say why we pause.
            eprintln!(
                "skilltrace: upgrading {p} from store schema v{found} to v{} (once; big stores take a minute)",
                schema::latest()
            );
        }
        schema::migrate(&mut conn).map_err(|e| err(not_a_store(e)))?;
        fix_sidecar_modes(path);
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            run_keys: write::RunKeys::default(),
        })
    }

    /// Opens an existing store for reading only (the TUI's and listings' connections).
    pub fn open_read(path: &Path) -> Result<Store, StoreError> {
        let p = path.display().to_string();
        if !path.exists() {
            return Err(StoreError::Missing { path: p });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| StoreError::Open {
            path: p.clone(),
            why: e.to_string(),
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let v: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| StoreError::Open {
                path: p.clone(),
                why: not_a_store(e),
            })? as usize;
        if v == 0 {
            return Err(StoreError::Open {
                path: p,
                why: "not a skilltrace store".into(),
            });
        }
        check_version(&conn, &p)?;
        if v < schema::latest() {
            // A store written by an older skilltrace: bring it up to date once
            // (a write connection migrates), then read it as usual.
            drop(conn);
            drop(Store::open(path)?);
            return Store::open_read(path);
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            run_keys: write::RunKeys::default(),
        })
    }

    /// The store's file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes whenever another connection commits (for live refresh in readers).
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Direct access for tests and benchmarks.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Reads a `meta` value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a `meta` value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

fn not_a_store(e: rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            "not a skilltrace store (not an SQLite database)".into()
        }
        _ => e.to_string(),
    }
}

/// The store's schema version, refused when newer than this binary's.
fn check_version(conn: &Connection, p: &str) -> Result<usize, StoreError> {
    let v: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(|e| StoreError::Open {
            path: p.to_string(),
            why: not_a_store(e),
        })? as usize;
    if v > schema::latest() {
        return Err(StoreError::TooNew {
            path: p.to_string(),
            found: v,
            supported: schema::latest(),
        });
    }
    Ok(v)
}

/// SQLite gives `-wal`/`-shm` the main file's mode; make sure of it whatever the umask.
fn fix_sidecar_modes(path: &Path) {
    for suffix in ["-wal", "-shm"] {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        let side = PathBuf::from(s);
        if side.exists() {
            let _ = crate::paths::set_mode(&side, 0o600);
        }
    }
}

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
