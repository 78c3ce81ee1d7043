//! Spans' parent links as store keys (`spans.parent_key`), kept by the write
//! path, and the first rows of a run's tree read through them.
//!
//! `parent_key` is the key of the span's parent in the same run, or 0 when the
//! span is a root there (no parent id, a self-parent, or a parent not stored
//! yet); NULL only on rows stored before migration 12 and not yet resolved.
//! The write path sets it as each span is inserted ([`ADOPT_ORPHANS`] hands a
//! late parent the spans that named it before it came) and again when a
//! re-sent span names a new parent. [`Store::tree_head`] walks the index
//! `spans_tree(parent_key, run_key, start IS NULL, start, line)` from the
//! roots, so the Run view's first page reads a few hundred index entries
//! instead of ordering the whole run; the order is the one
//! [`crate::store::tree_order`] builds from the whole run (siblings in time order:
//! start, spans without one last, origin line, key).

use super::{Store, StoreError};
use crate::hash::{HashMap, HashSet};
use rusqlite::{params, OptionalExtension, Transaction};

/// After inserting span `?2` (key `?3`) into run `?1`: spans of the run that
/// named it as their parent before it was stored become its children.
pub(super) const ADOPT_ORPHANS: &str = "UPDATE spans SET parent_key=?3 \
  WHERE run_key=?1 AND parent_id=?2 AND parent_key=0 AND id<>?2";

/// Whether run `?1` holds spans that name `?2` as their parent but are
/// roots for want of it (what [`ADOPT_ORPHANS`] would change): one probe of
/// the partial index `spans_orphans`.
pub(super) const ANY_ORPHANS: &str = "SELECT EXISTS(SELECT 1 FROM spans \
  WHERE run_key=?1 AND parent_id=?2 AND parent_key=0 AND parent_id IS NOT NULL)";

/// Parent ids of run `?1`'s spans that wait for their parent: the only ids
/// a new span of the run can adopt children by. One range of `spans_orphans`.
/// The limit ([`WAITING_MAX`] + 1) is written in, not bound: SQLite reads a
/// bound `LIMIT` while planning, and then prepares the statement again after
/// every new binding (2,587 times on C20, 10% of the store thread).
const WAITING_PARENTS: &str = "SELECT parent_id FROM spans \
  WHERE run_key=?1 AND parent_key=0 AND parent_id IS NOT NULL LIMIT 1025";

/// The children of span `?2` in run `?1`, in the Run view's order: a range
/// of `spans_tree`, read in index order (no sort), so the caller stops
/// stepping after the rows it needs. SQLite prepared the statement again
/// after every new binding (471 times for 471 calls in the test
/// `the_children_query_walks_its_index_in_order_and_is_prepared_once`, with
/// the bound `LIMIT` already gone): a bound `LIMIT` is read while planning
/// (store11 measured it on [`WAITING_PARENTS`], so there is none), and so is
/// `parent_key = ?2` when checked against the partial index `spans_orphans`
/// (`WHERE parent_key = 0`), which it checks with the bound value (so the
/// value is `+?2`, an expression it does not look into; the equality still
/// uses `spans_tree`).
pub(super) const KIDS: &str = "SELECT key FROM spans WHERE parent_key = +?2 AND run_key = ?1 \
  ORDER BY start_ms IS NULL, start_ms, origin_line, key";

/// More waiting parent ids than this in one run and [`OrphanWatch`] probes
/// every new span of it instead of holding them.
const WAITING_MAX: usize = 1024;

/// Which new spans of one write transaction may have orphans waiting for
/// them, so that [`ANY_ORPHANS`] is probed for those only (one probe per span
/// was ~6% of the store thread, and almost every probe found none). A span
/// can adopt only by an id some orphan names: one stored when the
/// transaction first touched the run (read once per run, under the write
/// lock, so no other writer adds one), or one named by a span this
/// transaction wrote. A superset: a yes still probes.
#[derive(Default)]
pub(super) struct OrphanWatch<'a> {
    /// Per run key: the parent ids its stored orphans named, or `None`
    /// when there were more than [`WAITING_MAX`].
    stored: HashMap<i64, Option<HashSet<String>>>,
    /// (run key, parent id) named by spans written in this transaction.
    named: HashSet<(i64, &'a str)>,
}

impl<'a> OrphanWatch<'a> {
    /// Reads run `run_key`'s waiting parent ids the first time it is seen.
    pub(super) fn touch(&mut self, tx: &Transaction<'_>, run_key: i64) -> Result<(), StoreError> {
        if self.stored.contains_key(&run_key) {
            return Ok(());
        }
        let mut st = tx.prepare_cached(WAITING_PARENTS)?;
        let ids = st
            .query_map([run_key], |r| r.get::<_, String>(0))?
            .collect::<Result<HashSet<String>, _>>()?;
        self.stored
            .insert(run_key, (ids.len() <= WAITING_MAX).then_some(ids));
        Ok(())
    }

