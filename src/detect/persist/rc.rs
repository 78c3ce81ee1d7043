//! Shell start-up lines that take the shell over without running anything on
//! the spot: a variable the shell loads or runs as code (`BASH_ENV`,
//! `LD_PRELOAD`, a `PROMPT_COMMAND` that fetches), a `PATH` entry in a folder
//! anyone can write, an alias that replaces `sudo` or `ssh`, a `DEBUG` trap
//! that reaches out. Data: `[rc]` in `assets/detect/evasion.toml`.

use super::risky;
use crate::detect::shell::parse_script;
use crate::detect::taxonomy::Taxonomy;

/// Why an rc text hijacks the shell, if it does.
pub(super) fn hijack(text: &str, tax: &Taxonomy, depth: usize) -> Option<String> {
    let d = crate::detect::evasion::data()?;
    let script = parse_script(text, tax);
    for c in &script.commands {
        let name = c.name();
        let args = c.args();
        let mut sets: Vec<(String, String)> = c.assignments.clone();
        if ["export", "declare", "typeset", "readonly", "local"].contains(&name.as_str()) {
            sets.extend(args.iter().filter_map(|a| {
                a.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            }));
        }
        if (name == "setenv" || name == "set") && args.len() >= 2 {
            // csh `setenv VAR value`, fish `set -gx VAR value`
            let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
            if pos.len() >= 2 {
                sets.push((
                    pos[0].clone(),
                    pos[1..]
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ));
            }
        }
        for (k, v) in &sets {
            if d.load_vars.contains(k) && !v.is_empty() {
                return Some(format!("sets {k}={v}, which is loaded as code"));
            }
            if d.command_vars.contains(k) {
                if let Some(why) = risky(v, tax, depth + 1) {
                    return Some(format!("sets {k} to a command that {why}"));
                }
            }
            if k == "PATH" || k == "path" {
                if let Some(e) = v.split([':', ' ']).find(|e| d.untrusted(e)) {
                    return Some(format!("puts {e}, a folder anyone can write, on PATH"));
                }
            }
        }
        if name == "alias" {
            for a in args {
                let Some((n, body)) = a.split_once('=') else {
                    continue;
                };
                if !d.shadowed.iter().any(|s| s == n) {
                    continue;
                }
                let first = body
                    .split_whitespace()
                    .find(|w| !w.contains('='))
                    .unwrap_or("");
                let base = first.rsplit('/').next().unwrap_or(first);
                if base != n && base != "command" && base != "builtin" {
                    return Some(format!(
                        "alias {n}={body} takes over every {n} the user types"
                    ));
                }
            }
        }
        if name == "trap" {
            if let Some(body) = args.first() {
                if args[1..]
                    .iter()
                    .any(|s| ["DEBUG", "EXIT", "RETURN", "ERR"].contains(&s.as_str()))
                {
                    if let Some(why) = risky(body, tax, depth + 1) {
                        return Some(format!("a trap that {why} after every command"));
                    }
                }
            }
        }
    }
    None
}
