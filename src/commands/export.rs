//! `skilltrace export`: findings as SARIF 2.1.0, runs, spans, findings and triage
//! as native JSONL, or runs as OTLP/JSON traces, to standard output or a private
//! (`0600`) file.

use super::db_path;
use crate::cli::{ExportArgs, ExportFormat};
use crate::export::{self, baseline::Baseline, sarif};
use anyhow::Result;
use std::io::Write;

pub fn run(args: ExportArgs) -> Result<i32> {
    // OTLP spans carry their cost, priced with the config's table.
    super::cost::price_table()?;
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
    let store = super::open_read_store(&db_path(&args.db)?)?;
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
                eprintln!("warning: {}", crate::notice::safe_line(w));
            }
            let bytes = log.bytes();
            match &args.output {
                Some(p) => {
                    export::write_file(p, bytes)?;
                    eprintln!(
                        "wrote {} SARIF result(s) to {}",
                        log.results,
                        crate::notice::safe_path(p)
                    );
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(bytes)?;
                    out.flush()?;
                }
            }
        }
        ExportFormat::Otlp => stream(
            args.output.as_deref(),
            |w| export::otlp::write(&store, run_id.as_deref(), w),
            |st, p| {
                format!(
                    "wrote {} run(s), {} span(s), {} finding event(s) as OTLP/JSON to {p}",
                    st.runs, st.spans, st.events
                )
            },
        )?,
        ExportFormat::Json => stream(
            args.output.as_deref(),
            |w| export::json::write(&store, run_id.as_deref(), w),
            |st, p| {
                format!(
                    "wrote {} run(s), {} span(s), {} finding(s) to {p}",
                    st.runs, st.spans, st.findings
                )
            },
        )?,
    }
    Ok(0)
}

/// Streams an export to `output` (a private file, then a one-line summary made
/// by `said`) or to standard output.
fn stream<S>(
    output: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn Write) -> Result<S, export::ExportError>,
    said: impl FnOnce(&S, &str) -> String,
) -> Result<()> {
    match output {
        Some(p) => {
            let mut stats = None;
            export::write_file_with(p, |w| {
                stats = Some(write(w)?);
                Ok(())
            })?;
            if let Some(st) = stats {
                eprintln!("{}", said(&st, &crate::notice::safe_path(p)));
            }
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut out)?;
        }
    }
    Ok(())
}
