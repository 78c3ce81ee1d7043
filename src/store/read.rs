//! The store's read side: paged, filtered queries for listings, the TUI and exports.
//!
//! Every list query takes `offset` and `limit`, so no view ever loads a whole table.

pub use super::fts::SearchHit;
use super::{Store, StoreError};
use crate::ingest::pipeline::SourceState;
use crate::model::{
    AgentKind, Finding, Origin, ParseError, Run, Severity, Span, SpanKind, SpanStatus, TriageStatus,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};

/// A run with its counters.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub run: Run,
    pub span_count: u64,
    pub tool_count: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub models: Vec<String>,
    /// Findings by severity, indexed by `Severity::rank()`.
    pub findings: [u64; 5],
}

impl RunRow {
    /// Highest severity among this run's findings.
    pub fn worst(&self) -> Option<Severity> {
        (0..5)
            .rev()
            .find(|&i| self.findings[i] > 0)
            .map(|i| Severity::from_rank(i as i64))
    }
}

/// How to order runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunSort {
    /// Newest first.
    #[default]
    Started,
    /// Worst findings first.
    Findings,
    /// Most spans first.
    Spans,
}

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    pub agent: Option<String>,
    /// Substring of title, id or source.
    pub text: Option<String>,
    /// Only runs with a finding at or above this severity.
    pub min_severity: Option<Severity>,
}

/// A span with its storage position.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    pub rowid: i64,
    pub span: Span,
}

/// A finding with its triage state.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub id: i64,
    pub finding: Finding,
    pub status: TriageStatus,
    pub note: Option<String>,
    pub triaged_ms: Option<i64>,
}

/// Which findings to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingFilter {
    pub min_severity: Option<Severity>,
    pub status: Option<TriageStatus>,
    pub run_id: Option<String>,
    pub rule_id: Option<String>,
    pub agent: Option<String>,
    pub skill_id: Option<String>,
}

/// One skill and where it was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillSummary {
    pub skill_id: String,
    pub name: String,
    pub version: Option<String>,
    /// Methods seen, comma separated.
    pub methods: String,
    pub confidence: f32,
    pub hits: u64,
    pub runs: u64,
    pub last_ms: Option<i64>,
}

/// A source and its parse-error count.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub state: SourceState,
    pub errors: u64,
    pub updated_ms: i64,
}

/// Totals for status lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub runs: u64,
    pub spans: u64,
    pub findings: [u64; 5],
    pub open_findings: u64,
    pub skills: u64,
    pub sources: u64,
    pub parse_errors: u64,
    pub fts_pending: u64,
}

const RUN_COLS: &str =
    "id, agent, source, parent_run_id, started_ms, ended_ms, title, cwd, models, span_count, \
    tool_count, input_tokens, output_tokens, f_info, f_low, f_medium, f_high, f_critical";

fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
    let models: String = r.get(8)?;
    Ok(RunRow {
        run: Run {
            id: r.get(0)?,
            agent: r.get::<_, Option<String>>(1)?.map(|a| AgentKind::parse(&a)),
            source: r.get(2)?,
            parent_run_id: r.get(3)?,
            started_ms: r.get(4)?,
            ended_ms: r.get(5)?,
            title: r.get(6)?,
            cwd: r.get(7)?,
        },
        models: models
            .split(',')
            .filter(|m| !m.is_empty())
            .map(String::from)
            .collect(),
        span_count: r.get::<_, i64>(9)? as u64,
        tool_count: r.get::<_, i64>(10)? as u64,
        input_tokens: r.get::<_, i64>(11)? as u64,
        output_tokens: r.get::<_, i64>(12)? as u64,
        findings: [
            r.get::<_, i64>(13)? as u64,
            r.get::<_, i64>(14)? as u64,
            r.get::<_, i64>(15)? as u64,
            r.get::<_, i64>(16)? as u64,
            r.get::<_, i64>(17)? as u64,
        ],
    })
}

const SPAN_COLS: &str = "rowid, run_id, id, parent_id, kind, name, start_ms, end_ms, status, model, tool_name, \
    tool_call_id, tool_input, tool_output, text, attributes, input_tokens, output_tokens, origin_path, origin_line";

