//! What a command is once its words are known: wrappers (`sudo`, `env X=1`,
//! `timeout 5`, `busybox`…) peeled off, a name written as a glob
//! (`/???/c?t`) resolved, the script of `bash -c` / `eval` / a here-input
//! found (and walked), and the code given to an interpreter (`python -c`,
//! `perl -e`, `awk 'BEGIN…'`, `pwsh -EncodedCommand`) found and handed to
//! the interpreter normaliser; the command a runner is given (`docker run`,
//! `ssh host 'cmd'`, `kubectl exec -- cmd`, see `hosted.rs`) walked too.

use super::walker::Walker;
use super::{basename, lang_of, Command, RedirectKind, Via};
use crate::detect::interp::{self, Lang};
use crate::detect::taxonomy::Taxonomy;
use base64::Engine;

impl Walker<'_> {
    /// Peels wrappers, finds nested scripts and interpreter code, then records
    /// the command; returns its id (`None` when the line is full).
    pub(super) fn finish_command(
        &mut self,
        mut cmd: Command,
        dyn_flags: Vec<bool>,
    ) -> Option<usize> {
        if self.full() {
            return None;
        }
        let (wrappers, rest, env_assign) = self.strip_wrappers(&cmd.argv);
        let skipped = cmd.argv.len() - rest.len();
        // `xargs -a FILE cmd` reads FILE as `xargs cmd < FILE` would
        for target in xargs_arg_files(&cmd.argv[..skipped]) {
            cmd.redirects.push(super::Redirect {
                kind: RedirectKind::Read,
                target,
            });
        }
        cmd.wrappers = wrappers;
        cmd.assignments.extend(env_assign);
        cmd.argv = rest;
        let dyn_flags: Vec<bool> = dyn_flags.into_iter().skip(skipped).collect();
        if !cmd.dynamic_name {
            cmd.dynamic_name = cmd
                .argv
                .first()
                .map(|a| a.starts_with('$'))
                .unwrap_or(false)
                && dyn_flags.first().copied().unwrap_or(false);
        }
        self.resolve_glob_name(&mut cmd);
        if cmd.name() == "git" {
            cmd.remote_url = self.push_url(cmd.args());
        }
        let name = cmd.name();
        let depth = cmd.depth;
        let mut nested: Option<(String, Via)> = None;
        let mut code: Option<(Lang, String)> = None;
        if self.tax.shells.contains(&name) || name == "su" {
            if let Some((idx, script)) = c_flag_script(&cmd.argv) {
                if dyn_flags.get(idx).copied().unwrap_or(false) {
                    cmd.dynamic_script = true;
                }
                nested = Some((script, Via::ShellC));
            } else if cmd.args().iter().all(|a| {
                a.starts_with('-')
                    || ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"].contains(&a.as_str())
            }) {
                // `bash <<< "…"` or `sh <<EOF … EOF`: the here-text is the script.
                if let Some(r) = cmd
                    .redirects
                    .iter()
                    .find(|r| matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc))
                {
                    nested = Some((r.target.clone(), Via::HereInput));
                }
            }
        } else if name == "cmd" || name == "cmd.exe" {
            // `cmd /c type %USERPROFILE%\.netrc`: cmd.exe runs the rest of its line
            nested = super::windows::cmd_exe_script(cmd.args()).map(|s| (s, Via::ShellC));
        } else if self.tax.cmd_exe_commands.contains(&name) && cmd.text.contains('\\') {
            // `copy %USERPROFILE%\.ssh\id_rsa \\host\share\k` typed as a shell line:
            // cmd.exe's words, whose backslashes the POSIX parse has eaten
            nested = super::windows::cmd_exe_script(&["/c".to_string(), cmd.text.clone()])
                .map(|s| (s, Via::ShellC));
        } else if name == "git" {
            // `git -c core.sshCommand='…' fetch`: git runs the value of an exec key
            nested = git_c_command(&cmd.argv, self.tax).map(|s| (s, Via::ShellC));
        } else if ["ssh", "scp", "sftp"].contains(&name.as_str()) {
            // `ssh -o ProxyCommand='nc IP 22' host`: ssh runs the option's value
            nested = ssh_option_command(&cmd.argv).map(|s| (s, Via::ShellC));
        } else if (name == "source" || name == ".")
            && cmd
                .args()
                .iter()
                .any(|a| ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "-"].contains(&a.as_str()))
        {
            if let Some(r) = cmd
                .redirects
                .iter()
                .find(|r| matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc))
            {
                nested = Some((r.target.clone(), Via::HereInput));
            }
        } else if name == "eval" {
            let body = cmd.args().join(" ");
            if dyn_flags.iter().skip(1).any(|d| *d) {
                cmd.dynamic_script = true;
            }
            nested = Some((body, Via::Eval));
        } else if let Some(lang) = lang_of(&name, self.tax) {
            if let Some(c) = interpreter_code(&cmd, lang) {
                cmd.code = Some(c.clone());
                code = Some((lang, c));
            }
        }
        if let Some((s, _)) = &nested {
            cmd.script = Some(s.clone());
        }
        // `docker run IMG CMD…`, `ssh HOST 'script'`: the command given elsewhere
        let hosted = super::hosted::hosted(&cmd.argv);
        // `GIT_SSH_COMMAND='…' git pull`, `export PAGER='…'`: a value a program runs
        let env_run: Vec<String> = super::hosted::env_commands(&cmd.assignments, &cmd.argv)
            .into_iter()
            .map(str::to_string)
            .collect();
        let id = self.push(cmd);
        for s in &env_run {
            self.script(s, Via::Variable, depth + 1);
        }
        if let Some((s, via)) = nested {
            self.script(&s, via, depth + 1);
        }
        match hosted {
            Some(super::hosted::Hosted::Script(s)) => self.script(&s, Via::ShellC, depth + 1),
            Some(super::hosted::Hosted::Argv(argv)) if depth < super::MAX_DEPTH => {
                let text = argv.join(" ");
                self.finish_command(Command::new(argv, Via::ShellC, depth + 1, text), Vec::new());
            }
            _ => {}
        }
        if let Some((_, c)) = code {
            self.interpreter_code(id, c);
        }
        Some(id)
    }

    /// Runs the interpreter normaliser on a command's code and records what it
    /// found as commands one level down (see `interp::to_commands`).
    pub(super) fn interpreter_code(&mut self, id: usize, code: String) {
        let Some(lang) = lang_of(&self.out.commands[id].name(), self.tax) else {
            return;
        };
        let lang: Lang = lang;
        let depth = self.out.commands[id].depth;
        if depth >= super::MAX_DEPTH {
            return;
        }
        self.out.commands[id].code = Some(code.clone());
        let Some(data) = self.tax.interp() else {
            return;
        };
        let facts = interp::analyse(lang, &code, data, &mut self.budget);
        let label = self.out.commands[id].name();
        self.out.commands[id].interp = Some(Box::new(facts.summary()));
        for s in &facts.shell {
            self.script(s, Via::ShellC, depth + 1);
        }
        if lang == Lang::Pwsh {
            // PowerShell's simple commands read like a shell's (`cat`, `curl`, `iwr`),
            // once its paths are: a backslash separates folders (PowerShell escapes
            // with a backtick) and `$env:NAME` is the variable cmd spells `%NAME%`
            self.script(
                &super::windows::pwsh_as_shell(&code),
                Via::ShellC,
                depth + 1,
            );
        } else if lang == Lang::Osascript {
            self.script(&code, Via::ShellC, depth + 1);
        }
        for argv in &facts.argv {
            let cmd = Command::new(argv.clone(), Via::ShellC, depth + 1, argv.join(" "));
            self.finish_command(cmd, Vec::new());
        }
        let text = self.out.commands[id].text.clone();
        let cwd = self.out.commands[id].cwd.clone();
        let base = self.out.commands.len();
        for mut c in interp::to_commands(&facts, &label, depth + 1, &text) {
            if self.full() {
                break;
            }
            c.cwd.clone_from(&cwd);
            c.stdin_from = c.stdin_from.iter().map(|i| base + i).collect();
            self.push(c);
        }
    }

    /// `/???/c?t` runs `/bin/cat`: a name written as a glob is read as the
    /// first known command it matches.
    fn resolve_glob_name(&mut self, cmd: &mut Command) {
        let Some(first) = cmd.argv.first() else {
            return;
        };
        let base = basename(first);
        if !base.contains(['*', '?', '[']) {
            return;
        }
        let mut names: Vec<&String> = self
            .tax
            .known_commands
            .iter()
            .filter(|n| super::super::shell::words_match(base, n))
            .collect();
        names.sort();
        if let Some(n) = names.first() {
            cmd.argv[0] = n.to_string();
            cmd.computed_name = true;
        }
    }

    /// Returns (wrappers, remaining argv, assignments given to `env`).
    pub(super) fn strip_wrappers(
        &self,
        argv: &[String],
    ) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
        let mut wrappers = Vec::new();
        let mut assigns = Vec::new();
        let mut i = 0;
        let mut guard = 0;
        while i < argv.len() && guard < 16 {
            guard += 1;
            let name = basename(&argv[i]).to_ascii_lowercase();
            if !self.tax.wrappers.contains(&name) && runner_prefix(&argv[i..]).is_none() {
                break;
            }
            // `command -v X` is a probe, not a wrapper; `su` without -c is a login.
            if name == "command"
                && argv
                    .get(i + 1)
                    .map(|a| a == "-v" || a == "-V")
                    .unwrap_or(false)
            {
                break;
            }
            if name == "su" {
                wrappers.push(name);
                break;
            }
            // `uv run X`, `poetry run X`, `npx X`, `pnpm dlx X`: runners of a project's tools
            if let Some(skip) = runner_prefix(&argv[i..]) {
                wrappers.push(name.clone());
                i += skip;
                continue;
            }
            // `busybox` / `toybox` alone lists applets; with a name it runs that applet.
            if (name == "busybox" || name == "toybox")
                && argv.get(i + 1).map(|a| a.starts_with('-')).unwrap_or(true)
            {
                break;
            }
            wrappers.push(name.clone());
            i += 1;
            // options of the wrapper, and the ones that take a value
            let takes_value: &[&str] = match name.as_str() {
                "env" => &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
                "sudo" | "doas" => &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"],
                "timeout" => &["-s", "--signal", "-k", "--kill-after"],
                "nice" => &["-n", "--adjustment"],
                "ionice" => &["-c", "-n", "-p"],
                "xargs" => XARGS_VALUES,
                "watch" => &["-n", "--interval"],
                "strace" | "ltrace" => &["-o", "-p", "-e", "-s"],
                "stdbuf" => &["-i", "-o", "-e"],
                "runuser" => &["-u", "-g", "-l"],
                _ => &[],
            };
            while i < argv.len() {
                let a = &argv[i];
                if a == "--" {
                    i += 1;
                    break;
                }
                if a.starts_with('-') && a.len() > 1 {
                    i += 1;
                    if takes_value.contains(&a.as_str()) {
                        i += 1;
                    }
                    continue;
                }
                if name == "env" {
                    if let Some((k, v)) = a.split_once('=') {
                        if is_name(k) {
                            assigns.push((k.to_string(), v.to_string()));
                            i += 1;
                            continue;
                        }
                    }
                }
                break;
            }
            if name == "timeout" && i < argv.len() {
                i += 1; // the duration
            }
            if name == "chroot" && i < argv.len() {
                i += 1; // the new root
            }
        }
        (wrappers, argv[i.min(argv.len())..].to_vec(), assigns)
    }
}

