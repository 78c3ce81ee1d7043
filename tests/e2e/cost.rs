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

/// The Claude Code session with its subagent, and the Codex session.
const SESSIONS: [&str; 3] = [
    "claude-code/session_excerpt.jsonl",
    "claude-code/subagent_excerpt.jsonl",
    "codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
];

/// The lines of `skilltrace export --format json` as JSON values.
fn exported(db: &Path, extra: &[&str]) -> Vec<Value> {
    let out = ok(bin()
        .args(["export", "--format", "json", "--db"])
        .arg(db)
        .args(extra));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The summed `gen_ai.usage.cost` of the exported spans of `run`.
fn span_dollars(lines: &[Value], run: &str) -> f64 {
    lines
        .iter()
        .filter(|l| l["type"] == "span" && l["span"]["run_id"] == run)
        .filter_map(|l| l["gen_ai.usage.cost"].as_f64())
        .sum()
}

#[test]
fn the_json_export_carries_the_same_costs_as_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    import(&db, &SESSIONS);
    let lines = exported(&db, &[]);
    let listed = json_of(&db, &["runs"]);
    let runs: Vec<&Value> = lines.iter().filter(|l| l["type"] == "run").collect();
    assert_eq!(runs.len(), listed.as_array().unwrap().len());
    for r in &runs {
        let id = r["run"]["id"].as_str().unwrap();
        let same = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .unwrap();
        assert_eq!(r["cost"], same["cost"], "run {id}");
        assert_eq!(r["gen_ai.usage.cost"], same["cost"]["usd"], "run {id}");
    }
    // The hand-computed figures of the tests above: the Claude Code session
    // $0.21126575 of its own and $0.0507615 in its subagent; the Codex
    // session $0.16168915.
    let claude = runs
        .iter()
        .find(|r| r["run"]["agent"] == "claude-code" && r["run"]["parent_run_id"].is_null())
        .unwrap();
    let c = &claude["cost"];
    assert!(close(c["own_usd"].as_f64().unwrap(), 0.211_265_75), "{c}");
    assert!(
        close(c["subagents_usd"].as_f64().unwrap(), 0.050_761_5),
        "{c}"
    );
    assert!(close(usd(c), 0.262_027_25), "{c}");
    let codex = runs.iter().find(|r| r["run"]["agent"] == "codex").unwrap();
    assert!(close(
        codex["gen_ai.usage.cost"].as_f64().unwrap(),
        0.161_689_15
    ));
    // Span by span, the model calls add up to their run's own cost.
    let claude_id = claude["run"]["id"].as_str().unwrap();
    assert!(close(span_dollars(&lines, claude_id), 0.211_265_75));
    let codex_id = codex["run"]["id"].as_str().unwrap();
    assert!(close(span_dollars(&lines, codex_id), 0.161_689_15));
    let call = lines
        .iter()
        .find(|l| {
            l["type"] == "span" && l["span"]["run_id"] == claude_id && l.get("cost").is_some()
        })
        .unwrap();
    assert_eq!(call["cost"]["priced_calls"], 1, "{call}");
    assert!(
        lines
            .iter()
            .filter(|l| l["type"] == "span" && l["span"]["input_tokens"].is_null())
            .all(|l| l.get("cost").is_none()),
        "spans without usage carry no cost"
    );

    // One run alone carries the same figures, and the export imports back
    // (the reader passes over the cost fields) to the same costs.
    let one = exported(&db, &["--run", claude_id]);
    assert_eq!(one[0]["cost"], *c);
    let back = dir.path().join("back.db");
    let file = dir.path().join("export.jsonl");
    ok(bin()
        .args(["export", "--format", "json", "-o"])
        .arg(&file)
        .arg("--db")
        .arg(&db));
    ok(bin().arg("import").arg("--db").arg(&back).arg(&file));
    let again = json_of(&back, &["cost", "--by", "agent"]);
    assert!(
        close(usd(&again["total"]), 0.262_027_25 + 0.161_689_15),
        "{again}"
    );
}

/// A model the price table lacks: the export says unknown, never $0.
#[test]
fn the_json_export_says_unknown_for_an_unpriced_model() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[pricing]\nbuiltin = false\n").unwrap();
    import(&db, &["claude-code/session_excerpt.jsonl"]);
    let out = ok(bin()
        .env("SKILLTRACE_CONFIG", &cfg)
        .args(["export", "--format", "json", "--db"])
        .arg(&db));
    let text = String::from_utf8(out.stdout).unwrap();
    let run: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(run["type"], "run");
    assert!(run["cost"]["usd"].is_null(), "{run}");
    assert!(run.get("gen_ai.usage.cost").is_none(), "{run}");
    assert_eq!(run["cost"]["unknown_calls"], 4, "{run}");
    assert_eq!(run["cost"]["unknown_models"][0], "claude-opus-4-6", "{run}");
}

