//! Issue 20: the forwarding thread's poll window (`[proxy] poll_us`, off by
//! default, no `poll` in `/health` then): when set, the real proxy polls after
//! traffic (its `/health` counts the windows and the time) and stops polling
//! when idle; a bad setting is one line and exit 2.
#![allow(clippy::unwrap_used)]

use crate::writers_support;
use std::path::Path;
use std::time::Duration;

fn proxy_cmd(config: Option<&Path>, up: &str, db: &Path) -> std::process::Command {
    let mut cmd = writers_support::bin_with(config);
    cmd.args(["proxy", "--listen", "127.0.0.1:0", "--openai-upstream"])
        .arg(format!("http://{up}"))
        .arg("--db")
        .arg(db);
    cmd
}

fn chat(addr: &str, n: usize) {
    for i in 0..n {
        let (code, _) = writers_support::http(
            addr,
            "/v1/chat/completions",
            &[("Content-Type", "application/json")],
            writers_support::chat_body(i).as_bytes(),
        );
        assert_eq!(code, 200);
    }
}

fn polled_us(h: &serde_json::Value) -> u64 {
    h["poll"]["polled_us"].as_u64().unwrap()
}

#[test]
fn polls_after_traffic_and_not_while_idle() {
    let (up, seen) = writers_support::upstream();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[proxy]\npoll_us = 2000\n").unwrap();
    let server = writers_support::start(proxy_cmd(Some(&cfg), &up, &dir.path().join("p.db")));
    chat(&server.addr, 20);
    let h = skilltrace::proxy::health::fetch(&server.addr).unwrap();
    let p = &h["poll"];
    assert_eq!(p["max_us"], 2000, "{h}");
    assert!(p["windows"].as_u64().unwrap() >= 1, "{h}");
    assert!(polled_us(&h) > 0, "{h}");
    // Idle for 1.5 s: only the two /health requests wake it, each opening a
    // window of at most 2 ms, so at most a few ms of polling, not 1.5 s.
    std::thread::sleep(Duration::from_millis(1500));
    let idle = skilltrace::proxy::health::fetch(&server.addr).unwrap();
    let grew = polled_us(&idle) - polled_us(&h);
    assert!(grew < 20_000, "polled {grew} µs while idle: {idle}");
    let (status, lines) = server.stop();
    assert_eq!(status, Some(0), "{lines:?}");
    assert_eq!(*seen.lock().unwrap(), 20);
}

#[test]
fn off_by_default_and_on_when_set() {
    let (up, _seen) = writers_support::upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = writers_support::start(proxy_cmd(None, &up, &dir.path().join("a.db")));
    chat(&server.addr, 2);
    let h = skilltrace::proxy::health::fetch(&server.addr).unwrap();
    assert_eq!(h["requests"], 2, "{h}");
    assert!(h.get("poll").is_none(), "{h}");
    assert_eq!(server.stop().0, Some(0));

    let cfg = dir.path().join("on.toml");
    std::fs::write(&cfg, "[proxy]\npoll_us = 200\n").unwrap();
    let server = writers_support::start(proxy_cmd(Some(&cfg), &up, &dir.path().join("b.db")));
    chat(&server.addr, 2);
    let h = skilltrace::proxy::health::fetch(&server.addr).unwrap();
    assert_eq!(h["poll"]["max_us"], 200, "{h}");
    assert_eq!(server.stop().0, Some(0));
}

#[test]
fn a_bad_poll_setting_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (text, why) in [
        ("[proxy]\npoll_us = 20000\n", "poll_us"),
        ("[proxy]\npoll_us = -1\n", "[proxy]"),
        ("[proxy]\npol_us = 5\n", "pol_us"),
    ] {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, text).unwrap();
        let out = proxy_cmd(Some(&cfg), "127.0.0.1:9", &dir.path().join("c.db"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert_eq!(err.lines().count(), 1, "{text}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(why),
            "{text}: {err}"
        );
        assert!(!dir.path().join("c.db").exists(), "{text}: no store opened");
    }
}
