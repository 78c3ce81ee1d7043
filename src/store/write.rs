//! The store's write path: one transaction per batch, accepting only redacted values.
//!
//! Spans are upserted (newer non-empty fields win, attributes merge), runs are
//! merged (earliest start, latest end, first title), findings are keyed by
//! fingerprint (a re-import never duplicates; a chain may raise severity), and
//! per-run counters (spans, tools, tokens, models, findings by severity) are
//! kept incrementally so the runs list never scans spans.

use super::{now_ms, Store, StoreError};
use crate::hash::HashMap;
use crate::model::SourceState;
use crate::model::{
    Finding, GuardDecision, ParseError, Run, Severity, SkillHit, Span, TriageStatus,
};
use crate::redact::Redacted;
use rusqlite::{params, OptionalExtension, Transaction};

/// Everything one transaction writes.
#[derive(Debug, Default)]
pub struct StoreBatch {
    pub runs: Vec<Redacted<Run>>,
    pub spans: Vec<Redacted<Span>>,
    pub findings: Vec<Redacted<Finding>>,
    pub skill_hits: Vec<Redacted<SkillHit>>,
    pub errors: Vec<Redacted<ParseError>>,
    /// Triage carried by imported native files: fingerprint, status, redacted note.
    pub triage: Vec<(String, TriageStatus, Option<Redacted<String>>)>,
    pub sources: Vec<SourceState>,
}

impl StoreBatch {
    /// Folds records of the same span (same run and id) into the first, in
    /// place: parsers send a span again when they learn more of it (a tool's
    /// result after its call), and one insert costs a fraction of the
    /// insert, lookup, merge and re-index a second record takes. What is
    /// stored is the same ([`Span::absorb`] follows the store's merge rules).
    pub fn fold_spans(&mut self) {
        let spans = &mut self.spans;
        if spans.len() < 2 {
            return;
        }
        let hasher = foldhash::fast::FixedState::default();
        let key = |s: &Span| {
            use std::hash::BuildHasher;
            hasher.hash_one((s.run_id.as_str(), s.id.as_str()))
        };
        // First position of each span key; a hash match is checked on the ids.
        let mut first: HashMap<u64, usize> = HashMap::default();
        first.reserve(spans.len());
        let mut target: Vec<Option<usize>> = Vec::with_capacity(spans.len());
        for (i, s) in spans.iter().enumerate() {
            let s = s.get();
            let t = match first.entry(key(s)) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                    None
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    let f = spans[*o.get()].get();
                    (f.run_id == s.run_id && f.id == s.id).then_some(*o.get())
                }
            };
            target.push(t);
        }
        if target.iter().all(Option::is_none) {
            return;
        }
        // Kept spans keep their order; a folded one lands at its first position.
        let mut kept: Vec<Redacted<Span>> = Vec::with_capacity(spans.len());
        let mut at: Vec<usize> = vec![usize::MAX; spans.len()];
        for (i, (s, t)) in spans.drain(..).zip(target).enumerate() {
            match t {
                Some(f) => kept[at[f]].absorb(s),
                None => {
                    at[i] = kept.len();
                    kept.push(s);
                }
            }
        }
        *spans = kept;
    }

    /// Roughly the bytes the batch holds (for memory bounds, not exact).
    pub fn approx_bytes(&self) -> usize {
        self.spans
            .iter()
            .map(|s| span_bytes(s.get()))
            .sum::<usize>()
            + self
                .findings
                .iter()
                .map(|f| {
                    let f = f.get();
                    256 + f.title.len() + f.message.len() + f.evidence.len()
                })
                .sum::<usize>()
            + 256 * (self.runs.len() + self.skill_hits.len() + self.sources.len())
            + self
                .errors
                .iter()
                .map(|e| 64 + e.get().message.len())
                .sum::<usize>()
            + 128 * self.triage.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
            && self.spans.is_empty()
            && self.findings.is_empty()
            && self.skill_hits.is_empty()
            && self.errors.is_empty()
            && self.triage.is_empty()
            && self.sources.is_empty()
    }
}

