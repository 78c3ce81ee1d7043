//! The store's schema and its append-only migrations.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up; the applied
//! version lives in `PRAGMA user_version`. Never edit a shipped migration: add one.

use rusqlite::Connection;

/// Schema migrations, in order. Index + 1 is the version each produces.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta(
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE runs(
    id            TEXT PRIMARY KEY,
    agent         TEXT,
    source        TEXT NOT NULL DEFAULT '',
    parent_run_id TEXT,
    started_ms    INTEGER,
    ended_ms      INTEGER,
    title         TEXT,
    cwd           TEXT,
    models        TEXT NOT NULL DEFAULT '',
    span_count    INTEGER NOT NULL DEFAULT 0,
    tool_count    INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    f_info        INTEGER NOT NULL DEFAULT 0,
    f_low         INTEGER NOT NULL DEFAULT 0,
    f_medium      INTEGER NOT NULL DEFAULT 0,
    f_high        INTEGER NOT NULL DEFAULT 0,
    f_critical    INTEGER NOT NULL DEFAULT 0,
    updated_ms    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_started ON runs(started_ms DESC);

CREATE TABLE spans(
    run_id        TEXT NOT NULL,
    id            TEXT NOT NULL,
    parent_id     TEXT,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    start_ms      INTEGER,
    end_ms        INTEGER,
    status        TEXT NOT NULL DEFAULT 'unset',
    model         TEXT,
    tool_name     TEXT,
    tool_call_id  TEXT,
    tool_input    TEXT,
    tool_output   TEXT,
    text          TEXT,
    attributes    TEXT,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    origin_path   TEXT NOT NULL DEFAULT '',
    origin_line   INTEGER NOT NULL DEFAULT 0,
    UNIQUE(run_id, id)
);
CREATE INDEX spans_run_start ON spans(run_id, start_ms, origin_line);

CREATE TABLE findings(
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL UNIQUE,
    rule_id      TEXT NOT NULL,
    severity     INTEGER NOT NULL,
    confidence   REAL NOT NULL,
    run_id       TEXT NOT NULL,
    span_id      TEXT,
    span_ids     TEXT NOT NULL DEFAULT '[]',
    title        TEXT NOT NULL,
    message      TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    origin_path  TEXT,
    origin_line  INTEGER,
    skill_id     TEXT,
    ts_ms        INTEGER,
    related      TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL DEFAULT 'open',
    note         TEXT,
    triaged_ms   INTEGER,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX findings_queue ON findings(severity DESC, ts_ms, id);
CREATE INDEX findings_run ON findings(run_id);

CREATE TABLE skill_hits(
    id          INTEGER PRIMARY KEY,
    skill_id    TEXT NOT NULL,
    version     TEXT,
    name        TEXT NOT NULL,
    method      TEXT NOT NULL,
    confidence  REAL NOT NULL,
    run_id      TEXT NOT NULL,
    span_id     TEXT NOT NULL,
    ts_ms       INTEGER,
    UNIQUE(skill_id, run_id, span_id, method)
);
CREATE INDEX skill_hits_skill ON skill_hits(skill_id);

CREATE TABLE parse_errors(
    id      INTEGER PRIMARY KEY,
    path    TEXT NOT NULL,
    line    INTEGER NOT NULL,
    message TEXT NOT NULL,
    UNIQUE(path, line)
);

CREATE TABLE sources(
    path       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL DEFAULT 'file',
    dev        INTEGER NOT NULL DEFAULT 0,
    ino        INTEGER NOT NULL DEFAULT 0,
    offset     INTEGER NOT NULL DEFAULT 0,
    line       INTEGER NOT NULL DEFAULT 0,
    format     TEXT NOT NULL DEFAULT '',
    updated_ms INTEGER NOT NULL DEFAULT 0
);

CREATE VIRTUAL TABLE spans_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61');
CREATE TABLE fts_queue(span_rowid INTEGER PRIMARY KEY);
"#,
    // 2: the Runs view's default order, so a page of the newest runs is an index walk, not a sort.
    r#"
CREATE INDEX runs_recent ON runs(COALESCE(started_ms, updated_ms) DESC, id);
"#,
];

/// Brings the schema to the latest version, one transaction per migration.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// The version this binary's schema ends at.
pub fn latest() -> usize {
    MIGRATIONS.len()
}