/// Options of `xargs` that take the next word as their value.
const XARGS_VALUES: &[&str] = &[
    "-I",
    "-n",
    "-P",
    "-d",
    "-L",
    "-s",
    "-E",
    "-a",
    "--max-args",
    "--arg-file",
    "--delimiter",
    "--max-procs",
    "--max-lines",
    "--max-chars",
];

/// The files `xargs -a FILE` / `--arg-file[=]FILE` reads, among the words of
/// the wrappers peeled off a command.
fn xargs_arg_files(wrapper_words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_xargs = false;
    let mut it = wrapper_words.iter();
    while let Some(w) = it.next() {
        if !w.starts_with('-') {
            in_xargs = basename(w) == "xargs";
            continue;
        }
        if !in_xargs {
            continue;
        }
        if XARGS_VALUES.contains(&w.as_str()) && w != "-a" && w != "--arg-file" {
            it.next();
        } else if w == "-a" || w == "--arg-file" {
            out.extend(it.next().cloned());
        } else if let Some(v) = w.strip_prefix("--arg-file=") {
            out.push(v.to_string());
        } else if let Some(v) = w.strip_prefix("-a").filter(|v| !v.is_empty()) {
            out.push(v.to_string());
        }
    }
    out
}

/// How many words a project-runner prefix takes (`uv run --with x`, `npx -y`,
/// `poetry run`, `pnpm dlx`), if `argv` starts with one.
fn runner_prefix(argv: &[String]) -> Option<usize> {
    let name = basename(argv.first()?).to_ascii_lowercase();
    let sub = argv.get(1).map(String::as_str).unwrap_or("");
    let mut i = match (name.as_str(), sub) {
        (
            "uv" | "poetry" | "pipenv" | "pdm" | "rye" | "hatch" | "pixi" | "conda" | "bundle",
            "run",
        )
        | ("bundle", "exec")
        | ("pnpm" | "yarn", "dlx")
        | ("pnpm", "exec") => 2,
        ("npx" | "bunx" | "pnpx", _) => 1,
        _ => return None,
    };
    // the runner's own options, and those that take a value
    while let Some(a) = argv.get(i) {
        if !a.starts_with('-') {
            break;
        }
        i += 1;
        if [
            "--with",
            "-w",
            "-p",
            "--package",
            "--python",
            "-n",
            "--name",
            "-e",
            "--env",
        ]
        .contains(&a.as_str())
        {
            i += 1;
        }
    }
    (i < argv.len()).then_some(i)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// The code an interpreter command runs from its arguments.
fn interpreter_code(cmd: &Command, lang: Lang) -> Option<String> {
    interpreter_args_code(cmd, lang).or_else(|| {
        // `python3 <<< 'code'`, `node <<EOF … EOF`: the here-text is the program
        let runs_file = cmd
            .args()
            .iter()
            .any(|a| !a.starts_with('-') && !["/dev/stdin", "-"].contains(&a.as_str()));
        if runs_file {
            return None;
        }
        cmd.redirects
            .iter()
            .find(|r| matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc))
            .map(|r| r.target.clone())
    })
}

