//! The store's usage query: model-call tokens grouped by run, model, tier
//! band and day, with each run's agent and parent, for pricing (issue 19).

use super::{Store, StoreError};
use crate::usage::Usage;
use std::collections::HashMap;

/// Calls of one model in one run, on one day, under one tier band, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub run_id: String,
    /// The run's agent (`claude-code`, `codex`, ...), `unknown` when none.
    pub agent: String,
    /// The calls' day, `YYYY-MM-DD` in local time; empty when undated.
    pub day: String,
    /// As the trace names it; empty when it names none.
    pub model: String,
    /// The tier band the calls are filed under (see `pricing::band_of`).
    pub band: u64,
    pub usage: Usage,
}

/// The SQL `CASE` filing a call's prompt size under the highest band it
/// exceeds (bands are numbers from the price table, never user text).
fn band_case(bands: &[u64]) -> String {
    let mut sorted = bands.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut s = String::from("CASE");
    for b in &sorted {
        s.push_str(&format!(" WHEN COALESCE(s.input_tokens, 0) > {b} THEN {b}"));
    }
    s.push_str(" ELSE 0 END");
    s
}

impl Store {
    /// Every model call's usage, grouped by run, model, band and day; only
    /// calls at or after `since_ms` when given (undated calls then excluded).
    pub fn usage_rows(
        &self,
        bands: &[u64],
        since_ms: Option<i64>,
    ) -> Result<Vec<UsageRow>, StoreError> {
        self.usage_rows_in(bands, since_ms, None)
    }

    /// [`Store::usage_rows`] of `runs` and every run below them (subagents).
    pub fn usage_rows_of(&self, bands: &[u64], runs: &[&str]) -> Result<Vec<UsageRow>, StoreError> {
        let ids = serde_json::to_string(runs).unwrap_or_else(|_| "[]".into());
        self.usage_rows_in(bands, None, Some(ids))
    }

    fn usage_rows_in(
        &self,
        bands: &[u64],
        since_ms: Option<i64>,
        runs: Option<String>,
    ) -> Result<Vec<UsageRow>, StoreError> {
        let sql = format!(
            "SELECT r.id, COALESCE(r.agent, 'unknown'), \
               COALESCE(date(COALESCE(s.start_ms, s.end_ms, r.started_ms) / 1000, 'unixepoch', 'localtime'), '') AS u_day, \
               COALESCE(s.model, '') AS u_model, {band} AS u_band, COUNT(*), \
               SUM(COALESCE(s.input_tokens, 0)), SUM(MIN(COALESCE(s.cache_read_tokens, 0), COALESCE(s.input_tokens, 0))), \
               SUM(COALESCE(s.cache_write_tokens, 0)), SUM(COALESCE(s.cache_write_1h_tokens, 0)), \
               SUM(COALESCE(s.output_tokens, 0)) \
             FROM spans s JOIN runs r ON r.key = s.run_key \
             WHERE (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL) \
               AND (?1 IS NULL OR COALESCE(s.start_ms, s.end_ms, r.started_ms) >= ?1) \
               AND (?2 IS NULL OR r.id IN (WITH RECURSIVE tree(id) AS (SELECT value FROM json_each(?2) \
                 UNION SELECT c.id FROM runs c JOIN tree t ON c.parent_run_id = t.id) SELECT id FROM tree)) \
             GROUP BY r.key, u_day, u_model, u_band ORDER BY r.id, u_day, u_model, u_band",
            band = band_case(bands)
        );
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&sql)?;
        let n = |v: i64| v.max(0) as u64;
        let rows = stmt.query_map(rusqlite::params![since_ms, runs], |r| {
            let mut u = Usage::from_fields(&[
                Some(n(r.get(6)?)),
                Some(n(r.get(10)?)),
                Some(n(r.get(7)?)),
                Some(n(r.get(8)?)),
                Some(n(r.get(9)?)),
            ])
            .unwrap_or_default();
            u.calls = n(r.get(5)?);
            Ok(UsageRow {
                run_id: r.get(0)?,
                agent: r.get(1)?,
                day: r.get(2)?,
                model: r.get(3)?,
                band: n(r.get(4)?),
                usage: u,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Run id → parent run id, for every run that has a parent.
    pub fn run_parents(&self) -> Result<HashMap<String, String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT id, parent_run_id FROM runs WHERE parent_run_id IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
