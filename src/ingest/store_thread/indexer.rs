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

/// The newest spans left out of a pass once the import winds down (a worker
/// found no unit left, so a core is free): the workers still scanning re-send
/// only spans of their last batches, and a batch holds at most
/// [`crate::ingest::file::BATCH_RECORDS`] records.
pub const TAIL_LAG: u64 = crate::ingest::file::BATCH_RECORDS as u64;

/// The fewest spans a pass on a free core indexes: fewer would add a small
/// segment per pass for FTS5 to merge.
pub const TAIL_MIN: u64 = 2_000;

/// The store thread's share of an import's full-text index: every
/// [`INDEX_EVERY`] new spans, once the import builds most of the index
/// ([`Store::fts_bulk_due`]), it switches FTS5 to its bulk settings
/// ([`Store::set_fts_bulk`]: one segment per pass, merged by FTS5 a few at a
/// time as the passes go) and indexes every new span but the newest
/// [`INDEX_LAG`]. The import indexes the rest and puts the incremental
/// settings back, with no merge after its last pass (`commands::import`, which
/// finds the build through [`Store::fts_bulk_mine`]). A busy store only
/// leaves more to the end; a store the committer is spooling for is left alone.
///
/// Once the import winds down ([`Indexer::idle`]), the store thread also
/// indexes whenever no batch waits for it, leaving out only the newest
/// [`TAIL_LAG`]: the core a worker freed builds the index while the last
/// workers finish, instead of the import building it after them.
#[derive(Debug)]
pub struct Indexer {
    every: u64,
    lag: u64,
    tail_lag: u64,
    tail_min: u64,
    /// New spans stored since the last look.
    since: u64,
    /// Passes run since the import began winding down.
    tail_passes: u64,
    /// The log has been copied into the store file since the last pass.
    checkpointed: bool,
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
            tail_lag: TAIL_LAG.min(lag),
            tail_min: TAIL_MIN.min(every),
            since: 0,
            tail_passes: 0,
            checkpointed: false,
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
        self.pass(committer, self.lag, 1).map(drop)
    }

    /// The same with its own lag and least pass once the import winds down.
    #[cfg(test)]
    pub(super) fn tail(mut self, lag: u64, min: u64) -> Indexer {
        self.tail_lag = lag;
        self.tail_min = min;
        self
    }

    /// After each batch committed once the import winds down: the first
    /// pass on the freed core runs at once, not when the queue next runs
    /// empty (a store thread that is behind would otherwise leave it all to
    /// the end).
    pub(super) fn winding(&mut self, committer: &mut Committer) -> Result<(), StoreError> {
        match self.tail_passes {
            0 => self.idle(committer).map(drop),
            _ => Ok(()),
        }
    }

    /// Work for a free core: when the import winds down and no batch waits,
    /// a pass over every new span but the newest [`TAIL_LAG`], if that is at
    /// least [`TAIL_MIN`]; else, once after each pass, the log copied into
    /// the store file ([`Store::checkpoint`]), which the last connection's
    /// close would otherwise copy after the import. True if it did work (the
    /// thread looks for batches again, then comes back), false if there is
    /// nothing worth doing now.
    pub(super) fn idle(&mut self, committer: &mut Committer) -> Result<bool, StoreError> {
        if committer.backlog() {
            return Ok(false);
        }
        if self.pass(committer, self.tail_lag, self.tail_min)? {
            self.since = 0;
            self.tail_passes += 1;
            self.checkpointed = false;
            return Ok(true);
        }
        if !self.bulk || self.checkpointed {
            return Ok(false);
        }
        self.checkpointed = true;
        crate::ingest::phases::mark("checkpoint");
        match committer.store_mut().checkpoint() {
            Err(e) if busy::classify(&e) == busy::Failure::Fatal => Err(e),
            _ => Ok(true),
        }
    }

    /// Indexes every new span but the newest `lag`, if that is at least
    /// `min`, once the import builds most of the index (bulk settings on).
    /// True if it indexed. A busy store is not an error: it leaves more to the end.
    fn pass(&mut self, committer: &mut Committer, lag: u64, min: u64) -> Result<bool, StoreError> {
        let store = committer.store_mut();
        let mut step = |bulk: &mut bool| -> Result<bool, StoreError> {
            if !*bulk {
                if !store.fts_bulk_due()? {
                    return Ok(false);
                }
                store.set_fts_bulk(true)?;
                *bulk = true;
            }
            let fresh = store.fts_fresh()?;
            if fresh < lag + min.max(1) {
                return Ok(false);
            }
            crate::ingest::phases::mark("index pass");
            store.index_fts((fresh - lag) as usize)?;
            crate::ingest::phases::mark("index pass done");
            Ok(true)
        };
        match step(&mut self.bulk) {
            Err(e) if busy::classify(&e) == busy::Failure::Fatal => Err(e),
            Err(_) => Ok(false),
            Ok(indexed) => Ok(indexed),
        }
    }
}
