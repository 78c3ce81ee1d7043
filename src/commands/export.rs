//! `skilltrace export`: findings as SARIF 2.1.0, runs, spans, findings and triage
//! as native JSONL, or runs as OTLP/JSON traces, to standard output or a private
//! (`0600`) file.

use super::db_path;
use crate::cli::{ExportArgs, ExportFormat};
use crate::export::{self, baseline::Baseline, sarif};
use crate::store::Store;
use anyhow::Result;
use std::io::Write;

pub fn run(args: ExportArgs) -> Result<i32> {
    if args.format != ExportFormat::Sarif {
        if args.baseline.is_some() {
            anyhow::bail!("--baseline: only with --format sarif");
        }
        if args.omit_suppressed {
            anyhow::bail!("--omit-suppressed: only with --format sarif");
        }
    }
    // read the baseline before anything else: a bad one fails fast, nothing written
    let baseline = match &args.baseline {
        Some(p) => Some(Baseline::load(p)?),
        None => None,
    };
    let store = Store::open_read(&db_path(&args.db)?)?;
    let run_id = match &args.run {
        Some(r) => Some(store.resolve_run(r)?),
        None => None,
    };
    match args.format {
        ExportFormat::Sarif => {
            let opts = sarif::SarifOptions {
                category: match &run_id {
                    Some(id) => format!("skilltrace/{id}"),
                    None => "skilltrace/all".into(),
                },
                run_id,
                baseline,
                omit_suppressed: args.omit_suppressed,
                ..Default::default()
            };
            let log = sarif::build(&store, &opts)?;
            for w in &log.warnings {
                eprintln!("warning: {w}");
            }
            let bytes = log.bytes();
            match &args.output {
                Some(p) => {
                    export::write_file(p, bytes)?;
                    eprintln!("wrote {} SARIF result(s) to {}", log.results, p.display());
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(bytes)?;
                    out.flush()?;
                }
            }
        }
        ExportFormat::Otlp => {
            let id = run_id.as_deref();
            match &args.output {
                Some(p) => {
                    let mut stats = export::otlp::OtlpStats::default();
                    export::write_file_with(p, |w| {
                        stats = export::otlp::write(&store, id, w)?;
                        Ok(())
                    })?;
                    eprintln!(
                        "wrote {} run(s), {} span(s), {} finding event(s) as OTLP/JSON to {}",
                        stats.runs,
                        stats.spans,
                        stats.events,
                        p.display()
                    );
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    export::otlp::write(&store, id, &mut out)?;
                }
            }
        }
        ExportFormat::Json => {
            let id = run_id.as_deref();
            match &args.output {
                Some(p) => {
                    let mut stats = export::json::JsonStats::default();
                    export::write_file_with(p, |w| {
                        stats = export::json::write(&store, id, w)?;
                        Ok(())
                    })?;
                    eprintln!(
                        "wrote {} run(s), {} span(s), {} finding(s) to {}",
                        stats.runs,
                        stats.spans,
                        stats.findings,
                        p.display()
                    );
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    export::json::write(&store, id, &mut out)?;
                }
            }
        }
    }
    Ok(0)
}
