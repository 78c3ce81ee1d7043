//! What a command line sets for itself, as the shell would remember it while
//! the line runs: variables (`c=cu`, `export`, `declare`, `read <<<`, `set --`,
//! arrays), aliases, the working directory (`cd`, `pushd`) and git remotes
//! added on the line (and where a `git push` then sends). The walker expands
//! later words against it.

use super::walker::Walker;
use super::words::Expand;
use super::Via;
use std::collections::HashMap;

/// At most this many variables and aliases are remembered per line.
const MAX_NAMES: usize = 256;
/// A remembered value is at most this long.
const MAX_VALUE: usize = 64 * 1024;

/// The line's own shell state.
#[derive(Debug, Clone, Default)]
pub(super) struct Env {
    vars: HashMap<String, Vec<String>>,
    /// Variables the line set to something unknown (they hide the defaults).
    unknown: std::collections::HashSet<String>,
    aliases: HashMap<String, String>,
    /// Shell functions defined on the line: name → body text.
    functions: HashMap<String, String>,
    /// Working directory, when the run's is known or a `cd` chose one.
    pub(super) cwd: Option<String>,
    /// `git remote add NAME URL` on this line.
    pub(super) remotes: HashMap<String, String>,
}

impl Env {
    pub(super) fn new(cwd: Option<String>) -> Env {
        Env {
            cwd,
            ..Env::default()
        }
    }

    /// A variable's value: set on the line, or what every fresh shell has.
    pub(super) fn get(&self, name: &str) -> Option<Vec<String>> {
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        if self.unknown.contains(name) {
            return None;
        }
        let d = match name {
            "HOME" => "~".to_string(),
            "IFS" => " \t\n".to_string(),
            "PATH" => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            "SHELL" | "BASH" => "/bin/bash".to_string(),
            "0" => "bash".to_string(),
            // a fresh `bash -c` has no positional parameters
            "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" => String::new(),
            "@" => return Some(Vec::new()),
            "PWD" => self.cwd.clone()?,
            _ => return None,
        };
        Some(vec![d])
    }

    /// `NAME=value` (or `+=`); an unknown value forgets the name.
    pub(super) fn assign(&mut self, name: &str, values: Vec<String>, dynamic: bool, append: bool) {
        if dynamic {
            self.unset(name);
            return;
        }
        if self.vars.len() >= MAX_NAMES && !self.vars.contains_key(name) {
            return;
        }
        let values: Vec<String> = values
            .into_iter()
            .map(|v| {
                if v.len() > MAX_VALUE {
                    String::new()
                } else {
                    v
                }
            })
            .collect();
        self.unknown.remove(name);
        if append {
            match self.vars.get_mut(name) {
                Some(old) if values.len() == 1 && old.len() == 1 => old[0].push_str(&values[0]),
                Some(old) => old.extend(values),
                None => {
                    self.vars.insert(name.to_string(), values);
                }
            }
        } else {
            self.vars.insert(name.to_string(), values);
        }
    }

    pub(super) fn unset(&mut self, name: &str) {
        self.vars.remove(name);
        if self.unknown.len() < MAX_NAMES {
            self.unknown.insert(name.to_string());
        }
    }

    /// The text an alias stands for.
    pub(super) fn alias(&self, name: &str) -> Option<String> {
        self.aliases.get(name).cloned()
    }

    /// `name() { … }`: remembered so that a later `name ARGS` runs the body.
    pub(super) fn define_function(&mut self, name: &str, body: String) {
        if body.len() <= MAX_VALUE
            && (self.functions.len() < MAX_NAMES || self.functions.contains_key(name))
        {
            self.functions.insert(name.to_string(), body);
        }
    }

    /// The body of a function defined on the line.
    pub(super) fn function(&self, name: &str) -> Option<String> {
        self.functions.get(name).cloned()
    }

    /// Sets `$1`…`$9` and `$@` for a function call; returns what they held,
    /// for [`Env::restore_positional`].
    pub(super) fn set_positional(
        &mut self,
        args: Vec<String>,
    ) -> Vec<(String, Option<Vec<String>>)> {
        let names = POSITIONAL.iter().map(|n| n.to_string());
        let saved = names.map(|n| {
            let old = self.vars.get(&n).cloned();
            (n, old)
        });
        let saved: Vec<_> = saved.collect();
        for (i, n) in POSITIONAL[..9].iter().enumerate() {
            let v = args.get(i).cloned().unwrap_or_default();
            self.vars.insert(n.to_string(), vec![v]);
        }
        self.vars.insert("@".to_string(), args);
        saved
    }

    /// Puts back the positional parameters a function call replaced.
    pub(super) fn restore_positional(&mut self, saved: Vec<(String, Option<Vec<String>>)>) {
        for (n, old) in saved {
            match old {
                Some(v) => self.vars.insert(n, v),
                None => self.vars.remove(&n),
            };
        }
    }
}

/// The positional parameters a function call binds.
const POSITIONAL: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "@"];

impl Expand for Walker<'_> {
    fn var(&mut self, name: &str) -> Option<Vec<String>> {
        self.env.get(name)
    }

    fn set_var(&mut self, name: &str, value: String) {
        self.env.assign(name, vec![value], false, false);
    }

    fn subst(&mut self, script: &str) -> Option<(String, Vec<String>)> {
        let depth = self.word_depth + 1;
        let before = self.out.commands.len();
        let plog = self.pipes.len();
        let level = self.level;
        let saved = self.env.clone();
        self.script(script, Via::Substitution, depth);
        self.env = saved;
        self.word_depth = depth - 1;
        self.collected.extend(before..self.out.commands.len());
        self.eval_pipes(plog, depth, level)
    }
}

