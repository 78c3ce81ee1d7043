//! Attacks on guarantee 1 through the store itself: real-shaped secrets
//! (AI-provider keys, a GitHub token, AWS keys, a private key block, a JWT, a
//! password in a URL) written into an imported store by hand, with another
//! tool, where this version's redactor never saw them: span text, tool input
//! and attributes, a run's title, a finding's title, message and evidence, a
//! triage note, a parse error. Every byte of the JSON, OTLP and SARIF exports,
//! of `runs`, `findings`, `replay` and `cost` (text and JSON) and of TUI frames
//! is scanned for any 8-character piece of each, and for the terminal escapes
//! planted beside them (guarantee 3). A user's own rule (config)
//! is used on the way out too.
//!
//! `SKILLTRACE_ATTACK_BIN=/path/to/skilltrace` runs the commands with another
//! build (a release of `main` before this test: it fails).
#![allow(clippy::unwrap_used)]

use crate::redaction_support::planted;
use crate::{common, redaction_support};
use common::{bin, ok};
use skilltrace::tui::harness::Harness;
use skilltrace::tui::theme::Theme;
use std::path::Path;
use std::process::Command;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/claude-code/attack-skill-exfiltrates-aws.jsonl"
);

/// Terminal escapes (guarantee 3) written into the store beside the secrets:
/// an OSC 52 clipboard write, a CSI, a bidi override.
const HOSTILE: &str = " \u{1b}]52;c;aGVsbG8=\u{7} \u{1b}[2J \u{202e}x";

/// True when `bytes` hold a raw escape, BEL or bidi override.
fn unsafe_bytes(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
        || bytes.contains(&0x07)
        || bytes.windows(3).any(|w| w == "\u{202e}".as_bytes())
}

/// The binary under test ([`bin`], or `SKILLTRACE_ATTACK_BIN` with the same settings).
fn cmd() -> Command {
    match std::env::var_os("SKILLTRACE_ATTACK_BIN") {
        Some(b) => {
            let mut c = Command::new(b);
            c.env(
                "SKILLTRACE_CONFIG",
                "/nonexistent/skilltrace-test-config.toml",
            );
            c.env("NO_COLOR", "1");
            c
        }
        None => bin(),
    }
}

/// The planted secrets: (rule, text holding it, the secret).
fn secrets() -> Vec<(&'static str, String, String)> {
    let want = [
        "private_key",
        "anthropic_api_key",
        "openai_api_key",
        "github_token",
        "aws_access_key_id",
        "aws_secret_access_key",
        "jwt",
        "url_credentials",
        "stripe_secret_key",
    ];
    let out: Vec<_> = planted()
        .into_iter()
        .filter(|(r, _, _)| want.contains(r))
        .collect();
    assert_eq!(out.len(), want.len());
    out
}

