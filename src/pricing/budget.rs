//! Cost budgets from the config (`[budgets]`): per run (subagents included),
//! per day, and per agent per day, in US dollars.
//!
//! Pure: given what a run or a day has cost, [`Budgets`] says which budget it
//! is over. Watching the store for crossings (and raising `COST-TRACE-*`
//! findings) is `ingest::budget`'s job.

use super::{Cost, Money};
use crate::config::Config;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The config's `[budgets]` section, in dollars.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetsFile {
    /// Per run, its subagents' calls included.
    run: Option<f64>,
    /// Per calendar day (local time), every agent together.
    day: Option<f64>,
    /// Per calendar day for one agent (`claude-code`, `codex`, ...).
    #[serde(default)]
    agent_day: BTreeMap<String, f64>,
}

/// The budgets in force. Only priced calls count against them: a model the
/// price table lacks costs nothing here, and findings say how much was unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budgets {
    pub run: Option<Money>,
    pub day: Option<Money>,
    /// Agent name → daily budget.
    pub agent_day: BTreeMap<String, Money>,
}

/// A budget a cost is over.
#[derive(Debug, Clone, PartialEq)]
pub struct Over {
    pub budget: Money,
    pub spent: Cost,
}

impl Budgets {
    /// The `[budgets]` section; a negative or non-numeric figure is an error
    /// naming the config file and line.
    pub fn from_config(config: &Config) -> anyhow::Result<Budgets> {
        let f: BudgetsFile = config.section("budgets")?;
        let check = |what: &str, v: f64| -> anyhow::Result<Money> {
            if v.is_finite() && v > 0.0 {
                Ok(Money::from_usd(v))
            } else {
                anyhow::bail!(
                    "{}:{}: [budgets] {what} = {v}: a budget is a positive number of dollars",
                    config.display_name(),
                    config.line_of(what)
                )
            }
        };
        let mut b = Budgets {
            run: f.run.map(|v| check("run", v)).transpose()?,
            day: f.day.map(|v| check("day", v)).transpose()?,
            agent_day: BTreeMap::new(),
        };
        for (agent, v) in f.agent_day {
            let m = check(&agent, v)?;
            b.agent_day.insert(agent, m);
        }
        Ok(b)
    }

    /// True when no budget is set (nothing to watch).
    pub fn is_empty(&self) -> bool {
        self.run.is_none() && self.day.is_none() && self.agent_day.is_empty()
    }

    /// The run budget, when `spent` (a run and its subagents) is over it.
    pub fn over_run(&self, spent: &Cost) -> Option<Over> {
        over(self.run, spent)
    }

    /// The daily budget, when `spent` (one day, every agent) is over it.
    pub fn over_day(&self, spent: &Cost) -> Option<Over> {
        over(self.day, spent)
    }

    /// `agent`'s daily budget, when `spent` (one day of that agent) is over it.
    pub fn over_agent_day(&self, agent: &str, spent: &Cost) -> Option<Over> {
        over(self.agent_day.get(agent).copied(), spent)
    }
}

fn over(budget: Option<Money>, spent: &Cost) -> Option<Over> {
    let budget = budget?;
    (spent.money > budget).then(|| Over {
        budget,
        spent: spent.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(usd: f64) -> Cost {
        Cost {
            money: Money::from_usd(usd),
            ..Cost::default()
        }
    }

    #[test]
    fn over_means_strictly_above() {
        let cfg = Config::from_text(
            None,
            "[budgets]\nrun = 5\nday = 20.5\nagent_day = { codex = 1.25 }\n".into(),
        )
        .expect("config");
        let b = Budgets::from_config(&cfg).expect("budgets");
        assert!(!b.is_empty());
        assert_eq!(b.over_run(&cost(5.0)), None, "at the budget is not over it");
        assert_eq!(
            b.over_run(&cost(5.01)).map(|o| o.budget),
            Some(Money::from_usd(5.0))
        );
        assert!(b.over_day(&cost(20.5)).is_none() && b.over_day(&cost(21.0)).is_some());
        assert!(b.over_agent_day("codex", &cost(1.5)).is_some());
        assert!(b.over_agent_day("claude-code", &cost(100.0)).is_none());
        assert!(Budgets::default().is_empty());
    }

    #[test]
    fn bad_budgets_name_the_line() {
        let cfg = Config::from_text(None, "[budgets]\n\nday = -3.0\n".into()).expect("toml");
        let e = Budgets::from_config(&cfg)
            .expect_err("negative")
            .to_string();
        assert!(e.starts_with("config:3: [budgets] day = -3"), "{e}");
        let cfg = Config::from_text(None, "[budgets]\nweek = 3.0\n".into()).expect("toml");
        assert!(Budgets::from_config(&cfg).is_err());
    }
}
