//! Persistence (CMD-TRACE-002): writes to places that run code later, and
//! commands that install something to run later, with the severity following
//! what is written.
//!
//! Shell rc files: a write that only sets variables, extends `PATH` or adds a
//! harmless alias is low; one that fetches or runs anything is high. Script
//! hooks (git hooks, husky) and package lifecycle scripts (`npm pkg set
//! scripts.postinstall=…`, a `package.json` write, `setup.py` build hooks):
//! local tools only is low, anything that reaches the network, decodes, opens
//! a shell or reads credentials is high. Everything else (authorized_keys,
//! cron, systemd and launchd units, autostart, preload files, agent settings)
//! is high whatever it holds, and so is content skilltrace cannot see.

use super::hit::Hit;
use super::network::{classify, endpoints, HostClass};
use super::rules::id;
use super::shell::{parse_script, Command, RedirectKind, Script};
use super::taxonomy::Taxonomy;
use crate::model::Severity;

/// How deep content that itself writes content is graded.
const MAX_GRADE_DEPTH: usize = 2;

/// What kind of persistence place a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A shell start-up file: config lines are low.
    Rc,
    /// A script run by a tool (git hook): local tools are low.
    Hook,
    /// Settings that may hold commands (agent hooks, editor tasks): high when they do.
    Settings,
    /// Runs whatever it holds: always high.
    Other,
}

fn place(path: &str, tax: &Taxonomy) -> Place {
    if tax.rc_files.matches(path).is_some() {
        Place::Rc
    } else if tax.settings_files.matches(path).is_some() {
        Place::Settings
    } else if tax.script_hooks.matches(path).is_some() {
        Place::Hook
    } else {
        Place::Other
    }
}

/// Grades content written to a place: (severity, why).
fn grade(place: Place, content: Option<&str>, tax: &Taxonomy, depth: usize) -> (Severity, String) {
    let Some(text) = content else {
        return (Severity::High, "content not visible on the line".into());
    };
    if place == Place::Other || depth > MAX_GRADE_DEPTH {
        return (Severity::High, String::new());
    }
    if place == Place::Settings {
        return match tax
            .settings_exec_keys
            .iter()
            .find(|k| text.contains(k.as_str()))
        {
            Some(k) => (Severity::High, format!("adds {k}: commands run later")),
            None => (Severity::Low, "no hooks or tasks that run commands".into()),
        };
    }
    if let Some(why) = risky(text, tax, depth + 1) {
        return (Severity::High, why);
    }
    match place {
        Place::Rc => match rc::hijack(text, tax, depth) {
            Some(why) => (Severity::High, why),
            None => match runs_something(text, tax) {
                Some(cmd) => (Severity::High, format!("runs {cmd} at every shell start")),
                None => (Severity::Low, "only sets variables, PATH or aliases".into()),
            },
        },
        Place::Hook => (Severity::Low, "runs local tools only".into()),
        Place::Other | Place::Settings => (Severity::High, String::new()),
    }
}

/// Why a script is dangerous: it reaches a host that is not allowlisted, or
/// a command rule of medium or above fires on it.
pub fn risky(text: &str, tax: &Taxonomy, depth: usize) -> Option<String> {
    let script = parse_script(text, tax);
    for c in &script.commands {
        for e in endpoints(c, tax) {
            match classify(&e.host, tax) {
                HostClass::Unlisted { .. } | HostClass::Bad => {
                    return Some(format!("reaches {} ({})", e.host, e.by));
                }
                _ => {}
            }
        }
        // a credential file or an alias whose body is itself risky
        if c.name() == "alias" {
            for a in c.args() {
                if let Some((_, body)) = a.split_once('=') {
                    if depth <= MAX_GRADE_DEPTH {
                        if let Some(why) = risky(body, tax, depth + 1) {
                            return Some(format!("alias that {why}"));
                        }
                    }
                }
            }
        }
    }
    let hits = super::exec::script_hits_at(&script, text, tax, depth);
    hits.iter()
        .find(|h| h.severity >= Severity::Medium && h.rule != id::CMD_PERSISTENCE)
        .map(|h| h.message.clone())
}

/// A command line that itself reaches a host the allowlist does not pass, or
/// opens `/dev/tcp` (so what it writes is not to be trusted, however it reads).
fn line_reaches(text: &str, tax: &Taxonomy) -> Option<String> {
    if text.contains("/dev/tcp/") || text.contains("/dev/udp/") {
        return Some("the line opens /dev/tcp".into());
    }
    super::network::urls_in(text).into_iter().find_map(|u| {
        let h = super::network::host_of(&u)?;
        matches!(
            classify(&h, tax),
            HostClass::Unlisted { .. } | HostClass::Bad
        )
        .then(|| format!("the line reaches {h}"))
    })
}