impl Walker<'_> {
    /// What a command changes in the line's state once it has run.
    pub(super) fn after_command(&mut self, id: usize) {
        let c = &self.out.commands[id];
        let name = c.name();
        let args: Vec<String> = c.args().to_vec();
        match name.as_str() {
            "alias" => {
                for a in &args {
                    if let Some((k, v)) = a.split_once('=') {
                        if self.env.aliases.len() < MAX_NAMES && v.len() <= MAX_VALUE {
                            self.env.aliases.insert(k.to_string(), v.to_string());
                        }
                    }
                }
            }
            "unalias" => {
                for a in &args {
                    self.env.aliases.remove(a);
                }
            }
            "unset" => {
                for a in args.iter().filter(|a| !a.starts_with('-')) {
                    self.env.vars.remove(a);
                }
            }
            "cd" | "pushd" => {
                let target = args.iter().find(|a| !a.starts_with('-'));
                let next = match target {
                    None => Some("~".to_string()),
                    Some(t) if t.contains("$(…)") || t.contains('$') => None,
                    Some(t) => Some(crate::detect::path::resolve(t, self.env.cwd.as_deref())),
                };
                match next {
                    Some(n) if !crate::detect::path::is_relative(&n) => self.env.cwd = Some(n),
                    _ => self.env.cwd = None,
                }
            }
            "read" => {
                // `read [-r] NAME <<< "value"`
                let here = c
                    .redirects
                    .iter()
                    .find(|r| r.kind == super::RedirectKind::HereString)
                    .map(|r| r.target.clone());
                let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
                if let (Some(v), [n]) = (here, names.as_slice()) {
                    let n = n.to_string();
                    self.env.assign(&n, vec![v], false, false);
                } else {
                    for n in names {
                        let n = n.to_string();
                        self.env.unset(&n);
                    }
                }
            }
            // `printf -v NAME FORMAT [ARG]…` assigns what it would print
            "printf" if args.first().map(|a| a == "-v").unwrap_or(false) && args.len() >= 3 => {
                let n = args[1].clone();
                let dynamic = self.out.commands[id].unresolved;
                match super::textops::printf(&args[2..]) {
                    Some(b) => {
                        let v = String::from_utf8_lossy(&b).into_owned();
                        self.env.assign(&n, vec![v], dynamic, false);
                    }
                    None => self.env.unset(&n),
                }
            }
            "set" if args.first().map(|a| a == "--").unwrap_or(false) => {
                let pos: Vec<String> = args[1..].to_vec();
                for (i, v) in pos.iter().enumerate().take(9) {
                    self.env
                        .assign(&(i + 1).to_string(), vec![v.clone()], false, false);
                }
                self.env.assign("@", pos, false, false);
            }
            "git" => {
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                if let ["remote", "add", rest @ ..] = a.as_slice() {
                    let pos: Vec<&&str> = rest.iter().filter(|x| !x.starts_with('-')).collect();
                    if let [n, url, ..] = pos.as_slice() {
                        self.env.remotes.insert(n.to_string(), url.to_string());
                        self.out.remotes.push((n.to_string(), url.to_string()));
                    }
                }
                if let ["remote", "set-url", rest @ ..] = a.as_slice() {
                    let pos: Vec<&&str> = rest.iter().filter(|x| !x.starts_with('-')).collect();
                    if let [n, url, ..] = pos.as_slice() {
                        self.env.remotes.insert(n.to_string(), url.to_string());
                        self.out.remotes.push((n.to_string(), url.to_string()));
                    }
                }
            }
            _ => {}
        }
        if self.out.commands[id].depth == 0 {
            self.out.final_cwd.clone_from(&self.env.cwd);
        }
    }

    /// Where `git [-c remote.X.url=U] push [REMOTE]` sends: a remote added
    /// or re-pointed on the line, or one `-c` points for this call (`push`
    /// without a remote pushes to `origin`).
    pub(super) fn push_url(&self, args: &[String]) -> Option<String> {
        let mut i = 0;
        let mut given: Vec<(String, String)> = Vec::new();
        while let Some(a) = args.get(i) {
            if a == "-c" || a == "-C" {
                if let Some((k, v)) = args.get(i + 1).and_then(|kv| kv.split_once('=')) {
                    let k = k.to_ascii_lowercase();
                    if let Some(r) = k.strip_prefix("remote.") {
                        if let Some(name) = r.strip_suffix(".url").or(r.strip_suffix(".pushurl")) {
                            given.push((name.to_string(), v.to_string()));
                        }
                    }
                }
                i += 2;
            } else if a.starts_with('-') {
                i += 1;
            } else {
                break;
            }
        }
        if args.get(i).map(String::as_str) != Some("push") {
            return None;
        }
        let remote = args[i + 1..]
            .iter()
            .find(|a| !a.starts_with('-'))
            .map(String::as_str)
            .unwrap_or("origin");
        given
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(remote))
            .map(|(_, u)| u.clone())
            .or_else(|| self.env.remotes.get(remote).cloned())
    }
}
