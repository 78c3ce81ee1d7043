//! What model calls cost: an offline price table, exact money arithmetic, and
//! costs that say how much of them is unknown.
//!
//! [`PriceTable`] is the shipped table (`assets/pricing/prices.toml`, made by
//! `scripts/gen_prices.py` from LiteLLM's price list) with the config's
//! `[pricing]` over it; no network at run time. [`charge`] prices a
//! [`Usage`](crate::usage::Usage) against a model's [`Rates`]: uncached prompt
//! tokens at the input price, cache reads and writes at theirs, completion
//! tokens at the output price, every token of a long-context call at its
//! tier's. [`Cost`] adds priced and unpriced usage up separately, so a model
//! the table lacks shows as `unknown`, never as `$0`. [`budget`] turns the
//! config's budgets into findings. An agent's own figure for a run (Claude
//! Code's `cost-state`) is kept beside the estimate ([`RunCost::reported`])
//! and shown in its place.

pub mod budget;
mod cost;
pub mod ledger;
mod names;
mod table;

pub use cost::{thousands, Cost, Money, RunCost, NO_MODEL};
pub use names::candidates;
pub use table::{band_of, Price, PriceTable, Rates, Source, Tier};

use crate::usage::Usage;
use std::sync::{Arc, OnceLock};

/// The span (id and name, one per run) holding the cost an agent reported
/// for its whole run, subagents and side calls included: Claude Code's
/// `cost-state`. Views show that figure in place of the priced estimate.
pub const REPORTED_SPAN: &str = "cost-state";
/// The attribute of that span (and of a headless Claude Code `result`
/// event) holding the reported cost in dollars.
pub const REPORTED_COST: &str = "reported_cost_usd";

/// What `u` costs at `r`, in femto-dollars. A cache price `r` lacks is the
/// input price; a 1-hour cache-write price it lacks is the 5-minute one.
pub fn charge(r: &Rates, u: &Usage) -> Money {
    let cache_write = r.cache_write.unwrap_or(r.input);
    let cache_write_1h = r.cache_write_1h.unwrap_or(cache_write);
    let write_1h = u.cache_write_1h.min(u.cache_write);
    let parts = [
        (u.uncached_input(), r.input),
        (u.cache_read.min(u.input), r.cache_read.unwrap_or(r.input)),
        (u.cache_write - write_1h, cache_write),
        (write_1h, cache_write_1h),
        (u.output, r.output),
    ];
    Money(
        parts
            .iter()
            .map(|&(tokens, price)| u128::from(tokens) * u128::from(price))
            .sum(),
    )
}

static INSTALLED: OnceLock<Arc<PriceTable>> = OnceLock::new();

/// Makes `table` the one this process's views price with (commands install
/// the config's table once at start; the first install wins).
pub fn install(table: PriceTable) -> Arc<PriceTable> {
    INSTALLED.get_or_init(|| Arc::new(table)).clone()
}

/// The table views price with: the installed one, else the shipped table alone.
pub fn table() -> Arc<PriceTable> {
    if let Some(t) = INSTALLED.get() {
        return t.clone();
    }
    static BUILTIN: OnceLock<Arc<PriceTable>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| {
            // The embedded table is checked by a unit test; an empty table (every
            // cost unknown) could only come from a broken build.
            Arc::new(PriceTable::builtin().unwrap_or_default())
        })
        .clone()
}

#[cfg(test)]
mod tests;
