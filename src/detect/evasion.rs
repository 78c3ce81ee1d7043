//! Covering tracks and weakening the machine: erasing shell history, system
//! logs or agent transcripts and switching host defences off (CMD-TRACE-004 at
//! high), fork bombs (CMD-TRACE-004), credential hunts by file name over a
//! whole home or root folder (PRB-TRACE-001 at medium), and programs written
//! over the system PATH (CMD-TRACE-005, CMD-TRACE-002 at high from a temporary
//! folder). Data: `assets/detect/evasion.toml`. Input is a parsed [`Script`];
//! output is [`Hit`]s. `rc` judges start-up file lines that hijack the shell.

use super::access::command_matches;
use super::exec::write_targets;
use super::hit::Hit;
use super::rules::id;
use super::shell::{Command, Script};
use super::taxonomy::{normalise_path, PathSet};
use crate::model::Severity;
use std::sync::OnceLock;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    history_files: Vec<String>,
    history_vars: Vec<String>,
    history_off_values: Vec<String>,
    history_commands: Vec<String>,
    log_paths: Vec<String>,
    transcript_paths: Vec<String>,
    transcript_folders: Vec<String>,
    erasers: Vec<String>,
    defence_off: Vec<String>,
    hunted_names: Vec<String>,
    system_bins: Vec<String>,
    untrusted_dirs: Vec<String>,
    timestamp_commands: Vec<String>,
    timestamp_values: Vec<String>,
    timestamp_targets: Vec<String>,
    rc: RcFile,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RcFile {
    load_vars: Vec<String>,
    command_vars: Vec<String>,
    shadowed: Vec<String>,
}

/// The compiled data.
pub struct Data {
    history: PathSet,
    history_vars: Vec<String>,
    history_off: Vec<String>,
    history_commands: Vec<Vec<String>>,
    logs: PathSet,
    transcripts: PathSet,
    /// Folders holding transcripts among other files: evidence when erased.
    transcript_folders: PathSet,
    erasers: Vec<String>,
    defence_off: Vec<Vec<String>>,
    pub hunted_names: Vec<String>,
    system_bins: PathSet,
    pub untrusted_dirs: Vec<String>,
    timestamp_commands: Vec<Vec<String>>,
    timestamp_values: Vec<String>,
    timestamp_targets: Vec<String>,
    pub load_vars: Vec<String>,
    pub command_vars: Vec<String>,
    pub shadowed: Vec<String>,
}

fn words(v: &[String]) -> Vec<Vec<String>> {
    v.iter()
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The built-in data (checked by a unit test; `None` only if the asset is broken).
pub fn data() -> Option<&'static Data> {
    static DATA: OnceLock<Option<Data>> = OnceLock::new();
    DATA.get_or_init(|| {
        let f: File = crate::assets::parse("detect/evasion.toml").ok()?;
        Some(Data {
            history: PathSet::new(&f.history_files).ok()?,
            history_vars: f.history_vars,
            history_off: f.history_off_values,
            history_commands: words(&f.history_commands),
            logs: PathSet::new(&f.log_paths).ok()?,
            transcripts: PathSet::new(&f.transcript_paths).ok()?,
            transcript_folders: PathSet::new(&f.transcript_folders).ok()?,
            erasers: f.erasers,
            defence_off: words(&f.defence_off),
            hunted_names: f.hunted_names,
            system_bins: PathSet::new(&f.system_bins).ok()?,
            untrusted_dirs: f.untrusted_dirs,
            timestamp_commands: words(&f.timestamp_commands),
            timestamp_values: f.timestamp_values,
            timestamp_targets: f.timestamp_targets,
            load_vars: f.rc.load_vars,
            command_vars: f.rc.command_vars,
            shadowed: f.rc.shadowed,
        })
    })
    .as_ref()
}

impl Data {
    /// True when `path` lies in a folder anyone can write.
    pub fn untrusted(&self, path: &str) -> bool {
        let n = normalise_path(path);
        self.untrusted_dirs
            .iter()
            .any(|d| n.starts_with(d.as_str()) || n == d.trim_end_matches('/'))
    }

    /// What kind of evidence `path` is, if any; `erased` when the command
    /// erases it (a folder of transcripts then counts, not a file written there).
    fn evidence(&self, path: &str, erased: bool) -> Option<&'static str> {
        let n = normalise_path(path);
        let n = n.trim_end_matches('/');
        if erased && self.transcript_folders.matches(n).is_some() {
            return Some("agent transcripts");
        }
        if self.history.matches(n).is_some() {
            Some("shell history")
        } else if self.logs.matches(n).is_some() || self.logs.matches(&format!("{n}/")).is_some() {
            Some("system logs")
        } else if !n.contains("/memory")
            && (self.transcripts.matches(n).is_some()
                || self.transcripts.matches(&format!("{n}/")).is_some())
        {
            Some("agent transcripts")
        } else {
            None
        }
    }
}

/// Hits for every command of a parsed line.
pub fn script_hits(script: &Script, ev: &str) -> Vec<Hit> {
    let Some(d) = data() else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for cmd in &script.commands {
        command_hits(cmd, d, ev, &mut hits);
    }
    if let Some(name) = fork_bomb(ev) {
        hits.push(
            Hit::new(
                id::CMD_DESTRUCTIVE,
                format!("fork bomb: {name} calls itself twice in the background until the machine stops"),
                ev,
            )
            .key("fork bomb"),
        );
    }
    hits
}

fn high(why: String, ev: &str, key: &str) -> Hit {
    Hit::new(id::CMD_DESTRUCTIVE, why, ev)
        .severity(Severity::High)
        .key(key)
}

