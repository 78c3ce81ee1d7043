//! The store's write path: one transaction per batch, accepting only redacted values.
//!
//! Spans are upserted (newer non-empty fields win, attributes merge), runs are
//! merged (earliest start, latest end, first title), findings are keyed by
//! run and fingerprint (a re-import never duplicates; a chain may raise
//! severity; [`super::write_findings`]), and
//! per-run counters (spans, tools, tokens, models, findings by severity) are
//! kept incrementally so the runs list never scans spans.

use super::write_findings::write_findings;
use super::write_runs::{
    apply_run_deltas, fold_runs, last_run_key, tally_runs, RunDelta, RunKeys, UPSERT_RUN,
};
use super::{now_ms, Store, StoreBatch, StoreError};
use crate::hash::HashMap;
use crate::model::{Finding, GuardDecision, Span, TriageStatus};
use crate::redact::Redacted;
use rusqlite::{params, Transaction};

/// What a write changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub new_spans: u64,
    pub updated_spans: u64,
    pub new_findings: u64,
    pub new_skill_hits: u64,
    pub errors: u64,
}
/// A new or re-sent span's `parent_key` ([`super::tree_links`]) from the span
/// parameters `?1` (run key), `?2` (id) and `?3` (parent id): the parent's
/// key when it is in the run (a self-parent is none), else 0.
macro_rules! parent_key_sql {
    () => {
        "COALESCE((SELECT p.key FROM spans p WHERE p.run_key=?1 AND p.id=?3 AND p.id<>?2), 0)"
    };
}

const INSERT_SPAN: &str = concat!(
    "INSERT INTO spans(run_key, id, parent_id, kind, name, start_ms, end_ms, status, model, \
  tool_name, tool_call_id, tool_input, tool_output, text, attributes, input_tokens, output_tokens, origin_path, origin_line, \
  cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, parent_key) \
  VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,",
    parent_key_sql!(),
    ") ON CONFLICT(run_key, id) DO NOTHING"
);

/// Merge of a re-sent span into the stored one: newer non-empty fields win, attributes merge.
/// A new parent id resolves `parent_key` again.
const MERGE_SPAN: &str = concat!(
    "UPDATE spans SET \
  parent_key=CASE WHEN ?3 IS NULL OR ?3 IS parent_id THEN parent_key ELSE ",
    parent_key_sql!(),
    " END, \
  parent_id=COALESCE(?3, parent_id), kind=?4, name=CASE WHEN ?5<>'' THEN ?5 ELSE name END, \
  start_ms=COALESCE(?6, start_ms), end_ms=COALESCE(?7, end_ms), \
  status=CASE WHEN ?8<>'unset' THEN ?8 ELSE status END, model=COALESCE(?9, model), \
  tool_name=COALESCE(?10, tool_name), tool_call_id=COALESCE(?11, tool_call_id), \
  tool_input=COALESCE(?12, tool_input), tool_output=COALESCE(?13, tool_output), text=COALESCE(?14, text), \
  attributes=CASE WHEN ?15 IS NULL THEN attributes WHEN attributes IS NULL THEN ?15 ELSE json_patch(attributes, ?15) END, \
  input_tokens=COALESCE(?16, input_tokens), output_tokens=COALESCE(?17, output_tokens), \
  cache_read_tokens=COALESCE(?20, cache_read_tokens), cache_write_tokens=COALESCE(?21, cache_write_tokens), \
  cache_write_1h_tokens=COALESCE(?22, cache_write_1h_tokens) \
  WHERE run_key=?1 AND id=?2 AND ?18 IS NOT NULL AND ?19 IS NOT NULL"
);
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
        let runs_before = last_run_key(&tx)?;
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
                    now,
                    r.title_kind.rank()
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
            // Triage lines name their finding by fingerprint alone: found
            // among this write's findings first (an export writes each triage
            // line after its finding), else by a scan of the dedup index.
            let ids = if batch.triage.is_empty() {
                HashMap::default()
            } else {
                super::by_fingerprint::ids_of(
                    &tx,
                    batch.triage.iter().map(|(fp, _, _)| fp.as_str()),
                    batch.findings.iter().map(|f| f.get()),
                )?
            };
            let mut tri = tx.prepare_cached(
                "UPDATE findings SET status=?2, reason=?3, triaged_ms=?4 WHERE id=?1",
            )?;
            for (fp, status, note) in &batch.triage {
                for id in ids.get(fp).into_iter().flatten() {
                    tri.execute(params![
                        id,
                        status.as_str(),
                        note.as_ref().map(|n| n.get().as_str()),
                        now
                    ])?;
                }
            }
            let spans = apply_run_deltas(&tx, deltas, now)?;
            tally_runs(&tx, last_run_key(&tx)? - runs_before, spans)?;
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
    /// that raised them. Unknown fingerprints are skipped. `known` are the
    /// stored findings the decision was made on, when in hand (the guard's
    /// record carries them): their runs make each lookup one probe instead of
    /// a scan ([`super::by_fingerprint`]).
    pub fn set_guard_decision(
        &mut self,
        fingerprints: &[String],
        known: &[Redacted<Finding>],
        decision: GuardDecision,
    ) -> Result<(), StoreError> {
        if fingerprints.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let ids = super::by_fingerprint::ids_of(
                &tx,
                fingerprints.iter().map(String::as_str),
                known.iter().map(|f| f.get()),
            )?;
            let mut st = tx.prepare_cached("UPDATE findings SET guard_decision=?2 WHERE id=?1")?;
            for id in ids.values().flatten() {
                st.execute(params![id, decision.as_str()])?;
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
    let mut watch = super::tree_links::OrphanWatch::default();
    let mut orphans = tx.prepare_cached(super::tree_links::ANY_ORPHANS)?;
    let mut adopt = tx.prepare_cached(super::tree_links::ADOPT_ORPHANS)?;
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
                watch.touch(tx, k)?;
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
        // A copy that marks a stored span superseded is never stored as new.
        let nothing_to_update = s.updates_only()
            && !tx
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM spans WHERE run_key=?1 AND id=?2)")?
                .query_row(params![run_key, s.id], |r| r.get::<_, bool>(0))?;
        if nothing_to_update {
            continue;
        }
        if insert.execute(values)? == 1 {
            // A late parent adopts the spans that named it before it came
            // (looked for first: an update opens every index it may touch,
            // and almost every span has no orphan waiting for it).
            let key = tx.last_insert_rowid();
            if watch.may_adopt(run_key, &s.id)
                && orphans.query_row(params![run_key, s.id], |r| r.get::<_, bool>(0))?
            {
                adopt.execute(params![run_key, s.id, key])?;
            }
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
        watch.name(run_key, s.parent_id.as_deref());
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
