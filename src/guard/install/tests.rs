//! Unit tests of install/uninstall on real-looking settings files: the user's
//! hooks keep their bytes, a second install changes nothing, uninstall
//! restores the file byte for byte.

use super::*;

fn mode() -> Mode {
    Mode::Command {
        exe: "/opt/bin/skilltrace".into(),
        db: None,
    }
}

/// Installs, checks the user's text survives and a second install changes
/// nothing, uninstalls, checks the file is back to its bytes.
fn round_trip(agent: Agent, original: Option<&str>, keep: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    if let Some(o) = original {
        std::fs::write(&path, o).unwrap();
    }
    let out = install(agent, &path, &mode()).unwrap();
    assert!(
        matches!(out, Outcome::Changed { backup: Some(_) }),
        "{out:?}"
    );
    let installed = std::fs::read_to_string(&path).unwrap();
    for k in keep {
        assert!(installed.contains(k), "lost {k:?}:\n{installed}");
    }
    let f = found(agent, &installed).unwrap();
    assert_eq!(f.len(), entries(agent, &mode()).len(), "{installed}");
    assert!(jsonedit::parse(&installed)
        .unwrap()
        .value(&installed)
        .is_some());
    assert_eq!(install(agent, &path, &mode()).unwrap(), Outcome::Unchanged);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), installed);
    assert!(matches!(
        uninstall(agent, &path).unwrap(),
        Outcome::Changed { .. }
    ));
    match original {
        Some(o) => assert_eq!(std::fs::read_to_string(&path).unwrap(), o),
        None => assert!(!path.exists(), "a file the install created goes"),
    }
    assert!(
        !backup_path(&path).exists(),
        "the backup goes once restored"
    );
    assert_eq!(uninstall(agent, &path).unwrap(), Outcome::Unchanged);
}

#[test]
fn claude_code_settings_with_user_hooks() {
    let o = r#"{
  "model": "opus",
  "permissions": {"allow": ["Bash(npm test)"]},
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [{"type": "command", "command": "python3 ~/hooks/check.py", "timeout": 30}]
      }
    ],
    "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
  }
}
"#;
    round_trip(
        Agent::ClaudeCode,
        Some(o),
        &[
            r#"{"type": "command", "command": "python3 ~/hooks/check.py", "timeout": 30}"#,
            r#""Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]"#,
        ],
    );
}

#[test]
fn settings_without_hooks_and_compact_files() {
    round_trip(
        Agent::ClaudeCode,
        Some("{\n  \"model\": \"opus\"\n}\n"),
        &["\"model\": \"opus\""],
    );
    round_trip(
        Agent::Codex,
        Some(r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]}]}}"#),
        &["\"command\":\"x\""],
    );
    round_trip(Agent::ClaudeCode, Some("{\n  \"hooks\": {}\n}\n"), &[]);
}

#[test]
fn no_file_at_all() {
    for a in Agent::ALL.into_iter().filter(|a| !owns_files(*a)) {
        round_trip(a, None, &[]);
    }
}

#[test]
fn copilot_hooks_file_with_the_users_hooks() {
    let o = std::fs::read_to_string(format!(
        "{}/tests/fixtures/hooks/copilot-cli/hooks.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    round_trip(
        Agent::CopilotCli,
        Some(&o),
        &[
            "\"bash\": \"./scripts/security-check.sh\"",
            "\"timeoutSec\": 10",
        ],
    );
    let text = jsonedit::render_pretty(&json!({"hooks": {}}), "  ");
    let (_, v) = &entries(Agent::CopilotCli, &mode())[0];
    assert_eq!(
        v,
        &json!({"type": "command", "bash": "/opt/bin/skilltrace guard --agent copilot-cli", "timeoutSec": 30})
    );
    assert!(found(Agent::CopilotCli, &text).unwrap().is_empty());
}

#[test]
fn where_the_new_agents_keep_their_hooks() {
    let (h, p) = (Path::new("/h"), Path::new("/p"));
    for (agent, scope, want) in [
        (
            Agent::CopilotCli,
            Scope::User,
            "/h/.copilot/hooks/skilltrace-guard.json",
        ),
        (
            Agent::CopilotCli,
            Scope::Project,
            "/p/.github/hooks/skilltrace-guard.json",
        ),
        (Agent::Cline, Scope::User, "/h/Documents/Cline/Hooks"),
        (Agent::Cline, Scope::Project, "/p/.clinerules/hooks"),
        (
            Agent::Opencode,
            Scope::User,
            "/h/.config/opencode/plugin/skilltrace-guard.js",
        ),
        (
            Agent::Opencode,
            Scope::Project,
            "/p/.opencode/plugin/skilltrace-guard.js",
        ),
    ] {
        assert_eq!(settings_path(agent, scope, h, p), Path::new(want));
    }
}

#[test]
fn cursor_hooks_json_and_gemini_settings_with_comments() {
    let cursor = "{\n  \"version\": 1,\n  \"hooks\": {\n    \"afterFileEdit\": [{ \"command\": \"./hooks/format.sh\" }]\n  }\n}\n";
    round_trip(
        Agent::Cursor,
        Some(cursor),
        &["[{ \"command\": \"./hooks/format.sh\" }"],
    );
    let gemini = "{\n  // my settings\n  \"theme\": \"GitHub\",\n  \"hooks\": {\n    \"BeforeTool\": [\n      {\n        \"matcher\": \"write_file\",\n        \"hooks\": [{\"name\": \"lint\", \"type\": \"command\", \"command\": \"./lint.sh\"}]\n      },\n    ]\n  }\n}\n";
    round_trip(
        Agent::Gemini,
        Some(gemini),
        &["// my settings", "\"command\": \"./lint.sh\"}]"],
    );
}

#[test]
fn switching_to_http_replaces_the_guard_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, "{\"hooks\": {\"Stop\": []}}\n").unwrap();
    install(Agent::ClaudeCode, &path, &mode()).unwrap();
    let http = Mode::Http {
        url: "http://127.0.0.1:8788".into(),
        exe: "/opt/bin/skilltrace".into(),
        db: None,
    };
    install(Agent::ClaudeCode, &path, &http).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let f = found(Agent::ClaudeCode, &text).unwrap();
    assert_eq!(f.len(), entries(Agent::ClaudeCode, &http).len(), "{text}");
    assert!(
        text.contains("http://127.0.0.1:8788/guard/claude-code"),
        "{text}"
    );
    assert!(!text.contains("\"type\": \"command\""), "{text}");
    uninstall(Agent::ClaudeCode, &path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"hooks\": {\"Stop\": []}}\n"
    );
}

#[test]
fn files_that_are_not_settings_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    for bad in [
        "[1, 2]",
        "{\"hooks\": [1]}",
        "{\"hooks\": {\"PreToolUse\": {}}}",
        "{oops",
    ] {
        std::fs::write(&path, bad).unwrap();
        let e = install(Agent::ClaudeCode, &path, &mode())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not touching it"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), bad);
    }
}

#[test]
fn commands_quote_paths_and_name_the_agent() {
    let m = Mode::Command {
        exe: "/Users/me/my bin/skilltrace".into(),
        db: Some("/tmp/it's.db".into()),
    };
    assert_eq!(
        command_line(Agent::Codex, &m),
        r#"'/Users/me/my bin/skilltrace' guard --agent codex --db '/tmp/it'\''s.db'"#
    );
}