/// Roughly the bytes a span holds in memory (its strings and attributes).
pub fn span_bytes(s: &Span) -> usize {
    fn json(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::String(s) => 24 + s.len(),
            serde_json::Value::Array(a) => 24 + a.iter().map(json).sum::<usize>(),
            serde_json::Value::Object(o) => {
                24 + o.iter().map(|(k, v)| 24 + k.len() + json(v)).sum::<usize>()
            }
            _ => 24,
        }
    }
    let opt = |o: &Option<String>| o.as_ref().map_or(0, String::len);
    256 + s.id.len()
        + s.run_id.len()
        + s.name.len()
        + s.origin.path.len()
        + opt(&s.parent_id)
        + opt(&s.model)
        + opt(&s.tool_name)
        + opt(&s.tool_call_id)
        + opt(&s.tool_input)
        + opt(&s.tool_output)
        + opt(&s.text)
        + s.attributes
            .iter()
            .map(|(k, v)| 24 + k.len() + json(v))
            .sum::<usize>()
}

/// What a write changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub new_spans: u64,
    pub updated_spans: u64,
    pub new_findings: u64,
    pub new_skill_hits: u64,
    pub errors: u64,
}

#[derive(Default)]
struct RunDelta {
    spans: i64,
    tools: i64,
    input: i64,
    output: i64,
    findings: [i64; 5],
    models: Vec<String>,
    start: Option<i64>,
    end: Option<i64>,
}

/// Run id → the run's integer key (`runs.key`, which spans point at),
/// remembered across batches: runs are never deleted, so a committed key never
/// changes. Forgotten whole when a write fails, since keys handed out inside a
/// rolled-back transaction no longer exist.
#[derive(Debug, Default)]
pub(super) struct RunKeys {
    map: HashMap<String, i64>,
}