/// The TUI's Runs view totals the store as `skilltrace cost` does: the
/// priced dollars and what could not be priced.
#[test]
fn the_runs_view_total_is_the_cost_reports_total() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // One call of a model no table prices, beside the real sessions.
    let odd = dir.path().join("odd.jsonl");
    let mut call = skilltrace::model::Span::new(
        "c1",
        "odd-run",
        skilltrace::model::SpanKind::Llm,
        "chat",
        skilltrace::model::Origin::new("odd", 1),
    );
    call.model = Some("acme-x".into());
    call.input_tokens = Some(1000);
    call.output_tokens = Some(10);
    call.start_ms = Some(1_780_000_000_000);
    let line = serde_json::json!({"skilltrace": 1, "type": "span", "span": call});
    std::fs::write(&odd, format!("{line}\n")).unwrap();
    import(&db, &SESSIONS);
    ok(bin().arg("import").arg("--db").arg(&db).arg(&odd));
    let report = String::from_utf8(ok(bin().args(["cost", "--db"]).arg(&db)).stdout).unwrap();
    let said = report
        .lines()
        .find_map(|l| l.strip_prefix("unknown: "))
        .unwrap_or_else(|| panic!("{report}"));
    // $0.26202725 + $0.16168915 priced; acme-x's call unknown.
    assert_eq!(said, "$0.42 + unknown (1 call, 1,010 tokens: acme-x)");
    for (w, h) in [(80, 24), (160, 45)] {
        let mut t = skilltrace::tui::harness::Harness::new(
            &db,
            w,
            h,
            1_780_000_000_000,
            skilltrace::tui::theme::Theme::dark(),
        )
        .unwrap();
        let screen = t.draw();
        // The list's bottom border carries the total.
        let bottom = screen.lines().find(|l| l.starts_with('└')).unwrap();
        assert!(bottom.contains(&format!(" total {said} ")), "{screen}");
    }
}

/// Claude Code's own `cost-state` figure is the run's cost in `runs`, `cost
/// --by run` and JSON export, marked as the agent's, with the price table's
/// estimate kept beside it (fixture: `tests/fixtures/cost_state/SOURCE.md`).
#[test]
fn claude_codes_own_cost_state_is_shown_and_the_estimate_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cost_state/2efd1f5f-1b93-481a-8469-0f589a48d7ae.jsonl");
    for _ in 0..2 {
        // A second import changes nothing.
        ok(bin().arg("import").arg("--db").arg(&db).arg(&file));
    }
    let priced = usd(&json_of(&db, &["cost", "--by", "model"])["total"]);
    assert!(priced > 0.0);
    let runs = json_of(&db, &["runs"]);
    let run = &runs.as_array().unwrap()[0];
    let cost = &run["cost"];
    // The last snapshot wins (line 9, the real record), not the earlier one.
    assert!(close(usd(cost), 0.031924600000000004), "{cost}");
    assert_eq!(cost["usd_from"], "agent", "{cost}");
    assert!(close(cost["reported_usd"].as_f64().unwrap(), 0.0319246));
    assert!(
        close(cost["estimate_usd"].as_f64().unwrap(), priced),
        "{cost}"
    );
    assert_ne!(usd(cost), priced, "the fixture's two figures differ");

    let by_run = json_of(&db, &["cost", "--by", "run"]);
    let row = &by_run["rows"][0];
    assert_eq!(row["usd_from"], "agent", "{row}");
    assert!(close(usd(row), 0.0319246));
    assert!(close(row["estimate_usd"].as_f64().unwrap(), priced));
    // The total stays the priced one, and the text says which is which.
    assert!(close(usd(&by_run["total"]), priced));
    let text = ok(bin().args(["cost", "--by", "run", "--db"]).arg(&db));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("$0.03*"), "{text}");
    assert!(text.contains("the agent's own figure"), "{text}");
    // Since a day, the session-wide figure is not used.
    let since = json_of(&db, &["cost", "--by", "run", "--since", "2026-01-01"]);
    assert!(since["rows"][0].get("usd_from").is_none(), "{since}");

    let lines = ok(bin().args(["runs", "--db"]).arg(&db));
    let lines = String::from_utf8(lines.stdout).unwrap();
    assert!(lines.contains("$0.03"), "{lines}");

    let out = dir.path().join("export.jsonl");
    ok(bin()
        .args(["export", "--format", "json", "--db"])
        .arg(&db)
        .arg("-o")
        .arg(&out));
    let exported = std::fs::read_to_string(&out).unwrap();
    let run_line: Value = exported
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["cost"]["usd_from"].is_string())
        .expect("a line with the run's cost");
    assert_eq!(run_line["cost"]["usd_from"], "agent", "{run_line}");
}
