//! `guard install|uninstall|status`: the guard's hook entries in each agent's
//! settings file, added and removed without hand-editing JSON.
//!
//! Files: Claude Code `~/.claude/settings.json` (project scope:
//! `.claude/settings.local.json`), Cursor `~/.cursor/hooks.json`
//! (`.cursor/hooks.json`), Gemini CLI `~/.gemini/settings.json`
//! (`.gemini/settings.json`), Codex `~/.codex/hooks.json`
//! (`.codex/hooks.json`), GitHub Copilot CLI `~/.copilot/hooks/skilltrace-guard.json`
//! (`.github/hooks/skilltrace-guard.json`: Copilot loads every `*.json` there,
//! so the guard keeps its hooks in a file of its own). Cline and OpenCode
//! take hook files rather than settings: see [`files`]. Edits are textual (`jsonedit`), so every byte the
//! guard did not add stays as it was. The first change writes a backup
//! (`<file>.skilltrace-backup`; empty when there was no file); a second
//! install changes nothing; uninstall removes the guard's entries and the
//! containers it created, and leaves the file exactly as the backup when
//! nothing else changed meanwhile.

pub mod files;
pub mod jsonedit;

use super::agents::Agent;
use jsonedit::{Kind, Node};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Where an install goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// The user's settings (every project)
    User,
    /// This project's settings (the current folder)
    Project,
}

/// How the installed hook reaches the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A command hook running this binary.
    Command { exe: String, db: Option<PathBuf> },
    /// `guard serve` at this base URL (Claude Code: an HTTP hook; other
    /// agents: a command hook that forwards to it).
    Http {
        url: String,
        exe: String,
        db: Option<PathBuf>,
    },
}

/// The marker every guard command carries (how uninstall knows its own).
const MARK: &str = " guard --agent ";
/// Seconds an agent waits for the hook (the guard answers far sooner).
const TIMEOUT_S: u64 = 30;

/// What an install or uninstall did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The file was written (the backup path, when one was made now).
    Changed { backup: Option<PathBuf> },
    /// Nothing to do.
    Unchanged,
}

/// The settings file of `agent` for `scope`, under `home` or project folder
/// `project` (Cline: its hooks folder; OpenCode: the guard's plugin file).
pub fn settings_path(agent: Agent, scope: Scope, home: &Path, project: &Path) -> PathBuf {
    let base = match scope {
        Scope::User => home,
        Scope::Project => project,
    };
    let user = scope == Scope::User;
    match agent {
        Agent::ClaudeCode if user => base.join(".claude/settings.json"),
        Agent::ClaudeCode => base.join(".claude/settings.local.json"),
        Agent::Cursor => base.join(".cursor/hooks.json"),
        Agent::Gemini => base.join(".gemini/settings.json"),
        Agent::Codex => base.join(".codex/hooks.json"),
        Agent::CopilotCli if user => base.join(".copilot/hooks").join(GUARD_FILE),
        Agent::CopilotCli => base.join(".github/hooks").join(GUARD_FILE),
        Agent::Cline if user => base.join("Documents/Cline/Hooks"),
        Agent::Cline => base.join(".clinerules/hooks"),
        // `plugin/`: the folder every OpenCode version loads (newer ones also read `plugins/`).
        Agent::Opencode if user => base.join(".config/opencode/plugin").join(PLUGIN_FILE),
        Agent::Opencode => base.join(".opencode/plugin").join(PLUGIN_FILE),
    }
}

/// The guard's own hooks file in Copilot CLI's hooks folders.
pub const GUARD_FILE: &str = "skilltrace-guard.json";
/// The guard's plugin in OpenCode's plugin folders.
pub const PLUGIN_FILE: &str = "skilltrace-guard.js";

/// True for agents whose hooks are files the guard owns ([`files`]).
fn owns_files(agent: Agent) -> bool {
    matches!(agent, Agent::Cline | Agent::Opencode)
}

/// True for agents whose event lists hold bare handlers (no matcher groups).
fn bare(agent: Agent) -> bool {
    matches!(agent, Agent::Cursor | Agent::CopilotCli)
}

/// The backup beside `path`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".skilltrace-backup");
    PathBuf::from(s)
}

