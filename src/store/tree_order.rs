//! The order a run's spans are shown in (the Run view, and the check of the
//! store's walk from the top of the tree): depth-first by parent, each span
//! directly followed by its children.
//!
//! Siblings (and roots) keep the time order [`crate::store::Store::spans`]
//! pages in: start (spans without one last), then origin line, then store key.
//! A span whose parent is not in the run is a root (an orphan keeps its place
//! in time among the roots). Trace formats can produce garbage, so a
//! self-parent counts as no parent, and spans caught in a parent cycle (which
//! no root reaches) are listed after the proper tree, each cycle opened at its
//! earliest member. The walk is iterative: a chain 100,000 spans deep costs
//! no stack.

use super::{Skeleton, SpanLink};
use crate::hash::HashMap;

/// One row of the Run view's list: a span's store key, its depth in the tree
/// and how many rows its subtree holds below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TreeRow {
    pub key: i64,
    pub depth: u32,
    /// The rows right after this one that are its descendants.
    pub descendants: u32,
    /// This row's place in the full order (folding leaves it as it was).
    pub index: u32,
}

/// A run's spans as the order reads them: by position, each span's key,
/// id, parent id, start and origin line.
pub trait Links {
    fn count(&self) -> usize;
    fn key(&self, i: usize) -> i64;
    fn id(&self, i: usize) -> &str;
    fn parent_id(&self, i: usize) -> Option<&str>;
    /// (no start, start, origin line, key): the time order's sort key.
    fn time(&self, i: usize) -> (bool, i64, i64, i64);
}

impl Links for [SpanLink] {
    fn count(&self) -> usize {
        self.len()
    }
    fn key(&self, i: usize) -> i64 {
        self[i].key
    }
    fn id(&self, i: usize) -> &str {
        &self[i].id
    }
    fn parent_id(&self, i: usize) -> Option<&str> {
        self[i].parent_id.as_deref()
    }
    fn time(&self, i: usize) -> (bool, i64, i64, i64) {
        let l = &self[i];
        (
            l.start_ms.is_none(),
            l.start_ms.unwrap_or(0),
            l.origin_line,
            l.key,
        )
    }
}

impl Links for Skeleton {
    fn count(&self) -> usize {
        self.len()
    }
    fn key(&self, i: usize) -> i64 {
        self.get(i).map_or(0, |l| l.0)
    }
    fn id(&self, i: usize) -> &str {
        self.get(i).map_or("", |l| l.1)
    }
    fn parent_id(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|l| l.2)
    }
    fn time(&self, i: usize) -> (bool, i64, i64, i64) {
        self.get(i).map_or((true, 0, 0, 0), |l| {
            (l.3.is_none(), l.3.unwrap_or(0), l.4, l.0)
        })
    }
}

/// The depth-first order of a run's spans (every span exactly once).
pub fn tree_order(links: &[SpanLink]) -> Vec<TreeRow> {
    tree_order_of(links)
}

