//! Attacks on guarantees 2 and 2a through what is found where a file belongs:
//! a FIFO, a folder or a device (`/dev/zero`, a character device made for the
//! test) given as the store (`--db`), the config (`SKILLTRACE_CONFIG`), a
//! registry, a SARIF baseline or an export's `-o`, or planted beside the
//! store as its key, `-wal`, `-shm`, canary file or spool. Each command ends
//! within a bound (a pipe is never waited on, `/dev/zero` never read into
//! memory) with one `error:` line and exit 2, or goes on without the planted
//! thing; nothing planted is replaced, written or turned into a store.
//!
//! `SKILLTRACE_ATTACK_BIN=/path/to/skilltrace` runs the commands with another
//! build (a release of `main` before this test: it waits on the pipes, reads
//! `/dev/zero` without end, and replaces a pipe or device with its export).
#![allow(clippy::unwrap_used)]

use crate::common;

use common::ok;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/claude-code/attack-skill-exfiltrates-aws.jsonl"
);

/// The binary under test ([`common::bin`], or `SKILLTRACE_ATTACK_BIN` with the same settings).
fn bin() -> Command {
    match std::env::var_os("SKILLTRACE_ATTACK_BIN") {
        Some(b) => {
            let mut c = Command::new(b);
            c.env(
                "SKILLTRACE_CONFIG",
                "/nonexistent/skilltrace-test-config.toml",
            );
            c.env("NO_COLOR", "1");
            c
        }
        None => common::bin(),
    }
}

/// Longest a refused command may take (a debug build on a busy CI runner);
/// the commands that waited on a pipe never ended.
const BOUND: Duration = Duration::from_secs(30);

/// Runs `cmd` with no stdin; kills it and fails past [`BOUND`].
fn bounded(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{cmd:?} still running after {BOUND:?} (waiting on a pipe or reading a device?): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Asserts `out` is one `error:` line and exit 2, holding `why`.
fn refused(what: &str, out: &Output, why: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: not one line: {err:?}");
    assert!(err.starts_with("error: "), "{what}: {err}");
    assert!(err.contains(why), "{what}: {err}");
}

fn mkfifo(p: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        p,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

fn is_fifo(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_fifo())
}

/// A character device like `/dev/null` (1, 3) made inside the test's folder,
/// where the process may (root); `None` elsewhere.
fn char_device(p: &Path) -> Option<()> {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        p,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 3),
    )
    .ok()
}

