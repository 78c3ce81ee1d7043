//! Money and costs: exact sums of femto-dollars, with what could not be priced
//! kept apart and named.

use super::PriceTable;
use crate::model::Span;
use crate::usage::{ModelUsage, RunUsage, Usage};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt;

/// Femto-dollars per dollar.
const FEMTO: u128 = 1_000_000_000_000_000;

/// An amount of US dollars, in whole femto-dollars (10^-15 $): exact for any
/// sum of token counts times table prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Money(pub u128);

impl Money {
    /// Dollars as a float (for JSON and comparisons with budgets).
    pub fn usd(self) -> f64 {
        (self.0 / FEMTO) as f64 + (self.0 % FEMTO) as f64 / FEMTO as f64
    }

    /// `dollars` (a config figure) as money; negative or non-finite is zero.
    pub fn from_usd(dollars: f64) -> Money {
        if dollars.is_finite() && dollars > 0.0 {
            Money((dollars * FEMTO as f64).round() as u128)
        } else {
            Money(0)
        }
    }

    /// Micro-dollars, rounded to nearest (for the store and fingerprints).
    pub fn micros(self) -> u128 {
        (self.0 + 500_000_000) / 1_000_000_000
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0.saturating_add(o.0))
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 = self.0.saturating_add(o.0);
    }
}

impl fmt::Display for Money {
    /// `$12.34`; under a cent `$0.0042`; under a hundredth of a cent `<$0.0001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rounded to nearest in `unit` femto-dollars.
        let round = |unit: u128| (self.0 + unit / 2) / unit;
        let s = if self.0 == 0 {
            "$0.00".to_string()
        } else if self.micros() >= 10_000 {
            let cents = round(FEMTO / 100);
            format!("${}.{:02}", cents / 100, cents % 100)
        } else if self.micros() >= 100 {
            format!("$0.{:04}", round(FEMTO / 10_000))
        } else {
            "<$0.0001".to_string()
        };
        f.pad(&s)
    }
}

/// What some usage cost: the priced part in money, the rest kept as tokens
/// with the names of the models the table lacks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cost {
    /// What the priced usage cost.
    pub money: Money,
    /// Usage of models the table prices.
    pub priced: Usage,
    /// Usage of models it does not.
    pub unknown: Usage,
    /// Those models (`(no model)` for calls that name none).
    pub unknown_models: BTreeSet<String>,
}

/// The name shown for calls whose trace names no model.
pub const NO_MODEL: &str = "(no model)";

impl Cost {
    /// Adds `usage` of `model`, filed under `band`, priced by `table`.
    pub fn add(&mut self, table: &PriceTable, model: &str, band: u64, usage: &Usage) {
        match table.cost(model, usage, band) {
            Some(m) => {
                self.money += m;
                self.priced.add(usage);
            }
            None => {
                self.unknown.add(usage);
                let name = if model.trim().is_empty() {
                    NO_MODEL
                } else {
                    model
                };
                self.unknown_models.insert(name.to_owned());
            }
        }
    }

    /// The cost of one span's model call; `None` when it records no tokens.
    pub fn of_span(table: &PriceTable, span: &Span) -> Option<Cost> {
        let u = Usage::of(span)?;
        let mut c = Cost::default();
        let model = span.model.as_deref().unwrap_or("");
        c.add(table, model, table.band_of(u.input), &u);
        Some(c)
    }

    /// The cost of summed usage rows.
    pub fn of_rows(table: &PriceTable, rows: &[ModelUsage]) -> Cost {
        let mut c = Cost::default();
        for r in rows {
            c.add(table, &r.model, r.band, &r.usage);
        }
        c
    }

    /// Adds another cost to this one.
    pub fn merge(&mut self, o: &Cost) {
        self.money += o.money;
        self.priced.add(&o.priced);
        self.unknown.add(&o.unknown);
        self.unknown_models.extend(o.unknown_models.iter().cloned());
    }

    /// Priced and unpriced usage together.
    pub fn usage(&self) -> Usage {
        let mut u = self.priced;
        u.add(&self.unknown);
        u
    }

    /// True when there is no usage at all.
    pub fn is_empty(&self) -> bool {
        self.priced.is_empty() && self.unknown.is_empty()
    }

