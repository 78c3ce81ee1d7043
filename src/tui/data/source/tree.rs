//! The Run view's tree cache: a run's spans in tree order
//! ([`crate::store::tree_order`]) with each span's findings ([`crate::tui::flags`]),
//! kept until the run or the store's `data_version` changes, and the page of
//! it on screen read by key. A run's first page, unfolded, comes from the top
//! of its tree ([`crate::store::Store::tree_head`]) while the order is not
//! built yet; the worker builds it when idle.

use super::Source;
use crate::store::tree_order::{fold, tree_order_of, TreeRow};
use crate::store::StoreError;
use crate::tui::data::SpanItem;
use crate::tui::flags::{Flag, RowFlags, RunFlags};
use crate::tui::timing;
use std::collections::HashMap;
use std::time::Instant;

/// A run's spans in tree order with their findings, valid while the store's
/// `data_version` is `version`.
pub(super) struct TreeCache {
    pub(super) run_id: String,
    pub(super) version: Option<i64>,
    pub(super) rows: Vec<TreeRow>,
    /// The rows shown with some spans folded, and which spans those were.
    pub(super) shown: Option<(Vec<i64>, Vec<TreeRow>)>,
    pub(super) flags: RunFlags,
}

impl Source {
    /// `run_id`'s spans in tree order with their findings: built from the
    /// run's skeleton on first use and again after the store changed (or when `rebuild`).
    pub(super) fn tree(&mut self, run_id: &str, rebuild: bool) -> Result<&TreeCache, StoreError> {
        let version = self.data_version();
        let fresh =
            matches!(&self.tree, Some(t) if !rebuild && t.run_id == run_id && t.version == version);
        if !fresh {
            let built = Instant::now();
            self.tree = None;
            let s = self.reader()?;
            let t = Instant::now();
            let links = s.span_skeleton_packed(run_id)?;
            timing::phase("tree skeleton", t);
            let t = Instant::now();
            let rows = tree_order_of(&links);
            timing::phase("tree order", t);
            let t = Instant::now();
            let found = s.span_flags(run_id)?;
            timing::phase("tree span_flags", t);
            let t = Instant::now();
            // Each flagged span's place in the order, found in one pass over
            // the rows (a run has far fewer findings than spans).
            let mut at: HashMap<i64, usize> =
                found.iter().map(|f| (f.span_key, usize::MAX)).collect();
            if !at.is_empty() {
                for r in &rows {
                    if let Some(i) = at.get_mut(&r.key) {
                        *i = r.index as usize;
                    }
                }
            }
            let flags = RunFlags::new(
                rows.len(),
                found.iter().filter_map(|f| {
                    let i = *at.get(&f.span_key)?;
                    Some((i, f.severity, f.open))
                }),
            );
            timing::phase("tree flags", t);
            self.tree = Some(TreeCache {
                run_id: run_id.to_string(),
                version,
                rows,
                shown: None,
                flags,
            });
            drop(links);
            timing::phase("tree built (with drops)", built);
        }
        self.tree
            .as_ref()
            .ok_or_else(|| StoreError::NotFound("tree: not built".into()))
    }

    /// `run_id`'s tree as shown with the subtrees of `folded` left out.
    pub(super) fn shown(
        &mut self,
        run_id: &str,
        folded: &[i64],
        rebuild: bool,
    ) -> Result<(&[TreeRow], &RunFlags), StoreError> {
        self.tree(run_id, rebuild)?;
        let Some(t) = self.tree.as_mut() else {
            return Err(StoreError::NotFound("tree: not built".into()));
        };
        if folded.is_empty() {
            return Ok((&t.rows, &t.flags));
        }
        if t.shown.as_ref().map(|(f, _)| f.as_slice()) != Some(folded) {
            t.shown = Some((folded.to_vec(), fold(&t.rows, folded)));
        }
        let rows = t.shown.as_ref().map(|(_, r)| r.as_slice()).unwrap_or(&[]);
        Ok((rows, &t.flags))
    }

