//! What each day's model calls cost, kept between batches by the budget
//! watch of one writer, so a batch re-reads only its own runs' calls.
//!
//! A day is read whole once (by the calls' time index); after that, each
//! batch replaces the usage of the runs it touched, and the day's priced
//! dollars (all agents, and per agent) move by the difference. The book is
//! forgotten when another connection wrote to the store (SQLite's
//! `data_version` moved) or when batches were stored behind the watch's back
//! (spooled, then replayed): the next check reads the day again.

use crate::pricing::{Cost, Money, PriceTable};
use crate::store::{Store, StoreError, UsageRow};
use std::collections::{BTreeSet, HashMap};

/// One day's calls by run, and what the priced ones cost.
#[derive(Debug, Default)]
pub struct Day {
    runs: HashMap<String, Vec<UsageRow>>,
    money: Money,
    agent_money: HashMap<String, Money>,
    /// Budget keys already found crossed (`day`, or an agent's name): a
    /// crossing is one finding, so it is not priced again.
    pub crossed: BTreeSet<String>,
}

impl Day {
    /// `day`'s calls, read from `store` (by the calls' time index).
    pub fn read(store: &Store, table: &PriceTable, day: &str) -> Result<Day, StoreError> {
        let mut d = Day::default();
        let mut by_run: HashMap<String, Vec<UsageRow>> = HashMap::new();
        for r in store.usage_rows_on(table.bands(), day)? {
            by_run.entry(r.run_id.clone()).or_default().push(r);
        }
        for (run, rows) in by_run {
            d.replace(table, &run, rows);
        }
        Ok(d)
    }

    /// What the day's priced calls cost, every agent's or `agent`'s.
    pub fn money(&self, agent: Option<&str>) -> Money {
        match agent {
            None => self.money,
            Some(a) => self.agent_money.get(a).copied().unwrap_or_default(),
        }
    }

    /// The day's full cost (unknown usage named), every agent's or `agent`'s.
    pub fn cost(&self, table: &PriceTable, agent: Option<&str>) -> Cost {
        let mut c = Cost::default();
        for r in self.runs.values().flatten() {
            if agent.is_none_or(|a| a == r.agent) {
                c.add(table, &r.model, r.band, &r.usage);
            }
        }
        c
    }

    fn count(&mut self, table: &PriceTable, rows: &[UsageRow], add: bool) {
        for r in rows {
            let Some(m) = table.cost(&r.model, &r.usage, r.band) else {
                continue;
            };
            let agent = self.agent_money.entry(r.agent.clone()).or_default();
            if add {
                self.money += m;
                *agent += m;
            } else {
                self.money = Money(self.money.0.saturating_sub(m.0));
                *agent = Money(agent.0.saturating_sub(m.0));
            }
        }
    }

    /// Puts `rows` in place of what `run` had on this day.
    fn replace(&mut self, table: &PriceTable, run: &str, rows: Vec<UsageRow>) {
        if let Some(old) = self.runs.remove(run) {
            self.count(table, &old, false);
        }
        if !rows.is_empty() {
            self.count(table, &rows, true);
            self.runs.insert(run.to_owned(), rows);
        }
    }
}

/// The days one writer's watch has read, valid while no one else writes.
#[derive(Debug, Default)]
pub struct DayBook {
    version: Option<i64>,
    days: HashMap<String, Day>,
}

impl DayBook {
    /// Forgets every day (batches were stored that the watch did not see).
    pub fn forget(&mut self) {
        self.days.clear();
        self.version = None;
    }

    /// Forgets every day when another connection wrote to `store` since the last look.
    pub fn sync(&mut self, store: &Store) -> Result<(), StoreError> {
        let v = store.data_version()?;
        if self.version != Some(v) {
            self.days.clear();
            self.version = Some(v);
        }
        Ok(())
    }