/// The events the guard hooks for `agent`, with whether each is a tool event.
fn events(agent: Agent, http: bool) -> &'static [(&'static str, bool)] {
    match agent {
        Agent::ClaudeCode if http => &[
            // SessionStart takes command hooks only: the first event opens the run.
            ("PreToolUse", true),
            ("PostToolUse", true),
            ("PostToolUseFailure", true),
            ("UserPromptSubmit", false),
            ("SessionEnd", false),
        ],
        Agent::ClaudeCode => &[
            ("PreToolUse", true),
            ("PostToolUse", true),
            ("PostToolUseFailure", true),
            ("UserPromptSubmit", false),
            ("SessionStart", false),
            ("SessionEnd", false),
        ],
        Agent::Cursor => &[
            ("beforeShellExecution", true),
            ("beforeMCPExecution", true),
            ("beforeReadFile", true),
            ("afterShellExecution", true),
            ("afterMCPExecution", true),
            ("afterFileEdit", true),
            ("beforeSubmitPrompt", false),
            ("sessionStart", false),
            ("sessionEnd", false),
        ],
        Agent::Gemini => &[
            ("BeforeTool", true),
            ("AfterTool", true),
            ("BeforeAgent", false),
            ("SessionStart", false),
            ("SessionEnd", false),
        ],
        Agent::Codex => &[
            ("PreToolUse", true),
            ("PostToolUse", true),
            ("UserPromptSubmit", false),
            ("SessionStart", false),
        ],
        // The events every Copilot CLI version with hooks knows.
        Agent::CopilotCli => &[
            ("preToolUse", true),
            ("postToolUse", true),
            ("userPromptSubmitted", false),
            ("sessionStart", false),
            ("sessionEnd", false),
        ],
        // Files, not settings entries ([`files`]).
        Agent::Cline | Agent::Opencode => &[],
    }
}

/// Single-quotes `s` for `sh` when it needs it.
fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command line of the guard's command hook.
pub fn command_line(agent: Agent, mode: &Mode) -> String {
    let (exe, db, http) = match mode {
        Mode::Command { exe, db } => (exe, db, None),
        Mode::Http { url, exe, db } => (exe, db, Some(url)),
    };
    let mut c = format!("{}{MARK}{}", sh_quote(exe), agent.name());
    if let Some(db) = db {
        c.push_str(&format!(" --db {}", sh_quote(&db.to_string_lossy())));
    }
    if let Some(u) = http {
        c.push_str(&format!(" --http {}", sh_quote(u)));
    }
    c
}

/// The hook URL of `guard serve` at base `url` for `agent`.
pub fn hook_url(url: &str, agent: Agent) -> String {
    format!(
        "{}{}{}",
        url.trim_end_matches('/'),
        super::server::HOOK_PREFIX,
        agent.name()
    )
}

/// The handler object the guard adds for `agent` (and event `event`).
fn handler(agent: Agent, mode: &Mode, event: &str) -> Value {
    let cmd = command_line(agent, mode);
    match (agent, mode) {
        (Agent::ClaudeCode, Mode::Http { url, .. }) if event != "SessionStart" => {
            let target = hook_url(url, agent);
            let mut h = json!({"type": "http", "url": target, "timeout": TIMEOUT_S});
            let loopback = super::client::parse_url(&target)
                .ok()
                .is_some_and(|u| matches!(u.host.as_str(), "127.0.0.1" | "localhost" | "::1"));
            if !loopback {
                let env = super::client::TOKEN_ENV;
                h["headers"] = json!({ super::client::TOKEN_HEADER: format!("${env}") });
                h["allowedEnvVars"] = json!([env]);
            }
            h
        }
        (Agent::Cursor, _) => json!({"command": cmd, "timeout": TIMEOUT_S}),
        (Agent::Gemini, _) => json!({
            "name": "skilltrace-guard",
            "type": "command",
            "command": cmd,
            "timeout": TIMEOUT_S * 1000,
        }),
        (Agent::Codex, _) => json!({
            "type": "command",
            "command": cmd,
            "timeout": TIMEOUT_S,
            "statusMessage": "skilltrace guard",
        }),
        (Agent::CopilotCli, _) => json!({"type": "command", "bash": cmd, "timeoutSec": TIMEOUT_S}),
        _ => json!({"type": "command", "command": cmd, "timeout": TIMEOUT_S}),
    }
}

/// The entry the guard adds to `hooks.<event>`: a matcher group (Claude Code,
/// Gemini CLI, Codex) or a bare handler (Cursor, Copilot CLI).
fn entry(agent: Agent, mode: &Mode, event: &str, tool: bool) -> Value {
    let h = handler(agent, mode, event);
    if bare(agent) {
        return h;
    }
    if tool {
        json!({"matcher": "*", "hooks": [h]})
    } else {
        json!({"hooks": [h]})
    }
}

/// The entries to add, per event.
pub fn entries(agent: Agent, mode: &Mode) -> Vec<(&'static str, Value)> {
    let http = matches!(mode, Mode::Http { .. }) && agent == Agent::ClaudeCode;
    events(agent, http)
        .iter()
        .map(|(e, tool)| (*e, entry(agent, mode, e, *tool)))
        .collect()
}

