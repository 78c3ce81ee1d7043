//! Which spans of a run raised findings: the Run view's severity glyphs, their
//! roll-up on folded subtrees, and the jump to the next or previous flagged span.
//!
//! Flags are kept per row of a run's full tree order ([`super::tree`]), with a
//! running count of flagged rows, so whether a folded subtree hides a flagged
//! span is answered in constant time and a jump costs one pass at most.

use crate::model::Severity;
use crate::store::tree_order::TreeRow;

/// A span's findings, summarised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag {
    /// Open findings by `Severity::rank()`.
    pub open: [u32; 5],
    /// Findings already triaged (confirmed, false positive, suppressed).
    pub triaged: u32,
}

impl Flag {
    /// Counts one finding.
    pub fn add(&mut self, severity: Severity, open: bool) {
        if open {
            self.open[severity.rank() as usize] += 1;
        } else {
            self.triaged += 1;
        }
    }

    /// The worst open finding's severity.
    pub fn worst_open(&self) -> Option<Severity> {
        (0..5)
            .rev()
            .find(|&i| self.open[i] > 0)
            .map(|i| Severity::from_rank(i as i64))
    }

    /// True when any finding is counted.
    pub fn any(&self) -> bool {
        self.triaged > 0 || self.open.iter().any(|&n| n > 0)
    }

    /// Open findings as badge counts (`widgets::badges` takes `u64`s).
    pub fn open_counts(&self) -> [u64; 5] {
        self.open.map(u64::from)
    }

    fn merge(&mut self, o: &Flag) {
        for i in 0..5 {
            self.open[i] += o.open[i];
        }
        self.triaged += o.triaged;
    }
}

/// A row's own findings and, when it is folded, those of the subtree it hides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowFlags {
    pub own: Flag,
    pub hidden: Flag,
}

/// Flags of a run's full tree order.
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    /// By full-order index.
    flags: Vec<Flag>,
    /// `flagged[i]`: flagged rows among the first `i`.
    flagged: Vec<u32>,
}

impl RunFlags {
    /// Flags for `n` rows from (full-order index, severity, open) triples.
    pub fn new(n: usize, findings: impl IntoIterator<Item = (usize, Severity, bool)>) -> RunFlags {
        let mut flags = vec![Flag::default(); n];
        for (i, sev, open) in findings {
            if let Some(f) = flags.get_mut(i) {
                f.add(sev, open);
            }
        }
        let mut flagged = Vec::with_capacity(n + 1);
        flagged.push(0u32);
        for f in &flags {
            let last = flagged.last().copied().unwrap_or(0);
            flagged.push(last + f.any() as u32);
        }
        RunFlags { flags, flagged }
    }

    /// The flag of the row at full-order index `i`.
    pub fn own(&self, i: u32) -> Flag {
        self.flags.get(i as usize).copied().unwrap_or_default()
    }

    /// True when the subtree below `row` holds a flagged span.
    fn hides_flag(&self, row: &TreeRow) -> bool {
        let a = row.index as usize + 1;
        let b = (a + row.descendants as usize).min(self.flags.len());
        a < b && self.flagged[b] > self.flagged[a]
    }

    /// `row`'s flags as shown: its own, and its subtree's when `folded`.
    pub fn row(&self, row: &TreeRow, folded: bool) -> RowFlags {
        let mut hidden = Flag::default();
        if folded && self.hides_flag(row) {
            let a = row.index as usize + 1;
            let b = (a + row.descendants as usize).min(self.flags.len());
            for f in &self.flags[a..b] {
                hidden.merge(f);
            }
        }
        RowFlags {
            own: self.own(row.index),
            hidden,
        }
    }

    /// The next (or previous) row of `shown` after `from` that is flagged or
    /// hides a flagged span, wrapping around; `None` when no row is.
    /// `is_folded` says which rows are folded.
    pub fn next(
        &self,
        shown: &[TreeRow],
        is_folded: impl Fn(&TreeRow) -> bool,
        from: usize,
        forward: bool,
    ) -> Option<usize> {
        let n = shown.len();
        if n == 0 || self.flagged.last().copied().unwrap_or(0) == 0 {
            return None;
        }
        let hit = |i: usize| {
            let r = &shown[i];
            self.own(r.index).any() || (is_folded(r) && self.hides_flag(r))
        };
        (1..=n)
            .map(|step| {
                if forward {
                    (from + step) % n
                } else {
                    (from + n - step % n) % n
                }
            })
            .find(|&i| hit(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tree_order::fold;

    /// root(0) > a(1) > a1(2), a2(3); b(4) > b1(5); lone(6)
    fn rows() -> Vec<TreeRow> {
        let spec = [(0, 5), (1, 2), (2, 0), (2, 0), (1, 1), (2, 0), (0, 0)];
        spec.iter()
            .enumerate()
            .map(|(i, &(depth, descendants))| TreeRow {
                key: i as i64 + 10,
                depth,
                descendants,
                index: i as u32,
            })
            .collect()
    }

    #[test]
    fn a_fold_rolls_up_what_it_hides() {
        let f = RunFlags::new(
            7,
            [
                (2, Severity::High, true),
                (3, Severity::Critical, true),
                (3, Severity::Low, false),
                (5, Severity::Medium, true),
                (99, Severity::High, true),
            ],
        );
        let r = rows();
        assert_eq!(f.own(3).worst_open(), Some(Severity::Critical));
        assert_eq!(f.own(3).triaged, 1);
        assert!(!f.own(1).any());
        let a = f.row(&r[1], true);
        assert!(!a.own.any());
        assert_eq!(a.hidden.worst_open(), Some(Severity::Critical));
        assert_eq!(a.hidden.open_counts(), [0, 0, 0, 1, 1]);
        assert_eq!(a.hidden.triaged, 1);
        assert!(
            !f.row(&r[1], false).hidden.any(),
            "an open row hides nothing"
        );
        assert!(!f.row(&r[6], true).hidden.any(), "a leaf hides nothing");
        assert_eq!(f.row(&r[0], true).hidden.open_counts(), [0, 0, 1, 1, 1]);
    }

    #[test]
    fn jumps_go_to_flagged_rows_and_folds_that_hide_one_and_wrap() {
        let f = RunFlags::new(7, [(2, Severity::High, true), (5, Severity::Low, false)]);
        let all = rows();
        let none = |_: &TreeRow| false;
        assert_eq!(f.next(&all, none, 0, true), Some(2));
        assert_eq!(f.next(&all, none, 2, true), Some(5));
        assert_eq!(f.next(&all, none, 5, true), Some(2), "wraps");
        assert_eq!(f.next(&all, none, 2, false), Some(5), "wraps back");
        assert_eq!(f.next(&all, none, 6, false), Some(5));
        // Fold a (key 11): a2 and a1 are hidden, a itself is the stop.
        let shown = fold(&all, &[11]);
        let folded = |r: &TreeRow| r.key == 11;
        assert_eq!(f.next(&shown, folded, 0, true), Some(1));
        assert_eq!(shown[1].key, 11);
        assert_eq!(f.next(&shown, folded, 1, true), Some(3));
        let clean = RunFlags::new(7, []);
        assert_eq!(clean.next(&all, none, 0, true), None);
        assert_eq!(f.next(&[], none, 0, true), None);
    }
}