/// The code an interpreter's arguments give it (`-c CODE`, `-e CODE`…).
fn interpreter_args_code(cmd: &Command, lang: Lang) -> Option<String> {
    let args = cmd.args();
    match lang {
        Lang::Awk => {
            // the program is the first operand, unless -f names a file
            let mut i = 0;
            while i < args.len() {
                let a = &args[i];
                if a == "-f" || a.starts_with("--file") {
                    return None;
                }
                if a == "-F" || a == "-v" {
                    i += 2;
                    continue;
                }
                if a == "--" {
                    return args.get(i + 1).cloned();
                }
                if a.starts_with('-') && a.len() > 1 {
                    i += 1;
                    continue;
                }
                return Some(a.clone());
            }
            None
        }
        Lang::Pwsh => {
            for (i, a) in args.iter().enumerate() {
                if pwsh_encoded_flag(a) {
                    let b = args.get(i + 1)?;
                    return decode_utf16_b64(b);
                }
                let l = a.to_ascii_lowercase();
                let l = l.trim_start_matches('-').trim_start_matches('/');
                if l == "c" || l == "command" || (l.len() >= 3 && "command".starts_with(l)) {
                    return Some(args[i + 1..].join(" ")).filter(|s| !s.is_empty());
                }
            }
            None
        }
        _ => {
            let letters: &[char] = match lang {
                Lang::Python => &['c'],
                Lang::Php => &['r'],
                Lang::Perl => &['e', 'E'],
                _ => &['e', 'p'],
            };
            for (i, a) in args.iter().enumerate() {
                if a == "--eval" || a == "--print" || a == "eval" && lang == Lang::Js && i == 0 {
                    return args.get(i + 1).cloned();
                }
                if let Some(v) = a.strip_prefix("--eval=") {
                    return Some(v.to_string());
                }
                let short = a.len() >= 2
                    && a.starts_with('-')
                    && !a.starts_with("--")
                    && a[1..].chars().all(|c| c.is_ascii_alphabetic());
                if short && a.ends_with(letters) {
                    return args.get(i + 1).cloned();
                }
                if !a.starts_with('-') {
                    // a script file: its code is not on the line
                    if lang != Lang::Osascript {
                        return None;
                    }
                }
            }
            None
        }
    }
}

