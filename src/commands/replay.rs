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
    let store = Store::open_read(&db)?;
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
    for (span, wait) in spans.iter().zip(replay::delays(&spans, args.speed)) {
        if !wait.is_zero() {
            out.flush()?;
            std::thread::sleep(wait);
        }
        writeln!(out, "{}", replay::span_line(start, span, width))?;
    }
    out.flush()?;
    Ok(0)
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
