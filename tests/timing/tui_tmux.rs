//! End to end in a real terminal: the `skilltrace` binary runs inside a detached
//! tmux session (its own server socket); keys go in with `send-keys`, the screen
//! comes back with `capture-pane`. Drill from a finding to its span; triage
//! three findings with one key each and undo one; note one; bulk-suppress a rule
//! with a reason; quit, reopen on the same store and see it all kept; check the
//! store with `skilltrace findings --format json` and find the suppressions and
//! their reasons in `skilltrace export --format sarif`. Also: demo mode lists
//! each sample once in Sources, and `tui /nonexistent` is a one-line error.
//! Skipped with a notice when tmux is missing.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    session: String,
    home: std::path::PathBuf,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    fn start(&self, home: &Path, db: &Path) {
        self.start_with(home, &format!("--db '{}'", db.display()));
    }

    /// Starts `skilltrace tui ARGS` (as the user `e2e-tester`) in the session.
    fn start_with(&self, home: &Path, args: &str) {
        let bin = env!("CARGO_BIN_EXE_skilltrace");
        let cmdline = format!(
            "cd '{}' && env HOME='{}' USER=e2e-tester XDG_CONFIG_HOME='{}/config' XDG_DATA_HOME='{}/data' SKILLTRACE_CONFIG='{}/none.toml' TERM=xterm-256color '{}' tui {args} 2>>'{}/stderr.txt'; echo $? > '{}/exit.txt'",
            env!("CARGO_MANIFEST_DIR"),
            home.display(),
            home.display(),
            home.display(),
            home.display(),
            bin,
            home.display(),
            home.display()
        );
        // After `kill-session` of the last session the server exits on its own;
        // a `new-session` that reaches the dying server fails with "server exited
        // unexpectedly". That is tmux's race, not the TUI's: start again.
        let mut tries = 0;
        let out = loop {
            let out = self.cmd(&[
                "new-session",
                "-d",
                "-s",
                &self.session,
                "-x",
                "120",
                "-y",
                "40",
                &cmdline,
            ]);
            tries += 1;
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.success() || tries == 5 || !err.contains("server exited unexpectedly") {
                break out;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Keep the pane after exit so a crash can be read.
        self.cmd(&["set-option", "-t", &self.session, "remain-on-exit", "on"]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["capture-pane", "-p", "-t", &self.session])
                .stdout,
        )
        .into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.cmd(&["send-keys", "-t", &self.session, k]);
            assert!(out.status.success());
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn literal(&self, text: &str) {
        self.cmd(&["send-keys", "-t", &self.session, "-l", text]);
        std::thread::sleep(Duration::from_millis(100));
    }

    fn wait_exit(&self) {
        let exit = self.home.join("exit.txt");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(code) = std::fs::read_to_string(&exit) {
                if !code.trim().is_empty() {
                    let err =
                        std::fs::read_to_string(self.home.join("stderr.txt")).unwrap_or_default();
                    assert_eq!(code.trim(), "0", "the TUI exited with an error: {err}");
                    let _ = std::fs::remove_file(&exit);
                    self.cmd(&["kill-session", "-t", &self.session]);
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the TUI did not exit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn have_tmux() -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("notice: tmux is not installed; skipping the tmux end-to-end test");
        return false;
    }
    true
}

fn skilltrace(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skilltrace"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SKILLTRACE_CONFIG", dir.join("none.toml"))
        .output()
        .unwrap()
}

#[test]
fn triage_in_tmux_survives_a_restart_and_reaches_sarif() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e2e.db");
    let dbs = db.to_str().unwrap();
    let imp = skilltrace(dir.path(), &["import", "samples", "--db", dbs]);
    assert!(
        imp.status.success(),
        "import: {}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let (runs, secrets) = {
        let st = skilltrace::store::Store::open_read(&db).unwrap();
        let secrets = skilltrace::store::FindingFilter {
            rule_id: Some("SEC-TRACE-001".into()),
            ..Default::default()
        };
        (
            st.run_count(&Default::default()).unwrap(),
            st.finding_count(&secrets).unwrap(),
        )
    };
    assert!(secrets >= 3, "{secrets}");
    let t = Tmux {
        socket: format!("skilltrace-e2e-{}", std::process::id()),
        session: "st".into(),
        home: dir.path().to_path_buf(),
    };

    t.start(dir.path(), &db);
    t.wait_for(&format!("Runs ({runs})"));
    t.keys(&["Tab"]);
    t.wait_for("0 triaged hidden");
    // Drill from the first finding to its span, and back.
    t.keys(&["o"]);
    t.wait_for("Findings on this span");
    t.keys(&["Escape"]);
    t.wait_for("0 triaged hidden");
    // Three findings, one key each (no question asked), then undo the last.
    t.keys(&["x"]);
    t.wait_for("false-positive (saved");
    t.keys(&["c"]);
    t.wait_for("confirmed (saved");
    t.keys(&["x"]);
    t.wait_for("false-positive (saved");
    t.keys(&["u"]);
    t.wait_for("undone: 1 back as before");
    // A signed note on the row now selected (the one just undone).
    t.keys(&["n"]);
    t.wait_for("Ctrl-S save");
    t.literal("ticket SEC-12");
    t.keys(&["C-s"]);
    t.wait_for("note saved on 1 finding(s)");
    // Bulk: every SEC-TRACE-001 finding, suppressed with a reason.
    t.keys(&["f"]);
    t.literal("rule:SEC-TRACE-001");
    t.keys(&["Enter"]);
    t.wait_for("filter: rule:SEC-TRACE-001");
    t.keys(&["M", "s"]);
    t.wait_for("Suppress rule SEC-TRACE-001: why?");
    t.keys(&["C-u"]);
    t.literal("fixture secrets, not real keys");
    t.keys(&["Enter"]);
    t.wait_for(&format!("{secrets} finding(s) → suppressed"));
    t.keys(&["Escape"]);
    t.wait_for("Findings (");
    t.keys(&["q"]);
    t.wait_exit();

    // The same store in a new session: all of it kept.
    t.start(dir.path(), &db);
    t.wait_for(&format!("Runs ({runs})"));
    t.keys(&["Tab"]);
    t.wait_for("triaged hidden");
    t.keys(&["a"]);
    let s = t.wait_for("all statuses");
    assert!(s.contains("false+") && s.contains("confirmed"), "{s}");
    t.keys(&["f"]);
    t.literal("is:sup");
    t.keys(&["Enter"]);
    let s = t.wait_for("filter: is:sup");
    assert!(
        s.contains("suppressed") && s.contains("fixture secrets, not real keys"),
        "{s}"
    );
    t.keys(&["C-c"]);
    t.wait_exit();

    let out = skilltrace(dir.path(), &["findings", "--format", "json", "--db", dbs]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = v.as_array().unwrap();
    let with = |s: &str| all.iter().filter(|f| f["status"] == s).collect::<Vec<_>>();
    let fp = with("false-positive");
    assert!(!fp.is_empty(), "{v:#}");
    // The false positives are one row: findings about one action.
    assert!(
        fp.iter().all(|f| f["span_id"] == fp[0]["span_id"]),
        "{fp:#?}"
    );
    // One row confirmed: one finding, or a group about one action.
    let confirmed = with("confirmed");
    assert!(!confirmed.is_empty(), "{v:#}");
    assert!(
        confirmed
            .iter()
            .all(|f| f["span_id"] == confirmed[0]["span_id"]
                && f["run_id"] == confirmed[0]["run_id"]),
        "{confirmed:#?}"
    );
    let sup = with("suppressed");
    assert_eq!(sup.len() as u64, secrets);
    for f in &sup {
        assert_eq!(f["reason"], "fixture secrets, not real keys");
        assert_eq!(f["triaged_by"], "e2e-tester");
    }
    let noted: Vec<_> = all
        .iter()
        .filter(|f| f["notes"].as_array().is_some_and(|n| !n.is_empty()))
        .collect();
    assert_eq!(noted.len(), 1, "{v:#}");
    assert_eq!(
        noted[0]["status"], "open",
        "the undone finding is open again"
    );
    assert_eq!(noted[0]["notes"][0]["author"], "e2e-tester");
    assert_eq!(noted[0]["notes"][0]["text"], "ticket SEC-12");

    let sarif = dir.path().join("out.sarif");
    let out = skilltrace(
        dir.path(),
        &[
            "export",
            "--format",
            "sarif",
            "--db",
            dbs,
            "-o",
            sarif.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<_> = results
        .iter()
        .filter(|r| r["ruleId"] == "SEC-TRACE-001")
        .collect();
    assert_eq!(suppressed.len() as u64, secrets);
    for r in suppressed {
        let s = &r["suppressions"][0];
        assert_eq!(s["kind"], "external");
        assert_eq!(
            s["justification"],
            "suppressed: fixture secrets, not real keys"
        );
        assert_eq!(s["properties"]["triagedBy"], "e2e-tester");
    }
    let fps = results
        .iter()
        .filter(|r| r["properties"]["status"] == "false-positive")
        .count();
    assert_eq!(fps, fp.len());
    let with_note: Vec<_> = results
        .iter()
        .filter(|r| r["properties"]["notes"].is_array())
        .collect();
    assert_eq!(with_note.len(), 1);
    assert_eq!(
        with_note[0]["properties"]["notes"][0]["author"],
        "e2e-tester"
    );
    assert_eq!(with_note[0]["suppressions"], serde_json::json!([]));
}

/// Demo mode imports and follows the samples: each file is one source.
#[test]
fn demo_mode_lists_each_sample_once() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Every trace file, however deep (agents such as OpenCode and Cline keep a
    // folder of files per session).
    fn traces(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    traces(&p)
                } else {
                    usize::from(p.extension().is_some_and(|x| x == "jsonl" || x == "json"))
                }
            })
            .sum()
    }
    let files = traces(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"));
    let t = Tmux {
        socket: format!("skilltrace-demo-{}", std::process::id()),
        session: "demo".into(),
        home: dir.path().to_path_buf(),
    };
    t.start_with(dir.path(), "samples/");
    t.wait_for("Runs (");
    // Let the follower take over, then look at Sources.
    std::thread::sleep(Duration::from_millis(1500));
    t.keys(&["BTab"]);
    let s = t.wait_for(&format!("Sources ({files})"));
    assert!(!s.contains(&format!("Sources ({})", files * 2)), "{s}");
    t.keys(&["q"]);
    t.wait_exit();
}

/// `tui PATH` with a path that does not exist: one line, exit 2, no workbench.
#[test]
fn tui_on_a_missing_path_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = skilltrace(dir.path(), &["tui", "/nonexistent/traces"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: /nonexistent/traces: no such file or folder"
    );
    assert!(out.stdout.is_empty());
}
