//! Which lines of a Codex rollout are the thread's own: a spawned subagent or
//! a forked thread starts its rollout with its own `session_meta`, then a copy
//! of its parent's `session_meta` and history, then its own lines. The copy is
//! the parent's (its own file has it) and yields nothing in the child's run.
//!
//! From `openai/codex` `codex-rs`: rollout lines carry an `ordinal`, and the
//! child's `session_meta` names the first of its own in
//! `subagent_history_start_ordinal`. Rollouts without ordinals keep the copied
//! lines' original timestamps, so in a spawned or forked thread a line stamped
//! before the thread's creation is a copy.

use super::super::common::{iso_ms, nonempty, str_of};
use crate::ingest::formats::json::Value;
use crate::model::Millis;

/// What a thread's own `session_meta` says about its ancestry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Lineage {
    /// Lines whose `ordinal` is below this are the parent's copy.
    history_start: Option<u64>,
    /// The thread was spawned or forked at this time: an un-numbered line
    /// stamped earlier is a copy.
    forked_at: Option<Millis>,
}

impl Lineage {
    /// From the thread's own `session_meta` payload and its creation time.
    pub fn of(p: &Value, created: Option<Millis>) -> Lineage {
        let history_start = p
            .get("subagent_history_start_ordinal")
            .and_then(Value::as_u64);
        let forked = history_start.is_some()
            || str_of(p, "thread_source") == Some("subagent")
            || parent(p).is_some()
            || p.get("source").and_then(|s| s.get("subagent")).is_some();
        Lineage {
            history_start,
            forked_at: if forked {
                str_of(p, "timestamp").and_then(iso_ms).or(created)
            } else {
                None
            },
        }
    }

    /// True for a line copied from the parent thread.
    pub fn copied(&self, line: &Value, ts: Option<Millis>) -> bool {
        if let (Some(start), Some(ordinal)) = (
            self.history_start,
            line.get("ordinal").and_then(Value::as_u64),
        ) {
            return ordinal < start;
        }
        matches!((self.forked_at, ts), (Some(created), Some(t)) if t < created)
    }
}

/// The thread a child was spawned or forked from: `parent_thread_id`, else
/// the one named in `source.subagent` (e.g. `thread_spawn.parent_thread_id`),
/// else `forked_from_id`.
pub(super) fn parent<'a>(p: &'a Value<'_>) -> Option<&'a str> {
    nonempty(p, "parent_thread_id")
        .or_else(|| {
            p.get("source")
                .and_then(|s| s.get("subagent"))
                .and_then(find_parent_thread)
        })
        .or_else(|| nonempty(p, "forked_from_id"))
}

/// Looks for a `parent_thread_id` anywhere in a (small) `source.subagent` object.
fn find_parent_thread<'a>(v: &'a Value<'_>) -> Option<&'a str> {
    match v {
        Value::Object(m) => m
            .get("parent_thread_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or_else(|| m.values().find_map(find_parent_thread)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value<'static> {
        Value::from(j)
    }

    #[test]
    fn ordinals_below_the_start_are_copies() {
        let l = Lineage::of(
            &v(json!({"id":"c","subagent_history_start_ordinal":5,
                "source":{"subagent":{"thread_spawn":{"parent_thread_id":"p"}}},
                "timestamp":"2026-10-01T10:00:00.000Z"})),
            None,
        );
        assert!(l.copied(&v(json!({"ordinal":4})), None));
        assert!(!l.copied(&v(json!({"ordinal":5})), None));
        // A numbered line is judged by its number, not its time.
        assert!(!l.copied(&v(json!({"ordinal":9})), Some(0)));
        assert_eq!(
            parent(&v(
                json!({"source":{"subagent":{"thread_spawn":{"parent_thread_id":"p"}}}})
            )),
            Some("p")
        );
    }

    #[test]
    fn unnumbered_lines_of_a_fork_older_than_it_are_copies() {
        let meta = v(json!({"id":"c","forked_from_id":"p","timestamp":"2026-10-01T10:00:00.000Z"}));
        let l = Lineage::of(&meta, None);
        let at = iso_ms("2026-10-01T10:00:00.000Z");
        assert_eq!(parent(&meta), Some("p"));
        assert!(l.copied(&v(json!({})), at.map(|t| t - 1)));
        assert!(!l.copied(&v(json!({})), at));
        assert!(!l.copied(&v(json!({})), None));
    }

    #[test]
    fn a_root_thread_copies_nothing() {
        let l = Lineage::of(
            &v(json!({"id":"r","source":"cli","timestamp":"2026-10-01T10:00:00.000Z"})),
            None,
        );
        assert_eq!(l, Lineage::default());
        assert!(!l.copied(&v(json!({"ordinal":0})), Some(0)));
        assert_eq!(
            parent(&v(json!({"source":"cli","parent_thread_id":""}))),
            None
        );
    }
}
