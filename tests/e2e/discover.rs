//! Zero-config discovery, run as a user would: a fake HOME holds every known
//! agent's folder (Codex's relocated by `CODEX_HOME`); `skilltrace tail` with
//! no path says which it follows, picks up an agent folder created while it
//! runs, and stores every agent's sessions; `doctor` lists the folders.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use skilltrace::store::{RunFilter, RunSort, Store};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");

/// Variables that relocate an agent's home: cleared so the fake HOME decides.
const RELOCATORS: &[&str] = &[
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GEMINI_CLI_HOME",
    "COPILOT_HOME",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
    "CLINE_DIR",
];

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else if from
        .extension()
        .is_some_and(|x| x == "json" || x == "jsonl")
    {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}

fn with_env(mut c: Command, home: &Path, codex_home: &Path) -> Command {
    for v in RELOCATORS {
        c.env_remove(v);
    }
    c.env("HOME", home).env("CODEX_HOME", codex_home);
    c
}

/// Every agent's folder under `home`, Codex's under `codex_home`.
fn fake_home(home: &Path, codex_home: &Path) {
    let fix = Path::new(FIX);
    let storage = ".config/Code/User/globalStorage";
    copy_tree(
        &fix.join("claude-code/session_excerpt.jsonl"),
        &home.join(".claude/projects/-home-dev-app/session_excerpt.jsonl"),
    );
    copy_tree(
        &fix.join("codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl"),
        &codex_home.join(
            "sessions/2026/02/23/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
        ),
    );
    copy_tree(
        &fix.join("gemini-cli/session-2025-12-16T23-47-b4f17607.json"),
        &home.join(".gemini/tmp/9f2c/chats/session-2025-12-16T23-47-b4f17607.json"),
    );
    copy_tree(
        &fix.join("copilot-cli/aaaabbbb-1111-2222-3333-ccccddddeeee"),
        &home.join(".copilot/session-state/aaaabbbb-1111-2222-3333-ccccddddeeee"),
    );
    copy_tree(
        &fix.join("opencode/storage"),
        &home.join(".local/share/opencode/storage"),
    );
    copy_tree(
        &fix.join("cline/saoudrizwan.claude-dev/tasks"),
        &home.join(storage).join("saoudrizwan.claude-dev/tasks"),
    );
    copy_tree(
        &fix.join("cline/rooveterinaryinc.roo-cline/tasks"),
        &home.join(storage).join("rooveterinaryinc.roo-cline/tasks"),
    );
}

fn agents_in(db: &Path) -> Vec<&'static str> {
    let s = Store::open_read(db).unwrap();
    let mut v: Vec<&str> = s
        .runs(&RunFilter::default(), RunSort::Started, 0, 1000)
        .unwrap()
        .iter()
        .filter_map(|r| r.run.agent.map(|a| a.as_str()))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn tail_with_no_path_follows_every_agent_folder_and_ones_that_appear() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let codex_home = t.path().join("elsewhere/codex");
    fake_home(&home, &codex_home);
    let db = t.path().join("s.db");

    let mut child = with_env(bin(), &home, &codex_home)
        .arg("tail")
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = Vec::new();
    let wait_for = |what: &str, said: &mut Vec<String>| {
        let t0 = Instant::now();
        while !said.iter().any(|l: &String| l.contains(what)) {
            let left = Duration::from_secs(30).saturating_sub(t0.elapsed());
            match rx.recv_timeout(left) {
                Ok(l) => said.push(l),
                Err(_) => panic!("tail never said {what:?}: {said:#?}"),
            }
        }
    };
    wait_for("other known agent folder", &mut said);
    for agent in [
        "claude-code: ",
        "gemini-cli: ",
        "copilot-cli: ",
        "opencode: ",
        "cline: ",
        "roo-code: ",
    ] {
        assert!(
            said.iter()
                .any(|l| l.contains("following ") && l.contains(agent)),
            "{agent} not said: {said:#?}"
        );
    }
    let codex = format!(
        "following codex: {} (from $CODEX_HOME)",
        codex_home.join("sessions").display()
    );
    assert!(said.iter().any(|l| l.contains(&codex)), "{said:#?}");
    assert!(!said.iter().any(|l| l.contains("kilo-code")), "{said:#?}");

    // Kilo Code is installed while tail runs: its folder is followed too.
    let kilo = home.join(".config/Code/User/globalStorage/kilocode.kilo-code/tasks/1755799999999");
    copy_tree(
        &Path::new(FIX).join("cline/saoudrizwan.claude-dev/tasks/1755700000000"),
        &kilo,
    );
    wait_for("now following kilo-code: ", &mut said);
    let t0 = Instant::now();
    let want = [
        "claude-code",
        "cline",
        "codex",
        "copilot-cli",
        "gemini-cli",
        "kilo-code",
        "opencode",
        "roo-code",
    ];
    while t0.elapsed() < Duration::from_secs(30) {
        if Store::open_read(&db).is_ok() && agents_in(&db) == want {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    assert!(child.wait().unwrap().success());
    assert_eq!(agents_in(&db), want);

    // doctor lists what discovery finds.
    let out = with_env(bin(), &home, &codex_home)
        .args(["doctor", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for agent in want {
        assert!(
            text.contains(&format!("agent: {agent}: ")),
            "{agent}: {text}"
        );
    }
    assert!(text.contains("(from $CODEX_HOME)"), "{text}");
}

#[test]
fn tail_with_no_path_and_no_agent_waits_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("empty");
    std::fs::create_dir_all(&home).unwrap();
    let db = t.path().join("s.db");
    let mut child = with_env(bin(), &home, &t.path().join("none"))
        .arg("tail")
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("no agent folder found yet"), "{first}");
    // The banner comes last, once the tailer is about to start (signals handled).
    let mut rest = String::new();
    while !rest.contains("following every agent folder") {
        assert!(err.read_line(&mut rest).unwrap() > 0, "{rest}");
    }
    std::thread::sleep(Duration::from_millis(300));
    ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    assert!(child.wait().unwrap().success());
}
