//! The store's read side: paged, filtered queries for listings, the TUI and exports.
//!
//! Every list query takes `offset` and `limit`, so no view ever loads a whole table.

pub use super::fts::SearchHit;
use super::rows::{
    finding_row, finding_where, run_row, run_where, span_row, FINDING_COLS, RUN_COLS, SPAN_COLS,
};
pub use super::rows::{
    Counts, FindingFilter, FindingRow, RunFilter, RunRow, RunSort, SourceRow, SpanRow,
};
use super::{Store, StoreError};
use crate::model::SourceState;
use crate::model::{ParseError, Severity, Span};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};

/// One span's place in its run's tree, without its contents ([`Store::span_skeleton`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanLink {
    /// The span's store key ([`SpanRow::rowid`]).
    pub key: i64,
    pub id: String,
    pub parent_id: Option<String>,
    pub start_ms: Option<i64>,
    pub origin_line: i64,
}

/// A run's skeleton as [`Store::span_skeleton_packed`] reads it: the
/// [`SpanLink`]s with every id in one buffer, so reading 100,000 spans makes a
/// handful of allocations instead of two per span.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skeleton {
    links: Vec<PackedLink>,
    text: String,
}

/// One span of a [`Skeleton`]: key, id, parent id, start, origin line.
pub type LinkRef<'a> = (i64, &'a str, Option<&'a str>, Option<i64>, i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PackedLink {
    key: i64,
    id: (u32, u32),
    parent: Option<(u32, u32)>,
    start_ms: Option<i64>,
    origin_line: i64,
}

impl Skeleton {
    /// Adds one span.
    pub fn push(
        &mut self,
        key: i64,
        id: &str,
        parent_id: Option<&str>,
        start_ms: Option<i64>,
        origin_line: i64,
    ) {
        let mut put = |s: &str| {
            let at = self.text.len() as u32;
            self.text.push_str(s);
            (at, self.text.len() as u32)
        };
        let id = put(id);
        let parent = parent_id.map(put);
        self.links.push(PackedLink {
            key,
            id,
            parent,
            start_ms,
            origin_line,
        });
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    fn text(&self, (a, b): (u32, u32)) -> &str {
        self.text.get(a as usize..b as usize).unwrap_or("")
    }

    /// The `i`th span's key, id, parent id, start and origin line.
    pub fn get(&self, i: usize) -> Option<LinkRef<'_>> {
        let l = self.links.get(i)?;
        Some((
            l.key,
            self.text(l.id),
            l.parent.map(|p| self.text(p)),
            l.start_ms,
            l.origin_line,
        ))
    }
}

