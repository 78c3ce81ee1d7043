//! The budget watch: after a stored batch with model calls, prices the runs
//! and days it touched and raises a `COST-TRACE-*` finding the first time a
//! budget of the config's `[budgets]` is crossed (a run with its subagents,
//! a day, an agent's day). Findings are fingerprinted by run or day, so one
//! crossing is one finding however many batches follow. Only what the batch
//! touched is read: its runs' trees and its days' calls, by index, never the
//! whole store's usage.

use crate::detect::fingerprint::fingerprint;
use crate::detect::rules;
use crate::model::Finding;
use crate::pricing::budget::{Budgets, Over};
use crate::pricing::ledger::{run_costs, top_run};
use crate::pricing::{Cost, PriceTable};
use crate::store::{Store, StoreError, UsageRow};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rules::id::{COST_AGENT_DAY, COST_DAY, COST_RUN};

/// Budgets and the table they are priced with.
#[derive(Debug, Clone)]
pub struct BudgetWatch {
    budgets: Budgets,
    table: Arc<PriceTable>,
}

/// What a crossing is reported with: the rule, the run it is filed under,
/// the fingerprint key, and the words.
struct Crossing<'a> {
    rule: &'static str,
    run_id: &'a str,
    fp_run: &'a str,
    fp_key: String,
    what: String,
    over: Over,
}

impl BudgetWatch {
    /// A watch for `budgets`; `None` when none is set (nothing to watch).
    pub fn new(budgets: Budgets, table: Arc<PriceTable>) -> Option<BudgetWatch> {
        (!budgets.is_empty()).then_some(BudgetWatch { budgets, table })
    }

    /// The budgets `touched` runs (whose calls were just stored) are over,
    /// as findings (unredacted: the caller redacts them like any other).
    ///
    /// The hook for the guard (issue 16): before letting a run's next tool
    /// call through, `check(store, {run})` says whether that run, its day or
    /// its agent's day is over budget; a non-empty answer is its ask/deny.
    pub fn check(
        &self,
        store: &Store,
        touched: &BTreeSet<String>,
    ) -> Result<Vec<Finding>, StoreError> {
        if touched.is_empty() {
            return Ok(Vec::new());
        }
        let bands = self.table.bands();
        let parents = store.run_parents()?;
        let tops: BTreeSet<&str> = touched.iter().map(|r| top_run(&parents, r)).collect();
        // The touched runs' calls: with a run budget, their whole top-level
        // runs' (subagents included); else only their own trees'.
        let rows = if self.budgets.run.is_some() {
            store.usage_rows_of(bands, &tops.iter().copied().collect::<Vec<_>>())?
        } else {
            store.usage_rows_of(
                bands,
                &touched.iter().map(String::as_str).collect::<Vec<_>>(),
            )?
        };
        let mut crossings = Vec::new();
        if self.budgets.run.is_some() {
            let costs = run_costs(&self.table, &rows, &parents);
            for &top in &tops {
                let Some(c) = costs.get(top) else { continue };
                if let Some(over) = self.budgets.over_run(&c.total()) {
                    let subs = if c.subagents.is_empty() {
                        String::new()
                    } else {
                        format!(" (subagents {})", c.subagents.long())
                    };
                    crossings.push(Crossing {
                        rule: COST_RUN,
                        run_id: top,
                        fp_run: top,
                        fp_key: "run".into(),
                        what: format!("run{subs}"),
                        over,
                    });
                }
            }
        }
        if self.budgets.day.is_none() && self.budgets.agent_day.is_empty() {
            return Ok(crossings.into_iter().map(finding).collect());
        }
        // The days the touched runs' calls were made on, and who made them;
        // each day's calls are read alone (by the calls' time index).
        let mut days: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
        for r in rows.iter().filter(|r| touched.contains(&r.run_id)) {
            if !r.day.is_empty() {
                days.entry(r.day.as_str())
                    .or_default()
                    .entry(r.agent.as_str())
                    .or_insert(r.run_id.as_str());
            }
        }
        for (day, agents) in days {
            let Some(&run) = agents.values().next() else {
                continue;
            };
            let on_day = store.usage_rows_on(bands, day)?;
            if self.budgets.day.is_some() {
                let spent = cost_where(&self.table, &on_day, |_| true);
                if let Some(over) = self.budgets.over_day(&spent) {
                    crossings.push(Crossing {
                        rule: COST_DAY,
                        run_id: run,
                        fp_run: "",
                        fp_key: day.to_owned(),
                        what: format!("day {day}"),
                        over,
                    });
                }
            }
            for (&agent, &run) in &agents {
                if !self.budgets.agent_day.contains_key(agent) {
                    continue;
                }
                let spent = cost_where(&self.table, &on_day, |r| r.agent == agent);
                if let Some(over) = self.budgets.over_agent_day(agent, &spent) {
                    crossings.push(Crossing {
                        rule: COST_AGENT_DAY,
                        run_id: run,
                        fp_run: "",
                        fp_key: format!("{agent} {day}"),
                        what: format!("{agent} on {day}"),
                        over,
                    });
                }
            }
        }
        Ok(crossings.into_iter().map(finding).collect())
    }
}

fn cost_where(table: &PriceTable, rows: &[UsageRow], keep: impl Fn(&UsageRow) -> bool) -> Cost {
    let mut c = Cost::default();
    for r in rows.iter().filter(|r| keep(r)) {
        c.add(table, &r.model, r.band, &r.usage);
    }
    c
}

fn finding(c: Crossing<'_>) -> Finding {
    let unknown = if c.over.spent.has_unknown() {
        format!("; not counted: {}", c.over.spent.long())
    } else {
        String::new()
    };
    let message = format!(
        "{} cost {}, over its {} budget{unknown}",
        c.what, c.over.spent.money, c.over.budget
    );
    Finding {
        rule_id: c.rule.to_owned(),
        severity: rules::default_severity(c.rule),
        confidence: 1.0,
        run_id: c.run_id.to_owned(),
        span_ids: Vec::new(),
        title: rules::title(c.rule),
        evidence: format!("{} > {}", c.over.spent.money, c.over.budget),
        message,
        fingerprint: fingerprint(c.rule, c.fp_run, &c.fp_key),
        origin: None,
        skill_id: None,
        ts_ms: Some(chrono::Utc::now().timestamp_millis()),
        related: Vec::new(),
    }
}

/// True when `s` is a model call with token counts (what can move a cost).
pub fn has_usage(s: &crate::model::Span) -> bool {
    s.input_tokens.is_some() || s.output_tokens.is_some()
}
