//! Latency of the guard, each figure beside a baseline taken in the same run
//! (`scripts/bench_guard.sh` builds and drives it; BENCHMARKS.md has figures).
//!
//! `guard_bench command BIN DB N`: the command hook's wall time per decision,
//! `BIN guard --agent claude-code --db DB` spawned N times with a realistic
//! PreToolUse event on stdin, against `true` spawned the same way (same event
//! written to its stdin), alternating, one at a time. Also: the first ten
//! events apart from the rest (a warm judge starts during the first), the
//! slowest events' indexes, and the CPU of the guard's background processes
//! for DB (warm judge, drainers) per decision beside the hook's own.
//!
//! `guard_bench http ADDR SESSIONS N`: what `guard serve` at ADDR adds to a
//! request under SESSIONS concurrent sessions: each session (a thread with a
//! keep-alive connection) sends N PreToolUse/PostToolUse events of its own,
//! each followed by `GET /health` on the same connection (same server, same
//! connection handling, no judging): the baseline. The first and the last
//! fifth of every session's decisions are summarised apart too: start-up work
//! that warming missed lands in the first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Tool calls an agent makes in ordinary work, cycled through.
const CALLS: &[(&str, &str)] = &[
    (
        "Bash",
        r#"{"command":"cargo test --lib","description":"Run the tests"}"#,
    ),
    ("Read", r#"{"file_path":"/home/dev/project/src/main.rs"}"#),
    ("Bash", r#"{"command":"git status --short"}"#),
    (
        "Edit",
        r#"{"file_path":"/home/dev/project/src/lib.rs","old_string":"a","new_string":"b"}"#,
    ),
    (
        "Bash",
        r#"{"command":"curl -sS https://pypi.org/simple/requests/"}"#,
    ),
    (
        "Grep",
        r#"{"pattern":"fn main","path":"/home/dev/project"}"#,
    ),
];

fn event(session: &str, i: usize, post: bool) -> String {
    let (tool, input) = CALLS[i % CALLS.len()];
    let mut v = format!(
        r#"{{"session_id":"{session}","transcript_path":"/home/dev/.claude/projects/p/{session}.jsonl","cwd":"/home/dev/project","permission_mode":"default","hook_event_name":"{}","tool_name":"{tool}","tool_input":{input},"tool_use_id":"toolu_{i}""#,
        if post { "PostToolUse" } else { "PreToolUse" }
    );
    if post {
        v.push_str(r#","tool_response":{"stdout":"test result: ok. 42 passed","stderr":"","interrupted":false}"#);
    }
    v.push('}');
    v
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn summary(name: &str, v: &mut [f64]) -> [f64; 4] {
    let s = [pct(v, 0.5), pct(v, 0.9), pct(v, 0.99), pct(v, 1.0)];
    println!(
        "{name:<28} n={:<5} p50 {:>8.3} ms  p90 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        v.len(),
        s[0],
        s[1],
        s[2],
        s[3]
    );
    s
}

fn spawn_ms(cmd: &mut Command, stdin: &[u8]) -> f64 {
    let t = Instant::now();
    let mut c = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    if let Some(mut i) = c.stdin.take() {
        // `true` may exit before reading: a broken pipe is fine.
        let _ = i.write_all(stdin);
    }
    let _ = c.wait();
    t.elapsed().as_secs_f64() * 1000.0
}

/// CPU seconds (user + system) of this process's waited-for children so far,
/// from `/proc/self/stat` (Linux; 0 elsewhere). Independent of how busy the
/// machine is, unlike wall time.
fn children_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the `(comm)`; cutime and cstime are fields 16 and 17.
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // clock ticks of 1/100 s on Linux
    (tick(13) + tick(14)) / 100.0
}

/// CPU milliseconds (user + system) of process `pid` so far, from
/// `/proc/<pid>/stat` (Linux; `None` once it is gone).
fn proc_cpu_ms(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    Some((t(11)? + t(12)?) * 10.0)
}

/// The guard's background processes for store `db` (its warm judge, its
/// drainers): pid and CPU ms so far, from `/proc/*/cmdline`.
fn background(db: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|&b| b == 0).collect();
        let ours = args
            .iter()
            .any(|a| *a == b"--warm-judge" || *a == b"--drain")
            && args.contains(&db.as_bytes());
        if let Some(ms) = ours.then(|| proc_cpu_ms(&pid)).flatten() {
            out.push((pid, ms));
        }
    }
    out
}

/// Events counted as the start (a warm judge starts during them).
const STEADY: usize = 10;

fn command(bin: &str, db: &str, n: usize, label: &str) {
    let mut guard = Vec::with_capacity(n);
    let mut base = Vec::with_capacity(n);
    // One warm-up each (page cache, the store and key created). With a warm
    // judge, the first events are judged in the hook while the judge starts:
    // they are the "first 10" below.
    let e0 = event("bench-warm", 0, false);
    spawn_ms(
        Command::new(bin).args(["guard", "--agent", "claude-code", "--db", db]),
        e0.as_bytes(),
    );
    spawn_ms(&mut Command::new("true"), e0.as_bytes());
    let (mut guard_cpu, mut base_cpu) = (0.0, 0.0);
    // The background processes' CPU: the last figure seen of each pid.
    let mut bg: std::collections::HashMap<String, (f64, f64)> = background(db)
        .into_iter()
        .map(|(p, ms)| (p, (ms, ms)))
        .collect();
    // Each kind apart too: a PreToolUse is the decision the agent waits for,
    // a PostToolUse records the result (its scan keeps the session's chains).
    let (mut pre, mut post) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut steady_from = 0.0;
    for i in 0..n {
        let is_post = i % 2 == 1;
        let e = event("bench-command", i, is_post);
        let c0 = children_cpu_s();
        let ms = spawn_ms(
            Command::new(bin).args(["guard", "--agent", "claude-code", "--db", db]),
            e.as_bytes(),
        );
        guard.push(ms);
        if is_post {
            post.push(ms)
        } else {
            pre.push(ms)
        }
        let c1 = children_cpu_s();
        base.push(spawn_ms(&mut Command::new("true"), e.as_bytes()));
        guard_cpu += c1 - c0;
        base_cpu += children_cpu_s() - c1;
        for (pid, ms) in background(db) {
            bg.entry(pid).or_insert((0.0, ms)).1 = ms;
        }
        if i + 1 == STEADY {
            steady_from = bg.values().map(|(_, b)| *b).sum();
        }
    }
    let bg_cpu: f64 = bg.values().map(|(a, b)| b - a).sum();
    let bg_steady: f64 = bg.values().map(|(_, b)| *b).sum::<f64>() - steady_from;
    let order = guard.clone();
    let g = summary(&format!("guard {label}"), &mut guard);
    summary("  of which PreToolUse", &mut pre);
    summary("  of which PostToolUse", &mut post);
    let first = STEADY.min(order.len());
    summary("  first 10 events", &mut order[..first].to_vec());
    summary("  the rest (steady state)", &mut order[first..].to_vec());
    let mut slow: Vec<(usize, f64)> = order.iter().copied().enumerate().collect();
    slow.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top: Vec<String> = slow
        .iter()
        .take(6)
        .map(|(i, ms)| format!("#{i} {ms:.1}"))
        .collect();
    println!("  slowest events (index ms): {}", top.join(", "));
    let b = summary("true (baseline)", &mut base);
    println!(
        "added by the guard ({label}): p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms (goal: p99 under 30 ms above true)",
        g[0] - b[0],
        g[1] - b[1],
        g[2] - b[2]
    );
    println!(
        "CPU per decision ({label}, user+system): hook process {:.2} ms + background (warm judge, drainers) {:.2} ms = {:.2} ms; true {:.2} ms",
        guard_cpu * 1000.0 / n as f64,
        bg_cpu / n as f64,
        guard_cpu * 1000.0 / n as f64 + bg_cpu / n as f64,
        base_cpu * 1000.0 / n as f64
    );
    if n > STEADY {
        println!(
            "  background CPU per decision after the first 10 (the judge's start-up left out): {:.2} ms",
            bg_steady / (n - STEADY) as f64
        );
    }
}

/// One request on a keep-alive connection; milliseconds until the whole answer.
fn roundtrip(s: &mut BufReader<TcpStream>, req: &[u8]) -> f64 {
    let t = Instant::now();
    s.get_mut().write_all(req).expect("write");
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        s.read_line(&mut line).expect("read");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let l = line.to_ascii_lowercase();
        if let Some(v) = l.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("body");
    t.elapsed().as_secs_f64() * 1000.0
}

fn http(addr: &str, sessions: usize, n: usize) {
    let start = Instant::now();
    let handles: Vec<_> = (0..sessions)
        .map(|k| {
            let addr = addr.to_string();
            std::thread::spawn(move || {
                let s = TcpStream::connect(&addr).expect("connect");
                s.set_nodelay(true).ok();
                s.set_read_timeout(Some(Duration::from_secs(30))).ok();
                let mut s = BufReader::new(s);
                let health = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                let (mut g, mut b) = (Vec::new(), Vec::new());
                for i in 0..n {
                    let body = event(&format!("bench-http-{k}"), i / 2, i % 2 == 1);
                    let req = format!(
                        "POST /guard/claude-code HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    g.push(roundtrip(&mut s, req.as_bytes()));
                    b.push(roundtrip(&mut s, health.as_bytes()));
                }
                (g, b)
            })
        })
        .collect();
    let (mut g, mut b) = (Vec::new(), Vec::new());
    let (mut first, mut last) = (Vec::new(), Vec::new());
    let fifth = (n / 5).max(1);
    for h in handles {
        let (x, y) = h.join().expect("session thread");
        first.extend_from_slice(&x[..fifth.min(x.len())]);
        last.extend_from_slice(&x[x.len().saturating_sub(fifth)..]);
        g.extend(x);
        b.extend(y);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{sessions} sessions, {} decisions + {} baseline requests in {secs:.1} s ({:.0} decisions/s)",
        g.len(),
        b.len(),
        g.len() as f64 / secs
    );
    let gs = summary("POST /guard/claude-code", &mut g);
    summary("  first fifth of each session", &mut first);
    summary("  last fifth of each session", &mut last);
    let bs = summary("GET /health (baseline)", &mut b);
    println!(
        "added by the guard: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms (goal: p50 under 1 ms, p99 under 5 ms)",
        gs[0] - bs[0],
        gs[1] - bs[1],
        gs[2] - bs[2]
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: usize| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match a.get(1).map(String::as_str) {
        Some("command") if a.len() >= 4 => command(
            &a[2],
            &a[3],
            num(4, 200),
            a.get(5).map(String::as_str).unwrap_or("(command hook)"),
        ),
        Some("http") if a.len() >= 3 => http(&a[2], num(3, 32), num(4, 200)),
        _ => {
            eprintln!(
                "usage: guard_bench command BIN DB [N] [LABEL] | guard_bench http ADDR [SESSIONS] [N]"
            );
            std::process::exit(2);
        }
    }
}
