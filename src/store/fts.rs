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

impl Store {
    /// Indexes up to `max` spans: first re-indexes updated spans (the queue),
    /// then new spans past the watermark. Returns how many were indexed.
    pub fn index_fts(&mut self, max: usize) -> Result<usize, StoreError> {
        // The write lock first: reading before writing in a deferred
        // transaction fails at once (SQLITE_BUSY_SNAPSHOT) when another
        // writer committed in between, without waiting.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut n = 0;
        {
            let mut del = tx.prepare_cached("DELETE FROM spans_fts WHERE rowid=?1")?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO spans_fts(rowid, body) SELECT rowid, \
                 concat_ws(' ', name, tool_name, tool_input, tool_output, text) FROM spans WHERE rowid=?1",
            )?;
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
            let wm: i64 = tx
                .query_row(
                    "SELECT value FROM meta WHERE key='fts_watermark'",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut fresh = tx.prepare_cached(
                "SELECT rowid FROM spans WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            )?;
            let ids: Vec<i64> = fresh
                .query_map(params![wm, (max - n.min(max)) as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut last = wm;
            for id in ids {
                del.execute([id])?;
                ins.execute([id])?;
                last = id;
                n += 1;
            }
            if last != wm {
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES('fts_watermark', ?1) \
                     ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    [last.to_string()],
                )?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Spans waiting to be indexed (updated spans queued + new spans past the watermark).
    pub fn fts_pending(&self) -> Result<u64, StoreError> {
        let wm: i64 = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key='fts_watermark'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
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
