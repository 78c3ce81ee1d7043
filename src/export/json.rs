//! Native JSONL export: every run, its spans, its findings and their triage, one
//! record per line in the format `import` reads back (`--format skilltrace`).
//!
//! Each line is `{"skilltrace":1,"type":T,T:<payload>}` with the payload the serde
//! JSON of the model type (written by `ingest::formats::native::encode`, the same
//! code that defines what the reader accepts); triage follows its finding. Written
//! as a stream: memory stays flat whatever the store holds. A finding stored
//! without an origin is written with its primary span's origin (the reader would
//! otherwise give it the export file's line).

use super::ExportError;
use crate::ingest::formats::native::encode;
use crate::ingest::formats::Record;
use crate::model::TriageStatus;
use crate::store::{FindingFilter, RunRow, Store};
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
    super::for_each_run(store, run_id, |run| write_run(store, run, out, &mut stats))?;
    out.flush()?;
    Ok(stats)
}

fn put(out: &mut dyn Write, record: &Record) -> Result<(), ExportError> {
    out.write_all(encode(record).as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

fn write_run(
    store: &Store,
    run: &RunRow,
    out: &mut dyn Write,
    stats: &mut JsonStats,
) -> Result<(), ExportError> {
    put(out, &Record::Run(run.run.clone()))?;
    stats.runs += 1;
    let id = run.run.id.as_str();
    super::for_each_span(store, id, |s| {
        stats.spans += 1;
        put(out, &Record::Span(s))
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