/// Writes the secrets into the store at `db` as another tool would.
fn plant(db: &Path, s: &[(&'static str, String, String)], own: &str) {
    let ctx = |rule: &str| {
        s.iter()
            .find(|(r, _, _)| *r == rule)
            .map(|(_, c, _)| c.clone())
            .unwrap()
    };
    let c = rusqlite::Connection::open(db).unwrap();
    let first = "(SELECT min(key) FROM spans)";
    let last = "(SELECT max(key) FROM spans)";
    c.execute(
        &format!("UPDATE spans SET text = ?1 WHERE key = {first}"),
        [format!(
            "{}\n{}\nand {own}{HOSTILE}",
            ctx("openai_api_key"),
            ctx("anthropic_api_key")
        )],
    )
    .unwrap();
    c.execute(
        &format!("UPDATE spans SET text = ?1, tool_input = ?2, attributes = ?3 WHERE key = {last}"),
        [
            ctx("private_key"),
            serde_json::json!({"command": ctx("github_token")}).to_string(),
            serde_json::json!({"planted": ctx("url_credentials"), "aws": ctx("aws_access_key_id")})
                .to_string(),
        ],
    )
    .unwrap();
    c.execute(
        "UPDATE runs SET title = ?1",
        [format!("{}{HOSTILE}", ctx("jwt"))],
    )
    .unwrap();
    c.execute(
        "UPDATE findings SET evidence = ?1, message = ?2, title = ?3",
        [
            ctx("aws_secret_access_key"),
            ctx("stripe_secret_key"),
            format!("found {own}{HOSTILE}"),
        ],
    )
    .unwrap();
    c.execute(
        "INSERT INTO finding_notes(finding_id, author, ts_ms, text) SELECT id, 'me', 1, ?1 FROM findings",
        [ctx("github_token")],
    )
    .unwrap();
    c.execute(
        "INSERT INTO parse_errors(path, line, message) VALUES (?1, 1, ?2)",
        [SAMPLE.to_string(), ctx("anthropic_api_key")],
    )
    .unwrap();
}

/// Any 8-character piece of a secret (past its rule-named prefix) in `bytes`.
fn leak(bytes: &[u8], secrets: &[String]) -> Option<String> {
    for s in secrets {
        let b = s.as_bytes();
        let skip = s
            .find(['-', '_'])
            .map(|i| i + 1)
            .filter(|&i| i <= 8)
            .unwrap_or(0);
        for i in skip..b.len().saturating_sub(7) {
            let piece = &b[i..i + 8];
            if piece.iter().all(|c| c.is_ascii_alphanumeric())
                && bytes.windows(8).any(|w| w == piece)
            {
                return Some(String::from_utf8_lossy(piece).into_owned());
            }
        }
    }
    None
}

fn run_all(db: &Path, config: Option<&Path>) -> Vec<(String, Vec<u8>)> {
    let out = |args: &[&str]| {
        let mut c = cmd();
        if let Some(p) = config {
            c.env("SKILLTRACE_CONFIG", p);
        }
        let o = ok(c.args(args).arg("--db").arg(db));
        let mut bytes = o.stdout;
        bytes.extend_from_slice(&o.stderr);
        (args.join(" "), bytes)
    };
    let run_id = {
        let c = rusqlite::Connection::open(db).unwrap();
        c.query_row("SELECT id FROM runs LIMIT 1", [], |r| r.get::<_, String>(0))
            .unwrap()
    };
    vec![
        out(&["export", "--format", "json"]),
        out(&["export", "--format", "otlp"]),
        out(&["export", "--format", "sarif"]),
        out(&["runs"]),
        out(&["runs", "--format", "json"]),
        out(&["findings"]),
        out(&["findings", "--format", "json"]),
        out(&["replay", &run_id, "--speed", "0"]),
        out(&["cost", "--by", "run"]),
    ]
}

#[test]
fn secrets_written_into_the_store_by_hand_leave_no_byte_in_any_export_listing_replay_or_tui_frame()
{
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(cmd().arg("import").arg(SAMPLE).arg("--db").arg(&db));
    let s = secrets();
    // A user's own rule, used when the config that has it is the one in use.
    let own = format!("ACME-{}", redaction_support::alnum(24, 99));
    plant(&db, &s, &own);
    let values: Vec<String> = s.iter().map(|(_, _, v)| v.clone()).collect();

    // Control: the db holds every secret whole, so the scan can see them.
    let held = std::fs::read(&db).unwrap();
    for v in &values {
        assert!(
            leak(&held, std::slice::from_ref(v)).is_some(),
            "not planted"
        );
    }

    let blobs = run_all(&db, None);
    for (name, bytes) in &blobs {
        if let Some(p) = leak(bytes, &values) {
            panic!(
                "piece {p} of a planted secret in `{name}`:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    for (name, bytes) in &blobs {
        assert!(!unsafe_bytes(bytes), "a terminal escape in `{name}`");
    }
    let all: Vec<u8> = blobs.iter().flat_map(|(_, b)| b.clone()).collect();
    let all = String::from_utf8_lossy(&all);
    assert!(all.contains("[REDACTED:private_key]"), "no marker");
    assert!(all.contains("[REDACTED:jwt]"), "no title marker");

    // The user's config: its own rule redacts on the way out too.
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[[redaction.rules]]\nname = \"acme_key\"\npattern = 'ACME-[A-Za-z0-9]{24}'\nkeywords = [\"acme-\"]\n",
    )
    .unwrap();
    let with_rule = run_all(&db, Some(&cfg));
    let own_body = own[5..].to_string();
    for (name, bytes) in &with_rule {
        if let Some(p) = leak(bytes, std::slice::from_ref(&own_body)) {
            panic!("piece {p} of the user-rule secret in `{name}`");
        }
    }
    let json = &with_rule[0].1;
    assert!(
        String::from_utf8_lossy(json).contains("[REDACTED:acme_key]"),
        "the user's rule was not used"
    );

    // TUI frames (in-process): runs, a run, its last span, findings.
    if std::env::var_os("SKILLTRACE_ATTACK_BIN").is_none() {
        let mut h = Harness::new(&db, 200, 50, 1_900_000_000_000, Theme::dark()).unwrap();
        use crossterm::event::{KeyCode, KeyModifiers};
        let mut screens = h.draw();
        h.key(KeyCode::Enter, KeyModifiers::NONE);
        screens.push_str(&h.draw());
        h.key(KeyCode::End, KeyModifiers::NONE);
        h.key(KeyCode::Enter, KeyModifiers::NONE);
        screens.push_str(&h.draw());
        h.key(KeyCode::Esc, KeyModifiers::NONE);
        h.key(KeyCode::Esc, KeyModifiers::NONE);
        h.key(KeyCode::Tab, KeyModifiers::NONE);
        screens.push_str(&h.draw());
        h.key(KeyCode::Enter, KeyModifiers::NONE);
        screens.push_str(&h.draw());
        assert!(
            !unsafe_bytes(screens.as_bytes()),
            "a terminal escape on screen"
        );
        if let Some(p) = leak(screens.as_bytes(), &values) {
            panic!("piece {p} of a planted secret on screen:\n{screens}");
        }
        // The planted title is on screen, redacted.
        assert!(screens.contains("[REDACTED:jwt]"), "{screens}");
    }
}
