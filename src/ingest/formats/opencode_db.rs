//! Reader for OpenCode 1.x's SQLite store (`opencode.db`): turns its
//! `session`, `message` and `part` rows into the same records the JSON
//! storage parser ([`super::opencode`]) yields for the files they replaced.
//!
//! OpenCode keeps (`packages/opencode/src/session/session.sql.ts`) a session's
//! fields as columns of `session`, a message's JSON less `id`/`sessionID` in
//! `message.data`, and a part's JSON less `id`/`sessionID`/`messageID` in
//! `part.data`; the ids are columns. The reader puts the ids back and hands
//! each object to the JSON parser, so spans, tokens, costs and runs come out
//! exactly as for the `storage/` layout, with the same ids (a re-read stores
//! nothing twice).
//!
//! The database is opened read-only with `query_only` and a short busy wait,
//! and read in one transaction: a running OpenCode is never written to or
//! locked out. When the folder forbids the `-shm` a WAL reader needs, it is
//! read again as `immutable`.

use super::opencode::OpencodeParser;
use super::{FormatParser, Record};
use crate::ingest::formats::json::Value;
use crate::ingest::pipeline::{Batch, SourceState};
use crate::model::{Origin, ParseError, SpanKind};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// The file name OpenCode gives its store.
pub const FILE_NAME: &str = "opencode.db";

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What one read of the database yielded.
#[derive(Debug, Default)]
pub struct DbRead {
    pub records: Vec<Record>,
    pub errors: Vec<ParseError>,
    /// Rows read (sessions, messages and parts).
    pub rows: u64,
    /// The latest `time_updated` of any row: changes when OpenCode writes.
    pub stamp: i64,
}

impl DbRead {
    /// The pipeline batch of this read of the store `display` (file `meta`):
    /// the source's `offset` is the file's size, its `line` the change stamp.
    pub fn into_batch(self, display: String, meta: &std::fs::Metadata) -> Batch {
        let (dev, ino) = crate::ingest::file::identity(meta);
        Batch {
            records: self.records,
            errors: self.errors,
            source: Some(SourceState {
                path: display,
                kind: "file".into(),
                dev,
                ino,
                offset: meta.len(),
                line: self.stamp.max(0) as u64,
                format: super::Format::Opencode.name().into(),
            }),
        }
    }
}

/// The database a write-ahead log or rollback journal beside it belongs to
/// (`opencode.db-wal` → `opencode.db`): OpenCode's writes land there first.
pub fn owner_of_log(path: &Path) -> Option<std::path::PathBuf> {
    let name = path.file_name()?.to_str()?;
    let db = name
        .strip_suffix("-wal")
        .or_else(|| name.strip_suffix("-journal"))?;
    (db == FILE_NAME).then(|| path.with_file_name(db))
}

/// True for `opencode.db` by name, or any SQLite file (by its header): the
/// import reads these with [`read`] instead of as lines.
pub fn is_db(path: &Path) -> bool {
    if path.file_name().and_then(|n| n.to_str()) == Some(FILE_NAME) {
        return true;
    }
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == SQLITE_MAGIC
}

/// Opens `path` read-only, as `immutable` when a plain read-only open cannot
/// read it (a WAL database in a folder this user cannot write).
fn open(path: &Path) -> Result<Connection, String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let plain = Connection::open_with_flags(path, flags).and_then(|c| {
        c.busy_timeout(std::time::Duration::from_millis(2_000))?;
        c.pragma_update(None, "query_only", true)?;
        c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        Ok(c)
    });
    match plain {
        Ok(c) => Ok(c),
        Err(e) if is_cantopen(&e) => {
            let uri = format!("file:{}?immutable=1", uri_path(path));
            let c = Connection::open_with_flags(uri, flags).map_err(|e| why(&e))?;
            c.pragma_update(None, "query_only", true)
                .map_err(|e| why(&e))?;
            Ok(c)
        }
        Err(e) => Err(why(&e)),
    }
}

