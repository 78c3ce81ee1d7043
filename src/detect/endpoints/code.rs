//! Connections that fetch or publish code: git (clones, fetches, pushes, and
//! remotes added on the same line), package installs from URLs or indexes
//! the project does not normally use, and package publishes to registries
//! named on the line.

use super::*;

/// `git clone/fetch/pull/push/remote …`: pushes send; a push to a remote the
/// line added (or to a URL) is a push to a remote the project did not have.
pub(super) fn git(cmd: &Command, out: &mut Vec<Endpoint>, by: &str) {
    let args = cmd.args();
    let sub = args.first().map(String::as_str).unwrap_or("");
    if ![
        "clone",
        "fetch",
        "pull",
        "push",
        "remote",
        "ls-remote",
        "submodule",
    ]
    .contains(&sub)
        && cmd.remote_url.is_none()
    {
        return;
    }
    let mut add = |target: &str, sends: bool, new_remote: bool| {
        let host = if target.contains("://") {
            host_of(target)
        } else {
            remote_spec_host(target)
        };
        if let Some(h) = host.and_then(|h| host::canonical(&h)).map(|h| h.name) {
            out.push(Endpoint {
                host: h,
                target: target.to_string(),
                sends,
                by: by.to_string(),
                new_remote,
                install: false,
            });
        }
    };
    // `git -c remote.x.url=U push x`: the push's own options come first
    if sub == "push" || cmd.remote_url.is_some() {
        if let Some(url) = &cmd.remote_url {
            add(url, true, true);
            return;
        }
        for a in args[1..].iter().filter(|a| !a.starts_with('-')) {
            if a.contains("://") || remote_spec_host(a).is_some() {
                add(a, true, true);
            }
        }
        return;
    }
    for a in args {
        add(a, false, false);
    }
}

/// Packages and package indexes fetched from URLs: `pip install URL`,
/// `--index-url`, `npm i URL`, `--registry` and friends (see `network.toml`).
pub(super) fn installs(cmd: &Command, tax: &Taxonomy, out: &mut Vec<Endpoint>, by: &str) {
    index_vars(cmd, tax, out, by);
    let mut argv: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
    let name = cmd.name();
    // `python -m pip install …` is `pip install …`
    if tax.languages.lang_of(&name) == Some(crate::detect::interp::Lang::Python)
        && argv.get(1) == Some(&"-m")
    {
        argv.drain(..2);
    }
    let Some(first) = argv.first() else { return };
    let first = crate::detect::shell::basename(first).to_ascii_lowercase();
    for inst in &tax.installers {
        let head = inst.cmd.split_whitespace().next().unwrap_or("");
        if first != head && first.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.') != head
        {
            continue;
        }
        let words: Vec<&str> = inst.cmd.split_whitespace().collect();
        // the subcommand words must follow, options allowed between
        let rest: Vec<&str> = argv[1..]
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect();
        if !words[1..]
            .iter()
            .enumerate()
            .all(|(i, w)| rest.get(i) == Some(w))
        {
            continue;
        }
        let mut targets: Vec<String> = Vec::new();
        for f in &inst.index {
            if let Some(v) = cmd.flag_value(f) {
                targets.push(v.to_string());
            }
        }
        for a in &argv[1..] {
            let a = a.trim_start_matches("git+");
            if a.contains("://") && !a.starts_with('-') {
                targets.push(a.to_string());
            } else if inst.module {
                targets.extend(module_path(a).map(|m| format!("https://{m}")));
            }
        }
        for t in targets {
            let host = if t.contains("://") {
                host_of(&t)
            } else {
                remote_spec_host(&t).or_else(|| host_of(&t))
            };
            if let Some(h) = host {
                out.push(Endpoint {
                    host: h,
                    target: t.clone(),
                    sends: inst.sends,
                    by: by.to_string(),
                    new_remote: false,
                    install: !inst.sends,
                });
            }
        }
        return;
    }
}

/// `GOPROXY=URL go get`, `export PIP_INDEX_URL=URL`: a variable that names
/// where packages come from, set to URLs (a list, `,` or `|` or spaces apart).
fn index_vars(cmd: &Command, tax: &Taxonomy, out: &mut Vec<Endpoint>, by: &str) {
    if tax.index_vars.is_empty() {
        return;
    }
    let declared = cmd
        .argv
        .first()
        .is_some_and(|n| ["export", "declare", "typeset", "setenv"].contains(&n.as_str()));
    let words = cmd
        .args()
        .iter()
        .filter(|_| declared)
        .filter_map(|a| a.split_once('='));
    let set = cmd
        .assignments
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(words);
    for (k, v) in set {
        if !tax.index_vars.iter().any(|n| n == k) {
            continue;
        }
        for u in v.split([',', '|', ' ']).filter(|u| u.contains("://")) {
            if let Some(h) = host_of(u) {
                out.push(Endpoint {
                    host: h,
                    target: format!("{k}={u}"),
                    sends: false,
                    by: by.to_string(),
                    new_remote: false,
                    install: true,
                });
            }
        }
    }
}

/// A Go module path operand (`host.tld/x/cmd@latest`) without its version,
/// when its first element names a host (holds a dot); `./cmd`, `main.go`
/// and options are not.
fn module_path(a: &str) -> Option<&str> {
    let m = a.split('@').next().unwrap_or(a);
    let (host, _) = m.split_once('/')?;
    let ok = !a.starts_with(['-', '.', '/', '~', '$'])
        && host.contains('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':');
    ok.then_some(m)
}
