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
    if bands.is_empty() {
        return "0".into();
    }
    let mut sorted = bands.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut s = String::from("CASE");
    for b in &sorted {
        s.push_str(&format!(" WHEN COALESCE(s.input_tokens, 0) > {b} THEN {b}"));
    }
    s.push_str(" ELSE 0 END");
    s
}

/// Which calls a usage query reads.
enum Scope {
    /// Every call, or those at or after a time (undated calls then excluded).
    Since(Option<i64>),
    /// The calls of these runs (a JSON array of ids) and of every run below them.
    Runs(String),
    /// The calls of one day (`YYYY-MM-DD`, local time).
    Day(String),
}

/// A call's time: its start, else its end, else its run's start.
const CALL_MS: &str = "COALESCE(s.start_ms, s.end_ms, r.started_ms)";

/// A call's day, `YYYY-MM-DD` in local time (empty when undated).
const CALL_DAY: &str = "COALESCE(date(COALESCE(s.start_ms, s.end_ms, r.started_ms) / 1000, 'unixepoch', 'localtime'), '')";

/// A model call (what the calls' time index holds).
const CALLS: &str = "(input_tokens IS NOT NULL OR output_tokens IS NOT NULL)";

/// Local days lie within this much of the UTC day of the same date (UTC-12 to UTC+14).
const DAY_SLACK_MS: i64 = 15 * 3_600_000;

/// `tree(id)`: the runs whose ids are the JSON array bound at `param`, and
/// every run below them (subagents), as a `WITH` clause.
fn run_tree(param: &str) -> String {
    format!(
        "WITH RECURSIVE tree(id) AS (SELECT value FROM json_each({param}) \
         UNION SELECT c.id FROM runs c JOIN tree t ON c.parent_run_id = t.id)"
    )
}

/// `runs` as the JSON array [`run_tree`] reads.
fn run_ids_json(runs: &[&str]) -> String {
    serde_json::to_string(runs).unwrap_or_else(|_| "[]".into())
}

/// A usage query's SQL and its three parameters (`None`: nothing to read).
#[allow(clippy::type_complexity)]
fn usage_query(
    bands: &[u64],
    scope: Scope,
) -> Option<(String, Option<i64>, Option<i64>, Option<String>)> {
    // Each scope's condition, with its parameters (every condition names
    // all three, unused ones NULL, so one binding fits them all).
    let (cond, p1, p2, p3): (String, Option<i64>, Option<i64>, Option<String>) = match scope {
        Scope::Since(since) => (
            format!("(?1 IS NULL OR {CALL_MS} >= ?1) AND ?2 IS NULL AND ?3 IS NULL"),
            since,
            None,
            None,
        ),
        Scope::Runs(ids) => (
            format!(
                "r.id IN ({} SELECT id FROM tree) AND ?1 IS NULL AND ?2 IS NULL",
                run_tree("?3")
            ),
            None,
            None,
            Some(ids),
        ),
        Scope::Day(day) => {
            let d = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?;
            let utc = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
            // The calls near the day by the index on their time (the range
            // widened by the largest UTC offsets) and the undated ones, then
            // exactly those of the local day.
            (
                format!(
                    "s.key IN (SELECT key FROM spans WHERE {CALLS} \
                       AND COALESCE(start_ms, end_ms) BETWEEN ?1 AND ?2 \
                     UNION ALL SELECT key FROM spans WHERE {CALLS} \
                       AND COALESCE(start_ms, end_ms) IS NULL) \
                     AND {CALL_DAY} = ?3"
                ),
                Some(utc - DAY_SLACK_MS),
                Some(utc + 86_400_000 + DAY_SLACK_MS),
                Some(day),
            )
        }
    };
    let sql = format!(
        "SELECT r.id, COALESCE(r.agent, 'unknown'), {CALL_DAY} AS u_day, \
           COALESCE(s.model, '') AS u_model, {band} AS u_band, COUNT(*), \
           SUM(COALESCE(s.input_tokens, 0)), SUM(MIN(COALESCE(s.cache_read_tokens, 0), COALESCE(s.input_tokens, 0))), \
           SUM(COALESCE(s.cache_write_tokens, 0)), SUM(COALESCE(s.cache_write_1h_tokens, 0)), \
           SUM(COALESCE(s.output_tokens, 0)) \
         FROM spans s JOIN runs r ON r.key = s.run_key \
         WHERE (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL) AND {cond} \
         GROUP BY r.key, u_day, u_model, u_band ORDER BY r.id, u_day, u_model, u_band",
        band = band_case(bands)
    );
    Some((sql, p1, p2, p3))
}