/// The variables a command sets: `NAME=value` before it, and the `NAME=value`
/// arguments of `export`, `declare`, `typeset`, `readonly` and `local`.
pub fn variables_set(cmd: &Command) -> Vec<(String, String)> {
    let mut sets: Vec<(String, String)> = cmd.assignments.clone();
    if ["export", "declare", "typeset", "readonly", "local"].contains(&cmd.name().as_str()) {
        sets.extend(cmd.args().iter().filter_map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        }));
    }
    sets
}

fn command_hits(cmd: &Command, d: &Data, ev: &str, hits: &mut Vec<Hit>) {
    let name = cmd.name();
    let args = cmd.args();
    // history switched off: `unset HISTFILE`, `export HISTFILE=/dev/null`, `HISTSIZE=0`
    let sets = variables_set(cmd);
    let off = sets.iter().find(|(k, v)| {
        d.history_vars.contains(k) && d.history_off.iter().any(|o| o == v.trim_matches('"'))
    });
    let unset = (name == "unset")
        .then(|| args.iter().find(|a| d.history_vars.contains(a)))
        .flatten();
    if let Some(var) = off.map(|(k, _)| k).or(unset) {
        hits.push(high(
            format!("switches shell history off ({var}): what runs next leaves no trace"),
            ev,
            "history off",
        ));
    }
    if let Some(w) = d.history_commands.iter().find(|w| command_matches(cmd, w)) {
        hits.push(high(
            format!("`{}` erases or stops shell history", w.join(" ")),
            ev,
            "history off",
        ));
    }
    // evidence destroyed: erased, overwritten, or linked away
    let mut targets: Vec<(String, bool)> =
        write_targets(cmd).into_iter().map(|t| (t, false)).collect();
    if d.erasers.contains(&name) {
        targets.extend(
            args.iter()
                .filter(|a| !a.starts_with('-'))
                .map(|a| (a.clone(), true)),
        );
    }
    for (t, erased) in &targets {
        if let Some(what) = d.evidence(t, *erased) {
            hits.push(high(
                format!("{name} erases or overwrites {t} ({what})"),
                ev,
                &format!("evidence {}", normalise_path(t)),
            ));
        }
    }
    if let Some(t) = forged_time(cmd, d) {
        hits.push(high(
            format!("{name} forges the times of {t}: a change there looks old"),
            ev,
            &format!("timestamp {}", normalise_path(&t)),
        ));
    }
    if let Some(w) = d.defence_off.iter().find(|w| command_matches(cmd, w)) {
        hits.push(high(
            format!("`{}` switches a defence of the machine off", w.join(" ")),
            ev,
            &format!("defence {}", w.join(" ")),
        ));
    }
    // a program on the system PATH replaced
    for t in write_targets(cmd) {
        if d.system_bins.matches(&normalise_path(&t)).is_none() {
            continue;
        }
        let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let from = (["ln", "cp", "mv", "install"].contains(&name.as_str()) && pos.len() >= 2)
            .then(|| pos[0].as_str());
        match from.filter(|f| d.untrusted(f) || f.contains("/.")) {
            Some(f) => hits.push(
                Hit::new(
                    id::CMD_PERSISTENCE,
                    format!("{name} puts {f} in place of {t}: whoever runs it runs that"),
                    ev,
                )
                .severity(Severity::High)
                .key(&format!("hijack {t}")),
            ),
            None => hits.push(
                Hit::new(
                    id::CMD_PRIVESC,
                    format!("{name} writes {t} on the system PATH"),
                    ev,
                )
                .key(&format!("system bin {t}")),
            ),
        }
    }
}

/// The file outside the project whose times `touch -r REF FILE` / `touch -d
/// DATE FILE` sets to a chosen value, if any.
fn forged_time(cmd: &Command, d: &Data) -> Option<String> {
    if !d.timestamp_commands.iter().any(|w| command_matches(cmd, w)) {
        return None;
    }
    let args = cmd.args();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a.starts_with('-') {
            if d.timestamp_values.contains(a) {
                i += 1; // the reference file or the date
            }
            continue;
        }
        let n = normalise_path(a);
        if d.untrusted(&n) {
            continue;
        }
        if d.timestamp_targets
            .iter()
            .any(|t| n.starts_with(t.as_str()))
        {
            return Some(a.clone());
        }
    }
    None
}

/// The name of a function that pipes itself into itself in the background
/// (`:(){ :|:& };:`, `bomb() { bomb | bomb & }; bomb`).
pub fn fork_bomb(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut from = 0;
    while let Some(i) = compact[from..].find("(){") {
        let at = from + i;
        let name: String = compact[..at]
            .chars()
            .rev()
            .take_while(|c| !matches!(c, ';' | '&' | '|' | '(' | ')' | '{' | '}' | '\n'))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let name = name.trim_start_matches("function");
        let body_end = compact[at..]
            .find('}')
            .map(|j| at + j)
            .unwrap_or(compact.len());
        let body = &compact[at + 3..body_end];
        if !name.is_empty() && body.contains(&format!("{name}|{name}&")) {
            return Some(name.to_string());
        }
        from = at + 3;
    }
    None
}

/// PRB-TRACE-001 at medium for a credential hunt by name (see [`super::hunt::name_hunt`]).
pub fn name_hunt_hit(cmd: &Command, ev: &str) -> Option<Hit> {
    let d = data()?;
    let (name, root) = super::hunt::name_hunt(cmd, &d.hunted_names)?;
    Some(
        Hit::new(
            id::PRB_RECON,
            format!(
                "{} looks for credential files named {name} under all of {root}",
                cmd.name()
            ),
            ev,
        )
        .severity(Severity::Medium)
        .key(&format!("name hunt {root}")),
    )
}

#[cfg(test)]
mod tests;
