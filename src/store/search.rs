//! Full-text search a page at a time: FTS5 ranks the hits a window of the
//! newest [`SEARCH_WINDOW`] at a time (no page waits on ranking every hit of
//! a common word), hands back keys only, and span rows and snippets are read
//! for the page on screen alone.

use super::fts::{excerpt, fts_query, SearchHit};
use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

/// Hits ranked together: a search is ranked a window of this many hits at a
/// time, newest window first, so a page never waits on ranking every hit.
pub const SEARCH_WINDOW: usize = 10_000;

/// The first window of a search the TUI pages through: the newest this many
/// hits, ranked before the first page shows (a tenth of [`SEARCH_WINDOW`]'s
/// ranking time); the windows after it are [`SEARCH_WINDOW`] wide.
pub const SEARCH_FIRST_WINDOW: usize = 1_000;

/// One window of a search's hits, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchWindow {
    /// Store keys of the window's hits, best match first.
    pub keys: Vec<i64>,
    /// Where the next (older) window starts: hits below this key; `None`
    /// when this window reached the oldest hit.
    pub next: Option<i64>,
}

impl Store {
    /// The newest `size` hits of `query` (plain words, see [`Store::search`])
    /// with keys below `below` (all when `None`), ranked by FTS5's bm25. The
    /// scores are the same as ranking every hit would give (bm25's term
    /// weights and average length are the whole index's): a window is an
    /// exact slice of the full ranking restricted to its keys.
    pub fn search_window(
        &self,
        query: &str,
        below: Option<i64>,
        size: usize,
    ) -> Result<SearchWindow, StoreError> {
        let q = fts_query(query);
        if q.is_empty() || size == 0 {
            return Ok(SearchWindow {
                keys: Vec::new(),
                next: None,
            });
        }
        let below = below.unwrap_or(i64::MAX);
        // The window's oldest key: walking a term's keys newest first is cheap.
        let floor: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT rowid FROM spans_fts WHERE spans_fts MATCH ?1 AND rowid < ?2 \
                 ORDER BY rowid DESC LIMIT 1 OFFSET ?3",
            )?
            .query_row(params![q, below, (size - 1) as i64], |r| r.get(0))
            .optional()?;
        let mut st = self.conn.prepare_cached(
            "SELECT rowid FROM spans_fts WHERE spans_fts MATCH ?1 AND rowid < ?2 AND rowid >= ?3 \
             ORDER BY rank",
        )?;
        let keys = st
            .query_map(params![q, below, floor.unwrap_or(i64::MIN)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        // A full window may have older hits behind it; a short one has none.
        Ok(SearchWindow { keys, next: floor })
    }

    /// How many spans match `query`, counting no further than `cap`.
    pub fn search_count(&self, query: &str, cap: u64) -> Result<u64, StoreError> {
        let q = fts_query(query);
        if q.is_empty() {
            return Ok(0);
        }
        let mut st = self.conn.prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM spans_fts WHERE spans_fts MATCH ?1 LIMIT ?2)",
        )?;
        Ok(
            st.query_row(params![q, cap.min(i64::MAX as u64) as i64], |r| {
                r.get::<_, i64>(0)
            })? as u64,
        )
    }

    /// The hits of `keys` in that order, each with a snippet around `query`'s
    /// first word; spans deleted since they were found are left out.
    pub fn search_hits(&self, query: &str, keys: &[i64]) -> Result<Vec<SearchHit>, StoreError> {
        let words: Vec<String> = query.split_whitespace().map(|w| w.to_lowercase()).collect();
        let mut st = self.conn.prepare_cached(
            "SELECT r.id, s.id, s.kind, s.name, concat_ws(' ', s.name, s.tool_name, s.tool_input, s.tool_output, s.text) \
             FROM spans s JOIN runs r ON r.key = s.run_key WHERE s.key = ?1",
        )?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let mut rows = st.query([key])?;
            if let Some(r) = rows.next()? {
                // Redacted whole, then cut ([`crate::redact::cut`]).
                let run: String = r.get(0)?;
                let body = self.reread.text(&run, &r.get::<_, String>(4)?);
                out.push(SearchHit {
                    span_id: r.get(1)?,
                    kind: r.get(2)?,
                    name: self.reread.text(&run, &r.get::<_, String>(3)?),
                    snippet: excerpt(&body, &words),
                    run_id: run,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_spans::{stored, text_span};
    use crate::store::Store;

    /// A store of one run whose spans hold these texts.
    fn store(texts: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let spans = texts
            .iter()
            .enumerate()
            .map(|(i, t)| text_span(i, t))
            .collect();
        let s = stored(&dir.path().join("s.db"), spans);
        (dir, s)
    }

    #[test]
    fn windows_rank_their_hits_newest_window_first_and_count_stops_at_its_cap() {
        let texts = [
            "zebra zebra zebra",
            "zebra once among many other words here",
            "nothing to see",
            "zebra zebra and a few more words",
            "zebra in a long line of many many other words",
        ];
        let (_d, s) = store(&texts);
        let ids = |keys: &[i64]| -> Vec<String> {
            s.search_hits("zebra", keys)
                .expect("hits")
                .into_iter()
                .map(|h| h.span_id)
                .collect()
        };
        // One window holding every hit: the full ranking, densest first.
        let all = s.search_window("zebra", None, 100).expect("window");
        assert_eq!(all.next, None);
        assert_eq!(ids(&all.keys), ["s0", "s3", "s1", "s4"]);
        // Windows of two: the newest two hits ranked, then the older two.
        let w1 = s.search_window("zebra", None, 2).expect("w1");
        assert_eq!(ids(&w1.keys), ["s3", "s4"]);
        let w2 = s.search_window("zebra", w1.next, 2).expect("w2");
        assert_eq!(ids(&w2.keys), ["s0", "s1"]);
        let w3 = s.search_window("zebra", w2.next, 2).expect("w3");
        assert!(w3.keys.is_empty(), "{w3:?}");
        assert_eq!(s.search_count("zebra", 100).expect("count"), 4);
        assert_eq!(s.search_count("zebra", 2).expect("capped"), 2);
        assert_eq!(s.search_count("  ", 2).expect("no words"), 0);
        assert!(s
            .search_window(" ", None, 2)
            .expect("no words")
            .keys
            .is_empty());
        let hits = s.search_hits("zebra", &all.keys).expect("hits");
        assert!(hits.iter().all(|h| h.snippet.contains("zebra")), "{hits:?}");
        assert_eq!(
            s.search("zebra", 2).expect("search"),
            s.search_hits("zebra", &all.keys[..2]).expect("hits")
        );
    }
}
