//! The tailer end to end: appends, partial lines, rotation, truncation,
//! deletion and re-creation, folders that appear later, latency, and a
//! kill -9 and restart of the real binary with no line lost or stored twice.
//! Each scenario runs twice: driven by filesystem events alone (the fallback
//! poll pushed out of reach), and by the fallback poll alone (no events, as on
//! a filesystem that raises none). And an idle `tail` sleeps: under 2% of a
//! core over 10 s, on an empty folder and on one with a file in it.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::append;
use skilltrace::ingest::pipeline::spawn_writer;
use skilltrace::ingest::tail::{follow, StopFlag, TailOptions};
use skilltrace::model::{Origin, Span, SpanKind};
use skilltrace::store::Store;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn line(run: &str, id: &str) -> String {
    let mut s = Span::new(id, run, SpanKind::Event, "e", Origin::new("x", 1));
    s.text = Some(format!("hello {id}"));
    s.start_ms = Some(1_700_000_000_000);
    common::native_line(&s)
}

struct Running {
    stop: StopFlag,
    thread: Option<std::thread::JoinHandle<()>>,
    db: PathBuf,
}

/// What drives the tailer in a scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Drive {
    /// Filesystem events only: the fallback poll comes after the test is over.
    Events,
    /// The fallback poll only (every 100 ms), no events.
    Poll,
}

impl Running {
    fn start(paths: Vec<PathBuf>, db: &Path, drive: Drive) -> Running {
        let pipeline = skilltrace::commands::open_pipeline(db).unwrap();
        let stop = StopFlag::default();
        let s2 = stop.clone();
        let db2 = db.to_path_buf();
        let thread = std::thread::spawn(move || {
            let (tx, writer) = spawn_writer(pipeline);
            let opts = match drive {
                Drive::Events => TailOptions {
                    rescan: Duration::from_secs(600),
                    ..Default::default()
                },
                Drive::Poll => TailOptions {
                    rescan: Duration::from_millis(100),
                    events: false,
                    ..Default::default()
                },
            };
            follow(&paths, &db2, opts, tx, &s2).unwrap();
            writer.join().unwrap();
        });
        Running {
            stop,
            thread: Some(thread),
            db: db.to_path_buf(),
        }
    }

    fn has(&self, run: &str, id: &str) -> bool {
        Store::open_read(&self.db)
            .ok()
            .and_then(|s| s.span(run, id).ok().flatten())
            .is_some()
    }

