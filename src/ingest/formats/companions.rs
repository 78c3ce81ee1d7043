//! Files agents keep beside their traces that hold no trace (a Cline task's
//! `task_metadata.json`, a Claude Code subagent's `agent-*.meta.json`,
//! OpenCode's `storage/project/*.json` ...), as data
//! (`assets/ingest/companions.toml`), so that walking a real agent folder
//! skips them instead of reporting each as a file of an unsupported format.
//!
//! A check is a few string compares against the file's name and its folder's.

use serde::Deserialize;
use std::path::Path;
use std::sync::OnceLock;

/// The built-in table.
const COMPANIONS_TOML: &str = include_str!("../../../assets/ingest/companions.toml");

/// One kind of companion file.
#[derive(Debug, Clone, Deserialize)]
pub struct Companion {
    /// Whose file it is.
    pub agent: String,
    /// File name; one `*` matches any run of characters.
    pub name: String,
    /// The name of the folder holding it, when the name alone is too common.
    pub parent: Option<String>,
    /// What it holds.
    pub why: String,
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
    companions().iter().find(|c| {
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
    fn one_star_matches_any_run_but_never_overlaps() {
        assert!(glob_match("agent-*.meta.json", "agent-a1.meta.json"));
        assert!(glob_match("agent-*.meta.json", "agent-.meta.json"));
        assert!(!glob_match("agent-*.meta.json", "agent-a1.jsonl"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("x.json", "x.json"));
        assert!(!glob_match("x.json", "y.json"));
    }
}
