//! Full-text search over span text, indexed behind ingest from a queue of changed spans.
//!
//! Ingest only queues span rowids; [`Store::index_fts`] drains the queue in
//! batches (re-indexing updated spans), and search reports how far behind it is.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub run_id: String,
    pub span_id: String,
    pub kind: String,
    pub name: String,
    /// Matched text with the hit between `[` and `]`, one line, already redacted.
    pub snippet: String,
}

/// What a span is indexed as: its name, tool, input, output and text, in one body.
const BODY: &str = "concat_ws(' ', name, tool_name, tool_input, tool_output, text)";

impl Store {
    /// Indexes up to `max` spans in one transaction: first re-indexes updated
    /// spans (the queue), then new spans past the watermark. Returns how many
    /// were indexed.
    ///
    /// New spans were never indexed (spans are never deleted, so a rowid past
    /// the watermark never had an entry): they go in with one `INSERT … SELECT`
    /// over their rowid range, FTS5's own bulk path, with no per-span delete.
    /// Only updated spans already indexed pay a delete and an insert each.
    /// The tail and the TUI call this with small `max` (their incremental
    /// path); an import calls it with large ones, under [`Store::set_fts_bulk`].
    pub fn index_fts(&mut self, max: usize) -> Result<usize, StoreError> {
        // The write lock first: reading before writing in a deferred
        // transaction fails at once (SQLITE_BUSY_SNAPSHOT) when another
        // writer committed in between, without waiting.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let wm = watermark(&tx)?;
        let mut n = 0;
        {
            // Updates of spans past the watermark are indexed with the fresh ones.
            tx.prepare_cached("DELETE FROM fts_queue WHERE span_rowid > ?1")?
                .execute([wm])?;
            let mut del = tx.prepare_cached("DELETE FROM spans_fts WHERE rowid=?1")?;
            let mut ins = tx.prepare_cached(&format!(
                "INSERT INTO spans_fts(rowid, body) SELECT key, {BODY} FROM spans WHERE key=?1"
            ))?;
            let mut pick =
                tx.prepare_cached("SELECT span_rowid FROM fts_queue ORDER BY span_rowid LIMIT ?1")?;
            let queued: Vec<i64> = pick
                .query_map([max as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut done = tx.prepare_cached("DELETE FROM fts_queue WHERE span_rowid=?1")?;
            for id in queued {
                del.execute([id])?;
                ins.execute([id])?;
                done.execute([id])?;
                n += 1;
            }
        }
        let room = max.saturating_sub(n);
        if room > 0 {
            // The last rowid of the next `room` new spans (or of all of them).
            let last: Option<i64> = tx
                .prepare_cached(
                    "SELECT key FROM spans WHERE key > ?1 ORDER BY key LIMIT 1 OFFSET ?2",
                )?
                .query_row(params![wm, room as i64 - 1], |r| r.get(0))
                .optional()?;
            let last = match last {
                Some(k) => k,
                None => tx
                    .prepare_cached("SELECT COALESCE(max(key), 0) FROM spans")?
                    .query_row([], |r| r.get(0))?,
            };
            if last > wm {
                n += tx
                    .prepare_cached(&format!(
                        "INSERT INTO spans_fts(rowid, body) SELECT key, {BODY} FROM spans \
                         WHERE key > ?1 AND key <= ?2"
                    ))?
                    .execute(params![wm, last])?;
                tx.prepare_cached(
                    "INSERT INTO meta(key, value) VALUES('fts_watermark', ?1) \
                     ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                )?
                .execute([last.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// True while this process's bulk settings are in force ([`Store::set_fts_bulk`]):
    /// an import's store thread switched them on while indexing as it wrote
    /// (`ingest::store_thread`), and the import finishes that build.
    pub fn fts_bulk_mine(&self) -> Result<bool, StoreError> {
        let owner: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key='fts_bulk_pid'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(owner.is_some_and(|p| p == std::process::id().to_string()))
    }

    /// True when the new spans waiting to be indexed are at least half of
    /// all spans: indexing them builds most of the index, so the bulk settings
    /// ([`Store::set_fts_bulk`]) pay.
    pub fn fts_bulk_due(&self) -> Result<bool, StoreError> {
        let spans: i64 =
            self.conn
                .query_row("SELECT COALESCE(max(key), 0) FROM spans", [], |r| r.get(0))?;
        // Spans are never deleted, so rowids past the watermark are the new
        // spans (no count over the table).
        let fresh = spans - watermark(&self.conn)?;
        Ok(fresh > 0 && fresh * 2 >= spans)
    }

    /// Switches FTS5's settings for building most of the index at once
    /// (`on`), or back to the incremental ones the tail and the TUI use.
    ///
    /// Built with the defaults, every 1 MiB of pending text is flushed as a
    /// segment. In bulk ([`BULK_FTS`]) a pass of the import's indexer is
    /// flushed as one segment (16 MiB of pending text), and FTS5's own
    /// incremental merging stays on: it merges a few segments at a time as
    /// the passes go, beside the import's workers, so the import ends with a
    /// handful of segments on several levels and no merge after its last
    /// pass. A full merge (`optimize`) at the end rewrote the whole index on
    /// the import's serial tail; with merging off while building, skipping it
    /// left every segment on level 0, where the tail's next small writes
    /// reached FTS5's crisis bound and merged the whole index in one write.
    /// The settings are stored in the index: switched back only when they
    /// differ, so a bulk build a crash cut short is undone by the next
    /// import's call ([`Store::restore_fts_if_orphaned`]).
    pub fn set_fts_bulk(&mut self, on: bool) -> Result<(), StoreError> {
        let want = if on { &BULK_FTS } else { &DEFAULT_FTS };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (key, value) in want {
            let now: Option<i64> = tx
                .prepare_cached("SELECT v FROM spans_fts_config WHERE k=?1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            // An absent row is the built-in default.
            let default = DEFAULT_FTS.iter().find(|(k, _)| k == key).map(|d| d.1);
            if now.or(default) != Some(*value) {
                tx.prepare_cached("INSERT INTO spans_fts(spans_fts, rank) VALUES(?1, ?2)")?
                    .execute(params![key, value])?;
            }
        }
        // Who switched them: a writer that finds the bulk settings left by a
        // process that is gone puts the incremental ones back.
        match on {
            true => tx
                .prepare_cached(
                    "INSERT INTO meta(key, value) VALUES('fts_bulk_pid', ?1) \
                     ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                )?
                .execute([std::process::id().to_string()])?,
            false => tx
                .prepare_cached("DELETE FROM meta WHERE key='fts_bulk_pid'")?
                .execute([])?,
        };
        tx.commit()?;
        Ok(())
    }

    /// Puts the incremental settings back when a bulk import was killed
    /// while building the index (its settings would otherwise stay for the
    /// tail and the TUI until the next import): when a setting differs from
    /// [`DEFAULT_FTS`] (a bulk build of this version, or an older one's with
    /// merging off) and the process that switched it is gone. Returns true
    /// when it did. Writers call it when they start.
    pub fn restore_fts_if_orphaned(&mut self) -> Result<bool, StoreError> {
        let mut incremental = true;
        for (key, value) in &DEFAULT_FTS {
            let now: Option<i64> = self
                .conn
                .prepare_cached("SELECT v FROM spans_fts_config WHERE k=?1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            incremental &= now.unwrap_or(*value) == *value;
        }
        if incremental {
            return Ok(false);
        }
        let owner: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key='fts_bulk_pid'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        if owner.and_then(|p| p.parse().ok()).is_some_and(alive) {
            return Ok(false);
        }
        self.set_fts_bulk(false)?;
        Ok(true)
    }

    /// New spans past the watermark (spans are never deleted and a new one
    /// takes the highest key + 1, so this is a difference of two keys, not a count).
    pub fn fts_fresh(&self) -> Result<u64, StoreError> {
        let last: i64 = self
            .conn
            .prepare_cached("SELECT COALESCE(max(key), 0) FROM spans")?
            .query_row([], |r| r.get(0))?;
        Ok((last - watermark(&self.conn)?).max(0) as u64)
    }

    /// Spans waiting to be indexed (updated spans queued + new spans past the watermark).
    pub fn fts_pending(&self) -> Result<u64, StoreError> {
        let wm = watermark(&self.conn)?;
        // Queued updates past the watermark are counted once, with the fresh spans.
        let queued: i64 = self.conn.query_row(
            "SELECT count(*) FROM fts_queue WHERE span_rowid <= ?1",
            [wm],
            |r| r.get(0),
        )?;
        let fresh: i64 =
            self.conn
                .query_row("SELECT count(*) FROM spans WHERE rowid > ?1", [wm], |r| {
                    r.get(0)
                })?;
        Ok((queued + fresh) as u64)
    }

    /// Searches span text. The query is taken as plain words (each quoted), so
    /// user input can never be FTS syntax; the best `limit` of the newest
    /// hits first (one window of `Store::search_window`).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, StoreError> {
        let w = self.search_window(query, None, super::search::SEARCH_WINDOW)?;
        self.search_hits(query, &w.keys[..limit.min(w.keys.len())])
    }
}

/// FTS5 settings while an import builds most of the index (see
/// [`Store::set_fts_bulk`]): FTS5's own merging as it goes, one flush per
/// pass (16 MiB of pending text).
const BULK_FTS: [(&str, i64); 3] = [
    ("automerge", 4),
    ("crisismerge", 16),
    ("hashsize", 16 << 20),
];

/// FTS5's own defaults, which the incremental path keeps.
const DEFAULT_FTS: [(&str, i64); 3] =
    [("automerge", 4), ("crisismerge", 16), ("hashsize", 1 << 20)];

/// True while a process with this id runs (a signal-0 probe; a process of
/// another user answers "not permitted", which means it runs).
fn alive(pid: i32) -> bool {
    match rustix::process::Pid::from_raw(pid) {
        Some(p) => !matches!(
            rustix::process::test_kill_process(p),
            Err(e) if e == rustix::io::Errno::SRCH
        ),
        None => false,
    }
}

/// The rowid of the last new span indexed (spans past it wait to be).
fn watermark(conn: &rusqlite::Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key='fts_watermark'")?
        .query_row([], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Quotes every word so the user's text is matched literally (no FTS operators).
pub(super) fn fts_query(query: &str) -> String {
    query
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// ~80 characters around the first word found, on one line.
pub(super) fn excerpt(body: &str, words: &[String]) -> String {
    let lower = body.to_lowercase();
    let pos = words
        .iter()
        .filter_map(|w| lower.find(w.as_str()))
        .min()
        .unwrap_or(0);
    let start = body
        .char_indices()
        .map(|(i, _)| i)
        .take_while(|&i| i + 30 <= pos)
        .last()
        .unwrap_or(0);
    // Stored text is redacted: cut it without splitting a marker, and when the
    // window starts inside one, start after it.
    let start = crate::redact::cut::marker_end_at(body, start);
    crate::redact::cut::one_line(&body[start..], 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Span, SpanKind};
    use crate::redact::{Mode, Redactor};
    use crate::store::StoreBatch;

    const WORDS: [&str; 6] = ["zebra", "credentials", "curl", "ssh", "pastebin", "token"];

    /// Batches of spans of three runs; later batches re-send earlier spans
    /// with more text (a tool's output after its call), as parsers do.
    fn batches() -> Vec<StoreBatch> {
        let mut r = Redactor::new(Mode::Mask);
        (0..12)
            .map(|b| {
                let spans = (0..9)
                    .map(|i| {
                        // Each batch brings 6 new spans and re-sends 3 of the batch before.
                        let (id, again) = if i < 6 {
                            (b * 6 + i, false)
                        } else {
                            ((b.max(1) - 1) * 6 + i - 6, true)
                        };
                        let mut s = Span::new(
                            format!("s{id}"),
                            format!("run-{}", id % 3),
                            SpanKind::Tool,
                            "Bash",
                            Origin::new("/x/f.jsonl", id as u64 + 1),
                        );
                        s.tool_input = Some(format!("{} {}", WORDS[id % 6], WORDS[(id / 6) % 6]));
                        if again {
                            s.tool_output = Some(format!("{} zebra", WORDS[(id + 1) % 6]));
                        }
                        r.redact_span(s).0
                    })
                    .collect();
                StoreBatch {
                    spans,
                    ..Default::default()
                }
            })
            .collect()
    }

    fn answers(s: &Store) -> Vec<Vec<SearchHit>> {
        let mut out: Vec<Vec<SearchHit>> = WORDS
            .iter()
            .chain(["curl zebra", "nothing-like-this"].iter())
            .map(|q| s.search(q, 1_000).expect("search"))
            .collect();
        out.push(
            s.conn
                .query_row("SELECT count(*) FROM spans_fts", [], |r| r.get::<_, i64>(0))
                .map(|n| {
                    vec![SearchHit {
                        run_id: n.to_string(),
                        span_id: String::new(),
                        kind: String::new(),
                        name: String::new(),
                        snippet: String::new(),
                    }]
                })
                .expect("rows"),
        );
        out
    }

    /// Segments of the store's index: FTS5 keeps segment `n`'s pages at
    /// rowids `n << 37` and up in `spans_fts_data` (ids below 2^16; the ones
    /// above hold tombstones), so the distinct ids are the segments.
    fn fts_segments(s: &Store) -> i64 {
        s.conn
            .query_row(
                "SELECT count(DISTINCT rowid >> 37) FROM spans_fts_data \
                 WHERE rowid >= (1 << 37) AND rowid < (1 << 53)",
                [],
                |r| r.get(0),
            )
            .expect("segments")
    }

    /// A stored FTS5 setting of the store's index (none: the built-in default).
    fn fts_config(s: &Store, key: &str) -> Option<i64> {
        s.conn
            .query_row("SELECT v FROM spans_fts_config WHERE k=?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .expect("config")
    }

    #[test]
    fn a_bulk_indexed_store_and_an_incrementally_indexed_one_answer_the_same() {
        let t = tempfile::tempdir().expect("tempdir");
        // Bulk, as `import` does: everything written, then indexed in one go.
        let mut bulk = Store::open(&t.path().join("bulk.db")).expect("open");
        for b in batches() {
            bulk.write(&b).expect("write");
        }
        assert!(bulk.fts_bulk_due().expect("due"), "nothing indexed yet");
        bulk.set_fts_bulk(true).expect("bulk settings");
        assert_eq!(fts_config(&bulk, "hashsize"), Some(16 << 20));
        assert_eq!(bulk.index_fts(50_000).expect("index"), 72);
        bulk.set_fts_bulk(false).expect("incremental settings");
        assert_eq!(fts_config(&bulk, "automerge"), None, "never switched off");
        assert_eq!(fts_config(&bulk, "hashsize"), Some(1 << 20));
        assert!(!bulk.fts_bulk_due().expect("due"), "all indexed");
        assert_eq!(bulk.fts_pending().expect("pending"), 0);
        // Incremental, as `tail` and the TUI do: a few spans after each batch,
        // so re-sent spans are often already indexed and must be re-indexed.
        let mut tail = Store::open(&t.path().join("tail.db")).expect("open");
        for b in batches() {
            tail.write(&b).expect("write");
            tail.index_fts(4).expect("index");
        }
        while tail.index_fts(4).expect("index") > 0 {}
        assert_eq!(tail.fts_pending().expect("pending"), 0);
        let (a, b) = (answers(&bulk), answers(&tail));
        assert!(a[0].len() > 10, "the queries find something: {:?}", a[0]);
        assert_eq!(a, b);
        // Text a re-sent span replaced is found where it now is, once.
        let zebra = &a[0];
        let mut ids: Vec<_> = zebra.iter().map(|h| (&h.run_id, &h.span_id)).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), zebra.len(), "no span indexed twice");
    }

    #[test]
    fn bulk_passes_are_merged_as_they_go_so_no_full_merge_is_left() {
        let t = tempfile::tempdir().expect("tempdir");
        let mut s = Store::open(&t.path().join("s.db")).expect("open");
        // Small leaf pages, so a pass of a few hundred spans writes the
        // dozens of pages FTS5's merging counts its work in.
        s.conn
            .execute(
                "INSERT INTO spans_fts(spans_fts, rank) VALUES('pgsz', 64)",
                [],
            )
            .expect("page size");
        let mut r = Redactor::new(Mode::Mask);
        let spans = (0..12_000)
            .map(|i| {
                let mut s = Span::new(
                    format!("s{i}"),
                    format!("run-{}", i / 100),
                    SpanKind::Tool,
                    "Bash",
                    Origin::new("/x/f.jsonl", i as u64 + 1),
                );
                s.tool_input = Some(format!("w{i} v{} u{}", i % 97, i % 13));
                r.redact_span(s).0
            })
            .collect();
        s.write(&StoreBatch {
            spans,
            ..Default::default()
        })
        .expect("write");
        s.set_fts_bulk(true).expect("bulk settings");
        // In passes, as the import's store thread indexes: one flush each.
        let mut passes = 0;
        while s.index_fts(400).expect("index") > 0 {
            passes += 1;
        }
        assert_eq!(passes, 30);
        let segments = fts_segments(&s);
        // Merging off while building (the settings before) leaves one
        // segment per pass on level 0, past FTS5's crisis bound of 16: the
        // next small write would merge the whole index at once.
        assert!(segments < 16, "{segments} segments after {passes} passes");
        s.set_fts_bulk(false).expect("incremental settings");
        assert_eq!(s.search_count("u7", 100_000).expect("count"), 923);
        assert_eq!(s.search_count("w11999", 10).expect("count"), 1);
    }

    #[test]
    fn bulk_settings_left_by_a_killed_import_are_restored_by_the_next_writer() {
        let t = tempfile::tempdir().expect("tempdir");
        let mut s = Store::open(&t.path().join("s.db")).expect("open");
        // A live bulk import (this process) keeps its settings.
        s.set_fts_bulk(true).expect("bulk settings");
        assert!(!s.restore_fts_if_orphaned().expect("restore"));
        assert_eq!(fts_config(&s, "hashsize"), Some(16 << 20));
        // Killed: its process id names no process any more.
        s.conn
            .execute(
                "UPDATE meta SET value=?1 WHERE key='fts_bulk_pid'",
                [i32::MAX.to_string()],
            )
            .expect("owner");
        assert!(s.restore_fts_if_orphaned().expect("restore"));
        assert_eq!(fts_config(&s, "hashsize"), Some(1 << 20));
        assert!(!s.restore_fts_if_orphaned().expect("restore"), "once");
        // A store from before the owner was recorded: merging off (the
        // bulk settings of earlier versions), no owner.
        s.conn
            .execute(
                "INSERT INTO spans_fts(spans_fts, rank) VALUES('automerge', 0)",
                [],
            )
            .expect("merging off");
        assert!(s.restore_fts_if_orphaned().expect("restore"));
        assert_eq!(fts_config(&s, "automerge"), Some(4));
        // This version's bulk settings without an owner: restored too.
        s.set_fts_bulk(true).expect("bulk settings");
        s.conn
            .execute("DELETE FROM meta WHERE key='fts_bulk_pid'", [])
            .expect("owner");
        assert!(s.restore_fts_if_orphaned().expect("restore"));
        assert_eq!(fts_config(&s, "hashsize"), Some(1 << 20));
    }

    #[test]
    fn new_spans_are_indexed_without_a_delete_and_updates_with_one() {
        let t = tempfile::tempdir().expect("tempdir");
        let mut s = Store::open(&t.path().join("s.db")).expect("open");
        let b = batches();
        s.write(&b[0]).expect("write");
        // Two at a time: the watermark moves over the rowid range indexed.
        assert_eq!(s.index_fts(2).expect("index"), 2);
        assert_eq!(s.fts_pending().expect("pending"), 4);
        assert_eq!(s.index_fts(100).expect("index"), 4);
        // Incremental settings are left alone when they are already in force.
        s.set_fts_bulk(false).expect("incremental settings");
        assert_eq!(fts_config(&s, "automerge"), None, "no setting written");
        // The next batch re-sends three indexed spans: they are queued and
        // re-indexed (their old entry deleted), the six new ones are not queued.
        s.write(&b[1]).expect("write");
        let queued: i64 = s
            .conn
            .query_row("SELECT count(*) FROM fts_queue", [], |r| r.get(0))
            .expect("count");
        assert_eq!(queued, 3);
        assert_eq!(s.fts_pending().expect("pending"), 9);
        assert_eq!(s.index_fts(100).expect("index"), 9);
        let rows: i64 = s
            .conn
            .query_row("SELECT count(*) FROM spans_fts", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 12, "one entry per span");
    }
}
