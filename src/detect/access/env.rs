//! What a command shows of the environment: a dump (unless filtered down to
//! named harmless variables), a secret variable read or expanded, code that
//! reads the environment, or `/proc/<pid>/environ`.

use super::command_matches;
use crate::detect::hit::Hit;
use crate::detect::network::{classify, endpoints, HostClass};
use crate::detect::rules::id;
use crate::detect::shell::{basename, Command, Script};
use crate::detect::taxonomy::Taxonomy;

/// True for `/proc/<pid>/environ`.
pub fn env_file(path: &str) -> bool {
    let p = path.trim();
    p.starts_with("/proc/") && p.ends_with("/environ")
}

/// ENV-TRACE-001 for one command: a dump of the environment (unless filtered
/// down to named harmless variables), a secret variable read or expanded, or
/// code that reads the environment.
pub fn env_hit(cmd: &Command, script: &Script, tax: &Taxonomy, ev: &str) -> Option<Hit> {
    let name = cmd.name();
    let argv = &cmd.argv;
    let bare_env = argv.is_empty() && cmd.wrappers.last().map(|w| w == "env").unwrap_or(false);
    let dump = if bare_env {
        Some("env".to_string())
    } else {
        tax.env_dump_commands
            .iter()
            .find(|d| {
                argv.len() == d.len() && argv.iter().zip(d.iter()).all(|(a, b)| basename(a) == b)
            })
            .map(|d| d.join(" "))
    };
    if let Some(d) = dump {
        return match filter_shows(cmd, script, tax) {
            Filter::Harmless => None,
            Filter::Secrets(p) => Some(Hit::new(
                id::ENV_SECRET,
                format!("{d} filtered for secret variables ({p})"),
                ev,
            )),
            Filter::All => Some(Hit::new(
                id::ENV_SECRET,
                format!("{d} dumps the environment"),
                ev,
            )),
        };
    }
    // `ps eww`, `ps auxe`: BSD-style options (no dash) with `e` print every
    // process's environment after its command
    if name == "ps"
        && cmd.args().iter().any(|a| {
            !a.starts_with('-') && a.contains('e') && a.chars().all(|c| c.is_ascii_alphabetic())
        })
    {
        return Some(Hit::new(
            id::ENV_SECRET,
            "ps with `e` prints the environment of every process it lists".into(),
            ev,
        ));
    }
    // `docker inspect --format '{{json .Config.Env}}'`, `kubectl get -o jsonpath='{…env}'`
    let formats = || {
        tax.env_format_commands
            .iter()
            .any(|w| command_matches(cmd, w))
    };
    let field = || {
        cmd.args().iter().find_map(|a| {
            tax.env_format_fields
                .iter()
                .find(|f| a.contains(f.as_str()))
        })
    };
    if let Some(f) = formats().then(field).flatten() {
        return Some(Hit::new(
            id::ENV_SECRET,
            format!(
                "{} prints the environment through a format ({f})",
                cmd.display()
            ),
            ev,
        ));
    }
    let getenv = name == "launchctl" && cmd.args().first().is_some_and(|a| a == "getenv");
    if name == "printenv" || getenv {
        if let Some(v) = cmd.args().iter().find(|a| tax.secret_env(a)) {
            return Some(Hit::new(
                id::ENV_SECRET,
                format!("{} reads secret variable {v}", cmd.display()),
                ev,
            ));
        }
    }
    if cmd.args().iter().any(|a| env_file(a)) || cmd.redirects.iter().any(|r| env_file(&r.target)) {
        return match environ_filter(cmd, script, tax) {
            Filter::Harmless => None,
            Filter::Secrets(p) => Some(Hit::new(
                id::ENV_SECRET,
                format!("reads /proc/*/environ filtered for secret variables ({p})"),
                ev,
            )),
            Filter::All => Some(Hit::new(id::ENV_SECRET, "reads /proc/*/environ".into(), ev)),
        };
    }
    if let Some(code) = &cmd.code {
        if tax.env_code.is_match(code) {
            return Some(Hit::new(
                id::ENV_SECRET,
                format!("{} code reads the environment", cmd.display()),
                ev,
            ));
        }
    }
    // `[ -n "$TOKEN" ]` / `test -z "$KEY"` only ask whether it is set
    if name == "[" || name == "test" {
        return None;
    }
    if let Some(p) = cmd.params.iter().find(|p| p.starts_with('!')) {
        // `compgen -v | while read v; do echo "${!v}"; done`: every variable by name
        return Some(Hit::new(
            id::ENV_SECRET,
            format!("{name} expands variables by a name known only when it runs (${{{p}}})"),
            ev,
        ));
    }
    if let Some(p) = cmd.params.iter().find(|p| tax.secret_env(p)) {
        // Passing a token to its own allowlisted API is normal use, not a leak.
        let eps = endpoints(cmd, tax);
        let all_allowed = !eps.is_empty()
            && eps.iter().all(|e| {
                matches!(
                    classify(&e.host, tax),
                    HostClass::Allowed | HostClass::Loopback
                )
            });
        if !all_allowed {
            return Some(Hit::new(
                id::ENV_SECRET,
                format!("{name} expands secret variable ${p}"),
                ev,
            ));
        }
    }
    None
}