#[test]
fn a_pipe_a_folder_or_a_device_given_as_store_config_registry_baseline_or_output_is_refused_in_bounded_time(
) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(bin().arg("import").arg(SAMPLE).arg("--db").arg(&db));
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let fifo_s = fifo.display().to_string();
    let folder_s = folder.display().to_string();
    let nowhere: Vec<String> = vec![fifo_s.clone(), folder_s.clone()];

    // The store itself.
    for p in &nowhere {
        for args in [&["runs"][..], &["import", SAMPLE], &["doctor"]] {
            let o = bounded(bin().args(args).arg("--db").arg(p));
            if args[0] == "doctor" {
                let text = String::from_utf8_lossy(&o.stdout);
                assert!(text.contains("not a regular file"), "doctor {p}: {text}");
                continue;
            }
            refused(&format!("{args:?} --db {p}"), &o, "not a regular file");
        }
    }

    // The config: a pipe that no one writes, a folder, endless /dev/zero.
    for c in [fifo_s.as_str(), folder_s.as_str(), "/dev/zero"] {
        for args in [&["import", SAMPLE][..], &["cost"]] {
            let o = bounded(
                bin()
                    .env("SKILLTRACE_CONFIG", c)
                    .args(args)
                    .arg("--db")
                    .arg(&db),
            );
            refused(&format!("config {c} / {args:?}"), &o, "cannot read config");
        }
    }

    // The guard's hook reads the config too: an agent waits on its answer.
    let event = br#"{"hook_event_name":"PreToolUse","session_id":"s","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    for c in [fifo_s.as_str(), folder_s.as_str()] {
        let mut child = bin()
            .env("SKILLTRACE_CONFIG", c)
            .args(["guard", "--agent", "claude-code", "--db"])
            .arg(&db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), event).unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > BOUND {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the guard's hook with config {c} never answered");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "config {c}: fail-open: {err}");
        assert!(
            err.lines()
                .any(|l| l.starts_with("warning: ") && l.contains("fail-open")),
            "config {c}: {err}"
        );
    }

    // A registry the config names, and a SARIF baseline.
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!("[registries]\nfiles = [{:?}]\n", fifo.display().to_string()),
    )
    .unwrap();
    let o = bounded(
        bin()
            .env("SKILLTRACE_CONFIG", &cfg)
            .args(["import", SAMPLE, "--db"])
            .arg(&db),
    );
    refused("a registry that is a pipe", &o, "not a regular file");
    for p in &nowhere {
        let out = dir.path().join("new.sarif");
        let o = bounded(
            bin()
                .args(["export", "--format", "sarif", "--baseline", p, "-o"])
                .arg(&out)
                .arg("--db")
                .arg(&db),
        );
        refused(&format!("--baseline {p}"), &o, "not a regular file");
    }

    // Export onto a pipe, a folder, a link to a pipe, a device: refused, and
    // each is left what it was (export replaces a file's name with its own).
    let link = dir.path().join("link-to-pipe");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let device = dir.path().join("null-device");
    let mut outputs = vec![fifo.clone(), folder.clone(), link.clone()];
    if char_device(&device).is_some() {
        outputs.push(device.clone());
    }
    for out in &outputs {
        for format in ["json", "sarif", "otlp"] {
            let o = bounded(
                bin()
                    .args(["export", "--format", format, "-o"])
                    .arg(out)
                    .arg("--db")
                    .arg(&db),
            );
            refused(
                &format!("export {format} -o {}", out.display()),
                &o,
                "not a regular file",
            );
        }
        let o = bounded(bin().args(["scan", SAMPLE, "--sarif"]).arg(out));
        refused(
            &format!("scan --sarif {}", out.display()),
            &o,
            "not a regular file",
        );
    }
    assert!(is_fifo(&fifo) && is_fifo(&link.canonicalize().unwrap()));
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(folder.is_dir() && std::fs::read_dir(&folder).unwrap().next().is_none());
    if outputs.contains(&device) {
        assert!(std::fs::symlink_metadata(&device)
            .unwrap()
            .file_type()
            .is_char_device());
    }
    let strays: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(strays.is_empty(), "temporary files left: {strays:?}");
}

#[test]
fn a_pipe_or_a_folder_planted_beside_the_store_is_refused_or_passed_over_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(bin().arg("import").arg(SAMPLE).arg("--db").arg(&db));
    let beside = |ext: &str| dir.path().join(format!("s.db{ext}"));
    let runs = || bounded(bin().arg("runs").arg("--db").arg(&db));
    let import = || bounded(bin().arg("import").arg(SAMPLE).arg("--db").arg(&db));

    // The key: a pipe would hang every command that opens the store.
    let key = beside(".key");
    std::fs::rename(&key, beside(".key.kept")).unwrap();
    mkfifo(&key);
    refused("a key that is a pipe", &runs(), "not a regular file");
    refused("a key that is a pipe", &import(), "not a regular file");
    assert!(is_fifo(&key), "the planted key was replaced");
    std::fs::remove_file(&key).unwrap();
    std::fs::rename(beside(".key.kept"), &key).unwrap();

    // `-wal` and `-shm` (the store is closed: neither is there).
    for ext in ["-wal", "-shm"] {
        let p = beside(ext);
        let _ = std::fs::remove_file(&p);
        mkfifo(&p);
        refused(&format!("{ext} a pipe"), &runs(), "not a regular file");
        std::fs::remove_file(&p).unwrap();
        std::fs::create_dir(&p).unwrap();
        refused(&format!("{ext} a folder"), &import(), "not a regular file");
        std::fs::remove_dir(&p).unwrap();
    }

    // The canary file detection reads at every import.
    let canaries = beside(".canaries");
    mkfifo(&canaries);
    refused("canaries a pipe", &import(), "not a regular file");
    std::fs::remove_file(&canaries).unwrap();

    // The spool: a file where its folder belongs, a pipe named like a spool
    // file inside it. Import goes on (its batches commit), doctor says what
    // it found, neither waits.
    let spool = beside(".spool");
    std::fs::write(&spool, b"not a folder").unwrap();
    let o = import();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(0) || (o.status.code() == Some(2) && err.lines().count() == 1),
        "a spool that is a file: {err}"
    );
    assert_eq!(std::fs::read(&spool).unwrap(), b"not a folder");
    std::fs::remove_file(&spool).unwrap();
    std::fs::create_dir(&spool).unwrap();
    rustix::fs::chmod(&spool, rustix::fs::Mode::from_raw_mode(0o700)).unwrap();
    mkfifo(&spool.join("0000000000-1-planted.spool"));
    let o = import();
    assert!(
        o.status.success(),
        "a pipe in the spool: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = bounded(bin().arg("doctor").arg("--db").arg(&db));
    assert!(!o.stdout.is_empty(), "doctor said nothing");
    assert!(is_fifo(&spool.join("0000000000-1-planted.spool")));
}

