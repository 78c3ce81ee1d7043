//! Issue 20: the real `skilltrace proxy` runs its recorder and store writer
//! threads niced (Linux), never under `SCHED_IDLE`: an idle-policy thread gets
//! almost no CPU while the machine is busy, so recordings (and a full disk's
//! notice) would wait for the machine to calm down. The forwarding thread (the
//! main one) keeps the normal nice value. Read from `/proc/<pid>/task/*/stat` while the proxy
//! serves.
#![allow(clippy::unwrap_used)]

use crate::writers_support;
use std::time::{Duration, Instant};

/// (thread name, scheduling policy, nice) of each thread of `pid`.
fn threads(pid: u32) -> Vec<(String, i64, i64)> {
    let mut out = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let dir = t.unwrap().path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let (head, rest) = stat.rsplit_once(')').unwrap();
        let name = head.split_once('(').unwrap().1.to_string();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let policy = fields[38].parse().unwrap();
        let nice = fields[16].parse().unwrap();
        out.push((name, policy, nice));
    }
    out
}

#[test]
fn recorder_and_writer_are_niced_and_forwarding_threads_are_not() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (up, _) = writers_support::upstream();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let mut cmd = writers_support::bin_with(None);
    cmd.args(["proxy", "--listen", "127.0.0.1:0", "--openai-upstream"])
        .arg(format!("http://{up}"))
        .arg("--db")
        .arg(&db);
    let server = writers_support::start(cmd);
    let (code, _) = writers_support::http(
        &server.addr,
        "/v1/chat/completions",
        &[("Content-Type", "application/json")],
        writers_support::chat_body(1).as_bytes(),
    );
    assert_eq!(code, 200);
    // The proxy inherits this test's nice value (`nice cargo test` runs
    // everything at 10): "not niced" means at that value, "niced" below it.
    let base = threads(std::process::id())
        .iter()
        .map(|(_, _, nice)| *nice)
        .min()
        .unwrap();
    // The recorder lowers itself as it starts: wait for it, briefly.
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let seen = threads(server.child.id());
        let niced = |name: &str| seen.iter().any(|(n, _, nice)| n == name && *nice > base);
        if (niced("skilltrace-rec") && niced("skilltrace-writ")) || Instant::now() > deadline {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let of = |prefix: &str| -> Vec<(i64, i64)> {
        seen.iter()
            .filter(|(n, _, _)| n.starts_with(prefix))
            .map(|(_, p, nice)| (*p, *nice))
            .collect()
    };
    // SCHED_OTHER is policy 0 (SCHED_IDLE would be 5).
    for name in ["skilltrace-rec", "skilltrace-writ"] {
        let t = of(name);
        assert!(
            t.len() == 1 && t[0].0 == 0 && (t[0].1 > base || base >= 11),
            "{name}: {seen:?}"
        );
    }
    // Forwarding runs on the main thread (a current-thread runtime), named
    // after the binary; any other thread (a blocking-pool helper) is not niced either.
    let io: Vec<(i64, i64)> = seen
        .iter()
        .filter(|(n, _, _)| !n.starts_with("skilltrace-rec") && !n.starts_with("skilltrace-writ"))
        .map(|(_, p, nice)| (*p, *nice))
        .collect();
    assert!(
        seen.iter().any(|(n, _, _)| n == "skilltrace")
            && io.iter().all(|(p, nice)| *p == 0 && *nice == base),
        "{seen:?}"
    );
    let (status, lines) = server.stop();
    assert_eq!(status, Some(0), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("1 exchanges recorded")),
        "{lines:?}"
    );
}
