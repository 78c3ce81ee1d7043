//! The SQLite store: one file (`0600`, WAL, `secure_delete`) holding runs, spans,
//! findings, skill hits, sources and parse errors.
//!
//! One writer ([`Store::write`], batched transactions, accepting only
//! `Redacted` values) and any number of readers ([`Store::open_read`]) on
//! their own connections. Full-text search is built behind ingest from a
//! queue ([`Store::index_fts`]) so ingest speed does not pay for indexing.

mod batch;
pub mod busy;
mod by_fingerprint;
pub mod commit;
mod fts;
mod planted;
mod read;
mod reread;
mod rows;
pub mod schema;
mod search;
pub mod spool;
#[cfg(test)]
pub(crate) mod test_spans;
mod tree_links;
pub mod tree_order;
mod triage;
pub mod trust;
pub mod upgrade;
mod usage;
mod workbench;
mod write;
mod write_findings;
mod write_runs;

pub use batch::{span_bytes, StoreBatch};
pub use read::{
    Counts, FindingFilter, FindingRow, RunFilter, RunRow, RunSort, SearchHit, Skeleton, SourceRow,
    SpanLink, SpanRow,
};
pub use rows::Note;
pub use search::{SearchWindow, SEARCH_FIRST_WINDOW, SEARCH_WINDOW};
pub use tree_links::{HeadRow, FILL_BATCH};
pub use triage::TriageState;
pub use usage::UsageRow;
pub use workbench::{FindingKey, SkillFilter, SkillRow, SkillSighting, SpanFlagRow};
pub use write::WriteStats;

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
    run_keys: write_runs::RunKeys,
    /// Every row read out passes the redactor again ([`reread`]).
    reread: reread::Reread,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// How long opening waits for other writers (one may be upgrading the schema).
const OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl Store {
    /// Opens (creating if needed) the store for writing: folder `0700`, files
    /// `0600`, everything found there checked first ([`trust`]): a link, a file
    /// of another user or another program's SQLite database is refused. Safe
    /// with other writers opening the same new store at the same moment.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let p = path.display().to_string();
        let err = |why: String| StoreError::Open {
            path: p.clone(),
            why,
        };
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            crate::paths::ensure_private_dir(dir).map_err(|e| err(format!("{e:#}")))?;
        }
        trust::check_folder(dir.unwrap_or(Path::new("."))).map_err(&err)?;
        let found = match trust::check_owned(path, trust::Kind::File).map_err(&err)? {
            Some(f) => f,
            None => {
                // Created here unless another writer was first (then checked as found).
                crate::paths::create_new_private(path).map_err(|e| err(format!("{e:#}")))?;
                trust::check_owned(path, trust::Kind::File)
                    .map_err(&err)?
                    .ok_or_else(|| err("vanished while it was being created".into()))?
            }
        };
        trust::check_sidecars(path, false).map_err(&err)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| err(e.to_string()))?;
        same_file(path, &found).map_err(&err)?;
        conn.busy_timeout(busy::STATEMENT_WAIT)?;
        let shown = |e: StoreError| match e {
            StoreError::Sql(e) => err(not_a_store(e)),
            other => other,
        };
        let version = busy::retry(OPEN_WAIT, || check_identity(&conn, &p)).map_err(shown)?;
        // A store (or an empty file becoming one): its files are set back to 0600.
        trust::tighten(path, &found, 0o600);
        trust::check_sidecars(path, true).map_err(&err)?;
        let found = version;
        // 16 KiB pages (new stores only; an existing file keeps its size): span
        // rows average ~1 KB, and `cargo bench --bench store` writes them 1.5x
        // faster than with SQLite's default 4 KiB pages.
        busy::retry(OPEN_WAIT, || {
            conn.execute_batch(
                "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON; \
                 PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768;",
            )
            .map_err(StoreError::from)
        })
        .map_err(shown)?;
        let migrating = (1..schema::latest()).contains(&found);
        let mut progress = None;
        if migrating {
            // An existing store from an older skilltrace: upgrading copies tables
            // once, which takes a while on a big store, so say why we pause.
            eprintln!(
                "skilltrace: upgrading {p} from store schema v{found} to v{} (once; big stores take a minute)",
                schema::latest()
            );
            let mut line = upgrade::Progress::start(&p);
            line.step(&format!("schema v{found} to v{}", schema::latest()));
            progress = Some(line);
            // Index builds sort through temporary files, not memory: held in
            // memory, the sort of a million spans' keys grew the process by
            // ~200 MB.
            conn.execute_batch("PRAGMA temp_store=FILE")?;
        }
        let migrated = busy::retry(OPEN_WAIT, || {
            schema::migrate(&mut conn).map_err(StoreError::from)
        })
        .map_err(shown);
        if migrating {
            conn.execute_batch("PRAGMA temp_store=MEMORY")?;
        }
        migrated?;
        trust::check_sidecars(path, true).map_err(&err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            run_keys: write_runs::RunKeys::default(),
            reread: Default::default(),
        };
        // Spans stored before migration 12 get their parent keys (once, in
        // batches). Best effort: a fill cut short (killed, or another writer
        // holding the lock) resumes at the next open, and until then the Run
        // view orders such runs in full.
        let _ = store.fill_old_parent_keys(&p, &mut progress);
        if let Some(line) = progress {
            line.finish();
        }
        Ok(store)
    }

    /// Resolves the parent keys of rows stored before migration 12, with a
    /// progress line ([`upgrade::Progress`], started here if the schema was current).
    fn fill_old_parent_keys(
        &mut self,
        p: &str,
        progress: &mut Option<upgrade::Progress>,
    ) -> Result<(), StoreError> {
        let total = self.unresolved_parent_keys()?;
        if total == 0 {
            return Ok(());
        }
        let line = progress.get_or_insert_with(|| upgrade::Progress::start(p));
        const WHAT: &str = "linking spans to their parents";
        line.count(WHAT, 0, total);
        self.fill_parent_keys(&mut |done| line.count(WHAT, done, total))?;
        Ok(())
    }

    /// Opens an existing store for reading only (the TUI's and listings' connections),
    /// after the same checks as [`Store::open`] (and setting its files back to `0600`).
    pub fn open_read(path: &Path) -> Result<Store, StoreError> {
        Store::open_read_with(path, true)
    }

    /// [`Store::open_read`] that changes nothing, not even modes (for `doctor`,
    /// which reports what it finds).
    pub fn inspect(path: &Path) -> Result<Store, StoreError> {
        Store::open_read_with(path, false)
    }

    fn open_read_with(path: &Path, tighten: bool) -> Result<Store, StoreError> {
        let p = path.display().to_string();
        let err = |why: String| StoreError::Open {
            path: p.clone(),
            why,
        };
        let Some(found) = trust::check_owned(path, trust::Kind::File).map_err(&err)? else {
            return Err(StoreError::Missing { path: p });
        };
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        trust::check_folder(dir.unwrap_or(Path::new("."))).map_err(&err)?;
        trust::check_sidecars(path, false).map_err(&err)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )
        .map_err(|e| err(e.to_string()))?;
        same_file(path, &found).map_err(&err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let v = busy::retry(OPEN_WAIT, || check_identity(&conn, &p)).map_err(|e| match e {
            StoreError::Sql(e) => err(not_a_store(e)),
            other => other,
        })?;
        if v == 0 {
            return Err(err("not a skilltrace store (empty)".into()));
        }
        if tighten {
            trust::tighten(path, &found, 0o600);
            trust::check_sidecars(path, true).map_err(&err)?;
        }
        if v < schema::latest() && tighten {
            // A store written by an older skilltrace: bring it up to date once
            // (a write connection migrates), then read it as usual.
            drop(conn);
            drop(Store::open(path)?);
            return Store::open_read(path);
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            run_keys: write_runs::RunKeys::default(),
            reread: Default::default(),
        })
    }

    /// The store's file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store's schema version (`PRAGMA user_version`; 0 if unreadable).
    pub fn schema_version(&self) -> usize {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map(|v| v as usize)
            .unwrap_or(0)
    }

    /// Changes whenever another connection commits (for live refresh in readers).
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Sets how much of the store this connection keeps cached, in KiB
    /// (32 MiB unless set; the import's store thread keeps less).
    pub fn set_page_cache_kib(&self, kib: u32) -> Result<(), StoreError> {
        self.conn
            .execute_batch(&format!("PRAGMA cache_size=-{kib}"))?;
        Ok(())
    }

    /// Copies what the write-ahead log holds into the store file without
    /// waiting for readers or blocking writers (SQLite's passive checkpoint),
    /// so that the checkpoint when the last connection closes has less to copy.
    /// Nothing committed can be lost by it.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Sets how many pages this connection lets the WAL gather before it
    /// checkpoints them into the store file (SQLite's `wal_autocheckpoint`,
    /// 1,000 unless set). Commits are as durable either way (see
    /// `ingest::store_thread::STORE_CHECKPOINT_PAGES` for what a longer
    /// interval changes).
    pub fn set_checkpoint_pages(&self, pages: u32) -> Result<(), StoreError> {
        self.conn
            .execute_batch(&format!("PRAGMA wal_autocheckpoint={pages}"))?;
        Ok(())
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

/// The path still names the file that was checked (nothing swapped in between).
fn same_file(path: &Path, checked: &trust::Facts) -> Result<(), String> {
    match trust::facts(path) {
        Ok(Some(f))
            if f.kind == trust::Kind::File && (f.dev, f.ino) == (checked.dev, checked.ino) =>
        {
            Ok(())
        }
        _ => Err("was replaced while it was being opened; try again".into()),
    }
}

/// Whether the file is a skilltrace store (or empty, to become one); its
/// schema version. Another program's SQLite database is refused before
/// anything is written to it: a store carries skilltrace's `application_id`,
/// or (written before it had one) a schema version and skilltrace's tables.
fn check_identity(conn: &Connection, p: &str) -> Result<usize, StoreError> {
    // One read transaction: the reads below see one snapshot, never a store that
    // another writer is creating between two of them (tables but version 0).
    let snapshot = conn.unchecked_transaction()?;
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let v = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    let foreign = |why: String| {
        StoreError::Open {
        path: p.to_string(),
        why: format!(
            "not a skilltrace store: an SQLite database of another program ({why}); skilltrace adds nothing to it"
        ),
    }
    };
    if app != 0 && app != schema::APPLICATION_ID {
        return Err(foreign(format!("application_id {app:#x}")));
    }
    if app == 0 {
        let objects: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
            [],
            |r| r.get(0),
        )?;
        let ours: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name IN ('meta', 'runs', 'spans')",
            [],
            |r| r.get(0),
        )?;
        if v == 0 && objects > 0 {
            return Err(foreign(format!("{objects} tables and indexes")));
        }
        if v > 0 && ours < 3 {
            return Err(foreign(format!(
                "schema version {v} without skilltrace's tables"
            )));
        }
    }
    if v > schema::latest() {
        return Err(StoreError::TooNew {
            path: p.to_string(),
            found: v,
            supported: schema::latest(),
        });
    }
    if v > 0 {
        if let Some(what) = planted::foreign_object(conn)? {
            return Err(StoreError::Open {
                path: p.to_string(),
                why: format!(
                    "not a store as skilltrace makes it: it holds {what}, which skilltrace never made; skilltrace adds nothing to it"
                ),
            });
        }
    }
    drop(snapshot);
    Ok(v)
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

#[cfg(all(test, unix))]
mod open_tests;