/// The first command of an rc text that runs something (not a variable,
/// `export`, `alias`, option or completion setting).
fn runs_something(text: &str, tax: &Taxonomy) -> Option<String> {
    let script = parse_script(text, tax);
    script.commands.iter().find_map(|c| {
        let n = c.name();
        // `export EDITOR=vim`: the program a variable names runs only when asked
        let config = n.is_empty()
            || c.via == super::shell::Via::Variable
            || tax.rc_config_commands.contains(&n);
        (!config).then_some(n)
    })
}

/// CMD-TRACE-002 hits for a parsed command line.
pub fn script_hits(script: &Script, tax: &Taxonomy, ev: &str, depth: usize) -> Vec<Hit> {
    let mut hits = Vec::new();
    for cmd in &script.commands {
        for target in super::exec::write_targets(cmd) {
            if target.ends_with(".pth") {
                // Python runs `import` lines of any .pth file on its path at every start
                let content = written_content(script, cmd, &target);
                let imports = content
                    .as_deref()
                    .map(|c| c.lines().any(|l| l.trim_start().starts_with("import")))
                    .unwrap_or(false);
                if imports || (content.is_none() && target.contains("$(…)")) {
                    hits.push(
                        Hit::new(
                            id::CMD_PERSISTENCE,
                            format!("writes {target}, a .pth file Python runs at every start"),
                            ev,
                        )
                        .key(&format!("{target}|{ev}")),
                    );
                    continue;
                }
            }
            if tax.pkg_config_files.matches(&target).is_some() {
                let content = written_content(script, cmd, &target);
                hits.extend(pkgconf::hit(&target, content.as_deref(), tax, ev));
            }
            let Some(g) = tax.persistence.matches(&target) else {
                continue;
            };
            let content = written_content(script, cmd, &target);
            let pl = place(&target, tax);
            let (sev, why) = match line_reaches(&cmd.text, tax) {
                Some(why) if matches!(pl, Place::Rc | Place::Hook) => (Severity::High, why),
                _ => grade(pl, content.as_deref(), tax, depth),
            };
            hits.push(
                Hit::new(
                    id::CMD_PERSISTENCE,
                    describe(&format!("writes {target} (persistence: {g})"), &why),
                    ev,
                )
                .severity(sev)
                .key(&format!("{target}|{ev}")),
            );
        }
        command_hits(cmd, script, tax, ev, depth, &mut hits);
    }
    hits
}

fn describe(what: &str, why: &str) -> String {
    if why.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {why}")
    }
}

/// What a command writes into `target`, when the line spells it out.
fn written_content(script: &Script, cmd: &Command, target: &str) -> Option<String> {
    let name = cmd.name();
    let redirected = cmd.redirects.iter().any(|r| {
        matches!(r.kind, RedirectKind::Write | RedirectKind::Append) && r.target == target
    });
    if redirected || name == "tee" {
        if name.is_empty() {
            return None; // a compound command's redirection: its body is not one text
        }
        if name == "tee" {
            return script.stdin_of(cmd.id);
        }
        return script.output_of(cmd.id);
    }
    if name == "sed" {
        // `sed -i '$a LINE' file`: the appended or inserted text
        let expr = cmd.flag_value("-e").or_else(|| {
            cmd.args()
                .iter()
                .find(|a| !a.starts_with('-'))
                .map(String::as_str)
        })?;
        let body = expr.trim_start_matches(|c: char| c == '$' || c.is_ascii_digit() || c == '/');
        for op in ['a', 'i', 'c'] {
            if let Some(rest) = body.strip_prefix(op) {
                return Some(rest.trim_start_matches(['\\', ' ']).to_string());
            }
        }
        return None;
    }
    None
}

