//! Attacks on guarantee 10, the guard: hook events that are malformed, huge
//! (100 MiB on stdin), nested 100,000 deep, or carry terminal escapes and a
//! secret; a config (the guard's policy) that others can write, or linked to
//! another user's file; `SKILLTRACE_*` variables the agent sets to point its
//! shell away; and a `guard serve` that a thousand sessions, slow senders,
//! lying `Content-Length`s and held-open bodies go at. The promise: the hook
//! answers within its bound or fails open and says so, never prints or stores
//! a secret, never panics, and its memory is bounded.
#![allow(clippy::unwrap_used)]

use crate::{common, limits_support};

use common::bin;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const GH: &str = "ghp_Wq3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc3Vb5N";

/// A config file (`0600`) with `[guard]` lines `extra` and no warm judge.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("config.toml");
    std::fs::write(&p, format!("[guard]\nwarm_idle_secs = 0\n{extra}")).unwrap();
    set_mode(&p, 0o600);
    p
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn pre_tool_use(session: &str, command: &str) -> Value {
    json!({"session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": "/home/dev/app",
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": command}})
}

/// One run of the command hook: its output, when its first answer byte came,
/// how long it ran, and its peak RSS.
struct Hooked {
    out: Output,
    first_answer: Option<Duration>,
    elapsed: Duration,
    peak_mib: f64,
}

fn hook(cfg: &Path, db: &Path, input: Vec<u8>, extra: &[&str]) -> Hooked {
    let started = Instant::now();
    let mut child = bin()
        .env("SKILLTRACE_CONFIG", cfg)
        .env("XDG_RUNTIME_DIR", db.parent().unwrap())
        .args(["guard", "--agent", "claude-code", "--db"])
        .arg(db)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    // The hook stops reading past its cap: the rest is refused by a closed pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut first = None;
        let mut buf = [0u8; 8192];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            first.get_or_insert_with(|| started.elapsed());
            all.extend_from_slice(&buf[..n]);
        }
        (all, first)
    });
    let mut stderr = child.stderr.take().unwrap();
    let errs = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut first = None;
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            first.get_or_insert_with(|| started.elapsed());
            all.extend_from_slice(&buf[..n]);
        }
        (all, first)
    });
    let mut peak = 0;
    let status = loop {
        peak = peak.max(limits_support::status_kib(pid, "VmHWM:"));
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    writer.join().unwrap();
    let (stdout, first_out) = reader.join().unwrap();
    let (stderr, first_err) = errs.join().unwrap();
    // Claude Code reads a denial from stdout (JSON) or from stderr with exit 2.
    let first_answer = match (first_out, first_err) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Hooked {
        out: Output {
            status,
            stdout,
            stderr,
        },
        first_answer,
        elapsed,
        peak_mib: peak as f64 / 1024.0,
    }
}

/// What Claude Code reads from the answer.
fn verdict(out: &Output) -> String {
    if out.status.code() == Some(2) {
        return "deny".into();
    }
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return "allow".into();
    }
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v["hookSpecificOutput"]["permissionDecision"]
        .as_str()
        .unwrap_or("allow")
        .to_string()
}

fn drain(db: &Path) {
    common::ok(bin().args(["guard", "--drain", "--db"]).arg(db));
}

/// Any 8-character piece of `GH` (after its prefix) in `bytes`.
fn pieces(bytes: &[u8]) -> Vec<String> {
    GH.as_bytes()[4..]
        .windows(8)
        .filter(|p| bytes.windows(8).any(|w| w == *p))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

fn no_piece_under(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            no_piece_under(&p);
        } else {
            let found = pieces(&std::fs::read(&p).unwrap());
            assert!(found.is_empty(), "{} holds {found:?}", p.display());
        }
    }
}