fn is_cantopen(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::CannotOpen))
}

/// SQLite's reason, one line.
fn why(e: &rusqlite::Error) -> String {
    crate::sanitize::line(&e.to_string()).into_owned()
}

/// `path` percent-encoded for a `file:` URI.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// True when `conn` has OpenCode's three tables with the columns read here.
fn has_tables(conn: &Connection) -> Result<bool, String> {
    let cols = |table: &str| -> Result<Vec<String>, String> {
        let mut st = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .map_err(|e| why(&e))?;
        let names = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| why(&e))?;
        names.collect::<Result<_, _>>().map_err(|e| why(&e))
    };
    let need: [(&str, &[&str]); 3] = [
        ("session", &["id", "project_id", "directory", "title"]),
        ("message", &["id", "session_id", "data"]),
        ("part", &["id", "message_id", "session_id", "data"]),
    ];
    for (t, want) in need {
        let have = cols(t)?;
        if !want.iter().all(|w| have.iter().any(|h| h == w)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The latest `time_updated` of any session, message or part (0 when empty).
pub fn stamp(path: &Path) -> Result<i64, String> {
    let conn = open(path)?;
    if !has_tables(&conn)? {
        return Err(not_opencode());
    }
    latest(&conn).map_err(|e| why(&e))
}

fn latest(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT max(coalesce((SELECT max(time_updated) FROM session), 0), \
                    coalesce((SELECT max(time_updated) FROM message), 0), \
                    coalesce((SELECT max(time_updated) FROM part), 0))",
        [],
        |r| r.get(0),
    )
}

fn not_opencode() -> String {
    "not an OpenCode database (no session, message and part tables)".into()
}

/// Reads the sessions, messages and parts of the database at `path` whose
/// `time_updated` is `since` or later (0 = all: OpenCode stamps each row it
/// writes, so a follower passes `stamp` of its last read and gets what
/// changed); `display` names it in origins and parse errors. Err = the file
/// cannot be read as an OpenCode database (one line, why).
pub fn read(path: &Path, display: &str, since: i64) -> Result<DbRead, String> {
    let mut conn = open(path)?;
    if !has_tables(&conn)? {
        return Err(not_opencode());
    }
    // One read transaction: a consistent snapshot while OpenCode writes.
    let tx = conn.transaction().map_err(|e| why(&e))?;
    let mut out = DbRead {
        stamp: latest(&tx).map_err(|e| why(&e))?,
        ..DbRead::default()
    };
    let mut rows = Rows {
        parser: OpencodeParser,
        origin: Origin::new(display, 0),
        out: &mut out,
    };
    rows.sessions(&tx, since).map_err(|e| why(&e))?;
    rows.objects(
        &tx,
        "message",
        "SELECT id, session_id, NULL, data FROM message WHERE time_updated >= ?1 \
         ORDER BY session_id, time_created, id",
        since,
    )
    .map_err(|e| why(&e))?;
    rows.objects(
        &tx,
        "part",
        "SELECT id, session_id, message_id, data FROM part WHERE time_updated >= ?1 \
         ORDER BY session_id, message_id, id",
        since,
    )
    .map_err(|e| why(&e))?;
    drop(tx);
    Ok(out)
}

/// Hands rows to the JSON parser, counting them as lines of the database.
struct Rows<'a> {
    parser: OpencodeParser,
    origin: Origin,
    out: &'a mut DbRead,
}

