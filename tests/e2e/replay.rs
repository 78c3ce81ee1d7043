//! `skilltrace replay`: lines in original timing (sanitised), speed handling,
//! missing runs, and `--redetect` (new / gone / unchanged by fingerprint).
#![allow(clippy::unwrap_used)]

use crate::export_support;

use export_support::*;
use skilltrace::detect::Detector;
use skilltrace::ingest::formats::Record;
use skilltrace::ingest::pipeline::Pipeline;
use skilltrace::model::{AgentKind, Origin, Severity, Span, SpanKind};
use skilltrace::redact::{Mode, Redactor};
use skilltrace::store::Store;
use std::process::Command;

fn replay(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("replay")
        .args(args)
        .arg("--db")
        .arg(db)
        .env("COLUMNS", "120")
        .output()
        .unwrap()
}

#[test]
fn prints_each_span_with_its_offset() {
    let mut records = sample();
    let mut evil = Span::new(
        "s5",
        "r1",
        SpanKind::Tool,
        "Bash",
        Origin::new("traces/a.jsonl", 9),
    );
    evil.start_ms = Some(1_700_000_004_250);
    evil.tool_input = Some("{\"command\":\"echo \\u001b]52;c;aGk=\\u0007 hi\"}".into());
    records.push(Record::Span(evil));
    let (_t, db) = store_with(records);
    let o = replay(&db, &["r1", "--speed", "0"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let all: Vec<&str> = out.lines().collect();
    // Each finding is raised right under the span that raised it.
    let at = |needle: &str| all.iter().position(|l| l.contains(needle)).unwrap();
    assert_eq!(
        at("⚑ INFO     SEC-TRACE-001"),
        at("message user") + 1,
        "{out}"
    );
    assert!(
        all[at("tool    Bash") + 1].contains("⚑ CRITICAL CMD-TRACE-003"),
        "{out}"
    );
    assert_eq!(
        all.last().copied(),
        Some("end of run: 5 finding(s) raised (1 critical, 1 high, 1 medium, 1 low, 1 info)"),
        "{out}"
    );
    let lines: Vec<&str> = all
        .iter()
        .copied()
        .filter(|l| !l.contains('⚑') && !l.starts_with("end of run"))
        .collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(
        lines[0].starts_with("run r1 (claude-code, 5 spans): title of r1"),
        "{out}"
    );
    assert!(
        lines[1]
            .trim_start()
            .starts_with("+00:00.000  message user"),
        "{out}"
    );
    assert!(
        lines[3].contains("+00:02.000  tool    Bash")
            && lines[3].contains("step s3")
            && lines[3].ends_with("ok"),
        "{out}"
    );
    assert!(
        lines[5].contains("+00:04.250") && lines[5].contains("echo \\x1b]52;c;aGk=\\x07 hi"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'));
}

#[test]
fn waits_in_scaled_original_timing() {
    let f = "t.jsonl";
    let (_t, db) = store_with(vec![
        run("w", f, AgentKind::Codex),
        span("w", "a", SpanKind::Tool, "Bash", f, 1, 0),
        span("w", "b", SpanKind::Tool, "Bash", f, 2, 600),
        // a ten-minute gap is capped at 2 s, then scaled
        span("w", "c", SpanKind::Tool, "Bash", f, 3, 600_600),
    ]);
    let started = std::time::Instant::now();
    let o = replay(&db, &["w", "--speed", "2"]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0));
    // 0.3 s + min(300 s, 2 s) = 2.3 s
    assert!(took >= std::time::Duration::from_millis(2_250), "{took:?}");
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
}

#[test]
fn missing_runs_and_bad_speed_are_errors() {
    let (t, db) = store_with(sample());
    let o = replay(&db, &["nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error: run nope: no such run"));
    let o = replay(&db, &["r1", "--speed=-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .starts_with("error: --speed -1: must be a number, 0 or more"));
    // no store: an error, and none is created (not even by --redetect)
    let none = t.path().join("none.db");
    let o = replay(&none, &["r1", "--redetect"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!none.exists());
}

#[test]
fn redetect_reports_gone_findings_and_keeps_them() {
    // detection over these benign spans raises nothing the hand-made findings match
    let f = "traces/b.jsonl";
    let (_t, db) = store_with(vec![
        run("b1", f, AgentKind::ClaudeCode),
        span("b1", "s1", SpanKind::Message, "user", f, 1, 0),
        found("b1", "OLD-RULE-1", Severity::Medium, "s1", "fp-old", (f, 1)),
    ]);
    let o = replay(&db, &["b1", "--redetect"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.starts_with(
            "re-detected run b1 over 1 span(s): 0 new, 1 gone, 0 unchanged, 0 not re-checkable"
        ),
        "{out}"
    );
    assert!(out.contains("gone      medium   OLD-RULE-1"), "{out}");
    let s = Store::open_read(&db).unwrap();
    assert_eq!(
        s.counts().unwrap().findings.iter().sum::<u64>(),
        1,
        "gone findings stay"
    );
}

#[test]
fn redetect_library_diffs_against_the_store() {
    let f = "traces/c.jsonl";
    let (_t, db) = store_with(vec![
        run("c1", f, AgentKind::ClaudeCode),
        span("c1", "s1", SpanKind::Tool, "Bash", f, 1, 0),
        found("c1", "OLD-RULE-1", Severity::Low, "s1", "fp-a", (f, 1)),
    ]);
    let mut p = Pipeline::new(
        Redactor::new(Mode::Mask),
        Detector::new(),
        Store::open(&db).unwrap(),
    );
    let rep = skilltrace::replay::redetect(&mut p, "c1").unwrap();
    assert_eq!(rep.spans, 1);
    assert_eq!(rep.gone.len() + rep.unchanged.len(), 1);
    // a second pass finds the same: whatever was new the first time is unchanged now
    let again = skilltrace::replay::redetect(&mut p, "c1").unwrap();
    assert!(again.new.is_empty(), "{:?}", again.new);
    assert_eq!(again.unchanged.len(), rep.unchanged.len() + rep.new.len());
}

/// The issue's acceptance test: a stored run re-checked with a registry that
/// gained a skill reports exactly that new hit (and stores it).
#[test]
fn redetect_with_a_registry_that_gained_a_skill() {
    use skilltrace::ingest::formats::native::encode;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let f = "traces/skill.jsonl";
    let mut call = Span::new("k2", "k1", SpanKind::Tool, "Skill", Origin::new(f, 2));
    call.tool_name = Some("Skill".into());
    call.tool_input = Some(r#"{"skill":"invoice-helper"}"#.into());
    call.start_ms = Some(1_700_000_001_000);
    let records = [
        run("k1", f, AgentKind::ClaudeCode),
        span("k1", "k0", SpanKind::Message, "user", f, 1, 0),
        Record::Span(call),
    ];
    let trace = dir.join("skill.jsonl");
    std::fs::write(
        &trace,
        records.iter().map(|r| encode(r) + "\n").collect::<String>(),
    )
    .unwrap();
    let db = dir.join("s.db");
    let config = dir.join("config.toml");
    let with_config = |c: &mut Command| {
        c.env("SKILLTRACE_CONFIG", &config)
            .env("HOME", dir.join("home"));
    };

    // 1. imported with the built-in registry only: the skill is unknown
    let mut c = Command::new(BIN);
    c.arg("import").arg(&trace).arg("--db").arg(&db);
    with_config(&mut c);
    let o = c.output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let before: Vec<String> = Store::open_read(&db)
        .unwrap()
        .findings(&Default::default(), 0, 100)
        .unwrap()
        .into_iter()
        .map(|r| r.finding.rule_id)
        .collect();
    assert!(before.contains(&"SKL-TRACE-003".to_string()), "{before:?}");
    assert!(!before.contains(&"SKL-TRACE-001".to_string()), "{before:?}");

    // 2. a pinned registry that knows the skill, loaded from the config
    let reg = dir.join("acme.toml");
    let text = "format = 1\nname = \"acme\"\n\n[[skill]]\nid = \"acme/invoice-helper\"\nname = \"invoice-helper\"\nversion = \"1.2.0\"\n";
    std::fs::write(&reg, text).unwrap();
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    std::fs::write(
        dir.join("acme.toml.sha256"),
        format!("{digest}  acme.toml\n"),
    )
    .unwrap();
    std::fs::write(
        &config,
        format!(
            "[registries]\nfiles = [{:?}]\npinned = {{ {:?} = {digest:?} }}\n",
            reg.display().to_string(),
            reg.display().to_string()
        ),
    )
    .unwrap();

    // 3. re-detect: exactly one new finding, the registry hit, now stored
    let mut c = Command::new(BIN);
    c.args(["replay", "k1", "--redetect", "--db"]).arg(&db);
    with_config(&mut c);
    let o = c.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains(": 1 new, "), "{out}");
    let new: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("new "))
        .collect();
    assert_eq!(new.len(), 1, "{out}");
    assert!(
        new[0].contains("SKL-TRACE-001") && new[0].contains("invoice-helper"),
        "{out}"
    );
    let after = Store::open_read(&db)
        .unwrap()
        .findings(&Default::default(), 0, 100)
        .unwrap();
    let hit: Vec<_> = after
        .iter()
        .filter(|r| r.finding.rule_id == "SKL-TRACE-001")
        .collect();
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].finding.span_ids, vec!["k2".to_string()]);
    assert_eq!(
        after.len(),
        before.len() + 1,
        "gone findings stay, the new one is added"
    );
}

/// Re-detecting the bundled samples with the same rules finds nothing new and
/// loses nothing: detection over the stored, redacted spans agrees with the
/// first pass (secret-based findings are reported as not re-checkable).
#[test]
fn redetect_of_the_samples_is_stable() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let o = Command::new(BIN)
        .arg("import")
        .arg(&samples)
        .arg("--db")
        .arg(&db)
        .env_remove("SKILLTRACE_CONFIG")
        .env("HOME", t.path().join("home"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let before = Store::open_read(&db).unwrap().counts().unwrap().findings;
    let runs: Vec<String> = Store::open_read(&db)
        .unwrap()
        .runs(&Default::default(), Default::default(), 0, 100)
        .unwrap()
        .into_iter()
        .map(|r| r.run.id)
        .collect();
    assert!(runs.len() >= 10);
    let mut unchanged = 0;
    for id in &runs {
        let o = Command::new(BIN)
            .args(["replay", id, "--redetect", "--db"])
            .arg(&db)
            .env_remove("SKILLTRACE_CONFIG")
            .env("HOME", t.path().join("home"))
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains(": 0 new, 0 gone, "), "{id}: {out}");
        let n: usize = out
            .split(" gone, ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        unchanged += n;
    }
    assert!(unchanged >= 20, "{unchanged}");
    assert_eq!(
        Store::open_read(&db).unwrap().counts().unwrap().findings,
        before
    );
}