/// Nothing a terminal would act on, no panic, no backtrace.
fn said_safely(h: &Hooked) {
    for bytes in [&h.out.stdout, &h.out.stderr] {
        assert!(
            !bytes
                .iter()
                .any(|&b| b == 0x1b || b == 0x07 || b == 0x9b || b == 0),
            "{}",
            String::from_utf8_lossy(bytes)
        );
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
            "{text}"
        );
        assert!(pieces(bytes).is_empty(), "{text}");
    }
}

#[test]
fn hostile_hook_events_are_answered_in_time_fail_open_say_so_and_leak_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store").join("g.db");
    std::fs::create_dir(db.parent().unwrap()).unwrap();
    let cfg = config(dir.path(), "");
    // Bound on a loaded machine for a debug build: the 1 s budget, the record
    // wait (5 s) and slack. The answer itself must come within budget + slack.
    let exit_bound = Duration::from_secs(40);
    let answer_bound = Duration::from_secs(15);

    let malformed = hook(
        &cfg,
        &db,
        b"{\"session_id\": \"s1\", \"hook_ev".to_vec(),
        &[],
    );
    assert_eq!(verdict(&malformed.out), "allow");
    said_safely(&malformed);

    // 100 MiB on stdin: never read whole, judged as a malformed event.
    let mut huge = pre_tool_use("s2", "echo x").to_string().into_bytes();
    huge.truncate(huge.len() - 3);
    huge.extend(std::iter::repeat_n(b'a', 100 << 20));
    huge.extend_from_slice(b"\"}}");
    let big = hook(&cfg, &db, huge.clone(), &[]);
    assert_eq!(verdict(&big.out), "allow");
    said_safely(&big);
    assert!(big.elapsed < exit_bound, "{:?}", big.elapsed);
    limits_support::assert_peak("a 100 MiB event", big.peak_mib, 100.0);
    let closed = hook(&cfg, &db, huge, &["--fail-closed"]);
    assert_eq!(verdict(&closed.out), "deny", "{:?}", closed.out);
    let t = closed.first_answer.expect("a denial is printed");
    assert!(t < answer_bound, "answered after {t:?}");
    said_safely(&closed);

    // Tool input nested 100,000 deep.
    let deep = format!(
        "{{\"session_id\":\"s3\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"cwd\":\"/\",\"tool_input\":{}1{}}}",
        "{\"a\":[".repeat(100_000),
        "]}".repeat(100_000)
    );
    let nested = hook(&cfg, &db, deep.into_bytes(), &[]);
    assert_eq!(verdict(&nested.out), "allow");
    said_safely(&nested);
    assert!(nested.elapsed < exit_bound, "{:?}", nested.elapsed);

    // Escapes (OSC 52 clipboard write, CSI, C1, NUL) and a secret in the
    // tool input of a call the guard refuses: the reason carries neither.
    let hostile = format!(
        "echo '\u{1b}]52;c;Y3VybCBldmlsCg==\u{7}\u{1b}[2J\u{9b}31m\u{0}' {GH} | skilltrace guard uninstall --agent claude-code"
    );
    // Its session and tool-call ids hold the secret too (an agent or an
    // attacker writes them): they are stood in for before anything is stored.
    let mut loud_event = pre_tool_use(&format!("s4-{GH}"), &hostile);
    loud_event["tool_use_id"] = Value::from(format!("toolu_{GH}"));
    let loud = hook(&cfg, &db, loud_event.to_string().into_bytes(), &[]);
    said_safely(&loud);
    for h in [&malformed, &big, &nested, &loud] {
        assert!(h.elapsed < exit_bound, "{:?}", h.elapsed);
    }

    // Each failure was recorded, saying it failed open (or closed).
    drain(&db);
    let s = skilltrace::store::Store::open_read(&db).unwrap();
    let errs = s.parse_errors(None, 20).unwrap();
    let said: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        said.iter().filter(|m| m.contains("fail-open")).count(),
        3,
        "{said:?}"
    );
    assert_eq!(
        said.iter().filter(|m| m.contains("fail-closed")).count(),
        1,
        "{said:?}"
    );
    drop(s);
    no_piece_under(db.parent().unwrap());
}

