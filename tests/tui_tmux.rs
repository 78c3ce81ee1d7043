//! End to end in a real terminal: the `skilltrace` binary runs inside a detached
//! tmux session (its own server socket); keys go in with `send-keys`, the screen
//! comes back with `capture-pane`. Open, go to Findings, mark one false positive
//! with a note, quit; reopen and see the state kept; check the store with
//! `skilltrace findings --format json`. Skipped with a notice when tmux is missing.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    session: String,
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
        let bin = env!("CARGO_BIN_EXE_skilltrace");
        let cmdline = format!(
            "env HOME='{}' XDG_CONFIG_HOME='{}/config' XDG_DATA_HOME='{}/data' SKILLTRACE_CONFIG='{}/none.toml' TERM=xterm-256color '{}' tui --db '{}'",
            home.display(),
            home.display(),
            home.display(),
            home.display(),
            bin,
            db.display()
        );
        let out = self.cmd(&[
            "new-session",
            "-d",
            "-s",
            &self.session,
            "-x",
            "120",
            "-y",
            "32",
            &cmdline,
        ]);
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
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.cmd(&[
                "display-message",
                "-p",
                "-t",
                &self.session,
                "#{pane_dead} #{pane_dead_status}",
            ]);
            let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if s.starts_with('1') {
                assert_eq!(s, "1 0", "the TUI exited with an error:\n{}", self.screen());
                self.cmd(&["kill-session", "-t", &self.session]);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the TUI did not exit: {s}\n{}",
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

#[test]
fn triage_in_tmux_survives_a_restart() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("notice: tmux is not installed; skipping the tmux end-to-end test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e2e.db");
    let bin = env!("CARGO_BIN_EXE_skilltrace");
    let imp = Command::new(bin)
        .args(["import", "samples", "--db"])
        .arg(&db)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SKILLTRACE_CONFIG", dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(
        imp.status.success(),
        "import: {}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let (runs, findings, second) = {
        let st = skilltrace::store::Store::open_read(&db).unwrap();
        let runs = st.run_count(&Default::default()).unwrap();
        let findings = st.finding_count(&Default::default()).unwrap();
        let second = st.findings(&Default::default(), 1, 1).unwrap().remove(0).id;
        (runs, findings, second)
    };
    assert!(findings >= 2, "samples give findings");
    let runs_title = format!("Runs ({runs})");
    let findings_title = format!("Findings ({findings})");
    let t = Tmux {
        socket: format!("skilltrace-e2e-{}", std::process::id()),
        session: "st".into(),
    };

    t.start(dir.path(), &db);
    t.wait_for(&runs_title);
    t.keys(&["Tab"]);
    t.wait_for(&findings_title);
    t.keys(&["j", "x"]);
    t.wait_for("Mark as false positive: finding");
    t.keys(&["y"]);
    t.wait_for("false-positive (saved)");
    t.keys(&["n"]);
    t.wait_for("Ctrl-S save");
    t.literal("harmless: read by the test suite");
    t.keys(&["Enter"]);
    t.literal("ticket SEC-12");
    t.keys(&["C-s"]);
    t.wait_for("note: harmless: read by the test suite");
    t.keys(&["q"]);
    t.wait_exit();

    t.start(dir.path(), &db);
    t.wait_for(&runs_title);
    t.keys(&["Tab"]);
    t.wait_for(&findings_title);
    t.keys(&["j"]);
    let s = t.wait_for("note: harmless: read by the test suite");
    assert!(s.contains("false+"), "{s}");
    t.keys(&["C-c"]);
    t.wait_exit();

    let out = Command::new(env!("CARGO_BIN_EXE_skilltrace"))
        .args(["findings", "--format", "json", "--db"])
        .arg(&db)
        .env("SKILLTRACE_CONFIG", dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = v.as_array().unwrap();
    assert_eq!(all.len() as u64, findings);
    let triaged: Vec<_> = all.iter().filter(|f| f["status"] != "open").collect();
    assert_eq!(triaged.len(), 1, "{v:#}");
    assert_eq!(triaged[0]["id"], second);
    assert_eq!(triaged[0]["status"], "false-positive");
    assert_eq!(
        triaged[0]["note"],
        "harmless: read by the test suite\nticket SEC-12"
    );
}
