//! The runs side of a write: run keys remembered across batches, run records
//! folded per batch, and the per-run counters a batch adds (so the runs list
//! never scans spans).

use super::StoreError;
use crate::hash::HashMap;
use crate::model::Run;
use crate::redact::Redacted;
use rusqlite::{params, OptionalExtension, Transaction};

#[derive(Default)]
pub(super) struct RunDelta {
    pub(super) spans: i64,
    pub(super) tools: i64,
    pub(super) input: i64,
    pub(super) output: i64,
    pub(super) findings: [i64; 5],
    pub(super) models: Vec<String>,
    pub(super) start: Option<i64>,
    pub(super) end: Option<i64>,
}

/// Run id → the run's integer key (`runs.key`, which spans point at),
/// remembered across batches: runs are never deleted, so a committed key never
/// changes. Forgotten whole when a write fails, since keys handed out inside a
/// rolled-back transaction no longer exist.
#[derive(Debug, Default)]
pub(super) struct RunKeys {
    map: HashMap<String, i64>,
}

/// How many run ids [`RunKeys`] remembers before starting over (~1 MB). A
/// batch's runs are looked up once each, and an import feeds a few hundred
/// runs at a time, so a forgotten key costs one indexed lookup; at 100,000 the
/// map grew with the corpus (~5 MB at 1 GB, ~10 MB at its cap).
const RUN_KEYS_MAX: usize = 8_192;

impl RunKeys {
    pub(super) fn clear(&mut self) {
        self.map.clear();
    }

    fn remember(&mut self, id: &str, key: i64) {
        if self.map.len() >= RUN_KEYS_MAX {
            self.map.clear();
        }
        self.map.insert(id.to_owned(), key);
    }

    /// The key of run `id`, creating the run (with `source`) if it is new.
    pub(super) fn get(
        &mut self,
        tx: &Transaction<'_>,
        id: &str,
        source: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        if let Some(k) = self.map.get(id) {
            return Ok(*k);
        }
        tx.prepare_cached(
            "INSERT INTO runs(id, source, updated_ms) VALUES(?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
        )?
        .execute(params![id, source, now])?;
        let key = tx
            .prepare_cached("SELECT key FROM runs WHERE id=?1")?
            .query_row([id], |r| r.get(0))?;
        self.remember(id, key);
        Ok(key)
    }
}

/// Titles follow [`crate::model::TitleKind::replaces`]: a stronger kind
/// replaces the stored title, the latest of a user-set or generated kind wins,
/// the first prompt stays (every SET reads the row as it was).
pub(super) const UPSERT_RUN: &str = "INSERT INTO runs(id, agent, source, parent_run_id, started_ms, ended_ms, title, cwd, updated_ms, title_rank) \
  VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(id) DO UPDATE SET \
  agent=COALESCE(agent, excluded.agent), source=CASE WHEN source='' THEN excluded.source ELSE source END, \
  parent_run_id=COALESCE(parent_run_id, excluded.parent_run_id), \
  started_ms=MIN(COALESCE(started_ms, excluded.started_ms), COALESCE(excluded.started_ms, started_ms)), \
  ended_ms=MAX(COALESCE(ended_ms, excluded.ended_ms), COALESCE(excluded.ended_ms, ended_ms)), \
  title=CASE WHEN excluded.title IS NOT NULL AND (title IS NULL OR excluded.title_rank > title_rank \
    OR (excluded.title_rank = title_rank AND title_rank > 0)) THEN excluded.title ELSE title END, \
  title_rank=CASE WHEN excluded.title IS NOT NULL AND (title IS NULL OR excluded.title_rank > title_rank) \
    THEN excluded.title_rank ELSE title_rank END, \
  cwd=COALESCE(cwd, excluded.cwd), updated_ms=excluded.updated_ms";