    /// Builds the order of the run whose first page came from the top of its
    /// tree, if any (the worker calls this when its queue is empty).
    pub fn idle(&mut self) -> Result<(), StoreError> {
        if let Some(run_id) = self.pending_tree.take() {
            self.tree(&run_id, false)?;
        }
        Ok(())
    }

    /// Whether `run_id`'s order is built and current.
    fn tree_fresh(&mut self, run_id: &str) -> bool {
        let version = self.data_version();
        matches!(&self.tree, Some(t) if t.run_id == run_id && t.version == version)
    }

    /// The first `limit` rows of `run_id`'s tree, unfolded, read from the top
    /// of the tree, and the run's span count; `None` when the store cannot
    /// say them without the full order ([`crate::store::Store::tree_head`]).
    /// A row with children carries `descendants: 1` (the exact count comes
    /// with the full order, which every folded page is read from).
    fn head_page(
        &mut self,
        run_id: &str,
        limit: usize,
    ) -> Result<Option<(u64, Vec<SpanItem>)>, StoreError> {
        let s = self.reader()?;
        let t = Instant::now();
        // One row more: the last row's children are looked up only below a full page.
        let Some((total, head)) = s.tree_head(run_id, limit + 1)? else {
            return Ok(None);
        };
        timing::phase("tree head", t);
        let keys: Vec<i64> = head.iter().take(limit).map(|h| h.key).collect();
        let mut own: HashMap<i64, Flag> = HashMap::new();
        for f in s.span_flags(run_id)? {
            own.entry(f.span_key).or_default().add(f.severity, f.open);
        }
        let t = Instant::now();
        let rows = s.spans_by_keys(&keys)?;
        timing::phase("tree page rows", t);
        if rows.len() != keys.len() {
            return Ok(None);
        }
        let out = rows
            .into_iter()
            .zip(&head)
            .enumerate()
            .map(|(i, (row, h))| {
                let tree = TreeRow {
                    key: h.key,
                    depth: h.depth,
                    descendants: u32::from(h.has_children),
                    index: i as u32,
                };
                let flags = RowFlags {
                    own: own.get(&h.key).copied().unwrap_or_default(),
                    hidden: Flag::default(),
                };
                (row, tree, flags)
            })
            .collect();
        Ok(Some((total, out)))
    }