/// Commands that install persistence by themselves.
fn command_hits(
    cmd: &Command,
    script: &Script,
    tax: &Taxonomy,
    ev: &str,
    depth: usize,
    hits: &mut Vec<Hit>,
) {
    let name = cmd.name();
    let args = cmd.args();
    if name == "crontab"
        && !args
            .iter()
            .all(|a| a == "-l" || a == "-r" || a.starts_with("-u"))
    {
        hits.push(Hit::new(
            id::CMD_PERSISTENCE,
            "installs a crontab".to_string(),
            ev,
        ));
    }
    hits.extend(registry::autorun_hit(cmd, tax, ev));
    for pc in &tax.persistence_commands {
        let matches = cmd.argv.len() >= pc.len()
            && name == pc[0]
            && pc[1..].iter().all(|w| {
                args.iter()
                    .any(|a| a == w || a.starts_with(&format!("{w}=")))
            })
            && name != "crontab";
        if matches {
            hits.push(Hit::new(
                id::CMD_PERSISTENCE,
                format!("{} installs something to run later", pc.join(" ")),
                ev,
            ));
        }
    }
    // npm/yarn/pnpm lifecycle scripts: `npm pkg set scripts.postinstall=…`, `npm set-script postinstall …`
    if ["npm", "pnpm", "yarn", "bun"].contains(&name.as_str()) {
        let set_script = args.first().map(|a| a == "set-script").unwrap_or(false);
        for (i, a) in args.iter().enumerate() {
            let (key, value) = if set_script && i == 1 {
                (a.as_str(), args.get(2).map(String::as_str))
            } else {
                match a.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => continue,
                }
            };
            let key = key
                .trim_start_matches("scripts.")
                .trim_start_matches("scripts[")
                .trim_end_matches(']');
            let scripted = set_script || a.starts_with("scripts.") || a.starts_with("scripts[");
            if scripted && tax.lifecycle_scripts.iter().any(|l| l == key) {
                let (sev, why) = grade(Place::Hook, value, tax, depth);
                hits.push(
                    Hit::new(
                        id::CMD_PERSISTENCE,
                        describe(
                            &format!("sets the package's {key} script, run on every install"),
                            &why,
                        ),
                        ev,
                    )
                    .severity(sev),
                );
            }
        }
    }
    if name == "git" && args.first().map(|a| a == "config").unwrap_or(false) {
        let pos: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
        if let [key, value, ..] = pos.as_slice() {
            let k = key.to_ascii_lowercase();
            if let Some(hit) = url_rewrite(key, value, tax, ev) {
                hits.push(hit);
                return;
            }
            if k == "core.hookspath" {
                let local = super::path::is_relative(&super::path::normalise(value))
                    && !value.starts_with("..");
                // hooks written into that folder on the same line are graded like any hook
                let dir = super::path::normalise(value);
                let dir = dir.trim_end_matches('/');
                let risky_hook = script.commands.iter().find_map(|c| {
                    super::exec::write_targets(c)
                        .iter()
                        .filter(|t| super::path::normalise(t).starts_with(&format!("{dir}/")))
                        .find_map(|t| {
                            if let Some(why) = line_reaches(&c.text, tax) {
                                return Some(why);
                            }
                            let content = written_content(script, c, t);
                            let (sev, why) = grade(Place::Hook, content.as_deref(), tax, depth);
                            (sev >= Severity::High).then_some(why)
                        })
                });
                if let Some(why) = risky_hook {
                    hits.push(
                        Hit::new(
                            id::CMD_PERSISTENCE,
                            format!("points git hooks at {value}, where a hook {why}"),
                            ev,
                        )
                        .severity(Severity::High),
                    );
                    return;
                }
                hits.push(
                    Hit::new(
                        id::CMD_PERSISTENCE,
                        format!("points git hooks at {value}"),
                        ev,
                    )
                    .severity(if local {
                        Severity::Low
                    } else {
                        Severity::High
                    }),
                );
            } else if tax.git_exec_key(&k) && (!k.starts_with("alias.") || value.starts_with('!')) {
                let body = value.trim_start_matches('!');
                // a script outside the system folders, whose content is not on the line
                let system = ["/usr/", "/bin/", "/opt/homebrew/", "/snap/"]
                    .iter()
                    .any(|p| body.starts_with(p));
                let path_only = !body.contains(' ')
                    && (body.starts_with('/') || body.starts_with('~') || body.starts_with('$'));
                let (sev, why) = if path_only && !system {
                    (Severity::High, format!("runs {body}"))
                } else {
                    grade(Place::Hook, Some(body), tax, depth)
                };
                hits.push(
                    Hit::new(
                        id::CMD_PERSISTENCE,
                        describe(&format!("git config {k} runs a command"), &why),
                        ev,
                    )
                    .severity(sev),
                );
            }
        }
    }
    let _ = script;
}

/// `git config url.<X>.insteadOf <Y>`: every later fetch and push of `Y` goes to
/// `X`; high when `X` is a host the allowlist does not pass.
fn url_rewrite(key: &str, value: &str, tax: &Taxonomy, ev: &str) -> Option<Hit> {
    let lower = key.to_ascii_lowercase();
    let base = lower
        .strip_prefix("url.")?
        .strip_suffix(".insteadof")
        .or_else(|| lower.strip_prefix("url.")?.strip_suffix(".pushinsteadof"))?;
    let host = super::network::host_of(&key[4..4 + base.len()])?;
    matches!(
        classify(&host, tax),
        HostClass::Unlisted { .. } | HostClass::Bad
    )
    .then(|| {
        Hit::new(
            id::CMD_PERSISTENCE,
            format!(
                "git config {key} {value}: every later fetch or push of {value} goes to {host}"
            ),
            ev,
        )
        .severity(Severity::High)
    })
}

