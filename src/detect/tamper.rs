//! GRD-TRACE-001: a tool call that switches the guard off quietly, by editing
//! an agent's hook settings or skilltrace's config, store, key or guard state,
//! by running a command that uninstalls the guard, or by pointing the agent's
//! own shell away from skilltrace (its variables, an alias or function).
//!
//! The paths, commands and path-changing commands are data
//! (`assets/detect/tamper.toml`); the store, key and config in use are added at
//! start ([`Tamper::protect`]). Input is a [`ToolCall`]; output is [`Hit`]s.

use super::exec::write_targets;
use super::hit::Hit;
use super::rules::id;
use super::shell::Command;
use super::taxonomy::{normalise_path, PathSet};
use super::tools::{Action, ToolCall};
use super::DetectError;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TamperFile {
    paths: Vec<String>,
    commands: Vec<Vec<String>>,
    mutators: Vec<String>,
    stoppers: Vec<Vec<String>>,
    watchers: Vec<String>,
    variables: Vec<String>,
    names: Vec<String>,
    agents: Vec<String>,
}

/// The protected files and the commands that turn the guard off.
#[derive(Debug, Clone)]
pub struct Tamper {
    globs: Vec<String>,
    paths: PathSet,
    /// Files protected at start, normalised (a trailing `/`: a whole folder).
    exact: Vec<String>,
    commands: Vec<Vec<String>>,
    mutators: Vec<String>,
    /// Commands that stop processes or services (`pkill`, `systemctl stop`).
    stoppers: Vec<Vec<String>>,
    /// Names of skilltrace's own processes.
    watchers: Vec<String>,
    /// Prefixes of the variables skilltrace reads.
    variables: Vec<String>,
    /// Command names an alias or function must not take over.
    names: Vec<String>,
    /// Agent programs: one started with a variable of ours runs hooks pointed away.
    agents: Vec<String>,
}

impl Tamper {
    /// The built-in data plus `extra` path globs.
    pub fn load(extra: &[String]) -> Result<Tamper, DetectError> {
        let f: TamperFile =
            crate::assets::parse("detect/tamper.toml").map_err(DetectError::Data)?;
        let globs: Vec<String> = f.paths.into_iter().chain(extra.iter().cloned()).collect();
        Ok(Tamper {
            paths: PathSet::new(&globs)?,
            globs,
            exact: Vec::new(),
            commands: f.commands,
            mutators: f.mutators,
            stoppers: f.stoppers,
            watchers: f.watchers,
            variables: f.variables,
            names: f.names,
            agents: f.agents,
        })
    }

    /// Compiles the protected path globs now.
    pub fn warm(&self) {
        self.paths.warm();
    }

    /// Adds path globs to protect (`[guard] protect_paths` in the config).
    pub fn add_globs(&mut self, globs: &[String]) -> Result<(), DetectError> {
        if globs.is_empty() {
            return Ok(());
        }
        self.globs.extend(globs.iter().cloned());
        self.paths = PathSet::new(&self.globs)?;
        Ok(())
    }

    /// Adds files to protect (the store, its key, the config in use) as
    /// literal paths; one ending in `/` protects a whole folder.
    pub fn protect(&mut self, files: &[String]) {
        for f in files {
            let n = normalise_path(f);
            if !n.is_empty() && !self.exact.contains(&n) {
                self.exact.push(n);
            }
        }
    }

    /// What protects `path` (a glob or a file protected at start), if anything.
    pub fn protected(&self, path: &str) -> Option<&str> {
        if let Some(g) = self.paths.matches(path) {
            return Some(g);
        }
        let n = normalise_path(path);
        self.exact
            .iter()
            .find(|e| match e.strip_suffix('/') {
                Some(dir) => n == dir || n.starts_with(e.as_str()),
                None => n == **e,
            })
            .map(String::as_str)
    }

    /// Hits for a tool call that changes a protected file or disables the guard.
    pub fn check(&self, call: &ToolCall) -> Vec<Hit> {
        let mut hits = Vec::new();
        for a in &call.actions {
            match a {
                Action::Write { path, content } => {
                    if let Some(g) = self.protected(path) {
                        hits.push(hit(&call.tool, path, g));
                    } else if let Some(v) = self.sets_ours(content) {
                        hits.push(planted(&call.tool, &v, path));
                    }
                }
                Action::Shell { text, script } => {
                    for (i, cmd) in script.commands.iter().enumerate() {
                        self.command(cmd, text, &mut hits);
                        self.stop(cmd, script, text, &mut hits);
                        self.shell_off(cmd, text, &mut hits);
                        self.planted_in_file(cmd, script, i, &mut hits);
                    }
                    self.function_over(text, &mut hits);
                }
                _ => {}
            }
        }
        hits
    }

