//! Unit tests of opening the store safely: links, other programs' databases,
//! widened modes, and many writers creating one new store at once.

use super::*;

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
}

#[test]
fn a_store_that_is_a_link_is_refused_and_its_target_left_alone() {
    let t = tempfile::tempdir().expect("tempdir");
    // A link to an empty file (the 0644 file) and a dangling one.
    let target = t.path().join("victim");
    std::fs::write(&target, b"").expect("write");
    let link = t.path().join("st.db");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let e = Store::open(&link).expect_err("link").to_string();
    assert!(e.contains("symbolic link") && e.contains("st.db"), "{e}");
    assert_eq!(
        std::fs::read(&target).expect("read").len(),
        0,
        "target written"
    );
    let e = Store::open_read(&link).expect_err("link").to_string();
    assert!(e.contains("symbolic link"), "{e}");
    let dangling = t.path().join("d.db");
    let nowhere = t.path().join("nowhere.db");
    std::os::unix::fs::symlink(&nowhere, &dangling).expect("symlink");
    assert!(Store::open(&dangling).is_err());
    assert!(!nowhere.exists(), "a dangling link created its target");
}

#[test]
fn a_wal_planted_as_a_link_is_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("st.db");
    drop(Store::open(&db).expect("create"));
    let wal = trust::sidecar(&db, "-wal");
    let _ = std::fs::remove_file(&wal);
    std::os::unix::fs::symlink(t.path().join("elsewhere"), &wal).expect("symlink");
    let e = Store::open(&db).expect_err("wal link").to_string();
    assert!(e.contains("-wal") && e.contains("symbolic link"), "{e}");
}

#[test]
fn another_programs_database_gets_no_tables() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("their.db");
    let c = rusqlite::Connection::open(&db).expect("open");
    c.execute_batch("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES('x');")
        .expect("theirs");
    drop(c);
    let before = std::fs::read(&db).expect("read");
    let e = Store::open(&db).expect_err("foreign").to_string();
    assert!(
        e.contains("not a skilltrace store") && e.contains("their.db"),
        "{e}"
    );
    assert!(!e.contains('\n'));
    let c = rusqlite::Connection::open(&db).expect("open");
    let tables: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type='table'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(tables, 1, "tables were added");
    let jm: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("jm");
    assert_eq!(jm, "delete", "its journal mode was changed");
    drop(c);
    assert_eq!(std::fs::read(&db).expect("read"), before);
    assert!(Store::open_read(&db).is_err());
    // Another program that uses user_version, or an application id of its own.
    let v = t.path().join("versioned.db");
    let c = rusqlite::Connection::open(&v).expect("open");
    c.execute_batch("PRAGMA user_version=7;").expect("v");
    drop(c);
    assert!(Store::open(&v).is_err());
    let a = t.path().join("app.db");
    let c = rusqlite::Connection::open(&a).expect("open");
    c.execute_batch("PRAGMA application_id=42;").expect("id");
    drop(c);
    let e = Store::open(&a).expect_err("app id").to_string();
    assert!(e.contains("0x2a"), "{e}");
}

#[test]
fn a_store_says_what_it_is() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("st.db");
    let s = Store::open(&db).expect("create");
    let id: i64 = s
        .conn()
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("id");
    assert_eq!(id, schema::APPLICATION_ID);
    assert_eq!(
        s.meta("store").expect("meta").as_deref(),
        Some("skilltrace")
    );
    // An empty file (made by a user or another writer) becomes a store.
    let empty = t.path().join("empty.db");
    std::fs::write(&empty, b"").expect("write");
    drop(Store::open(&empty).expect("empty is fine"));
}

#[test]
fn widened_files_are_tightened_on_every_open() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("st.db");
    drop(Store::open(&db).expect("create"));
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let s = Store::open(&db).expect("reopen");
    assert_eq!(mode(&db), 0o600);
    for side in ["-wal", "-shm"] {
        let p = trust::sidecar(&db, side);
        assert!(p.exists(), "{side}");
        assert_eq!(mode(&p), 0o600, "{side}");
    }
    drop(s);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    drop(Store::open_read(&db).expect("read"));
    assert_eq!(mode(&db), 0o600, "readers tighten too");
}

#[test]
fn a_folder_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().expect("tempdir");
    let shared = t.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let e = Store::open(&shared.join("st.db"))
        .expect_err("shared")
        .to_string();
    assert!(
        e.contains("writable by every user") && e.contains("--allow-shared-store"),
        "{e}"
    );
    assert!(!shared.join("st.db").exists(), "created before refusing");
}

#[test]
fn a_file_of_another_user_is_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("st.db");
    drop(Store::open(&db).expect("create"));
    // Only root can give a file away; elsewhere `trust` unit-tests the rule.
    if trust::my_uid() != 0 {
        return;
    }
    rustix::fs::chown(&db, Some(rustix::fs::Uid::from_raw(4242)), None).expect("chown");
    let e = Store::open(&db).expect_err("theirs").to_string();
    assert!(e.contains("uid 4242"), "{e}");
}

#[test]
fn writers_started_together_on_a_new_store_all_start() {
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("new/deeper/st.db");
    let opened: Vec<Result<Store, StoreError>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8).map(|_| s.spawn(|| Store::open(&db))).collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    for o in &opened {
        if let Err(e) = o {
            panic!("a writer failed to start: {e}");
        }
    }
    let s = Store::open_read(&db).expect("read");
    let v: i64 = s
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("v");
    assert_eq!(v as usize, schema::latest());
    assert_eq!(mode(&t.path().join("new")), 0o700);
}