/// CMD-TRACE-002 for a file written by a tool (`Write`, `Edit`, `apply_patch`):
/// persistence paths, package lifecycle scripts and Python build hooks.
pub fn write_hits(path: &str, content: &str, tool: &str, tax: &Taxonomy) -> Vec<Hit> {
    let mut hits = Vec::new();
    let ev = format!("{tool} {path}");
    let text = (!content.is_empty()).then_some(content);
    if let Some(g) = tax.persistence.matches(path) {
        let python_hook = path.ends_with(".py") && place(path, tax) == Place::Hook;
        let (sev, why) = match (python_hook, text) {
            (true, Some(t)) => python_build_hook("setup.py", t, tax)
                .map(|(s, w)| {
                    if s == Severity::Low {
                        (Severity::Medium, w)
                    } else {
                        (s, w)
                    }
                })
                .unwrap_or((Severity::Medium, "runs at every build".into())),
            _ => grade(place(path, tax), text, tax, 0),
        };
        hits.push(
            Hit::new(
                id::CMD_PERSISTENCE,
                describe(&format!("writes {path} (persistence: {g})"), &why),
                &ev,
            )
            .severity(sev),
        );
    }
    if tax.pkg_config_files.matches(path).is_some() {
        hits.extend(pkgconf::hit(path, text, tax, &ev));
    }
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    if base == "package.json" {
        for (key, value) in lifecycle_entries(content, tax) {
            let (sev, why) = grade(Place::Hook, Some(&value), tax, 0);
            hits.push(
                Hit::new(
                    id::CMD_PERSISTENCE,
                    describe(
                        &format!("package.json {key} script runs on every install"),
                        &why,
                    ),
                    &ev,
                )
                .severity(sev)
                .key(&format!("{path}|{key}")),
            );
        }
    }
    if base == "setup.py" || base == "pyproject.toml" || base == "setup.cfg" {
        if let Some((sev, why)) = python_build_hook(base, content, tax) {
            hits.push(
                Hit::new(
                    id::CMD_PERSISTENCE,
                    describe(&format!("{base} adds a build or install hook"), &why),
                    &ev,
                )
                .severity(sev),
            );
        }
    }
    hits
}

/// `"postinstall": "…"` entries of a package.json text (or a fragment of one).
fn lifecycle_entries(content: &str, tax: &Taxonomy) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in &tax.lifecycle_scripts {
        let needle = format!("\"{key}\"");
        let mut from = 0;
        while let Some(i) = content[from..].find(&needle) {
            let at = from + i + needle.len();
            from = at;
            let rest = content[at..].trim_start();
            let Some(rest) = rest.strip_prefix(':') else {
                continue;
            };
            let rest = rest.trim_start();
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            let mut value = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                o => o,
                            });
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
            out.push((key.clone(), value));
        }
    }
    out
}

/// setup.py / pyproject.toml / setup.cfg hooks: (severity, why), or `None`
/// when the file adds no hook.
fn python_build_hook(base: &str, content: &str, tax: &Taxonomy) -> Option<(Severity, String)> {
    if base == "setup.py" {
        let data = tax.interp()?;
        let facts = super::interp::analyse(
            super::interp::Lang::Python,
            content,
            data,
            &mut super::shell::eval::Budget::new(),
        );
        let network = facts
            .urls
            .iter()
            .filter_map(|u| super::network::host_of(u))
            .chain(facts.sockets.iter().map(|(h, _)| h.clone()))
            .find(|h| {
                matches!(
                    classify(h, tax),
                    HostClass::Unlisted { .. } | HostClass::Bad
                )
            });
        if let Some(h) = network {
            return Some((
                Severity::High,
                format!("reaches {h} when the package is built or installed"),
            ));
        }
        if facts.evals_decoded || facts.evals_download {
            return Some((
                Severity::High,
                "runs decoded or downloaded code at install".into(),
            ));
        }
        if let Some(s) = facts.shell.iter().find_map(|s| risky(s, tax, 1)) {
            return Some((Severity::High, s));
        }
        let hooked =
            content.contains("cmdclass") || !facts.shell.is_empty() || !facts.argv.is_empty();
        return hooked.then(|| (Severity::Low, "runs local commands at install".to_string()));
    }
    // a build requirement fetched from a URL runs that code at every build
    for u in super::network::urls_in(content) {
        if let Some(h) = super::network::host_of(&u) {
            if matches!(
                classify(&h, tax),
                HostClass::Unlisted { .. } | HostClass::Bad
            ) {
                return Some((Severity::High, format!("builds with code from {h}")));
            }
        }
    }
    let hooked = [
        "build.hooks",
        "cmdclass",
        "backend-path",
        "[tool.setuptools.cmdclass]",
    ]
    .iter()
    .any(|k| content.contains(k));
    hooked.then(|| {
        (
            Severity::Medium,
            "runs project code at every build and install".to_string(),
        )
    })
}

mod pkgconf;
mod rc;
pub(crate) mod registry;

#[cfg(test)]
mod tests;