impl Rows<'_> {
    fn feed(&mut self, table: &str, v: serde_json::Value) {
        self.out.rows += 1;
        self.origin.line = self.out.rows;
        let v = Value::from(v);
        if let Err(e) = self.parser.value(&v, &self.origin, &mut self.out.records) {
            self.out.errors.push(ParseError {
                path: self.origin.path.to_string(),
                line: self.out.rows,
                message: format!("{table} row: {e}"),
            });
        }
    }

    /// A session row as the JSON `session/<project>/<id>.json` held it.
    fn sessions(&mut self, conn: &Connection, since: i64) -> rusqlite::Result<()> {
        let mut st = conn.prepare(
            "SELECT id, project_id, parent_id, directory, title, time_created, time_updated \
             FROM session WHERE time_updated >= ?1 ORDER BY time_created, id",
        )?;
        let mut q = st.query([since])?;
        while let Some(r) = q.next()? {
            let v = serde_json::json!({
                "id": r.get::<_, Option<String>>(0)?,
                "projectID": r.get::<_, Option<String>>(1)?,
                "parentID": r.get::<_, Option<String>>(2)?,
                "directory": r.get::<_, Option<String>>(3)?,
                "title": r.get::<_, Option<String>>(4)?,
                "time": {
                    "created": r.get::<_, Option<i64>>(5)?,
                    "updated": r.get::<_, Option<i64>>(6)?,
                },
            });
            self.feed("session", v);
        }
        Ok(())
    }

    /// Message or part rows: `data` with the ids put back.
    fn objects(
        &mut self,
        conn: &Connection,
        table: &str,
        sql: &str,
        since: i64,
    ) -> rusqlite::Result<()> {
        let mut st = conn.prepare(sql)?;
        let mut q = st.query([since])?;
        while let Some(r) = q.next()? {
            let id: Option<String> = r.get(0)?;
            let session: Option<String> = r.get(1)?;
            let message: Option<String> = r.get(2)?;
            let data: Option<String> = r.get(3)?;
            let parsed = data
                .as_deref()
                .map(serde_json::from_str::<serde_json::Value>);
            let Some(Ok(serde_json::Value::Object(mut m))) = parsed else {
                self.out.rows += 1;
                self.out.errors.push(ParseError {
                    path: self.origin.path.to_string(),
                    line: self.out.rows,
                    message: format!("{table} row: data is not a JSON object"),
                });
                continue;
            };
            m.insert("id".into(), id.into());
            m.insert("sessionID".into(), session.into());
            if table == "part" {
                m.insert("messageID".into(), message.into());
            }
            self.feed(table, serde_json::Value::Object(m));
        }
        Ok(())
    }
}

/// The attribute that marks a stored span whose row OpenCode deleted: what
/// was recorded stays (evidence does not vanish because the agent removed
/// it), marked so the runs, the TUI and exports say so.
pub const DELETED_UPSTREAM: &str = "deleted_upstream";

/// What an OpenCode database holds now: the ids of its sessions, and of its
/// messages and parts (the ids of the spans read from them).
#[derive(Debug, Default)]
pub struct Present {
    pub sessions: std::collections::HashSet<String>,
    pub rows: std::collections::HashSet<String>,
}

/// The ids the database at `path` holds now ([`Present`]); one read transaction.
pub fn present(path: &Path) -> Result<Present, String> {
    let mut conn = open(path)?;
    if !has_tables(&conn)? {
        return Err(not_opencode());
    }
    let tx = conn.transaction().map_err(|e| why(&e))?;
    let ids = |sql: &str| -> Result<std::collections::HashSet<String>, String> {
        let mut st = tx.prepare(sql).map_err(|e| why(&e))?;
        let rows = st
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .map_err(|e| why(&e))?;
        let mut out = std::collections::HashSet::new();
        for r in rows {
            if let Some(id) = r.map_err(|e| why(&e))? {
                out.insert(id);
            }
        }
        Ok(out)
    };
    Ok(Present {
        sessions: ids("SELECT id FROM session")?,
        rows: ids("SELECT id FROM message UNION ALL SELECT id FROM part")?,
    })
}

/// A span stored from an OpenCode database, as [`deleted`] compares it.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub run_id: String,
    pub id: String,
    pub kind: SpanKind,
    /// Already marked [`DELETED_UPSTREAM`].
    pub marked: bool,
}

/// The span that says a session was deleted upstream (one per run).
fn session_marker(run: &str) -> String {
    format!("{run}:deleted-upstream")
}