/// True for a handler the guard installed.
fn handler_is_ours(v: &Value) -> bool {
    let cmd = v
        .get("command")
        .or_else(|| v.get("bash"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let url = v.get("url").and_then(Value::as_str).unwrap_or("");
    cmd.contains(MARK) && cmd.contains("skilltrace")
        || Agent::ALL
            .iter()
            .any(|a| url.ends_with(&format!("{}{}", super::server::HOOK_PREFIX, a.name())))
}

/// True for an entry of `hooks.<event>` the guard installed.
fn is_ours(agent: Agent, v: &Value) -> bool {
    if bare(agent) {
        return handler_is_ours(v);
    }
    v.get("hooks")
        .and_then(Value::as_array)
        .is_some_and(|hs| !hs.is_empty() && hs.iter().all(handler_is_ours))
}

/// The guard's entries found in a settings text: (event, entry).
pub fn found(agent: Agent, text: &str) -> Result<Vec<(String, Value)>, String> {
    let root = jsonedit::parse(text)?;
    let mut out = Vec::new();
    if let Some(Kind::Object(events)) = root.at(&["hooks"]).map(|h| &h.kind) {
        for m in events {
            for item in m.value.items().unwrap_or(&[]) {
                if let Some(v) = item.value(text).filter(|v| is_ours(agent, v)) {
                    out.push((m.key.clone(), v));
                }
            }
        }
    }
    Ok(out)
}

/// The guard's entries at `path` (a settings file, or Cline's hooks folder
/// and OpenCode's plugin): `None` when there is no file at all.
pub fn found_at(agent: Agent, path: &Path) -> Result<Option<Vec<(String, Value)>>, String> {
    if owns_files(agent) {
        return Ok(path.exists().then(|| files::found(agent, path)));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => found(agent, &text).map(Some),
        Err(_) => Ok(None),
    }
}

/// Reads a settings file: `None` when it does not exist.
fn read(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(String::from_utf8(b).map_err(|_| {
            anyhow::anyhow!("{}: not UTF-8 text; not touching it", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!(
            "{}: cannot read: {}",
            path.display(),
            crate::ingest::import::io_why(&e)
        )),
    }
}

/// Writes `text` to `path` atomically, keeping the file's permissions.
fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", dir.display()))?;
    }
    let tmp = path.with_extension("skilltrace-tmp");
    std::fs::write(&tmp, text)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", tmp.display()))?;
    if let Some(p) = mode {
        let _ = std::fs::set_permissions(&tmp, p);
    }
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
    Ok(())
}

/// Adds the guard's entries to `path` (see the module docs).
pub fn install(agent: Agent, path: &Path, mode: &Mode) -> anyhow::Result<Outcome> {
    if owns_files(agent) {
        return files::install(agent, path, mode);
    }
    let bad = |why: String| anyhow::anyhow!("{}: {why}; not touching it", path.display());
    let want = entries(agent, mode);
    let Some(original) = read(path)? else {
        let mut hooks = serde_json::Map::new();
        for (e, v) in &want {
            hooks.insert((*e).to_string(), json!([v]));
        }
        let doc = if bare(agent) {
            json!({"version": 1, "hooks": hooks})
        } else {
            json!({ "hooks": hooks })
        };
        let text = format!("{}\n", jsonedit::render_pretty(&doc, "  "));
        write(path, &text)?;
        // An empty backup records that there was no file.
        let backup = backup_path(path);
        std::fs::write(&backup, b"")
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", backup.display()))?;
        return Ok(Outcome::Changed {
            backup: Some(backup),
        });
    };
    let root = jsonedit::parse(&original).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    if !matches!(root.kind, Kind::Object(_)) {
        return Err(bad("not a JSON object".into()));
    }
    let have = found(agent, &original).map_err(bad)?;
    let same = have.len() == want.len()
        && want
            .iter()
            .all(|(e, v)| have.iter().any(|(he, hv)| he == e && hv == v));
    if same {
        return Ok(Outcome::Unchanged);
    }
    let backup = backup_path(path);
    let made_backup = if backup.exists() {
        None
    } else {
        std::fs::write(&backup, &original)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", backup.display()))?;
        if let Ok(m) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(&backup, m.permissions());
        }
        Some(backup)
    };
    let mut text = remove_ours(agent, &original, None).map_err(bad)?.0;
    let unit = jsonedit::indent_unit(&text);
    for (event, v) in &want {
        let root = jsonedit::parse(&text).map_err(bad)?;
        text = match root.get("hooks") {
            None => {
                let hooks = json!({ *event: [v] });
                jsonedit::append_member(&text, &root, "hooks", &hooks, &unit)
            }
            Some(h) if !matches!(h.value.kind, Kind::Object(_)) => {
                return Err(bad("\"hooks\" is not an object".into()));
            }
            Some(h) => match h.value.get(event) {
                None => jsonedit::append_member(&text, &h.value, event, &json!([v]), &unit),
                Some(m) if m.value.items().is_some() => {
                    jsonedit::append_item(&text, &m.value, v, &unit)
                }
                Some(_) => return Err(bad(format!("\"hooks.{event}\" is not a list"))),
            },
        };
    }
    write(path, &text)?;
    Ok(Outcome::Changed {
        backup: made_backup,
    })
}

/// Removes the guard's entries from `text`; with `backup` (the text before
/// the first install; empty: there was no file), also the containers the
/// install created that are now empty. Returns the new text and how many
/// entries went.
fn remove_ours(agent: Agent, text: &str, backup: Option<&str>) -> Result<(String, usize), String> {
    let mut text = text.to_string();
    let mut removed = 0;
    // One removal per pass: positions change after each edit.
    'entries: loop {
        let root = jsonedit::parse(&text)?;
        let Some(hooks) = root.at(&["hooks"]) else {
            break;
        };
        if let Kind::Object(events) = &hooks.kind {
            for m in events {
                for (i, item) in m.value.items().unwrap_or(&[]).iter().enumerate() {
                    if item.value(&text).is_some_and(|v| is_ours(agent, &v)) {
                        text = jsonedit::remove_child(&text, &m.value, i);
                        removed += 1;
                        continue 'entries;
                    }
                }
            }
        }
        break;
    }
    let Some(backup) = backup else {
        return Ok((text, removed));
    };
    let before = if backup.trim().is_empty() {
        None
    } else {
        jsonedit::parse(backup).ok()
    };
    let had = |path: &[&str]| before.as_ref().is_some_and(|b| b.at(path).is_some());
    // Emptied event lists the install created.
    'events: loop {
        let root = jsonedit::parse(&text)?;
        let Some(hooks) = root.at(&["hooks"]) else {
            break;
        };
        if let Kind::Object(events) = &hooks.kind {
            for (i, m) in events.iter().enumerate() {
                let empty = m.value.items().is_some_and(<[Node]>::is_empty);
                if empty && !had(&["hooks", &m.key]) {
                    text = jsonedit::remove_child(&text, hooks, i);
                    continue 'events;
                }
            }
        }
        break;
    }
    // The hooks object itself, when the install created it and it is empty.
    let root = jsonedit::parse(&text)?;
    if let (Kind::Object(members), Some(h)) = (&root.kind, root.get("hooks")) {
        let empty = matches!(&h.value.kind, Kind::Object(m) if m.is_empty());
        if empty && !had(&["hooks"]) {
            if let Some(i) = members.iter().position(|m| m.key == "hooks") {
                text = jsonedit::remove_child(&text, &root, i);
            }
        }
    }
    Ok((text, removed))
}

