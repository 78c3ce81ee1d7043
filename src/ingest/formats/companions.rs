//! Files agents keep beside their traces that hold no trace (a Cline task's
//! `task_metadata.json`, a Claude Code subagent's `agent-*.meta.json`,
//! OpenCode's `storage/project/*.json` ...), as data
//! (`assets/ingest/companions.toml`, extended by the config's
//! `[[ingest.companions]]`), so that walking a real agent folder skips them
//! instead of reporting each as a file of an unsupported format.
//!
//! A check is a few string compares against the file's name and its folder's.

use serde::Deserialize;
use std::path::Path;
use std::sync::OnceLock;

/// The built-in table.
const COMPANIONS_TOML: &str = include_str!("../../../assets/ingest/companions.toml");

/// One kind of companion file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Companion {
    /// Whose file it is.
    pub agent: String,
    /// File name; one `*` matches any run of characters.
    pub name: String,
    /// The name of the folder holding it, when the name alone is too common.
    pub parent: Option<String>,
    /// What it holds.
    #[serde(default)]
    pub why: String,
}

/// Rules the user's config adds (`[[ingest.companions]]`), once per process.
static EXTRA: OnceLock<Vec<Companion>> = OnceLock::new();

/// Adds the config's rules to the built-in ones (the first call wins; later
/// calls only check theirs). A rule with no agent or name, or with more than
/// one `*`, is refused with why.
pub fn install(extra: &[Companion]) -> Result<(), String> {
    for (i, c) in extra.iter().enumerate() {
        let why = if c.agent.trim().is_empty() {
            "no agent"
        } else if c.name.trim().is_empty() {
            "no name"
        } else if c.name.matches('*').count() > 1 {
            "a name holds at most one `*`"
        } else if c.name.contains(['/', '\\']) {
            "a name is a file name, not a path (use `parent` for its folder)"
        } else {
            continue;
        };
        return Err(format!("entry {} ({:?}): {why}", i + 1, c.name));
    }
    let _ = EXTRA.set(extra.to_vec());
    Ok(())
}

#[derive(Deserialize)]
struct Table {
    file: Vec<Companion>,
}

/// Every built-in companion rule, in the table's order.
pub fn companions() -> &'static [Companion] {
    static TABLE: OnceLock<Vec<Companion>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Embedded and checked by a unit test: a parse failure is a build
        // defect, and an empty table only means every file is read.
        toml::from_str::<Table>(COMPANIONS_TOML)
            .map(|t| t.file)
            .unwrap_or_default()
    })
}

/// The rule naming `path` as a companion file, if one does.
pub fn companion(path: &Path) -> Option<&'static Companion> {
    let name = path.file_name()?.to_str()?;
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|p| p.to_str());
    let extra = EXTRA.get().map(Vec::as_slice).unwrap_or_default();
    companions().iter().chain(extra).find(|c| {
        glob_match(&c.name, name) && c.parent.as_deref().is_none_or(|p| Some(p) == parent)
    })
}

/// `pattern` with at most one `*` against `name`.
fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_rule_names_an_agent() {
        let t = toml::from_str::<Table>(COMPANIONS_TOML).expect("companions.toml parses");
        assert_eq!(t.file.len(), companions().len());
        for c in companions() {
            assert!(!c.agent.is_empty() && !c.why.is_empty(), "{c:?}");
            assert!(c.name.matches('*').count() <= 1, "{c:?}");
        }
    }

    #[test]
    fn agent_bookkeeping_files_are_companions_and_traces_are_not() {
        let yes = [
            "/h/.vscode/globalStorage/saoudrizwan.claude-dev/tasks/17/task_metadata.json",
            "/h/.claude/projects/-p/0a1b/subagents/agent-a0ad4f.meta.json",
            "/h/.claude/todos/0a1b-agent-0a1b.json",
            "/h/.claude/settings.json",
            "/h/.codex/history.jsonl",
            "/h/.gemini/settings.json",
            "/h/.local/share/opencode/storage/project/4b0ea6.json",
            "/h/.local/share/opencode/storage/session_diff/ses_1.json",
            "/h/.local/share/opencode/storage/todo/ses_1.json",
        ];
        for p in yes {
            assert!(companion(Path::new(p)).is_some(), "{p}");
        }
        let no = [
            "/h/.vscode/globalStorage/saoudrizwan.claude-dev/tasks/17/api_conversation_history.json",
            "/h/.vscode/globalStorage/saoudrizwan.claude-dev/tasks/17/ui_messages.json",
            "/h/.claude/projects/-p/0a1b/subagents/agent-a0ad4f.jsonl",
            "/h/.claude/projects/-p/0a1b.jsonl",
            "/h/.codex/sessions/2026/10/14/rollout-x.jsonl",
            "/h/.gemini/tmp/abc/chats/session-2026-01-01T00-00-abc.json",
            "/h/.gemini/tmp/abc/logs.json",
            "/h/.local/share/opencode/storage/session/4b0ea6/ses_1.json",
            "/h/.local/share/opencode/storage/part/msg_1/prt_1.json",
            "/h/work/history.jsonl",
            "/h/work/settings.json",
        ];
        for p in no {
            assert!(companion(Path::new(p)).is_none(), "{p}");
        }
    }

    #[test]
    fn the_config_adds_rules_and_bad_ones_are_refused() {
        let rule = |name: &str, parent: Option<&str>| Companion {
            agent: "acme-agent".into(),
            name: name.into(),
            parent: parent.map(String::from),
            why: String::new(),
        };
        for (bad, why) in [
            (rule("a*b*.json", None), "at most one"),
            (rule(" ", None), "no name"),
            (rule("x/state.json", None), "not a path"),
            (
                Companion {
                    agent: String::new(),
                    ..rule("s.json", None)
                },
                "no agent",
            ),
        ] {
            let e = install(&[rule("ok.json", None), bad]).expect_err("refused");
            assert!(e.starts_with("entry 2 (") && e.contains(why), "{e}");
        }
        let p = "/h/.acme/sessions/state-1.json";
        assert!(companion(Path::new(p)).is_none());
        install(&[rule("state-*.json", Some("sessions"))]).expect("good rules");
        assert_eq!(
            companion(Path::new(p)).map(|c| c.agent.as_str()),
            Some("acme-agent")
        );
        assert!(companion(Path::new("/h/.acme/other/state-1.json")).is_none());
        // Built-in rules still hold.
        assert!(companion(Path::new("/h/.codex/history.jsonl")).is_some());
    }

    #[test]
    fn one_star_matches_any_run_but_never_overlaps() {
        assert!(glob_match("agent-*.meta.json", "agent-a1.meta.json"));
        assert!(glob_match("agent-*.meta.json", "agent-.meta.json"));
        assert!(!glob_match("agent-*.meta.json", "agent-a1.jsonl"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("x.json", "x.json"));
        assert!(!glob_match("x.json", "y.json"));
    }
}
