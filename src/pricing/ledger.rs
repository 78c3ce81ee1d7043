//! Usage rows priced and grouped: each run with its subagents rolled up (and
//! kept apart), and totals by model, agent, day or top-level run.

use super::{Cost, PriceTable, RunCost};
use crate::store::UsageRow;
use crate::usage::{ModelUsage, RunUsage};
use std::collections::{BTreeMap, HashMap};

/// How deep a chain of subagents is followed (a guard against parent loops).
const MAX_DEPTH: usize = 64;

/// What a cost report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Model,
    Agent,
    Day,
    /// Top-level runs, subagents rolled into them.
    Run,
}

impl GroupBy {
    /// The word for the group in headers and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Model => "model",
            GroupBy::Agent => "agent",
            GroupBy::Day => "day",
            GroupBy::Run => "run",
        }
    }
}

/// `run`'s ancestors, nearest first (`parents` maps a run to its parent).
fn ancestors<'a>(parents: &'a HashMap<String, String>, run: &'a str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    let mut at = run;
    while let Some(p) = parents.get(at) {
        if p == run || out.contains(&p.as_str()) || out.len() >= MAX_DEPTH {
            break;
        }
        out.push(p);
        at = p;
    }
    out
}

/// The top-level run `run` belongs to (itself when it has no parent).
pub fn top_run<'a>(parents: &'a HashMap<String, String>, run: &'a str) -> &'a str {
    ancestors(parents, run).last().copied().unwrap_or(run)
}

/// Adds `row`'s usage to `list`, summed with the entry of the same model and band.
fn push(list: &mut Vec<ModelUsage>, row: &UsageRow) {
    match list
        .iter_mut()
        .find(|m| m.model == row.model && m.band == row.band)
    {
        Some(m) => m.usage.add(&row.usage),
        None => list.push(ModelUsage {
            model: row.model.clone(),
            band: row.band,
            usage: row.usage,
        }),
    }
}

/// Each run's own usage and its subagents' (every run below it).
pub fn run_usages(
    rows: &[UsageRow],
    parents: &HashMap<String, String>,
) -> HashMap<String, RunUsage> {
    let mut out: HashMap<String, RunUsage> = HashMap::new();
    for r in rows {
        push(&mut out.entry(r.run_id.clone()).or_default().own, r);
        for a in ancestors(parents, &r.run_id) {
            push(&mut out.entry(a.to_owned()).or_default().subagents, r);
        }
    }
    out
}

/// Each run's cost, subagents rolled up and shown apart.
pub fn run_costs(
    table: &PriceTable,
    rows: &[UsageRow],
    parents: &HashMap<String, String>,
) -> HashMap<String, RunCost> {
    run_usages(rows, parents)
        .into_iter()
        .map(|(id, u)| (id, RunCost::of(table, &u)))
        .collect()
}

/// The costs of `runs` (subagents rolled up), read from `store`.
pub fn costs_of_runs(
    store: &crate::store::Store,
    table: &PriceTable,
    runs: &[&str],
) -> Result<HashMap<String, RunCost>, crate::store::StoreError> {
    if runs.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = store.usage_rows_of(table.bands(), runs)?;
    // Every link between a row's run and a run of `runs` lies below `runs`.
    let parents = store.run_parents_of(runs)?;
    let wanted: std::collections::HashSet<&str> = runs.iter().copied().collect();
    let mut all = run_costs(table, &rows, &parents);
    with_reported(&mut all, store.reported_costs(Some(runs))?);
    all.retain(|id, _| wanted.contains(id.as_str()));
    Ok(all)
}

/// Gives each run of `costs` the figure its agent reported (`reported`: run
/// id → dollars), adding runs that made no priced call but reported one.
pub fn with_reported(costs: &mut HashMap<String, RunCost>, reported: HashMap<String, f64>) {
    for (id, usd) in reported {
        costs.entry(id).or_default().reported = Some(super::Money::from_usd(usd));
    }
}

/// What all `rows` cost together (the total of every grouping).
pub fn total(table: &PriceTable, rows: &[UsageRow]) -> Cost {
    let mut total = Cost::default();
    for r in rows {
        total.add(table, &r.model, r.band, &r.usage);
    }
    total
}

/// Costs grouped by `by`, keys sorted, with the grand total. Grouped by run,
/// a subagent's calls count under its top-level run.
pub fn grouped(
    table: &PriceTable,
    rows: &[UsageRow],
    parents: &HashMap<String, String>,
    by: GroupBy,
) -> (BTreeMap<String, Cost>, Cost) {
    let mut groups: BTreeMap<String, Cost> = BTreeMap::new();
    let mut total = Cost::default();
    for r in rows {
        let key = match by {
            GroupBy::Model if r.model.is_empty() => super::cost::NO_MODEL.to_owned(),
            GroupBy::Model => r.model.clone(),
            GroupBy::Agent => r.agent.clone(),
            GroupBy::Day if r.day.is_empty() => "undated".to_owned(),
            GroupBy::Day => r.day.clone(),
            GroupBy::Run => top_run(parents, &r.run_id).to_owned(),
        };
        groups
            .entry(key)
            .or_default()
            .add(table, &r.model, r.band, &r.usage);
        total.add(table, &r.model, r.band, &r.usage);
    }
    (groups, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Usage;

    fn row(run: &str, model: &str, u: Usage) -> UsageRow {
        UsageRow {
            run_id: run.into(),
            agent: "claude-code".into(),
            day: "2026-12-06".into(),
            model: model.into(),
            band: 0,
            usage: u,
        }
    }

    #[test]
    fn subagents_roll_up_through_every_level_and_loops_end() {
        let parents: HashMap<String, String> = [("sub", "top"), ("subsub", "sub")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let rows = [
            row("top", "m", Usage::openai(10, 0, 1)),
            row("sub", "m", Usage::openai(20, 0, 2)),
            row("subsub", "m", Usage::openai(40, 0, 4)),
        ];
        let u = run_usages(&rows, &parents);
        assert_eq!(u["top"].own[0].usage.input, 10);
        assert_eq!(u["top"].subagents[0].usage.input, 60, "both levels below");
        assert_eq!(u["top"].subagents[0].usage.calls, 2);
        assert_eq!(u["sub"].subagents[0].usage.input, 40);
        assert!(u["subsub"].subagents.is_empty());

        let table = PriceTable::default();
        let (g, total) = grouped(&table, &rows, &parents, GroupBy::Run);
        assert_eq!(g.keys().collect::<Vec<_>>(), ["top"]);
        assert_eq!(total.unknown.input, 70);
        assert_eq!(g["top"].short(), "unknown", "an empty table prices nothing");

        let looped: HashMap<String, String> = [("a", "b"), ("b", "a")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(ancestors(&looped, "a"), ["b"]);
    }
}
