//! The read side's row types (runs, spans, findings, skills, sources, counts), the
//! column lists they are read from, their row mappers and the WHERE builders of their filters.

use crate::model::SourceState;
use crate::model::{
    AgentKind, Finding, GuardDecision, Origin, Run, Severity, Span, SpanKind, SpanStatus,
    TriageStatus,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::Row;

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
    /// What the run's model calls cost, its subagents' included; `None`
    /// until priced (`pricing::ledger::costs_of_runs`).
    pub cost: Option<crate::pricing::RunCost>,
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
    /// Only runs whose id starts with this.
    pub id_prefix: Option<String>,
    /// Only runs with one finding that meets every condition of this filter.
    pub finding: Option<Box<FindingFilter>>,
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
    /// Why it was set aside (false positive, suppressed): SARIF's justification.
    pub reason: Option<String>,
    /// Who set the status (`$USER` of the person triaging), when known.
    pub triaged_by: Option<String>,
    pub triaged_ms: Option<i64>,
    /// What the guard answered the call that raised it (`None`: not guarded).
    pub guard: Option<GuardDecision>,
    /// Notes, oldest first.
    pub notes: Vec<Note>,
}

/// A note on a finding: who wrote it, when, and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    pub author: String,
    pub ts_ms: i64,
    pub text: String,
}

/// Which findings to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingFilter {
    pub min_severity: Option<Severity>,
    pub status: Option<TriageStatus>,
    pub run_id: Option<String>,
    pub rule_id: Option<String>,
    pub agent: Option<String>,
    /// A skill id, or its last path segment (`invoice-filler` for `acme/invoice-filler`).
    pub skill_id: Option<String>,
    /// Only findings of runs whose id starts with this.
    pub run_prefix: Option<String>,
    /// Words that must each appear (case-insensitively) in the rule id, title,
    /// message, evidence, skill or run id.
    pub words: Vec<String>,
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
    /// Open findings by `Severity::rank()`.
    pub open: [u64; 5],
    pub skills: u64,
    pub sources: u64,
    pub parse_errors: u64,
    pub fts_pending: u64,
}

pub(super) const RUN_COLS: &str =
    "id, agent, source, parent_run_id, started_ms, ended_ms, title, cwd, models, span_count, \
    tool_count, input_tokens, output_tokens, f_info, f_low, f_medium, f_high, f_critical, title_rank";

pub(super) fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
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
            title_kind: crate::model::TitleKind::from_rank(r.get(18)?),
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
        cost: None,
        findings: [
            r.get::<_, i64>(13)? as u64,
            r.get::<_, i64>(14)? as u64,
            r.get::<_, i64>(15)? as u64,
            r.get::<_, i64>(16)? as u64,
            r.get::<_, i64>(17)? as u64,
        ],
    })
}

pub(super) const SPAN_COLS: &str = "key, (SELECT r.id FROM runs r WHERE r.key = spans.run_key), id, parent_id, kind, name, start_ms, end_ms, status, model, tool_name, \
    tool_call_id, tool_input, tool_output, text, attributes, input_tokens, output_tokens, origin_path, origin_line, \
    cache_read_tokens, cache_write_tokens, cache_write_1h_tokens";

pub(super) fn span_row(r: &Row<'_>) -> rusqlite::Result<SpanRow> {
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
            cache_read_tokens: r.get::<_, Option<i64>>(20)?.map(|t| t as u64),
            cache_write_tokens: r.get::<_, Option<i64>>(21)?.map(|t| t as u64),
            cache_write_1h_tokens: r.get::<_, Option<i64>>(22)?.map(|t| t as u64),
        },
    })
}

pub(super) const FINDING_COLS: &str = "f.id, f.fingerprint, f.rule_id, f.severity, f.confidence, f.run_id, f.span_ids, f.title, \
    f.message, f.evidence, f.origin_path, f.origin_line, f.skill_id, f.ts_ms, f.related, f.status, f.reason, f.triaged_ms, \
    f.triaged_by, (SELECT json_group_array(json_array(n.author, n.ts_ms, n.text)) FROM \
    (SELECT author, ts_ms, text FROM finding_notes WHERE finding_id = f.id ORDER BY ts_ms, id) n), f.guard_decision";

pub(super) fn finding_row(r: &Row<'_>) -> rusqlite::Result<FindingRow> {
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
        reason: r.get(16)?,
        triaged_ms: r.get(17)?,
        triaged_by: r.get(18)?,
        notes: notes(r.get::<_, Option<String>>(19)?.as_deref()),
        guard: r
            .get::<_, Option<String>>(20)?
            .as_deref()
            .and_then(GuardDecision::parse),
    })
}