    /// Takes the fresh usage of `runs` (`rows`: all their calls, every day)
    /// into the days already read.
    pub fn update(&mut self, table: &PriceTable, runs: &BTreeSet<&str>, rows: &[UsageRow]) {
        for (day, d) in &mut self.days {
            for run in runs {
                let mine: Vec<UsageRow> = rows
                    .iter()
                    .filter(|r| r.run_id == *run && r.day == *day)
                    .cloned()
                    .collect();
                d.replace(table, run, mine);
            }
        }
    }

    /// `day`, read from `store` when not read yet.
    pub fn day(
        &mut self,
        store: &Store,
        table: &PriceTable,
        day: &str,
    ) -> Result<&mut Day, StoreError> {
        if !self.days.contains_key(day) {
            let d = Day::read(store, table, day)?;
            self.days.insert(day.to_owned(), d);
        }
        Ok(self.days.entry(day.to_owned()).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Span, SpanKind};
    use crate::redact::{Mode, Redactor};
    use crate::store::StoreBatch;

    const NOON: i64 = 1_780_000_000_000 - 1_780_000_000_000 % 86_400_000 + 43_200_000;

    fn write(s: &mut Store, calls: &[(&str, &str, &str, u64)]) {
        let mut r = Redactor::new(Mode::Mask);
        let spans = calls
            .iter()
            .map(|&(run, id, model, input)| {
                let mut x = Span::new(id, run, SpanKind::Llm, "chat", Origin::new("/x", 1));
                x.model = Some(model.into());
                x.input_tokens = Some(input);
                x.output_tokens = Some(0);
                x.start_ms = Some(NOON);
                r.redact_span(x).0
            })
            .collect();
        s.write(&StoreBatch {
            spans,
            ..Default::default()
        })
        .expect("write");
    }

    /// A book kept up to date batch by batch says what reading the day afresh says.
    #[test]
    fn a_kept_day_moves_as_its_runs_change() {
        let t = tempfile::tempdir().expect("tempdir");
        let db = t.path().join("st.db");
        let mut s = Store::open(&db).expect("open");
        let table = PriceTable::builtin().expect("table");
        write(
            &mut s,
            &[
                ("a", "1", "gpt-4o-mini", 1_000_000),
                ("b", "1", "acme-x", 5),
            ],
        );
        let day = s.usage_rows(table.bands(), None).expect("rows")[0]
            .day
            .clone();
        let mut book = DayBook::default();
        book.sync(&s).expect("sync");
        // $0.15 (1M gpt-4o-mini input tokens); acme-x is unknown.
        let d = book.day(&s, &table, &day).expect("day");
        assert_eq!(d.money(None), Money::from_usd(0.15));
        // Run a's call re-sent bigger, a new call in run c: only a and c are re-read.
        write(
            &mut s,
            &[
                ("a", "1", "gpt-4o-mini", 2_000_000),
                ("c", "9", "gpt-4o-mini", 1_000_000),
            ],
        );
        let runs = BTreeSet::from(["a", "c"]);
        let rows = s.usage_rows_of(table.bands(), &["a", "c"]).expect("rows");
        book.sync(&s).expect("sync");
        book.update(&table, &runs, &rows);
        let kept = book.day(&s, &table, &day).expect("day");
        let fresh = Day::read(&s, &table, &day).expect("fresh");
        assert_eq!(kept.money(None), Money::from_usd(0.45));
        assert_eq!(kept.money(None), fresh.money(None));
        assert_eq!(kept.money(Some("unknown")), fresh.money(Some("unknown")));
        assert_eq!(kept.cost(&table, None), fresh.cost(&table, None));
        assert_eq!(
            kept.cost(&table, None).unknown.calls,
            1,
            "acme-x stays unknown"
        );

        // Another connection writes: the book forgets and reads the day again.
        let mut other = Store::open(&db).expect("other");
        write(&mut other, &[("d", "1", "gpt-4o-mini", 1_000_000)]);
        book.sync(&s).expect("sync");
        let again = book.day(&s, &table, &day).expect("day");
        assert_eq!(again.money(None), Money::from_usd(0.60));
    }
}
