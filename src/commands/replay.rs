//! `skilltrace replay`: prints a stored run's spans in their original timing, or
//! with `--redetect` re-checks the run with the current registries and rules.

use super::{db_path, open_pipeline};
use crate::cli::ReplayArgs;
use crate::model::Finding;
use crate::replay;
use crate::sanitize;
use crate::store::Store;
use anyhow::Result;
use std::io::Write;

/// Line width when standard output is not a terminal.
const WIDTH: usize = 160;

pub fn run(args: ReplayArgs) -> Result<i32> {
    if !(args.speed >= 0.0 && args.speed.is_finite()) {
        anyhow::bail!("--speed {}: must be a number, 0 or more", args.speed);
    }
    let db = db_path(&args.db)?;
    // read-only first: a missing store or run is an error, never a new empty store
    let store = super::open_read_store(&db)?;
    let run_id = store.resolve_run(&args.run_id)?;
    if args.redetect {
        drop(store);
        return redetect(&db, &run_id);
    }
    let row = store
        .run(&run_id)?
        .ok_or_else(|| anyhow::anyhow!("run {run_id}: no such run"))?;
    let spans = replay::load_spans(&store, &run_id)?;
    let start = spans
        .iter()
        .filter_map(|s| s.start_ms)
        .min()
        .or(row.run.started_ms);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "run {} ({}, {} span{}){}",
        sanitize::line(&run_id),
        row.run.agent.map(|a| a.as_str()).unwrap_or("unknown"),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        row.run
            .title
            .as_deref()
            .map(|t| format!(": {}", sanitize::line(&super::listing::truncate(t, 100))))
            .unwrap_or_default()
    )?;
    let width = terminal_width();
    let mut raised = findings_by_span(&store, &run_id)?;
    let mut counts = [0u64; 5];
    for (span, wait) in spans.iter().zip(replay::delays(&spans, args.speed)) {
        if !wait.is_zero() {
            out.flush()?;
            std::thread::sleep(wait);
        }
        writeln!(out, "{}", replay::span_line(start, span, width))?;
        // The findings this span raised, as it arrives.
        for f in raised.remove(&span.id).unwrap_or_default() {
            counts[f.severity.rank() as usize] += 1;
            writeln!(out, "{}", finding_line(&f, width))?;
        }
    }
    let total: u64 = counts.iter().sum();
    writeln!(
        out,
        "end of run: {total} finding(s) raised ({} critical, {} high, {} medium, {} low, {} info)",
        counts[4], counts[3], counts[2], counts[1], counts[0]
    )?;
    out.flush()?;
    Ok(0)
}

/// The run's findings by primary span, each list worst first.
fn findings_by_span(
    store: &Store,
    run_id: &str,
) -> Result<std::collections::HashMap<String, Vec<Finding>>> {
    let filter = crate::store::FindingFilter {
        run_id: Some(run_id.to_string()),
        ..Default::default()
    };
    let mut out: std::collections::HashMap<String, Vec<Finding>> = Default::default();
    for r in store.findings(&filter, 0, 10_000)? {
        if let Some(span) = r.finding.span_ids.first().cloned() {
            out.entry(span).or_default().push(r.finding);
        }
    }
    Ok(out)
}

/// A raised finding under its span: `  ⚑ HIGH     EXF-TRACE-001  message`.
fn finding_line(f: &Finding, width: usize) -> String {
    let line = format!(
        "           ⚑ {:<8} {:<14} {}",
        f.severity.as_str().to_uppercase(),
        sanitize::line(&f.rule_id),
        sanitize::line(if f.message.is_empty() {
            &f.title
        } else {
            &f.message
        })
    );
    super::listing::truncate(&line, width.max(40))
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c >= 40)
        .or_else(|| crossterm::terminal::size().ok().map(|(w, _)| w as usize))
        .filter(|&c| c >= 40)
        .unwrap_or(WIDTH)
}

fn redetect(db: &std::path::Path, run_id: &str) -> Result<i32> {
    let mut pipeline = open_pipeline(db)?;
    let rep = replay::redetect(&mut pipeline, run_id)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "re-detected run {} over {} span(s): {} new, {} gone, {} unchanged, {} not re-checkable",
        sanitize::line(run_id),
        rep.spans,
        rep.new.len(),
        rep.gone.len(),
        rep.unchanged.len(),
        rep.unverifiable.len()
    )?;
    let show = |out: &mut dyn Write, tag: &str, fs: &[Finding]| -> std::io::Result<()> {
        for f in fs {
            writeln!(
                out,
                "  {tag:<9} {:<8} {:<14} {}  {}",
                f.severity.as_str(),
                sanitize::line(&f.rule_id),
                &f.fingerprint.chars().take(12).collect::<String>(),
                sanitize::line(&super::listing::truncate(
                    if f.message.is_empty() {
                        &f.title
                    } else {
                        &f.message
                    },
                    100
                ))
            )?;
        }
        Ok(())
    };
    show(&mut out, "new", &rep.new)?;
    show(&mut out, "gone", &rep.gone)?;
    show(&mut out, "unchanged", &rep.unchanged)?;
    show(&mut out, "kept", &rep.unverifiable)?;
    if !rep.new.is_empty() {
        writeln!(out, "stored {} new finding(s)", rep.new.len())?;
    }
    if !rep.unverifiable.is_empty() {
        writeln!(
            out,
            "kept findings come from secret values the store never keeps, so they cannot be re-checked; they stay in the store"
        )?;
    }
    if !rep.gone.is_empty() {
        writeln!(
            out,
            "gone findings stay in the store (current rules no longer raise them over the stored, redacted spans)"
        )?;
    }
    out.flush()?;
    Ok(0)
}
