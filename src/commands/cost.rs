//! `skilltrace cost`: what the stored model calls cost, grouped by model,
//! agent, day or top-level run, priced offline by the price table; by run,
//! a run's own reported figure (Claude Code's `cost-state`) is shown in place
//! of its estimate, marked, the estimate kept.

use super::db_path;
use crate::cli::{CostArgs, CostBy, OutputFormat};
use crate::pricing::ledger::{grouped, GroupBy};
use crate::pricing::{thousands, Cost, Money, PriceTable};
use crate::sanitize;
use anyhow::Result;
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;

/// The config's price table, installed for this process.
pub fn price_table() -> Result<std::sync::Arc<PriceTable>> {
    let config = crate::config::Config::load_default()?;
    Ok(crate::pricing::install(PriceTable::from_config(&config)?))
}

/// `YYYY-MM-DD` as the epoch milliseconds of that day's local midnight.
pub fn day_start_ms(day: &str) -> Result<i64> {
    use chrono::TimeZone;
    let d = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").map_err(|e| {
        anyhow::anyhow!(
            "--since {}: not a YYYY-MM-DD date: {e}",
            sanitize::line(day)
        )
    })?;
    let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    let local = chrono::Local
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp_millis());
    Ok(local.unwrap_or_else(|| midnight.and_utc().timestamp_millis()))
}

pub fn run(args: CostArgs) -> Result<i32> {
    let since = args.since.as_deref().map(day_start_ms).transpose()?;
    let table = price_table()?;
    let store = super::open_read_store(&db_path(&args.db)?)?;
    let rows = store.usage_rows(table.bands(), since)?;
    let parents = store.run_parents()?;
    let by = match args.by {
        CostBy::Model => GroupBy::Model,
        CostBy::Agent => GroupBy::Agent,
        CostBy::Day => GroupBy::Day,
        CostBy::Run => GroupBy::Run,
    };
    let (groups, total) = grouped(&table, &rows, &parents, by);
    // By run (and over all time: the figure is the whole session's), a run
    // whose agent reported its own cost shows that figure, the estimate kept.
    let reported: HashMap<String, Money> = if by == GroupBy::Run && since.is_none() {
        store
            .reported_costs(None)?
            .into_iter()
            .filter(|(id, _)| groups.contains_key(id))
            .map(|(id, usd)| (id, Money::from_usd(usd)))
            .collect()
    } else {
        HashMap::new()
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    match args.format {
        OutputFormat::Json => {
            let rows: Vec<_> = groups
                .iter()
                .map(|(k, c)| {
                    let mut v = usage_json(c);
                    v[by.as_str()] = json!(k);
                    if let Some(m) = reported.get(k) {
                        v["estimate_usd"] = v["usd"].clone();
                        v["usd"] = json!(m.usd());
                        v["usd_from"] = json!("agent");
                    }
                    v
                })
                .collect();
            let s = table.source();
            let doc = json!({
                "by": by.as_str(),
                "since": args.since,
                "rows": rows,
                "total": usage_json(&total),
                "prices": {"source": s.name, "package": s.package, "licence": s.licence, "snapshot": s.snapshot},
            });
            crate::sanitize::write_json(&mut out, &doc)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            let head = by.as_str().to_ascii_uppercase();
            writeln!(
                out,
                "{head:<28} {:>6} {:>12} {:>12} {:>12}  COST",
                "CALLS", "INPUT", "CACHED", "OUTPUT"
            )?;
            for (k, c) in &groups {
                let shown = match reported.get(k) {
                    Some(m) => format!("{m}*"),
                    None => c.short(),
                };
                writeln!(out, "{}", text_line(&sanitize::line(k), c, &shown))?;
            }
            writeln!(out, "{}", text_line("total", &total, &total.short()))?;
            if !reported.is_empty() {
                let sum = reported.values().fold(Money(0), |a, &m| a + m);
                let mut priced = Cost::default();
                for k in reported.keys() {
                    priced.merge(&groups[k]);
                }
                writeln!(
                    out,
                    "* the agent's own figure for the run (Claude Code's cost-state), shown in place of \
                     the estimate: {} run{} {sum}, priced {}; the total is priced",
                    reported.len(),
                    if reported.len() == 1 { "" } else { "s" },
                    priced.long()
                )?;
            }
            if total.has_unknown() {
                writeln!(out, "unknown: {}", sanitize::line(&total.long()))?;
            }
            writeln!(out, "{}", table.source().line())?;
        }
    }
    out.flush()?;
    Ok(0)
}

/// A row of the table: `c`'s tokens, and `shown` in the COST column.
fn text_line(key: &str, c: &Cost, shown: &str) -> String {
    let u = c.usage();
    format!(
        "{:<28} {:>6} {:>12} {:>12} {:>12}  {}",
        super::listing::truncate(key, 28),
        thousands(u.calls),
        thousands(u.input),
        thousands(u.cache_read + u.cache_write),
        thousands(u.output),
        shown
    )
}

/// A cost with its tokens, as JSON.
fn usage_json(c: &Cost) -> serde_json::Value {
    let u = c.usage();
    let mut v = c.json();
    v["calls"] = json!(u.calls);
    v["input_tokens"] = json!(u.input);
    v["cache_read_tokens"] = json!(u.cache_read);
    v["cache_write_tokens"] = json!(u.cache_write);
    v["output_tokens"] = json!(u.output);
    v
}
