//! `guard install|uninstall|status` for agents whose hooks are whole files
//! the guard writes and owns: Cline's hook scripts (one per event, named after
//! it, in a hooks folder: an executable `sh` script, or on Windows a
//! PowerShell `<Event>.ps1`) and OpenCode's plugin (one JavaScript module in a
//! plugin folder, from `assets/guard/opencode_plugin.js`).
//!
//! A file the guard did not write is never touched: when the user already has
//! a Cline hook for one of the guard's events, install stops and says which
//! (Cline runs one script per event and folder), and nothing is written. The
//! guard's own files are known by their marker line; a second install changes
//! nothing; uninstall removes the guard's files and nothing else (the folders
//! stay).

use super::{command_line, Mode, Outcome};
use crate::guard::agents::Agent;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The line that marks a Cline hook script as the guard's.
const SCRIPT_MARK: &str = "# skilltrace guard hook";
/// The line that marks the OpenCode plugin as the guard's.
const PLUGIN_MARK: &str = "// skilltrace guard plugin for OpenCode.";
/// The plugin's source, with the command to fill in.
const PLUGIN: &str = include_str!("../../../assets/guard/opencode_plugin.js");

/// The Cline events the guard hooks: each is a script of that name.
pub const CLINE_EVENTS: &[&str] = &[
    "PreToolUse",
    "PostToolUse",
    "UserPromptSubmit",
    "TaskStart",
    "TaskResume",
    "TaskCancel",
    "TaskComplete",
];

/// The OpenCode plugin hooks the guard's plugin implements.
const OPENCODE_EVENTS: &[&str] = &["tool.execute.before", "tool.execute.after"];

/// `command_line` with anything that would end a line replaced (it goes
/// into a comment or a shell script line).
fn one_line(agent: Agent, mode: &Mode) -> String {
    command_line(agent, mode)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The argument list the plugin runs (no shell between).
fn argv(agent: Agent, mode: &Mode) -> Vec<String> {
    let (exe, db, http) = match mode {
        Mode::Command { exe, db } => (exe, db, None),
        Mode::Http { url, exe, db } => (exe, db, Some(url)),
    };
    let mut a = vec![
        exe.clone(),
        "guard".into(),
        "--agent".into(),
        agent.name().into(),
    ];
    if let Some(db) = db {
        a.push("--db".into());
        a.push(db.to_string_lossy().into_owned());
    }
    if let Some(u) = http {
        a.push("--http".into());
        a.push(u.clone());
    }
    a
}

/// Which kind of hook script Cline runs: on Windows only `<Event>.ps1`,
/// started as `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass
/// -File <script>` (extensionless files are ignored there); elsewhere only the
/// executable `<Event>` (`.ps1` files are ignored). From
/// `apps/vscode/src/core/hooks/{utils,HookProcess}.ts` in cline/cline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Sh,
    PowerShell,
}

impl Script {
    /// The kind Cline runs on this platform.
    pub fn here() -> Script {
        if cfg!(windows) {
            Script::PowerShell
        } else {
            Script::Sh
        }
    }

    /// The script's file name for `event`.
    fn file(self, event: &str) -> String {
        match self {
            Script::Sh => event.to_string(),
            Script::PowerShell => format!("{event}.ps1"),
        }
    }
}

/// `s` as a PowerShell single-quoted string: every quote PowerShell reads as
/// one (the ASCII `'` and the typographic U+2018..U+201B) doubled, anything
/// that would end a line replaced.
fn ps_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A Cline hook script for Windows running the guard: the event read from
/// stdin as UTF-8, piped to the guard as UTF-8 (Windows PowerShell 5.1 would
/// send ASCII), the guard's answer written back, its exit code kept.
pub fn cline_powershell(mode: &Mode) -> String {
    let call: Vec<String> = argv(Agent::Cline, mode)
        .iter()
        .map(|a| ps_quote(a))
        .collect();
    format!(
        "{SCRIPT_MARK}: written by `skilltrace guard install --agent cline`;\n\
         # `skilltrace guard uninstall --agent cline` removes it.\n\
         # command: {}\n\
         $utf8 = New-Object System.Text.UTF8Encoding $false\n\
         try {{ [Console]::OutputEncoding = $utf8 }} catch {{ }}\n\
         $OutputEncoding = $utf8\n\
         $event = (New-Object System.IO.StreamReader([Console]::OpenStandardInput(), $utf8)).ReadToEnd()\n\
         $event | & {}\n\
         exit $LASTEXITCODE\n",
        one_line(Agent::Cline, mode),
        call.join(" ")
    )
}

