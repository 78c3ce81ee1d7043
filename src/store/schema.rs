//! The store's schema and its append-only migrations.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up; the applied
//! version lives in `PRAGMA user_version`. Never edit a shipped migration: add one.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of a skilltrace store ("SkTr"): how a store is told
/// apart from another program's SQLite file before anything is added to it.
pub const APPLICATION_ID: i64 = 0x536b_5472;

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
    // 3: integer keys. Spans name their run by the run's integer key instead of
    // repeating its text id (a 36-byte UUID, in the row and both indexes), and
    // both tables get an explicit INTEGER PRIMARY KEY so VACUUM can never
    // renumber the rowids that full-text search and run keys point at.
    // `cargo bench --bench store` measured the span insert 1.3x faster for it.
    // Span rowids are kept, so the full-text index stays valid.
    r#"
CREATE TABLE runs_v3(
    key           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
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
INSERT INTO runs_v3(key, id, agent, source, parent_run_id, started_ms, ended_ms, title, cwd, models, span_count,
    tool_count, input_tokens, output_tokens, f_info, f_low, f_medium, f_high, f_critical, updated_ms)
  SELECT rowid, id, agent, source, parent_run_id, started_ms, ended_ms, title, cwd, models, span_count,
    tool_count, input_tokens, output_tokens, f_info, f_low, f_medium, f_high, f_critical, updated_ms FROM runs;
INSERT OR IGNORE INTO runs_v3(id) SELECT DISTINCT run_id FROM spans;
DROP TABLE runs;
ALTER TABLE runs_v3 RENAME TO runs;
CREATE INDEX runs_started ON runs(started_ms DESC);
CREATE INDEX runs_recent ON runs(COALESCE(started_ms, updated_ms) DESC, id);

CREATE TABLE spans_v3(
    key           INTEGER PRIMARY KEY,
    run_key       INTEGER NOT NULL,
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
    UNIQUE(run_key, id)
);
INSERT INTO spans_v3(key, run_key, id, parent_id, kind, name, start_ms, end_ms, status, model, tool_name,
    tool_call_id, tool_input, tool_output, text, attributes, input_tokens, output_tokens, origin_path, origin_line)
  SELECT s.rowid, r.key, s.id, s.parent_id, s.kind, s.name, s.start_ms, s.end_ms, s.status, s.model, s.tool_name,
    s.tool_call_id, s.tool_input, s.tool_output, s.text, s.attributes, s.input_tokens, s.output_tokens,
    s.origin_path, s.origin_line
  FROM spans s JOIN runs r ON r.id = s.run_id;
DROP TABLE spans;
ALTER TABLE spans_v3 RENAME TO spans;
CREATE INDEX spans_run_start ON spans(run_key, start_ms, origin_line);
"#,
    // 4: the store says what it is (`application_id`, a `meta` marker), so
    // skilltrace never adds its tables to another program's database; and the
    // spool's replayed frames are remembered, in the transaction that stores
    // them, so a frame is stored exactly once even across a crash.
    r#"
PRAGMA application_id = 1399542898;
INSERT INTO meta(key, value) VALUES('store', 'skilltrace') ON CONFLICT(key) DO NOTHING;
CREATE TABLE spool_replayed(
    frame       TEXT PRIMARY KEY,
    replayed_ms INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // 5: cached prompt tokens of model calls (issue 19), kept so calls are
    // priced as cached: reads and writes are parts of `input_tokens`, the
    // 1-hour writes a part of the writes. Older rows stay NULL (uncached).
    r#"
ALTER TABLE spans ADD COLUMN cache_read_tokens INTEGER;
ALTER TABLE spans ADD COLUMN cache_write_tokens INTEGER;
ALTER TABLE spans ADD COLUMN cache_write_1h_tokens INTEGER;
"#,
    // 6: triage keeps a person's words apart. `reason` says why a finding was set
    // aside (false positive, suppressed: SARIF's justification) and `triaged_by`
    // who decided; notes are their own rows, each with its author and time. The
    // old single `note` field is split: on a set-aside finding it was the reason,
    // anywhere else a note (author unknown). `note` is left empty from here on.
    r#"
ALTER TABLE findings ADD COLUMN reason TEXT;
ALTER TABLE findings ADD COLUMN triaged_by TEXT;
CREATE TABLE finding_notes(
    id         INTEGER PRIMARY KEY,
    finding_id INTEGER NOT NULL,
    author     TEXT NOT NULL DEFAULT '',
    ts_ms      INTEGER NOT NULL,
    text       TEXT NOT NULL
);
CREATE INDEX finding_notes_finding ON finding_notes(finding_id, ts_ms, id);
UPDATE findings SET reason = note
  WHERE status IN ('false-positive', 'suppressed') AND note IS NOT NULL AND note <> '';
INSERT INTO finding_notes(finding_id, author, ts_ms, text)
  SELECT id, '', COALESCE(triaged_ms, created_ms), note FROM findings
  WHERE status NOT IN ('false-positive', 'suppressed') AND note IS NOT NULL AND note <> '';
UPDATE findings SET note = NULL;
CREATE INDEX findings_status ON findings(status, severity DESC, ts_ms, id);
"#,
    // 7: the guard's decision on the call that raised a finding (denied,
    // asked, allowed; NULL for findings no guard judged).
    r#"
ALTER TABLE findings ADD COLUMN guard_decision TEXT;
"#,
    // 8: the budget watch (issue 19) prices only what a batch touched: one
    // day's model calls by their time (a partial index: calls only), and a
    // run's subagents by their parent.
    r#"
CREATE INDEX spans_calls_time ON spans(COALESCE(start_ms, end_ms))
  WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL;
CREATE INDEX runs_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;
"#,
    // 9: totals kept as rows are written (issue 20), so the TUI's status line
    // and first frame never count a million spans or findings: runs and spans
    // in `tally`, findings by severity and status in `finding_tally`, each
    // kept by triggers on every path that writes the tables.
    r#"
CREATE TABLE tally(
    name TEXT PRIMARY KEY,
    n    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tally(name, n) SELECT 'runs', count(*) FROM runs;
INSERT INTO tally(name, n) SELECT 'spans', COALESCE(sum(span_count), 0) FROM runs;
CREATE TRIGGER tally_run_insert AFTER INSERT ON runs BEGIN
  UPDATE tally SET n = n + 1 WHERE name = 'runs';
  UPDATE tally SET n = n + COALESCE(new.span_count, 0) WHERE name = 'spans';
END;
CREATE TRIGGER tally_run_delete AFTER DELETE ON runs BEGIN
  UPDATE tally SET n = n - 1 WHERE name = 'runs';
  UPDATE tally SET n = n - COALESCE(old.span_count, 0) WHERE name = 'spans';
END;
CREATE TRIGGER tally_run_spans AFTER UPDATE OF span_count ON runs BEGIN
  UPDATE tally SET n = n + COALESCE(new.span_count, 0) - COALESCE(old.span_count, 0) WHERE name = 'spans';
END;
CREATE TABLE finding_tally(
    severity INTEGER NOT NULL,
    status   TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY(severity, status)
) WITHOUT ROWID;
INSERT INTO finding_tally(severity, status, n)
  SELECT severity, status, count(*) FROM findings GROUP BY severity, status;
CREATE TRIGGER finding_tally_insert AFTER INSERT ON findings BEGIN
  INSERT INTO finding_tally(severity, status, n) VALUES(new.severity, new.status, 1)
    ON CONFLICT(severity, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER finding_tally_delete AFTER DELETE ON findings BEGIN
  UPDATE finding_tally SET n = n - 1 WHERE severity = old.severity AND status = old.status;
END;
CREATE TRIGGER finding_tally_update AFTER UPDATE OF severity, status ON findings BEGIN
  UPDATE finding_tally SET n = n - 1 WHERE severity = old.severity AND status = old.status;
  INSERT INTO finding_tally(severity, status, n) VALUES(new.severity, new.status, 1)
    ON CONFLICT(severity, status) DO UPDATE SET n = n + 1;
END;
"#,
    // 10: new findings are tallied by the write path, once per batch and
    // severity (`store::write_findings`), not by a trigger per row: an insert
    // that fires a trigger keeps a statement journal (a copy of every page it
    // touches), ~8% of an import's CPU on a corpus with many findings.
    // Updates and deletes keep their triggers.
    r#"
DROP TRIGGER finding_tally_insert;
"#,
    // 11: what a run's title is (`model::TitleKind`: 0 the first prompt, 1 a
    // title the agent generated, 2 one the user set), so a stronger title
    // read later (Claude Code's `custom-title` / `ai-title` records) replaces
    // the first prompt.
    r#"
ALTER TABLE runs ADD COLUMN title_rank INTEGER NOT NULL DEFAULT 0;
"#,
    // 12: each span's parent as a store key (`parent_key`: 0 for a root, a
    // self-parent or a parent not (yet) in the run; NULL until resolved), kept
    // by the write path (`store::tree_links`), so the Run view's first page is
    // a walk of `spans_tree` from the roots instead of ordering the whole run.
    // Existing rows are resolved after this migration, in batches found
    // through `spans_unresolved`, by `Store::open` (resumable: a batch is its
    // own transaction). `spans_orphans` finds the spans a late parent adopts.
    // `spans_tree` leads with `parent_key` so that queries of a whole run keep
    // `spans_run_start` (a run's rows in time order, near the table's order):
    // by `run_key` first the planner took it and read a 100k-span run's rows
    // for its costs in parent order, 30x slower.
    r#"
ALTER TABLE spans ADD COLUMN parent_key INTEGER;
CREATE INDEX spans_tree ON spans(parent_key, run_key, start_ms IS NULL, start_ms, origin_line);
CREATE INDEX spans_orphans ON spans(run_key, parent_id) WHERE parent_key = 0 AND parent_id IS NOT NULL;
CREATE INDEX spans_unresolved ON spans(key) WHERE parent_key IS NULL;
"#,
    // 13: the runs and spans totals in `tally` are kept by the write path,
    // once per batch (`store::write_runs::tally_runs`), not by triggers on
    // every run insert and counter update: a statement that fires a trigger
    // keeps a statement journal (a copy of each 16 KiB page it touches), and
    // the run upserts and counter updates that paid for one were ~14% of an
    // import's store thread. Deletes keep their trigger.
    r#"
DROP TRIGGER IF EXISTS tally_run_insert;
DROP TRIGGER IF EXISTS tally_run_spans;
"#,
    // 14: a raised finding (a chain's severity going up) is moved between
    // `finding_tally`'s rows by the write path, once per batch
    // (`store::write_findings`), not by the update trigger: it fired on every
    // raise, and a statement that fires a trigger keeps a statement journal
    // (7% of the store thread on C20, BENCHMARKS.md). Triage (a status
    // change) keeps it.
    // Both drops are `IF EXISTS`: a store copied from a newer one and marked
    // older (as `tests/e2e/store_upgrade.rs` makes them) holds the new trigger.
    r#"
DROP TRIGGER IF EXISTS finding_tally_update;
DROP TRIGGER IF EXISTS finding_tally_status;
CREATE TRIGGER finding_tally_status AFTER UPDATE OF status ON findings BEGIN
  UPDATE finding_tally SET n = n - 1 WHERE severity = old.severity AND status = old.status;
  INSERT INTO finding_tally(severity, status, n) VALUES(new.severity, new.status, 1)
    ON CONFLICT(severity, status) DO UPDATE SET n = n + 1;
END;
"#,
    // 15: findings are deduplicated by `(scope, fingerprint)`, not by the
    // fingerprint alone: `scope` is the run's key (a fingerprint hashes its
    // run id, so within a run it is as unique as it was in the store), or 0
    // for the rules whose fingerprint leaves the run out (catalogue
    // `store_wide`: the daily budgets, one finding for the store). The old
    // `UNIQUE` on a SHA-256 in hex put each commit's new findings on random
    // leaves of a 28 MB index at 1 GB (78% of the pages a commit wrote,
    // BENCHMARKS.md); new runs take the highest keys, so new findings land
    // at the right edge. Lookups by fingerprint alone (native triage lines,
    // the guard's decision) go through `store::by_fingerprint`.
    // The table is rebuilt (a column `UNIQUE` cannot be dropped), ids kept
    // (notes point at them), triage and guard decisions with their rows; a
    // finding whose run has no row gets one, as the write path would make it.
    r#"
INSERT INTO runs(id, source, updated_ms)
  SELECT DISTINCT f.run_id, '', f.created_ms FROM findings f WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = f.run_id);
UPDATE tally SET n = (SELECT count(*) FROM runs) WHERE name = 'runs';
CREATE TABLE findings_v15(
    id             INTEGER PRIMARY KEY,
    fingerprint    TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    severity       INTEGER NOT NULL,
    confidence     REAL NOT NULL,
    run_id         TEXT NOT NULL,
    span_id        TEXT,
    span_ids       TEXT NOT NULL DEFAULT '[]',
    title          TEXT NOT NULL,
    message        TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    origin_path    TEXT,
    origin_line    INTEGER,
    skill_id       TEXT,
    ts_ms          INTEGER,
    related        TEXT NOT NULL DEFAULT '[]',
    status         TEXT NOT NULL DEFAULT 'open',
    note           TEXT,
    triaged_ms     INTEGER,
    created_ms     INTEGER NOT NULL,
    reason         TEXT,
    triaged_by     TEXT,
    guard_decision TEXT,
    scope          INTEGER NOT NULL DEFAULT 0
);
INSERT INTO findings_v15(id, fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids, title, message,
    evidence, origin_path, origin_line, skill_id, ts_ms, related, status, note, triaged_ms, created_ms, reason,
    triaged_by, guard_decision, scope)
  SELECT f.id, f.fingerprint, f.rule_id, f.severity, f.confidence, f.run_id, f.span_id, f.span_ids, f.title, f.message,
    f.evidence, f.origin_path, f.origin_line, f.skill_id, f.ts_ms, f.related, f.status, f.note, f.triaged_ms,
    f.created_ms, f.reason, f.triaged_by, f.guard_decision,
    CASE WHEN f.rule_id IN ('COST-TRACE-002', 'COST-TRACE-003') THEN 0 ELSE r.key END
  FROM findings f JOIN runs r ON r.id = f.run_id ORDER BY f.id;
DROP TABLE findings;
ALTER TABLE findings_v15 RENAME TO findings;
CREATE UNIQUE INDEX findings_dedup ON findings(scope, fingerprint);
CREATE INDEX findings_queue ON findings(severity DESC, ts_ms, id);
CREATE INDEX findings_run ON findings(run_id);
CREATE INDEX findings_status ON findings(status, severity DESC, ts_ms, id);
CREATE TRIGGER finding_tally_delete AFTER DELETE ON findings BEGIN
  UPDATE finding_tally SET n = n - 1 WHERE severity = old.severity AND status = old.status;
END;
CREATE TRIGGER finding_tally_status AFTER UPDATE OF status ON findings BEGIN
  UPDATE finding_tally SET n = n - 1 WHERE severity = old.severity AND status = old.status;
  INSERT INTO finding_tally(severity, status, n) VALUES(new.severity, new.status, 1)
    ON CONFLICT(severity, status) DO UPDATE SET n = n + 1;
END;
"#,
];

/// The rules migration 15 gave scope 0 (store-wide): the catalogue's
/// `store_wide` rules when it shipped (a test holds the two together).
#[cfg(test)]
pub(crate) const STORE_WIDE_AT_15: &[&str] = &["COST-TRACE-002", "COST-TRACE-003"];

/// Brings the schema to the latest version, one transaction per migration.
/// Each runs under `BEGIN IMMEDIATE` (the write lock, taken before anything is
/// read) and re-reads the version inside it, so writers opening a new or old
/// store at the same moment apply each migration once, never twice.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version = |c: &Connection| -> rusqlite::Result<usize> {
        Ok(c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize)
    };
    if version(conn)? >= MIGRATIONS.len() {
        return Ok(());
    }
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        let Some(sql) = MIGRATIONS.get(current) else {
            return tx.commit();
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (current + 1) as i64)?;
        tx.commit()?;
    }
}

/// The version this binary's schema ends at.
pub fn latest() -> usize {
    MIGRATIONS.len()
}