/// Notes as the finding query aggregates them: `[[author, ts_ms, text], …]`.
fn notes(json: Option<&str>) -> Vec<Note> {
    let rows: Vec<(String, i64, String)> = json
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    rows.into_iter()
        .map(|(author, ts_ms, text)| Note {
            author,
            ts_ms,
            text,
        })
        .collect()
}

/// `%text%` for LIKE, with LIKE's wildcards escaped (`ESCAPE '\'`).
pub(super) fn like(text: &str) -> SqlValue {
    SqlValue::Text(format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    ))
}

/// `prefix%` for LIKE, wildcards escaped.
fn like_prefix(text: &str) -> SqlValue {
    match like(text) {
        SqlValue::Text(t) => SqlValue::Text(t[1..].to_string()),
        v => v,
    }
}

pub(super) fn run_where(f: &RunFilter) -> (String, Vec<SqlValue>) {
    let mut w = vec!["1=1".to_string()];
    let mut p: Vec<SqlValue> = Vec::new();
    if let Some(id) = &f.id_prefix {
        p.push(like_prefix(id));
        w.push(format!("id LIKE ?{} ESCAPE '\\'", p.len()));
    }
    if let Some(ff) = &f.finding {
        let (fw, fp) = finding_where_from(ff, p.len());
        p.extend(fp);
        w.push(format!(
            "id IN (SELECT f.run_id FROM findings f WHERE {fw})"
        ));
    }
    if let Some(a) = &f.agent {
        p.push(SqlValue::Text(a.clone()));
        w.push(format!("agent = ?{}", p.len()));
    }
    // Each word must appear (case-insensitively) in the title, id, source or models.
    for word in f.text.iter().flat_map(|t| t.split_whitespace()) {
        p.push(like(word));
        let n = p.len();
        w.push(format!(
            "(title LIKE ?{n} ESCAPE '\\' OR id LIKE ?{n} ESCAPE '\\' OR source LIKE ?{n} ESCAPE '\\' \
             OR models LIKE ?{n} ESCAPE '\\')"
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

pub(super) fn finding_where(f: &FindingFilter) -> (String, Vec<SqlValue>) {
    finding_where_from(f, 0)
}

/// The WHERE clause of `f` over `findings f`, its parameters numbered after `first`.
pub(super) fn finding_where_from(f: &FindingFilter, first: usize) -> (String, Vec<SqlValue>) {
    let mut w = vec!["1=1".to_string()];
    let mut p: Vec<SqlValue> = Vec::new();
    let n = |p: &Vec<SqlValue>| first + p.len();
    if let Some(r) = &f.run_prefix {
        p.push(like_prefix(r));
        w.push(format!("f.run_id LIKE ?{} ESCAPE '\\'", n(&p)));
    }
    for word in &f.words {
        p.push(like(word));
        let k = n(&p);
        w.push(format!(
            "(f.rule_id LIKE ?{k} ESCAPE '\\' OR f.title LIKE ?{k} ESCAPE '\\' OR f.message LIKE ?{k} ESCAPE '\\' \
             OR f.evidence LIKE ?{k} ESCAPE '\\' OR COALESCE(f.skill_id, '') LIKE ?{k} ESCAPE '\\' OR f.run_id LIKE ?{k} ESCAPE '\\')"
        ));
    }
    if let Some(s) = f.min_severity {
        p.push(SqlValue::Integer(s.rank()));
        w.push(format!("f.severity >= ?{}", n(&p)));
    }
    if let Some(s) = f.status {
        p.push(SqlValue::Text(s.as_str().into()));
        w.push(format!("f.status = ?{}", n(&p)));
    }
    for (col, v) in [("f.run_id", &f.run_id), ("f.rule_id", &f.rule_id)] {
        if let Some(v) = v {
            p.push(SqlValue::Text(v.clone()));
            w.push(format!("{col} = ?{}", n(&p)));
        }
    }
    if let Some(v) = &f.skill_id {
        p.push(SqlValue::Text(v.clone()));
        let k = n(&p);
        w.push(format!(
            "(f.skill_id = ?{k} OR (length(f.skill_id) > length(?{k}) AND substr(f.skill_id, -length(?{k}) - 1) = '/' || ?{k}))"
        ));
    }
    if let Some(a) = &f.agent {
        p.push(SqlValue::Text(a.clone()));
        w.push(format!(
            "f.run_id IN (SELECT id FROM runs WHERE agent = ?{})",
            n(&p)
        ));
    }
    (w.join(" AND "), p)
}