/// What an environment dump's consumers let through.
enum Filter {
    /// Nothing filters it (or something sends it on).
    All,
    /// A filter that can match secret variable names (the pattern).
    Secrets(String),
    /// A filter that only names harmless variables (`grep PATH`).
    Harmless,
}

/// `env | grep PATTERN`: whether what reaches the next command can show a
/// secret variable. (Where the filtered lines go next is the egress rules'
/// business; a filter that lets secrets through stays a finding here.)
fn filter_shows(cmd: &Command, script: &Script, tax: &Taxonomy) -> Filter {
    let Some(next) = script
        .commands
        .iter()
        .find(|c| c.stdin_from.contains(&cmd.id))
    else {
        return Filter::All;
    };
    match next.name().as_str() {
        "wc" => Filter::Harmless,
        "grep" | "egrep" | "fgrep" | "rg" => match grep_can_show_secrets(next, tax) {
            None => Filter::Harmless,
            Some(p) => Filter::Secrets(p.unwrap_or_else(|| "no pattern".into())),
        },
        _ => Filter::All,
    }
}

/// What reaches a reader of `/proc/<pid>/environ`: one line of NUL-separated
/// pairs, which a grep sees pair by pair only once `tr '\0' '\n'` has split
/// them (`cat /proc/1/environ | tr '\0' '\n' | grep -E 'DISPLAY|XDG'`, or `tr`
/// reading the file itself); without the split every pair reaches the filter.
fn environ_filter(cmd: &Command, script: &Script, tax: &Taxonomy) -> Filter {
    if splits_pairs(cmd) {
        return filter_shows(cmd, script, tax);
    }
    match script
        .commands
        .iter()
        .find(|c| c.stdin_from.contains(&cmd.id))
    {
        Some(next) if splits_pairs(next) => filter_shows(next, script, tax),
        _ => Filter::All,
    }
}

/// `tr '\0' '\n'` (no option): NUL-separated pairs become lines.
fn splits_pairs(cmd: &Command) -> bool {
    let args = cmd.args();
    cmd.name() == "tr"
        && args.len() == 2
        && ["\\0", "\\000", "\0"].contains(&args[0].as_str())
        && ["\\n", "\\012", "\n"].contains(&args[1].as_str())
}

/// Whether a grep over `NAME=value` lines can match one of the secret names:
/// `None` when it cannot, else the pattern that can.
fn grep_can_show_secrets(grep: &Command, tax: &Taxonomy) -> Option<Option<String>> {
    let args = grep.args();
    let insensitive = grep.has_flag("-i") || grep.has_flag("--ignore-case");
    let inverted = grep.has_flag("-v") || grep.has_flag("--invert-match");
    let fixed = grep.has_flag("-F") || grep.name() == "fgrep";
    if inverted {
        return Some(Some("-v".into()));
    }
    let mut patterns: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "-e" || a == "--regexp" {
            if let Some(p) = args.get(i + 1) {
                patterns.push(p.clone());
            }
            i += 2;
            continue;
        }
        if let Some(p) = a.strip_prefix("--regexp=") {
            patterns.push(p.to_string());
        } else if !a.starts_with('-') && patterns.is_empty() {
            patterns.push(a.clone());
        }
        i += 1;
    }
    if patterns.is_empty() {
        return Some(None);
    }
    for p in &patterns {
        let re = if fixed {
            regex::escape(p)
        } else {
            // basic regex alternation `\|` and grouping `\(…\)`
            p.replace("\\|", "|")
                .replace("\\(", "(")
                .replace("\\)", ")")
        };
        let Ok(re) = regex::RegexBuilder::new(&re)
            .case_insensitive(insensitive)
            .size_limit(1 << 20)
            .build()
        else {
            return Some(Some(p.clone()));
        };
        if tax
            .secret_env_examples
            .iter()
            .any(|n| re.is_match(&format!("{n}=x")))
        {
            return Some(Some(p.clone()));
        }
    }
    None
}
