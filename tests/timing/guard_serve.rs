//! `skilltrace guard serve` against a store it cannot write: answers do not
//! wait for the store (each within the decision budget, the deny still
//! denied), and every record judged while the store was held arrives once it
//! is free (spooled, then drained by the writer's next successful write).
#![allow(clippy::unwrap_used)]

use crate::common;

use common::bin;
use serde_json::{json, Value};
use skilltrace::guard::client;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn event(i: usize, command: &str) -> Value {
    json!({
        "session_id": "slow-store",
        "transcript_path": "/home/dev/.claude/projects/p/slow-store.jsonl",
        "cwd": "/home/dev/project",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "tool_use_id": format!("toolu_slow_{i}"),
    })
}

/// The decision the answer carries: "allow" (an empty answer) or Claude Code's `permissionDecision`.
fn post(url: &client::Url, ev: &Value) -> String {
    let (code, body) = client::request(
        "POST",
        url,
        ev.to_string().as_bytes(),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(code, 200);
    if body.is_empty() {
        return "allow".into();
    }
    let v: Value = serde_json::from_slice(&body).unwrap();
    v["hookSpecificOutput"]["permissionDecision"]
        .as_str()
        .unwrap_or("allow")
        .to_string()
}

fn spans(db: &std::path::Path) -> u64 {
    skilltrace::store::Store::open_read(db)
        .and_then(|s| s.counts())
        .map(|c| c.spans)
        .unwrap_or(0)
}

fn wait_for_spans(db: &std::path::Path, n: u64) -> u64 {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let k = spans(db);
        if k >= n || Instant::now() > until {
            return k;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_locked_store_does_not_slow_serve_answers_and_every_record_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut child = bin()
        .args(["guard", "serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = common::banner_addr(&mut child);
    let mut srv = Server(child);
    let url = client::parse_url(&format!("http://{addr}/guard/claude-code")).unwrap();
    assert_eq!(post(&url, &event(0, "git status")), "allow");
    assert_eq!(wait_for_spans(&db, 1), 1, "the first record is stored");

    // Another writer holds the store for well over the writer's busy wait.
    let mut blocker = rusqlite::Connection::open(&db).unwrap();
    let tx = blocker
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let held = Instant::now();
    let mut slowest = Duration::ZERO;
    let n = 12;
    for i in 1..=n {
        let (cmd, want) = if i == n / 2 {
            ("rm -rf ~/.claude/settings.json", "deny")
        } else {
            ("cargo test --lib", "allow")
        };
        let t = Instant::now();
        assert_eq!(post(&url, &event(i, cmd)), want, "{cmd}");
        slowest = slowest.max(t.elapsed());
        // spread over the time the store is held: the writer meets it locked
        std::thread::sleep(Duration::from_millis(100));
    }
    // Answers are not held by the store (default budget: 1 s, and the
    // writer waits 250 ms per try on a locked store).
    assert!(slowest < Duration::from_millis(900), "{slowest:?}");
    assert!(held.elapsed() > Duration::from_millis(1000));
    assert_eq!(spans(&db), 1, "nothing could be written while held");
    tx.rollback().unwrap();
    drop(blocker);

    // The next write drains what was spooled; stopping lets the writer finish.
    assert_eq!(post(&url, &event(n + 1, "git status")), "allow");
    std::thread::sleep(Duration::from_millis(200));
    #[cfg(unix)]
    {
        let pid = srv.0.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        srv.0.wait().unwrap();
    }
    let want = n as u64 + 2;
    assert_eq!(wait_for_spans(&db, want), want, "every judged call stored");
    let denied: Vec<String> = common::findings_json(&db)
        .iter()
        .filter(|f| f["guard"] == "denied")
        .filter_map(|f| f["rule_id"].as_str().map(str::to_string))
        .collect();
    assert!(denied.iter().any(|r| r == "GRD-TRACE-001"), "{denied:?}");
}
