//! The findings side of a write: a finding is keyed by its scope (its run's
//! key, or 0 for a store-wide rule: [`super::by_fingerprint::scope`]) and its
//! fingerprint, so a re-import never duplicates it and a chain finding may
//! raise its severity or add steps; the run's counters follow.

use super::write_runs::{RunDelta, RunKeys};
use super::{StoreError, WriteStats};
use crate::hash::HashMap;
use crate::model::{Finding, Severity};
use crate::redact::Redacted;
use rusqlite::{params, Transaction};

pub(super) fn write_findings(
    tx: &Transaction<'_>,
    keys: &mut RunKeys,
    findings: &[Redacted<Finding>],
    deltas: &mut HashMap<i64, RunDelta>,
    stats: &mut WriteStats,
    now: i64,
) -> Result<(), StoreError> {
    if findings.is_empty() {
        return Ok(());
    }
    let mut find = tx.prepare_cached(
        "SELECT severity, status, json_array_length(span_ids) FROM findings WHERE scope=?1 AND fingerprint=?2",
    )?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO findings(fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids, title, message, \
         evidence, origin_path, origin_line, skill_id, ts_ms, related, created_ms, scope) \
         VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17) ON CONFLICT(scope, fingerprint) DO NOTHING",
    )?;
    let mut raise = tx.prepare_cached(
        "UPDATE findings SET severity=?2, span_ids=?3, message=?4, related=?5, confidence=MAX(confidence, ?6) WHERE scope=?7 AND fingerprint=?1",
    )?;
    // New findings by severity rank, and raised ones by (severity, status):
    // added to `finding_tally` once per batch (schema migrations 10 and 14
    // took the per-row triggers off).
    let mut fresh_by_rank = [0i64; 5];
    let mut moved: HashMap<(i64, String), i64> = HashMap::default();
    for f in findings {
        let f = f.get();
        let span_ids = serde_json::to_string(&f.span_ids).unwrap_or_else(|_| "[]".into());
        let related = serde_json::to_string(&f.related).unwrap_or_else(|_| "[]".into());
        let run_key = keys.get(tx, &f.run_id, "", now)?;
        let scope = super::by_fingerprint::scope(&f.rule_id, run_key);
        let d = deltas.entry(run_key).or_default();
        // Inserted first: a new finding (the common case on import) costs one
        // descent of the dedup index, not a lookup and then an insert.
        let fresh = ins.execute(params![
            f.fingerprint,
            f.rule_id,
            f.severity.rank(),
            f.confidence as f64,
            f.run_id,
            f.span_ids.first(),
            span_ids,
            f.title,
            f.message,
            f.evidence,
            f.origin.as_ref().map(|o| &*o.path),
            f.origin.as_ref().map(|o| o.line as i64),
            f.skill_id,
            f.ts_ms,
            related,
            now,
            scope
        ])? == 1;
        if fresh {
            stats.new_findings += 1;
            fresh_by_rank[f.severity.rank() as usize] += 1;
            d.findings[f.severity.rank() as usize] += 1;
            continue;
        }
        let (sev, status, steps): (i64, String, i64) = find
            .query_row(params![scope, f.fingerprint], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if f.severity.rank() > sev || f.span_ids.len() as i64 > steps {
            let new_sev = f.severity.rank().max(sev);
            raise.execute(params![
                f.fingerprint,
                new_sev,
                span_ids,
                f.message,
                related,
                f.confidence as f64,
                scope
            ])?;
            if new_sev != sev {
                *moved.entry((sev, status.clone())).or_default() -= 1;
                *moved.entry((new_sev, status)).or_default() += 1;
            }
            d.findings[Severity::from_rank(sev).rank() as usize] -= 1;
            d.findings[Severity::from_rank(new_sev).rank() as usize] += 1;
        }
    }
    tally_new(tx, &fresh_by_rank)?;
    tally_moved(tx, moved)
}

/// Moves raised findings between `finding_tally`'s rows: `moved[(severity,
/// status)]` is what a batch's raises added to (or took from) that row.
fn tally_moved(tx: &Transaction<'_>, moved: HashMap<(i64, String), i64>) -> Result<(), StoreError> {
    let mut add = tx.prepare_cached(
        "INSERT INTO finding_tally(severity, status, n) VALUES(?1, ?2, ?3) \
         ON CONFLICT(severity, status) DO UPDATE SET n = n + excluded.n",
    )?;
    for ((severity, status), n) in moved {
        if n != 0 {
            add.execute(params![severity, status, n])?;
        }
    }
    Ok(())
}

/// Adds findings inserted with status `open` to `finding_tally`, `by_rank[r]`
/// of severity rank `r`. Every path that inserts findings calls it.
pub(super) fn tally_new(tx: &Transaction<'_>, by_rank: &[i64; 5]) -> Result<(), StoreError> {
    let mut add = tx.prepare_cached(
        "INSERT INTO finding_tally(severity, status, n) VALUES(?1, 'open', ?2) \
         ON CONFLICT(severity, status) DO UPDATE SET n = n + excluded.n",
    )?;
    for (rank, &n) in by_rank.iter().enumerate() {
        if n > 0 {
            add.execute(params![rank as i64, n])?;
        }
    }
    Ok(())
}