#[test]
fn a_policy_others_can_write_is_not_trusted_and_skilltrace_variables_cannot_switch_the_guard_off() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store").join("g.db");
    std::fs::create_dir(db.parent().unwrap()).unwrap();
    // A policy that lets everything through, and a generous budget.
    let weak = "budget_ms = 30000\nchain = \"allow\"\n[guard.severity]\ncritical = \"allow\"\nhigh = \"allow\"\n[guard.rules]\n\"GRD-TRACE-001\" = \"allow\"\n";
    let cfg = config(dir.path(), weak);
    let uninstall = pre_tool_use("p1", "skilltrace guard uninstall --agent claude-code")
        .to_string()
        .into_bytes();
    // The user's own private config is theirs to weaken.
    let own = hook(&cfg, &db, uninstall.clone(), &[]);
    assert_eq!(verdict(&own.out), "allow", "{:?}", own.out);
    // Writable by every user: someone else may have weakened it.
    set_mode(&cfg, 0o666);
    let open = hook(&cfg, &db, uninstall.clone(), &[]);
    assert_eq!(verdict(&open.out), "deny", "{:?}", open.out);
    let warned = String::from_utf8_lossy(&open.out.stderr).into_owned();
    assert!(
        warned.contains("not trusted") && warned.contains("built-in policy"),
        "{warned}"
    );
    set_mode(&cfg, 0o600);
    // A link to a file of another user (when this test may give a file away).
    if skilltrace::store::trust::my_uid() == 0 {
        let theirs = dir.path().join("theirs.toml");
        std::fs::copy(&cfg, &theirs).unwrap();
        set_mode(&theirs, 0o644);
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let link = dir.path().join("linked.toml");
        std::os::unix::fs::symlink(&theirs, &link).unwrap();
        let linked = hook(&link, &db, uninstall.clone(), &[]);
        assert_eq!(verdict(&linked.out), "deny", "{:?}", linked.out);
        // A link to a private file of one's own (a dotfiles folder) is fine.
        let mine = dir.path().join("mine.toml");
        std::os::unix::fs::symlink(&cfg, &mine).unwrap();
        assert_eq!(verdict(&hook(&mine, &db, uninstall, &[]).out), "allow");
    }

    // The agent's shell pointed away from skilltrace through its variables.
    let cfg = config(dir.path(), "budget_ms = 30000\n");
    for (i, cmd) in [
        "export SKILLTRACE_CONFIG=/dev/null",
        "declare -gx SKILLTRACE_DB=/tmp/empty.db",
        "typeset -x SKILLTRACE_CONFIG=/tmp/weak.toml",
        "readonly SKILLTRACE_CONFIG=/tmp/weak.toml",
        "export \"SKILLTRACE_CONFIG=/dev/null\"",
        "v=SKILLTRACE_CONFIG; export $v=/dev/null",
        "eval 'export SKILLTRACE_CONFIG=/dev/null'",
        "bash -c 'unset SKILLTRACE_DB; claude -p hi'",
        "printf -v SKILLTRACE_CONFIG %s /dev/null; export SKILLTRACE_CONFIG",
        "read SKILLTRACE_CONFIG <<< /dev/null; export SKILLTRACE_CONFIG",
        "env SKILLTRACE_CONFIG=/dev/null claude -p 'deploy it'",
        "echo 'export SKILLTRACE_CONFIG=/dev/null' >> ~/.bashrc",
    ]
    .into_iter()
    .enumerate()
    {
        let ev = pre_tool_use(&format!("v{i}"), cmd).to_string().into_bytes();
        let h = hook(&cfg, &db, ev, &[]);
        assert_eq!(verdict(&h.out), "deny", "{cmd}: {:?}", h.out);
    }
}

