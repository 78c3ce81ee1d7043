//! Issue 20: started with `SKILLTRACE_PROXY_PHASES=1`, the real proxy times
//! each exchange's phases (request read, upstream answer head, body, total) and
//! counts the upstream connections it used, on `GET /health` (what
//! `scripts/bench_proxy.sh` prints per point with `BENCH_PHASES=1`); without
//! it `/health` carries no `phases` and nothing is measured.
#![allow(clippy::unwrap_used)]

use crate::writers_support;

/// `n` chat requests through a proxy (phases on or off); its `/health` after them.
fn health_after(phases: bool, n: usize) -> serde_json::Value {
    let (up, seen) = writers_support::upstream();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = writers_support::bin_with(None);
    cmd.args(["proxy", "--listen", "127.0.0.1:0", "--openai-upstream"])
        .arg(format!("http://{up}"))
        .arg("--db")
        .arg(dir.path().join("p.db"));
    if phases {
        cmd.env("SKILLTRACE_PROXY_PHASES", "1");
    } else {
        cmd.env_remove("SKILLTRACE_PROXY_PHASES");
    }
    let server = writers_support::start(cmd);
    for i in 0..n {
        let (code, _) = writers_support::http(
            &server.addr,
            "/v1/chat/completions",
            &[("Content-Type", "application/json")],
            writers_support::chat_body(i).as_bytes(),
        );
        assert_eq!(code, 200);
    }
    let health = skilltrace::proxy::health::fetch(&server.addr).unwrap();
    let (status, lines) = server.stop();
    assert_eq!(status, Some(0), "{lines:?}");
    assert_eq!(*seen.lock().unwrap(), n as u64);
    health
}

#[test]
fn phases_are_timed_for_every_exchange_only_when_asked() {
    let n = 12;
    let h = health_after(true, n);
    let p = &h["phases"];
    for phase in ["read", "upstream", "body", "total"] {
        let ph = &p[phase];
        assert_eq!(ph["n"], n as u64, "{phase}: {p}");
        let counted: u64 = ph["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[1].as_u64().unwrap())
            .sum();
        assert_eq!(counted, n as u64, "{phase}: {p}");
        let (p50, p99, max) = (
            ph["p50_us"].as_u64().unwrap(),
            ph["p99_us"].as_u64().unwrap(),
            ph["max_us"].as_u64().unwrap(),
        );
        assert!(p50 <= p99 && p99 <= max, "{phase}: {p}");
    }
    // The total of an exchange holds its upstream wait.
    assert!(
        p["total"]["max_us"].as_u64() >= p["upstream"]["p50_us"].as_u64(),
        "{p}"
    );
    let conns = p["upstream_conns"].as_u64().unwrap();
    assert!((1..=n as u64).contains(&conns), "{p}");

    let off = health_after(false, 2);
    assert_eq!(off["requests"], 2);
    assert!(off.get("phases").is_none(), "{off}");
}
