//! `skilltrace guard install|uninstall|status` on a fake HOME whose agents
//! already have hooks of their own: those survive install and uninstall byte
//! for byte, a second install changes nothing, uninstall leaves the files as
//! they were, and the installed hook answers.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{bin, ok};
use std::path::Path;

/// The user's own settings, as each agent's documentation shows them.
fn user_files(home: &Path) -> Vec<(&'static str, std::path::PathBuf, String)> {
    let fx = |agent: &str, name: &str| {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/hooks/{agent}/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    vec![
        (
            "claude-code",
            home.join(".claude/settings.json"),
            fx("claude-code", "settings.http-hook.json"),
        ),
        (
            "cursor",
            home.join(".cursor/hooks.json"),
            fx("cursor", "hooks.json"),
        ),
        (
            "gemini",
            home.join(".gemini/settings.json"),
            fx("gemini", "settings.json"),
        ),
        (
            "codex",
            home.join(".codex/hooks.json"),
            fx("codex", "hooks.json"),
        ),
    ]
}

fn guard(home: &Path, args: &[&str]) -> std::process::Output {
    ok(bin()
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .current_dir(home)
        .arg("guard")
        .args(args))
}

#[test]
fn user_hooks_survive_install_and_uninstall_byte_for_byte() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("st.db");
    let db = db.to_str().unwrap();
    for (agent, path, original) in user_files(home.path()) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &original).unwrap();
        let out = guard(home.path(), &["install", "--agent", agent, "--db", db]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("guarded") && said.contains("backup"),
            "{said}"
        );
        let installed = std::fs::read_to_string(&path).unwrap();
        assert_ne!(installed, original);
        assert!(installed.contains(" guard --agent "), "{installed}");
        // every user hook is still there, as written
        let user: serde_json::Value = serde_json::from_str(&original).unwrap();
        let now: serde_json::Value = serde_json::from_str(&installed).unwrap();
        for (event, list) in user["hooks"].as_object().unwrap() {
            for h in list.as_array().unwrap() {
                assert!(
                    now["hooks"][event].as_array().unwrap().contains(h),
                    "{agent}: lost {h} of {event}"
                );
            }
        }
        let mut backup = path.as_os_str().to_owned();
        backup.push(".skilltrace-backup");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);

        // a second install changes nothing
        let out = guard(home.path(), &["install", "--agent", agent, "--db", db]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("already guarded"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), installed);

        // uninstall: back to the exact bytes, backup gone
        guard(home.path(), &["uninstall", "--agent", agent]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), original, "{agent}");
        assert!(!Path::new(&backup).exists());
        let out = guard(home.path(), &["uninstall", "--agent", agent]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("was not guarded"));
    }
}

#[test]
fn install_creates_what_is_missing_and_uninstall_removes_it() {
    let home = tempfile::tempdir().unwrap();
    for agent in ["claude-code", "cursor", "gemini", "codex"] {
        for scope in ["user", "project"] {
            guard(
                home.path(),
                &["install", "--agent", agent, "--scope", scope],
            );
        }
    }
    for f in [
        ".claude/settings.json",
        ".claude/settings.local.json",
        ".cursor/hooks.json",
        ".gemini/settings.json",
        ".codex/hooks.json",
    ] {
        let text = std::fs::read_to_string(home.path().join(f)).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }
    for agent in ["claude-code", "cursor", "gemini", "codex"] {
        for scope in ["user", "project"] {
            guard(
                home.path(),
                &["uninstall", "--agent", agent, "--scope", scope],
            );
        }
    }
    for d in [".claude", ".cursor", ".gemini", ".codex"] {
        let left: Vec<_> = std::fs::read_dir(home.path().join(d))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{d}: {left:?}");
    }
}

#[test]
fn status_shows_what_is_guarded_and_that_it_answers() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("st.db");
    guard(
        home.path(),
        &["install", "--agent", "codex", "--db", db.to_str().unwrap()],
    );
    let out = guard(home.path(), &["status"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("guard codex (user): guarded in"), "{s}");
    assert!(s.contains("the hook answers"), "{s}");
    assert!(s.contains("guard claude-code (user): not guarded"), "{s}");
    // the probe judged but recorded nothing
    assert!(
        !db.exists()
            || skilltrace::store::Store::open_read(&db)
                .unwrap()
                .counts()
                .unwrap()
                .spans
                == 0
    );
    // doctor says the same
    let d = bin()
        .env("HOME", home.path())
        .current_dir(home.path())
        .args(["doctor", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let ds = String::from_utf8_lossy(&d.stdout);
    assert!(ds.contains("guard codex (user): guarded"), "{ds}");
}

#[test]
fn a_broken_settings_file_is_left_alone_with_one_line() {
    let home = tempfile::tempdir().unwrap();
    let p = home.path().join(".claude/settings.json");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, "{ \"hooks\": [ }").unwrap();
    let out = bin()
        .env("HOME", home.path())
        .args(["guard", "install", "--agent", "claude-code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("not touching it") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "{ \"hooks\": [ }");
}
