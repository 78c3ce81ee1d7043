//! Findings found by fingerprint: the dedup scope of a finding, and the rows a
//! fingerprint names when only the fingerprint is in hand.
//!
//! Findings are unique by `(scope, fingerprint)` (schema migration 15): the
//! scope is the run's key, or 0 for a rule whose fingerprint leaves the run
//! out (catalogue `store_wide`). A native `triage` line and the guard's
//! decision name findings by fingerprint alone. When the finding came in the
//! same write (an export writes each triage line after its finding; the
//! guard's record holds the findings it decided on), its scope is known and
//! the lookup is one probe of `findings_dedup`. Otherwise one scan of that
//! index (covering: scope, fingerprint, id) answers every fingerprint left,
//! and names every row holding it, as `WHERE fingerprint = ?` always did.

use super::StoreError;
use crate::detect::rules;
use crate::hash::HashMap;
use crate::model::Finding;
use rusqlite::{params, OptionalExtension, Transaction};

/// The dedup scope of a finding of rule `rule_id` in the run with key `run_key`.
pub(super) fn scope(rule_id: &str, run_key: i64) -> i64 {
    if rules::store_wide(rule_id) {
        0
    } else {
        run_key
    }
}

/// The scope of `f` if its run is in the store (a finding's run always is,
/// once the finding is written).
fn scope_of(tx: &Transaction<'_>, f: &Finding) -> Result<Option<i64>, StoreError> {
    if rules::store_wide(&f.rule_id) {
        return Ok(Some(0));
    }
    Ok(tx
        .prepare_cached("SELECT key FROM runs WHERE id = ?1")?
        .query_row([&f.run_id], |r| r.get(0))
        .optional()?)
}

/// The ids of the findings each of `fps` names, by fingerprint (a fingerprint
/// naming none is absent). `known` are findings already written whose scope
/// is looked up first (the write's own findings); the others are found by
/// one scan of the dedup index.
pub(super) fn ids_of<'a>(
    tx: &Transaction<'_>,
    fps: impl IntoIterator<Item = &'a str>,
    known: impl IntoIterator<Item = &'a Finding>,
) -> Result<HashMap<String, Vec<i64>>, StoreError> {
    let mut want: HashMap<&str, Option<i64>> = HashMap::default();
    for fp in fps {
        want.insert(fp, None);
    }
    let mut found: HashMap<String, Vec<i64>> = HashMap::default();
    if want.is_empty() {
        return Ok(found);
    }
    let mut probe =
        tx.prepare_cached("SELECT id FROM findings WHERE scope = ?1 AND fingerprint = ?2")?;
    for f in known {
        let Some(slot) = want.get_mut(f.fingerprint.as_str()) else {
            continue;
        };
        if slot.is_some() {
            continue;
        }
        let Some(scope) = scope_of(tx, f)? else {
            continue;
        };
        if let Some(id) = probe
            .query_row(params![scope, f.fingerprint], |r| r.get::<_, i64>(0))
            .optional()?
        {
            *slot = Some(id);
            found.insert(f.fingerprint.clone(), vec![id]);
        }
    }
    let left: Vec<&str> = want
        .iter()
        .filter(|(_, id)| id.is_none())
        .map(|(fp, _)| *fp)
        .collect();
    if left.is_empty() {
        return Ok(found);
    }
    let list = serde_json::to_string(&left).unwrap_or_else(|_| "[]".into());
    let mut scan = tx.prepare_cached(
        "SELECT fingerprint, id FROM findings WHERE fingerprint IN (SELECT value FROM json_each(?1)) ORDER BY id",
    )?;
    let mut rows = scan.query([list])?;
    while let Some(r) = rows.next()? {
        found.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    Ok(found)
}