/// A Cline hook script running the guard.
pub fn cline_script(mode: &Mode) -> String {
    format!(
        "#!/bin/sh\n{SCRIPT_MARK}: written by `skilltrace guard install --agent cline`;\n\
         # `skilltrace guard uninstall --agent cline` removes it.\n\
         exec {}\n",
        one_line(Agent::Cline, mode)
    )
}

/// The OpenCode plugin running the guard.
pub fn opencode_plugin(mode: &Mode) -> String {
    let argv = Value::from(argv(Agent::Opencode, mode)).to_string();
    PLUGIN
        .replace(
            "__SKILLTRACE_COMMAND_LINE__",
            &one_line(Agent::Opencode, mode),
        )
        .replace("__SKILLTRACE_COMMAND__", &argv)
}

/// The files the guard writes for `agent` at `path` (Cline: a hooks folder,
/// scripts of kind `script`; OpenCode: the plugin file), with their text.
fn wanted_as(agent: Agent, path: &Path, mode: &Mode, script: Script) -> Vec<(PathBuf, String)> {
    match agent {
        Agent::Cline => {
            let text = match script {
                Script::Sh => cline_script(mode),
                Script::PowerShell => cline_powershell(mode),
            };
            CLINE_EVENTS
                .iter()
                .map(|e| (path.join(script.file(e)), text.clone()))
                .collect()
        }
        _ => vec![(path.to_path_buf(), opencode_plugin(mode))],
    }
}

/// True when `text` is a file the guard wrote.
fn is_ours(agent: Agent, text: &str) -> bool {
    match agent {
        // Line 2 of a `sh` script (after `#!`), line 1 of a PowerShell one.
        Agent::Cline => text.lines().take(2).any(|l| l.starts_with(SCRIPT_MARK)),
        _ => text.lines().next() == Some(PLUGIN_MARK),
    }
}

/// A file's text: `None` when it does not exist.
fn read(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!(
            "{}: cannot read: {}",
            path.display(),
            crate::ingest::import::io_why(&e)
        )),
    }
}

/// Writes `text` to `path` atomically; executable for hook scripts.
fn write(path: &Path, text: &str, executable: bool) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", dir.display()))?;
    }
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".skilltrace-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if executable { 0o755 } else { 0o644 };
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = executable;
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
    Ok(())
}

/// Writes the guard's files (see the module docs).
pub fn install(agent: Agent, path: &Path, mode: &Mode) -> anyhow::Result<Outcome> {
    install_as(agent, path, mode, Script::here())
}

/// [`install`] with Cline's scripts of kind `script`.
fn install_as(agent: Agent, path: &Path, mode: &Mode, script: Script) -> anyhow::Result<Outcome> {
    let want = wanted_as(agent, path, mode, script);
    let mut todo = Vec::new();
    let mut theirs = Vec::new();
    for (p, text) in want {
        match read(&p)? {
            Some(have) if have == text => {}
            Some(have) if !is_ours(agent, &have) => theirs.push(p.display().to_string()),
            _ => todo.push((p, text)),
        }
    }
    if !theirs.is_empty() {
        anyhow::bail!(
            "{}: already a hook of your own, which {} runs instead of a second one; not touching it \
             (make that hook run `{}` too, or move it away and install again)",
            theirs.join(", "),
            agent.name(),
            one_line(agent, mode)
        );
    }
    if todo.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    for (p, text) in &todo {
        write(p, text, agent == Agent::Cline)?;
    }
    Ok(Outcome::Changed { backup: None })
}

/// Removes the guard's files, and only them.
pub fn uninstall(agent: Agent, path: &Path) -> anyhow::Result<Outcome> {
    uninstall_as(agent, path, Script::here())
}

/// The guard's files `agent` would have at `path` (no command filled in).
fn placed(agent: Agent, path: &Path, script: Script) -> Vec<(PathBuf, String)> {
    let blank = Mode::Command {
        exe: String::new(),
        db: None,
    };
    wanted_as(agent, path, &blank, script)
}

