//! The Search view's ranked hits: a query's hits a window at a time
//! ([`crate::store::Store::search_window`]), each window ranked once per
//! query and data version and kept for the pages after it.

use super::{Source, MAX_SEARCH_COUNT};
use crate::store::{StoreError, SEARCH_FIRST_WINDOW, SEARCH_WINDOW};

/// A search's hits ranked so far, valid while the store's `data_version` is `version`.
pub(super) struct SearchCache {
    pub(super) query: String,
    pub(super) version: Option<i64>,
    /// Hit keys of the windows ranked so far, in order.
    pub(super) keys: Vec<i64>,
    /// Where the next window starts (hits below this key).
    pub(super) next: Option<i64>,
    /// Every window is ranked.
    pub(super) done: bool,
    pub(super) total: u64,
}

impl Source {
    /// Keys of hits `offset..offset + limit` of `query` and how many match.
    /// Hits come a window at a time ([`crate::store::Store::search_window`]:
    /// the newest 1,000 ranked, then the next older 10,000 …), each window
    /// ranked once per query and data version and kept.
    pub(super) fn search_page(
        &mut self,
        query: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<i64>, u64), StoreError> {
        let version = self.data_version();
        if !matches!(&self.search, Some(c) if c.query == query && c.version == version) {
            let total = self.reader()?.search_count(query, MAX_SEARCH_COUNT)?;
            self.search = Some(SearchCache {
                query: query.to_string(),
                version,
                keys: Vec::new(),
                next: None,
                done: false,
                total,
            });
        }
        let end = offset.saturating_add(limit);
        loop {
            let (below, more) = match &self.search {
                Some(c) if c.keys.len() < end && !c.done => (c.next, true),
                _ => (None, false),
            };
            if !more {
                break;
            }
            let size = if below.is_none() {
                SEARCH_FIRST_WINDOW
            } else {
                SEARCH_WINDOW
            };
            let w = self.reader()?.search_window(query, below, size)?;
            if let Some(c) = self.search.as_mut() {
                c.keys.extend(w.keys);
                c.done = w.next.is_none();
                c.next = w.next;
            }
        }
        let c = self
            .search
            .as_ref()
            .ok_or_else(|| StoreError::NotFound("search: not run".into()))?;
        let page = c.keys.iter().skip(offset).take(limit).copied().collect();
        Ok((page, c.total))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Source;
    use crate::store::test_spans::{stored, text_span};
    use crate::store::SEARCH_FIRST_WINDOW;
    use std::collections::HashSet;

    #[test]
    fn the_first_page_ranks_the_newest_window_and_paging_reaches_every_hit_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let n = SEARCH_FIRST_WINDOW + 700;
        let spans = (0..n)
            .map(|i| {
                // Older spans match more densely: bm25 alone would rank them first.
                let words = if i < 700 {
                    "zebra zebra zebra"
                } else {
                    "zebra and other words"
                };
                text_span(i, words)
            })
            .collect();
        drop(stored(&path, spans));
        let mut src = Source::open(&path).expect("source");
        let (first, total) = src.search_page("zebra", 0, 60).expect("page");
        assert_eq!(total, n as u64);
        assert_eq!(first.len(), 60);
        let newest: HashSet<i64> = src
            .reader()
            .expect("reader")
            .search_window("zebra", None, SEARCH_FIRST_WINDOW)
            .expect("window")
            .keys
            .into_iter()
            .collect();
        assert!(
            first.iter().all(|k| newest.contains(k)),
            "first page from the newest window"
        );
        let (all, _) = src.search_page("zebra", 0, n + 10).expect("all");
        assert_eq!(all.len(), n);
        assert_eq!(all.iter().copied().collect::<HashSet<_>>().len(), n);
        assert_eq!(&all[..60], &first[..]);
    }
}
