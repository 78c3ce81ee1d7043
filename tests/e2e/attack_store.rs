//! Attacks on guarantees 2 and 2a through the files a user points skilltrace
//! at: a store edited by another tool with a trigger or a view planted in it
//! (one that deletes each finding as it is written) is refused by every
//! command, which runs nothing against it, and `doctor` names it; `export -o`
//! onto a symbolic link or onto an existing file open to others replaces the
//! name with a private file and leaves the link's target alone, under umask 000.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use std::os::unix::fs::PermissionsExt;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/claude-code/attack-skill-exfiltrates-aws.jsonl"
);

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_store_with_a_planted_trigger_or_view_is_refused_by_every_command() {
    for plant in [
        "CREATE TRIGGER hide AFTER INSERT ON findings BEGIN DELETE FROM findings WHERE rowid = new.rowid; END;",
        "CREATE TRIGGER tally_run_delete AFTER INSERT ON runs BEGIN DELETE FROM findings; END;",
        "CREATE VIEW leak AS SELECT text FROM spans;",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        ok(bin().arg("import").arg(SAMPLE).arg("--db").arg(&db));
        let findings = count(&db, "SELECT count(*) FROM findings");
        assert!(findings > 0);
        {
            let c = rusqlite::Connection::open(&db).unwrap();
            // One of skilltrace's own trigger names with another body.
            if plant.contains("tally_run_delete") {
                c.execute_batch("DROP TRIGGER tally_run_delete;").unwrap();
            }
            c.execute_batch(plant).unwrap();
        }
        let other = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/codex/");
        for args in [
            &["import", other][..],
            &["runs"],
            &["findings", "--format", "json"],
            &["export", "--format", "json"],
            &["replay", "x"],
        ] {
            let o = bin().args(args).arg("--db").arg(&db).output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{plant} / {args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains("skilltrace never made"), "{plant} / {args:?}: {err}");
            assert!(o.stdout.is_empty(), "{args:?} printed from the store");
        }
        assert_eq!(
            count(&db, "SELECT count(*) FROM findings"),
            findings,
            "{plant}: the trigger ran"
        );
        let doctor = bin().arg("doctor").arg("--db").arg(&db).output().unwrap();
        let text = String::from_utf8_lossy(&doctor.stdout);
        assert!(
            text.lines()
                .any(|l| l.contains("FIX") && l.contains("skilltrace never made")),
            "{text}"
        );
    }
}

#[test]
fn export_onto_a_link_or_a_wide_file_writes_a_private_file_and_spares_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(bin().arg("import").arg(SAMPLE).arg("--db").arg(&db));
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    for (fmt, name) in [
        ("sarif", "a.sarif"),
        ("json", "a.jsonl"),
        ("otlp", "a.json"),
    ] {
        let link = dir.path().join(format!("link-{name}"));
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let wide = dir.path().join(format!("wide-{name}"));
        std::fs::write(&wide, "old").unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o666)).unwrap();
        for out in [&link, &wide] {
            let mut cmd = std::process::Command::new("sh");
            cmd.arg("-c")
                .arg("umask 000; exec \"$@\"")
                .arg("sh")
                .arg(env!("CARGO_BIN_EXE_skilltrace"))
                .args(["export", "--format", fmt, "-o"])
                .arg(out)
                .arg("--db")
                .arg(&db)
                .env("SKILLTRACE_CONFIG", "/nonexistent/x.toml");
            ok(&mut cmd);
            let meta = std::fs::symlink_metadata(out).unwrap();
            assert!(
                meta.file_type().is_file(),
                "{}: still a link",
                out.display()
            );
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{}",
                out.display()
            );
            assert!(std::fs::read(out).unwrap().len() > 10);
        }
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the link's target was touched");
}
