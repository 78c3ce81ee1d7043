//! The adversarial corpus generator (`scripts/adversarial/gen.py`, issue 14): the same seed
//! writes the same bytes, another seed another corpus, and every session it writes imports
//! with the real binary with no parse error, as one run of the right agent holding exactly
//! the tool calls the manifest promises. (Detection's scores on the corpus are measured by
//! `scripts/adversarial/score.py`, not asserted here.)
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn generate(out: &Path, seed: u32) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/adversarial/gen.py");
    ok(Command::new("python3")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(script)
        .arg(out)
        .args(["--seed", &seed.to_string(), "--size", "0.25"]));
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

/// Every file under `root`, relative path -> bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn generator_is_deterministic_and_every_session_imports_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let manifest = generate(&a, 11);
    generate(&b, 11);
    generate(&c, 12);
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(fa, fb, "the same seed must write the same bytes");
    let shared = fa.keys().filter(|k| fc.contains_key(*k)).count();
    assert_eq!(
        shared, 1,
        "another seed shares only manifest.json, not sessions"
    );

    let sessions = manifest["sessions"].as_array().unwrap();
    let kinds = |k: &str| sessions.iter().filter(|s| s["kind"] == k).count();
    assert!(
        kinds("attack") >= 100 && kinds("honest") >= 30,
        "size 0.25 still has every technique and template"
    );

    let db = tmp.path().join("corpus.db");
    let out = ok(bin()
        .arg("import")
        .arg(a.join("sessions"))
        .arg("--db")
        .arg(&db));
    let summary =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains(" 0 parse errors"), "{summary}");

    let out = ok(bin().args(["runs", "--format", "json", "--db"]).arg(&db));
    let runs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.len(), sessions.len(), "one run per session file");
    let by_source: BTreeMap<String, &Value> = runs
        .iter()
        .map(|r| {
            let src = r["source"].as_str().unwrap();
            let rel = Path::new(src).strip_prefix(a.join("sessions")).unwrap();
            (rel.to_string_lossy().into_owned(), r)
        })
        .collect();
    for s in sessions {
        let file = s["file"].as_str().unwrap();
        let run = by_source
            .get(file)
            .unwrap_or_else(|| panic!("{file}: no run"));
        let agent = if s["agent"] == "claude" {
            "claude-code"
        } else {
            "codex"
        };
        assert_eq!(run["agent"], agent, "{file}");
        assert_eq!(run["tool_count"], s["tool_calls"], "{file}: tool calls");
    }
}