    /// Waits up to `limit` for a span; returns how long it took.
    fn wait_for(&self, run: &str, id: &str, limit: Duration) -> Option<Duration> {
        let t = Instant::now();
        while t.elapsed() < limit {
            if self.has(run, id) {
                return Some(t.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }

    fn count(&self, run: &str) -> u64 {
        Store::open_read(&self.db).unwrap().span_count(run).unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn follows_appends_partial_lines_and_is_fast() {
    follows_appends_and_partial_lines(Drive::Events);
}

#[test]
fn the_fallback_poll_alone_follows_appends_and_partial_lines() {
    follows_appends_and_partial_lines(Drive::Poll);
}

fn follows_appends_and_partial_lines(drive: Drive) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("traces");
    std::fs::create_dir(&dir).unwrap();
    let f = dir.join("a.jsonl");
    append(&f, &line("r", "s1"));
    let db = t.path().join("st.db");
    let r = Running::start(vec![dir.clone()], &db, drive);
    assert!(
        r.wait_for("r", "s1", WAIT).is_some(),
        "existing line ingested"
    );
    // A partial line is held until its newline arrives.
    let l2 = line("r", "s2");
    let (a, b) = l2.split_at(40);
    append(&f, a);
    std::thread::sleep(Duration::from_millis(400));
    assert!(!r.has("r", "s2"), "partial line must not be parsed");
    append(&f, b);
    assert!(r.wait_for("r", "s2", WAIT).is_some());
    // Latency from write to committed row: the median of several samples (one slow
    // sample on a loaded CI machine is noise; a slow median is a regression).
    let mut samples = Vec::new();
    for i in 0..7 {
        let id = format!("lat{i}");
        let start = Instant::now();
        append(&f, &line("r", &id));
        r.wait_for("r", &id, WAIT).expect("latency sample stored");
        samples.push(start.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    eprintln!("tail latency ({drive:?}): median {median:?}, all {samples:?}");
    // The 100 ms goal is the event path's; polling every 100 ms cannot promise it.
    if drive == Drive::Events {
        assert!(
            median < Duration::from_millis(100),
            "write-to-commit latency {samples:?}"
        );
    }
    // A new file in the watched folder.
    append(&dir.join("b.jsonl"), &line("r2", "n1"));
    assert!(r.wait_for("r2", "n1", WAIT).is_some());
    assert_eq!(r.count("r"), 9);
}

#[test]
fn survives_rotation_truncation_deletion_and_late_folders() {
    rotation_truncation_deletion_and_late_folders(Drive::Events);
}

#[test]
fn the_fallback_poll_alone_survives_rotation_truncation_deletion_and_late_folders() {
    rotation_truncation_deletion_and_late_folders(Drive::Poll);
}

fn rotation_truncation_deletion_and_late_folders(drive: Drive) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("traces");
    std::fs::create_dir(&dir).unwrap();
    let f = dir.join("a.jsonl");
    append(&f, &line("r", "a1"));
    let late = t.path().join("late");
    let db = t.path().join("st.db");
    let r = Running::start(vec![dir.clone(), late.clone()], &db, drive);
    assert!(r.wait_for("r", "a1", WAIT).is_some());

    // Rotation: rename, then create anew at the same path.
    std::fs::rename(&f, dir.join("a.jsonl.1")).unwrap();
    append(&f, &line("r", "a2"));
    assert!(
        r.wait_for("r", "a2", WAIT).is_some(),
        "line in the re-created file after rotation"
    );

    // copytruncate: the file shrinks in place.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&f)
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    append(&f, &line("r", "a3"));
    assert!(
        r.wait_for("r", "a3", WAIT).is_some(),
        "line after truncation"
    );

    // Deletion and re-creation.
    std::fs::remove_file(&f).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    append(&f, &line("r", "a4"));
    assert!(
        r.wait_for("r", "a4", WAIT).is_some(),
        "line after delete + re-create"
    );

    // A folder that did not exist at start.
    std::fs::create_dir_all(late.join("deep")).unwrap();
    append(&late.join("deep/x.jsonl"), &line("r3", "l1"));
    assert!(
        r.wait_for("r3", "l1", WAIT).is_some(),
        "file in a folder created after start"
    );
    assert_eq!(r.count("r"), 4);
}

#[test]
fn kill_and_restart_loses_nothing_and_stores_nothing_twice() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("traces");
    std::fs::create_dir(&dir).unwrap();
    let f = dir.join("s.jsonl");
    let db = t.path().join("st.db");
    let exe = env!("CARGO_BIN_EXE_skilltrace");
    let spawn = || {
        std::process::Command::new(exe)
            .args(["tail", dir.to_str().unwrap(), "--db", db.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut n = 0;
    for round in 0..3 {
        let mut child = spawn();
        for _ in 0..40 {
            append(&f, &line("k", &format!("k{n}")));
            n += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(if round == 2 { 800 } else { 150 }));
        child.kill().unwrap(); // SIGKILL: no clean shutdown
        child.wait().unwrap();
        // Lines written while nothing is running must be picked up by the next start.
        for _ in 0..10 {
            append(&f, &line("k", &format!("k{n}")));
            n += 1;
        }
    }
    let mut child = spawn();
    let deadline = Instant::now() + WAIT;
    let count = |db: &Path| {
        Store::open_read(db)
            .ok()
            .and_then(|s| s.span_count("k").ok())
            .unwrap_or(0)
    };
    while count(&db) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let s = Store::open_read(&db).unwrap();
    assert_eq!(
        s.span_count("k").unwrap(),
        n,
        "every line stored exactly once"
    );
    let src = s.source(f.to_str().unwrap()).unwrap().unwrap();
    assert_eq!(src.offset, std::fs::metadata(&f).unwrap().len());
    assert_eq!(src.line, n);
    let run = s.run("k").unwrap().unwrap();
    assert_eq!(run.span_count, n, "run counters count each span once");
}

/// CPU seconds (user + system) the process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    ticks / hz
}

#[test]
fn an_idle_tail_sleeps() {
    let t = tempfile::tempdir().unwrap();
    let empty = t.path().join("empty");
    let one = t.path().join("one");
    std::fs::create_dir(&empty).unwrap();
    std::fs::create_dir(&one).unwrap();
    append(&one.join("a.jsonl"), &line("r", "s1"));
    let exe = env!("CARGO_BIN_EXE_skilltrace");
    let spawn = |dir: &Path, db: &str| {
        std::process::Command::new(exe)
            .arg("tail")
            .arg(dir)
            .arg("--db")
            .arg(t.path().join(db))
            .env(
                "SKILLTRACE_CONFIG",
                "/nonexistent/skilltrace-test-config.toml",
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut children = [spawn(&empty, "e.db"), spawn(&one, "o.db")];
    // Past start-up (rules compiled, the file read and stored), then 10 s of nothing.
    std::thread::sleep(Duration::from_secs(3));
    let before: Vec<f64> = children.iter().map(|c| cpu_seconds(c.id())).collect();
    let window = Duration::from_secs(10);
    std::thread::sleep(window);
    let used: Vec<f64> = children
        .iter()
        .zip(&before)
        .map(|(c, b)| (cpu_seconds(c.id()) - b) / window.as_secs_f64())
        .collect();
    for c in &mut children {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    eprintln!(
        "idle tail: {:.2}% of a core (empty folder), {:.2}% (one file)",
        used[0] * 100.0,
        used[1] * 100.0
    );
    assert!(
        used[0] < 0.02,
        "empty folder: {:.2}% of a core",
        used[0] * 100.0
    );
    assert!(
        used[1] < 0.02,
        "one file: {:.2}% of a core",
        used[1] * 100.0
    );
}
