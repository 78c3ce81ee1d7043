//! `skilltrace runs` and `skilltrace findings`: the store as text or JSON.
//!
//! Text goes through the terminal sanitiser; JSON is for scripts (DESIGN section 2).

use super::{db_path, stdout_colour};
use crate::cli::{FindingsArgs, OutputFormat, RunsArgs};
use crate::model::Severity;
use crate::pricing::RunCost;
use crate::sanitize;
use crate::store::{FindingFilter, FindingRow, RunFilter, RunRow, RunSort};
use anyhow::Result;
use serde_json::json;
use std::io::Write;

const PAGE: usize = 1_000;

pub fn runs(args: RunsArgs) -> Result<i32> {
    let store = super::open_read_store(&db_path(&args.db)?)?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let filter = RunFilter::default();
    let table = super::cost::price_table()?;
    let none = RunCost::default();
    if args.format == OutputFormat::Json {
        write!(out, "[")?;
    } else {
        writeln!(
            out,
            "{:<14} {:<13} {:<16} {:>8} {:>6} {:>10} {:<22} TITLE",
            "RUN", "AGENT", "STARTED", "DURATION", "SPANS", "COST", "FINDINGS"
        )?;
    }
    let mut offset = 0;
    let mut first = true;
    loop {
        let page = store.runs(&filter, RunSort::Started, offset, PAGE)?;
        // Priced a page at a time (its runs and their subagents' calls):
        // pricing every run of a 1 GB store up front peaked at 193 MiB.
        let ids: Vec<&str> = page.iter().map(|r| r.run.id.as_str()).collect();
        let costs = crate::pricing::ledger::costs_of_runs(&store, &table, &ids)?;
        for r in &page {
            let cost = costs.get(&r.run.id).unwrap_or(&none);
            match args.format {
                OutputFormat::Json => {
                    if !first {
                        write!(out, ",")?;
                    }
                    crate::sanitize::write_json(&mut out, &run_json(r, cost))?;
                }
                OutputFormat::Text => writeln!(out, "{}", run_line(r, cost))?,
            }
            first = false;
        }
        if page.len() < PAGE {
            break;
        }
        offset += PAGE;
    }
    if args.format == OutputFormat::Json {
        writeln!(out, "]")?;
    }
    out.flush()?;
    Ok(0)
}

/// A run as JSON for `runs --format json`; `cost` is its own calls' and its
/// subagents' (`usd` null when none could be priced).
pub fn run_json(r: &RunRow, cost: &RunCost) -> serde_json::Value {
    json!({
        "cost": cost.json(),
        "id": r.run.id,
        "agent": r.run.agent.map(|a| a.as_str()).unwrap_or("unknown"),
        "source": r.run.source,
        "parent_run_id": r.run.parent_run_id,
        "started_ms": r.run.started_ms,
        "ended_ms": r.run.ended_ms,
        "title": r.run.title,
        "cwd": r.run.cwd,
        "models": r.models,
        "span_count": r.span_count,
        "tool_count": r.tool_count,
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "findings": {
            "info": r.findings[0], "low": r.findings[1], "medium": r.findings[2],
            "high": r.findings[3], "critical": r.findings[4],
        },
    })
}

fn run_line(r: &RunRow, cost: &RunCost) -> String {
    let started = r.run.started_ms.map(fmt_time).unwrap_or_else(|| "-".into());
    let dur = match (r.run.started_ms, r.run.ended_ms) {
        (Some(s), Some(e)) if e >= s => fmt_duration(e - s),
        _ => "-".into(),
    };
    let f = &r.findings;
    let badges = format!("C{} H{} M{} L{} I{}", f[4], f[3], f[2], f[1], f[0]);
    let title = r.run.title.as_deref().unwrap_or("");
    let id = short_id(&r.run.id, 14);
    format!(
        "{:<14} {:<13} {:<16} {:>8} {:>6} {:>10} {:<22} {}",
        sanitize::line(&id),
        r.run.agent.map(|a| a.as_str()).unwrap_or("unknown"),
        started,
        dur,
        r.span_count,
        cost.short(),
        badges,
        sanitize::line(&truncate(title, 80))
    )
}

