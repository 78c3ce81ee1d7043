//! Cost budgets before a tool call: the `[budgets]` of the config checked for
//! the call's run with the cost watch ([`BudgetWatch::check`]) on a read-only
//! store, so a run, day or agent's day over budget gets the policy's answer
//! for its `COST-TRACE-*` rule (ask by default) before its next tool call.

use crate::config::Config;
use crate::ingest::budget::BudgetWatch;
use crate::model::Finding;
use crate::store::Store;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The budgets to check and the store whose model calls they are priced from.
#[derive(Debug, Clone)]
pub struct Budget {
    watch: BudgetWatch,
    db: PathBuf,
}

impl Budget {
    /// The config's budgets for the store at `db`; `None` when none is set
    /// (the price table is then not even loaded).
    pub fn from_config(config: &Config, db: &Path) -> anyhow::Result<Option<Budget>> {
        let budgets = crate::pricing::budget::Budgets::from_config(config)?;
        if budgets.is_empty() {
            return Ok(None);
        }
        let table = crate::pricing::install(crate::pricing::PriceTable::from_config(config)?);
        Ok(BudgetWatch::new(budgets, table).map(|watch| Budget {
            watch,
            db: db.to_path_buf(),
        }))
    }

    /// The budgets `run` is over (unredacted findings), or why they could not
    /// be checked. The store is opened read-only and closed before returning:
    /// no lock is held across the decision. A store not made yet has spent nothing.
    pub fn over(&self, run: &str) -> Result<Vec<Finding>, String> {
        if !self.db.exists() {
            return Ok(Vec::new());
        }
        let store = Store::open_read(&self.db).map_err(|e| e.to_string())?;
        let touched = BTreeSet::from([run.to_string()]);
        self.watch
            .check(&store, &touched)
            .map_err(|e| e.to_string())
    }
}