/// The query of [`Store::reported_costs`]: every run's reported-cost span,
/// probed per run through the spans' `(run_key, id)` key; with `some`, only
/// the runs of the JSON array `?1` and those below them.
fn reported_query(some: bool) -> String {
    let select = format!(
        "SELECT r.id, json_extract(s.attributes, '$.{}') AS usd",
        crate::pricing::REPORTED_COST
    );
    let (from, only) = if some {
        let tree = run_tree("?1");
        (
            format!("{tree} {select} FROM tree CROSS JOIN runs r ON r.id = tree.id"),
            "",
        )
    } else {
        (format!("{select} FROM runs r"), " AND ?1 IS NULL")
    };
    // CROSS JOIN fixes the order (runs, then each run's span by its key):
    // left to the planner, a small store's spans are scanned instead.
    format!(
        "{from} CROSS JOIN spans s ON s.run_key = r.key AND s.id = '{}' \
         WHERE usd IS NOT NULL{only}",
        crate::pricing::REPORTED_SPAN
    )
}

impl Store {
    /// Every model call's usage, grouped by run, model, band and day; only
    /// calls at or after `since_ms` when given (undated calls then excluded).
    pub fn usage_rows(
        &self,
        bands: &[u64],
        since_ms: Option<i64>,
    ) -> Result<Vec<UsageRow>, StoreError> {
        self.usage_rows_in(bands, Scope::Since(since_ms))
    }

    /// [`Store::usage_rows`] of `runs` and every run below them (subagents).
    pub fn usage_rows_of(&self, bands: &[u64], runs: &[&str]) -> Result<Vec<UsageRow>, StoreError> {
        self.usage_rows_in(bands, Scope::Runs(run_ids_json(runs)))
    }

    /// [`Store::usage_rows`] of the calls made on `day` (`YYYY-MM-DD`, local
    /// time), read through the calls' time index: the cost of the rest of the
    /// store is not read. A malformed day has no calls.
    pub fn usage_rows_on(&self, bands: &[u64], day: &str) -> Result<Vec<UsageRow>, StoreError> {
        self.usage_rows_in(bands, Scope::Day(day.to_owned()))
    }

