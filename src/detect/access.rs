//! What a command reads: files (as the OS would open them, globs and the
//! working directory included), the environment (a dump, a secret variable,
//! or only named harmless ones), and the machine itself (probing, recon).

use super::network::{classify, endpoints, HostClass};
use super::shell::{basename, Command, RedirectKind, Script};
use super::taxonomy::{normalise_path, Taxonomy};

mod env;
pub use env::{env_file, env_hit};

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
        // `tar -C DIR NAME…` / `--directory=DIR`: the names after it are under DIR
        let chdir = name == "tar" || name == "gtar" || name == "bsdtar";
        let mut dir: Option<String> = None;
        let mut next_is_dir = false;
        for a in cmd.args() {
            if next_is_dir {
                next_is_dir = false;
                dir = Some(a.clone());
            }
            if skip_value > 0 {
                skip_value -= 1;
                continue;
            }
            if chdir {
                if let Some(d) = a.strip_prefix("--directory=") {
                    dir = Some(d.to_string());
                    continue;
                }
                next_is_dir = a == "-C" || a == "--directory";
            }
            if a.starts_with('-') && !a.contains("=@") {
                if let Some((_, n)) = takes.iter().find(|(f, _)| f == a) {
                    skip_value = *n;
                }
                if a == "--directory" {
                    skip_value = 1;
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
                match &dir {
                    Some(d) if super::path::is_relative(p) => {
                        out.push(format!("{}/{p}", d.trim_end_matches('/')))
                    }
                    _ => out.push(p.to_string()),
                }
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