/// [`tree_order`] over any [`Links`] (the Run view reads a packed [`Skeleton`]).
pub fn tree_order_of<L: Links + ?Sized>(links: &L) -> Vec<TreeRow> {
    let n = links.count();
    // Time order: the order of roots and of each span's children.
    // (Sorted as one compact array: much faster than comparing through `links`.)
    let mut sort_keys: Vec<(bool, i64, i64, i64, u32)> = (0..n)
        .map(|i| {
            let (none, start, line, key) = links.time(i);
            (none, start, line, key, i as u32)
        })
        .collect();
    sort_keys.sort_unstable();
    let by_time: Vec<u32> = sort_keys.into_iter().map(|k| k.4).collect();
    // From here on a span is named by its rank in time order.
    let mut ids: HashMap<&str, u32> = HashMap::with_capacity_and_hasher(n, Default::default());
    for (rank, &i) in by_time.iter().enumerate() {
        ids.insert(links.id(i as usize), rank as u32);
    }
    let parent: Vec<Option<u32>> = by_time
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let p = links.parent_id(i as usize)?;
            ids.get(p).copied().filter(|&p| p != rank as u32)
        })
        .collect();
    // Children lists in one array (CSR): `first[p]..first[p + 1]` in `kids`,
    // filled in time order so siblings stay in time order.
    let mut first = vec![0u32; n + 1];
    for p in parent.iter().flatten() {
        first[*p as usize + 1] += 1;
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut kids = vec![0u32; n];
    for (rank, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            kids[fill[*p as usize] as usize] = rank as u32;
            fill[*p as usize] += 1;
        }
    }
    let mut visited = vec![false; n];
    let mut out = Vec::with_capacity(n);
    let mut stack: Vec<(u32, u32)> = Vec::new();
    let mut walk = |start: u32, visited: &mut Vec<bool>, out: &mut Vec<TreeRow>| {
        stack.push((start, 0));
        while let Some((node, depth)) = stack.pop() {
            let v = node as usize;
            if visited[v] {
                continue;
            }
            visited[v] = true;
            out.push(TreeRow {
                key: links.key(by_time[v] as usize),
                depth,
                descendants: 0,
                index: out.len() as u32,
            });
            let children = &kids[first[v] as usize..first[v + 1] as usize];
            // Pushed last-first so the earliest child is walked next.
            for &c in children.iter().rev() {
                if !visited[c as usize] {
                    stack.push((c, depth.saturating_add(1)));
                }
            }
        }
    };
    for (rank, p) in parent.iter().enumerate() {
        if p.is_none() {
            walk(rank as u32, &mut visited, &mut out);
        }
    }
    // What is left hangs off a parent cycle: climb from the earliest such span
    // until a span repeats (it is on the cycle) and open the cycle there.
    let mut seen_in = vec![u32::MAX; n];
    for rank in 0..n {
        if visited[rank] {
            continue;
        }
        let mut cur = rank;
        while seen_in[cur] != rank as u32 {
            seen_in[cur] = rank as u32;
            match parent[cur] {
                Some(p) if !visited[p as usize] => cur = p as usize,
                _ => break,
            }
        }
        walk(cur as u32, &mut visited, &mut out);
    }
    count_descendants(&mut out);
    out
}

/// Fills each row's `descendants`: in depth-first order a subtree is the run
/// of rows after its root that are deeper than it.
fn count_descendants(rows: &mut [TreeRow]) {
    let mut open: Vec<usize> = Vec::new();
    for i in 0..rows.len() {
        while let Some(&top) = open.last() {
            if rows[top].depth < rows[i].depth {
                break;
            }
            rows[top].descendants = (i - top - 1) as u32;
            open.pop();
        }
        open.push(i);
    }
    let n = rows.len();
    for top in open {
        rows[top].descendants = (n - top - 1) as u32;
    }
}

