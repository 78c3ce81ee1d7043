//! Command rules over parsed shell commands: obfuscated execution (CMD-TRACE-001),
//! reverse and bind shells (003), destructive commands (004) and privilege
//! escalation (005). Persistence (002) is `persist.rs`.
//!
//! The commands come in the shell's normal form (see `shell`): decoded
//! payloads, interpreter code and aliases are already commands of their own,
//! so a rule written for `nc -e /bin/sh` also catches the base64 of it, the
//! Python socket that does the same, and `busybox nc`.

use super::hit::Hit;
use super::rules::id;
use super::shell::{Command, RedirectKind, Script, Via};
use super::taxonomy::{normalise_path, Taxonomy};
use crate::model::Severity;
use regex::{Regex, RegexBuilder};
use std::sync::OnceLock;

mod download;
mod revshell;
pub(crate) use download::{across_calls, fetched_by_command, Fetched};
use download::{downloaded_then_run, upstream_urls};
use revshell::reverse_shell;

fn rx(cell: &'static OnceLock<Option<Regex>>, pat: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| {
        crate::lazyre::note_compile();
        RegexBuilder::new(pat).case_insensitive(true).build().ok()
    })
    .as_ref()
}

/// Interpreter code that decodes or downloads code and runs it (PowerShell's
/// `iwr URL | iex` and `iex (New-Object Net.WebClient).DownloadString(URL)` too).
fn obfuscated_code(code: &str) -> bool {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    rx(
        &RE,
        r"(exec|eval|Function)\s*\(\s*(base64|codecs|zlib|bz2|lzma|marshal|__import__|atob|Buffer\.from|urllib|requests\.get|compile\(|bytes\.fromhex|''\.join|decode)|\b(iwr|irm|Invoke-WebRequest|Invoke-RestMethod|DownloadString|curl|wget)\b[^|;\n]{0,400}\|\s*(iex|Invoke-Expression)\b|\b(iex|Invoke-Expression)\s*[(\s]\s*[(\s]*(New-Object\s+[\w.]*WebClient\)?\.DownloadString|iwr|irm|Invoke-WebRequest|Invoke-RestMethod|\[System\.Text\.Encoding\]|\[Convert\]::FromBase64String)",
    )
    .map(|r| r.is_match(code))
    .unwrap_or(false)
}