/// Records marking what `stored` (the spans stored from the database
/// `display`) holds and the database no longer does: each such span gets
/// [`DELETED_UPSTREAM`] (kept, not removed), and a run whose session is gone
/// gets one `event` span saying so. Nothing for what is marked already.
pub fn deleted(stored: &[StoredRow], now: &Present, display: &str) -> Vec<Record> {
    let origin = Origin::new(display, 0);
    let mut out = Vec::new();
    let mut runs_said = std::collections::HashSet::new();
    for r in stored.iter().filter(|r| r.id == session_marker(&r.run_id)) {
        runs_said.insert(r.run_id.as_str());
    }
    for r in stored {
        if r.marked || r.id == session_marker(&r.run_id) {
            continue;
        }
        if !now.sessions.contains(&r.run_id) && runs_said.insert(r.run_id.as_str()) {
            let mut m = crate::model::Span::new(
                session_marker(&r.run_id),
                &r.run_id,
                SpanKind::Event,
                DELETED_UPSTREAM,
                origin.clone(),
            );
            m.text = Some(
                "OpenCode's database no longer holds this session; skilltrace keeps what it recorded"
                    .into(),
            );
            m.attributes
                .insert(DELETED_UPSTREAM.into(), "session".into());
            out.push(Record::Span(m));
        }
        if !now.rows.contains(&r.id) {
            let mut m =
                crate::model::Span::new(r.id.clone(), &r.run_id, r.kind, "", origin.clone());
            m.attributes.insert(DELETED_UPSTREAM.into(), true.into());
            out.push(Record::Span(m));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanKind;

    const FIXTURE: &str = "tests/fixtures/opencode_db/opencode.db";

    fn spans(r: &DbRead) -> Vec<&crate::model::Span> {
        r.records
            .iter()
            .filter_map(|x| match x {
                Record::Span(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_fixture_reads_as_the_json_storage_records() {
        let p = Path::new(FIXTURE);
        assert!(is_db(p));
        let r = read(p, "opencode.db", 0).expect("read");
        assert_eq!(r.errors, Vec::new());
        assert_eq!(r.rows, 4 + 10 + 23);
        let s = spans(&r);
        let llm = s
            .iter()
            .find(|s| s.id == "msg_a2d3e4f50002")
            .expect("assistant message");
        assert_eq!(llm.kind, SpanKind::Llm);
        assert_eq!(llm.model.as_deref(), Some("anthropic/claude-sonnet-4-5"));
        assert_eq!(llm.parent_id.as_deref(), Some("msg_a2d3e4f50001"));
        let u = crate::usage::Usage::of(llm).expect("usage");
        assert_eq!((u.input, u.output), (1200 + 9800 + 1500, 350));
        let tools = s.iter().filter(|s| s.kind == SpanKind::Tool).count();
        assert!(tools >= 4, "{tools}");
        // A part span sits under its message, with the run from the column.
        let part = s.iter().find(|s| s.id == "prt_a2d3e4f60001").expect("part");
        assert_eq!(part.parent_id.as_deref(), Some("msg_a2d3e4f50001"));
        assert_eq!(part.run_id, "ses_5d2c7a1e9ffeK3b1Q8nW4xYzA2");
        let child = r.records.iter().find_map(|x| match x {
            Record::Run(run) if run.parent_run_id.is_some() => Some(run),
            _ => None,
        });
        assert_eq!(
            child.map(|c| c.id.as_str()),
            Some("ses_5d2c7a0b3ffeP9r6T2mV7kLq1S")
        );
        assert!(r.stamp >= 1_755_702_060_000, "{}", r.stamp);
    }

    #[test]
    fn a_bad_row_costs_one_error_and_other_files_are_refused() {
        let t = tempfile::tempdir().expect("tmp");
        let db = t.path().join("opencode.db");
        let c = Connection::open(&db).expect("open");
        c.execute_batch(
            "CREATE TABLE session (id text, project_id text, parent_id text, directory text, \
               title text, time_created integer, time_updated integer);
             CREATE TABLE message (id text, session_id text, time_created integer, \
               time_updated integer, data text);
             CREATE TABLE part (id text, message_id text, session_id text, time_created integer, \
               time_updated integer, data text);
             INSERT INTO session VALUES ('ses_1', 'p', NULL, '/w', 'T', 1, 2);
             INSERT INTO message VALUES ('msg_1', 'ses_1', 1, 3, '{\"role\":\"user\",\"time\":{\"created\":1}}');
             INSERT INTO message VALUES ('msg_2', 'ses_1', 2, 2, 'not json');",
        )
        .expect("ddl");
        drop(c);
        let r = read(&db, "x", 0).expect("read");
        assert_eq!((r.rows, r.errors.len(), r.stamp), (3, 1, 3));
        assert!(
            r.errors[0].message.starts_with("message row:"),
            "{:?}",
            r.errors
        );
        assert_eq!(spans(&r).len(), 1);
        // From a stamp on, only the rows written since.
        let r = read(&db, "x", 3).expect("since");
        assert_eq!((r.rows, r.errors.len()), (1, 0));
        assert_eq!(
            owner_of_log(&t.path().join("opencode.db-wal")),
            Some(db.clone())
        );
        assert_eq!(owner_of_log(&t.path().join("other.db-wal")), None);

        let other = t.path().join("other.db");
        Connection::open(&other)
            .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
            .expect("other");
        assert!(is_db(&other));
        assert_eq!(read(&other, "o", 0).err(), Some(not_opencode()));
        let junk = t.path().join("junk").join(FILE_NAME);
        std::fs::create_dir_all(junk.parent().expect("dir")).expect("mkdir");
        std::fs::write(&junk, b"this is not a database, just text\n").expect("write");
        assert!(is_db(&junk));
        let e = read(&junk, "j", 0).expect_err("junk");
        assert!(e.contains("not a database"), "{e}");
    }

    #[test]
    fn what_the_database_no_longer_holds_is_marked_once() {
        let row = |run: &str, id: &str, marked: bool| StoredRow {
            run_id: run.into(),
            id: id.into(),
            kind: SpanKind::Message,
            marked,
        };
        let now = Present {
            sessions: ["ses_a".to_string()].into_iter().collect(),
            rows: ["m1".to_string()].into_iter().collect(),
        };
        let stored = vec![
            row("ses_a", "m1", false),
            row("ses_a", "m2", false),
            row("ses_a", "m3", true),
            row("ses_b", "m4", false),
            row("ses_b", "m5", false),
        ];
        let ids = |out: &[Record]| -> Vec<String> {
            out.iter()
                .filter_map(|r| match r {
                    Record::Span(s) => Some(format!("{}/{}:{}", s.run_id, s.id, s.kind.as_str())),
                    _ => None,
                })
                .collect()
        };
        let out = deleted(&stored, &now, "opencode.db");
        assert_eq!(
            ids(&out),
            [
                "ses_a/m2:message",
                "ses_b/ses_b:deleted-upstream:event",
                "ses_b/m4:message",
                "ses_b/m5:message"
            ]
        );
        // Once marked (and the session's event stored), nothing more.
        let stored: Vec<StoredRow> = vec![
            row("ses_a", "m2", true),
            row("ses_b", "ses_b:deleted-upstream", false),
            row("ses_b", "m4", true),
        ];
        assert!(deleted(&stored, &now, "opencode.db").is_empty());
        // The fixture holds every row it was read from.
        let p = Path::new(FIXTURE);
        let now = present(p).expect("present");
        assert_eq!((now.sessions.len(), now.rows.len()), (4, 10 + 23));
    }

    #[test]
    fn uri_paths_escape_what_a_uri_would_read_as_syntax() {
        assert_eq!(
            uri_path(Path::new("/a b/x?y#z%.db")),
            "/a%20b/x%3Fy%23z%25.db"
        );
    }
}