/// True for pwsh's `-EncodedCommand` flag in any of its spellings (`-enc`, `/ec`…).
pub fn pwsh_encoded_flag(a: &str) -> bool {
    if !a.starts_with(['-', '/']) {
        return false;
    }
    let l = a.to_ascii_lowercase();
    let l = l.trim_start_matches('-').trim_start_matches('/');
    ["enc", "e", "ec"].contains(&l) || (l.len() >= 3 && "encodedcommand".starts_with(l))
}

/// `pwsh -EncodedCommand`: base64 of UTF-16LE text.
fn decode_utf16_b64(b: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// The command an ssh `-o` option runs (`ProxyCommand`, `LocalCommand`,
/// `KnownHostsCommand`), in `-o K=V`, `-oK=V` or `-o "K V"` form.
fn ssh_option_command(argv: &[String]) -> Option<String> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let opt = match a.as_str() {
            "-o" => it.next()?.as_str(),
            x if x.starts_with("-o") => &x[2..],
            _ => continue,
        };
        let Some((k, v)) = opt.split_once(['=', ' ', '\t']) else {
            continue;
        };
        let k = k.to_ascii_lowercase();
        let v = v.trim_start_matches(['=', ' ']).trim();
        if ["proxycommand", "localcommand", "knownhostscommand"].contains(&k.as_str())
            && !v.is_empty()
            && v != "none"
        {
            return Some(v.to_string());
        }
    }
    None
}