impl Store {
    /// A page of runs.
    pub fn runs(
        &self,
        filter: &RunFilter,
        sort: RunSort,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<RunRow>, StoreError> {
        let order = match sort {
            RunSort::Started => "COALESCE(started_ms, updated_ms) DESC, id",
            // Worst open finding first (what is left to triage), then most of them.
            RunSort::Findings => "(SELECT max(severity) FROM findings f WHERE f.run_id = runs.id AND f.status = 'open') DESC NULLS LAST, \
                (SELECT count(*) FROM findings f WHERE f.run_id = runs.id AND f.status = 'open') DESC, started_ms DESC",
            RunSort::Spans => "span_count DESC, started_ms DESC",
        };
        let head = format!("SELECT {RUN_COLS} FROM runs");
        let rows = self.paged(&head, order, run_where(filter), offset, limit, run_row)?;
        Ok(rows.into_iter().map(|r| self.reread.run_row(r)).collect())
    }

    /// How many runs match.
    pub fn run_count(&self, filter: &RunFilter) -> Result<u64, StoreError> {
        self.counted("runs", run_where(filter))
    }

    /// `head WHERE w ORDER BY order LIMIT .. OFFSET ..`, rows mapped by `map`.
    fn paged<T>(
        &self,
        head: &str,
        order: &str,
        (w, mut p): (String, Vec<SqlValue>),
        offset: usize,
        limit: usize,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        p.push(SqlValue::Integer(limit as i64));
        p.push(SqlValue::Integer(offset as i64));
        let sql = format!(
            "{head} WHERE {w} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            p.len() - 1,
            p.len()
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(params_from_iter(p), map)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// `SELECT count(*) FROM from WHERE w`.
    fn counted(&self, from: &str, (w, p): (String, Vec<SqlValue>)) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM {from} WHERE {w}");
        Ok(self
            .conn
            .query_row(&sql, params_from_iter(p), |r| r.get::<_, i64>(0))? as u64)
    }

    /// One run by id.
    pub fn run(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLS} FROM runs WHERE id = ?1");
        let row = self.conn.query_row(&sql, [id], run_row).optional()?;
        Ok(row.map(|r| self.reread.run_row(r)))
    }

    /// The full id of the one run whose id starts with `prefix`.
    pub fn resolve_run(&self, prefix: &str) -> Result<String, StoreError> {
        if let Some(r) = self.run(prefix)? {
            return Ok(r.run.id);
        }
        let esc = |x: &str| x.replace('%', "\\%").replace('_', "\\_");
        // `head…tail` (as `skilltrace runs` prints long ids) matches both ends.
        let like = match prefix.split_once('…') {
            Some((head, tail)) => format!("{}%{}", esc(head), esc(tail)),
            None => format!("{}%", esc(prefix)),
        };
        let mut st = self
            .conn
            .prepare("SELECT id FROM runs WHERE id LIKE ?1 ESCAPE '\\' LIMIT 2")?;
        let ids: Vec<String> = st
            .query_map([like], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.len() {
            1 => Ok(ids.into_iter().next().unwrap_or_default()),
            0 => Err(StoreError::NotFound(format!(
                "run {prefix}: no such run (see `skilltrace runs`)"
            ))),
            _ => Err(StoreError::NotFound(format!(
                "run {prefix}: more than one run starts with this; give more of the id"
            ))),
        }
    }

    /// A page of a run's spans in time order.
    pub fn spans(
        &self,
        run_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<SpanRow>, StoreError> {
        let sql = format!(
            "SELECT {SPAN_COLS} FROM spans WHERE run_key = (SELECT key FROM runs WHERE id = ?1) ORDER BY start_ms IS NULL, start_ms, origin_line, key LIMIT ?2 OFFSET ?3"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(params![run_id, limit as i64, offset as i64], span_row)?
            .map(|r| r.map(|row| self.reread.span_row(row)))
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// How many spans a run has.
    pub fn span_count(&self, run_id: &str) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM spans WHERE run_key = (SELECT key FROM runs WHERE id = ?1)",
            [run_id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// The spans of the runs read from `source` (a file path): run id, span
    /// id, kind, and whether the span has attribute `attr`. What a reader
    /// compares with what its source still holds.
    pub fn spans_of_source(
        &self,
        source: &str,
        attr: &str,
    ) -> Result<Vec<(String, String, String, bool)>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT r.id, s.id, s.kind, json_type(s.attributes, '$.' || ?2) IS NOT NULL \
             FROM runs r JOIN spans s ON s.run_key = r.key WHERE r.source = ?1",
        )?;
        let rows = st.query_map(params![source, attr], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One span.
    pub fn span(&self, run_id: &str, span_id: &str) -> Result<Option<Span>, StoreError> {
        let sql = format!("SELECT {SPAN_COLS} FROM spans WHERE run_key = (SELECT key FROM runs WHERE id = ?1) AND id = ?2");
        Ok(self
            .conn
            .query_row(&sql, [run_id, span_id], span_row)
            .optional()?
            .map(|r| self.reread.span(r.span)))
    }

    /// A page of findings: severity (worst first), then time.
    pub fn findings(
        &self,
        filter: &FindingFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let head = format!("SELECT {FINDING_COLS} FROM findings f");
        let rows = self.paged(
            &head,
            "f.severity DESC, f.ts_ms, f.id",
            finding_where(filter),
            offset,
            limit,
            finding_row,
        )?;
        Ok(rows
            .into_iter()
            .map(|r| self.reread.finding_row(r))
            .collect())
    }

    /// How many findings match.
    pub fn finding_count(&self, filter: &FindingFilter) -> Result<u64, StoreError> {
        self.counted("findings f", finding_where(filter))
    }

    /// One finding by id.
    pub fn finding(&self, id: i64) -> Result<Option<FindingRow>, StoreError> {
        let sql = format!("SELECT {FINDING_COLS} FROM findings f WHERE f.id = ?1");
        let row = self.conn.query_row(&sql, [id], finding_row).optional()?;
        Ok(row.map(|r| self.reread.finding_row(r)))
    }

    /// Findings on one span (for the span view).
    pub fn findings_for_span(
        &self,
        run_id: &str,
        span_id: &str,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let sql = format!(
            "SELECT {FINDING_COLS} FROM findings f WHERE f.run_id = ?1 AND (f.span_id = ?2 OR EXISTS \
             (SELECT 1 FROM json_each(f.span_ids) WHERE value = ?2)) ORDER BY f.severity DESC, f.id"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map([run_id, span_id], finding_row)?
            .map(|r| r.map(|row| self.reread.finding_row(row)))
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Runs and spans where a skill was seen: (run_id, span_id, method, confidence).
    pub fn skill_hits(
        &self,
        skill_id: &str,
        limit: usize,
    ) -> Result<Vec<(String, String, String, f32)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT run_id, span_id, method, confidence FROM skill_hits WHERE skill_id=?1 ORDER BY ts_ms LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![skill_id, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, f64>(3)? as f32))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every source (files and proxies) with its parse-error count.
    pub fn sources(&self) -> Result<Vec<SourceRow>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT s.path, s.kind, s.dev, s.ino, s.offset, s.line, s.format, s.updated_ms, \
             (SELECT count(*) FROM parse_errors e WHERE e.path = s.path) FROM sources s ORDER BY s.path",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(SourceRow {
                    state: SourceState {
                        path: self.reread.text("", &r.get::<_, String>(0)?),
                        kind: r.get(1)?,
                        dev: r.get::<_, i64>(2)? as u64,
                        ino: r.get::<_, i64>(3)? as u64,
                        offset: r.get::<_, i64>(4)? as u64,
                        line: r.get::<_, i64>(5)? as u64,
                        format: r.get(6)?,
                    },
                    updated_ms: r.get(7)?,
                    errors: r.get::<_, i64>(8)? as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// One source's stored state, found by its path as the store keeps it
    /// ([`crate::redact::kept_source_path`]).
    pub fn source(&self, path: &str) -> Result<Option<SourceState>, StoreError> {
        let path = crate::redact::kept_source_path(path);
        let path = path.as_str();
        Ok(self
            .conn
            .query_row(
                "SELECT path, kind, dev, ino, offset, line, format FROM sources WHERE path = ?1",
                [path],
                |r| {
                    Ok(SourceState {
                        path: r.get(0)?,
                        kind: r.get(1)?,
                        dev: r.get::<_, i64>(2)? as u64,
                        ino: r.get::<_, i64>(3)? as u64,
                        offset: r.get::<_, i64>(4)? as u64,
                        line: r.get::<_, i64>(5)? as u64,
                        format: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// Parse errors, optionally of one file, in file order.
    pub fn parse_errors(
        &self,
        path: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ParseError>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT path, line, message FROM parse_errors WHERE ?1 IS NULL OR path = ?1 ORDER BY path, line LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![path, limit as i64], |r| {
                Ok(self.reread.parse_error(ParseError {
                    path: r.get(0)?,
                    line: r.get::<_, i64>(1)? as u64,
                    message: r.get(2)?,
                }))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Totals for the status line.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let c = &self.conn;
        let one = |sql: &str| -> Result<u64, StoreError> {
            Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        let mut findings = [0u64; 5];
        let mut open = [0u64; 5];
        // Kept by triggers as rows are written (schema migration 8): no scan.
        let mut st = c.prepare_cached(
            "SELECT severity, sum(n), sum(CASE WHEN status = 'open' THEN n ELSE 0 END) \
             FROM finding_tally GROUP BY severity",
        )?;
        for row in st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })? {
            let (s, n, o) = row?;
            findings[Severity::from_rank(s).rank() as usize] += n as u64;
            open[Severity::from_rank(s).rank() as usize] += o as u64;
        }
        Ok(Counts {
            runs: one("SELECT COALESCE(max(n), 0) FROM tally WHERE name = 'runs'")?,
            spans: one("SELECT COALESCE(max(n), 0) FROM tally WHERE name = 'spans'")?,
            findings,
            open_findings: open.iter().sum(),
            open,
            skills: one("SELECT count(DISTINCT skill_id) FROM skill_hits")?,
            sources: one("SELECT count(*) FROM sources")?,
            parse_errors: one("SELECT count(*) FROM parse_errors")?,
            fts_pending: self.fts_pending()?,
        })
    }
}

// Queries added for the TUI (issue 6).
impl Store {
    /// A run's activity: span starts counted into `buckets` equal slices of
    /// `[start_ms, end_ms]` (for a sparkline). Uses the `(run_id, start_ms)` index.
    pub fn run_histogram(
        &self,
        run_id: &str,
        start_ms: i64,
        end_ms: i64,
        buckets: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let n = buckets.max(1);
        let mut out = vec![0u64; n];
        let width = (end_ms - start_ms).max(0) + 1;
        let mut st = self.conn.prepare_cached(
            "SELECT ((start_ms - ?2) * ?3) / ?4, count(*) FROM spans \
             WHERE run_key = (SELECT key FROM runs WHERE id = ?1) AND start_ms BETWEEN ?2 AND ?5 GROUP BY 1",
        )?;
        let rows = st.query_map(params![run_id, start_ms, n as i64, width, end_ms], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (b, c) = row?;
            let i = (b.max(0) as usize).min(n - 1);
            out[i] += c as u64;
        }
        Ok(out)
    }

    /// A span's parent id: `None` when the span does not exist, `Some(None)` for a root.
    pub fn span_parent(
        &self,
        run_id: &str,
        span_id: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT parent_id FROM spans WHERE run_key = (SELECT key FROM runs WHERE id = ?1) AND id = ?2",
            )?;
        Ok(st
            .query_row([run_id, span_id], |r| r.get::<_, Option<String>>(0))
            .optional()?)
    }

    /// The position of a span in its run's time order (as [`Store::spans`] pages it:
    /// replay and export). The TUI's Run view lists spans as a tree instead and
    /// locates a span in that order itself (`tui::data`).
    pub fn span_position(&self, run_id: &str, span_id: &str) -> Result<Option<u64>, StoreError> {
        let sql = "SELECT count(*) FROM spans s, (SELECT run_key, start_ms, origin_line, key FROM spans \
                   WHERE run_key = (SELECT key FROM runs WHERE id = ?1) AND id = ?2) t WHERE s.run_key = t.run_key AND \
                   (s.start_ms IS NULL, COALESCE(s.start_ms, 0), s.origin_line, s.key) < (t.start_ms IS NULL, COALESCE(t.start_ms, 0), t.origin_line, t.key)";
        if self.span_parent(run_id, span_id)?.is_none() {
            return Ok(None);
        }
        Ok(Some(
            self.conn
                .query_row(sql, [run_id, span_id], |r| r.get::<_, i64>(0))? as u64,
        ))
    }

    /// A run's span tree without span contents: each span's key, id, parent id,
    /// start and origin line, in no particular order (the Run view orders them
    /// with `store::tree_order::tree_order`). Cheap enough for a run of 100,000 spans.
    pub fn span_skeleton(&self, run_id: &str) -> Result<Vec<SpanLink>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT key, id, parent_id, start_ms, origin_line FROM spans \
             WHERE run_key = (SELECT key FROM runs WHERE id = ?1)",
        )?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(SpanLink {
                    key: r.get(0)?,
                    id: r.get(1)?,
                    parent_id: r.get(2)?,
                    start_ms: r.get(3)?,
                    origin_line: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// [`Store::span_skeleton`] packed into one [`Skeleton`] (what the Run
    /// view orders: the same spans, without an allocation per span).
    pub fn span_skeleton_packed(&self, run_id: &str) -> Result<Skeleton, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT key, id, parent_id, start_ms, origin_line FROM spans \
             WHERE run_key = (SELECT key FROM runs WHERE id = ?1)",
        )?;
        let mut out = Skeleton::default();
        let mut rows = st.query([run_id])?;
        while let Some(r) = rows.next()? {
            let id = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let parent = r
                .get_ref(2)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?;
            out.push(r.get(0)?, id, parent, r.get(3)?, r.get(4)?);
        }
        Ok(out)
    }

    /// Spans by their keys ([`SpanRow::rowid`]), in the order of `keys`; keys
    /// that no longer exist are left out. One query for a page of keys.
    pub fn spans_by_keys(&self, keys: &[i64]) -> Result<Vec<SpanRow>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
        let sql =
            format!("SELECT {SPAN_COLS} FROM spans WHERE key IN (SELECT value FROM json_each(?1))");
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut found: std::collections::HashMap<i64, SpanRow> = st
            .query_map([list], span_row)?
            .map(|r| r.map(|row| (row.rowid, self.reread.span_row(row))))
            .collect::<Result<_, _>>()?;
        Ok(keys.iter().filter_map(|k| found.remove(k)).collect())
    }

    /// A span's key ([`SpanRow::rowid`]) by run and span id.
    pub fn span_key(&self, run_id: &str, span_id: &str) -> Result<Option<i64>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT key FROM spans WHERE run_key = (SELECT key FROM runs WHERE id = ?1) AND id = ?2",
        )?;
        Ok(st
            .query_row([run_id, span_id], |r| r.get::<_, i64>(0))
            .optional()?)
    }

    /// How many distinct skills were seen.
    pub fn skill_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(DISTINCT skill_id) FROM skill_hits", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }
}
