//! Today's Codex rollouts imported by the binary (issue 15): a spawned
//! subagent's rollout copies its parent's history, yet a parent + child pair
//! gives two runs with each span, finding and token once; per-response
//! `token_usage_record`s and their `token_count` twins cost once.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, findings_json, ok};
use skilltrace::store::Store;
use std::path::{Path, PathBuf};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats/codex");
const PARENT: &str = "019e2b41-7c10-7d52-9a41-2c7f3e5b0a01";
const CHILD: &str = "019e2b42-0b3e-7f21-8c55-91d4a6e2b702";

fn forks() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(FIX).join("forks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn import(paths: &[PathBuf], db: &Path) -> String {
    let out = ok(bin().arg("import").args(paths).arg("--db").arg(db));
    String::from_utf8(out.stdout).unwrap()
}

/// (run, span id) of every stored span, sorted.
fn spans(db: &Path) -> Vec<(String, String)> {
    let s = Store::open_read(db).unwrap();
    let mut q = s
        .conn()
        .prepare("SELECT r.id, s.id FROM spans s JOIN runs r ON r.key = s.run_key ORDER BY 1, 2")
        .unwrap();
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Per run: (parent, input tokens, cached, output tokens).
fn runs(db: &Path) -> Vec<(String, Option<String>, u64, u64)> {
    let s = Store::open_read(db).unwrap();
    let mut q = s
        .conn()
        .prepare("SELECT id, parent_run_id, input_tokens, output_tokens FROM runs ORDER BY id")
        .unwrap();
    q.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get::<_, i64>(2)? as u64,
            r.get::<_, i64>(3)? as u64,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn cost_total(db: &Path) -> serde_json::Value {
    let out = ok(bin()
        .args(["cost", "--by", "agent", "--format", "json", "--db"])
        .arg(db));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["total"].clone()
}

#[test]
fn a_parent_and_its_subagent_are_two_runs_with_each_span_once() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    import(&forks(), &db);
    let rs = runs(&db);
    assert_eq!(
        rs,
        [
            // Usage from the token_usage_records; the token_count twins add nothing.
            (
                PARENT.to_owned(),
                None,
                12_000 + 12_500 + 12_700,
                300 + 80 + 25
            ),
            (
                CHILD.to_owned(),
                Some(PARENT.to_owned()),
                13_000 + 13_200,
                40 + 20
            ),
        ]
    );
    let all = spans(&db);
    let of = |run: &str| -> Vec<&str> {
        all.iter()
            .filter(|(r, _)| r == run)
            .map(|(_, id)| id.as_str())
            .collect()
    };
    // The parent's calls are in the parent's run only; the child's own in the child's.
    for id in ["call_p_install", "call_p_spawn", "turn-p1"] {
        assert!(of(PARENT).contains(&id), "{id}");
        assert!(!of(CHILD).contains(&id), "{id} copied into the child");
    }
    for id in ["call_c_creds", "turn-c1"] {
        assert!(of(CHILD).contains(&id), "{id}");
    }
    let llm = |run: &str| of(run).iter().filter(|i| i.starts_with("llm-")).count();
    assert_eq!((llm(PARENT), llm(CHILD)), (3, 2));

    // Findings: the parent's pipe-to-shell once, in the parent; the child's
    // credential read in the child; nothing raised on a copied line.
    let own =
        |rule: &str, run: &str, span: &str| (rule.to_owned(), run.to_owned(), span.to_owned());
    assert_eq!(
        findings(&db),
        [
            own("CMD-TRACE-001", PARENT, "call_p_install"),
            own("EXF-TRACE-003", CHILD, "call_c_creds"),
            own("NET-TRACE-001", PARENT, "call_p_install"),
        ]
    );

    // Cost once: gpt-5.3-codex $1.75 in, $0.175 cached, $14 out per million.
    // Input 37,200 + 26,200 = 63,400, of which cached 32,400 + 12,800 = 45,200;
    // output 405 + 60 = 465:
    // (63,400 − 45,200) × 1.75 + 45,200 × 0.175 + 465 × 14
    //   = 31,850 + 7,910 + 6,510 = 46,270 → $0.04627
    let total = cost_total(&db);
    assert_eq!(total["input_tokens"], 63_400, "{total}");
    assert_eq!(total["cache_read_tokens"], 45_200, "{total}");
    assert_eq!(total["output_tokens"], 465, "{total}");
    assert!(
        (total["usd"].as_f64().unwrap() - 0.046_27).abs() < 1e-9,
        "{total}"
    );

    // Importing again, in the other order, changes nothing.
    let mut rev = forks();
    rev.reverse();
    let t2 = tempfile::tempdir().unwrap();
    let db2 = t2.path().join("s.db");
    import(&rev, &db2);
    assert_eq!(spans(&db2), all);
    assert_eq!(runs(&db2), rs);
    assert_eq!(findings(&db2), findings(&db));
}
