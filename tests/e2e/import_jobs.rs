//! `skilltrace import --jobs N`: workers scanning whole runs side by side
//! store exactly what one thread stores (runs, spans with their parent links
//! and order within each run, findings, skill hits, parse errors, resume
//! offsets), and a file that fails midway in one worker is reported while the
//! other workers' runs are stored.
#![allow(clippy::unwrap_used)]

use crate::common::{bin, ok};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn import(paths: &[PathBuf], db: &Path, jobs: u32) -> std::process::Output {
    let mut c = bin();
    c.arg("import").args(paths).arg("--db").arg(db);
    c.arg("--jobs").arg(jobs.to_string());
    c.env_remove("SKILLTRACE_DB");
    c.output().unwrap()
}

/// The store as text, without row ids or clock times: each table's rows
/// sorted by what identifies them; spans by run and their order in it, with
/// the parent a span's link points at named by its id.
fn dump(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let queries = [
        "SELECT 'run', id, agent, source, parent_run_id, started_ms, ended_ms, title, cwd, models,
                span_count, tool_count, input_tokens, output_tokens,
                f_info, f_low, f_medium, f_high, f_critical, title_rank
           FROM runs ORDER BY id",
        "SELECT 'span', r.id, ROW_NUMBER() OVER (PARTITION BY s.run_key ORDER BY s.key) AS n,
                s.id, s.parent_id, (SELECT p.id FROM spans p WHERE p.key = s.parent_key),
                s.kind, s.name, s.start_ms, s.end_ms, s.status, s.model, s.tool_name,
                s.tool_call_id, s.tool_input, s.tool_output, s.text, s.attributes,
                s.input_tokens, s.output_tokens, s.origin_path, s.origin_line
           FROM spans s JOIN runs r ON r.key = s.run_key ORDER BY r.id, n",
        "SELECT 'finding', fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids,
                title, message, evidence, origin_path, origin_line, skill_id, ts_ms, related, status
           FROM findings ORDER BY fingerprint",
        "SELECT 'hit', skill_id, version, name, method, confidence, run_id, span_id, ts_ms
           FROM skill_hits ORDER BY skill_id, run_id, span_id, method",
        "SELECT 'error', path, line, message FROM parse_errors ORDER BY path, line",
        "SELECT 'source', path, kind, dev, ino, offset, line, format FROM sources ORDER BY path",
    ];
    let mut out = Vec::new();
    for q in queries {
        let mut st = c.prepare(q).unwrap();
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                let mut line = Vec::with_capacity(n);
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push(format!("{v:?}"));
                }
                Ok(line.join("|"))
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

fn count(dump: &[String], kind: &str) -> usize {
    dump.iter()
        .filter(|l| l.starts_with(&format!("Text(\"{kind}\")")))
        .count()
}

#[test]
fn two_workers_store_what_one_thread_stores() {
    let t = tempfile::tempdir().unwrap();
    let inputs = [
        root().join("tests/fixtures/formats"),
        root().join("samples"),
    ];
    let (one, two) = (t.path().join("one.db"), t.path().join("two.db"));
    let a = import(&inputs, &one, 1);
    let b = import(&inputs, &two, 2);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let (d1, d2) = (dump(&one), dump(&two));
    // Not a comparison of two empty stores: every kind of row is there.
    assert!(count(&d1, "run") >= 30, "{}", count(&d1, "run"));
    assert!(count(&d1, "span") >= 400);
    assert!(count(&d1, "finding") >= 50);
    assert!(count(&d1, "source") >= 80);
    assert!(count(&d1, "error") >= 1);
    for (x, y) in d1.iter().zip(&d2) {
        assert_eq!(x, y, "the first row where --jobs 2 differs from --jobs 1");
    }
    assert_eq!(d1.len(), d2.len());
    // Same report line (but the time).
    let report = |o: &std::process::Output| {
        let s = String::from_utf8_lossy(&o.stdout).to_string();
        let (head, tail) = s.split_once(" in ").unwrap();
        format!("{head} {}", tail.split_once("): ").unwrap().1)
    };
    assert_eq!(report(&a), report(&b));
    // Imported again with workers, nothing is new (each file resumes at its end).
    let again = ok(bin()
        .arg("import")
        .args(&inputs)
        .arg("--db")
        .arg(&two)
        .args(["--jobs", "2"]));
    let s = String::from_utf8_lossy(&again.stdout);
    assert!(s.contains(": 0 new spans, 0 new findings"), "{s}");
    assert_eq!(dump(&two), d2);
}

#[test]
fn a_file_failing_midway_in_one_worker_leaves_the_others_runs_stored() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "tests/fixtures/formats/claude-code/session_excerpt.jsonl",
        "tests/fixtures/formats/codex/rollout_variety_excerpt.jsonl",
        "samples/claude-code/attack-persistence-reverse-shell.jsonl",
        "samples/codex/rollout-2026-03-07T17-20-44-attack-env-paste.jsonl",
    ] {
        let p = root().join(f);
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let (good, mixed) = (t.path().join("good.db"), t.path().join("mixed.db"));
    ok(bin()
        .arg("import")
        .arg(&dir)
        .arg("--db")
        .arg(&good)
        .args(["--jobs", "1"]));
    // A compressed rollout that decodes for a while, then is refused.
    let bomb = root().join(
        "tests/fixtures/bombs/rollout-2026-10-14T10-00-00-019e2b50-0000-7000-8000-00000000b0b0.jsonl.zst",
    );
    std::fs::copy(&bomb, dir.join(bomb.file_name().unwrap())).unwrap();
    let out = import(std::slice::from_ref(&dir), &mixed, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("compression bomb"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("imported 4 files"), "{stdout}");
    // Every other run is stored as a one-thread import of the good files stores it.
    let keep =
        |d: Vec<String>| -> Vec<String> { d.into_iter().filter(|l| !l.contains("b0b0")).collect() };
    let (g, m) = (dump(&good), keep(dump(&mixed)));
    assert!(count(&g, "span") >= 20);
    assert_eq!(g, m);
}
