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
use crate::pricing::PriceTable;
use crate::store::{Store, StoreError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::budget_days::{Day, DayBook};

use rules::id::{COST_AGENT_DAY, COST_DAY, COST_RUN};

/// Budgets and the table they are priced with.
#[derive(Debug, Clone)]
pub struct BudgetWatch {
    budgets: Budgets,
    table: Arc<PriceTable>,
    /// The days read so far, when this watch is one writer's (see [`BudgetWatch::remembering`]).
    book: Option<Arc<Mutex<DayBook>>>,
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
        (!budgets.is_empty()).then_some(BudgetWatch {
            budgets,
            table,
            book: None,
        })
    }

    /// The same watch keeping what each day's calls cost between checks, for
    /// the one writer that stores every batch it checks: each check then
    /// reads only its runs' calls. Its crossings are found once each.
    pub fn remembering(mut self) -> BudgetWatch {
        self.book = Some(Arc::new(Mutex::new(DayBook::default())));
        self
    }

    /// Forgets what the days cost (batches were stored that this watch did
    /// not check: the next check reads their days again).
    pub fn forget(&self) {
        if let Some(b) = &self.book {
            b.lock().unwrap_or_else(|e| e.into_inner()).forget();
        }
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
        // The days the touched runs' calls were made on, and who made them.
        let mut days: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
        for r in rows.iter().filter(|r| touched.contains(&r.run_id)) {
            if !r.day.is_empty() {
                days.entry(r.day.as_str())
                    .or_default()
                    .entry(r.agent.as_str())
                    .or_insert(r.run_id.as_str());
            }
        }
        // Each day's calls: from the book (the touched runs' fresh usage put
        // in) when this watch keeps one, else read alone by index.
        let mut book = self
            .book
            .as_ref()
            .map(|b| b.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(b) = book.as_mut() {
            b.sync(store)?;
            let runs: BTreeSet<&str> = rows
                .iter()
                .map(|r| r.run_id.as_str())
                .chain(touched.iter().map(String::as_str))
                .collect();
            b.update(&self.table, &runs, &rows);
        }
        for (day, agents) in days {
            let mut fresh;
            let d: &mut Day = match book.as_mut() {
                Some(b) => b.day(store, &self.table, day)?,
                None => {
                    fresh = Day::read(store, &self.table, day)?;
                    &mut fresh
                }
            };
            let Some(&first) = agents.values().next() else {
                continue;
            };
            let checks = std::iter::once((None, first, self.budgets.day)).chain(
                agents
                    .iter()
                    .map(|(&a, &run)| (Some(a), run, self.budgets.agent_day.get(a).copied())),
            );
            for (agent, run, budget) in checks {
                let key = agent.unwrap_or("").to_owned();
                // Priced money first (cheap); the full cost only when over.
                let Some(budget) = budget else { continue };
                if d.crossed.contains(&key) || d.money(agent) <= budget {
                    continue;
                }
                let spent = d.cost(&self.table, agent);
                let over = match agent {
                    None => self.budgets.over_day(&spent),
                    Some(a) => self.budgets.over_agent_day(a, &spent),
                };
                let Some(over) = over else { continue };
                d.crossed.insert(key);
                crossings.push(match agent {
                    None => Crossing {
                        rule: COST_DAY,
                        run_id: run,
                        fp_run: "",
                        fp_key: day.to_owned(),
                        what: format!("day {day}"),
                        over,
                    },
                    Some(a) => Crossing {
                        rule: COST_AGENT_DAY,
                        run_id: run,
                        fp_run: "",
                        fp_key: format!("{a} {day}"),
                        what: format!("{a} on {day}"),
                        over,
                    },
                });
            }
        }
        Ok(crossings.into_iter().map(finding).collect())
    }
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