fn span_row(r: &Row<'_>) -> rusqlite::Result<SpanRow> {
    let attrs: Option<String> = r.get(15)?;
    let attributes = attrs
        .and_then(|a| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&a).ok())
        .unwrap_or_default();
    Ok(SpanRow {
        rowid: r.get(0)?,
        span: Span {
            run_id: r.get(1)?,
            id: r.get(2)?,
            parent_id: r.get(3)?,
            kind: SpanKind::parse(&r.get::<_, String>(4)?),
            name: r.get(5)?,
            start_ms: r.get(6)?,
            end_ms: r.get(7)?,
            status: SpanStatus::parse(&r.get::<_, String>(8)?),
            model: r.get(9)?,
            tool_name: r.get(10)?,
            tool_call_id: r.get(11)?,
            tool_input: r.get(12)?,
            tool_output: r.get(13)?,
            text: r.get(14)?,
            attributes,
            input_tokens: r.get::<_, Option<i64>>(16)?.map(|t| t as u64),
            output_tokens: r.get::<_, Option<i64>>(17)?.map(|t| t as u64),
            origin: Origin::new(r.get::<_, String>(18)?, r.get::<_, i64>(19)? as u64),
        },
    })
}

const FINDING_COLS: &str = "f.id, f.fingerprint, f.rule_id, f.severity, f.confidence, f.run_id, f.span_ids, f.title, \
    f.message, f.evidence, f.origin_path, f.origin_line, f.skill_id, f.ts_ms, f.related, f.status, f.note, f.triaged_ms";

fn finding_row(r: &Row<'_>) -> rusqlite::Result<FindingRow> {
    let span_ids: String = r.get(6)?;
    let related: String = r.get(14)?;
    let origin_path: Option<String> = r.get(10)?;
    let origin_line: Option<i64> = r.get(11)?;
    Ok(FindingRow {
        id: r.get(0)?,
        finding: Finding {
            fingerprint: r.get(1)?,
            rule_id: r.get(2)?,
            severity: Severity::from_rank(r.get(3)?),
            confidence: r.get::<_, f64>(4)? as f32,
            run_id: r.get(5)?,
            span_ids: serde_json::from_str(&span_ids).unwrap_or_default(),
            title: r.get(7)?,
            message: r.get(8)?,
            evidence: r.get(9)?,
            origin: origin_path.map(|p| Origin::new(p, origin_line.unwrap_or(0) as u64)),
            skill_id: r.get(12)?,
            ts_ms: r.get(13)?,
            related: serde_json::from_str(&related).unwrap_or_default(),
        },
        status: r.get::<_, String>(15)?.parse().unwrap_or_default(),
        note: r.get(16)?,
        triaged_ms: r.get(17)?,
    })
}

