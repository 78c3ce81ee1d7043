//! Where each agent keeps its trace files by default and which environment
//! variable relocates them, as data (`assets/ingest/agents.toml`), so that
//! discovery and `doctor` can find every agent folder on a machine.
//!
//! [`roots`] is pure: the caller passes the home folder and a way to read the
//! environment, so tests can give a fake HOME.

use super::Format;
use crate::model::AgentKind;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The built-in table.
const AGENTS_TOML: &str = include_str!("../../../assets/ingest/agents.toml");

/// One place an agent writes its traces.
#[derive(Debug, Clone, Deserialize)]
pub struct AgentHome {
    /// Agent kind name (`gemini-cli`, `roo-code`, ...).
    pub agent: String,
    /// `--format` name of the parser that reads these files.
    pub format: String,
    /// The variable that relocates the agent's home, if any.
    pub env: Option<String>,
    /// The root below the variable's value, when it is set.
    pub under_env: String,
    /// The roots below the user's home folder otherwise (editors, platforms).
    pub under_home: Vec<String>,
    /// What is found there (for `doctor` and the README).
    pub note: String,
}

impl AgentHome {
    pub fn agent_kind(&self) -> AgentKind {
        AgentKind::parse(&self.agent)
    }

    pub fn format(&self) -> Option<Format> {
        Format::from_name(&self.format)
    }
}

#[derive(Deserialize)]
struct Table {
    home: Vec<AgentHome>,
}

/// Every built-in agent home, in the table's order.
pub fn homes() -> &'static [AgentHome] {
    static HOMES: OnceLock<Vec<AgentHome>> = OnceLock::new();
    HOMES.get_or_init(|| {
        // The table is embedded and checked by a unit test: a parse failure
        // here is a build defect, so an empty table is the safe answer.
        toml::from_str::<Table>(AGENTS_TOML)
            .map(|t| t.home)
            .unwrap_or_default()
    })
}

/// The candidate roots of every agent: `<env>/<under_env>` when the agent's
/// variable is set (non-blank), else `<home>/<under_home>` for each entry.
/// Whether a root exists is for the caller to check.
pub fn roots(
    home: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Vec<(&'static AgentHome, PathBuf)> {
    let mut out = Vec::new();
    for h in homes() {
        let relocated = h
            .env
            .as_deref()
            .and_then(&env)
            .filter(|v| !v.trim().is_empty());
        match relocated {
            // An empty `under_env`: the variable names the file or folder itself.
            Some(dir) if h.under_env.is_empty() => out.push((h, PathBuf::from(dir.trim()))),
            Some(dir) => out.push((h, Path::new(dir.trim()).join(&h.under_env))),
            None => out.extend(h.under_home.iter().map(|u| (h, home.join(u)))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_names_known_agents_and_formats() {
        let hs = homes();
        assert!(hs.len() >= 9, "{}", hs.len());
        for h in hs {
            assert_ne!(h.agent_kind(), AgentKind::Unknown, "{}", h.agent);
            assert!(h.format().is_some(), "{}", h.format);
            assert!(!h.under_home.is_empty());
        }
    }

    #[test]
    fn a_variable_relocates_its_agent_only() {
        let home = Path::new("/home/u");
        let env = |k: &str| (k == "COPILOT_HOME").then(|| "/srv/copilot".to_string());
        let rs = roots(home, env);
        let copilot: Vec<_> = rs
            .iter()
            .filter(|(h, _)| h.agent == "copilot-cli")
            .collect();
        assert_eq!(copilot.len(), 1);
        assert_eq!(copilot[0].1, Path::new("/srv/copilot/session-state"));
        let gemini: Vec<_> = rs.iter().filter(|(h, _)| h.agent == "gemini-cli").collect();
        assert_eq!(gemini[0].1, Path::new("/home/u/.gemini/tmp"));
        // A remote editor server's storage is looked for whatever XDG_CONFIG_HOME says.
        let xdg = roots(home, |k: &str| {
            (k == "XDG_CONFIG_HOME").then(|| "/x".to_string())
        });
        for p in [
            "/home/u/.vscode-server/data/User/globalStorage/saoudrizwan.claude-dev/tasks",
            "/home/u/.vscode-remote/data/User/globalStorage/rooveterinaryinc.roo-cline/tasks",
            "/x/Code/User/globalStorage/saoudrizwan.claude-dev/tasks",
        ] {
            assert!(xdg.iter().any(|(_, r)| r == Path::new(p)), "{p}");
        }
        let blank = roots(home, |_| Some("  ".to_string()));
        assert!(blank
            .iter()
            .any(|(_, p)| p == Path::new("/home/u/.claude/projects")));
    }
}
