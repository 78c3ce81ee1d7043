//! The import's memory ceiling on the real binary: a corpus of attack sessions
//! (copies of `samples/gemini-cli`, each a distinct session, the shape of the
//! benchmark corpus that peaked highest) is imported while the process's peak
//! RSS (`VmHWM`) is read, and the peak must stay under a stated ceiling.
//!
//! `SKILLTRACE_TEST_BIN=/path/to/other/skilltrace cargo test --test e2e limits_import::
//! -- --nocapture` measures another build the same way.
#![allow(clippy::unwrap_used)]

use crate::limits_support::{exe, status_kib};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SAMPLE: &str = "samples/gemini-cli/c4e1a9d2/chats/session-2026-08-18T15-02-c4e1a9d2.jsonl";

/// Writes `copies` copies of the sample session into one file under `dir`,
/// each with its own session and message ids (as `scripts/gen_corpus.py` does).
fn corpus(dir: &Path, copies: usize) -> std::path::PathBuf {
    corpus_from(dir, copies, 0)
}

/// [`corpus`] with the copies numbered from `first`, under a folder of its own.
fn corpus_from(dir: &Path, copies: usize, first: usize) -> std::path::PathBuf {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE)).unwrap();
    let mut out = String::with_capacity(src.len() * copies);
    for k in first..first + copies {
        let tag = format!("{k:08x}");
        out.push_str(
            &src.replace("9d2e5f1b3a74", &format!("9d2e{tag}"))
                .replace("1b7f3c20-4d5e", &format!("{}-4d5e", tag)),
        );
    }
    let chats = dir.join(format!("c4e1a9d2-{first}/chats"));
    std::fs::create_dir_all(&chats).unwrap();
    let path = chats.join("session-2026-08-18T15-02-c4e1a9d2.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}

/// Imports `path` into a fresh store; its peak RSS in MiB, read from
/// `/proc/<pid>/status` while it runs (the high-water mark only grows).
fn import_peak_mib(path: &Path, db: &Path) -> f64 {
    import_peak_mib_with(&[path], db, &[])
}

/// [`import_peak_mib`] of several paths, with more arguments.
fn import_peak_mib_with(paths: &[&Path], db: &Path, args: &[&str]) -> f64 {
    let mut child = Command::new(exe())
        .arg("import")
        .args(paths)
        .args(args)
        .arg("--db")
        .arg(db)
        .env(
            "SKILLTRACE_CONFIG",
            "/nonexistent/skilltrace-test-config.toml",
        )
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut peak = 0;
    loop {
        peak = peak.max(status_kib(child.id(), "VmHWM:"));
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "import failed: {st:?}");
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    peak as f64 / 1024.0
}

/// 2.2 MB of attack sessions (600 runs, each with findings) peaked at 161 MiB
/// in the test (debug) build, 144-148 MiB in a release build, before transparent
/// huge pages were turned off (mimalloc's arenas asked for them); after, 130-132
/// and 119-121 MiB. The heap itself was ~90 MB, most of it the compiled injection
/// rules; after the carriers were written as byte classes, 99.1-99.5 MiB (debug).
#[test]
fn an_attack_heavy_import_stays_under_its_memory_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let path = corpus(dir.path(), 600);
    let peak = import_peak_mib(&path, &dir.path().join("st.db"));
    eprintln!(
        "import of {} bytes: peak RSS {peak:.1} MiB",
        std::fs::metadata(&path).unwrap().len()
    );
    assert!(peak > 0.0, "no peak read");
    assert!(peak < 125.0, "peak RSS {peak:.1} MiB");
    let out = crate::common::ok(
        crate::common::bin()
            .args(["runs", "--format", "json", "--db"])
            .arg(dir.path().join("st.db")),
    );
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        runs.as_array().map(Vec::len),
        Some(600),
        "every copy is its own run"
    );
}

/// The same sessions in four files, imported by two workers (`--jobs 2`):
/// each worker's scanning state and regex caches are its own, so the second
/// worker added ~27 MiB here while the injection carriers' programs and match
/// caches were 23 MB and 13.5 MB per thread (before they were written as byte
/// classes). Debug build: main before that change 164.6-164.8 MiB (one worker
/// on one file 137.5 MiB); after it, with batches bounded in bytes and the
/// store thread's 8 MiB page cache, 118.2-123.0 MiB (one worker 99.1-99.5).
#[test]
fn a_two_worker_import_stays_under_its_memory_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<_> = (0..4)
        .map(|i| corpus_from(dir.path(), 150, i * 150))
        .collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let db = dir.path().join("st.db");
    let peak = import_peak_mib_with(&refs, &db, &["--jobs", "2"]);
    eprintln!("import of 4 files with two workers: peak RSS {peak:.1} MiB");
    assert!(peak > 0.0, "no peak read");
    assert!(peak < 140.0, "peak RSS {peak:.1} MiB");
    let out = crate::common::ok(
        crate::common::bin()
            .args(["runs", "--format", "json", "--db"])
            .arg(&db),
    );
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.as_array().map(Vec::len), Some(600));
}

/// Memory flat in corpus size (issue 20): the same shape of corpus at N and
/// 4N sessions (files of 150 sessions each, so every file is the same size;
/// 1,200 sessions already fill what each worker keeps per run), imported by
/// two workers; the larger peak may exceed the smaller by a small margin
/// only. Anything kept per run, per span or per file for the whole import
/// (3,600 more sessions, ~30,000 more spans) shows here. Debug build, this
/// branch: 1,200 sessions 125 MiB, 4,800 sessions 127.6 MiB before the
/// bounds of session 10.
#[test]
fn import_memory_is_flat_in_corpus_size() {
    let peak = |files: usize| {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<_> = (0..files)
            .map(|i| corpus_from(dir.path(), 150, i * 150))
            .collect();
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let db = dir.path().join("st.db");
        let peak = import_peak_mib_with(&refs, &db, &["--jobs", "2"]);
        let out = crate::common::ok(
            crate::common::bin()
                .args(["runs", "--format", "json", "--db"])
                .arg(&db),
        );
        let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(runs.as_array().map(Vec::len), Some(files * 150));
        peak
    };
    let small = peak(8);
    let large = peak(32);
    eprintln!("1,200 sessions: peak RSS {small:.1} MiB; 4,800 sessions: {large:.1} MiB");
    assert!(small > 0.0 && large > 0.0, "no peak read");
    assert!(
        large - small < 8.0,
        "4x the corpus took {:.1} MiB more ({small:.1} -> {large:.1})",
        large - small
    );
    assert!(large < 140.0, "peak RSS {large:.1} MiB");
}