fn run_where(f: &RunFilter) -> (String, Vec<SqlValue>) {
    let mut w = vec!["1=1".to_string()];
    let mut p: Vec<SqlValue> = Vec::new();
    if let Some(a) = &f.agent {
        p.push(SqlValue::Text(a.clone()));
        w.push(format!("agent = ?{}", p.len()));
    }
    if let Some(t) = &f.text {
        p.push(SqlValue::Text(format!(
            "%{}%",
            t.replace('%', "\\%").replace('_', "\\_")
        )));
        let n = p.len();
        w.push(format!(
            "(title LIKE ?{n} ESCAPE '\\' OR id LIKE ?{n} ESCAPE '\\' OR source LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(s) = f.min_severity {
        let cols = ["f_info", "f_low", "f_medium", "f_high", "f_critical"];
        let any: Vec<_> = cols[s.rank() as usize..]
            .iter()
            .map(|c| format!("{c} > 0"))
            .collect();
        w.push(format!("({})", any.join(" OR ")));
    }
    (w.join(" AND "), p)
}

fn finding_where(f: &FindingFilter) -> (String, Vec<SqlValue>) {
    let mut w = vec!["1=1".to_string()];
    let mut p: Vec<SqlValue> = Vec::new();
    if let Some(s) = f.min_severity {
        p.push(SqlValue::Integer(s.rank()));
        w.push(format!("f.severity >= ?{}", p.len()));
    }
    if let Some(s) = f.status {
        p.push(SqlValue::Text(s.as_str().into()));
        w.push(format!("f.status = ?{}", p.len()));
    }
    for (col, v) in [
        ("f.run_id", &f.run_id),
        ("f.rule_id", &f.rule_id),
        ("f.skill_id", &f.skill_id),
    ] {
        if let Some(v) = v {
            p.push(SqlValue::Text(v.clone()));
            w.push(format!("{col} = ?{}", p.len()));
        }
    }
    if let Some(a) = &f.agent {
        p.push(SqlValue::Text(a.clone()));
        w.push(format!(
            "f.run_id IN (SELECT id FROM runs WHERE agent = ?{})",
            p.len()
        ));
    }
    (w.join(" AND "), p)
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
            RunSort::Findings => "f_critical DESC, f_high DESC, f_medium DESC, f_low DESC, f_info DESC, started_ms DESC",
            RunSort::Spans => "span_count DESC, started_ms DESC",
        };
        let head = format!("SELECT {RUN_COLS} FROM runs");
        self.paged(&head, order, run_where(filter), offset, limit, run_row)
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
        Ok(self.conn.query_row(&sql, [id], run_row).optional()?)
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
            "SELECT {SPAN_COLS} FROM spans WHERE run_id = ?1 ORDER BY start_ms IS NULL, start_ms, origin_line, rowid LIMIT ?2 OFFSET ?3"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(params![run_id, limit as i64, offset as i64], span_row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// How many spans a run has.
    pub fn span_count(&self, run_id: &str) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM spans WHERE run_id = ?1",
            [run_id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// One span.
    pub fn span(&self, run_id: &str, span_id: &str) -> Result<Option<Span>, StoreError> {
        let sql = format!("SELECT {SPAN_COLS} FROM spans WHERE run_id = ?1 AND id = ?2");
        Ok(self
            .conn
            .query_row(&sql, [run_id, span_id], span_row)
            .optional()?
            .map(|r| r.span))
    }

    /// A page of findings: severity (worst first), then time.
    pub fn findings(
        &self,
        filter: &FindingFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let head = format!("SELECT {FINDING_COLS} FROM findings f");
        self.paged(
            &head,
            "f.severity DESC, f.ts_ms, f.id",
            finding_where(filter),
            offset,
            limit,
            finding_row,
        )
    }

    /// How many findings match.
    pub fn finding_count(&self, filter: &FindingFilter) -> Result<u64, StoreError> {
        self.counted("findings f", finding_where(filter))
    }

    /// One finding by id.
    pub fn finding(&self, id: i64) -> Result<Option<FindingRow>, StoreError> {
        let sql = format!("SELECT {FINDING_COLS} FROM findings f WHERE f.id = ?1");
        Ok(self.conn.query_row(&sql, [id], finding_row).optional()?)
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
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Skills seen, most hits first.
    pub fn skills(&self, offset: usize, limit: usize) -> Result<Vec<SkillSummary>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT skill_id, max(name), max(version), group_concat(DISTINCT method), max(confidence), count(*), \
             count(DISTINCT run_id), max(ts_ms) FROM skill_hits GROUP BY skill_id ORDER BY count(*) DESC, skill_id \
             LIMIT ?1 OFFSET ?2",
        )?;
        let rows = st
            .query_map(params![limit as i64, offset as i64], |r| {
                Ok(SkillSummary {
                    skill_id: r.get(0)?,
                    name: r.get(1)?,
                    version: r.get(2)?,
                    methods: r.get(3)?,
                    confidence: r.get::<_, f64>(4)? as f32,
                    hits: r.get::<_, i64>(5)? as u64,
                    runs: r.get::<_, i64>(6)? as u64,
                    last_ms: r.get(7)?,
                })
            })?
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
                        path: r.get(0)?,
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

    /// One source's stored state.
    pub fn source(&self, path: &str) -> Result<Option<SourceState>, StoreError> {
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
                Ok(ParseError {
                    path: r.get(0)?,
                    line: r.get::<_, i64>(1)? as u64,
                    message: r.get(2)?,
                })
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
        let mut st =
            c.prepare_cached("SELECT severity, count(*) FROM findings GROUP BY severity")?;
        for row in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
            let (s, n) = row?;
            findings[Severity::from_rank(s).rank() as usize] += n as u64;
        }
        Ok(Counts {
            runs: one("SELECT count(*) FROM runs")?,
            spans: one("SELECT COALESCE(sum(span_count), 0) FROM runs")?,
            findings,
            open_findings: one("SELECT count(*) FROM findings WHERE status = 'open'")?,
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
             WHERE run_id = ?1 AND start_ms BETWEEN ?2 AND ?5 GROUP BY 1",
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
            .prepare_cached("SELECT parent_id FROM spans WHERE run_id = ?1 AND id = ?2")?;
        Ok(st
            .query_row([run_id, span_id], |r| r.get::<_, Option<String>>(0))
            .optional()?)
    }

    /// The position of a span in its run's time order (as [`Store::spans`] pages it).
    pub fn span_position(&self, run_id: &str, span_id: &str) -> Result<Option<u64>, StoreError> {
        let sql = "SELECT count(*) FROM spans s, (SELECT start_ms, origin_line, rowid AS r FROM spans \
                   WHERE run_id = ?1 AND id = ?2) t WHERE s.run_id = ?1 AND \
                   (s.start_ms IS NULL, COALESCE(s.start_ms, 0), s.origin_line, s.rowid) < (t.start_ms IS NULL, COALESCE(t.start_ms, 0), t.origin_line, t.r)";
        if self.span_parent(run_id, span_id)?.is_none() {
            return Ok(None);
        }
        Ok(Some(
            self.conn
                .query_row(sql, [run_id, span_id], |r| r.get::<_, i64>(0))? as u64,
        ))
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