    fn command(&self, cmd: &Command, text: &str, hits: &mut Vec<Hit>) {
        let argv: Vec<String> = std::iter::once(cmd.name())
            .chain(cmd.args().iter().cloned())
            .collect();
        if let Some(c) = self
            .commands
            .iter()
            .find(|c| c.len() <= argv.len() && c.iter().zip(&argv).all(|(w, a)| w == a))
        {
            let ev = super::hit::clip(text, 160);
            hits.push(
                Hit::new(
                    id::GUARD_TAMPER,
                    format!("runs `{}`, which switches the guard off", c.join(" ")),
                    &ev,
                )
                .key(&format!("command {}", c.join(" "))),
            );
        }
        let mut targets = write_targets(cmd);
        if self.mutators.contains(&cmd.name()) {
            targets.extend(cmd.args().iter().filter(|a| !a.starts_with('-')).cloned());
        }
        for t in targets {
            if let Some(g) = self.protected(&t) {
                hits.push(hit(&cmd.name(), &t, g));
            }
        }
    }
}

impl Tamper {
    /// `pkill -f "skilltrace guard"`, `kill $(pgrep skilltrace)`,
    /// `pgrep skilltrace | xargs kill`, `systemctl --user stop skilltrace-tail`.
    fn stop(&self, cmd: &Command, script: &super::shell::Script, text: &str, hits: &mut Vec<Hit>) {
        let name = cmd.name();
        let args = cmd.args();
        let Some(s) = self.stoppers.iter().find(|s| {
            s.first() == Some(&name) && {
                let mut rest = args.iter();
                s[1..]
                    .iter()
                    .all(|w| rest.any(|a| w.split('|').any(|alt| alt == a)))
            }
        }) else {
            return;
        };
        // what names the process: its own words, and those of the commands
        // whose output it gets (a substitution, or stdin through `xargs`)
        let feeders = cmd.subst_ids.iter().chain(cmd.stdin_from.iter());
        let words = args.iter().map(String::as_str).chain(
            feeders
                .filter_map(|i| script.commands.get(*i))
                .flat_map(|c| c.argv.iter().map(String::as_str)),
        );
        let named = words
            .map(str::to_ascii_lowercase)
            .find(|w| self.watchers.iter().any(|n| w.contains(n.as_str())));
        if let Some(w) = named {
            hits.push(
                Hit::new(
                    id::GUARD_TAMPER,
                    format!(
                        "`{}` stops {w}, which watches and guards this agent",
                        s.join(" ")
                    ),
                    &super::hit::clip(text, 160),
                )
                .key(&format!("stop {w}")),
            );
        }
    }
}

impl Tamper {
    /// `export SKILLTRACE_CONFIG=/dev/null`, `unset SKILLTRACE_DB`,
    /// `alias skilltrace=true`, `hash -p /bin/true skilltrace`.
    fn shell_off(&self, cmd: &Command, text: &str, hits: &mut Vec<Hit>) {
        let name = cmd.name();
        let args = cmd.args();
        let ours = |v: &str| self.variables.iter().any(|p| v.starts_with(p.as_str()));
        let named = |w: &str| self.names.iter().any(|n| n == w);
        let mut why: Option<String> = None;
        if cmd.argv.is_empty() {
            // a bare assignment lives on in the shell
            why = cmd
                .assignments
                .iter()
                .find(|(k, _)| ours(k))
                .map(|(k, _)| format!("sets {k} in the agent's shell"));
        } else if self
            .agents
            .iter()
            .any(|a| *a == super::shell::basename(&name))
        {
            // an agent started with one: its own hooks judge with it
            why = cmd
                .assignments
                .iter()
                .find(|(k, _)| ours(k))
                .map(|(k, _)| format!("starts the agent `{name}` with {k} pointed elsewhere"));
        } else if ["export", "declare", "typeset", "readonly", "setenv"].contains(&name.as_str()) {
            why = args
                .iter()
                .map(|a| a.split('=').next().unwrap_or(a))
                .find(|k| ours(k))
                .map(|k| format!("`{name}` points {k} elsewhere in the agent's shell"));
        } else if name == "unset" {
            why = args
                .iter()
                .find(|a| ours(a) || named(a))
                .map(|a| format!("unsets {a} in the agent's shell"));
        } else if name == "alias" {
            why = args
                .iter()
                .filter_map(|a| a.split_once('='))
                .find(|(k, _)| named(k))
                .map(|(k, v)| format!("makes `{k}` an alias of `{v}`"));
        } else if name == "hash" && args.iter().any(|a| a == "-p") {
            why = args
                .iter()
                .find(|a| named(a))
                .map(|a| format!("`hash -p` points `{a}` at another program"));
        }
        if let Some(why) = why {
            hits.push(
                Hit::new(id::GUARD_TAMPER, why, &super::hit::clip(text, 160)).key("shell off"),
            );
        }
    }

