//! What a command reads: files (as the OS would open them, globs and the
//! working directory included), the environment (a dump, a secret variable,
//! or only named harmless ones), and the machine itself (probing, recon).

use super::hit::Hit;
use super::network::{classify, endpoints, HostClass};
use super::rules::id;
use super::shell::{basename, Command, RedirectKind, Script};
use super::taxonomy::{normalise_path, Taxonomy};

/// Commands whose first operand is a pattern, script or filter, not a file.
const PROGRAM_FIRST: &[&str] = &[
    "grep", "egrep", "fgrep", "rg", "ag", "ack", "sed", "awk", "gawk", "mawk", "jq", "yq",
];

/// Paths a command reads: its arguments (for reading commands), input
/// redirections, `@file` data arguments, `file://` URLs, and the files a
/// `find … -exec cat {} +` reads.
pub fn read_paths(cmd: &Command, tax: &Taxonomy) -> Vec<String> {
    let name = cmd.name();
    let mut out: Vec<String> = cmd
        .redirects
        .iter()
        .filter(|r| r.kind == RedirectKind::Read)
        .map(|r| r.target.clone())
        .collect();
    let reads = tax.read_commands.contains(&name)
        || tax
            .read_commands
            .contains(name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'));
    if reads {
        let writes = super::exec::write_targets(cmd);
        let program_first = PROGRAM_FIRST.contains(&name.as_str())
            && !cmd.has_flag("-e")
            && !cmd.has_flag("-f")
            && !cmd.has_flag("--regexp")
            && !cmd.has_flag("--file");
        let mut skipped_program = !program_first;
        let mut skip_value = 0usize;
        let takes = value_options(&name);
        for a in cmd.args() {
            if skip_value > 0 {
                skip_value -= 1;
                continue;
            }
            if a.starts_with('-') && !a.contains("=@") {
                if let Some((_, n)) = takes.iter().find(|(f, _)| f == a) {
                    skip_value = *n;
                }
                continue;
            }
            if !skipped_program {
                skipped_program = true;
                continue;
            }
            let p = a
                .split_once("=@")
                .map(|x| x.1)
                .or_else(|| a.strip_prefix('@'))
                .unwrap_or(a);
            let p = p.split(';').next().unwrap_or(p); // curl -F "f=@path;type=x"
            if !writes.iter().any(|w| w == p) {
                out.push(p.to_string());
            }
        }
        if name == "dd" {
            out.extend(
                cmd.args()
                    .iter()
                    .filter_map(|a| a.strip_prefix("if=").map(str::to_string)),
            );
        }
    }
    if name == "socat" {
        out.extend(cmd.args().iter().filter_map(|a| socat_file(a)));
    }
    for f in [
        "--post-file",
        "--body-file",
        "-in",
        "--upload-file",
        "-T",
        "-InFile",
        "-infile",
    ] {
        if let Some(v) = cmd.flag_value(f) {
            out.push(v.to_string());
        }
    }
    for a in cmd.args() {
        if let Some(p) = a.strip_prefix("file://") {
            out.push(p.to_string());
        }
    }
    if name == "find" {
        if let Some(g) = find_reads(cmd, tax) {
            out.push(g);
        }
    }
    out.retain(|p| !p.is_empty() && p != "-" && !p.contains("://"));
    out
}

/// The file a `socat` address opens for reading (`FILE:path`, `OPEN:path,rdonly`,
/// `GOPEN:path`), without its options.
fn socat_file(addr: &str) -> Option<String> {
    let (kind, rest) = addr.split_once(':')?;
    if !["file", "open", "gopen"].contains(&kind.to_ascii_lowercase().as_str()) {
        return None;
    }
    let path = rest.split(',').next().unwrap_or(rest);
    (!path.is_empty()).then(|| path.to_string())
}

/// Paths a reading command run by `xargs` gets from the literal text piped into
/// it (`echo ~/.aws/credentials | xargs cat`).
pub fn xargs_paths(script: &Script, cmd: &Command, tax: &Taxonomy) -> Vec<String> {
    if !cmd.wrappers.iter().any(|w| w == "xargs") || !tax.read_commands.contains(&cmd.name()) {
        return Vec::new();
    }
    script
        .stdin_of(cmd.id)
        .map(|t| {
            t.split_whitespace()
                .take(64)
                .filter(|w| w.contains('/') || w.starts_with('.'))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Options of the reading commands that take values (and how many), so the
/// values are not read as files.
fn value_options(name: &str) -> &'static [(&'static str, usize)] {
    match name {
        "grep" | "egrep" | "fgrep" => &[
            ("-A", 1),
            ("-B", 1),
            ("-C", 1),
            ("-m", 1),
            ("--max-count", 1),
            ("-d", 1),
            ("-D", 1),
        ],
        "rg" | "ag" | "ack" => &[
            ("-A", 1),
            ("-B", 1),
            ("-C", 1),
            ("-m", 1),
            ("-g", 1),
            ("--glob", 1),
            ("-t", 1),
            ("-T", 1),
            ("--type", 1),
        ],
        "awk" | "gawk" | "mawk" => &[("-F", 1), ("-v", 1)],
        "sed" => &[("-l", 1)],
        "jq" | "yq" => &[
            ("--arg", 2),
            ("--argjson", 2),
            ("--slurpfile", 2),
            ("--rawfile", 2),
            ("--indent", 1),
        ],
        "head" | "tail" => &[("-n", 1), ("-c", 1)],
        "cut" => &[("-d", 1), ("-f", 1), ("-c", 1), ("-b", 1)],
        "tar" => &[("-C", 1), ("--exclude", 1)],
        "curl" => &[
            ("-o", 1),
            ("-X", 1),
            ("-H", 1),
            ("-u", 1),
            ("-A", 1),
            ("-e", 1),
            ("-m", 1),
            ("-x", 1),
            ("-w", 1),
            ("--resolve", 1),
            ("--connect-to", 1),
        ],
        "openssl" => &[
            ("-passin", 1),
            ("-pass", 1),
            ("-out", 1),
            ("-k", 1),
            ("-md", 1),
        ],
        _ => &[],
    }
}

/// `find ROOT -name PAT -exec cat {} +` (or piped to `xargs cat`): the glob it reads.
fn find_reads(cmd: &Command, tax: &Taxonomy) -> Option<String> {
    let args = cmd.args();
    let root = args.iter().find(|a| !a.starts_with('-'))?;
    let exec_reads = args
        .iter()
        .position(|a| a == "-exec" || a == "-execdir" || a == "-ok")
        .and_then(|i| args.get(i + 1))
        .map(|c| tax.read_commands.contains(basename(c)))
        .unwrap_or(false);
    let piped_reads = cmd.piped_to.iter().any(|n| tax.read_commands.contains(n));
    if !exec_reads && !piped_reads {
        return None;
    }
    let pat = ["-name", "-iname", "-path"]
        .iter()
        .find_map(|f| {
            args.iter()
                .position(|a| a == f)
                .and_then(|i| args.get(i + 1))
        })
        .map(String::as_str)
        .unwrap_or("*");
    // find descends into every folder (hidden ones too) unless held to one level
    let one_level = args
        .iter()
        .position(|a| a == "-maxdepth")
        .and_then(|i| args.get(i + 1))
        .is_some_and(|d| d == "1" || d == "0");
    let pat = pat.trim_start_matches("*/");
    let sep = if one_level || pat.contains('/') {
        "/"
    } else {
        "/**/"
    };
    Some(format!("{}{sep}{pat}", root.trim_end_matches('/')))
}

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
        return Some(Hit::new(id::ENV_SECRET, "reads /proc/*/environ".into(), ev));
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

/// EXF-TRACE-003 for a command that prints a stored credential (`gh auth token`,
/// `vault kv get`, `security find-generic-password`…): the taxonomy entry it matches.
/// An entry's words after the first must appear in order among the arguments.
pub fn credential_command(cmd: &Command, tax: &Taxonomy) -> Option<String> {
    tax.credential_commands
        .iter()
        .find(|words| command_matches(cmd, words))
        .map(|words| words.join(" "))
}

/// A command against one entry of a command list (`["kubectl", "get", "secret*"]`): the
/// first word is the command's name, the others appear in order among its arguments,
/// other arguments in between allowed.
pub fn command_matches(cmd: &Command, words: &[String]) -> bool {
    let Some(first) = cmd.argv.first() else {
        return false;
    };
    if words.first().map(String::as_str) != Some(basename(first)) {
        return false;
    }
    let mut want = words[1..].iter().peekable();
    for a in &cmd.argv[1..] {
        if want.peek().is_some_and(|w| word_matches(w, a)) {
            want.next();
        }
    }
    want.peek().is_none()
}

/// Whether what command `j` prints is only used to talk to the service it belongs to:
/// every command that takes its output (on stdin, in `$(…)`, or through a variable an
/// assignment filled) reaches allowlisted or loopback hosts only, e.g.
/// `curl -H "Authorization: Bearer $(gh auth token)" https://api.github.com/…`.
/// Sent anywhere else, the flow check reports it as a secret leaving.
pub fn credential_used_in_place(script: &Script, j: usize, tax: &Taxonomy) -> bool {
    let takes = |c: &Command, k: usize| c.stdin_from.contains(&k) || c.subst_ids.contains(&k);
    let mut users: Vec<&Command> = Vec::new();
    for c in script.commands.iter().filter(|c| takes(c, j)) {
        if c.argv.is_empty() && !c.assignments.is_empty() {
            // `T=$(gh auth token)`: the commands that use $T
            users.extend(script.commands.iter().filter(|u| {
                u.params
                    .iter()
                    .any(|p| c.assignments.iter().any(|(k, _)| k == p))
            }));
        } else {
            users.push(c);
        }
    }
    !users.is_empty()
        && users.iter().all(|u| {
            let eps = endpoints(u, tax);
            !eps.is_empty()
                && eps.iter().all(|e| {
                    matches!(
                        classify(&e.host, tax),
                        HostClass::Allowed | HostClass::Loopback
                    )
                })
        })
}

/// One word of a command list against one argument: alternatives split by `|`,
/// each exact or, ending in `*`, a prefix.
fn word_matches(word: &str, arg: &str) -> bool {
    word.split('|').any(|alt| match alt.split_once('*') {
        // `get-secret*`: a prefix; `http.*.extraheader`: a prefix and a suffix
        Some((prefix, suffix)) => {
            arg.len() >= prefix.len() + suffix.len()
                && arg.starts_with(prefix)
                && arg.ends_with(suffix)
        }
        None => arg == alt,
    })
}

/// PRB-TRACE-001 for one command: what it probes, if anything.
pub fn probe(cmd: &Command, tax: &Taxonomy) -> Option<String> {
    let name = cmd.name();
    let argv = &cmd.argv;
    let probing = match name.as_str() {
        "which" | "whereis" | "type" | "hash" => true,
        "command" => cmd.has_flag("-v") || cmd.has_flag("-V"),
        _ => false,
    };
    if probing {
        let found: Vec<&String> = cmd
            .args()
            .iter()
            .filter(|a| tax.probe_binaries.contains(a.as_str()))
            .collect();
        if !found.is_empty() {
            return Some(format!(
                "{name} {}",
                found
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
    }
    for rc in &tax.recon_commands {
        if argv.is_empty() || basename(&argv[0]) != rc[0] {
            continue;
        }
        let ok = if rc.len() == 1 {
            argv.len() == 1
        } else {
            rc[1..].iter().all(|w| argv[1..].contains(w))
        };
        if ok {
            return Some(rc.join(" "));
        }
    }
    if tax.list_commands.contains(&name) {
        if let Some(d) = cmd
            .args()
            .iter()
            .find(|a| !a.starts_with('-') && tax.sensitive_dirs.matches(a).is_some())
        {
            return Some(format!("{name} {d}"));
        }
        if name == "find" {
            let root = cmd
                .args()
                .first()
                .map(|r| normalise_path(r))
                .unwrap_or_default();
            let hunting = cmd.args().iter().any(|a| {
                let l = a.to_ascii_lowercase();
                [
                    "*.pem",
                    "id_rsa",
                    "id_*",
                    "*.key",
                    "wallet.dat",
                    "credentials",
                    ".env",
                    "*.kdbx",
                    "*.ovpn",
                ]
                .iter()
                .any(|k| l.contains(k))
            });
            if hunting
                && (root == "~"
                    || root == "/"
                    || root == "~/"
                    || root.starts_with("/home")
                    || root == "/Users")
            {
                return Some(format!("find {root} for key files"));
            }
        }
    }
    None
}