/// Spans in `db` whose id starts with `left` (those of the planted orphan).
fn left_spans(db: &Path) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(
        "SELECT count(*) FROM spans WHERE id LIKE 'left%'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_link_a_hard_link_or_a_device_in_or_as_the_spool_is_never_replayed_nor_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(bin().arg("import").arg(SAMPLE).arg("--db").arg(&db));
    let spool = dir.path().join("s.db.spool");
    let import = |n: usize| {
        let d = dir.path().join(format!("more{n}"));
        std::fs::create_dir(&d).unwrap();
        let f = d.join("t.jsonl");
        std::fs::copy(SAMPLE, &f).unwrap();
        bounded(bin().arg("import").arg(&f).arg("--db").arg(&db))
    };
    let doctor = || {
        let o = bounded(bin().arg("doctor").arg("--db").arg(&db));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };

    // The spool folder a link to another store's spool: its orphan is that
    // store's work, never replayed here nor removed there.
    let other = dir.path().join("other.db");
    let theirs = common::orphan_beside(&other);
    std::os::unix::fs::symlink(dir.path().join("other.db.spool"), &spool).unwrap();
    let o = import(1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "a linked spool folder: {err}");
    assert_eq!(left_spans(&db), 0, "replayed a linked folder's file: {err}");
    assert!(
        theirs.exists(),
        "removed a file through a linked spool folder"
    );
    assert!(err.contains("symbolic link"), "not said: {err}");
    let d = doctor();
    assert!(
        d.contains("FIX   spool") && d.contains("symbolic link"),
        "{d}"
    );
    std::fs::remove_file(&spool).unwrap();

    // A hard link to that file (a file of the user's, linked in) planted in
    // a real spool folder, beside a device where root can make one.
    std::fs::create_dir(&spool).unwrap();
    rustix::fs::chmod(&spool, rustix::fs::Mode::from_raw_mode(0o700)).unwrap();
    let linked = spool.join("0000000000-1-linked.spool");
    std::fs::hard_link(&theirs, &linked).unwrap();
    let device = spool.join("0000000000-2-device.spool");
    let has_device = char_device(&device).is_some();
    let o = import(2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "a hard link in the spool: {err}");
    assert_eq!(left_spans(&db), 0, "replayed a hard-linked file: {err}");
    assert!(linked.exists() && theirs.exists(), "removed a hard link");
    assert!(err.contains("hard links"), "not said: {err}");
    let d = doctor();
    assert!(d.contains("FIX   spool") && d.contains("hard links"), "{d}");
    if has_device {
        assert!(std::fs::symlink_metadata(&device)
            .unwrap()
            .file_type()
            .is_char_device());
        std::fs::remove_file(&device).unwrap();
    }

    // The control: the same file, moved in alone (one link), is replayed.
    std::fs::remove_file(&linked).unwrap();
    std::fs::rename(&theirs, &linked).unwrap();
    let o = import(3);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(left_spans(&db), 3, "the control orphan was not replayed");
    assert!(!linked.exists());
}
