//! OTLP/JSON export, run as a user would: every line is an
//! `ExportTraceServiceRequest` with well-formed ids; importing the export into a
//! new store gives back the same runs, span counts, tools and parent links;
//! secrets redacted at ingest stay redacted; the file is private.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use skilltrace::store::{RunFilter, RunSort, Store};
use std::collections::BTreeMap;
use std::path::Path;

/// Per run: (span count, sorted tool names, spans whose parent is missing from the run).
fn shape(db: &Path) -> BTreeMap<String, (usize, Vec<String>, usize)> {
    let s = Store::open_read(db).unwrap();
    let mut out = BTreeMap::new();
    for r in s
        .runs(&RunFilter::default(), RunSort::Started, 0, 1000)
        .unwrap()
    {
        let spans = s.spans(&r.run.id, 0, 100_000).unwrap();
        let ids: std::collections::HashSet<&str> =
            spans.iter().map(|x| x.span.id.as_str()).collect();
        let mut tools: Vec<String> = spans
            .iter()
            // an empty tool name says nothing: OTLP has no way to tell it from none
            .filter_map(|x| x.span.tool_name.clone().filter(|n| !n.is_empty()))
            .collect();
        tools.sort();
        let orphans = spans
            .iter()
            .filter(|x| {
                x.span
                    .parent_id
                    .as_deref()
                    .is_some_and(|p| !ids.contains(p))
            })
            .count();
        out.insert(r.run.id.clone(), (spans.len(), tools, orphans));
    }
    out
}

#[test]
fn otlp_export_is_valid_and_imports_back_to_the_same_runs() {
    let t = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    let db = t.path().join("a.db");
    ok(bin().arg("import").arg(&fixtures).arg("--db").arg(&db));
    let file = t.path().join("traces.jsonl");
    let out = ok(bin()
        .args(["export", "--format", "otlp", "-o"])
        .arg(&file)
        .arg("--db")
        .arg(&db));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("as OTLP/JSON to"), "{said}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let text = std::fs::read_to_string(&file).unwrap();
    let mut spans = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for sp in ss["spans"].as_array().unwrap() {
                    spans += 1;
                    let hex = |k: &str, n: usize| {
                        let s = sp[k].as_str().unwrap_or_else(|| panic!("{k} missing"));
                        assert_eq!(s.len(), n, "{k}: {s}");
                        assert!(s
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                    };
                    hex("traceId", 32);
                    hex("spanId", 16);
                    if sp.get("parentSpanId").is_some() {
                        hex("parentSpanId", 16);
                    }
                    let start: u128 = sp["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
                    let end: u128 = sp["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
                    assert!(end >= start);
                }
            }
        }
    }

    let a = shape(&db);
    assert!(a.len() >= 5, "runs from every format: {}", a.len());
    assert_eq!(spans, a.values().map(|x| x.0).sum::<usize>());

    // What an OpenTelemetry consumer gets is what skilltrace itself reads back.
    let db2 = t.path().join("b.db");
    ok(bin().arg("import").arg(&file).arg("--db").arg(&db2));
    let b = shape(&db2);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "run ids"
    );
    for (run, (n, tools, orphans)) in &a {
        let (n2, tools2, orphans2) = &b[run];
        assert_eq!(n, n2, "{run}: span count");
        assert_eq!(tools, tools2, "{run}: tool names");
        assert_eq!(orphans, orphans2, "{run}: parent links");
    }
}

#[test]
fn one_run_to_stdout_keeps_secrets_redacted() {
    let t = tempfile::tempdir().unwrap();
    let trace = t.path().join("s.jsonl");
    let key = "sk-proj-Q7x9Lm2Vb8Nc4Zr6Tw1Ys3Ku5Hp0Jd7Fg2Ae9Wq4Rt6";
    std::fs::write(
        &trace,
        format!(
            "{{\"type\":\"session_meta\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"payload\":{{\"id\":\"run-otlp\",\"cwd\":\"/w\"}}}}\n\
             {{\"type\":\"response_item\",\"timestamp\":\"2026-01-02T03:04:06Z\",\"payload\":{{\"type\":\"function_call\",\"name\":\"shell\",\"call_id\":\"c1\",\"arguments\":\"{{\\\"command\\\":[\\\"bash\\\",\\\"-lc\\\",\\\"OPENAI_API_KEY={key} ./run.sh\\\"]}}\"}}}}\n"
        ),
    )
    .unwrap();
    let db = t.path().join("a.db");
    ok(bin().arg("import").arg(&trace).arg("--db").arg(&db));
    let out = ok(bin()
        .args(["export", "--format", "otlp", "--run", "run-otlp", "--db"])
        .arg(&db));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("\"execute_tool\""), "{text}");
    assert!(text.contains("[REDACTED"), "{text}");
    assert!(!text.contains(key), "secret in the export");
}

#[test]
fn sarif_only_flags_and_unknown_runs_are_one_line_errors() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("a.db");
    ok(bin()
        .arg("import")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
        .arg("--db")
        .arg(&db));
    for args in [vec!["--omit-suppressed"], vec!["--run", "no-such-run"]] {
        let o = bin()
            .args(["export", "--format", "otlp", "--db"])
            .arg(&db)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}
