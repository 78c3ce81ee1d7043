//! The Run view's tree cache: a run's spans in tree order
//! ([`crate::tui::tree`]) with each span's findings ([`crate::tui::flags`]),
//! kept until the run or the store's `data_version` changes, and the page of
//! it on screen read by key.

use super::Source;
use crate::store::StoreError;
use crate::tui::data::SpanItem;
use crate::tui::flags::{RowFlags, RunFlags};
use crate::tui::timing;
use crate::tui::tree::{fold, tree_order_of, TreeRow};
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
