//! Harness for the memory and time limit tests: runs the real binary (or the
//! build named by `SKILLTRACE_TEST_BIN`, to measure another version the same
//! way), reads its peak RSS (`VmHWM`), speaks raw HTTP/1.1 over loopback, and
//! plays a canned upstream for the proxy. It uses `common` from the crate root.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const MIB: usize = 1 << 20;

/// The binary under test.
pub fn exe() -> String {
    std::env::var("SKILLTRACE_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_skilltrace").into())
}

/// A `/proc/<pid>/status` field in KiB.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A running `skilltrace otlp` or `skilltrace proxy`.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub db: PathBuf,
    stderr: PathBuf,
}

impl Server {
    /// Starts `skilltrace ARGS --listen 127.0.0.1:0 --db DIR/st.db` with `config` as its config file.
    pub fn start(dir: &Path, args: &[&str], config: &str) -> Server {
        let cfg = dir.join("config.toml");
        std::fs::write(&cfg, config).unwrap();
        let db = dir.join("st.db");
        let stderr = dir.join("stderr.txt");
        let mut child = Command::new(exe())
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .env("SKILLTRACE_CONFIG", &cfg)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let addr = crate::common::banner_addr(&mut child);
        Server {
            child,
            addr,
            db,
            stderr,
        }
    }

    /// Peak resident memory so far, in MiB.
    pub fn peak_mib(&self) -> f64 {
        status_kib(self.child.id(), "VmHWM:") as f64 / 1024.0
    }

    /// SIGTERM, wait; the exit status must be success. Returns stderr.
    pub fn stop(mut self) -> String {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                assert!(st.success(), "exit {st:?}: {err}");
                return err;
            }
            assert!(Instant::now() < deadline, "did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Asserts a measured peak against its ceiling, printing both (a test's figure
/// is worth seeing even when it passes).
pub fn assert_peak(case: &str, peak_mib: f64, ceiling_mib: f64) {
    eprintln!("peak RSS {case}: {peak_mib:.0} MiB (ceiling {ceiling_mib:.0} MiB)");
    assert!(
        peak_mib < ceiling_mib,
        "{case}: peak RSS {peak_mib:.0} MiB, ceiling {ceiling_mib:.0} MiB"
    );
}

/// An HTTP answer as read off the wire.
#[derive(Debug, Default)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// Reads one answer whose connection closes after it (or whose length is given).
pub fn read_answer(s: &mut TcpStream) -> std::io::Result<Answer> {
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            break;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut a = Answer {
        status,
        head,
        body: Vec::new(),
    };
    match a
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        Some(n) => {
            a.body.resize(n, 0);
            r.read_exact(&mut a.body)?;
        }
        None => {
            r.read_to_end(&mut a.body)?;
        }
    }
    Ok(a)
}

/// One request on a fresh connection (`Connection: close`), its answer read whole.
pub fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = crate::common::post_head(addr, path, headers, body.len());
    s.write_all(head.as_bytes()).unwrap();
    // A server that refuses early may close before reading it all.
    let _ = s.write_all(body);
    read_answer(&mut s).unwrap()
}

/// Clients that announce `announced` bytes, send `sent` of them as fast as the
/// server reads, then hold the connection open until released.
pub struct HeldOpen {
    release: Arc<AtomicBool>,
    sent: Arc<std::sync::atomic::AtomicUsize>,
    clients: usize,
    threads: Vec<std::thread::JoinHandle<Option<Answer>>>,
}

impl HeldOpen {
    pub fn start(
        addr: &str,
        path: &str,
        headers: &[(&str, &str)],
        clients: usize,
        announced: usize,
        sent: usize,
    ) -> HeldOpen {
        let release = Arc::new(AtomicBool::new(false));
        let done_sending = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut head =
            format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {announced}\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let threads = (0..clients)
            .map(|_| {
                let (addr, head, release) = (addr.to_string(), head.clone(), release.clone());
                let done_sending = done_sending.clone();
                std::thread::spawn(move || {
                    let sending = |s: &mut TcpStream| -> std::io::Result<()> {
                        s.set_write_timeout(Some(Duration::from_secs(5)))?;
                        s.write_all(head.as_bytes())?;
                        // The body opens like an OTLP/JSON or chat request, then pads.
                        let mut body = b"{\"resourceSpans\":[],\"messages\":[],\"pad\":\"".to_vec();
                        body.resize(sent, b'a');
                        for piece in body.chunks(256 << 10) {
                            s.write_all(piece)?;
                        }
                        Ok(())
                    };
                    let conn = TcpStream::connect(&addr);
                    let mut s = conn.ok();
                    if let Some(s) = s.as_mut() {
                        let _ = sending(s);
                    }
                    done_sending.fetch_add(1, Ordering::SeqCst);
                    let mut s = s?;
                    while !release.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
                    read_answer(&mut s).ok()
                })
            })
            .collect();
        HeldOpen {
            release,
            sent: done_sending,
            clients,
            threads,
        }
    }

    /// Waits until every client has sent what it will send (or was stopped).
    pub fn wait_sent(&self, limit: Duration) {
        let t = Instant::now();
        while self.sent.load(Ordering::SeqCst) < self.clients {
            assert!(t.elapsed() < limit, "clients still sending after {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `at` after `started` (past the server's body deadline),
    /// lets the clients read their answers, and checks that each body was cut
    /// off (408) or refused for the budget (503), some of them cut off.
    pub fn release_after(self, started: Instant, at: Duration) {
        while started.elapsed() < at {
            std::thread::sleep(Duration::from_millis(100));
        }
        let codes: Vec<u16> = self.release().iter().map(|a| a.status).collect();
        assert!(codes.iter().all(|c| *c == 408 || *c == 503), "{codes:?}");
        assert!(codes.contains(&408), "{codes:?}");
    }

    /// Lets the clients read their answers (they send no more); returns them.
    pub fn release(self) -> Vec<Answer> {
        self.release.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect()
    }
}

/// A canned upstream: every request gets the answer `respond` writes.
pub struct Upstream {
    pub url: String,
}

pub fn upstream(respond: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> Upstream {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let respond = Arc::new(respond);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let respond = respond.clone();
            std::thread::spawn(move || {
                // Read the request head and its body, then answer.
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).is_ok() {
                    respond(&mut s);
                }
            });
        }
    });
    Upstream { url }
}

/// A chat completion request, as an SDK sends it.
pub const CHAT_REQUEST: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"list the files"}],"stream":false}"#;

/// Total bytes of the db and its `-wal`.
pub fn store_bytes(db: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len())
        .sum()
}