    fn usage_rows_in(&self, bands: &[u64], scope: Scope) -> Result<Vec<UsageRow>, StoreError> {
        let Some((sql, p1, p2, p3)) = usage_query(bands, scope) else {
            return Ok(Vec::new());
        };
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&sql)?;
        let n = |v: i64| v.max(0) as u64;
        let rows = stmt.query_map(rusqlite::params![p1, p2, p3], |r| {
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
        let mut rows: Vec<UsageRow> = rows.collect::<Result<_, _>>()?;
        // Model names are redacted again on the way out (`reread`), each
        // distinct one once: a store-wide query has tens of thousands of rows
        // and a handful of models.
        let mut shown: HashMap<String, String> = HashMap::new();
        for row in rows.iter_mut() {
            match shown.get(&row.model) {
                Some(m) => row.model.clone_from(m),
                None => {
                    let m = self.reread.text("", &row.model);
                    shown.insert(std::mem::replace(&mut row.model, m.clone()), m);
                }
            }
        }
        Ok(rows)
    }

    /// [`Store::run_parents`] of `runs` and every run below them (subagents):
    /// the links a page of runs needs to roll its subagents up, read through
    /// the parent index instead of the whole table.
    pub fn run_parents_of(&self, runs: &[&str]) -> Result<HashMap<String, String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{} SELECT r.id, r.parent_run_id FROM runs r JOIN tree ON r.id = tree.id \
             WHERE r.parent_run_id IS NOT NULL",
            run_tree("?1")
        ))?;
        let rows = stmt.query_map([run_ids_json(runs)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The cost each run's agent reported for it (in dollars), from the
    /// run's `pricing::REPORTED_SPAN` span: of `runs` and the runs below them,
    /// or of every run when `runs` is `None`. Each run is probed by the span
    /// key index, never by a scan of its spans.
    pub fn reported_costs(
        &self,
        runs: Option<&[&str]>,
    ) -> Result<HashMap<String, f64>, StoreError> {
        let conn = self.conn();
        let sql = reported_query(runs.is_some());
        let ids = runs.map(run_ids_json);
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([ids], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<f64>>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            if let (id, Some(usd)) = row? {
                out.insert(id, usd);
            }
        }
        Ok(out)
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

#[cfg(test)]
mod tests {
    use crate::model::{Origin, Run, Span, SpanKind};
    use crate::redact::{Mode, Redactor};
    use crate::store::{Store, StoreBatch};

    /// A model call of `run` with `input` prompt tokens at `ms` (undated when None).
    fn call(run: &str, id: &str, ms: Option<i64>, input: u64) -> Span {
        let mut s = Span::new(id, run, SpanKind::Llm, "chat", Origin::new("/x", 1));
        s.model = Some("m".into());
        s.input_tokens = Some(input);
        s.output_tokens = Some(1);
        s.start_ms = ms;
        s
    }

    #[test]
    fn one_days_calls_are_read_by_index_and_match_the_whole_query() {
        let t = tempfile::tempdir().expect("tempdir");
        let mut s = Store::open(&t.path().join("st.db")).expect("open");
        let day = 86_400_000;
        let base = 1_780_000_000_000 - 1_780_000_000_000 % day; // a UTC midnight
        let mut r = Redactor::new(Mode::Mask);
        let undated_run = Run {
            id: "late".into(),
            started_ms: Some(base + day + 3_600_000),
            ..Run::default()
        };
        let spans = [
            call("a", "1", Some(base + 1_000), 10),
            call("a", "2", Some(base + day / 2), 20),
            call("b", "3", Some(base + day + 7_200_000), 40),
            call("b", "4", Some(base + 3 * day), 80),
            call("late", "5", None, 160),
        ];
        let batch = StoreBatch {
            runs: vec![r.redact_run(undated_run)],
            spans: spans.into_iter().map(|x| r.redact_span(x).0).collect(),
            ..Default::default()
        };
        s.write(&batch).expect("write");
        let all = s.usage_rows(&[], None).expect("all");
        let mut days: Vec<&str> = all.iter().map(|r| r.day.as_str()).collect();
        days.dedup();
        assert!(days.len() >= 3, "{days:?}");
        for d in &days {
            let mut want: Vec<_> = all.iter().filter(|r| r.day == *d).cloned().collect();
            let mut got = s.usage_rows_on(&[], d).expect("day");
            want.sort_by(|a, b| (&a.run_id, a.usage.input).cmp(&(&b.run_id, b.usage.input)));
            got.sort_by(|a, b| (&a.run_id, a.usage.input).cmp(&(&b.run_id, b.usage.input)));
            assert_eq!(got, want, "day {d}");
        }
        let undated = all.iter().find(|r| r.run_id == "late").expect("late");
        assert!(!undated.day.is_empty(), "dated by its run's start");
        assert!(s.usage_rows_on(&[], "not a day").expect("bad").is_empty());
        // The day's calls come through the calls' time index, not a scan.
        let plan: Vec<String> = {
            let (sql, a, b, c) =
                super::usage_query(&[], super::Scope::Day(days[0].into())).expect("query");
            let conn = s.conn();
            let mut st = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            st.query_map(rusqlite::params![a, b, c], |r| r.get::<_, String>(3))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows")
        };
        assert!(
            plan.iter().any(|l| l.contains("spans_calls_time")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|l| l.starts_with("SCAN s")), "{plan:?}");
    }

    /// A run with its parent.
    fn run(id: &str, parent: Option<&str>) -> Run {
        Run {
            id: id.into(),
            parent_run_id: parent.map(Into::into),
            ..Run::default()
        }
    }

    /// A fresh store (and the folder that holds it) with a redactor.
    fn fresh() -> (tempfile::TempDir, Store, Redactor) {
        let t = tempfile::tempdir().expect("tempdir");
        let s = Store::open(&t.path().join("st.db")).expect("open");
        (t, s, Redactor::new(Mode::Mask))
    }

    #[test]
    fn a_pages_parents_are_the_links_below_it_and_price_it_as_the_whole_table_does() {
        let (_t, mut s, mut r) = fresh();
        // top -> mid -> leaf, and an unrelated pair other <- sub.
        let runs = [
            run("top", None),
            run("mid", Some("top")),
            run("leaf", Some("mid")),
            run("other", None),
            run("sub", Some("other")),
        ];
        let spans = [
            call("top", "1", Some(1_000), 10),
            call("mid", "2", Some(2_000), 20),
            call("leaf", "3", Some(3_000), 40),
            call("sub", "4", Some(4_000), 80),
        ];
        let batch = StoreBatch {
            runs: runs.into_iter().map(|x| r.redact_run(x)).collect(),
            spans: spans.into_iter().map(|x| r.redact_span(x).0).collect(),
            ..Default::default()
        };
        s.write(&batch).expect("write");
        let below = s.run_parents_of(&["top"]).expect("parents of top");
        let want: std::collections::HashMap<String, String> = [("mid", "top"), ("leaf", "mid")]
            .map(|(a, b)| (a.into(), b.into()))
            .into();
        assert_eq!(below, want);
        // A run's own link is read too; nothing of the pair beside it.
        let of_leaf = s.run_parents_of(&["leaf"]).expect("leaf");
        assert_eq!(of_leaf.len(), 1);
        assert_eq!(of_leaf["leaf"], "mid");
        // Priced a page at a time, as priced from every run's links.
        let table = crate::pricing::table();
        let page = ["top", "mid", "other"];
        let got = crate::pricing::ledger::costs_of_runs(&s, &table, &page).expect("page");
        let all = crate::pricing::ledger::run_costs(
            &table,
            &s.usage_rows(table.bands(), None).expect("rows"),
            &s.run_parents().expect("all links"),
        );
        assert_eq!(got.len(), 3);
        for id in page {
            assert_eq!(format!("{:?}", got[id]), format!("{:?}", all[id]), "{id}");
        }
    }

    #[test]
    fn reported_costs_come_from_each_runs_cost_state_span_by_index() {
        let (_t, mut s, mut r) = fresh();
        let reported = |run: &str, usd: f64| {
            let mut sp = Span::new(
                crate::pricing::REPORTED_SPAN,
                run,
                SpanKind::Event,
                crate::pricing::REPORTED_SPAN,
                Origin::new("/x", 1),
            );
            sp.attributes
                .insert(crate::pricing::REPORTED_COST.into(), usd.into());
            sp
        };
        let batch = StoreBatch {
            runs: [
                run("top", None),
                run("sub", Some("top")),
                run("other", None),
            ]
            .into_iter()
            .map(|x| r.redact_run(x))
            .collect(),
            spans: [
                reported("top", 0.25),
                reported("other", 1.5),
                call("sub", "1", Some(1_000), 10),
            ]
            .into_iter()
            .map(|x| r.redact_span(x).0)
            .collect(),
            ..Default::default()
        };
        s.write(&batch).expect("write");
        // A newer snapshot of the same span replaces the figure.
        let again = StoreBatch {
            spans: vec![r.redact_span(reported("top", 0.5)).0],
            ..Default::default()
        };
        s.write(&again).expect("write again");
        let all = s.reported_costs(None).expect("all");
        assert_eq!(all.len(), 2);
        assert_eq!(all["top"], 0.5);
        let some = s.reported_costs(Some(&["top"])).expect("top");
        assert_eq!(some.len(), 1, "{some:?}");
        // A page of runs gets the figure beside its estimate.
        let table = crate::pricing::table();
        let costs =
            crate::pricing::ledger::costs_of_runs(&s, &table, &["top", "other"]).expect("page");
        assert_eq!(
            costs["top"].reported,
            Some(crate::pricing::Money::from_usd(0.5))
        );
        assert_eq!(costs["top"].subagents.usage().calls, 1, "estimate kept");
        assert_eq!(costs["other"].short(), "$1.50");
        // Each run's span is found through the spans' key, never by a scan.
        for some in [false, true] {
            let sql = super::reported_query(some);
            let conn = s.conn();
            let mut st = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let arg: Option<String> = some.then(|| "[\"top\"]".into());
            let plan: Vec<String> = st
                .query_map([arg], |r| r.get::<_, String>(3))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            assert!(!plan.iter().any(|l| l.starts_with("SCAN s")), "{plan:?}");
            assert!(
                plan.iter()
                    .any(|l| l.starts_with("SEARCH s") && l.contains("run_key=? AND id=?")),
                "{plan:?}"
            );
        }
    }
}
