//! `skilltrace cost` and the cost in `skilltrace runs` on the real fixtures:
//! token totals equal the sessions' own usage records, and costs equal the
//! figures worked out by hand from the shipped price table (issue 19).
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(p)
}

fn import(db: &Path, files: &[&str]) {
    let mut c = bin();
    c.arg("import").arg("--db").arg(db);
    for f in files {
        c.arg(fixture(f));
    }
    ok(&mut c);
}

fn json_of(db: &Path, args: &[&str]) -> Value {
    let out = ok(bin()
        .args(args)
        .arg("--db")
        .arg(db)
        .args(["--format", "json"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn usd(v: &Value) -> f64 {
    v["usd"].as_f64().unwrap_or_else(|| panic!("no usd in {v}"))
}

/// Equal to a hundredth of a micro-dollar (the figures are exact; JSON is a float).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-8
}

#[test]
fn claude_code_session_costs_what_its_usage_records_say() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    import(
        &db,
        &[
            "claude-code/session_excerpt.jsonl",
            "claude-code/subagent_excerpt.jsonl",
        ],
    );
    let report = json_of(&db, &["cost", "--by", "model"]);
    let rows = report["rows"].as_array().unwrap();
    let opus = rows
        .iter()
        .find(|r| r["model"] == "claude-opus-4-6")
        .unwrap();
    // The four assistant messages' usage records: input_tokens 3+1+1+3 = 8,
    // cache_creation_input_tokens 15,005+149+5,601+592 = 21,347,
    // cache_read_input_tokens 11,442+29,360+29,509+72,903 = 143,214,
    // output_tokens 9+1+10+228 = 248.
    assert_eq!(opus["calls"], 4);
    assert_eq!(opus["input_tokens"], 8 + 21_347 + 143_214);
    assert_eq!(opus["cache_write_tokens"], 21_347);
    assert_eq!(opus["cache_read_tokens"], 143_214);
    assert_eq!(opus["output_tokens"], 248);
    // Opus 4.6: $5 in, $6.25 5-minute write, $0.50 read, $25 out per million:
    // 8 × 5 + 21,347 × 6.25 + 143,214 × 0.5 + 248 × 25
    //   = 40 + 133,418.75 + 71,607 + 6,200 = 211,265.75 → $0.21126575
    assert!(close(usd(opus), 0.211_265_75), "{opus}");
    // The subagent: Sonnet 4.5 ($3 in, $3.75 write, $15 out): 3 uncached,
    // 13,522 written, 3 out = 9 + 50,707.5 + 45 = 50,761.5 → $0.0507615
    let sonnet = rows
        .iter()
        .find(|r| r["model"] == "claude-sonnet-4-5-20250929")
        .unwrap();
    assert_eq!(sonnet["cache_write_tokens"], 13_522);
    assert!(close(usd(sonnet), 0.050_761_5), "{sonnet}");
    let total = &report["total"];
    assert!(close(usd(total), 0.262_027_25), "{total}");
    assert_eq!(total["unknown_calls"], 0);
    assert!(report["prices"]["snapshot"].as_str().unwrap().len() == 10);

    // The same money by run: the subagent is rolled into its session.
    let by_run = json_of(&db, &["cost", "--by", "run"]);
    let runs = by_run["rows"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{by_run}");
    assert!(close(usd(&runs[0]), 0.262_027_25));

    // `runs`: the session shows its subagent apart and rolled up.
    let listed = json_of(&db, &["runs"]);
    let top = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["parent_run_id"].is_null())
        .unwrap();
    let c = &top["cost"];
    assert!(close(c["own_usd"].as_f64().unwrap(), 0.211_265_75), "{c}");
    assert!(
        close(c["subagents_usd"].as_f64().unwrap(), 0.050_761_5),
        "{c}"
    );
    assert!(close(usd(c), 0.262_027_25), "{c}");
    let text = ok(bin().arg("runs").arg("--db").arg(&db));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.lines().next().unwrap().contains("COST"), "{text}");
    assert!(text.contains("$0.26"), "{text}");
}

#[test]
fn codex_session_costs_what_its_usage_records_say() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    import(
        &db,
        &["codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl"],
    );
    let report = json_of(&db, &["cost", "--by", "agent"]);
    let total = &report["total"];
    // The session's last `total_token_usage`: input_tokens 298,373 of which
    // cached_input_tokens 238,848, output_tokens 1,123.
    assert_eq!(total["input_tokens"], 298_373);
    assert_eq!(total["cache_read_tokens"], 238_848);
    assert_eq!(total["output_tokens"], 1_123);
    // gpt-5.3-codex: $1.75 in, $0.175 cached, $14 out per million; cached
    // tokens are inside input (OpenAI's way):
    // (298,373 − 238,848) × 1.75 + 238,848 × 0.175 + 1,123 × 14
    //   = 104,168.75 + 41,798.4 + 15,722 = 161,689.15 → $0.16168915
    assert!(close(usd(total), 0.161_689_15), "{total}");
    assert_eq!(report["rows"][0]["agent"], "codex");
}

#[test]
fn an_unpriced_model_is_unknown_and_a_bad_date_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let cfg = dir.path().join("config.toml");
    // A config that prices nothing but one made-up model: Claude is unknown.
    std::fs::write(
        &cfg,
        "[pricing]\nbuiltin = false\n[pricing.models.\"acme-large\"]\ninput = 1.0\noutput = 2.0\n",
    )
    .unwrap();
    import(&db, &["claude-code/session_excerpt.jsonl"]);
    let out = ok(bin()
        .env("SKILLTRACE_CONFIG", &cfg)
        .args(["cost", "--db"])
        .arg(&db));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("unknown"), "{text}");
    assert!(!text.contains("$0.00"), "unknown is never $0: {text}");
    assert!(text.contains("unknown (4 calls"), "{text}");

    let out = bin()
        .args(["cost", "--since", "last tuesday", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: --since last tuesday: not a YYYY-MM-DD date"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
