//! What a command is once its words are known: wrappers (`sudo`, `env X=1`,
//! `timeout 5`…) peeled off, the script of `bash -c` / `eval` / a here-input
//! found (and walked), and the code given to an interpreter (`python -c`).

use super::walker::Walker;
use super::{basename, Command, RedirectKind, Via};
use crate::detect::taxonomy::Taxonomy;

impl Walker<'_> {
    /// Peels wrappers, finds nested scripts and interpreter code, then records the command.
    pub(super) fn finish_command(&mut self, mut cmd: Command, dyn_flags: Vec<bool>) {
        if self.full() {
            return;
        }
        let (wrappers, rest, env_assign) = self.strip_wrappers(&cmd.argv);
        let skipped = cmd.argv.len() - rest.len();
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
        let name = cmd.name();
        let depth = cmd.depth;
        let mut nested: Option<(String, Via)> = None;
        if self.tax.shells.contains(&name) || name == "su" {
            if let Some((idx, script)) = c_flag_script(&cmd.argv) {
                if dyn_flags.get(idx).copied().unwrap_or(false) && script.contains('…') {
                    cmd.dynamic_script = true;
                }
                nested = Some((script, Via::ShellC));
            } else if cmd.args().iter().all(|a| a.starts_with('-')) {
                // `bash <<< "…"` or `sh <<EOF … EOF`: the here-text is the script.
                if let Some(r) = cmd
                    .redirects
                    .iter()
                    .find(|r| matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc))
                {
                    nested = Some((r.target.clone(), Via::HereInput));
                }
            }
        } else if name == "eval" {
            let body = cmd.args().join(" ");
            if dyn_flags.iter().skip(1).any(|d| *d) {
                cmd.dynamic_script = true;
            }
            nested = Some((body, Via::Eval));
        } else if self.tax.interpreters.contains(&name) || is_versioned_interpreter(&name, self.tax)
        {
            for flag in ["-c", "-e", "-r", "--eval", "-E"] {
                if let Some(v) = cmd.flag_value(flag) {
                    cmd.code = Some(v.to_string());
                    break;
                }
            }
            if cmd.code.is_none() {
                if let Some(r) = cmd
                    .redirects
                    .iter()
                    .find(|r| matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc))
                {
                    cmd.code = Some(r.target.clone());
                }
            }
        }
        if let Some((s, _)) = &nested {
            cmd.script = Some(s.clone());
        }
        self.out.commands.push(cmd);
        if let Some((s, via)) = nested {
            self.script(&s, via, depth + 1);
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
            if !self.tax.wrappers.contains(&name) {
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
            wrappers.push(name.clone());
            i += 1;
            // options of the wrapper, and the ones that take a value
            let takes_value: &[&str] = match name.as_str() {
                "env" => &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
                "sudo" | "doas" => &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"],
                "timeout" => &["-s", "--signal", "-k", "--kill-after"],
                "nice" => &["-n", "--adjustment"],
                "ionice" => &["-c", "-n", "-p"],
                "xargs" => &["-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a", "--max-args"],
                "watch" => &["-n", "--interval"],
                "strace" | "ltrace" => &["-o", "-p", "-e", "-s"],
                "stdbuf" => &["-i", "-o", "-e"],
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

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn is_versioned_interpreter(name: &str, tax: &Taxonomy) -> bool {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    base != name && tax.interpreters.contains(base)
}

/// For `bash -c SCRIPT` / `sh -lc SCRIPT` / `su -c SCRIPT`: (index in argv, script).
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