    /// A variable of ours set or unset in `text` (`SKILLTRACE_CONFIG=…`,
    /// `unset SKILLTRACE_DB`): its name.
    fn sets_ours(&self, text: &str) -> Option<String> {
        for p in &self.variables {
            let mut from = 0;
            while let Some(i) = text[from..].find(p.as_str()) {
                let at = from + i;
                let end = at
                    + text[at..]
                        .bytes()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                        .count();
                from = end.max(at + 1);
                let set = text[end..].starts_with('=');
                let unset = text[..at].trim_end().ends_with("unset");
                let word = at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric();
                if word && (set || unset) {
                    return Some(text[at..end].to_string());
                }
            }
        }
        None
    }

    /// `echo 'export SKILLTRACE_CONFIG=/dev/null' >> ~/.bashrc`, `… | tee -a
    /// ~/.zshrc`, `cat >> ~/.profile <<EOF`: a setting of ours in literal text
    /// written into a file a later shell or agent reads (what a command prints
    /// is known only when it is literal: a `grep` for the name writes nothing known).
    fn planted_in_file(
        &self,
        cmd: &Command,
        script: &super::shell::Script,
        id: usize,
        hits: &mut Vec<Hit>,
    ) {
        let targets = write_targets(cmd);
        let Some(file) = targets.first() else {
            return;
        };
        let written = match cmd.name().as_str() {
            "tee" => script.stdin_of(id),
            _ => script.output_of(id),
        };
        if let Some(v) = written.and_then(|out| self.sets_ours(&out)) {
            hits.push(planted(&cmd.name(), &v, file));
        }
    }

    /// `skilltrace() { :; }` / `function skilltrace { … }`: the name runs
    /// something else from then on.
    fn function_over(&self, text: &str, hits: &mut Vec<Hit>) {
        for n in &self.names {
            let mut from = 0;
            while let Some(i) = text[from..].find(n.as_str()) {
                let at = from + i;
                from = at + n.len();
                let before = text[..at].trim_end_matches([' ', '\t']);
                let boundary = before.is_empty()
                    || before.ends_with([';', '&', '|', '(', '{', '\n'])
                    || before.ends_with("function");
                let after = text[from..].trim_start();
                let defines = after.starts_with("()")
                    || (before.ends_with("function") && after.starts_with(['{', '(']));
                if boundary && defines && !text[..at].ends_with(['/', '-', '_', '.']) {
                    hits.push(
                        Hit::new(
                            id::GUARD_TAMPER,
                            format!("defines a shell function `{n}` that runs in its place"),
                            &super::hit::clip(text, 160),
                        )
                        .key("shell off"),
                    );
                    return;
                }
            }
        }
    }
}

fn planted(tool: &str, var: &str, path: &str) -> Hit {
    Hit::new(
        id::GUARD_TAMPER,
        format!("{tool} writes a setting of {var} into {path}, for a later shell or agent to read"),
        &format!("{tool} {path}"),
    )
    .key(&format!("planted {var}"))
}

