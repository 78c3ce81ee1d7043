//! Interpreter one-liners read the way the interpreter would: `python -c`,
//! `node -e`, `perl -e`, `ruby -e`, `php -r`, `awk '…'`, `lua -e`,
//! `pwsh -c` / `-EncodedCommand` and `osascript -e`.
//!
//! [`analyse`] rewrites the code's string literals in one spelling (`lex`),
//! folds constants and decodes literal payloads (`fold`), then reads the calls
//! that matter with their literal arguments (`calls`): files read and written,
//! commands run, code evaluated (recursively, within the budget), URLs, sockets
//! and shells wired to them. [`to_commands`] turns those facts into the shell
//! commands they amount to (`cat FILE`, `curl URL`, `nc HOST PORT -e /bin/sh`,
//! `tee FILE`), so every shell rule applies to interpreter code unchanged.
//! Call names and word lists are data: `assets/detect/interpreters.toml`.

mod calls;
pub mod data;
mod fold;
mod lex;

pub use calls::path_like;
pub use data::InterpData;

use super::shell::eval::Budget;
use super::shell::{Command, Redirect, RedirectKind, Via};

/// At most this much code is read per program.
const MAX_CODE: usize = 256 * 1024;
/// How deep code evaluated by code (`exec("…")`, `eval(atob("…"))`) is followed.
const MAX_NESTING: usize = 3;

/// A language whose one-liners are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    Js,
    Perl,
    Ruby,
    Php,
    Awk,
    Lua,
    Pwsh,
    Osascript,
}

/// What a program does, as far as its literals tell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Files read.
    pub reads: Vec<String>,
    /// Files written, with the literal content written.
    pub writes: Vec<(String, String)>,
    /// URLs named.
    pub urls: Vec<String>,
    /// The program uploads (an HTTP send call is present).
    pub sends: bool,
    /// Network peers (host, port) of sockets.
    pub sockets: Vec<(String, Option<String>)>,
    /// The program writes to a connection.
    pub socket_sends: bool,
    /// Shell command lines the program runs.
    pub shell: Vec<String>,
    /// Argument vectors the program runs.
    pub argv: Vec<Vec<String>>,
    /// Code the program evaluates (already analysed into these facts).
    pub code: Vec<String>,
    /// A shell is started or wired to the program's input and output.
    pub spawns_shell: bool,
    /// Code built from a decoded payload is evaluated.
    pub evals_decoded: bool,
    /// Downloaded code is evaluated.
    pub evals_download: bool,
    /// Payloads decoding revealed.
    pub decoded: Vec<String>,
}

/// What the command rules need to know about a program.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub evals_decoded: bool,
    pub evals_download: bool,
    pub spawns_shell: bool,
    pub sockets: usize,
    pub decoded: usize,
}

impl Facts {
    /// The flags the command rules read.
    pub fn summary(&self) -> Summary {
        Summary {
            evals_decoded: self.evals_decoded,
            evals_download: self.evals_download,
            spawns_shell: self.spawns_shell,
            sockets: self.sockets.len(),
            decoded: self.decoded.len(),
        }
    }

    fn merge(&mut self, o: Facts) {
        self.reads.extend(o.reads);
        self.writes.extend(o.writes);
        self.urls.extend(o.urls);
        self.sends |= o.sends;
        self.sockets.extend(o.sockets);
        self.socket_sends |= o.socket_sends;
        self.shell.extend(o.shell);
        self.argv.extend(o.argv);
        self.spawns_shell |= o.spawns_shell;
        self.evals_decoded |= o.evals_decoded;
        self.evals_download |= o.evals_download;
        self.decoded.extend(o.decoded);
    }
}

/// Reads a program (see the module docs).
pub fn analyse(lang: Lang, code: &str, data: &InterpData, budget: &mut Budget) -> Facts {
    analyse_at(lang, code, data, budget, 0)
}

fn analyse_at(
    lang: Lang,
    code: &str,
    data: &InterpData,
    budget: &mut Budget,
    depth: usize,
) -> Facts {
    let code = if code.len() > MAX_CODE {
        let cut = (0..=MAX_CODE)
            .rev()
            .find(|i| code.is_char_boundary(*i))
            .unwrap_or(0);
        &code[..cut]
    } else {
        code
    };
    let canon = lex::canonical(lang, code);
    let folded = fold::fold(lang, &canon, data, budget);
    let mut f = calls::extract(lang, &folded.code, &folded.decoded, data);
    f.decoded = folded.decoded;
    if depth < MAX_NESTING {
        let nested: Vec<String> = f.code.drain(..).collect();
        for c in &nested {
            if budget.take(c.len()) {
                let inner = analyse_at(lang, c, data, budget, depth + 1);
                f.merge(inner);
            }
        }
        // a decoded payload is code too when the program goes on to run it
        if f.evals_decoded {
            let payloads: Vec<String> = f.decoded.clone();
            for p in payloads.iter().filter(|p| !nested.contains(p)) {
                if budget.take(p.len()) {
                    let inner = analyse_at(lang, p, data, budget, depth + 1);
                    f.merge(inner);
                }
            }
        }
    }
    f
}

/// The shell commands a program's facts amount to, one level below the
/// interpreter command: `label` names the interpreter in messages, `text` is
/// the evidence. Each command's `stdin_from` holds indices into the returned
/// list (the caller makes them absolute): data read flows to what sends.
pub fn to_commands(f: &Facts, label: &str, depth: usize, text: &str) -> Vec<Command> {
    let mut out: Vec<Command> = Vec::new();
    let mk = |argv: Vec<String>, what: &str| {
        let mut c = Command::new(argv, Via::Interpreter, depth, text.to_string());
        c.label = Some(format!("{label} {what}"));
        c
    };
    let mut reads = Vec::new();
    for p in &f.reads {
        reads.push(out.len());
        out.push(mk(vec!["cat".into(), p.clone()], "reads"));
    }
    for (p, content) in &f.writes {
        let mut c = mk(vec!["tee".into(), p.clone()], "writes");
        c.redirects.push(Redirect {
            kind: RedirectKind::HereString,
            target: content.clone(),
        });
        out.push(c);
    }
    for u in &f.urls {
        let mut argv = vec!["curl".to_string()];
        if f.sends {
            argv.extend(["--data-binary".to_string(), "@-".to_string()]);
        }
        argv.push(u.clone());
        let mut c = mk(argv, "requests");
        if f.sends {
            c.stdin_from.clone_from(&reads);
        }
        out.push(c);
    }
    for (h, p) in &f.sockets {
        let mut argv = vec!["nc".to_string()];
        if f.spawns_shell {
            argv.extend(["-e".to_string(), "/bin/sh".to_string()]);
        }
        argv.push(h.clone());
        argv.extend(p.clone());
        let mut c = mk(argv, "connects");
        if f.socket_sends || f.spawns_shell {
            c.stdin_from.clone_from(&reads);
            c.sends_stdin = true;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
