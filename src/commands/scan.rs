//! `skilltrace scan`: the CI gate. Imports trace files into a private temporary
//! store (never the user's), looks for the user's canary tokens too (read from
//! `--db`'s canary file and key, when `canary init` made them), prints a summary,
//! optionally writes SARIF, and exits 1 when an open finding is at or above
//! `--fail-on` (0 otherwise, 2 on error).

use super::listing::{finding_json, truncate};
use super::{db_path, open_pipeline_with, parse_format};
use crate::cli::{OutputFormat, ScanArgs};
use crate::export::{self, sarif};
use crate::model::{Severity, TriageStatus};
use crate::sanitize;
use crate::store::{FindingFilter, FindingRow, Store};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Findings listed in the text summary at most.
const LIST_MAX: usize = 200;

/// A private (`0700`) temporary folder, removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        use rand::RngCore;
        let mut r = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut r);
        let dir = std::env::temp_dir().join(format!(
            "skilltrace-scan-{}-{}",
            std::process::id(),
            hex::encode(r)
        ));
        // create_dir (not _all): fails if the name exists, so nobody can plant it
        std::fs::create_dir(&dir)
            .with_context(|| format!("{}: cannot create temporary store folder", dir.display()))?;
        let d = TempDir(dir);
        crate::paths::set_mode(&d.0, 0o700)?;
        Ok(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Open findings (and confirmed ones: real, acknowledged problems) fail the gate;
/// false positives and suppressed findings do not.
fn counts_against_gate(status: TriageStatus) -> bool {
    !sarif::dismissed(status)
}

pub fn run(args: ScanArgs) -> Result<i32> {
    let forced = parse_format(&args.format)?;
    super::install_ingest_lists()?;
    let (files, bad) = crate::ingest::import::collect(&args.paths);
    if let Some(why) = bad.first() {
        anyhow::bail!("{why}");
    }
    if files.is_empty() {
        anyhow::bail!(
            "{}: no trace files found (looked for *.jsonl, *.json, *.ndjson, opencode.db)",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // The user's canary tokens (if `canary init` made any) are looked for too.
    let user_db = db_path(&crate::cli::DbArg {
        db: args.db.clone(),
        ..Default::default()
    })?;
    let canaries = crate::detect::DetectContext::load_existing(&user_db)?;
    let tmp = TempDir::new()?;
    let db = tmp.0.join("scan.db");
    let mut pipeline = open_pipeline_with(&db, canaries)?;
    let rep =
        crate::ingest::import::import_paths(&mut pipeline, &args.paths, forced, &mut |_, _| {})?;
    if let Some(why) = rep.unreadable.first() {
        anyhow::bail!("{why}");
    }
    let counts = pipeline.store().counts()?;
    let store = pipeline.store();
    if counts.spans == 0 {
        // A CI gate pointed at the wrong path must not pass: nothing was checked.
        anyhow::bail!(
            "{}: no spans found in {} file(s){}: nothing was checked",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            rep.files,
            if counts.parse_errors > 0 {
                format!(
                    " ({} line(s) could not be read as a trace)",
                    counts.parse_errors
                )
            } else {
                String::new()
            }
        );
    }
    if counts.parse_errors > 0 {
        eprintln!(
            "warning: {} parse error(s): lines, or whole files, that could not be read as a trace (`skilltrace import` the same files to keep them and see where)",
            counts.parse_errors
        );
    }

    let failing = match args.fail_on {
        Some(level) => gate_count(store, level)?,
        None => 0,
    };
    if let Some(path) = &args.sarif {
        let opts = sarif::SarifOptions {
            category: "skilltrace/scan".into(),
            ..Default::default()
        };
        let log = sarif::build(store, &opts)?;
        for w in &log.warnings {
            eprintln!("warning: {}", crate::notice::safe_line(w));
        }
        export::write_file(path, log.bytes())?;
    }
    let code = if failing > 0 { 1 } else { 0 };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    match args.output {
        OutputFormat::Json => {
            let (rows, _) = export::load_findings_all(store, sarif::MAX_RESULTS)?;
            let f = counts.findings;
            let v = serde_json::json!({
                "files": rep.files,
                "bytes": rep.bytes,
                "runs": counts.runs,
                "spans": counts.spans,
                "parse_errors": counts.parse_errors,
                "counts": {"info": f[0], "low": f[1], "medium": f[2], "high": f[3], "critical": f[4]},
                "open": counts.open_findings,
                "fail_on": args.fail_on.map(|s| s.as_str()),
                "failing": failing,
                "exit_code": code,
                "sarif": args.sarif.as_ref().map(|p| p.display().to_string()),
                "findings": rows.iter().map(finding_json).collect::<Vec<_>>(),
            });
            let text = serde_json::to_string_pretty(&v)?;
            out.write_all(crate::sanitize::json(&text).as_bytes())?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            text_summary(
                &mut out,
                store,
                &rep,
                &counts,
                args.fail_on,
                failing,
                args.sarif.as_deref(),
            )?;
        }
    }
    out.flush()?;
    drop(pipeline);
    drop(tmp);
    Ok(code)
}

/// Findings at or above `level` that are not set aside.
fn gate_count(store: &Store, level: Severity) -> Result<u64> {
    let mut n = 0;
    for status in TriageStatus::ALL
        .into_iter()
        .filter(|s| counts_against_gate(*s))
    {
        n += store.finding_count(&FindingFilter {
            min_severity: Some(level),
            status: Some(status),
            ..Default::default()
        })?;
    }
    Ok(n)
}

fn text_summary(
    out: &mut dyn Write,
    store: &Store,
    rep: &crate::ingest::import::ImportReport,
    counts: &crate::store::Counts,
    fail_on: Option<Severity>,
    failing: u64,
    sarif_path: Option<&Path>,
) -> Result<()> {
    let f = counts.findings;
    writeln!(
        out,
        "scanned {} file{} ({:.1} MB): {} run(s), {} span(s), {} parse error(s)",
        rep.files,
        if rep.files == 1 { "" } else { "s" },
        rep.bytes as f64 / 1e6,
        counts.runs,
        counts.spans,
        counts.parse_errors
    )?;
    writeln!(
        out,
        "findings: {} critical, {} high, {} medium, {} low, {} info ({} open)",
        f[4], f[3], f[2], f[1], f[0], counts.open_findings
    )?;
    let floor = fail_on.unwrap_or(Severity::Low);
    let filter = FindingFilter {
        min_severity: Some(floor),
        ..Default::default()
    };
    let (rows, more) = export::load_findings(store, &filter, LIST_MAX, |_| true)?;
    for r in &rows {
        writeln!(out, "{}", finding_line(r))?;
    }
    if more {
        let total = store.finding_count(&filter)?;
        writeln!(
            out,
            "… and {} more",
            total.saturating_sub(rows.len() as u64)
        )?;
    }
    if let Some(p) = sarif_path {
        writeln!(out, "SARIF written to {}", crate::notice::safe_path(p))?;
    }
    match fail_on {
        Some(level) if failing > 0 => writeln!(
            out,
            "FAIL: {failing} open finding(s) at or above {level} (--fail-on {level})"
        )?,
        Some(level) => writeln!(out, "ok: no open finding at or above {level}")?,
        None => {}
    }
    Ok(())
}

fn finding_line(r: &FindingRow) -> String {
    let x = &r.finding;
    let at = x
        .origin
        .as_ref()
        .map(|o| format!("{}:{}", o.path, o.line))
        .unwrap_or_else(|| x.run_id.clone());
    let status = if r.status == TriageStatus::Open {
        String::new()
    } else {
        format!(" [{}]", r.status)
    };
    format!(
        "  {:<8} {:<14} {}  {}{}",
        x.severity.as_str().to_uppercase(),
        sanitize::line(&x.rule_id),
        sanitize::line(&keep_end(&at, 60)),
        sanitize::line(&truncate(
            if x.message.is_empty() {
                &x.title
            } else {
                &x.message
            },
            120
        )),
        status
    )
}

/// At most `n` characters, cut at the front (paths: the file name and line matter most).
fn keep_end(s: &str, n: usize) -> String {
    let len = s.chars().count();
    if len <= n {
        return s.to_string();
    }
    let tail: String = s.chars().skip(len - (n - 1)).collect();
    format!("…{tail}")
}
