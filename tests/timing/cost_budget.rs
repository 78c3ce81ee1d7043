//! Budgets while tailing: `skilltrace tail` with `[budgets]` in the config
//! raises `COST-TRACE-001` the moment a run's calls cross the run budget
//! (within the tail latency goal, 100 ms from line written to finding
//! stored), and `COST-TRACE-002` once for a day over the daily budget.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{append, gpt4o_mini_call as call};

use skilltrace::store::{FindingFilter, Store};
use std::path::Path;
use std::time::{Duration, Instant};

fn rules_of(db: &Path, run: Option<&str>) -> Vec<String> {
    let Ok(s) = Store::open_read(db) else {
        return Vec::new();
    };
    let filter = FindingFilter {
        run_id: run.map(str::to_owned),
        ..Default::default()
    };
    s.findings(&filter, 0, 100)
        .map(|f| f.into_iter().map(|f| f.finding.rule_id).collect())
        .unwrap_or_default()
}

struct Tail(std::process::Child);

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn crossing_a_budget_while_tailing_raises_its_finding_at_once() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("traces");
    std::fs::create_dir(&dir).unwrap();
    let f = dir.join("a.jsonl");
    let db = t.path().join("st.db");
    let cfg = t.path().join("config.toml");
    // Spans of the native format name no agent: their runs' agent is `unknown`.
    std::fs::write(
        &cfg,
        "[budgets]\nrun = 0.10\nday = 0.50\nagent_day = { unknown = 0.30 }\n",
    )
    .unwrap();
    append(&f, &call("warm", "w1", 10));
    let _tail = Tail(
        common::bin()
            .env("SKILLTRACE_CONFIG", &cfg)
            .arg("tail")
            .arg(&dir)
            .arg("--db")
            .arg(&db)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let wait = |pred: &dyn Fn() -> bool| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if pred() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    };
    wait(&|| Store::open_read(&db).is_ok_and(|s| s.span("warm", "w1").ok().flatten().is_some()))
        .expect("tail started");

    let mut samples = Vec::new();
    for i in 0..5 {
        let run = format!("r{i}");
        // 100,000 input tokens × $0.15 per million = $0.015: under the $0.10 budget.
        append(&f, &call(&run, "c1", 100_000));
        wait(&|| Store::open_read(&db).is_ok_and(|s| s.span(&run, "c1").ok().flatten().is_some()))
            .expect("first call stored");
        assert!(
            !rules_of(&db, Some(&run))
                .iter()
                .any(|r| r == "COST-TRACE-001"),
            "under budget: no run finding"
        );
        // + 1,000,000 × 0.15 = $0.15: the run costs $0.165, over $0.10.
        let start = Instant::now();
        append(&f, &call(&run, "c2", 1_000_000));
        wait(&|| {
            rules_of(&db, Some(&run))
                .iter()
                .any(|r| r == "COST-TRACE-001")
        })
        .expect("COST-TRACE-001 raised");
        samples.push(start.elapsed());
        // Raised by the second call, not before: a finding is stored once, with
        // the words of the batch that raised it ($0.015 + $0.15 = $0.165).
        let s = Store::open_read(&db).unwrap();
        let filter = FindingFilter {
            run_id: Some(run.clone()),
            ..Default::default()
        };
        let found = s.findings(&filter, 0, 10).unwrap();
        let f = found
            .iter()
            .find(|f| f.finding.rule_id == "COST-TRACE-001")
            .unwrap();
        assert_eq!(
            f.finding.message, "run cost $0.17, over its $0.10 budget",
            "{found:?}"
        );
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    eprintln!("budget finding latency: median {median:?}, all {samples:?}");
    assert!(median < Duration::from_millis(100), "{samples:?}");

    // Five runs of $0.165 on one day: $0.825 is over the $0.50 day budget
    // (crossed by the fourth run's first call: 3 × $0.165 + $0.015 = $0.51),
    // raised once however many calls follow.
    wait(&|| rules_of(&db, None).iter().any(|r| r == "COST-TRACE-002")).expect("day budget");
    append(&f, &call("late", "c1", 10));
    wait(&|| Store::open_read(&db).is_ok_and(|s| s.span("late", "c1").ok().flatten().is_some()))
        .expect("stored");
    let all = rules_of(&db, None);
    assert_eq!(
        all.iter().filter(|r| *r == "COST-TRACE-002").count(),
        1,
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|r| *r == "COST-TRACE-001").count(),
        5,
        "{all:?}"
    );
    let s = Store::open_read(&db).unwrap();
    let f = s.findings(&FindingFilter::default(), 0, 100).unwrap();
    let day = f
        .iter()
        .find(|f| f.finding.rule_id == "COST-TRACE-002")
        .unwrap();
    assert!(
        day.finding
            .message
            .contains("cost $0.51, over its $0.50 budget"),
        "{}",
        day.finding.message
    );
    assert_eq!(
        day.finding.run_id, "r3",
        "filed under the run that crossed it"
    );
    // The agent's budget: $0.165 + $0.165 = $0.33 is over $0.30 at r1's second call.
    let agent: Vec<_> = f
        .iter()
        .filter(|f| f.finding.rule_id == "COST-TRACE-003")
        .collect();
    assert_eq!(agent.len(), 1, "{agent:?}");
    assert_eq!(agent[0].finding.run_id, "r1");
    assert!(
        agent[0]
            .finding
            .message
            .contains("cost $0.33, over its $0.30 budget"),
        "{}",
        agent[0].finding.message
    );
}