    /// Rows `[offset, offset + limit)` of `run_id`'s tree as shown (with
    /// `folded` subtrees left out), with their places in the tree and their
    /// findings, and how many rows are shown. A span gone since the order was
    /// built (a write slipped in before the version poll saw it) rebuilds the order once.
    pub(super) fn tree_page(
        &mut self,
        run_id: &str,
        folded: &[i64],
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<SpanItem>), StoreError> {
        if offset == 0 && folded.is_empty() && !self.tree_fresh(run_id) {
            if let Some(page) = self.head_page(run_id, limit)? {
                self.pending_tree = Some(run_id.to_string());
                return Ok(page);
            }
        }
        let mut rebuild = false;
        loop {
            let (tree, flags) = self.shown(run_id, folded, rebuild)?;
            let total = tree.len() as u64;
            let page: Vec<(TreeRow, RowFlags)> = tree
                .iter()
                .skip(offset)
                .take(limit)
                .map(|r| (*r, flags.row(r, folded.binary_search(&r.key).is_ok())))
                .collect();
            let keys: Vec<i64> = page.iter().map(|(r, _)| r.key).collect();
            let t = Instant::now();
            let rows = self.reader()?.spans_by_keys(&keys)?;
            timing::phase("tree page rows", t);
            if rows.len() == keys.len() || rebuild {
                let mut rows = rows.into_iter().peekable();
                let mut out = Vec::with_capacity(page.len());
                for (r, f) in page {
                    if rows.peek().is_some_and(|s| s.rowid == r.key) {
                        if let Some(s) = rows.next() {
                            out.push((s, r, f));
                        }
                    }
                }
                return Ok((total, out));
            }
            rebuild = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Source;
    use crate::model::{Finding, Origin, Severity, Span, SpanKind};
    use crate::redact::{Mode, Redactor};
    use crate::store::{Store, StoreBatch};

    /// Run `r1`: 150 spans under parents that come before or after them,
    /// findings on three of them.
    fn store(path: &std::path::Path) {
        let mut spans: Vec<Span> = (0..150u64)
            .map(|i| {
                let mut s = Span::new(
                    format!("s{i}"),
                    "r1",
                    SpanKind::Tool,
                    "n",
                    Origin::new("/x/f.jsonl", i + 1),
                );
                // A heap by rank r(i) = (7i + 3) mod 150 (parent: the span of rank
                // r / 3, written before or after its child), every 13th rank a root.
                let r = (i * 7 + 3) % 150;
                let parent = (r % 13 != 0).then(|| ((r / 3 + 150 - 3) * 43) % 150);
                s.parent_id = parent.map(|p| format!("s{p}"));
                s.start_ms = Some(((i * 37) % 11) as i64);
                s
            })
            .collect();
        spans.reverse();
        let finding = |fp: &str, span: &str, severity| Finding {
            rule_id: "EXF-TRACE-003".into(),
            severity,
            confidence: 0.9,
            run_id: "r1".into(),
            span_ids: vec![span.into()],
            title: "t".into(),
            message: "m".into(),
            evidence: "e".into(),
            fingerprint: fp.into(),
            origin: None,
            skill_id: None,
            ts_ms: Some(5),
            related: vec![],
        };
        let mut r = Redactor::new(Mode::Mask);
        let batch = StoreBatch {
            spans: spans.into_iter().map(|s| r.redact_span(s).0).collect(),
            findings: [
                finding("f1", "s0", Severity::High),
                finding("f2", "s3", Severity::Low),
                finding("f3", "s3", Severity::Critical),
                finding("f4", "s140", Severity::Medium),
            ]
            .into_iter()
            .map(|f| r.redact_finding(f))
            .collect(),
            ..Default::default()
        };
        Store::open(path)
            .expect("open")
            .write(&batch)
            .expect("write");
    }

    #[test]
    fn the_first_page_from_the_top_of_the_tree_is_the_full_orders_first_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        store(&path);
        let mut src = Source::open(&path).expect("source");
        for limit in [1, 7, 40, 150, 200] {
            src.tree = None;
            let (total, head) = src.tree_page("r1", &[], 0, limit).expect("head page");
            assert!(src.tree.is_none(), "no full order before the first page");
            assert_eq!(src.pending_tree.as_deref(), Some("r1"));
            src.idle().expect("idle");
            assert!(src.pending_tree.is_none());
            assert!(src.tree.is_some(), "the order is built when idle");
            let (full_total, full) = src.tree_page("r1", &[], 0, limit).expect("full page");
            assert_eq!(total, full_total);
            assert_eq!(total, 150);
            assert_eq!(head.len(), full.len());
            assert_eq!(head.len(), limit.min(150));
            for ((a, ta, fa), (b, tb, fb)) in head.iter().zip(&full) {
                assert_eq!(a.rowid, b.rowid);
                assert_eq!(a.span.id, b.span.id);
                assert_eq!((ta.key, ta.depth, ta.index), (tb.key, tb.depth, tb.index));
                assert_eq!(ta.descendants > 0, tb.descendants > 0, "{}", a.span.id);
                assert_eq!(fa, fb, "{}", a.span.id);
            }
            if limit >= 150 {
                let flagged = head.iter().filter(|(_, _, f)| f.own.any()).count();
                assert_eq!(flagged, 3, "every flagged span on the whole run's page");
            }
        }
        // A folded page and a later page come from the full order.
        src.tree = None;
        let (_, page) = src.tree_page("r1", &[], 40, 20).expect("later page");
        assert_eq!(page.len(), 20);
        assert!(src.tree.is_some());
    }
}
