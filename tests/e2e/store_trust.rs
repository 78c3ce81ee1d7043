//! Opening the store safely, with the binary as users run it (issue 13, row 3):
//! a store path that is a link, another program's SQLite file, a planted key
//! and a folder others can write are refused with one line (exit 2); parents
//! are created private whatever the umask; a widened store is set back and it
//! is said; `doctor` names each of these, and the spool a stopped writer left.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::bin;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn trace(dir: &Path) -> PathBuf {
    let f = dir.join("t.jsonl");
    std::fs::write(
        &f,
        "{\"skilltrace\":1,\"type\":\"span\",\"span\":{\"id\":\"s1\",\"run_id\":\"r1\",\"kind\":\"tool\",\"name\":\"Bash\",\"status\":\"ok\",\"origin\":{\"path\":\"\",\"line\":0}}}\n",
    )
    .unwrap();
    f
}

fn import(db: &Path, file: &Path) -> std::process::Output {
    import_with(bin(), db, file)
}

/// `import --db DB FILE` on `cmd` (which may carry more flags or environment).
fn import_with(mut cmd: std::process::Command, db: &Path, file: &Path) -> std::process::Output {
    cmd.args(["import", "--db"])
        .arg(db)
        .arg(file)
        .output()
        .unwrap()
}

/// `bin()` with `--allow-shared-store` set (through its environment variable).
fn allowing() -> std::process::Command {
    let mut c = bin();
    c.env("SKILLTRACE_ALLOW_SHARED_STORE", "1");
    c
}

/// Asserts success, showing stderr when not; returns stderr.
fn succeeded(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

/// Exit 2 with one `error: ` line that contains every `want`.
fn refused(out: &std::process::Output, want: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for w in want {
        assert!(err.contains(w), "{w}: {err}");
    }
}

fn doctor(db: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = bin()
        .args([
            "doctor",
            "--proxy",
            "127.0.0.1:0",
            "--otlp",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(db)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_store_path_that_is_a_link_is_refused_and_its_target_untouched() {
    let t = tempfile::tempdir().unwrap();
    let f = trace(t.path());
    let victim = t.path().join("victim");
    std::fs::write(&victim, b"").unwrap();
    chmod(&victim, 0o644);
    let link = t.path().join("st.db");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    refused(&import(&link, &f), &["st.db", "symbolic link"]);
    assert_eq!(std::fs::read(&victim).unwrap().len(), 0);
    assert_eq!(mode(&victim), 0o644);
    let dangling = t.path().join("d.db");
    std::os::unix::fs::symlink(t.path().join("made.db"), &dangling).unwrap();
    refused(&import(&dangling, &f), &["d.db", "symbolic link"]);
    assert!(
        !t.path().join("made.db").exists(),
        "a dangling link created its target"
    );
    let (code, out) = doctor(&link, &[]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("FIX") && out.contains("symbolic link"),
        "{out}"
    );
}

#[test]
fn another_programs_database_is_refused_and_left_untouched() {
    let t = tempfile::tempdir().unwrap();
    let f = trace(t.path());
    let db = t.path().join("their.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES('keep me');")
        .unwrap();
    drop(c);
    let before = std::fs::read(&db).unwrap();
    refused(&import(&db, &f), &["their.db", "not a skilltrace store"]);
    let out = bin().args(["runs", "--db"]).arg(&db).output().unwrap();
    refused(&out, &["not a skilltrace store"]);
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file was changed");
    assert!(!t.path().join("their.db-wal").exists());
    let (code, out) = doctor(&db, &[]);
    assert_eq!(code, Some(1));
    assert!(out.contains("not a skilltrace store"), "{out}");
}

#[test]
fn a_planted_key_is_refused_named_by_doctor_and_usable_only_when_allowed() {
    let t = tempfile::tempdir().unwrap();
    let f = trace(t.path());
    let db = t.path().join("st.db");
    let key = t.path().join("st.db.key");
    // Planted before the store exists, readable by everyone.
    std::fs::write(&key, [7u8; 32]).unwrap();
    chmod(&key, 0o644);
    refused(&import(&db, &f), &["st.db.key", "open to others"]);
    assert_eq!(
        std::fs::read(&key).unwrap(),
        [7u8; 32],
        "the key was replaced"
    );
    let (code, out) = doctor(&db, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FIX   key") && out.contains("644"), "{out}");
    // Allowed explicitly: used, said, and set back to 600.
    let err = succeeded(&import_with(allowing(), &db, &f));
    assert!(
        err.contains("warning: ") && err.contains("--allow-shared-store"),
        "{err}"
    );
    assert_eq!(mode(&key), 0o600);
    // A key of another user is refused even so (only root can make one here).
    if is_root() {
        rustix::fs::chown(&key, Some(rustix::fs::Uid::from_raw(4242)), None).unwrap();
        refused(
            &import_with(allowing(), &db, &f),
            &["st.db.key", "uid 4242"],
        );
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().as_raw() == 0
}

#[test]
fn a_folder_others_can_write_is_refused_unless_allowed() {
    let t = tempfile::tempdir().unwrap();
    let f = trace(t.path());
    let shared = t.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o777);
    let db = shared.join("st.db");
    refused(
        &import(&db, &f),
        &["shared", "writable by every user", "--allow-shared-store"],
    );
    assert!(!db.exists() && !shared.join("st.db.key").exists());
    // The flag itself this time (the test above used its environment variable).
    let out = bin()
        .args(["import", "--allow-shared-store", "--db"])
        .arg(&db)
        .arg(&f)
        .output()
        .unwrap();
    assert!(succeeded(&out).contains("writable by every user"));
    let (code, out) = doctor(&db, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FIX   folder"), "{out}");
}

#[test]
fn parents_are_created_private_and_a_widened_store_is_set_back() {
    let t = tempfile::tempdir().unwrap();
    let f = trace(t.path());
    let db = t.path().join("a/b/c/st.db");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000; exec '{}' import --db '{}' '{}'",
            env!("CARGO_BIN_EXE_skilltrace"),
            db.display(),
            f.display()
        ))
        .env(
            "SKILLTRACE_CONFIG",
            "/nonexistent/skilltrace-test-config.toml",
        )
        .output()
        .unwrap();
    succeeded(&out);
    for d in ["a", "a/b", "a/b/c"] {
        assert_eq!(mode(&t.path().join(d)), 0o700, "{d}");
    }
    assert_eq!(mode(&db), 0o600);
    chmod(&db, 0o644);
    let err = succeeded(&import(&db, &f));
    assert!(err.contains("was 644; set back to 600"), "{err}");
    for side in ["", "-wal", "-shm", ".key"] {
        let p = PathBuf::from(format!("{}{side}", db.display()));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
    let (code, out) = doctor(&db, &[]);
    assert!(out.contains("is yours and private (600)"), "{out}");
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn doctor_names_a_spool_left_behind_and_the_next_writer_stores_it() {
    let t = tempfile::tempdir().unwrap();
    let f = trace(t.path());
    let db = t.path().join("st.db");
    succeeded(&import(&db, &f));
    // A writer that stopped with work in its spool.
    common::orphan_beside(&db);
    let (code, out) = doctor(&db, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FIX   spool") && out.contains("1 batches") && out.contains("stopped"),
        "{out}"
    );
    let g = trace(&t.path().join("more").tap_mkdir());
    let err = succeeded(&import(&db, &g));
    assert!(err.contains("stored the work left in"), "{err}");
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM spans WHERE id LIKE 'left%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 3);
    let (code, out) = doctor(&db, &[]);
    assert_eq!(code, Some(0), "{out}");
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
