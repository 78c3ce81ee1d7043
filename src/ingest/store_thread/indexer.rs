//! The full-text index built by the store thread beside the workers, in
//! large passes over the spans already committed.

use crate::store::commit::Committer;
use crate::store::{busy, StoreError};

/// While it indexes as it goes ([`StoreThread::spawn_indexing`]), the store
/// thread indexes new spans for search each time this many more were stored:
/// large enough for FTS5's bulk path (one `INSERT … SELECT` over a key range),
/// small enough that the index is built beside the workers, not after them.
pub const INDEX_EVERY: u64 = 25_000;

/// The newest spans left out of each of those passes: parsers send a span
/// again when they learn more of it (a tool's result after its call), and a
/// re-sent span that was already indexed costs a delete and an insert.
pub const INDEX_LAG: u64 = 10_000;

/// The store thread's share of an import's full-text index: every
/// [`INDEX_EVERY`] new spans, once the import builds most of the index
/// ([`Store::fts_bulk_due`]), it switches FTS5 to its bulk settings
/// ([`Store::set_fts_bulk`]: one segment per pass, merged by FTS5 a few at a
/// time as the passes go) and indexes every new span but the newest
/// [`INDEX_LAG`]. The import indexes the rest and puts the incremental
/// settings back, with no merge after its last pass (`commands::import`, which
/// finds the build through [`Store::fts_bulk_mine`]). A busy store only
/// leaves more to the end; a store the committer is spooling for is left alone.
#[derive(Debug)]
pub struct Indexer {
    every: u64,
    lag: u64,
    /// New spans stored since the last look.
    since: u64,
    /// Bulk settings switched on by this indexer.
    bulk: bool,
}

impl Default for Indexer {
    fn default() -> Self {
        Indexer::new(INDEX_EVERY, INDEX_LAG)
    }
}

impl Indexer {
    pub(super) fn new(every: u64, lag: u64) -> Indexer {
        Indexer {
            every,
            lag,
            since: 0,
            bulk: false,
        }
    }

    pub(super) fn after(
        &mut self,
        committer: &mut Committer,
        new_spans: u64,
    ) -> Result<(), StoreError> {
        self.since += new_spans;
        if self.since < self.every || committer.backlog() {
            return Ok(());
        }
        self.since = 0;
        let store = committer.store_mut();
        let lag = self.lag;
        let mut step = |bulk: &mut bool| -> Result<(), StoreError> {
            if !*bulk {
                if !store.fts_bulk_due()? {
                    return Ok(());
                }
                store.set_fts_bulk(true)?;
                *bulk = true;
            }
            let fresh = store.fts_fresh()?;
            if fresh > lag {
                store.index_fts((fresh - lag) as usize)?;
            }
            Ok(())
        };
        match step(&mut self.bulk) {
            Err(e) if busy::classify(&e) == busy::Failure::Fatal => Err(e),
            _ => Ok(()),
        }
    }
}
