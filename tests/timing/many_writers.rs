//! Many writers on one store, run as users run them (issue 13, row 2): `tail`,
//! two `import`s, the OTLP receiver, the proxy and the TUI's live ingest on one
//! existing store lose nothing and crash nothing; five writers started together
//! on a new store all start and share one key; a store held busy longer than a
//! writer waits makes it spool, say so at once, and store everything after.
#![allow(clippy::unwrap_used)]

use crate::writers_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use writers_support::*;

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The TUI with `--tail DIR` in a detached tmux session; `None` without tmux.
struct Tui {
    socket: String,
    dir: std::path::PathBuf,
}

impl Tui {
    fn start(db: &Path, tail: &Path, home: &Path) -> Option<Tui> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("tmux not installed: the TUI writer is left out of this run");
            return None;
        }
        let socket = format!("st-writers-{}", std::process::id());
        let cmdline = format!(
            "env SKILLTRACE_CONFIG=/nonexistent.toml TERM=xterm-256color '{}' tui --db '{}' --tail '{}' 2>'{}/tui.err'; echo $? > '{}/tui.exit'",
            env!("CARGO_BIN_EXE_skilltrace"),
            db.display(),
            tail.display(),
            home.display(),
            home.display()
        );
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-s",
                "w",
                "-x",
                "120",
                "-y",
                "30",
            ])
            .arg(&cmdline)
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux would not start");
        Some(Tui {
            socket,
            dir: home.to_path_buf(),
        })
    }

    /// Presses `q`; the exit code and stderr.
    fn quit(self) -> (Option<i32>, String) {
        let exit = self.dir.join("tui.exit");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !exit.exists() && Instant::now() < deadline {
            let _ = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "w", "q"])
                .stderr(std::process::Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(500));
        }
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(std::process::Stdio::null())
            .status();
        let code = std::fs::read_to_string(&exit)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let err = std::fs::read_to_string(self.dir.join("tui.err")).unwrap_or_default();
        (code, err)
    }
}