/// The rows still shown when the spans in `folded` (store keys, sorted) have
/// their subtrees folded away: a folded span stays, its descendants go.
pub fn fold(rows: &[TreeRow], folded: &[i64]) -> Vec<TreeRow> {
    let mut out = Vec::with_capacity(rows.len());
    let mut i = 0;
    while let Some(r) = rows.get(i) {
        out.push(*r);
        i += 1;
        if r.descendants > 0 && folded.binary_search(&r.key).is_ok() {
            i += r.descendants as usize;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spans as (id, parent, start); origin line = position, key = position + 1.
    fn links(spec: &[(&str, Option<&str>, Option<i64>)]) -> Vec<SpanLink> {
        spec.iter()
            .enumerate()
            .map(|(i, (id, parent, start))| SpanLink {
                key: i as i64 + 1,
                id: id.to_string(),
                parent_id: parent.map(String::from),
                start_ms: *start,
                origin_line: i as i64,
            })
            .collect()
    }

    /// A root with two branches of two leaves each, listed out of time order.
    const TWO_BRANCHES: [(&str, Option<&str>, Option<i64>); 6] = [
        ("a2", Some("a"), Some(50)),
        ("root", None, Some(0)),
        ("b1", Some("b"), Some(40)),
        ("a", Some("root"), Some(10)),
        ("a1", Some("a"), Some(30)),
        ("b", Some("root"), Some(20)),
    ];

    /// The order as "id/depth" strings.
    fn order(l: &[SpanLink]) -> Vec<String> {
        let by_key: HashMap<i64, &str> = l.iter().map(|s| (s.key, s.id.as_str())).collect();
        tree_order(l)
            .into_iter()
            .map(|r| format!("{}/{}", by_key[&r.key], r.depth))
            .collect()
    }

    #[test]
    fn children_follow_their_parent_even_when_they_start_later() {
        // Time order: root a b a1 b1 a2 — a2 started after b's subtree.
        let l = links(&TWO_BRANCHES);
        assert_eq!(order(&l), ["root/0", "a/1", "a1/2", "a2/2", "b/1", "b1/2"]);
    }

    #[test]
    fn orphans_are_roots_in_time_order() {
        let l = links(&[
            ("r1", None, Some(0)),
            ("o1", Some("gone"), Some(5)),
            ("c", Some("r1"), Some(10)),
            ("o1c", Some("o1"), Some(12)),
            ("r2", None, Some(7)),
            ("late", Some("elsewhere"), None),
        ]);
        assert_eq!(
            order(&l),
            ["r1/0", "c/1", "o1/0", "o1c/1", "r2/0", "late/0"]
        );
    }

    #[test]
    fn a_self_parent_is_a_root() {
        let l = links(&[("x", Some("x"), Some(3)), ("y", Some("x"), Some(1))]);
        assert_eq!(order(&l), ["x/0", "y/1"]);
    }

    #[test]
    fn a_cycle_is_listed_once_after_the_tree_opened_at_its_earliest_member() {
        // p -> q -> r -> p, with t hanging off q and a proper root z.
        let l = links(&[
            ("t", Some("q"), Some(1)),
            ("q", Some("p"), Some(4)),
            ("p", Some("r"), Some(3)),
            ("z", None, Some(9)),
            ("r", Some("q"), Some(5)),
        ]);
        let o = order(&l);
        assert_eq!(o.len(), 5, "{o:?}");
        assert_eq!(o[0], "z/0");
        // Climbing from t (the earliest left over) goes q → p → r → q: the cycle
        // opens at q, where the climb repeats; q's children t and r follow in time order.
        assert_eq!(&o[1..], ["q/0", "t/1", "r/1", "p/2"]);
    }

    #[test]
    fn a_two_cycle_and_self_contained_garbage_terminate() {
        let l = links(&[("a", Some("b"), Some(2)), ("b", Some("a"), Some(1))]);
        assert_eq!(order(&l), ["b/0", "a/1"]);
    }

    #[test]
    fn a_chain_ten_thousand_deep_needs_no_stack() {
        let n = 10_000;
        let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        // Listed deepest first and started in reverse, so time order is upside down.
        let l: Vec<SpanLink> = (0..n)
            .rev()
            .map(|i| SpanLink {
                key: i as i64 + 1,
                id: ids[i].clone(),
                parent_id: i.checked_sub(1).map(|p| ids[p].clone()),
                start_ms: Some((n - i) as i64),
                origin_line: 0,
            })
            .collect();
        let t = tree_order(&l);
        assert_eq!(t.len(), n);
        for (i, r) in t.iter().enumerate() {
            assert_eq!((r.key, r.depth), (i as i64 + 1, i as u32));
        }
    }

    #[test]
    fn ties_break_by_missing_start_then_line_then_key() {
        let mk = |key, id: &str, start, line| SpanLink {
            key,
            id: id.into(),
            parent_id: Some("root".into()),
            start_ms: start,
            origin_line: line,
        };
        let l = vec![
            mk(9, "none", None, 0),
            mk(5, "k5", Some(10), 2),
            mk(4, "k4", Some(10), 2),
            mk(7, "line1", Some(10), 1),
            mk(8, "early", Some(5), 9),
            SpanLink {
                key: 1,
                id: "root".into(),
                parent_id: None,
                start_ms: None,
                origin_line: 0,
            },
        ];
        assert_eq!(
            order(&l),
            ["root/0", "early/1", "line1/1", "k4/1", "k5/1", "none/1"]
        );
    }

    #[test]
    fn empty_run_is_an_empty_list() {
        assert!(tree_order(&[]).is_empty());
        assert!(fold(&[], &[1]).is_empty());
    }

    #[test]
    fn descendants_count_each_subtree_and_folding_hides_exactly_it() {
        let mut spec = TWO_BRANCHES.to_vec();
        spec.push(("lone", None, Some(60)));
        let l = links(&spec);
        let rows = tree_order(&l);
        let by_key: HashMap<i64, &str> = l.iter().map(|s| (s.key, s.id.as_str())).collect();
        let named = |rows: &[TreeRow]| -> Vec<String> {
            rows.iter()
                .map(|r| format!("{}+{}", by_key[&r.key], r.descendants))
                .collect()
        };
        assert_eq!(
            named(&rows),
            ["root+5", "a+2", "a1+0", "a2+0", "b+1", "b1+0", "lone+0"]
        );
        let key = |id: &str| l.iter().find(|s| s.id == id).map(|s| s.key).unwrap_or(0);
        let mut folded = vec![key("a")];
        assert_eq!(
            named(&fold(&rows, &folded)),
            ["root+5", "a+2", "b+1", "b1+0", "lone+0"]
        );
        // Folding inside a folded subtree changes nothing more; a leaf cannot fold.
        folded.extend([key("a1"), key("lone")]);
        folded.sort_unstable();
        assert_eq!(fold(&rows, &folded).len(), 5);
        folded.push(key("root"));
        folded.sort_unstable();
        assert_eq!(named(&fold(&rows, &folded)), ["root+5", "lone+0"]);
    }

    #[test]
    fn a_deep_chain_counts_its_descendants() {
        let mut spec: Vec<(String, Option<String>)> = vec![("n0".into(), None)];
        for i in 1..2_000 {
            spec.push((format!("n{i}"), Some(format!("n{}", i - 1))));
        }
        let l: Vec<SpanLink> = spec
            .iter()
            .enumerate()
            .map(|(i, (id, p))| SpanLink {
                key: i as i64 + 1,
                id: id.clone(),
                parent_id: p.clone(),
                start_ms: Some(i as i64),
                origin_line: i as i64,
            })
            .collect();
        let rows = tree_order(&l);
        assert_eq!(rows[0].descendants, 1_999);
        assert_eq!(rows[1_000].descendants, 999);
        assert_eq!(rows[1_999].descendants, 0);
        assert_eq!(fold(&rows, &[rows[10].key]).len(), 11);
    }

    #[test]
    fn a_packed_skeleton_orders_exactly_as_its_links() {
        // Siblings out of time order, an orphan, a self-parent, a missing start and a cycle.
        let l = links(&[
            ("a2", Some("a"), Some(50)),
            ("root", None, Some(0)),
            ("b1", Some("b"), Some(40)),
            ("a", Some("root"), Some(10)),
            ("a1", Some("a"), None),
            ("b", Some("root"), Some(20)),
            ("orphan", Some("gone"), Some(5)),
            ("me", Some("me"), Some(7)),
            ("q", Some("p"), Some(4)),
            ("p", Some("q"), Some(3)),
        ]);
        let mut packed = Skeleton::default();
        for s in &l {
            packed.push(
                s.key,
                &s.id,
                s.parent_id.as_deref(),
                s.start_ms,
                s.origin_line,
            );
        }
        assert_eq!(packed.len(), l.len());
        assert_eq!(packed.get(0), Some((1, "a2", Some("a"), Some(50), 0)));
        assert_eq!(packed.get(l.len()), None);
        let want = tree_order(&l);
        assert_eq!(want.len(), l.len());
        assert_eq!(tree_order_of(&packed), want);
        assert!(tree_order_of(&Skeleton::default()).is_empty());
    }
}
