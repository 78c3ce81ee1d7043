//! What a run's earlier commands told the command rules about the later ones:
//! the working directory (the run's own, then where `cd` left the agent's
//! shell, which Claude Code keeps between calls) and the git remotes added.
//! Bounded: at most [`MAX_RUNS`] runs, oldest dropped first.

use crate::hash::HashMap;
use std::collections::VecDeque;

/// How many runs keep command context at once.
const MAX_RUNS: usize = 512;
/// Per run, at most this many remotes are remembered.
const MAX_REMOTES: usize = 64;

/// One run's command context.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The run's working directory, as its agent recorded it.
    pub run_cwd: Option<String>,
    /// Where the last `cd` of a shell call left the agent's shell.
    pub shell_cwd: Option<String>,
    /// Git remotes (name, URL) added by earlier calls.
    pub remotes: Vec<(String, String)>,
}

impl Session {
    /// The directory the next shell call starts in.
    pub fn cwd(&self) -> Option<&str> {
        self.shell_cwd.as_deref().or(self.run_cwd.as_deref())
    }

    /// Remembers what a shell call changed.
    pub fn after_shell(&mut self, final_cwd: Option<&str>, remotes: &[(String, String)]) {
        if let Some(c) = final_cwd {
            self.shell_cwd = Some(c.to_string());
        }
        for r in remotes {
            if self.remotes.len() < MAX_REMOTES {
                self.remotes.push(r.clone());
            }
        }
    }
}

/// Sessions by run id.
#[derive(Debug, Default)]
pub struct Sessions {
    map: HashMap<String, Session>,
    order: VecDeque<String>,
    /// Never used: what [`Sessions::get`] would hand out if a run just inserted were missing.
    spare: Session,
}

impl Sessions {
    /// The run's session (created empty).
    pub fn get(&mut self, run: &str) -> &mut Session {
        if !self.map.contains_key(run) {
            if self.order.len() >= MAX_RUNS {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
            self.order.push_back(run.to_string());
            self.map.insert(run.to_string(), Session::default());
        }
        // A run seen before (nearly every span) costs a lookup, not an allocation.
        match self.map.get_mut(run) {
            Some(s) => s,
            None => &mut self.spare,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwd_and_remotes_carry_over_and_runs_are_bounded() {
        let mut s = Sessions::default();
        s.get("r").run_cwd = Some("/home/u/p".into());
        assert_eq!(s.get("r").cwd(), Some("/home/u/p"));
        s.get("r").after_shell(
            Some("~/.aws"),
            &[("x".into(), "https://h.example/r.git".into())],
        );
        assert_eq!(s.get("r").cwd(), Some("~/.aws"));
        assert_eq!(s.get("r").remotes.len(), 1);
        for i in 0..(MAX_RUNS + 10) {
            s.get(&format!("run{i}"));
        }
        assert!(s.map.len() <= MAX_RUNS);
        assert!(s.get("r").cwd().is_none(), "the oldest run was dropped");
    }
}