#[test]
fn six_writers_on_one_existing_store_lose_nothing_and_crash_nothing() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("store/st.db");
    // An existing store.
    let seed = t.path().join("seed.jsonl");
    std::fs::write(&seed, native_lines("r-seed", 0, 100, "seed")).unwrap();
    let out = spawn_import(None, &db, &seed).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (tail_dir, tui_dir) = (t.path().join("tailed"), t.path().join("tui-tailed"));
    std::fs::create_dir_all(&tail_dir).unwrap();
    std::fs::create_dir_all(&tui_dir).unwrap();
    let (tail_file, tui_file) = (tail_dir.join("a.jsonl"), tui_dir.join("b.jsonl"));
    std::fs::write(&tail_file, "").unwrap();
    std::fs::write(&tui_file, "").unwrap();
    let (imp1, imp2) = (t.path().join("imp1.jsonl"), t.path().join("imp2.jsonl"));
    const IMPORTED: usize = 5_000;
    std::fs::write(&imp1, native_lines("r-imp1", 0, IMPORTED, "first import")).unwrap();
    std::fs::write(&imp2, native_lines("r-imp2", 0, IMPORTED, "second import")).unwrap();

    // The long-running writers.
    let mut tail = bin_with(None)
        .args(["tail", "--db"])
        .arg(&db)
        .arg(&tail_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let tail_err = collect_stderr(&mut tail);
    let mut otlp = bin_with(None);
    otlp.args(["otlp", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db);
    let otlp = start(otlp);
    let (up, up_seen) = upstream();
    let mut proxy = bin_with(None);
    proxy
        .args(["proxy", "--listen", "127.0.0.1:0", "--openai-upstream"])
        .arg(format!("http://{up}"))
        .arg("--db")
        .arg(&db);
    let proxy = start(proxy);
    let tui = Tui::start(&db, &tui_dir, t.path());

    // Everyone writes at once: two imports, lines for both tailers, OTLP, proxy.
    let imports: Vec<_> = [&imp1, &imp2]
        .iter()
        .map(|f| spawn_import(None, &db, f))
        .collect();
    const TAILED: usize = 2_000;
    const TUI_TAILED: usize = 1_000;
    const OTLP_REQUESTS: usize = 110;
    const OTLP_SPANS: usize = 20;
    const EXCHANGES: usize = 200;
    std::thread::scope(|s| {
        s.spawn(|| {
            for c in 0..20 {
                append(&tail_file, &native_lines("r-tail", c * 100, 100, "tailed"));
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        s.spawn(|| {
            for c in 0..10 {
                append(
                    &tui_file,
                    &native_lines("r-tui", c * 100, 100, "tui tailed"),
                );
                std::thread::sleep(Duration::from_millis(80));
            }
        });
        let addr = otlp.addr.clone();
        s.spawn(move || {
            for r in 0..OTLP_REQUESTS {
                export(
                    &addr,
                    &otlp_body(&format!("{:032x}", 0xabc0 + r), 0, OTLP_SPANS),
                );
            }
        });
        for w in 0..4 {
            let addr = proxy.addr.clone();
            s.spawn(move || {
                for i in (w..EXCHANGES).step_by(4) {
                    let (code, resp) = http(
                        &addr,
                        "/v1/chat/completions",
                        &[
                            ("Content-Type", "application/json"),
                            ("Authorization", "Bearer sk-test-writers-0123456789abcdef"),
                        ],
                        chat_body(i).as_bytes(),
                    );
                    assert_eq!(code, 200, "{resp}");
                }
            });
        }
    });
    let mut import_errs = Vec::new();
    for mut imp in imports {
        let err = collect_stderr(&mut imp);
        let code = wait_for(&mut imp, Duration::from_secs(300));
        std::thread::sleep(Duration::from_millis(100));
        let err: Vec<String> = err.lock().unwrap().iter().map(|(_, l)| l.clone()).collect();
        assert_eq!(code, Some(0), "an import failed: {err:?}");
        import_errs.extend(err);
    }

    // The followers catch up, then everyone stops.
    let tailed = wait_until(Duration::from_secs(120), TAILED as u64, || {
        spans_from(&db, &format!("{}", tail_file.display()))
    });
    let tui_tailed = tui.as_ref().map(|_| {
        wait_until(Duration::from_secs(120), TUI_TAILED as u64, || {
            spans_from(&db, &format!("{}", tui_file.display()))
        })
    });
    term(&tail);
    let tail_code = wait_for(&mut tail, Duration::from_secs(60));
    let tail_err: Vec<String> = tail_err
        .lock()
        .unwrap()
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    let (tui_code, tui_err) = match tui {
        Some(t) => {
            let (c, e) = t.quit();
            (Some(c), e)
        }
        None => (None, String::new()),
    };
    let (otlp_code, otlp_err) = otlp.stop();
    let (proxy_code, proxy_err) = proxy.stop();

    let otlp_stored = spans_from(&db, "otlp://%");
    let exchanges = {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row(
            "SELECT count(*) FROM spans WHERE origin_path LIKE 'proxy://%' AND kind='llm'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    let imported = [&imp1, &imp2].map(|f| spans_from(&db, &f.display().to_string()));
    eprintln!(
        "six writers: tail {tailed}/{TAILED}, tui {tui_tailed:?}/{TUI_TAILED}, imports {imported:?}/{IMPORTED} each, \
         otlp {otlp_stored}/{}, proxy {exchanges}/{EXCHANGES} (upstream saw {}); exits tail {tail_code:?} tui {tui_code:?} \
         otlp {otlp_code:?} proxy {proxy_code:?}; stderr lines: tail {}, imports {}, otlp {}, proxy {}, tui {}",
        OTLP_REQUESTS * OTLP_SPANS,
        up_seen.lock().unwrap(),
        tail_err.len(),
        import_errs.len(),
        otlp_err.len(),
        proxy_err.len(),
        tui_err.lines().count(),
    );
    assert_eq!(tail_code, Some(0), "tail: {tail_err:?}");
    assert_eq!(otlp_code, Some(0), "otlp: {otlp_err:?}");
    assert_eq!(proxy_code, Some(0), "proxy: {proxy_err:?}");
    if let Some(code) = tui_code {
        assert_eq!(code, Some(0), "tui: {tui_err}");
    }
    assert_eq!(tailed, TAILED as u64, "tail lost spans");
    if let Some(n) = tui_tailed {
        assert_eq!(n, TUI_TAILED as u64, "the TUI's live ingest lost spans");
    }
    assert_eq!(imported, [IMPORTED as u64; 2], "an import lost spans");
    assert_eq!(
        otlp_stored,
        (OTLP_REQUESTS * OTLP_SPANS) as u64,
        "otlp lost spans"
    );
    assert_eq!(exchanges, EXCHANGES as u64, "the proxy lost exchanges");
    for (who, lines) in [
        ("tail", &tail_err),
        ("imports", &import_errs),
        ("otlp", &otlp_err),
        ("proxy", &proxy_err),
    ] {
        assert!(bad_lines(lines).is_empty(), "{who}: {lines:?}");
    }
    assert!(!tui_err.contains("error"), "tui: {tui_err}");
    assert!(
        proxy_err
            .iter()
            .any(|l| l.contains(&format!("{EXCHANGES} exchanges recorded, 0 dropped"))),
        "{proxy_err:?}"
    );
}

#[test]
fn five_writers_started_together_on_a_new_store_all_start_and_share_one_key() {
    let t = tempfile::tempdir().unwrap();
    let config = t.path().join("config.toml");
    std::fs::write(&config, "[redaction]\nmode = \"hash\"\n").unwrap();
    // Every file carries the same secret: one key means one marker for it.
    let secret = "ghp_0123456789abcdefABCDEF0123456789abcd";
    let files: Vec<_> = (0..5)
        .map(|i| {
            let f = t.path().join(format!("w{i}.jsonl"));
            std::fs::write(
                &f,
                native_lines(&format!("r{i}"), 0, 200, &format!("token {secret} seen")),
            )
            .unwrap();
            f
        })
        .collect();
    for round in 0..5 {
        let db = t.path().join(format!("round{round}/new/deeper/st.db"));
        let kids: Vec<_> = files
            .iter()
            .map(|f| spawn_import(Some(&config), &db, f))
            .collect();
        for k in kids {
            let out = k.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: a writer failed to start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(spans_from(&db, "%"), 1_000, "round {round}");
        let c = rusqlite::Connection::open(&db).unwrap();
        let markers: Vec<String> = c
            .prepare(
                "SELECT DISTINCT substr(text, instr(text, '[HASH:'), instr(text, ']') - instr(text, '[HASH:') + 1) FROM spans",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            markers.len(),
            1,
            "round {round}: writers hashed under different keys: {markers:?}"
        );
        assert!(markers[0].starts_with("[HASH:"), "{markers:?}");
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let mut key = db.as_os_str().to_owned();
        key.push(".key");
        assert_eq!(mode(Path::new(&key)), 0o600);
        for d in ["new", "new/deeper"] {
            assert_eq!(
                mode(&t.path().join(format!("round{round}/{d}"))),
                0o700,
                "{d}"
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(db.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn a_store_held_busy_past_the_wait_spools_says_so_at_once_and_loses_nothing() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("st.db");
    let config = t.path().join("config.toml");
    std::fs::write(&config, "[store]\nbusy_wait_ms = 300\n").unwrap();
    let mut cmd = bin_with(Some(&config));
    cmd.args(["otlp", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db);
    let otlp = start(cmd);
    export(&otlp.addr, &otlp_body(&format!("{:032x}", 1), 0, 5));
    assert_eq!(
        wait_until(Duration::from_secs(30), 5, || spans_from(&db, "otlp://%")),
        5
    );
    // Another program holds the store's write lock for 4 s.
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let held_at = Instant::now();
    for r in 0..20 {
        export(&otlp.addr, &otlp_body(&format!("{:032x}", 100 + r), 0, 10));
    }
    let said = wait_until(Duration::from_secs(3), 1, || {
        otlp.stderr_now()
            .iter()
            .filter(|(_, l)| l.contains("cannot store now") && l.contains(".spool"))
            .count() as u64
    });
    assert_eq!(
        said,
        1,
        "not said while the store was held: {:?}",
        otlp.stderr_now()
    );
    let first = otlp
        .stderr_now()
        .into_iter()
        .find(|(_, l)| l.contains("cannot store now"))
        .unwrap();
    assert!(
        first.0.duration_since(held_at) < Duration::from_secs(3),
        "said late"
    );
    let spool = t.path().join("st.db.spool");
    assert!(spool.is_dir(), "no spool beside the store");
    std::thread::sleep(Duration::from_secs(4).saturating_sub(held_at.elapsed()));
    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    let stored = wait_until(Duration::from_secs(60), 205, || spans_from(&db, "otlp://%"));
    let (code, err) = otlp.stop();
    assert_eq!(code, Some(0), "{err:?}");
    assert_eq!(stored, 205, "spans lost while the store was held: {err:?}");
    assert!(err.iter().any(|l| l.contains("writable again")), "{err:?}");
    assert!(
        std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0) == 0,
        "the spool was not emptied"
    );
}
