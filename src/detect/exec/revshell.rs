//! CMD-TRACE-003's judgement: why a command connects a shell to the network
//! (`/dev/tcp`, `nc -e`, a client piped to or from a shell, socat, socket code
//! that spawns a shell, ztcp, remote xterm, `ssh -R`, a fifo wiring both).

use super::rx;
use crate::detect::network::{classify, endpoints, HostClass};
use crate::detect::shell::{Command, Script};
use crate::detect::taxonomy::Taxonomy;
use regex::Regex;
use std::sync::OnceLock;

/// Interpreter code that connects a socket to a shell.
pub(super) fn reverse_shell_code(code: &str) -> bool {
    static SOCK: OnceLock<Option<Regex>> = OnceLock::new();
    static SHELL: OnceLock<Option<Regex>> = OnceLock::new();
    let sock = rx(
        &SOCK,
        r"socket\.socket|fsockopen|/dev/tcp/|TCPSocket|IO::Socket|use\s+Socket|net\.connect|net\.Socket|socket\(\s*(AF_INET|PF_INET|S)|/inet/tcp/|TCPClient|socket\.tcp",
    );
    let shell = rx(
        &SHELL,
        r"pty\.spawn|os\.dup2|/bin/(ba|z)?sh|subprocess\.(call|Popen|run)|exec\s*\(|spawn\(|proc_open|system\(|cmd\.exe|STDIN->fdopen|open\(STDIN|\|&|io\.popen|os\.execute|IO\.popen|iex|Invoke-Expression",
    );
    match (sock, shell) {
        (Some(a), Some(b)) => a.is_match(code) && b.is_match(code),
        _ => false,
    }
}

/// CMD-TRACE-003: why a command connects a shell to the network.
pub(super) fn reverse_shell(cmd: &Command, script: &Script, tax: &Taxonomy) -> Option<String> {
    let name = cmd.name();
    let shown = if name.is_empty() {
        "redirection".to_string()
    } else {
        cmd.display()
    };
    let dev_tcp = cmd
        .redirects
        .iter()
        .any(|r| r.target.starts_with("/dev/tcp/") || r.target.starts_with("/dev/udp/"))
        || cmd
            .args()
            .iter()
            .any(|a| a.starts_with("/dev/tcp/") || a.starts_with("/dev/udp/"));
    if dev_tcp {
        return Some(format!(
            "{shown} connects a shell to the network (/dev/tcp)"
        ));
    }
    let client = tax.shell_clients.contains(&name);
    let nc = ["nc", "ncat", "netcat", "pwncat", "cryptcat", "sbd"].contains(&name.as_str());
    if nc
        && (cmd.has_flag("-e")
            || cmd.has_flag("-c")
            || cmd.has_flag("--exec")
            || cmd.has_flag("--sh-exec")
            || cmd.has_flag("--lua-exec"))
    {
        return Some(format!("{shown} hands a shell to a network peer"));
    }
    if nc && cmd.has_flag("-l") && cmd.piped_to.iter().any(|n| tax.shells.contains(n)) {
        return Some(format!(
            "{shown} listens and runs what arrives (bind shell)"
        ));
    }
    if client && cmd.piped_from.iter().any(|n| tax.shells.contains(n)) {
        return Some(format!("{shown} sends a shell's output to the network"));
    }
    if client && cmd.piped_to.iter().any(|n| tax.shells.contains(n)) {
        return Some(format!("{shown} feeds what the network sends into a shell"));
    }
    if name == "socat" {
        let exec = cmd.args().iter().any(|a| {
            let l = a.to_ascii_lowercase();
            l.starts_with("exec:") || l.starts_with("system:")
        });
        let net = cmd.args().iter().any(|a| {
            let l = a.to_ascii_lowercase();
            l.starts_with("tcp")
                || l.starts_with("udp")
                || l.starts_with("openssl")
                || l.starts_with("ssl")
        });
        if exec && net {
            return Some("socat connects a program to the network".to_string());
        }
    }
    if cmd.code.as_deref().map(reverse_shell_code).unwrap_or(false)
        || cmd
            .interp
            .as_deref()
            .map(|i| i.sockets > 0 && i.spawns_shell)
            .unwrap_or(false)
    {
        return Some(format!("{shown} code connects a shell to a socket"));
    }
    if name == "ztcp"
        && script
            .commands
            .iter()
            .any(|c| tax.shells.contains(&c.name()))
    {
        return Some("zsh ztcp connects a shell to the network".to_string());
    }
    if name == "xterm" {
        if let Some(d) = cmd
            .flag_value("-display")
            .or_else(|| cmd.flag_value("--display"))
        {
            let host = d.split(':').next().unwrap_or("");
            if !host.is_empty() && classify(host, tax) != HostClass::Loopback {
                return Some(format!("xterm opens a terminal on remote display {d}"));
            }
        }
    }
    if name == "ssh" && cmd.has_flag("-R") {
        let remote_loopback = endpoints(cmd, tax)
            .iter()
            .all(|e| classify(&e.host, tax) == HostClass::Loopback);
        if !remote_loopback {
            return Some("ssh -R opens a reverse tunnel into this machine".to_string());
        }
    }
    if (name == "mkfifo" || name == "mknod") && fifo_shell(script, tax) {
        return Some(format!("{name} pipe wires a shell to a network client"));
    }
    None
}

/// A line that makes a named pipe and also runs both a shell and a network client.
pub(super) fn fifo_shell(script: &Script, tax: &Taxonomy) -> bool {
    let names: Vec<String> = script.commands.iter().map(|c| c.name()).collect();
    names.iter().any(|n| tax.shells.contains(n))
        && names.iter().any(|n| tax.shell_clients.contains(n))
}
