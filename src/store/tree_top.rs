//! A run's tree read from the top, a row at a time (the Run view's first
//! page): roots by the run's time index, each span's children by the
//! `spans_run_parent` index, so the first rows of a 100,000-span run cost a
//! few hundred indexed look-ups instead of reading and ordering the whole run.
//!
//! The order is [`crate::tui::tree::tree_order`]'s: depth-first, siblings
//! and roots in time order (start, spans without one last, then origin line,
//! then key); a span whose parent is missing from the run, or is itself, is a
//! root. Spans caught in a parent cycle are reached from no root: the walk
//! says when it cannot place every span, and the caller orders the whole run.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

/// One row of a run's tree read from the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopRow {
    /// The span's store key ([`crate::store::SpanRow::rowid`]).
    pub key: i64,
    pub id: String,
    pub depth: u32,
    /// The span has children in the tree (the next row is one of them).
    pub has_children: bool,
}

/// Where a walk over siblings stands: after this place in time order.
#[derive(Debug, Clone, Copy)]
struct After {
    /// Past every sibling with a start time (now among those without).
    no_start: bool,
    start: i64,
    line: i64,
    key: i64,
}

impl After {
    const FIRST: After = After {
        no_start: false,
        start: i64::MIN,
        line: i64::MIN,
        key: i64::MIN,
    };
}

/// Children of `?2` in the run `?1`, after a place in time order.
const CHILD_TIMED: &str = "SELECT key, id, start_ms, origin_line FROM spans \
    WHERE run_key = ?1 AND parent_id = ?2 AND id <> ?2 AND start_ms IS NOT NULL \
    AND (start_ms, origin_line, key) > (?3, ?4, ?5) ORDER BY start_ms, origin_line, key LIMIT 1";
const CHILD_UNTIMED: &str = "SELECT key, id, start_ms, origin_line FROM spans \
    WHERE run_key = ?1 AND parent_id = ?2 AND id <> ?2 AND start_ms IS NULL \
    AND (origin_line, key) > (?4, ?5) ORDER BY origin_line, key LIMIT 1";
/// A root: no parent, itself as parent, or a parent the run does not hold.
const ROOT: &str = "(s.parent_id IS NULL OR s.parent_id = s.id OR NOT EXISTS \
    (SELECT 1 FROM spans p WHERE p.run_key = ?1 AND p.id = s.parent_id))";

impl Store {
    /// The run's span count and the first `n` rows of its tree (fewer when
    /// the run holds fewer), or `None` when some of those rows hang off a
    /// parent cycle (only the whole run's order places them).
    pub fn tree_top(
        &self,
        run_id: &str,
        n: usize,
    ) -> Result<Option<(u64, Vec<TopRow>)>, StoreError> {
        let run_key: Option<i64> = self
            .conn
            .prepare_cached("SELECT key FROM runs WHERE id = ?1")?
            .query_row([run_id], |r| r.get(0))
            .optional()?;
        let Some(run_key) = run_key else {
            return Ok(Some((0, Vec::new())));
        };
        let total = self.span_count(run_id)?;
        let mut out: Vec<TopRow> = Vec::new();
        let mut roots = After::FIRST;
        // The open path from a root: (span id, depth, its next child's place).
        let mut path: Vec<(String, u32, After)> = Vec::new();
        // One row more than asked tells whether the last asked row has children.
        while out.len() <= n {
            let (found, depth) = match path.last_mut() {
                Some((id, depth, after)) => (self.next_child(run_key, id, after)?, *depth + 1),
                None => (self.next_root(run_key, &mut roots)?, 0),
            };
            match found {
                Some((key, id)) => {
                    if let Some(prev) = out.last_mut() {
                        prev.has_children = depth > prev.depth;
                    }
                    out.push(TopRow {
                        key,
                        id: id.clone(),
                        depth,
                        has_children: false,
                    });
                    path.push((id, depth, After::FIRST));
                }
                None if path.is_empty() => break,
                None => {
                    path.pop();
                }
            }
        }
        if out.len() < n && (out.len() as u64) < total {
            return Ok(None);
        }
        out.truncate(n);
        Ok(Some((total, out)))
    }

    /// The child of `parent` after `after` in time order (moving `after` past it).
    fn next_child(
        &self,
        run_key: i64,
        parent: &str,
        after: &mut After,
    ) -> Result<Option<(i64, String)>, StoreError> {
        self.next_after(CHILD_TIMED, CHILD_UNTIMED, run_key, parent, after)
    }

    /// The root after `after` in time order (moving `after` past it).
    fn next_root(
        &self,
        run_key: i64,
        after: &mut After,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let timed = format!(
            "SELECT key, id, start_ms, origin_line FROM spans s WHERE run_key = ?1 AND ?2 = ?2 \
             AND start_ms IS NOT NULL AND (start_ms, origin_line, key) > (?3, ?4, ?5) AND {ROOT} \
             ORDER BY start_ms, origin_line, key LIMIT 1"
        );
        let untimed = format!(
            "SELECT key, id, start_ms, origin_line FROM spans s WHERE run_key = ?1 AND ?2 = ?2 \
             AND start_ms IS NULL AND (origin_line, key) > (?4, ?5) AND {ROOT} \
             ORDER BY origin_line, key LIMIT 1"
        );
        self.next_after(&timed, &untimed, run_key, "", after)
    }