/// How many run ids [`RunKeys`] remembers before starting over (~10 MB).
const RUN_KEYS_MAX: usize = 100_000;

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
    fn get(
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

const INSERT_SPAN: &str = "INSERT INTO spans(run_key, id, parent_id, kind, name, start_ms, end_ms, status, model, \
  tool_name, tool_call_id, tool_input, tool_output, text, attributes, input_tokens, output_tokens, origin_path, origin_line, \
  cache_read_tokens, cache_write_tokens, cache_write_1h_tokens) \
  VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22) ON CONFLICT(run_key, id) DO NOTHING";

/// Merge of a re-sent span into the stored one: newer non-empty fields win, attributes merge.
const MERGE_SPAN: &str = "UPDATE spans SET \
  parent_id=COALESCE(?3, parent_id), kind=?4, name=CASE WHEN ?5<>'' THEN ?5 ELSE name END, \
  start_ms=COALESCE(?6, start_ms), end_ms=COALESCE(?7, end_ms), \
  status=CASE WHEN ?8<>'unset' THEN ?8 ELSE status END, model=COALESCE(?9, model), \
  tool_name=COALESCE(?10, tool_name), tool_call_id=COALESCE(?11, tool_call_id), \
  tool_input=COALESCE(?12, tool_input), tool_output=COALESCE(?13, tool_output), text=COALESCE(?14, text), \
  attributes=CASE WHEN ?15 IS NULL THEN attributes WHEN attributes IS NULL THEN ?15 ELSE json_patch(attributes, ?15) END, \
  input_tokens=COALESCE(?16, input_tokens), output_tokens=COALESCE(?17, output_tokens), \
  cache_read_tokens=COALESCE(?20, cache_read_tokens), cache_write_tokens=COALESCE(?21, cache_write_tokens), \
  cache_write_1h_tokens=COALESCE(?22, cache_write_1h_tokens) \
  WHERE run_key=?1 AND id=?2 AND ?18 IS NOT NULL AND ?19 IS NOT NULL";

const UPSERT_RUN: &str = "INSERT INTO runs(id, agent, source, parent_run_id, started_ms, ended_ms, title, cwd, updated_ms) \
  VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(id) DO UPDATE SET \
  agent=COALESCE(agent, excluded.agent), source=CASE WHEN source='' THEN excluded.source ELSE source END, \
  parent_run_id=COALESCE(parent_run_id, excluded.parent_run_id), \
  started_ms=MIN(COALESCE(started_ms, excluded.started_ms), COALESCE(excluded.started_ms, started_ms)), \
  ended_ms=MAX(COALESCE(ended_ms, excluded.ended_ms), COALESCE(excluded.ended_ms, ended_ms)), \
  title=COALESCE(title, excluded.title), cwd=COALESCE(cwd, excluded.cwd), updated_ms=excluded.updated_ms";

const UPSERT_SOURCE: &str = "INSERT INTO sources(path, kind, dev, ino, offset, line, format, updated_ms) \
  VALUES(?1,?2,?3,?4,?5,?6,?7,?8) \
  ON CONFLICT(path) DO UPDATE SET kind=excluded.kind, dev=excluded.dev, ino=excluded.ino, offset=excluded.offset, \
  line=excluded.line, format=excluded.format, updated_ms=excluded.updated_ms";

/// [`UPSERT_SOURCE`] for replayed frames: the same file's offset never moves back.
const UPSERT_SOURCE_FORWARD: &str = "INSERT INTO sources(path, kind, dev, ino, offset, line, format, updated_ms) \
  VALUES(?1,?2,?3,?4,?5,?6,?7,?8) \
  ON CONFLICT(path) DO UPDATE SET kind=excluded.kind, dev=excluded.dev, ino=excluded.ino, offset=excluded.offset, \
  line=excluded.line, format=excluded.format, updated_ms=excluded.updated_ms \
  WHERE sources.dev<>excluded.dev OR sources.ino<>excluded.ino OR sources.offset<excluded.offset \
  OR (sources.offset=excluded.offset AND sources.line<excluded.line)";

impl Store {
    /// Writes one batch in one transaction. Either all of it lands or none.
    pub fn write(&mut self, batch: &StoreBatch) -> Result<WriteStats, StoreError> {
        Ok(self.write_marked(batch, None)?.unwrap_or_default())
    }

    /// Writes a batch read back from the spool, recording its frame id in the
    /// same transaction: `None` (and nothing written) when that frame was
    /// stored before, so a frame lands exactly once even if a crash came
    /// between storing it and removing its spool file. A source's offset only
    /// moves forward here (live writes may have passed the spooled one).
    pub fn write_frame(
        &mut self,
        batch: &StoreBatch,
        frame: &str,
    ) -> Result<Option<WriteStats>, StoreError> {
        self.write_marked(batch, Some(frame))
    }

    /// Forgets the replayed-frame rows of a spool file that is gone.
    pub fn forget_frames(&self, spool_file: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM spool_replayed WHERE frame >= ?1 AND frame < ?2",
            [format!("{spool_file}:"), format!("{spool_file};")],
        )?;
        Ok(())
    }

    fn write_marked(
        &mut self,
        batch: &StoreBatch,
        frame: Option<&str>,
    ) -> Result<Option<WriteStats>, StoreError> {
        if batch.is_empty() && frame.is_none() {
            return Ok(Some(WriteStats::default()));
        }
        let written = self.write_tx(batch, frame);
        if written.is_err() {
            self.run_keys.clear();
        }
        written
    }

    fn write_tx(
        &mut self,
        batch: &StoreBatch,
        frame: Option<&str>,
    ) -> Result<Option<WriteStats>, StoreError> {
        let mut stats = WriteStats::default();
        let now = now_ms();
        let keys = &mut self.run_keys;
        // The write lock first (and the busy handler with it): a deferred
        // transaction that reads before it writes can fail at once with
        // SQLITE_BUSY_SNAPSHOT when another writer committed meanwhile.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(frame) = frame {
            let fresh = tx.execute(
                "INSERT INTO spool_replayed(frame, replayed_ms) VALUES(?1, ?2) ON CONFLICT(frame) DO NOTHING",
                params![frame, now],
            )?;
            if fresh == 0 {
                return Ok(None);
            }
        }
        let mut deltas: HashMap<i64, RunDelta> = HashMap::default();
        {
            let mut up_run = tx.prepare_cached(UPSERT_RUN)?;
            for r in fold_runs(&batch.runs) {
                up_run.execute(params![
                    r.id,
                    r.agent.map(|a| a.as_str()),
                    r.source,
                    r.parent_run_id,
                    r.started_ms,
                    r.ended_ms,
                    r.title,
                    r.cwd,
                    now
                ])?;
            }
            write_spans(&tx, keys, &batch.spans, &mut deltas, &mut stats, now)?;
            write_findings(&tx, keys, &batch.findings, &mut deltas, &mut stats, now)?;
            let mut hit = tx.prepare_cached(
                "INSERT OR IGNORE INTO skill_hits(skill_id, version, name, method, confidence, run_id, span_id, ts_ms) \
                 VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
            )?;
            for h in &batch.skill_hits {
                let h = h.get();
                stats.new_skill_hits += hit.execute(params![
                    h.skill_id,
                    h.version,
                    h.name,
                    h.method.as_str(),
                    h.confidence as f64,
                    h.run_id,
                    h.span_id,
                    h.ts_ms
                ])? as u64;
            }
            let mut err = tx.prepare_cached(
                "INSERT OR IGNORE INTO parse_errors(path, line, message) VALUES(?1,?2,?3)",
            )?;
            for e in &batch.errors {
                let e = e.get();
                stats.errors += err.execute(params![e.path, e.line as i64, e.message])? as u64;
            }
            let mut tri = tx.prepare_cached(
                "UPDATE findings SET status=?2, reason=?3, triaged_ms=?4 WHERE fingerprint=?1",
            )?;
            for (fp, status, note) in &batch.triage {
                tri.execute(params![
                    fp,
                    status.as_str(),
                    note.as_ref().map(|n| n.get().as_str()),
                    now
                ])?;
            }
            apply_run_deltas(&tx, deltas, now)?;
            let mut src = tx.prepare_cached(if frame.is_some() {
                UPSERT_SOURCE_FORWARD
            } else {
                UPSERT_SOURCE
            })?;
            for s in &batch.sources {
                src.execute(params![
                    s.path,
                    if s.kind.is_empty() {
                        "file"
                    } else {
                        s.kind.as_str()
                    },
                    s.dev as i64,
                    s.ino as i64,
                    s.offset as i64,
                    s.line as i64,
                    s.format,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(Some(stats))
    }

    /// Marks findings (by fingerprint) with the guard's decision on the call
    /// that raised them. Unknown fingerprints are skipped.
    pub fn set_guard_decision(
        &mut self,
        fingerprints: &[String],
        decision: GuardDecision,
    ) -> Result<(), StoreError> {
        if fingerprints.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut st =
                tx.prepare_cached("UPDATE findings SET guard_decision=?2 WHERE fingerprint=?1")?;
            for fp in fingerprints {
                st.execute(params![fp, decision.as_str()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Sets a finding's triage status and the reason for it (a person's
    /// decision; stored at once). See [`Store::decide`] for groups and undo.
    pub fn set_triage(
        &self,
        id: i64,
        status: TriageStatus,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        if self
            .decide(&[id], status, reason, None, now_ms())?
            .is_empty()
        {
            return Err(StoreError::NotFound(format!(
                "finding {id}: no such finding"
            )));
        }
        Ok(())
    }
}

/// The run records of one batch, one per run: parsers announce a run again
/// whenever they learn more of it, and one upsert per run costs far less than
/// one per record. Folded with the same rules as [`UPSERT_RUN`] (first agent,
/// source, parent, title and cwd; earliest start; latest end), in order of
/// first appearance.
fn fold_runs(runs: &[Redacted<Run>]) -> Vec<Run> {
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
        if f.title.is_none() {
            f.title.clone_from(&r.title);
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

fn write_spans(
    tx: &Transaction<'_>,
    keys: &mut RunKeys,
    spans: &[Redacted<Span>],
    deltas: &mut HashMap<i64, RunDelta>,
    stats: &mut WriteStats,
    now: i64,
) -> Result<(), StoreError> {
    if spans.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(INSERT_SPAN)?;
    let mut find = tx.prepare_cached(
        "SELECT key, kind, input_tokens, output_tokens FROM spans WHERE run_key=?1 AND id=?2",
    )?;
    let mut merge = tx.prepare_cached(MERGE_SPAN)?;
    let mut queue = tx.prepare_cached("INSERT OR IGNORE INTO fts_queue(span_rowid) VALUES(?1)")?;
    // Spans of one run mostly come together: skip the lookup while the run stays the same.
    let mut last: Option<(&str, i64)> = None;
    for s in spans {
        let s = s.get();
        let run_key = match last {
            Some((id, k)) if id == s.run_id => k,
            _ => {
                let k = keys.get(tx, &s.run_id, &s.origin.path, now)?;
                last = Some((&s.run_id, k));
                k
            }
        };
        let attrs = if s.attributes.is_empty() {
            None
        } else {
            serde_json::to_string(&s.attributes).ok()
        };
        let values = params![
            run_key,
            s.id,
            s.parent_id,
            s.kind.as_str(),
            s.name,
            s.start_ms,
            s.end_ms,
            s.status.as_str(),
            s.model,
            s.tool_name,
            s.tool_call_id,
            s.tool_input,
            s.tool_output,
            s.text,
            attrs,
            s.input_tokens.map(|t| t as i64),
            s.output_tokens.map(|t| t as i64),
            s.origin.path,
            s.origin.line as i64,
            s.cache_read_tokens.map(|t| t as i64),
            s.cache_write_tokens.map(|t| t as i64),
            s.cache_write_1h_tokens.map(|t| t as i64)
        ];
        let d = deltas.entry(run_key).or_default();
        let is_tool = s.kind == crate::model::SpanKind::Tool;
        if insert.execute(values)? == 1 {
            // New span: indexed for search by the watermark pass, no queue entry needed.
            stats.new_spans += 1;
            d.spans += 1;
            d.tools += is_tool as i64;
            d.input += s.input_tokens.unwrap_or(0) as i64;
            d.output += s.output_tokens.unwrap_or(0) as i64;
        } else {
            let (rowid, kind, it, ot): (i64, String, Option<i64>, Option<i64>) = find
                .query_row(params![run_key, s.id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?;
            merge.execute(values)?;
            stats.updated_spans += 1;
            d.tools += is_tool as i64 - (kind == "tool") as i64;
            if let Some(t) = s.input_tokens {
                d.input += t as i64 - it.unwrap_or(0);
            }
            if let Some(t) = s.output_tokens {
                d.output += t as i64 - ot.unwrap_or(0);
            }
            queue.execute([rowid])?;
        }
        if let Some(m) = &s.model {
            if !d.models.iter().any(|x| x == m) {
                d.models.push(m.clone());
            }
        }
        for t in [s.start_ms, s.end_ms].into_iter().flatten() {
            d.start = Some(d.start.map_or(t, |x| x.min(t)));
            d.end = Some(d.end.map_or(t, |x| x.max(t)));
        }
    }
    Ok(())
}

fn write_findings(
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
        "SELECT severity, json_array_length(span_ids) FROM findings WHERE fingerprint=?1",
    )?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO findings(fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids, title, message, \
         evidence, origin_path, origin_line, skill_id, ts_ms, related, created_ms) \
         VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
    )?;
    let mut raise = tx.prepare_cached(
        "UPDATE findings SET severity=?2, span_ids=?3, message=?4, related=?5, confidence=MAX(confidence, ?6) WHERE fingerprint=?1",
    )?;
    for f in findings {
        let f = f.get();
        let span_ids = serde_json::to_string(&f.span_ids).unwrap_or_else(|_| "[]".into());
        let related = serde_json::to_string(&f.related).unwrap_or_else(|_| "[]".into());
        let old: Option<(i64, i64)> = find
            .query_row([&f.fingerprint], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let d = deltas.entry(keys.get(tx, &f.run_id, "", now)?).or_default();
        match old {
            None => {
                ins.execute(params![
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
                    now
                ])?;
                stats.new_findings += 1;
                d.findings[f.severity.rank() as usize] += 1;
            }
            Some((sev, steps)) if f.severity.rank() > sev || f.span_ids.len() as i64 > steps => {
                let new_sev = f.severity.rank().max(sev);
                raise.execute(params![
                    f.fingerprint,
                    new_sev,
                    span_ids,
                    f.message,
                    related,
                    f.confidence as f64
                ])?;
                d.findings[Severity::from_rank(sev).rank() as usize] -= 1;
                d.findings[Severity::from_rank(new_sev).rank() as usize] += 1;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn apply_run_deltas(
    tx: &Transaction<'_>,
    deltas: HashMap<i64, RunDelta>,
    now: i64,
) -> Result<(), StoreError> {
    let mut models = tx.prepare_cached("SELECT models FROM runs WHERE key=?1")?;
    let mut upd = tx.prepare_cached(
        "UPDATE runs SET span_count=span_count+?2, tool_count=tool_count+?3, input_tokens=input_tokens+?4, \
         output_tokens=output_tokens+?5, f_info=f_info+?6, f_low=f_low+?7, f_medium=f_medium+?8, f_high=f_high+?9, \
         f_critical=f_critical+?10, models=COALESCE(?11, models), \
         started_ms=MIN(COALESCE(started_ms, ?12), COALESCE(?12, started_ms)), \
         ended_ms=MAX(COALESCE(ended_ms, ?13), COALESCE(?13, ended_ms)), updated_ms=?14 WHERE key=?1",
    )?;
    for (key, d) in deltas {
        // The models list changes only when this batch saw a model.
        let merged = if d.models.is_empty() {
            None
        } else {
            let mut current: String = models.query_row([key], |r| r.get(0))?;
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
        upd.execute(params![
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
    Ok(())
}