/// For `bash -c SCRIPT` / `sh -lc SCRIPT` / `su -c SCRIPT`: (index in argv, script).
/// The command in a `git -c KEY=VALUE` whose key git runs as a command
/// (`git_exec_keys`; an alias only when it starts with `!`).
fn git_c_command(argv: &[String], tax: &Taxonomy) -> Option<String> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let kv = match a.as_str() {
            "-c" => it.next()?.as_str(),
            x if x.starts_with("-c") && x.contains('=') => &x[2..],
            x if x.starts_with('-') => continue,
            _ => return None, // the subcommand: no more options for git itself
        };
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let k = k.to_ascii_lowercase();
        let exec = tax.git_exec_key(&k);
        if exec && (!k.starts_with("alias.") || v.starts_with('!')) && !v.trim().is_empty() {
            return Some(v.trim_start_matches('!').to_string());
        }
    }
    None
}

fn c_flag_script(argv: &[String]) -> Option<(usize, String)> {
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a == "-c" || a == "--command" {
            return argv.get(i + 1).map(|s| (i + 1, s.clone()));
        }
        if a.starts_with('-')
            && !a.starts_with("--")
            && a.len() > 2
            && a[1..].chars().all(|c| c.is_ascii_alphabetic())
            && a.contains('c')
        {
            return argv.get(i + 1).map(|s| (i + 1, s.clone()));
        }
        if !a.starts_with('-') && !a.starts_with('+') {
            return None;
        }
        i += 1;
    }
    None
}