/// Removes the guard's entries from `path`. When the install created the
/// file and nothing else is in it now, the file goes too; when the result is
/// the backup byte for byte, the backup goes.
pub fn uninstall(agent: Agent, path: &Path) -> anyhow::Result<Outcome> {
    if owns_files(agent) {
        return files::uninstall(agent, path);
    }
    let bad = |why: String| anyhow::anyhow!("{}: {why}; not touching it", path.display());
    let Some(text) = read(path)? else {
        return Ok(Outcome::Unchanged);
    };
    let backup_file = backup_path(path);
    let backup = std::fs::read_to_string(&backup_file).ok();
    let (out, removed) = remove_ours(agent, &text, backup.as_deref()).map_err(bad)?;
    if removed == 0 {
        return Ok(Outcome::Unchanged);
    }
    let created_file = backup.as_deref().is_some_and(|b| b.is_empty());
    if created_file && only_skeleton(agent, &out) {
        std::fs::remove_file(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot remove: {e}", path.display()))?;
        let _ = std::fs::remove_file(&backup_file);
        return Ok(Outcome::Changed { backup: None });
    }
    write(path, &out)?;
    if backup.as_deref() == Some(out.as_str()) {
        let _ = std::fs::remove_file(&backup_file);
    }
    Ok(Outcome::Changed { backup: None })
}

/// True when `text` holds nothing but what a fresh install writes around its
/// entries (`{}`, or Cursor's and Copilot CLI's `{"version": 1}`).
fn only_skeleton(agent: Agent, text: &str) -> bool {
    let Ok(root) = jsonedit::parse(text) else {
        return false;
    };
    match &root.kind {
        Kind::Object(m) => m
            .iter()
            .all(|m| bare(agent) && m.key == "version" && m.value.value(text) == Some(json!(1))),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
