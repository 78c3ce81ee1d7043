//! Zero-config discovery: every folder where a known agent (Claude Code,
//! Codex, Gemini CLI, Copilot CLI, OpenCode, Cline/Roo/Kilo) keeps its trace
//! files on this machine, from the agent-homes table
//! ([`crate::ingest::formats::homes`]), honouring each agent's variable for a
//! relocated home (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`, ...).
//!
//! Discovery only lists roots; the tailer follows them (a root that does not
//! exist yet is followed once it appears), and [`Announcer`] says which roots
//! are followed and when a new one appears.

use super::formats::homes::{self, AgentHome};
use std::path::{Path, PathBuf};

/// One candidate agent folder.
#[derive(Debug, Clone)]
pub struct AgentRoot {
    pub home: &'static AgentHome,
    pub path: PathBuf,
    /// The variable that put the folder here, when it is set.
    pub relocated_by: Option<String>,
}

impl AgentRoot {
    /// `agent: path` (and `(from $VAR)` when relocated), sanitised for a terminal.
    pub fn describe(&self) -> String {
        let by = self
            .relocated_by
            .as_deref()
            .map(|v| format!(" (from ${v})"))
            .unwrap_or_default();
        let text = format!("{}: {}{by}", self.home.agent, self.path.display());
        crate::sanitize::line(&text).into_owned()
    }

    /// A folder, or a file root (OpenCode's `opencode.db`) that is there.
    pub fn exists(&self) -> bool {
        self.path.is_dir() || self.path.is_file()
    }
}

/// Every candidate root for `home` and the environment `env` (deduplicated).
pub fn candidates(home: &Path, env: impl Fn(&str) -> Option<String>) -> Vec<AgentRoot> {
    let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let mut out: Vec<AgentRoot> = Vec::new();
    for (h, path) in homes::roots(home, set) {
        if out.iter().any(|r| r.path == path) {
            continue;
        }
        let relocated_by = h.env.clone().filter(|v| set(v).is_some());
        out.push(AgentRoot {
            home: h,
            path,
            relocated_by,
        });
    }
    out
}

/// The user's home folder: `$HOME`, else the platform's answer.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()))
}

/// Candidates for this process's home and environment.
pub fn on_this_machine() -> Vec<AgentRoot> {
    match home_dir() {
        Some(h) => candidates(&h, |k| std::env::var(k).ok()),
        None => Vec::new(),
    }
}

/// Says once which roots exist, then each root as it appears.
#[derive(Debug)]
pub struct Announcer {
    roots: Vec<AgentRoot>,
    seen: Vec<bool>,
}

impl Announcer {
    pub fn new(roots: Vec<AgentRoot>) -> Announcer {
        let seen = vec![false; roots.len()];
        Announcer { roots, seen }
    }

    /// Lines for roots that exist now and were not said before.
    pub fn news(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for (r, seen) in self.roots.iter().zip(self.seen.iter_mut()) {
            if !*seen && r.exists() {
                *seen = true;
                out.push(r.describe());
            }
        }
        out
    }

    /// How many candidate roots do not exist (yet).
    pub fn waiting(&self) -> usize {
        self.seen.iter().filter(|s| !**s).count()
    }

    pub fn paths(&self) -> Vec<PathBuf> {
        self.roots.iter().map(|r| r.path.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_has_a_candidate_and_a_variable_relocates_one() {
        let home = Path::new("/home/u");
        let env = |k: &str| (k == "CODEX_HOME").then(|| "/data/codex".to_string());
        let c = candidates(home, env);
        for agent in [
            "claude-code",
            "codex",
            "gemini-cli",
            "copilot-cli",
            "opencode",
            "cline",
            "roo-code",
            "kilo-code",
        ] {
            assert!(c.iter().any(|r| r.home.agent == agent), "{agent}");
        }
        let codex: Vec<_> = c.iter().filter(|r| r.home.agent == "codex").collect();
        assert_eq!(codex.len(), 2, "live and archived rollouts");
        assert_eq!(codex[0].path, Path::new("/data/codex/sessions"));
        assert_eq!(codex[1].path, Path::new("/data/codex/archived_sessions"));
        assert_eq!(codex[0].relocated_by.as_deref(), Some("CODEX_HOME"));
        assert!(codex[0].describe().ends_with("(from $CODEX_HOME)"));
        let oc: Vec<_> = c.iter().filter(|r| r.home.agent == "opencode").collect();
        assert_eq!(
            oc.iter().map(|r| r.path.clone()).collect::<Vec<_>>(),
            [
                PathBuf::from("/home/u/.local/share/opencode/storage"),
                PathBuf::from("/home/u/.local/share/opencode/opencode.db"),
            ],
            "the storage folder and the 1.x SQLite store, once"
        );
        let moved = candidates(home, |k| {
            (k == "OPENCODE_DB_PATH").then(|| "/d/oc.db".to_string())
        });
        assert!(moved.iter().any(|r| r.path == Path::new("/d/oc.db")
            && r.relocated_by.as_deref() == Some("OPENCODE_DB_PATH")));
        let claude = c.iter().find(|r| r.home.agent == "claude-code");
        assert_eq!(
            claude.map(|r| r.path.clone()),
            Some(PathBuf::from("/home/u/.claude/projects"))
        );
    }

    #[test]
    fn the_announcer_says_each_root_once_as_it_appears() {
        let tmp = tempfile::tempdir().expect("tmp");
        let c = candidates(tmp.path(), |_| None);
        let total = c.len();
        let mut a = Announcer::new(c);
        assert!(a.news().is_empty());
        assert_eq!(a.waiting(), total);
        std::fs::create_dir_all(tmp.path().join(".gemini/tmp")).expect("mkdir");
        let said = a.news();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].starts_with("gemini-cli: "), "{said:?}");
        assert!(a.news().is_empty());
        assert_eq!(a.waiting(), total - 1);
    }
}
