//! Issue 20: the real `skilltrace proxy` runs its recorder and store writer
//! threads under `SCHED_IDLE` (Linux), so a thread that forwards a response
//! takes the core from them at once; the forwarding threads keep the normal
//! policy. Read from `/proc/<pid>/task/*/stat` while the proxy serves.
#![allow(clippy::unwrap_used)]

use crate::writers_support;
use std::time::{Duration, Instant};

/// (thread name, scheduling policy) of each thread of `pid`.
fn threads(pid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let dir = t.unwrap().path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let (head, rest) = stat.rsplit_once(')').unwrap();
        let name = head.split_once('(').unwrap().1.to_string();
        let policy = rest.split_whitespace().nth(38).unwrap().parse().unwrap();
        out.push((name, policy));
    }
    out
}

#[test]
fn recorder_and_writer_run_idle_and_forwarding_threads_do_not() {
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
    // The recorder lowers itself as it starts: wait for it, briefly.
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let seen = threads(server.child.id());
        let lowered = |name: &str| seen.iter().any(|(n, p)| n == name && *p == 5);
        if (lowered("skilltrace-rec") && lowered("skilltrace-writ")) || Instant::now() > deadline {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let policy_of = |prefix: &str| -> Vec<i64> {
        seen.iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(_, p)| *p)
            .collect()
    };
    // SCHED_IDLE is policy 5, SCHED_OTHER 0.
    assert_eq!(policy_of("skilltrace-rec"), vec![5], "{seen:?}");
    assert_eq!(policy_of("skilltrace-writ"), vec![5], "{seen:?}");
    let io = policy_of("skilltrace-prox");
    assert!(!io.is_empty() && io.iter().all(|p| *p == 0), "{seen:?}");
    let (status, lines) = server.stop();
    assert_eq!(status, Some(0), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("1 exchanges recorded")),
        "{lines:?}"
    );
}