    /// The first span `timed` (then `untimed`, once the timed ones are
    /// past) finds after `after`, moving `after` past it.
    fn next_after(
        &self,
        timed: &str,
        untimed: &str,
        run_key: i64,
        parent: &str,
        after: &mut After,
    ) -> Result<Option<(i64, String)>, StoreError> {
        type Hit = (i64, String, Option<i64>, i64);
        let row = |r: &rusqlite::Row| -> rusqlite::Result<Hit> {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        };
        let p = params![run_key, parent, after.start, after.line, after.key];
        let mut hit: Option<Hit> = None;
        if !after.no_start {
            hit = self
                .conn
                .prepare_cached(timed)?
                .query_row(p, row)
                .optional()?;
            if hit.is_none() {
                *after = After {
                    no_start: true,
                    ..After::FIRST
                };
            }
        }
        if hit.is_none() {
            let p = params![run_key, parent, after.start, after.line, after.key];
            hit = self
                .conn
                .prepare_cached(untimed)?
                .query_row(p, row)
                .optional()?;
        }
        Ok(hit.map(|(key, id, start, line)| {
            *after = After {
                no_start: start.is_none(),
                start: start.unwrap_or(i64::MIN),
                line,
                key,
            };
            (key, id)
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Origin, Span, SpanKind};
    use crate::redact::{Mode, Redactor};
    use crate::store::{Store, StoreBatch};
    use crate::tui::tree::tree_order;

    /// A run "r" of spans (id, parent, start, origin line).
    fn store(spans: &[(&str, Option<&str>, Option<i64>, u64)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = Store::open(&dir.path().join("s.db")).expect("open");
        let mut r = Redactor::new(Mode::Mask);
        let spans = spans
            .iter()
            .map(|(id, parent, start, line)| {
                let mut sp = Span::new(
                    *id,
                    "r",
                    SpanKind::Tool,
                    "n",
                    Origin::new("/x.jsonl", *line),
                );
                sp.parent_id = parent.map(str::to_string);
                sp.start_ms = *start;
                r.redact_span(sp).0
            })
            .collect();
        s.write(&StoreBatch {
            spans,
            ..Default::default()
        })
        .expect("write");
        (dir, s)
    }

    /// The walk's first `n` rows against the whole run's order.
    fn same_as_full_order(s: &Store, n: usize) -> Option<usize> {
        let full = tree_order(&s.span_skeleton("r").expect("skeleton"));
        let (total, top) = s.tree_top("r", n).expect("walk")?;
        assert_eq!(total, full.len() as u64);
        assert_eq!(top.len(), n.min(full.len()));
        for (i, (t, f)) in top.iter().zip(&full).enumerate() {
            assert_eq!((t.key, t.depth), (f.key, f.depth), "row {i}");
            assert_eq!(t.has_children, f.descendants > 0, "row {i}");
        }
        Some(top.len())
    }

    #[test]
    fn the_walk_gives_the_full_orders_first_rows_for_every_shape() {
        let (_d, s) = store(&[
            ("late-root", None, Some(900), 1),
            ("a", None, Some(100), 2),
            ("a2", Some("a"), Some(300), 3),
            ("a1", Some("a"), Some(200), 4),
            ("a1x", Some("a1"), None, 5),
            ("a1y", Some("a1"), Some(250), 6),
            ("a1z", Some("a1"), None, 4),
            ("orphan", Some("gone"), Some(150), 7),
            ("selfish", Some("selfish"), Some(150), 8),
            ("same-time", Some("a"), Some(300), 2),
            ("no-start-root", None, None, 9),
            ("deep1", Some("no-start-root"), Some(5), 10),
            ("deep2", Some("deep1"), Some(6), 11),
        ]);
        for n in [0, 1, 2, 3, 5, 8, 13, 50] {
            assert!(same_as_full_order(&s, n).is_some(), "n = {n}");
        }
        assert_eq!(
            s.tree_top("none", 5).expect("no run"),
            Some((0, Vec::new()))
        );
    }

    #[test]
    fn rows_in_a_parent_cycle_send_the_caller_to_the_full_order() {
        let (_d, s) = store(&[
            ("root", None, Some(1), 1),
            ("kid", Some("root"), Some(2), 2),
            ("c1", Some("c2"), Some(3), 3),
            ("c2", Some("c1"), Some(4), 4),
        ]);
        // The proper tree's two rows come from the walk; the cycle's do not.
        assert_eq!(same_as_full_order(&s, 2), Some(2));
        assert_eq!(s.tree_top("r", 3).expect("walk"), None);
    }
}
