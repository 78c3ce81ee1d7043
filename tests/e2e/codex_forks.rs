//! Today's Codex rollouts imported by the binary (issue 15): a spawned
//! subagent's rollout copies its parent's history, yet a parent + child pair
//! gives two runs with each span, finding and token once; per-response
//! `token_usage_record`s and their `token_count` twins cost once; archived
//! `.jsonl.zst` rollouts import like their plain twins, a compressed twin of
//! an imported file adds nothing, and a zstd bomb is one line of error.
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
    for id in ["call_c_probe", "turn-c1"] {
        assert!(of(CHILD).contains(&id), "{id}");
    }
    let llm = |run: &str| of(run).iter().filter(|i| i.starts_with("llm-")).count();
    assert_eq!((llm(PARENT), llm(CHILD)), (3, 2));

    // Findings: the parent's download once, in the parent; the child's
    // probing in the child; nothing raised on a copied line.
    let own =
        |rule: &str, run: &str, span: &str| (rule.to_owned(), run.to_owned(), span.to_owned());
    assert_eq!(
        findings(&db),
        [
            own("NET-TRACE-001", PARENT, "call_p_install"),
            own("PRB-TRACE-001", CHILD, "call_c_probe"),
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

const ARCHIVED: &str =
    "archived_sessions/rollout-2026-10-14T09-00-00-019e2b41-7c10-7d52-9a41-2c7f3e5b0a01.jsonl.zst";

/// (rule, run, span) of every finding, sorted.
fn findings(db: &Path) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = findings_json(db)
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or_default().to_owned(),
                f["run_id"].as_str().unwrap_or_default().to_owned(),
                f["span_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_archived_zst_rollout_imports_like_its_plain_twin_and_not_twice() {
    let t = tempfile::tempdir().unwrap();
    let (plain_db, zst_db) = (t.path().join("plain.db"), t.path().join("zst.db"));
    let plain = forks()[0].clone();
    assert!(plain.to_string_lossy().contains(PARENT));
    let zst = Path::new(FIX).join(ARCHIVED);
    import(std::slice::from_ref(&plain), &plain_db);
    import(std::slice::from_ref(&zst), &zst_db);
    assert_eq!(spans(&zst_db), spans(&plain_db));
    assert_eq!(runs(&zst_db), runs(&plain_db));
    assert_eq!(findings(&zst_db), findings(&plain_db));
    assert!(!findings(&zst_db).is_empty());

    // The compressed twin of a file already imported adds nothing, nor does
    // importing it again.
    let before = (spans(&plain_db), runs(&plain_db), findings(&plain_db));
    for _ in 0..2 {
        import(std::slice::from_ref(&zst), &plain_db);
        assert_eq!(
            (spans(&plain_db), runs(&plain_db), findings(&plain_db)),
            before
        );
    }
    assert_eq!(cost_total(&plain_db), cost_total(&zst_db));
}

#[test]
fn a_codex_home_is_read_with_its_archive_and_a_plain_twin_wins() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("codex");
    let day = home.join("sessions/2026/10/14");
    let archive = home.join("archived_sessions");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(&archive).unwrap();
    // The child is live; the parent archived, compressed, beside a plain copy
    // of the child's (which Codex would read instead of its `.zst`).
    let child = &forks()[1];
    std::fs::copy(child, day.join(child.file_name().unwrap())).unwrap();
    let zst = Path::new(FIX).join(ARCHIVED);
    std::fs::copy(&zst, archive.join(zst.file_name().unwrap())).unwrap();
    let db = t.path().join("s.db");
    let out = import(std::slice::from_ref(&home), &db);
    assert!(out.starts_with("imported 2 files"), "{out}");
    let db_pair = t.path().join("pair.db");
    import(&forks(), &db_pair);
    assert_eq!(spans(&db), spans(&db_pair));
    assert_eq!(runs(&db), runs(&db_pair));

    // A `.zst` beside its plain twin is not read: the twin is.
    let twin = archive.join(
        zst.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".zst"),
    );
    std::fs::write(&twin, "").unwrap();
    let db2 = t.path().join("s2.db");
    let out = import(&[home], &db2);
    assert!(out.starts_with("imported 2 files"), "{out}");
    assert!(runs(&db2).iter().all(|r| r.0 != PARENT), "{:?}", runs(&db2));
}

#[test]
fn a_zstd_bomb_is_one_line_of_error_and_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("s.db");
    let bomb = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/bombs/rollout-2026-10-14T10-00-00-019e2b50-0000-7000-8000-00000000b0b0.jsonl.zst",
    );
    let started = std::time::Instant::now();
    let out = bin()
        .arg("import")
        .arg(&bomb)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ")
            && err.contains(
                "decompresses more than 1000 times its size: refused as a compression bomb"
            ),
        "{err}"
    );
    // Stopped at the ratio bound (32 MiB out), long before its 1 GiB.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));

    // Beside a good file, the bomb is a warning and the good file is imported.
    let out = bin()
        .arg("import")
        .arg(&bomb)
        .arg(&forks()[0])
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("warning: ") && err.lines().count() == 1,
        "{err}"
    );
    assert!(runs(&db).iter().any(|r| r.0 == PARENT));
}

#[test]
fn tail_reads_an_archived_zst_rollout_as_it_appears() {
    use std::time::{Duration, Instant};

    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("codex/archived_sessions");
    std::fs::create_dir_all(&archive).unwrap();
    let db = t.path().join("s.db");
    let (stop, th) = common::spawn_tail(vec![archive.clone()], &db);
    // Codex archives a rollout: the compressed file appears (written, then renamed).
    let zst = Path::new(FIX).join(ARCHIVED);
    let tmp = archive.join("partial.tmp");
    std::fs::copy(&zst, &tmp).unwrap();
    std::fs::rename(&tmp, archive.join(zst.file_name().unwrap())).unwrap();
    let started = Instant::now();
    let plain_db = t.path().join("plain.db");
    import(&forks()[..1], &plain_db);
    let want = spans(&plain_db).len() as u64;
    assert!(want > 5);
    let count = || {
        Store::open_read(&db)
            .ok()
            .and_then(|s| s.span_count(PARENT).ok())
            .unwrap_or(0)
    };
    while count() < want && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.stop();
    th.join().unwrap();
    assert_eq!(spans(&db), spans(&plain_db));
    assert_eq!(runs(&db), runs(&plain_db));
    assert_eq!(findings(&db), findings(&plain_db));
}