    /// Whether span `id`, new in run `run_key` (touched first), may have orphans waiting.
    pub(super) fn may_adopt(&self, run_key: i64, id: &'a str) -> bool {
        self.named.contains(&(run_key, id))
            || match self.stored.get(&run_key) {
                Some(Some(ids)) => ids.contains(id),
                _ => true,
            }
    }

    /// Notes the parent a span written in run `run_key` names.
    pub(super) fn name(&mut self, run_key: i64, parent_id: Option<&'a str>) {
        if let Some(p) = parent_id {
            self.named.insert((run_key, p));
        }
    }
}

/// Rows resolved per transaction by [`Store::fill_parent_keys`].
pub const FILL_BATCH: usize = 50_000;

/// One row of a run's tree read by [`Store::tree_head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadRow {
    pub key: i64,
    pub depth: u32,
    /// Whether the row's children follow it.
    pub has_children: bool,
}

impl Store {
    /// Resolves `parent_key` on at most `limit` rows written before
    /// migration 12, in one transaction; returns how many it resolved (0: none left).
    pub fn fill_parent_keys_batch(&mut self, limit: usize) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE spans SET parent_key = COALESCE((SELECT p.key FROM spans p \
               WHERE p.run_key = spans.run_key AND p.id = spans.parent_id AND p.id <> spans.id), 0) \
             WHERE key IN (SELECT key FROM spans WHERE parent_key IS NULL ORDER BY key LIMIT ?1)",
            [limit as i64],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// How many rows written before migration 12 still wait for their
    /// `parent_key` (a count of the small partial index `spans_unresolved`).
    pub fn unresolved_parent_keys(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM spans WHERE parent_key IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Resolves every unresolved `parent_key`, [`FILL_BATCH`] rows per
    /// transaction (an interrupted fill resumes where it stopped), calling
    /// `on_batch` with the rows resolved so far after each. Returns the rows resolved.
    pub fn fill_parent_keys(&mut self, on_batch: &mut dyn FnMut(u64)) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            let n = self.fill_parent_keys_batch(FILL_BATCH)?;
            total += n as u64;
            on_batch(total);
            if n < FILL_BATCH {
                return Ok(total);
            }
        }
    }

    /// The first `need` rows of `run_id`'s tree in the Run view's order and
    /// the run's span count (the run's own counter, not a count of its rows), or
    /// `None` when they cannot be read from the links alone: the run is
    /// unknown, some of its links are unresolved, or the walk from its roots
    /// ends before `need` rows without reaching all of its spans (spans in a
    /// parent cycle, which the full order lists after the tree). A row's
    /// `has_children` is exact for every row but the last of a full `need`.
    pub fn tree_head(
        &self,
        run_id: &str,
        need: usize,
    ) -> Result<Option<(u64, Vec<HeadRow>)>, StoreError> {
        let run: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT key, span_count FROM runs WHERE id = ?1")?
            .query_row([run_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((run_key, span_count)) = run else {
            return Ok(None);
        };
        let unresolved: bool = self
            .conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM spans WHERE parent_key IS NULL AND run_key = ?1)",
            )?
            .query_row([run_key], |r| r.get(0))?;
        if unresolved || need == 0 {
            return Ok(if unresolved {
                None
            } else {
                Some((span_count as u64, Vec::new()))
            });
        }
        let mut kids = self.conn.prepare_cached(KIDS)?;
        // Stepped only as far as `limit` rows: the index walk is in order, so
        // no row past them is read ([`KIDS`] has no bound `LIMIT`).
        let mut children = |parent: i64, limit: usize| -> Result<Vec<i64>, StoreError> {
            let rows = kids.query_map(params![run_key, parent], |r| r.get(0))?;
            Ok(rows.take(limit).collect::<Result<Vec<i64>, _>>()?)
        };
        let mut out: Vec<HeadRow> = Vec::with_capacity(need);
        // Depth-first: the stack holds (key, depth), the next row on top.
        let mut stack: Vec<(i64, u32)> = children(0, need)?
            .into_iter()
            .rev()
            .map(|k| (k, 0))
            .collect();
        while let Some((key, depth)) = stack.pop() {
            out.push(HeadRow {
                key,
                depth,
                has_children: false,
            });
            if out.len() == need {
                break;
            }
            let below = children(key, need - out.len())?;
            if let Some(last) = out.last_mut() {
                last.has_children = !below.is_empty();
            }
            stack.extend(below.into_iter().rev().map(|k| (k, depth + 1)));
        }
        if out.len() < need {
            let all: i64 = self
                .conn
                .prepare_cached("SELECT count(*) FROM spans WHERE run_key = ?1")?
                .query_row([run_key], |r| r.get(0))?;
            if all as usize != out.len() {
                return Ok(None);
            }
            return Ok(Some((out.len() as u64, out)));
        }
        Ok(Some((span_count as u64, out)))
    }
}

#[cfg(test)]
mod tests;