fn hit(tool: &str, path: &str, glob: &str) -> Hit {
    Hit::new(
        id::GUARD_TAMPER,
        format!("{tool} changes {path}, which the guard depends on ({glob})"),
        &format!("{tool} {path}"),
    )
    .key(&format!("tamper {}", normalise_path(path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::taxonomy::{DetectionConfig, Taxonomy};
    use crate::model::{Origin, Span, SpanKind};

    fn call(tool: &str, input: &str) -> ToolCall {
        let tax = Taxonomy::load(&DetectionConfig::default()).unwrap();
        let mut s = Span::new("s", "r", SpanKind::Tool, tool, Origin::new("t", 1));
        s.tool_name = Some(tool.into());
        s.tool_input = Some(input.into());
        crate::detect::tools::understand(&s, &tax).unwrap()
    }

    fn rules(t: &Tamper, tool: &str, input: &str) -> usize {
        t.check(&call(tool, input)).len()
    }

    #[test]
    fn hook_settings_config_store_and_uninstall_are_tampering() {
        let t = Tamper::load(&[]).unwrap();
        for (tool, input) in [
            (
                "Write",
                r#"{"file_path":"/home/u/.claude/settings.json","content":"{}"}"#,
            ),
            (
                "Edit",
                r#"{"file_path":"/repo/.claude/settings.local.json","old_string":"a","new_string":"b"}"#,
            ),
            ("Bash", r#"{"command":"echo '{}' > ~/.cursor/hooks.json"}"#),
            (
                "Bash",
                r#"{"command":"rm -f ~/.local/share/skilltrace/skilltrace.db"}"#,
            ),
            (
                "Bash",
                r#"{"command":"sed -i s/guard// /home/u/.gemini/settings.json"}"#,
            ),
            ("Bash", r#"{"command":"mv ~/.codex/hooks.json /tmp/x"}"#),
            (
                "Bash",
                r#"{"command":"skilltrace guard uninstall --agent claude-code"}"#,
            ),
            (
                "Bash",
                r#"{"command":"sqlite3 /data/skilltrace.db 'DELETE FROM findings'"}"#,
            ),
            (
                "Bash",
                r#"{"command":"python3 -c \"import json,os;p=os.path.expanduser('~/.claude/settings.json');d=json.load(open(p));d.pop('hooks',None);json.dump(d,open(p,'w'))\""}"#,
            ),
        ] {
            assert_eq!(rules(&t, tool, input), 1, "{tool} {input}");
        }
    }

    #[test]
    fn replacing_skilltrace_s_own_program_is_tampering() {
        let t = Tamper::load(&[]).unwrap();
        for (tool, input) in [
            (
                "Bash",
                r#"{"command":"ln -sf /bin/true ~/.cargo/bin/skilltrace"}"#,
            ),
            (
                "Bash",
                r#"{"command":"sudo cp /tmp/x /usr/local/bin/skilltrace"}"#,
            ),
            (
                "Bash",
                r#"{"command":"install -m 755 /tmp/x ~/.local/bin/skilltrace"}"#,
            ),
        ] {
            assert_eq!(rules(&t, tool, input), 1, "{tool} {input}");
        }
        for cmd in [
            "cargo install --path .",
            "ls -l ~/.cargo/bin/skilltrace",
            "cp ~/.cargo/bin/skilltrace /tmp/st-copy",
        ] {
            let input = serde_json::json!({ "command": cmd }).to_string();
            assert_eq!(rules(&t, "Bash", &input), 0, "{cmd}");
        }
    }

    #[test]
    fn reading_settings_and_ordinary_writes_are_not() {
        let t = Tamper::load(&[]).unwrap();
        for (tool, input) in [
            ("Read", r#"{"file_path":"/home/u/.claude/settings.json"}"#),
            ("Bash", r#"{"command":"cat ~/.cursor/hooks.json"}"#),
            (
                "Bash",
                r#"{"command":"cp ~/.gemini/settings.json /tmp/backup.json"}"#,
            ),
            (
                "Write",
                r#"{"file_path":"/repo/src/main.rs","content":"fn main(){}"}"#,
            ),
            ("Bash", r#"{"command":"skilltrace guard status"}"#),
        ] {
            assert_eq!(rules(&t, tool, input), 0, "{tool} {input}");
        }
    }

    #[test]
    fn stopping_skilltrace_is_tampering_and_stopping_other_things_is_not() {
        let t = Tamper::load(&[]).unwrap();
        for cmd in [
            "pkill -f 'skilltrace guard'",
            "kill -9 $(pgrep skilltrace)",
            "pgrep -f skilltrace | xargs kill",
            "killall skilltrace",
            "systemctl --user stop skilltrace-tail.service",
            "launchctl unload ~/Library/LaunchAgents/dev.skilltrace.tail.plist",
        ] {
            let input = serde_json::json!({ "command": cmd }).to_string();
            assert_eq!(rules(&t, "Bash", &input), 1, "{cmd}");
        }
        for cmd in [
            "pkill -f 'cargo test'",
            "kill %1",
            "systemctl --user status skilltrace-tail.service",
            "pgrep skilltrace",
            "kill -9 $(pgrep node)",
        ] {
            let input = serde_json::json!({ "command": cmd }).to_string();
            assert_eq!(rules(&t, "Bash", &input), 0, "{cmd}");
        }
    }

    #[test]
    fn pointing_the_agent_s_shell_away_from_skilltrace_is_tampering() {
        let t = Tamper::load(&[]).unwrap();
        for cmd in [
            "export SKILLTRACE_CONFIG=/dev/null",
            "SKILLTRACE_DB=/tmp/empty.db",
            "declare -x SKILLTRACE_CONFIG=/tmp/c.toml",
            "unset SKILLTRACE_DB",
            "env SKILLTRACE_CONFIG=/dev/null claude -p 'deploy it'",
            "echo 'export SKILLTRACE_CONFIG=/dev/null' >> ~/.bashrc",
            "printf 'unset SKILLTRACE_DB\\n' | tee -a ~/.zshrc",
            "cat >> ~/.profile <<'EOF'\nSKILLTRACE_CONFIG=/tmp/weak.toml\nEOF",
            "SKILLTRACE_DB=/tmp/x.db /usr/local/bin/codex exec 'push it'",
            "alias skilltrace=true",
            "alias ls='ls -G' skilltrace='exit 0'",
            "hash -p /bin/true skilltrace",
            "skilltrace() { :; }",
            "function skilltrace { return 0; }",
            "cd /tmp; skilltrace () { true; }",
        ] {
            let input = serde_json::json!({ "command": cmd }).to_string();
            assert_eq!(rules(&t, "Bash", &input), 1, "{cmd}");
        }
        for cmd in [
            "SKILLTRACE_DB=/tmp/t.db skilltrace scan traces/",
            "export RUST_LOG=debug",
            "alias ll='ls -l'",
            "unset GOPATH",
            "echo $SKILLTRACE_CONFIG",
            "SKILLTRACE_CONFIG=/tmp/c.toml skilltrace guard status",
            "echo \"config: $SKILLTRACE_CONFIG\" > /tmp/report.txt",
            "grep -rn 'SKILLTRACE_DB=' docs/ > /tmp/hits.txt",
            "skilltrace scan . --fail-on high",
            "grep -rn 'skilltrace()' src/",
            "cargo run --bin skilltrace -- import x",
        ] {
            let input = serde_json::json!({ "command": cmd }).to_string();
            assert_eq!(rules(&t, "Bash", &input), 0, "{cmd}");
        }
    }

    #[test]
    fn a_write_tool_replacing_skilltrace_s_program_is_tampering() {
        let t = Tamper::load(&[]).unwrap();
        for path in [
            "/home/dev/.local/bin/skilltrace",
            "/usr/local/bin/skilltrace",
        ] {
            let input = serde_json::json!({ "file_path": path, "content": "#!/bin/sh\nexit 0\n" });
            assert_eq!(rules(&t, "Write", &input.to_string()), 1, "{path}");
        }
    }

    #[test]
    fn protected_paths_added_at_start_count_literally() {
        let mut t = Tamper::load(&[]).unwrap();
        assert_eq!(rules(&t, "Bash", r#"{"command":"rm /srv/st/my[1].db"}"#), 0);
        t.protect(&["/srv/st/my[1].db".into(), "/srv/st/my.db.guard/".into()]);
        assert_eq!(rules(&t, "Bash", r#"{"command":"rm /srv/st/my[1].db"}"#), 1);
        assert_eq!(rules(&t, "Bash", r#"{"command":"rm /srv/st/my1.db"}"#), 0);
        assert_eq!(
            rules(&t, "Bash", r#"{"command":"rm -rf /srv/st/my.db.guard/x"}"#),
            1
        );
    }
}