/// The run records of one batch, one per run: parsers announce a run again
/// whenever they learn more of it, and one upsert per run costs far less than
/// one per record. Folded with the same rules as [`UPSERT_RUN`] (first agent,
/// source, parent and cwd; the title by its kind; earliest start; latest end),
/// in order of first appearance.
pub(super) fn fold_runs(runs: &[Redacted<Run>]) -> Vec<Run> {
    let mut at: HashMap<&str, usize> = HashMap::default();
    let mut out: Vec<Run> = Vec::new();
    for r in runs {
        let r = r.get();
        let Some(&i) = at.get(r.id.as_str()) else {
            at.insert(&r.id, out.len());
            out.push(r.clone());
            continue;
        };
        let f = &mut out[i];
        f.agent = f.agent.or(r.agent);
        if f.source.is_empty() {
            f.source.clone_from(&r.source);
        }
        if f.parent_run_id.is_none() {
            f.parent_run_id.clone_from(&r.parent_run_id);
        }
        f.started_ms = earliest(f.started_ms, r.started_ms);
        f.ended_ms = match (f.ended_ms, r.ended_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if r.title.is_some() && (f.title.is_none() || r.title_kind.replaces(f.title_kind)) {
            f.title.clone_from(&r.title);
            f.title_kind = r.title_kind;
        }
        if f.cwd.is_none() {
            f.cwd.clone_from(&r.cwd);
        }
    }
    out
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The highest run key (0 in an empty store). A new run takes the highest
/// key + 1, and runs are never deleted inside a write, so the rise of this
/// over a write transaction is the number of runs it created.
pub(super) fn last_run_key(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached("SELECT COALESCE(max(key), 0) FROM runs")?
        .query_row([], |r| r.get(0))?)
}

/// Adds a write's new runs and spans to `tally` (schema migration 13 took
/// the per-row triggers off). Every path that inserts runs or changes their
/// span counts calls it.
pub(super) fn tally_runs(tx: &Transaction<'_>, runs: i64, spans: i64) -> Result<(), StoreError> {
    let mut add = tx.prepare_cached("UPDATE tally SET n = n + ?2 WHERE name = ?1")?;
    for (name, n) in [("runs", runs), ("spans", spans)] {
        if n != 0 {
            add.execute(params![name, n])?;
        }
    }
    Ok(())
}

/// Adds each run's delta to its counters; returns the spans added in all.
///
/// The run is read first (one probe by its key): its models list is merged
/// in here, and a run whose start does not move earlier and whose
/// `updated_ms` is already this write's (the run upsert or [`RunKeys::get`]
/// set it) is updated by [`ADD_COUNTS`], which names no indexed column, so
/// SQLite leaves `runs_started` and `runs_recent` alone (it rewrites an
/// index entry whenever the `SET` list names one of its columns, changed or
/// not); otherwise by [`ADD_COUNTS_AND_TIMES`]. Both leave the same row.
pub(super) fn apply_run_deltas(
    tx: &Transaction<'_>,
    deltas: HashMap<i64, RunDelta>,
    now: i64,
) -> Result<i64, StoreError> {
    let mut spans = 0;
    let mut read =
        tx.prepare_cached("SELECT models, started_ms, updated_ms FROM runs WHERE key=?1")?;
    let mut times = tx.prepare_cached(ADD_COUNTS_AND_TIMES)?;
    let mut counts = tx.prepare_cached(ADD_COUNTS)?;
    for (key, d) in deltas {
        spans += d.spans;
        // No row: nothing to update (as the update alone would have found).
        let Some((mut current, started, updated)) = read
            .query_row([key], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .optional()?
        else {
            continue;
        };
        // The models list changes only when this batch saw a model.
        let merged = if d.models.is_empty() {
            None
        } else {
            for m in &d.models {
                if !current.split(',').any(|x| x == m) {
                    if !current.is_empty() {
                        current.push(',');
                    }
                    current.push_str(m);
                }
            }
            Some(current)
        };
        let earlier = match (d.start, started) {
            (Some(s), Some(st)) => s < st,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let st = if earlier || updated != now {
            &mut times
        } else {
            &mut counts
        };
        st.execute(params![
            key,
            d.spans,
            d.tools,
            d.input,
            d.output,
            d.findings[0],
            d.findings[1],
            d.findings[2],
            d.findings[3],
            d.findings[4],
            merged,
            d.start,
            d.end,
            now
        ])?;
    }
    Ok(spans)
}

/// A run's counters, models and end from a batch's delta (`?1` the run's
/// key): the columns no index of `runs` holds.
macro_rules! add_counts {
    () => {
        "UPDATE runs SET span_count=span_count+?2, tool_count=tool_count+?3, input_tokens=input_tokens+?4, \
         output_tokens=output_tokens+?5, f_info=f_info+?6, f_low=f_low+?7, f_medium=f_medium+?8, f_high=f_high+?9, \
         f_critical=f_critical+?10, models=COALESCE(?11, models), \
         ended_ms=MAX(COALESCE(ended_ms, ?13), COALESCE(?13, ended_ms))"
    };
}

/// [`ADD_COUNTS_AND_TIMES`] without the indexed start and `updated_ms`
/// (`?12` and `?14` unused), for a run whose start stays and whose
/// `updated_ms` is already `?14`.
const ADD_COUNTS: &str = concat!(add_counts!(), " WHERE key=?1 AND ?12 IS ?12 AND ?14 IS ?14");

/// A run's delta with its start moved earlier (`?12`) and `updated_ms` set (`?14`).
const ADD_COUNTS_AND_TIMES: &str = concat!(
    add_counts!(),
    ", started_ms=MIN(COALESCE(started_ms, ?12), COALESCE(?12, started_ms)), updated_ms=?14 WHERE key=?1"
);

#[cfg(test)]
mod tests {
    use super::*;

    /// [`ADD_COUNTS`] names no column any index of `runs` holds (else SQLite
    /// would rewrite that index's entry for every run of every batch), and
    /// [`ADD_COUNTS_AND_TIMES`] sets what it leaves out.
    #[test]
    fn the_counters_only_update_names_no_indexed_column() {
        let t = tempfile::tempdir().expect("tempdir");
        let s = crate::store::Store::open(&t.path().join("st.db")).expect("open");
        let set = |sql: &str| -> Vec<String> {
            let body =
                &sql[sql.find(" SET ").expect("set") + 5..sql.find(" WHERE ").expect("where")];
            body.split(", ")
                .filter_map(|a| a.split_once('='))
                .map(|(c, _)| c.trim().to_owned())
                .collect()
        };
        let counts = set(ADD_COUNTS);
        assert!(counts.contains(&"span_count".to_owned()) && counts.contains(&"models".to_owned()));
        let mut indexed: Vec<String> = Vec::new();
        let mut q = s
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='runs'")
            .expect("prepare");
        let names: Vec<String> = q
            .query_map([], |r| r.get(0))
            .expect("indexes")
            .collect::<Result<_, _>>()
            .expect("names");
        assert!(names.len() >= 3, "{names:?}");
        for name in names {
            let sql: Option<String> = s
                .conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE name=?1",
                    [&name],
                    |r| r.get(0),
                )
                .expect("sql");
            let mut cols = s
                .conn
                .prepare(&format!(
                    "SELECT name FROM pragma_index_xinfo('{name}') WHERE key"
                ))
                .expect("xinfo");
            let named: Vec<Option<String>> = cols
                .query_map([], |r| r.get(0))
                .expect("cols")
                .collect::<Result<_, _>>()
                .expect("col names");
            for c in &counts {
                let in_expr = sql.as_deref().is_some_and(|q| {
                    q.split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                        .any(|w| w == c)
                });
                assert!(
                    !in_expr && !named.iter().flatten().any(|n| n == c),
                    "{c} is in index {name}"
                );
            }
            indexed.extend(named.into_iter().flatten());
            if let Some(q) = &sql {
                indexed.extend(
                    q.split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                        .map(String::from),
                );
            }
        }
        let times = set(ADD_COUNTS_AND_TIMES);
        for c in ["started_ms", "updated_ms"] {
            assert!(indexed.iter().any(|x| x == c), "{c} indexed");
            assert!(times.iter().any(|x| x == c) && !counts.iter().any(|x| x == c));
        }
    }

    /// The keys remembered stay under [`RUN_KEYS_MAX`] however many runs an
    /// import feeds (the map starts over), and the latest one is kept.
    #[test]
    fn run_keys_are_bounded() {
        let mut k = RunKeys::default();
        for i in 0..3 * RUN_KEYS_MAX as i64 {
            k.remember(&format!("run-{i}"), i);
            assert!(k.map.len() <= RUN_KEYS_MAX);
        }
        let last = 3 * RUN_KEYS_MAX as i64 - 1;
        assert_eq!(k.map.get(&format!("run-{last}")), Some(&last));
    }
}