    /// True when some usage could not be priced.
    pub fn has_unknown(&self) -> bool {
        !self.unknown.is_empty()
    }

    /// True when nothing could be priced but there was usage.
    pub fn all_unknown(&self) -> bool {
        self.priced.is_empty() && self.has_unknown()
    }

    /// For a narrow column: empty (no usage), `unknown`, `$1.23`, or `$1.23+?`
    /// (priced part, plus usage of an unknown price).
    pub fn short(&self) -> String {
        if self.is_empty() {
            String::new()
        } else if self.all_unknown() {
            "unknown".into()
        } else if self.has_unknown() {
            format!("{}+?", self.money)
        } else {
            self.money.to_string()
        }
    }

    /// For a line of text: `$1.23`, `unknown (2 calls, 1,234 tokens: acme-x)`
    /// or `$1.23 + unknown (...)`; `-` when there is no usage.
    pub fn long(&self) -> String {
        if self.is_empty() {
            return "-".into();
        }
        if !self.has_unknown() {
            return self.money.to_string();
        }
        let names: Vec<&str> = self.unknown_models.iter().map(String::as_str).collect();
        let unknown = format!(
            "unknown ({} call{}, {} tokens: {})",
            self.unknown.calls,
            if self.unknown.calls == 1 { "" } else { "s" },
            thousands(self.unknown.tokens()),
            names.join(", ")
        );
        if self.all_unknown() {
            unknown
        } else {
            format!("{} + {unknown}", self.money)
        }
    }

    /// As JSON: `usd` is the priced part (`null` when nothing could be
    /// priced), `unknown_*` say how much is not in it.
    pub fn json(&self) -> Value {
        json!({
            "usd": (!self.all_unknown() && !self.is_empty()).then(|| self.money.usd()),
            "priced_calls": self.priced.calls,
            "unknown_calls": self.unknown.calls,
            "unknown_tokens": self.unknown.tokens(),
            "unknown_models": self.unknown_models,
        })
    }
}

/// A run's cost: its own calls and its subagents' (rolled up, shown apart),
/// priced by the table; and the figure the agent reported for the run, when
/// it wrote one (Claude Code's `cost-state`, which covers the session's
/// subagents and side calls too). The reported figure is the one shown; the
/// estimate stays beside it for comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunCost {
    pub own: Cost,
    pub subagents: Cost,
    pub reported: Option<Money>,
}

impl RunCost {
    /// A run's usage priced by `table` (no reported figure).
    pub fn of(table: &PriceTable, u: &RunUsage) -> RunCost {
        RunCost {
            own: Cost::of_rows(table, &u.own),
            subagents: Cost::of_rows(table, &u.subagents),
            reported: None,
        }
    }

    /// Own and subagents' cost together, as priced by the table.
    pub fn total(&self) -> Cost {
        let mut t = self.own.clone();
        t.merge(&self.subagents);
        t
    }

    /// For a narrow column: the agent's own figure when it reported one,
    /// else the estimate ([`Cost::short`]).
    pub fn short(&self) -> String {
        match self.reported {
            Some(m) => m.to_string(),
            None => self.total().short(),
        }
    }

    /// For a line of text: the agent's own figure with the estimate beside it
    /// (`$0.42 (agent's figure; priced $0.40)`), else the estimate
    /// ([`Cost::long`]).
    pub fn long(&self) -> String {
        match self.reported {
            Some(m) => format!("{m} (agent's figure; priced {})", self.total().long()),
            None => self.total().long(),
        }
    }

    /// As JSON: `usd` is the figure shown (the agent's, else the estimate)
    /// and `usd_from` says which (`agent` or `prices`); `estimate_usd` is the
    /// priced total, `reported_usd` the agent's figure (`null` when none),
    /// `own_usd` and `subagents_usd` the estimate's parts.
    pub fn json(&self) -> Value {
        let mut v = self.total().json();
        v["estimate_usd"] = v["usd"].clone();
        v["reported_usd"] = json!(self.reported.map(Money::usd));
        v["usd_from"] = json!(if self.reported.is_some() {
            "agent"
        } else {
            "prices"
        });
        if let Some(m) = self.reported {
            v["usd"] = json!(m.usd());
        }
        v["own_usd"] = self.own.json()["usd"].clone();
        v["subagents_usd"] = self.subagents.json()["usd"].clone();
        v
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
