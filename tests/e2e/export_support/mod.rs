//! Shared helpers for the export, scan and replay tests: hand-made stores built
//! through the real pipeline, and the SARIF schema validator.
#![allow(clippy::unwrap_used, dead_code)]

use serde_json::Value;
use skilltrace::detect::Detector;
use skilltrace::ingest::formats::Record;
use skilltrace::ingest::pipeline::{Batch, Pipeline};
use skilltrace::model::{
    AgentKind, Finding, Origin, Run, Severity, Span, SpanKind, SpanStatus, TriageStatus,
};
use skilltrace::redact::{Mode, Redactor};
use skilltrace::store::Store;
use std::path::{Path, PathBuf};

pub const BIN: &str = env!("CARGO_BIN_EXE_skilltrace");

/// Feeds `records` through a pipeline into a new store at `db`.
pub fn store_at(db: &Path, records: Vec<Record>) {
    let store = Store::open(db).unwrap();
    let mut p = Pipeline::new(Redactor::new(Mode::Mask), Detector::new(), store);
    p.process(Batch {
        records,
        ..Default::default()
    })
    .unwrap();
}

/// A temp dir and a store in it holding `records`.
pub fn store_with(records: Vec<Record>) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    store_at(&db, records);
    (t, db)
}

pub fn run(id: &str, source: &str, agent: AgentKind) -> Record {
    Record::Run(Run {
        id: id.into(),
        agent: Some(agent),
        source: source.into(),
        started_ms: Some(1_700_000_000_000),
        title: Some(format!("title of {id}")),
        ..Default::default()
    })
}

pub fn span(
    run: &str,
    id: &str,
    kind: SpanKind,
    name: &str,
    path: &str,
    line: u64,
    t: i64,
) -> Record {
    let mut s = Span::new(id, run, kind, name, Origin::new(path, line));
    s.start_ms = Some(1_700_000_000_000 + t);
    s.end_ms = Some(1_700_000_000_000 + t + 50);
    s.status = SpanStatus::Ok;
    if kind == SpanKind::Tool {
        s.tool_name = Some(name.into());
        s.tool_input = Some(format!(r#"{{"command":"step {id}"}}"#));
        s.tool_output = Some("done".into());
    }
    Record::Span(s)
}

pub fn finding(
    run: &str,
    rule: &str,
    sev: Severity,
    spans: &[&str],
    fp: &str,
    origin: Option<(&str, u64)>,
) -> Finding {
    Finding {
        rule_id: rule.into(),
        severity: sev,
        confidence: 0.9,
        run_id: run.into(),
        span_ids: spans.iter().map(|s| s.to_string()).collect(),
        title: format!("{rule} title"),
        message: format!("{rule} happened in {run}"),
        evidence: format!("evidence for {fp}"),
        fingerprint: fp.into(),
        origin: origin.map(|(p, l)| Origin::new(p, l)),
        skill_id: None,
        ts_ms: Some(1_700_000_000_500),
        related: vec![],
    }
}

pub fn rec(f: Finding) -> Record {
    Record::Finding(Box::new(f))
}

/// A finding on one span, at `path:line`, as a record (`rec(finding(…))` in one line).
pub fn found(
    run: &str,
    rule: &str,
    sev: Severity,
    span: &str,
    fp: &str,
    at: (&str, u64),
) -> Record {
    rec(finding(run, rule, sev, &[span], fp, Some(at)))
}

pub fn triage(fp: &str, status: TriageStatus, note: Option<&str>) -> Record {
    Record::Triage {
        fingerprint: fp.into(),
        status,
        note: note.map(String::from),
    }
}

/// Two runs (a file run with a chain, a proxy run), six findings with every
/// triage status, one rule the catalogue does not know.
pub fn sample() -> Vec<Record> {
    let f = "traces/a.jsonl";
    let px = "proxy://127.0.0.1:8787";
    let mut chain = finding(
        "r1",
        "EXF-TRACE-001",
        Severity::High,
        &["s2", "s3"],
        "fp-chain",
        Some((f, 3)),
    );
    chain.related = vec!["fp-cred".into()];
    vec![
        run("r1", f, AgentKind::ClaudeCode),
        span("r1", "s1", SpanKind::Message, "user", f, 1, 0),
        span("r1", "s2", SpanKind::Tool, "Read", f, 2, 1_000),
        span("r1", "s3", SpanKind::Tool, "Bash", f, 3, 2_000),
        span("r1", "s4", SpanKind::Llm, "chat", f, 4, 3_000),
        run("r2", px, AgentKind::Proxy),
        span("r2", "p1", SpanKind::Llm, "chat", px, 5, 0),
        rec(finding(
            "r1",
            "EXF-TRACE-003",
            Severity::Medium,
            &["s2"],
            "fp-cred",
            Some((f, 2)),
        )),
        rec(chain),
        rec(finding(
            "r1",
            "SEC-TRACE-001",
            Severity::Info,
            &["s1"],
            "fp-secret",
            None,
        )),
        rec(finding(
            "r1",
            "ZZZ-CUSTOM-9",
            Severity::Low,
            &["s4"],
            "fp-custom",
            Some((f, 4)),
        )),
        rec(finding(
            "r2",
            "NET-TRACE-002",
            Severity::High,
            &["p1"],
            "fp-proxy",
            Some((px, 5)),
        )),
        rec(finding(
            "r1",
            "CMD-TRACE-003",
            Severity::Critical,
            &["s3"],
            "fp-shell",
            Some((f, 3)),
        )),
        triage(
            "fp-cred",
            TriageStatus::FalsePositive,
            Some("reads a test fixture"),
        ),
        triage(
            "fp-secret",
            TriageStatus::Suppressed,
            Some("expected in CI"),
        ),
        triage("fp-shell", TriageStatus::Confirmed, None),
    ]
}

/// Validation errors of `v` against the official SARIF 2.1.0 schema (empty: valid).
pub fn schema_errors(v: &Value) -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// Asserts `v` is valid SARIF 2.1.0.
pub fn assert_valid_sarif(v: &Value) {
    let errs = schema_errors(v);
    assert!(errs.is_empty(), "SARIF schema errors: {errs:#?}");
}

/// The result with this skilltrace fingerprint.
pub fn result_for<'a>(log: &'a Value, fp: &str) -> &'a Value {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fingerprints"]["skilltrace/v1"] == fp)
        .unwrap_or_else(|| panic!("no result for {fp}"))
}