/// [`uninstall`] of Cline's scripts of kind `script`.
fn uninstall_as(agent: Agent, path: &Path, script: Script) -> anyhow::Result<Outcome> {
    let mut removed = 0;
    for (p, _) in placed(agent, path, script) {
        if read(&p)?.is_some_and(|t| is_ours(agent, &t)) {
            std::fs::remove_file(&p)
                .map_err(|e| anyhow::anyhow!("{}: cannot remove: {e}", p.display()))?;
            removed += 1;
        }
    }
    Ok(if removed == 0 {
        Outcome::Unchanged
    } else {
        Outcome::Changed { backup: None }
    })
}

/// The guard's hooks found at `path`: (event, `{"command": <command line>}`).
pub fn found(agent: Agent, path: &Path) -> Vec<(String, Value)> {
    found_as(agent, path, Script::here())
}

/// [`found`] among Cline's scripts of kind `script`.
fn found_as(agent: Agent, path: &Path, script: Script) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (p, _) in placed(agent, path, script) {
        let Ok(Some(text)) = read(&p) else { continue };
        if !is_ours(agent, &text) {
            continue;
        }
        match agent {
            Agent::Cline => {
                let cmd = text.lines().find_map(|l| {
                    l.strip_prefix("exec ")
                        .or_else(|| l.strip_prefix("# command: "))
                });
                let event = p.file_stem().map(|f| f.to_string_lossy().into_owned());
                if let (Some(c), Some(e)) = (cmd, event) {
                    out.push((e, json!({ "command": c })));
                }
            }
            _ => {
                if let Some(c) = text.lines().find_map(|l| l.strip_prefix("// command: ")) {
                    for e in OPENCODE_EVENTS {
                        out.push(((*e).to_string(), json!({ "command": c })));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode() -> Mode {
        Mode::Command {
            exe: "/opt/bin/skilltrace".into(),
            db: Some("/tmp/it's.db".into()),
        }
    }

    #[test]
    fn cline_scripts_round_trip_beside_the_users_own() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join(".clinerules/hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        let mine = "#!/usr/bin/env bash\necho '{\"cancel\": false}'\n";
        std::fs::write(hooks.join("PreCompact"), mine).unwrap();
        assert!(matches!(
            install(Agent::Cline, &hooks, &mode()).unwrap(),
            Outcome::Changed { .. }
        ));
        let f = found(Agent::Cline, &hooks);
        assert_eq!(f.len(), CLINE_EVENTS.len());
        assert_eq!(
            f[0].1["command"],
            r#"/opt/bin/skilltrace guard --agent cline --db '/tmp/it'\''s.db'"#
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(hooks.join("PreToolUse")).unwrap();
            assert_eq!(m.permissions().mode() & 0o777, 0o755);
        }
        assert_eq!(
            install(Agent::Cline, &hooks, &mode()).unwrap(),
            Outcome::Unchanged
        );
        assert!(matches!(
            uninstall(Agent::Cline, &hooks).unwrap(),
            Outcome::Changed { .. }
        ));
        let left: Vec<_> = std::fs::read_dir(&hooks)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("PreCompact")]);
        assert_eq!(
            std::fs::read_to_string(hooks.join("PreCompact")).unwrap(),
            mine
        );
        assert_eq!(uninstall(Agent::Cline, &hooks).unwrap(), Outcome::Unchanged);
    }

    #[test]
    fn a_users_hook_for_the_same_event_stops_the_install() {
        let dir = tempfile::tempdir().unwrap();
        let mine = "#!/bin/sh\necho '{\"cancel\": false}'\n";
        std::fs::write(dir.path().join("PreToolUse"), mine).unwrap();
        let e = install(Agent::Cline, dir.path(), &mode())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("PreToolUse") && e.contains("not touching it"),
            "{e}"
        );
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(left, 1, "nothing written");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("PreToolUse")).unwrap(),
            mine
        );
        // Nor does uninstall touch it.
        assert_eq!(
            uninstall(Agent::Cline, dir.path()).unwrap(),
            Outcome::Unchanged
        );
    }

    #[test]
    fn the_opencode_plugin_names_its_command_and_is_replaced_not_duplicated() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plugin/skilltrace-guard.js");
        install(Agent::Opencode, &p, &mode()).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with(PLUGIN_MARK), "{text}");
        assert!(
            text.contains(r#"const COMMAND = ["/opt/bin/skilltrace","guard","--agent","opencode","--db","/tmp/it's.db"]"#),
            "{text}"
        );
        assert!(!text.contains("__SKILLTRACE"), "{text}");
        let f = found(Agent::Opencode, &p);
        assert_eq!(f.len(), 2);
        let http = Mode::Http {
            url: "http://127.0.0.1:8788".into(),
            exe: "/opt/bin/skilltrace".into(),
            db: None,
        };
        assert!(matches!(
            install(Agent::Opencode, &p, &http).unwrap(),
            Outcome::Changed { .. }
        ));
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .contains("\"--http\",\"http://127.0.0.1:8788\""));
        uninstall(Agent::Opencode, &p).unwrap();
        assert!(!p.exists());
        // Someone else's plugin of that name stays.
        std::fs::write(&p, "export const X = async () => ({})\n").unwrap();
        assert!(install(Agent::Opencode, &p, &mode()).is_err());
        assert_eq!(uninstall(Agent::Opencode, &p).unwrap(), Outcome::Unchanged);
        assert!(p.exists());
    }

    #[test]
    fn windows_gets_powershell_scripts_cline_runs_and_status_reads() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path();
        let m = Mode::Command {
            exe: r"C:\Program Files\skilltrace\skilltrace.exe".into(),
            db: Some(r"C:\Users\o’brien\st.db".into()),
        };
        let ps = Script::PowerShell;
        assert!(matches!(
            install_as(Agent::Cline, hooks, &m, ps).unwrap(),
            Outcome::Changed { .. }
        ));
        // One `<Event>.ps1` per event, nothing extensionless (Cline ignores
        // extensionless files on Windows, `.ps1` files elsewhere).
        let mut names: Vec<String> = std::fs::read_dir(hooks)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = CLINE_EVENTS.iter().map(|e| format!("{e}.ps1")).collect();
        want.sort();
        assert_eq!(names, want);
        let text = std::fs::read_to_string(hooks.join("PreToolUse.ps1")).unwrap();
        assert!(text.starts_with(SCRIPT_MARK), "{text}");
        // The guard is called with each argument single-quoted; the typographic
        // apostrophe PowerShell also reads as a quote is doubled.
        assert!(
            text.contains(
                r"$event | & 'C:\Program Files\skilltrace\skilltrace.exe' 'guard' '--agent' 'cline' '--db' 'C:\Users\o’’brien\st.db'"
            ),
            "{text}"
        );
        assert!(text.trim_end().ends_with("exit $LASTEXITCODE"), "{text}");
        assert!(text.contains("$OutputEncoding = $utf8"), "{text}");
        // Status names the events, without `.ps1`.
        let f = found_as(Agent::Cline, hooks, ps);
        assert_eq!(f.len(), CLINE_EVENTS.len());
        assert!(f.iter().any(|(e, _)| e == "PreToolUse"), "{f:?}");
        assert_eq!(
            install_as(Agent::Cline, hooks, &m, ps).unwrap(),
            Outcome::Unchanged
        );
        // The user's own `.ps1` for an event stops the install; uninstall leaves it.
        std::fs::write(hooks.join("TaskStart.ps1"), "Write-Output '{}'\n").unwrap();
        assert!(install_as(Agent::Cline, hooks, &m, ps).is_err());
        assert!(matches!(
            uninstall_as(Agent::Cline, hooks, ps).unwrap(),
            Outcome::Changed { .. }
        ));
        let left: Vec<_> = std::fs::read_dir(hooks).unwrap().collect();
        assert_eq!(left.len(), 1);
        assert!(hooks.join("TaskStart.ps1").exists());
    }

    #[test]
    fn a_newline_in_a_path_cannot_add_code() {
        let m = Mode::Command {
            exe: "/opt/bin/skilltrace".into(),
            db: Some("/tmp/x\nrequire('child_process')".into()),
        };
        let text = opencode_plugin(&m);
        assert!(!text.lines().any(|l| l.starts_with("require(")), "{text}");
        let s = cline_script(&m);
        assert_eq!(s.lines().count(), 4, "{s}");
        let p = cline_powershell(&m);
        assert!(!p.lines().any(|l| l.starts_with("require(")), "{p}");
        // A quote in a path cannot end the string early either.
        let q = Mode::Command {
            exe: r"C:\x'; Remove-Item C:\ -Recurse; '".into(),
            db: None,
        };
        let p = cline_powershell(&q);
        assert!(
            p.contains(r"& 'C:\x''; Remove-Item C:\ -Recurse; ''' 'guard'"),
            "{p}"
        );
    }
}