/// `guard serve` started with `cfg`; the child and its `host:port`.
fn serve(cfg: &Path, db: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = bin()
        .env("SKILLTRACE_CONFIG", cfg)
        .args(["guard", "serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches([',', '/'])
        .to_string();
    (child, addr)
}

/// Sends raw bytes, then reads the answer until the server closes or `wait` passes.
fn raw(addr: &str, bytes: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let _ = s.write_all(bytes);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

fn post(addr: &str, body: &str) -> String {
    let head = format!(
        "POST /guard/claude-code HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    raw(
        addr,
        &[head.as_bytes(), body.as_bytes()].concat(),
        Duration::from_secs(60),
    )
}

#[test]
fn guard_serve_outlasts_a_thousand_sessions_slow_senders_lying_lengths_and_held_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store").join("g.db");
    std::fs::create_dir(db.parent().unwrap()).unwrap();
    // Bodies held at once: 32 MiB (the default is 128 MiB).
    let cfg = config(dir.path(), "[limits]\ninflight_bytes = 33554432\n");
    let (mut child, addr) = serve(&cfg, &db);
    let pid = child.id();
    let ordinary = |s: &str| pre_tool_use(s, "ls -la src").to_string();

    // A body that says it is longer than it is, then stalls: answered (neutral)
    // when the body's deadline passes, while everything below goes on.
    let stalled = {
        let addr = addr.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            let head = format!(
                "POST /guard/claude-code HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 1000\r\n\r\n{{\"session_id\""
            );
            let got = raw(&addr, head.as_bytes(), Duration::from_secs(90));
            (got, started.elapsed())
        })
    };
    // Slow senders: heads that never end, bodies dripped a byte at a time.
    let mut slow = Vec::new();
    for i in 0..20 {
        let mut s = TcpStream::connect(&addr).unwrap();
        if i % 2 == 0 {
            s.write_all(b"POST /guard/claude-code HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .unwrap();
        } else {
            s.write_all(format!("POST /guard/claude-code HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 500\r\n\r\n{{").as_bytes()).unwrap();
        }
        slow.push(s);
    }
    // Bodies held open: 40 of 15 MiB, each one byte short.
    let held_bodies: Vec<_> = (0..40)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&addr).unwrap();
                s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
                let n = 15 << 20;
                let head = format!(
                    "POST /guard/claude-code HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {n}\r\n\r\n"
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&vec![b' '; n - 1]);
                s
            })
        })
        .collect();
    let held: Vec<TcpStream> = held_bodies.into_iter().map(|t| t.join().unwrap()).collect();
    // Meanwhile an honest client is answered, at once.
    let t = Instant::now();
    let honest = post(&addr, &ordinary("honest-1"));
    assert!(honest.starts_with("HTTP/1.1 200"), "{honest}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());

    // A thousand sessions, eight clients at a time.
    let answered: usize = (0..8)
        .map(|w| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                (0..125)
                    .filter(|i| {
                        let body = pre_tool_use(&format!("sess-{w}-{i}"), "ls -la src").to_string();
                        post(&addr, &body).starts_with("HTTP/1.1 200")
                    })
                    .count()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .sum();
    assert_eq!(answered, 1000);

    // A Content-Length shorter than the body: the first part is one (malformed)
    // event, the rest is no request, and the server goes on.
    let body = ordinary("liar");
    let short = format!(
        "POST /guard/claude-code HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 12\r\n\r\n{body}"
    );
    let got = raw(&addr, short.as_bytes(), Duration::from_secs(60));
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    let peak = limits_support::status_kib(pid, "VmHWM:") as f64 / 1024.0;
    drop(held);
    drop(slow);
    let (got, after) = stalled.join().unwrap();
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(after < Duration::from_secs(60), "{after:?}");
    let again = post(&addr, &ordinary("honest-2"));
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    limits_support::assert_peak("guard serve under attack", peak, 256.0);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
