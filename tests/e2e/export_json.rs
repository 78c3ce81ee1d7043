//! Native JSONL export: the round trip (store → export → import into a new store)
//! keeps runs, spans, findings and triage; the file is private and streamable.
#![allow(clippy::unwrap_used)]

use crate::export_support;

use export_support::*;
use skilltrace::store::{FindingFilter, RunFilter, RunSort, Store};
use std::path::Path;
use std::process::Command;

/// Everything a store holds that the native format carries, in a comparable order.
fn snapshot(db: &Path) -> (Vec<String>, Vec<String>, Vec<String>) {
    let s = Store::open_read(db).unwrap();
    let mut runs: Vec<String> = s
        .runs(&RunFilter::default(), RunSort::Started, 0, 1000)
        .unwrap()
        .into_iter()
        .map(|r| {
            // models are listed in arrival order; the export writes spans in time order
            let mut models = r.models.clone();
            models.sort();
            format!(
                "{:?} spans={} tools={} tokens={}/{} models={:?} findings={:?}",
                r.run,
                r.span_count,
                r.tool_count,
                r.input_tokens,
                r.output_tokens,
                models,
                r.findings
            )
        })
        .collect();
    runs.sort();
    let mut spans = Vec::new();
    let mut findings = Vec::new();
    for r in s
        .runs(&RunFilter::default(), RunSort::Started, 0, 1000)
        .unwrap()
    {
        for sp in s.spans(&r.run.id, 0, 10_000).unwrap() {
            spans.push(format!("{:?}", sp.span));
        }
    }
    for f in s.findings(&FindingFilter::default(), 0, 10_000).unwrap() {
        findings.push(format!("{:?} {} {:?}", f.finding, f.status, f.reason));
    }
    spans.sort();
    findings.sort();
    (runs, spans, findings)
}

fn export_json(db: &Path, out: &Path, extra: &[&str]) {
    let o = Command::new(BIN)
        .args(["export", "--format", "json", "-o"])
        .arg(out)
        .arg("--db")
        .arg(db)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn import(db: &Path, file: &Path) {
    let o = Command::new(BIN)
        .args(["import", "--db"])
        .arg(db)
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn round_trip_keeps_runs_spans_findings_and_triage() {
    let (t, db) = store_with(sample());
    let file = t.path().join("all.jsonl");
    export_json(&db, &file, &[]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["skilltrace"], 1);
            v["type"].as_str().unwrap().to_string()
        })
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(
        (
            count("run"),
            count("span"),
            count("finding"),
            count("triage")
        ),
        (2, 5, 6, 3)
    );
    // every span and finding comes after its run's line
    assert_eq!(kinds[0], "run");

    let db2 = t.path().join("copy.db");
    import(&db2, &file);
    let (a, b) = (snapshot(&db), snapshot(&db2));
    // the one finding stored without an origin travels with its span's origin
    let a2: Vec<String> = a
        .2
        .iter()
        .map(|f| {
            f.replace(
                "fingerprint: \"fp-secret\", origin: None",
                "fingerprint: \"fp-secret\", origin: Some(Origin { path: \"traces/a.jsonl\", line: 1 })",
            )
        })
        .collect();
    let a = (a.0, a.1, a2);
    assert_eq!(a.0, b.0, "runs differ");
    assert_eq!(a.1, b.1, "spans differ");
    assert_eq!(a.2, b.2, "findings differ");
    assert_eq!(a.2.len(), 6);

    // importing the export again changes nothing (fingerprints dedupe)
    let again = t.path().join("again.jsonl");
    std::fs::copy(&file, &again).unwrap();
    import(&db2, &again);
    assert_eq!(snapshot(&db2).2, a.2);
}

#[test]
fn one_run_and_stdout() {
    let (t, db) = store_with(sample());
    let o = Command::new(BIN)
        .args(["export", "--format", "json", "--run", "r2", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["run"]["id"], "r2");
    assert_eq!(lines[1]["span"]["id"], "p1");
    assert_eq!(lines[2]["finding"]["fingerprint"], "fp-proxy");
    // and that one run imports on its own
    let file = t.path().join("r2.jsonl");
    std::fs::write(&file, text).unwrap();
    let db2 = t.path().join("r2.db");
    import(&db2, &file);
    let s = Store::open_read(&db2).unwrap();
    assert_eq!(s.counts().unwrap().runs, 1);
    assert_eq!(s.counts().unwrap().spans, 1);
}

#[test]
fn sarif_only_flags_are_refused_for_json() {
    let (_t, db) = store_with(sample());
    let o = Command::new(BIN)
        .args(["export", "--format", "json", "--omit-suppressed", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .starts_with("error: --omit-suppressed: only with --format sarif"));
}

/// The round trip over every real trace format the parsers read: import the
/// fixtures, export JSON, import that into a new store, compare.
#[test]
fn round_trip_of_real_traces() {
    let t = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    let db = t.path().join("a.db");
    import(&db, &fixtures);
    let a = snapshot(&db);
    assert!(
        a.0.len() >= 5,
        "expected runs from every format, got {}",
        a.0.len()
    );
    assert!(a.1.len() >= 50, "expected spans, got {}", a.1.len());
    let file = t.path().join("all.jsonl");
    export_json(&db, &file, &[]);
    let db2 = t.path().join("b.db");
    import(&db2, &file);
    let b = snapshot(&db2);
    assert_eq!(a.0, b.0, "runs differ");
    assert_eq!(a.1.len(), b.1.len());
    for (x, y) in a.1.iter().zip(&b.1) {
        assert_eq!(x, y, "span differs");
    }
    assert_eq!(a.2, b.2, "findings differ");
}