pub fn findings(args: FindingsArgs) -> Result<i32> {
    let store = super::open_read_store(&db_path(&args.db)?)?;
    let filter = FindingFilter {
        min_severity: args.severity,
        status: args.status,
        run_id: match &args.run {
            Some(r) => Some(store.resolve_run(r)?),
            None => None,
        },
        ..Default::default()
    };
    let colour = stdout_colour();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    if args.format == OutputFormat::Json {
        write!(out, "[")?;
    }
    let mut offset = 0;
    let mut n = 0;
    loop {
        let page = store.findings(&filter, offset, PAGE)?;
        for f in &page {
            match args.format {
                OutputFormat::Json => {
                    if n > 0 {
                        write!(out, ",")?;
                    }
                    crate::sanitize::write_json(&mut out, &finding_json(f))?;
                }
                OutputFormat::Text => writeln!(out, "{}", finding_line(f, colour))?,
            }
            n += 1;
        }
        if page.len() < PAGE {
            break;
        }
        offset += PAGE;
    }
    match args.format {
        OutputFormat::Json => writeln!(out, "]")?,
        OutputFormat::Text if n == 0 => writeln!(out, "no findings")?,
        OutputFormat::Text => {}
    }
    out.flush()?;
    Ok(0)
}

/// A finding as JSON (`findings --format json`, DESIGN section 2).
pub fn finding_json(f: &FindingRow) -> serde_json::Value {
    let x = &f.finding;
    json!({
        "id": f.id,
        "rule_id": x.rule_id,
        "severity": x.severity.as_str(),
        "confidence": x.confidence,
        "title": x.title,
        "message": x.message,
        "run_id": x.run_id,
        "span_id": x.span_ids.first(),
        "span_ids": x.span_ids,
        "source": x.origin.as_ref().map(|o| json!({"path": o.path, "line": o.line})),
        "evidence": x.evidence,
        "status": f.status.as_str(),
        "reason": f.reason,
        "triaged_by": f.triaged_by,
        "triaged_ms": f.triaged_ms,
        "notes": f.notes,
        "fingerprint": x.fingerprint,
        "skill_id": x.skill_id,
        "ts_ms": x.ts_ms,
        "related": x.related,
        "guard": f.guard.map(|g| g.as_str()),
    })
}

fn finding_line(f: &FindingRow, colour: bool) -> String {
    let x = &f.finding;
    let sev = format!("{:<8}", x.severity.as_str());
    let sev = if colour { paint(x.severity, &sev) } else { sev };
    let at = x
        .origin
        .as_ref()
        .map(|o| format!("{}:{}", o.path, o.line))
        .unwrap_or_else(|| x.run_id.clone());
    format!(
        "#{:<5} {} {:<14} {:<14} {}  [{}]\n       {}",
        f.id,
        sev,
        x.rule_id,
        f.status.as_str(),
        sanitize::line(&truncate(&x.message, 100)),
        sanitize::line(&at),
        sanitize::line(&truncate(&x.evidence, 110)),
    )
}

fn paint(s: Severity, text: &str) -> String {
    let code = match s {
        Severity::Critical => "1;35",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

/// A long id shortened to `n` characters keeping both ends (`4d5611e5…agent-a1`),
/// so sibling runs that share a prefix stay distinguishable.
pub fn short_id(id: &str, n: usize) -> String {
    let count = id.chars().count();
    if count <= n {
        return id.to_string();
    }
    let tail = n / 2;
    let head = n - tail - 1;
    let start: String = id.chars().take(head).collect();
    let end: String = id.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// At most `n` characters of stored (redacted) text, with an ellipsis when cut;
/// never inside a redaction marker ([`crate::redact::cut::cut`]).
pub fn truncate(s: &str, n: usize) -> String {
    crate::redact::cut::cut(s, n).into_owned()
}

/// `YYYY-MM-DD HH:MM` in UTC.
pub fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

/// `850ms`, `12.3s`, `4m05s`, `2h03m`.
pub fn fmt_duration(ms: i64) -> String {
    match ms {
        m if m < 1_000 => format!("{m}ms"),
        m if m < 60_000 => format!("{:.1}s", m as f64 / 1000.0),
        m if m < 3_600_000 => format!("{}m{:02}s", m / 60_000, (m / 1000) % 60),
        m => format!("{}h{:02}m", m / 3_600_000, (m / 60_000) % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_duration(850), "850ms");
        assert_eq!(fmt_duration(12_300), "12.3s");
        assert_eq!(fmt_duration(245_000), "4m05s");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(short_id("abcdefghijklmnopqrstuvwxyz", 9), "abcd…wxyz");
        assert_eq!(short_id("short", 9), "short");
        assert_eq!(fmt_time(0), "1970-01-01 00:00");
    }
}
