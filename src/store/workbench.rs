//! The read queries behind the triage workbench (`tui`): a filter's findings as
//! light keys (the TUI groups them), findings by id, open findings counted per
//! run, each span's findings (for the Run view's glyphs), the skills seen or
//! blamed with their findings and integrity, and where a skill was seen.
//!
//! Everything is paged or bounded; none of it loads span contents.

use super::rows::{finding_row, finding_where_from, like, run_where, FINDING_COLS};
use super::{FindingFilter, FindingRow, RunFilter, Store, StoreError};
use crate::model::{Severity, TriageStatus};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter};
use std::collections::HashMap;

/// A finding without its texts: enough to order, group and count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingKey {
    pub id: i64,
    pub run_id: String,
    /// The primary span.
    pub span_id: Option<String>,
    pub rule_id: String,
    pub severity: Severity,
    pub status: TriageStatus,
}

/// One finding on a span of a run, for marking the span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanFlagRow {
    pub span_id: String,
    /// The span's store key ([`crate::store::SpanRow::rowid`]).
    pub span_key: i64,
    pub severity: Severity,
    pub open: bool,
}

/// A skill seen in a span (a registry or invocation hit) or blamed for a
/// finding, with what it led to.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillRow {
    pub skill_id: String,
    pub name: String,
    pub version: Option<String>,
    /// How it was recognised, comma separated (empty when only findings name it).
    pub methods: String,
    pub confidence: f32,
    pub hits: u64,
    /// Runs it was seen in or blamed in.
    pub runs: u64,
    pub last_ms: Option<i64>,
    /// Open findings attributed to it, by `Severity::rank()`.
    pub open: [u64; 5],
    /// Every finding attributed to it, any status.
    pub findings: u64,
    /// `SKL-TRACE-002` findings: its content differs from the registered digest.
    pub changed: u64,
    /// `SKL-TRACE-003` findings: no loaded registry knows it.
    pub unknown: u64,
}

/// Which skills to list: each word in the id or name, and (when set) only
/// skills blamed for a finding that meets every condition of `finding`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SkillFilter {
    pub words: Vec<String>,
    pub finding: Option<FindingFilter>,
}

/// Where a skill was seen: a hit (`what` = method) or a finding (`what` = rule id).
#[derive(Debug, Clone, PartialEq)]
pub struct SkillSighting {
    pub run_id: String,
    pub span_id: String,
    pub what: String,
    pub severity: Option<Severity>,
    pub confidence: f32,
}

const SKILLS_SQL: &str = "WITH h AS (SELECT skill_id, max(name) AS name, max(version) AS version, \
    group_concat(DISTINCT method) AS methods, max(confidence) AS conf, count(*) AS hits, max(ts_ms) AS last \
    FROM skill_hits GROUP BY skill_id), \
  f AS (SELECT skill_id, sum(status = 'open' AND severity = 0) AS o0, sum(status = 'open' AND severity = 1) AS o1, \
    sum(status = 'open' AND severity = 2) AS o2, sum(status = 'open' AND severity = 3) AS o3, \
    sum(status = 'open' AND severity = 4) AS o4, count(*) AS n, sum(rule_id = 'SKL-TRACE-002') AS changed, \
    sum(rule_id = 'SKL-TRACE-003') AS unknown, max(ts_ms) AS last \
    FROM findings WHERE COALESCE(skill_id, '') <> '' GROUP BY skill_id), \
  r AS (SELECT skill_id, count(DISTINCT run_id) AS runs FROM (SELECT skill_id, run_id FROM skill_hits \
    UNION SELECT skill_id, run_id FROM findings WHERE COALESCE(skill_id, '') <> '') GROUP BY skill_id), \
  ids AS (SELECT skill_id FROM h UNION SELECT skill_id FROM f), \
  s AS (SELECT ids.skill_id AS skill_id, h.name AS name, h.version AS version, COALESCE(h.methods, '') AS methods, \
    COALESCE(h.conf, 0) AS conf, COALESCE(h.hits, 0) AS hits, COALESCE(r.runs, 0) AS runs, \
    max(COALESCE(h.last, f.last), COALESCE(f.last, h.last)) AS last, COALESCE(f.o0, 0) AS o0, COALESCE(f.o1, 0) AS o1, \
    COALESCE(f.o2, 0) AS o2, COALESCE(f.o3, 0) AS o3, COALESCE(f.o4, 0) AS o4, COALESCE(f.n, 0) AS n, \
    COALESCE(f.changed, 0) AS changed, COALESCE(f.unknown, 0) AS unknown \
    FROM ids LEFT JOIN h ON h.skill_id = ids.skill_id LEFT JOIN f ON f.skill_id = ids.skill_id \
    LEFT JOIN r ON r.skill_id = ids.skill_id)";

