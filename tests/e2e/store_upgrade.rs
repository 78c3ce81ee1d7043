//! A store written before schema 12 opened by the binary: the upgrade links
//! every span to its parent exactly as a fresh import does (also when an
//! earlier upgrade was killed halfway), and says how far it is on stderr only
//! when asked (`SKILLTRACE_PROGRESS=always`), never when told to be quiet.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A store of real agent sessions imported by this build (schema 12).
fn fresh(dir: &Path) -> PathBuf {
    let db = dir.join("fresh.db");
    let fx = Path::new(ROOT).join("tests/fixtures/formats");
    ok(bin()
        .arg("import")
        .arg(fx.join("claude-code"))
        .arg(fx.join("codex"))
        .arg(fx.join("opencode"))
        .arg("--db")
        .arg(&db));
    db
}

/// A copy of `fresh` as schema 11 held it: migration 12's column and indexes
/// taken away, so opening it runs migration 12 and the backfill on real rows.
fn as_schema_11(fresh: &Path, name: &str) -> PathBuf {
    let old = fresh.with_file_name(name);
    let c = rusqlite::Connection::open(fresh).unwrap();
    c.execute("VACUUM INTO ?1", [old.to_str().unwrap()])
        .unwrap();
    drop(c);
    // A store's file is private (as skilltrace made it).
    std::fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let c = rusqlite::Connection::open(&old).unwrap();
    c.execute_batch(
        "DROP INDEX spans_tree; DROP INDEX spans_orphans; DROP INDEX spans_unresolved;
         ALTER TABLE spans DROP COLUMN parent_key;
         PRAGMA user_version = 11;",
    )
    .unwrap();
    old
}

/// Every span's key and parent key, in key order.
fn links(db: &Path) -> Vec<(i64, Option<i64>)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT key, parent_key FROM spans ORDER BY key")
        .unwrap();
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn export(db: &Path) -> String {
    let out = ok(bin().args(["export", "--format", "json", "--db"]).arg(db));
    String::from_utf8(out.stdout).unwrap()
}

/// `runs` on `db` with `SKILLTRACE_PROGRESS` set to `progress` (unset: None); its stderr.
fn open_with(db: &Path, progress: Option<&str>) -> String {
    let mut cmd = bin();
    cmd.args(["runs", "--db"]).arg(db);
    if let Some(p) = progress {
        cmd.env("SKILLTRACE_PROGRESS", p);
    }
    String::from_utf8(ok(&mut cmd).stderr).unwrap()
}

#[test]
fn an_upgraded_store_links_spans_as_a_fresh_import_and_says_so_only_when_asked() {
    let t = tempfile::tempdir().unwrap();
    let fresh = fresh(t.path());
    let want = links(&fresh);
    let linked = want
        .iter()
        .filter(|(_, p)| p.is_some_and(|p| p > 0))
        .count();
    assert!(
        want.len() > 50 && linked > 20,
        "{} spans, {linked} linked",
        want.len()
    );
    assert!(want.iter().all(|(_, p)| p.is_some()));

    // Asked: plain progress lines on a stderr that is not a terminal.
    let old = as_schema_11(&fresh, "asked.db");
    let said = open_with(&old, Some("always"));
    let n = want.len();
    let latest = skilltrace::store::schema::latest();
    for line in [
        format!("from store schema v11 to v{latest}"),
        format!("asked.db: schema v11 to v{latest}"),
        "asked.db: linking spans to their parents 0 of".to_string(),
        format!("asked.db: linking spans to their parents {n} of {n} (100%)"),
        "skilltrace: upgraded ".to_string(),
    ] {
        assert!(said.contains(&line), "{line:?} not in {said}");
    }
    assert_eq!(links(&old), want);
    assert_eq!(export(&old), export(&fresh));
    // Once: the next open says nothing.
    assert_eq!(open_with(&old, Some("always")), "");

    // Not asked (stderr not a terminal, NO_COLOR), or told to be quiet: the
    // one-line notice of the upgrade, no progress.
    for (name, progress) in [("plain.db", None), ("quiet.db", Some("never"))] {
        let old = as_schema_11(&fresh, name);
        let said = open_with(&old, progress);
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(
            said.contains(&format!("from store schema v11 to v{latest}")),
            "{said}"
        );
        assert!(!said.contains("linking"), "{said}");
        assert_eq!(links(&old), want);
    }
}

#[test]
fn an_upgrade_killed_halfway_resumes_and_loses_nothing() {
    let t = tempfile::tempdir().unwrap();
    let fresh = fresh(t.path());
    let want = links(&fresh);
    let old = as_schema_11(&fresh, "cut.db");
    {
        // As a process killed after migration 12 and one batch of the fill:
        // the batch's transaction committed, the rest not begun.
        let mut c = rusqlite::Connection::open(&old).unwrap();
        let tx = c.transaction().unwrap();
        tx.execute_batch(skilltrace::store::schema::MIGRATIONS[11])
            .unwrap();
        tx.pragma_update(None, "user_version", 12).unwrap();
        tx.commit().unwrap();
        let s = c
            .execute(
                "UPDATE spans SET parent_key = COALESCE((SELECT p.key FROM spans p \
                   WHERE p.run_key = spans.run_key AND p.id = spans.parent_id AND p.id <> spans.id), 0) \
                 WHERE key IN (SELECT key FROM spans WHERE parent_key IS NULL ORDER BY key LIMIT 25)",
                [],
            )
            .unwrap();
        assert_eq!(s, 25);
    }
    // The next writer finishes it (reading commands leave a store at the
    // current schema as it is): an import of files it holds already.
    let said = String::from_utf8(
        ok(bin()
            .env("SKILLTRACE_PROGRESS", "always")
            .arg("import")
            .arg(Path::new(ROOT).join("tests/fixtures/formats/claude-code"))
            .arg("--db")
            .arg(&old))
        .stderr,
    )
    .unwrap();
    let left = want.len() - 25;
    assert!(
        said.contains(&format!(
            "linking spans to their parents {left} of {left} (100%)"
        )),
        "{said}"
    );
    assert!(!said.contains("schema v11"), "{said}");
    assert_eq!(links(&old), want);
    assert_eq!(export(&old), export(&fresh));
}
