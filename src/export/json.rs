//! Native JSONL export: every run, its spans, its findings and their triage, one
//! record per line in the format `import` reads back (`--format skilltrace`).
//!
//! Each line is `{"skilltrace":1,"type":T,T:<payload>}` with the payload the serde
//! JSON of the model type (written by `ingest::formats::native::encode`, the same
//! code that defines what the reader accepts); triage follows its finding. Written
//! as a stream: memory stays flat whatever the store holds. A finding stored
//! without an origin is written with its primary span's origin (the reader would
//! otherwise give it the export file's line).
//!
//! Run and span lines of model calls also carry their cost beside the payload
//! (the reader ignores it): `gen_ai.usage.cost`, the priced US dollars (left
//! out when nothing could be priced, never 0 for an unknown model), and `cost`,
//! the same object `skilltrace runs --format json` gives (a run's subagents
//! rolled up and shown apart; what is unknown counted).

use super::ExportError;
use crate::ingest::formats::native::encode;
use crate::ingest::formats::Record;
use crate::model::TriageStatus;
use crate::pricing::{Cost, PriceTable, RunCost};
use crate::store::{FindingFilter, RunRow, Store};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;

use super::PAGE;

/// How many records were written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JsonStats {
    pub runs: u64,
    pub spans: u64,
    pub findings: u64,
    pub triage: u64,
}

/// Writes `run_id` (or every run, newest first) to `out`.
pub fn write(
    store: &Store,
    run_id: Option<&str>,
    out: &mut dyn Write,
) -> Result<JsonStats, ExportError> {
    let mut stats = JsonStats::default();
    let table = crate::pricing::table();
    let costs = match run_id {
        Some(id) => crate::pricing::ledger::costs_of_runs(store, &table, &[id])?,
        None => {
            let mut all = crate::pricing::ledger::run_costs(
                &table,
                &store.usage_rows(table.bands(), None)?,
                &store.run_parents()?,
            );
            crate::pricing::ledger::with_reported(&mut all, store.reported_costs(None)?);
            all
        }
    };
    let priced = Priced {
        table: &table,
        runs: &costs,
    };
    super::for_each_run(store, run_id, |run| {
        write_run(store, &priced, run, out, &mut stats)
    })?;
    out.flush()?;
    Ok(stats)
}

/// The price table and every exported run's cost.
struct Priced<'a> {
    table: &'a PriceTable,
    runs: &'a HashMap<String, RunCost>,
}

fn put(out: &mut dyn Write, record: &Record) -> Result<(), ExportError> {
    out.write_all(crate::sanitize::json(&encode(record)).as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `record`'s line with the cost fields added after its payload.
fn put_costed(out: &mut dyn Write, record: &Record, cost: Value) -> Result<(), ExportError> {
    let encoded = encode(record);
    let line = crate::sanitize::json(&encoded);
    // `encode` writes one JSON object: the cost keys go before its closing brace.
    let body = line.strip_suffix('}').unwrap_or(&line);
    out.write_all(body.as_bytes())?;
    if let Some(usd) = cost.get("usd").filter(|u| !u.is_null()) {
        write!(out, ",\"gen_ai.usage.cost\":{usd}")?;
    }
    let cost = cost.to_string();
    writeln!(out, ",\"cost\":{}}}", crate::sanitize::json(&cost))?;
    Ok(())
}

fn write_run(
    store: &Store,
    priced: &Priced<'_>,
    run: &RunRow,
    out: &mut dyn Write,
    stats: &mut JsonStats,
) -> Result<(), ExportError> {
    let id = run.run.id.as_str();
    match priced.runs.get(id) {
        Some(c) => put_costed(out, &Record::Run(run.run.clone()), c.json())?,
        None => put(out, &Record::Run(run.run.clone()))?,
    }
    stats.runs += 1;
    super::for_each_span(store, id, |s| {
        stats.spans += 1;
        match Cost::of_span(priced.table, &s) {
            Some(c) => put_costed(out, &Record::Span(s), c.json()),
            None => put(out, &Record::Span(s)),
        }
    })?;
    let filter = FindingFilter {
        run_id: Some(id.to_string()),
        ..Default::default()
    };
    let mut offset = 0;
    loop {
        let page = store.findings(&filter, offset, PAGE)?;
        let n = page.len();
        for f in page {
            // The native triage record carries the status and its reason (as `note`).
            let triage =
                (f.status != TriageStatus::Open || f.reason.is_some()).then(|| Record::Triage {
                    fingerprint: f.finding.fingerprint.clone(),
                    status: f.status,
                    note: f.reason.clone(),
                });
            let mut finding = f.finding;
            // the reader gives an origin-less finding the export file's line; its
            // primary span's origin is the truer place, so write that instead
            if finding.origin.is_none() {
                if let Some(sid) = finding.span_ids.first() {
                    finding.origin = store.span(id, sid)?.map(|s| s.origin);
                }
            }
            put(out, &Record::Finding(Box::new(finding)))?;
            stats.findings += 1;
            if let Some(t) = triage {
                put(out, &t)?;
                stats.triage += 1;
            }
        }
        if n < PAGE {
            break;
        }
        offset += n;
    }
    Ok(())
}