impl Store {
    /// The findings `filter` selects as keys, worst first then oldest (the
    /// Findings view's order), at most `limit`.
    pub fn finding_keys(
        &self,
        filter: &FindingFilter,
        limit: usize,
    ) -> Result<Vec<FindingKey>, StoreError> {
        let (w, mut p) = finding_where_from(filter, 0);
        p.push(SqlValue::Integer(limit.min(i64::MAX as usize) as i64));
        let sql = format!(
            "SELECT f.id, f.run_id, f.span_id, f.rule_id, f.severity, f.status FROM findings f \
             WHERE {w} ORDER BY f.severity DESC, f.ts_ms, f.id LIMIT ?{}",
            p.len()
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(params_from_iter(p), |r| {
                Ok(FindingKey {
                    id: r.get(0)?,
                    run_id: r.get(1)?,
                    span_id: r.get(2)?,
                    rule_id: r.get(3)?,
                    severity: Severity::from_rank(r.get(4)?),
                    status: r.get::<_, String>(5)?.parse().unwrap_or_default(),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Findings by id, in the order of `ids` (ids that name none are left out).
    pub fn findings_by_ids(&self, ids: &[i64]) -> Result<Vec<FindingRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        let sql = format!(
            "SELECT {FINDING_COLS} FROM findings f WHERE f.id IN (SELECT value FROM json_each(?1))"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut found: HashMap<i64, FindingRow> = st
            .query_map([list], finding_row)?
            .map(|r| r.map(|row| (row.id, self.reread.finding_row(row))))
            .collect::<Result<_, _>>()?;
        Ok(ids.iter().filter_map(|i| found.remove(i)).collect())
    }

    /// Open findings of each run in `run_ids`, by `Severity::rank()` (runs
    /// without any are left out).
    pub fn open_counts(&self, run_ids: &[&str]) -> Result<HashMap<String, [u64; 5]>, StoreError> {
        let mut out: HashMap<String, [u64; 5]> = HashMap::new();
        if run_ids.is_empty() {
            return Ok(out);
        }
        let list = serde_json::to_string(run_ids).unwrap_or_else(|_| "[]".into());
        // `+status`: look the runs up by `findings_run`; the planner would
        // otherwise walk every open finding by `findings_status` (seconds on a
        // store of 400k findings, where the runs' own findings take a millisecond).
        let mut st = self.conn.prepare_cached(
            "SELECT run_id, severity, count(*) FROM findings WHERE +status = 'open' \
             AND run_id IN (SELECT value FROM json_each(?1)) GROUP BY run_id, severity",
        )?;
        let rows = st.query_map([list], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (run, sev, n) = row?;
            out.entry(run).or_default()[Severity::from_rank(sev).rank() as usize] += n as u64;
        }
        Ok(out)
    }

    /// Every finding of a run with its primary span and that span's key
    /// (findings on no span, or on a span not in the run, are left out).
    pub fn span_flags(&self, run_id: &str) -> Result<Vec<SpanFlagRow>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT f.span_id, s.key, f.severity, f.status = 'open' FROM findings f \
             JOIN spans s ON s.run_key = (SELECT key FROM runs WHERE id = ?1) AND s.id = f.span_id \
             WHERE f.run_id = ?1 AND f.span_id IS NOT NULL",
        )?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(SpanFlagRow {
                    span_id: r.get(0)?,
                    span_key: r.get(1)?,
                    severity: Severity::from_rank(r.get(2)?),
                    open: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The skills seen in a run or blamed for its findings: (skill id, its
    /// content differs from the registry), worst first.
    pub fn run_skills(&self, run_id: &str) -> Result<Vec<(String, bool)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT skill_id, max(changed) FROM (SELECT skill_id, 0 AS changed FROM skill_hits WHERE run_id = ?1 \
             UNION ALL SELECT skill_id, rule_id = 'SKL-TRACE-002' FROM findings WHERE run_id = ?1 AND COALESCE(skill_id, '') <> '') \
             GROUP BY skill_id ORDER BY max(changed) DESC, skill_id LIMIT 20",
        )?;
        let rows = st
            .query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The skills recognised in one span: (skill id, method, confidence).
    pub fn span_skills(
        &self,
        run_id: &str,
        span_id: &str,
    ) -> Result<Vec<(String, String, f32)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT skill_id, method, confidence FROM skill_hits WHERE run_id = ?1 AND span_id = ?2 \
             ORDER BY confidence DESC, skill_id LIMIT 20",
        )?;
        let rows = st
            .query_map([run_id, span_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, f64>(2)? as f32))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// A page of skills: changed ones first, then by worst open finding, then most hits.
    pub fn skill_rows(
        &self,
        filter: &SkillFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<SkillRow>, StoreError> {
        let (w, mut p) = skill_where(filter);
        p.push(SqlValue::Integer(limit as i64));
        p.push(SqlValue::Integer(offset as i64));
        let sql = format!(
            "{SKILLS_SQL} SELECT skill_id, name, version, methods, conf, hits, runs, last, o0, o1, o2, o3, o4, n, \
             changed, unknown FROM s WHERE {w} ORDER BY changed > 0 DESC, o4 DESC, o3 DESC, o2 DESC, o1 DESC, \
             hits DESC, skill_id LIMIT ?{} OFFSET ?{}",
            p.len() - 1,
            p.len()
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(params_from_iter(p), |r| {
                let id: String = r.get(0)?;
                let name: Option<String> = r.get(1)?;
                let n =
                    |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
                let name = name.unwrap_or_else(|| id.rsplit('/').next().unwrap_or(&id).to_string());
                let version: Option<String> = r.get(2)?;
                Ok(SkillRow {
                    name: self.reread.text("", &name),
                    skill_id: id,
                    version: version.map(|v| self.reread.text("", &v)),
                    methods: r.get(3)?,
                    confidence: r.get::<_, f64>(4)? as f32,
                    hits: n(5)?,
                    runs: n(6)?,
                    last_ms: r.get(7)?,
                    open: [n(8)?, n(9)?, n(10)?, n(11)?, n(12)?],
                    findings: n(13)?,
                    changed: n(14)?,
                    unknown: n(15)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// How many skills `filter` selects.
    pub fn skill_row_count(&self, filter: &SkillFilter) -> Result<u64, StoreError> {
        let (w, p) = skill_where(filter);
        let sql = format!("{SKILLS_SQL} SELECT count(*) FROM s WHERE {w}");
        Ok(self
            .conn
            .query_row(&sql, params_from_iter(p), |r| r.get::<_, i64>(0))? as u64)
    }

    /// The sources of the runs `filter` selects, each once.
    pub fn run_sources(&self, filter: &RunFilter) -> Result<Vec<String>, StoreError> {
        let (w, p) = run_where(filter);
        let sql = format!("SELECT DISTINCT source FROM runs WHERE {w}");
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(params_from_iter(p), |r| {
                Ok(self.reread.text("", &r.get::<_, String>(0)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Where a skill was seen (hits) or blamed (findings), oldest first.
    pub fn skill_sightings(
        &self,
        skill_id: &str,
        limit: usize,
    ) -> Result<Vec<SkillSighting>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT run_id, span_id, method, NULL, confidence, ts_ms FROM skill_hits WHERE skill_id = ?1 \
             UNION ALL SELECT run_id, COALESCE(span_id, ''), rule_id, severity, confidence, ts_ms FROM findings \
             WHERE skill_id = ?1 ORDER BY 6, 1, 2 LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![skill_id, limit as i64], |r| {
                Ok(SkillSighting {
                    run_id: r.get(0)?,
                    span_id: r.get(1)?,
                    what: r.get(2)?,
                    severity: r.get::<_, Option<i64>>(3)?.map(Severity::from_rank),
                    confidence: r.get::<_, f64>(4)? as f32,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

fn skill_where(f: &SkillFilter) -> (String, Vec<SqlValue>) {
    let mut w = vec!["1=1".to_string()];
    let mut p: Vec<SqlValue> = Vec::new();
    for word in &f.words {
        p.push(like(word));
        let n = p.len();
        w.push(format!(
            "(skill_id LIKE ?{n} ESCAPE '\\' OR COALESCE(name, '') LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(ff) = &f.finding {
        let (fw, fp) = finding_where_from(ff, p.len());
        p.extend(fp);
        w.push(format!(
            "skill_id IN (SELECT f.skill_id FROM findings f WHERE {fw})"
        ));
    }
    (w.join(" AND "), p)
}
