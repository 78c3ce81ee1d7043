//! Asking a running proxy how its recording goes: a blocking `GET /health`
//! (for `skilltrace doctor`) and what its answer means, as doctor lines.

use std::io::{Read, Write};
use std::time::Duration;

/// How long doctor waits for a proxy's answer.
const WAIT: Duration = Duration::from_secs(2);
/// The largest answer read.
const MAX_ANSWER: u64 = 64 << 10;

/// The counters of the proxy listening on `addr` (`host:port`), or why not.
pub fn fetch(addr: &str) -> Result<serde_json::Value, String> {
    use std::net::ToSocketAddrs;
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| format!("{addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr}: no address"))?;
    let mut s = std::net::TcpStream::connect_timeout(&sock, WAIT).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(WAIT)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(WAIT)).map_err(|e| e.to_string())?;
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
        super::server::HEALTH_PATH
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    s.take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("not an HTTP answer")?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!(
            "answered {status} (not a skilltrace proxy, or it wants its --token)"
        ));
    }
    let v: serde_json::Value =
        serde_json::from_str(body.trim()).map_err(|_| "not a skilltrace proxy's answer")?;
    if v.get("recorded").is_none() {
        return Err("not a skilltrace proxy's answer".into());
    }
    Ok(v)
}

/// One doctor line: `ok`, `info` or `FIX`, and what it says.
pub type Line = (&'static str, String);

/// What a proxy's counters say: recorded, spilled, dropped, the queue.
pub fn lines(v: &serde_json::Value) -> Vec<Line> {
    let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let mut out = Vec::new();
    let queue = format!(
        "{} exchanges ({} KB) wait for the store",
        n("queued"),
        n("queued_bytes").div_ceil(1024)
    );
    out.push((
        "ok",
        format!(
            "{} requests, {} exchanges recorded; {queue}",
            n("requests"),
            n("recorded")
        ),
    ));
    if v.get("spilling").and_then(serde_json::Value::as_bool) == Some(true) {
        out.push((
            "info",
            format!(
                "spilling now: the store is slower than exchanges arrive; {} KB of redacted recordings in the spool so far (stored once it catches up)",
                n("spill_bytes").div_ceil(1024)
            ),
        ));
    }
    if n("spilled") > 0 {
        out.push((
            "info",
            format!(
                "{} exchanges were spilled to the spool ({} time(s)) while the store was slow",
                n("spilled"),
                n("spills")
            ),
        ));
    }
    if n("dropped") > 0 {
        out.push((
            "FIX",
            format!(
                "{} exchanges' recordings were dropped (memory and spool full, or the writer stopped): raise [limits] proxy_queue_bytes or [store] spool_max_mb, or find what holds the store",
                n("dropped")
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counters_become_lines_and_drops_need_fixing() {
        let calm = serde_json::json!({"requests": 5, "recorded": 5, "dropped": 0, "queued": 0, "queued_bytes": 0});
        let l = lines(&calm);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].0, "ok");
        assert!(l[0].1.contains("5 exchanges recorded"), "{l:?}");
        let bad = serde_json::json!({"requests": 9, "recorded": 7, "dropped": 2, "spilled": 3, "spills": 1, "spilling": true, "spill_bytes": 2048});
        let l = lines(&bad);
        let levels: Vec<&str> = l.iter().map(|x| x.0).collect();
        assert_eq!(levels, ["ok", "info", "info", "FIX"], "{l:?}");
        assert!(l[2].1.contains("3 exchanges were spilled"), "{l:?}");
        assert!(l[3].1.contains("2 exchanges"), "{l:?}");
    }

    #[test]
    fn a_closed_port_is_an_error_not_a_panic() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        assert!(fetch(&addr).is_err());
    }
}
