//! Issue 20: a store slower than exchanges arrive never costs a recording.
//! With a small in-memory bound (`[limits] proxy_queue_bytes`) and the store's
//! write lock held by another program, the real `skilltrace proxy` spills
//! recordings, redacted, to the spool beside the store (said on stderr and in
//! `GET /health`), and stores every one of them once the store is free; killed
//! with `kill -9` while spilling, what it spilled is stored exactly once by
//! the next proxy on the store, and `doctor` reports the spool meanwhile.
#![allow(clippy::unwrap_used)]

use crate::writers_support;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use writers_support::Server;

/// Planted in every request; must never reach the spool or the store.
const SECRET: &str = "ghp_Zq8Xw2Nv4Bp6Rt3Ys5Ua7Ic9Oe1Lg0Hk2Mj4";
const PASSWORD: &str = "postgres://app:Hunter2-spill-Secret@db.internal:5432/app";

/// A config with a small in-memory bound (spilling past 256 KB, about 95 exchanges) and a store
/// waited for as long as the test holds it (the writer never spools itself).
fn small_queue_config(dir: &Path) -> PathBuf {
    let p = dir.join("config.toml");
    std::fs::write(
        &p,
        "[limits]\nproxy_queue_bytes = 1048576\n\n[store]\nbusy_wait_ms = 600000\n",
    )
    .unwrap();
    p
}

fn start_proxy(config: &Path, db: &Path, upstream: &str) -> Server {
    let mut cmd = writers_support::bin_with(Some(config));
    cmd.args(["proxy", "--listen", "127.0.0.1:0", "--openai-upstream"])
        .arg(upstream)
        .arg("--db")
        .arg(db);
    writers_support::start(cmd)
}

/// `n` chat requests, one at a time (a paced load: the spill scans on one
/// thread of a debug build), each carrying the planted secrets.
fn send_requests(addr: &str, from: usize, n: usize) {
    for i in from..from + n {
        let body = format!(
            "{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"question {i}: use token {SECRET} and {PASSWORD}\"}}]}}"
        );
        let (code, resp) = writers_support::http(
            addr,
            "/v1/chat/completions",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(code, 200, "{resp}");
        std::thread::sleep(Duration::from_millis(4));
    }
}

/// The proxy's counters (`GET /health`).
fn health(addr: &str) -> serde_json::Value {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let body = resp.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body.trim()).unwrap()
}

fn n(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"))
}

/// Exchanges (llm spans) the store holds, and how many distinct ones.
fn recorded(db: &Path) -> (u64, u64) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    c.query_row(
        "SELECT count(*), count(DISTINCT id) FROM spans WHERE kind='llm'",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )
    .unwrap()
}

/// Every byte of the spool folder beside `db` (empty when there is none).
fn spool_bytes(db: &Path) -> Vec<u8> {
    let dir = PathBuf::from(format!("{}.spool", db.display()));
    let mut all = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd {
            all.extend(std::fs::read(e.unwrap().path()).unwrap());
        }
    }
    all
}