/// True when a shell or interpreter command runs what arrives on its stdin.
pub fn executes_stdin(cmd: &Command, tax: &Taxonomy) -> bool {
    let name = cmd.name();
    let stdin_file =
        |a: &String| ["-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"].contains(&a.as_str());
    if name == "source" || name == "." {
        return cmd.args().iter().any(stdin_file);
    }
    let is_shell = tax.shells.contains(&name);
    let is_interp = tax.interpreters.contains(&name)
        || tax
            .interpreters
            .contains(name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'));
    if !(is_shell || is_interp) || cmd.script.is_some() {
        return false;
    }
    if cmd.code.is_some() && cmd.decoded_by.is_empty() {
        return false;
    }
    cmd.args().iter().all(|a| {
        a.starts_with('-') && !["-m", "-c", "-e", "-r"].contains(&a.as_str()) || stdin_file(a)
    })
}

/// The command line as evidence: whitespace collapsed, not cut (the redactor cuts
/// evidence after redacting it, so no piece of a secret survives a cut), except
/// that a hostile line is bounded to its first 64 KiB first, backing off over the
/// token the bound would split (`raw_head`), so no start of a secret is left.
pub fn short(s: &str) -> String {
    crate::redact::cut::collapse(crate::redact::cut::raw_head(s, 64 * 1024))
}

/// " (in a payload decoded by base64 -d)" for commands a decoded payload ran.
pub fn decoded_note(cmd: &Command) -> String {
    if cmd.decoded_by.is_empty() {
        return String::new();
    }
    format!(" (in a payload decoded by {})", cmd.decoded_by.join(" | "))
}

/// Command rule hits for one parsed command line.
pub fn script_hits(script: &Script, line: &str, tax: &Taxonomy) -> Vec<Hit> {
    script_hits_at(script, line, tax, 0)
}

/// [`script_hits`] for content being graded `depth` levels down (persistence
/// content that writes persistence stops being graded after a few levels).
pub fn script_hits_at(script: &Script, line: &str, tax: &Taxonomy, depth: usize) -> Vec<Hit> {
    let mut hits = Vec::new();
    let ev = short(line);
    let decoders_seen: bool = script
        .commands
        .iter()
        .any(|c| c.via == Via::Substitution && is_decoder(c, tax));
    for cmd in &script.commands {
        obfuscated(cmd, script, tax, decoders_seen, &ev, &mut hits);
        if let Some(why) = reverse_shell(cmd, script, tax) {
            hits.push(Hit::new(
                id::CMD_REVERSE_SHELL,
                format!("{why}{}", decoded_note(cmd)),
                &ev,
            ));
        }
        if let Some(why) = destructive(cmd, tax) {
            hits.push(Hit::new(id::CMD_DESTRUCTIVE, why, &ev));
        }
        privilege(cmd, tax, &ev, &mut hits);
    }
    downloaded_then_run(script, tax, &ev, &mut hits);
    hits.extend(super::evasion::script_hits(script, &ev));
    hits.extend(super::persist::script_hits(script, tax, &ev, depth));
    hits
}

/// CMD-TRACE-001 for one command.
fn obfuscated(
    cmd: &Command,
    script: &Script,
    tax: &Taxonomy,
    decoders_seen: bool,
    ev: &str,
    hits: &mut Vec<Hit>,
) {
    let name = cmd.name();
    let shown = cmd.display();
    if executes_stdin(cmd, tax) {
        let from_fetch = cmd.piped_from.iter().any(|n| tax.fetchers.contains(n));
        let from_decode = !cmd.decoded_by.is_empty()
            || cmd.piped_from.iter().any(|n| {
                tax.decoders.contains(n) && !["echo", "printf", "tr"].contains(&n.as_str())
            });
        if from_fetch {
            let urls = upstream_urls(cmd, script, tax);
            let trusted = !urls.is_empty() && urls.iter().all(|u| tax.trusted_installer(u));
            let hit = Hit::new(
                id::CMD_OBFUSCATED,
                if trusted {
                    format!(
                        "downloaded content piped into {name}: the vendor's own installer ({})",
                        urls.join(", ")
                    )
                } else {
                    format!("downloaded content piped into {name}")
                },
                ev,
            );
            hits.push(if trusted {
                hit.severity(Severity::Low)
            } else {
                hit
            });
        } else if from_decode {
            let how = if cmd.decoded_by.is_empty() {
                "decoded data".to_string()
            } else {
                format!("data decoded by {}", cmd.decoded_by.join(" | "))
            };
            hits.push(Hit::new(
                id::CMD_OBFUSCATED,
                format!("{how} piped into {name}"),
                ev,
            ));
        }
    }
    let subst_bad = cmd
        .subst_commands
        .iter()
        .chain(cmd.procsubst_commands.iter())
        .any(|n| {
            tax.fetchers.contains(n)
                || tax.decoders.contains(n) && !["echo", "printf"].contains(&n.as_str())
        });
    let runs_code = tax.shells.contains(&name)
        || name == "eval"
        || name == "source"
        || name == "."
        || cmd.code.is_some();
    if (cmd.dynamic_script || name == "eval") && subst_bad {
        hits.push(Hit::new(
            id::CMD_OBFUSCATED,
            format!("{name} runs code computed from a decoder or download"),
            ev,
        ));
    } else if runs_code && !cmd.words_decoded_by.is_empty() {
        hits.push(Hit::new(
            id::CMD_OBFUSCATED,
            format!(
                "{name} runs code decoded on the line by {}",
                cmd.words_decoded_by.join(" | ")
            ),
            ev,
        ));
    } else if (tax.shells.contains(&name)
        || name == "source"
        || name == "."
        || super::shell::lang_of(&name, tax).is_some())
        && cmd.procsubst_commands.iter().any(|n| {
            tax.fetchers.contains(n) || tax.decoders.contains(n) && n != "echo" && n != "printf"
        })
    {
        hits.push(Hit::new(
            id::CMD_OBFUSCATED,
            format!("{name} runs a download or decoded data through process substitution"),
            ev,
        ));
    } else if (cmd.dynamic_name && (decoders_seen || subst_bad))
        || (cmd.computed_name && !cmd.words_decoded_by.is_empty())
    {
        hits.push(Hit::new(
            id::CMD_OBFUSCATED,
            format!("command name {name} computed from decoded data"),
            ev,
        ));
    } else if cmd.computed_name && cmd.via != Via::Interpreter && !name.is_empty() {
        // `c=cu;r=rl;$c$r …`, `/???/c?t`, `$(printf cu)rl`: the name is spelled to hide it
        hits.push(
            Hit::new(
                id::CMD_OBFUSCATED,
                format!("command name {name} assembled on the line to hide it"),
                ev,
            )
            .severity(Severity::Medium),
        );
    }
    // `pwsh -EncodedCommand …`: the command itself is hidden in base64
    let pwsh_encoded = super::shell::lang_of(&name, tax) == Some(super::interp::Lang::Pwsh)
        && cmd.code.is_some()
        && cmd
            .args()
            .iter()
            .any(|a| super::shell::pwsh_encoded_flag(a));
    if pwsh_encoded {
        hits.push(Hit::new(
            id::CMD_OBFUSCATED,
            format!("{name} runs a base64-encoded command{}", decoded_note(cmd)),
            ev,
        ));
        return;
    }
    let interp = cmd.interp.as_deref();
    let code_obf = cmd.code.as_deref().map(obfuscated_code).unwrap_or(false)
        || interp.map(|i| i.evals_decoded).unwrap_or(false);
    if code_obf {
        hits.push(Hit::new(
            id::CMD_OBFUSCATED,
            format!("{shown} evaluates decoded code{}", decoded_note(cmd)),
            ev,
        ));
    } else if interp.map(|i| i.evals_download).unwrap_or(false) {
        hits.push(Hit::new(
            id::CMD_OBFUSCATED,
            format!("{shown} evaluates downloaded code"),
            ev,
        ));
    }
}

/// CMD-TRACE-005 for one command.
fn privilege(cmd: &Command, tax: &Taxonomy, ev: &str, hits: &mut Vec<Hit>) {
    let name = cmd.name();
    if let Some(w) = cmd
        .wrappers
        .iter()
        .find(|w| tax.privilege_commands.contains(w.as_str()))
    {
        hits.push(Hit::new(
            id::CMD_PRIVESC,
            format!("runs {name} with {w}"),
            ev,
        ));
    } else if tax.privilege_commands.contains(&name) {
        hits.push(Hit::new(
            id::CMD_PRIVESC,
            format!("{name} raises privileges"),
            ev,
        ));
    }
    if let Some(words) = tax
        .container_escapes
        .iter()
        .find(|w| super::access::command_matches(cmd, w))
    {
        hits.push(Hit::new(
            id::CMD_PRIVESC,
            format!("{name} gives a container the host ({})", words.join(" ")),
            ev,
        ));
    }
    for target in write_targets(cmd) {
        if normalise_path(&target).starts_with("/etc/") {
            hits.push(Hit::new(
                id::CMD_PRIVESC,
                format!("writes {target} under /etc"),
                ev,
            ));
        }
    }
    if name == "chmod" {
        if let Some(mode) = cmd
            .args()
            .iter()
            .find(|a| !a.starts_with('-') || a.contains('s'))
        {
            let m = mode.as_str();
            let octal_suid = m.len() == 4
                && m.chars().all(|c| c.is_ascii_digit())
                && matches!(m.as_bytes()[0], b'2' | b'4' | b'6');
            if m.contains("+s") || octal_suid {
                hits.push(Hit::new(
                    id::CMD_PRIVESC,
                    "sets a setuid/setgid bit".to_string(),
                    ev,
                ));
            }
        }
    }
    if name == "setcap"
        && cmd
            .args()
            .iter()
            .any(|a| a.contains("cap_setuid") || a.contains("cap_sys_admin"))
    {
        hits.push(Hit::new(
            id::CMD_PRIVESC,
            "grants a dangerous capability".to_string(),
            ev,
        ));
    }
}

fn is_decoder(c: &Command, tax: &Taxonomy) -> bool {
    let n = c.name();
    match n.as_str() {
        "base64" | "base32" => c.has_flag("-d") || c.has_flag("--decode") || c.has_flag("-D"),
        "xxd" => c.has_flag("-r"),
        "openssl" => c.args().iter().any(|a| a == "enc" || a == "base64") && c.has_flag("-d"),
        "echo" | "printf" | "tr" => false,
        _ => tax.decoders.contains(&n),
    }
}

/// Files a command writes: output redirections, `tee`, the destination of
/// cp/mv/install/ln/rsync, `sed -i`, `dd of=`, a download's output file.
pub fn write_targets(cmd: &Command) -> Vec<String> {
    let mut out: Vec<String> = cmd
        .redirects
        .iter()
        .filter(|r| matches!(r.kind, RedirectKind::Write | RedirectKind::Append))
        .map(|r| r.target.clone())
        .filter(|t| !t.starts_with("/dev/") && !t.starts_with('&'))
        .collect();
    let name = cmd.name();
    let pos: Vec<&String> = cmd.args().iter().filter(|a| !a.starts_with('-')).collect();
    match name.as_str() {
        "tee" => out.extend(pos.iter().map(|s| s.to_string())),
        "cp" | "mv" | "install" | "ln" | "rsync" if pos.len() >= 2 => {
            if let Some(t) = pos.last() {
                out.push(t.to_string());
            }
        }
        "sed" | "perl"
            if cmd
                .args()
                .iter()
                .any(|a| a.starts_with("-i") || a.starts_with("-pi")) =>
        {
            if let Some(t) = pos.last() {
                out.push(t.to_string());
            }
        }
        "dd" => {
            for a in cmd.args() {
                if let Some(t) = a.strip_prefix("of=") {
                    out.push(t.to_string());
                }
            }
        }
        "curl" | "wget" => {
            for f in ["--output", "--output-document"] {
                if let Some(v) = cmd.flag_value(f) {
                    out.push(v.to_string());
                }
            }
            let short = if name == "wget" { 'O' } else { 'o' };
            out.extend(cmd.short_value(short).map(str::to_string));
        }
        "tar" => {
            // `tar czf OUT …`, `tar -c -f OUT …`, `tar --create --file=OUT …`
            let args = cmd.args();
            let create = args.first().map(|a| {
                let m = a.trim_start_matches('-');
                !a.starts_with("--") && (m.contains('c') || m.contains('r') || m.contains('u'))
            }) == Some(true)
                || args.iter().any(|a| a == "--create" || a == "--append");
            if create {
                if let Some(f) = cmd.flag_value("--file").or_else(|| cmd.short_value('f')) {
                    out.push(f.to_string());
                } else if let Some(first) = args
                    .first()
                    .filter(|a| !a.starts_with('-') && a.ends_with('f'))
                {
                    let _ = first;
                    if let Some(f) = args.get(1) {
                        out.push(f.to_string());
                    }
                }
            }
        }
        "zip" | "7z" | "7za" | "rar" => {
            // `zip OUT.zip files…`, `7z a OUT.7z files…`
            let skip = usize::from(name != "zip");
            if let Some(f) = pos.get(skip) {
                out.push(f.to_string());
            }
        }
        _ => {}
    }
    out
}

/// `find` tests that name what a `-delete` removes.
const FIND_NARROWING: &[&str] = &[
    "-name",
    "-iname",
    "-path",
    "-ipath",
    "-wholename",
    "-regex",
    "-iregex",
    "-newer",
    "-mtime",
    "-mmin",
    "-user",
    "-size",
];

fn destructive(cmd: &Command, tax: &Taxonomy) -> Option<String> {
    let name = cmd.name();
    match name.as_str() {
        "rm" => {
            let recursive = cmd.has_flag("-r") || cmd.has_flag("-R") || cmd.has_flag("--recursive");
            if !recursive {
                return None;
            }
            let t = cmd
                .args()
                .iter()
                .filter(|a| !a.starts_with('-'))
                .find(|a| {
                    let n = normalise_path(a);
                    tax.destructive_targets.contains(a.as_str())
                        || tax.destructive_targets.contains(n.as_str())
                        || n == "~/"
                        || n == "~/*"
                })?;
            Some(format!("rm -r on {t}"))
        }
        n if n.starts_with("mkfs") => Some(format!("{n} creates a filesystem")),
        "dd" => cmd
            .args()
            .iter()
            .filter_map(|a| a.strip_prefix("of=/dev/"))
            .find(|d| {
                !["null", "zero", "stdout", "stderr", "tty"].contains(d) && !d.starts_with("fd/")
            })
            .map(|d| format!("dd writes the raw device /dev/{d}")),
        "shred" | "wipe" | "srm" | "wipefs" => Some(format!("{name} destroys data")),
        "find" => {
            let root = cmd.args().first()?;
            let n = normalise_path(root);
            // `find . -name '*.pyc' -delete` in the project deletes what it names;
            // the home folder or a system folder is judged whatever the filter
            let project = matches!(root.as_str(), "." | "./" | ".." | "../");
            let named = cmd.args().windows(2).any(|w| {
                FIND_NARROWING.contains(&w[0].as_str()) && !matches!(w[1].as_str(), "*" | "*.*")
            });
            (cmd.args().iter().any(|a| a == "-delete")
                && !(project && named)
                && (tax.destructive_targets.contains(root.as_str()) || n == "~" || n == "~/"))
                .then(|| format!("find {root} -delete"))
        }
        "git" => {
            let a = cmd.args();
            let push = a.first().map(|s| s == "push").unwrap_or(false);
            let force = cmd.has_flag("--force")
                || cmd.has_flag("-f")
                || a.iter()
                    .any(|x| x.starts_with("--force") || x.starts_with('+'));
            let main = a.iter().any(|x| {
                let b = x.trim_start_matches('+');
                ["main", "master", "trunk"].contains(&b)
                    || b.ends_with(":main")
                    || b.ends_with(":master")
            });
            (push && force && main).then(|| "git push --force to the main branch".to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