fn spool_files(db: &Path) -> usize {
    let dir = PathBuf::from(format!("{}.spool", db.display()));
    std::fs::read_dir(dir).map_or(0, |rd| rd.count())
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The store's write lock, held by "another program" until dropped.
fn hold(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    c.execute_batch("BEGIN IMMEDIATE").unwrap();
    c
}

/// Waits until the store file exists (the proxy opened it).
fn wait_for_store(db: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !db.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(db.exists());
}

/// A proxy on a new store in `dir`, whose write lock another program holds.
struct Held {
    db: PathBuf,
    config: PathBuf,
    up: String,
    proxy: Server,
    holder: rusqlite::Connection,
}

fn held_proxy(dir: &Path) -> Held {
    let db = dir.join("st.db");
    let config = small_queue_config(dir);
    let up = format!("http://{}", writers_support::upstream().0);
    let proxy = start_proxy(&config, &db, &up);
    wait_for_store(&db);
    let holder = hold(&db);
    Held {
        db,
        config,
        up,
        proxy,
        holder,
    }
}

#[test]
fn every_exchange_is_recorded_through_the_spool_while_the_store_is_held() {
    let t = tempfile::tempdir().unwrap();
    let Held {
        db, proxy, holder, ..
    } = held_proxy(t.path());
    const N: usize = 400;
    let started = Instant::now();
    send_requests(&proxy.addr, 0, N);
    let took = started.elapsed();
    // Spilling is said at once, in /health and on stderr.
    let spilled = writers_support::wait_until(Duration::from_secs(30), 1, || {
        n(&health(&proxy.addr), "spilled")
    });
    assert!(spilled > 0, "never spilled: {}", health(&proxy.addr));
    let h = health(&proxy.addr);
    assert_eq!(h["spilling"], true, "{h} {:?}", proxy.stderr_now());
    assert!(n(&h, "spill_bytes") > 0, "{h}");
    assert_eq!(n(&h, "dropped"), 0, "{h}");
    let said = writers_support::wait_until(Duration::from_secs(10), 1, || {
        proxy
            .stderr_now()
            .iter()
            .filter(|(_, l)| l.contains("spilling recordings, redacted, to the spool"))
            .count() as u64
    });
    assert_eq!(said, 1, "{:?}", proxy.stderr_now());
    // The spool holds redacted recordings only (the last exchange is in it once handed over).
    writers_support::wait_until(Duration::from_secs(30), N as u64, || {
        n(&health(&proxy.addr), "recorded")
    });
    let spool = spool_bytes(&db);
    assert!(
        contains(&spool, &format!("question {}:", N - 1)),
        "no recordings in the spool"
    );
    assert!(
        !contains(&spool, SECRET),
        "a planted token reached the spool"
    );
    assert!(
        !contains(&spool, "Hunter2-spill-Secret"),
        "a password reached the spool"
    );
    assert_eq!(recorded(&db).0, 0, "written through a held lock?");
    // The store is free again: every exchange is stored, once, and the spool emptied.
    drop(holder);
    let got = writers_support::wait_until(Duration::from_secs(120), N as u64, || recorded(&db).0);
    let h = health(&proxy.addr);
    let (code, err) = proxy.stop();
    eprintln!("spill: {N} sent in {took:?}, {got} recorded; health {h}; stderr {err:?}");
    assert_eq!(code, Some(0), "{err:?}");
    assert_eq!(recorded(&db), (N as u64, N as u64));
    assert_eq!(n(&h, "dropped"), 0);
    assert_eq!(n(&h, "recorded"), N as u64);
    assert_eq!(spool_files(&db), 0, "the spool was not emptied");
    assert!(
        err.iter()
            .any(|l| l.contains(&format!("{N} exchanges recorded ("))
                && l.contains("spilled to the spool")
                && l.contains(", 0 dropped")),
        "{err:?}"
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let leaked: i64 = c
        .query_row(
            "SELECT count(*) FROM spans WHERE text LIKE ?1 OR attributes LIKE ?1",
            [format!("%{SECRET}%")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0, "a planted token reached the store");
}

#[test]
fn a_proxy_killed_while_spilling_loses_nothing_it_spilled() {
    let t = tempfile::tempdir().unwrap();
    let Held {
        db,
        config,
        up,
        mut proxy,
        holder,
    } = held_proxy(t.path());
    send_requests(&proxy.addr, 0, 400);
    // Quiet: wait until every exchange was handed over (to the spool or the writer's memory).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut h = health(&proxy.addr);
    while n(&h, "recorded") < 400 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        h = health(&proxy.addr);
    }
    let spilled = n(&h, "spilled");
    assert!(spilled > 0, "never spilled: {h}");
    proxy.child.kill().unwrap();
    proxy.child.wait().unwrap();
    drop(holder);
    let spool = spool_bytes(&db);
    assert!(!spool.is_empty(), "nothing left in the spool");
    assert!(
        !contains(&spool, SECRET),
        "a planted token reached the spool"
    );
    // Meanwhile doctor reports the spool left behind.
    let out = writers_support::bin_with(Some(&config))
        .args(["doctor", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FIX   spool") && text.contains("left by writers that stopped"),
        "{text}"
    );
    // The next proxy on the store stores what was spilled, exactly once.
    let proxy = start_proxy(&config, &db, &up);
    let got = writers_support::wait_until(Duration::from_secs(60), spilled, || recorded(&db).0);
    let (code, err) = proxy.stop();
    assert_eq!(code, Some(0), "{err:?}");
    assert_eq!(got, spilled, "{err:?}");
    assert_eq!(spool_files(&db), 0, "the spool was not emptied: {err:?}");
    // And once more: nothing is stored twice.
    let proxy = start_proxy(&config, &db, &up);
    std::thread::sleep(Duration::from_millis(500));
    let (code, err) = proxy.stop();
    assert_eq!(code, Some(0), "{err:?}");
    assert_eq!(recorded(&db), (spilled, spilled));
    eprintln!(
        "kill -9 while spilling: 400 sent, {spilled} spilled and stored once after a restart"
    );
}
