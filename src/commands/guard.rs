//! `skilltrace guard`: the command hook (event on stdin, answer on stdout),
//! `guard serve`, and `guard install|uninstall|status`; wiring only, the
//! guard itself is `crate::guard`.

use super::db_path;
use crate::cli::{
    GuardArgs, GuardCommand, GuardInstallArgs, GuardServeArgs, GuardStatusArgs, GuardUninstallArgs,
};
use crate::guard::install::{self, Mode, Outcome, Scope};
use crate::guard::{client, hook, server, warm, Agent};
use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub fn run(args: GuardArgs) -> Result<i32> {
    match args.command {
        Some(GuardCommand::Serve(a)) => serve(a),
        Some(GuardCommand::Install(a)) => install_cmd(a),
        Some(GuardCommand::Uninstall(a)) => uninstall_cmd(a),
        Some(GuardCommand::Status(a)) => status_cmd(a),
        None => hook_cmd(args),
    }
}

/// The command hook.
fn hook_cmd(args: GuardArgs) -> Result<i32> {
    let started = *hook::PROCESS_START.get_or_init(Instant::now);
    hook::mark_from(started);
    hook::mark("arguments parsed");
    if args.warm_judge {
        crate::guard::warm_judge::serve(&db_path(&args.db)?)?;
        return Ok(0);
    }
    if args.drain {
        let linger = if args.drain_linger {
            crate::guard::record::LINGER
        } else {
            Duration::ZERO
        };
        crate::guard::record::drain_all(&db_path(&args.db)?, Duration::from_secs(30), linger)?;
        return Ok(0);
    }
    let Some(agent) = args.agent else {
        anyhow::bail!(
            "guard: --agent is required (claude-code, cursor, gemini, codex, copilot-cli, cline \
             or opencode); \
             or use `skilltrace guard install|uninstall|status|serve`"
        );
    };
    let mut opts = hook::HookOptions::new(agent, db_path(&args.db)?);
    opts.fail_closed = args.fail_closed;
    opts.dry_run = args.check;
    if args.check {
        return check(&opts);
    }
    // Room for the largest event up front: growing by doubling would hold up
    // to twice the cap (a 100 MiB event peaked at 153 MiB); pages never written
    // are never resident, so a small event costs nothing more.
    let mut input = Vec::with_capacity(hook::MAX_EVENT as usize + 1);
    std::io::stdin()
        .take(hook::MAX_EVENT + 1)
        .read_to_end(&mut input)
        .context("guard: cannot read the event on stdin")?;
    if input.len() as u64 > hook::MAX_EVENT {
        // Too big to be an event: judged as a malformed one (never read whole).
        input = b"event larger than the guard reads".to_vec();
    }
    if let Some(url) = &args.http {
        if let Some(body) = forward(url, agent, &input) {
            print_answer(&hook::forwarded(body));
            return Ok(0);
        }
    }
    hook::mark("event read");
    let flags = (opts.fail_closed, opts.dry_run);
    let a = match warm::ask(&opts.db, agent, flags, &input, started) {
        Ok(a) => {
            hook::mark("warm judge answered");
            a
        }
        Err(local) => {
            opts.start_judge = local.start;
            if local.note {
                opts.local_because = Some(local.why);
            }
            hook::run_with(&opts, input, None, started, |_| {})
        }
    };
    print_answer(&a);
    hook::mark("printed");
    Ok(a.exit)
}

fn print_answer(a: &crate::guard::Answer) {
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(a.stdout.as_bytes())
        .and_then(|()| out.flush());
    if !a.stderr.is_empty() {
        eprintln!("{}", a.stderr);
    }
}

/// Sends the event to `guard serve`; its answer, or `None` when it does not
/// answer well within the budget.
fn forward(url: &str, agent: Agent, input: &[u8]) -> Option<Vec<u8>> {
    let u = client::parse_url(&install::hook_url(url, agent)).ok()?;
    match client::request("POST", &u, input, Duration::from_millis(800)) {
        Ok((200, body)) => Some(body),
        _ => None,
    }
}

/// `guard --check`: judges a harmless event without recording it.
fn check(opts: &hook::HookOptions) -> Result<i32> {
    let event = probe_event(opts.agent);
    let t = Instant::now();
    let a = hook::run(opts, event.into_bytes());
    let ms = t.elapsed().as_millis();
    if a.exit == 0 {
        println!(
            "ok: the {} hook answered in {ms} ms{}",
            opts.agent.name(),
            if a.stdout.is_empty() {
                String::new()
            } else {
                format!(": {}", crate::sanitize::line(&a.stdout))
            }
        );
        Ok(0)
    } else {
        println!(
            "FIX: the {} hook answered exit {} in {ms} ms: {}",
            opts.agent.name(),
            a.exit,
            crate::sanitize::line(&a.stderr)
        );
        Ok(1)
    }
}

/// A harmless "before a tool runs" event (`git status`) in each agent's format.
fn probe_event(agent: Agent) -> String {
    let session = "skilltrace-guard-check";
    match agent {
        Agent::ClaudeCode => serde_json::json!({
            "session_id": session, "hook_event_name": "PreToolUse", "cwd": "/",
            "tool_name": "Bash", "tool_input": {"command": "git status"}, "tool_use_id": "check"
        }),
        Agent::Cursor => serde_json::json!({
            "conversation_id": session, "hook_event_name": "beforeShellExecution",
            "command": "git status", "cwd": "/"
        }),
        Agent::Gemini => serde_json::json!({
            "session_id": session, "hook_event_name": "BeforeTool", "cwd": "/",
            "tool_name": "run_shell_command", "tool_input": {"command": "git status"}
        }),
        Agent::Codex => serde_json::json!({
            "session_id": session, "hook_event_name": "PreToolUse", "cwd": "/",
            "tool_name": "Bash", "tool_input": {"command": "git status"}, "tool_use_id": "check"
        }),
        Agent::CopilotCli => serde_json::json!({
            "sessionId": session, "timestamp": 0, "cwd": "/",
            "toolName": "bash", "toolArgs": "{\"command\":\"git status\"}"
        }),
        Agent::Cline => serde_json::json!({
            "hookName": "PreToolUse", "taskId": session, "workspaceRoots": ["/"],
            "preToolUse": {"toolName": "execute_command", "parameters": {"command": "git status"}}
        }),
        Agent::Opencode => serde_json::json!({
            "hook_event_name": "tool.execute.before", "directory": "/",
            "input": {"tool": "bash", "sessionID": session, "callID": "check"},
            "output": {"args": {"command": "git status"}}
        }),
    }
    .to_string()
}

fn serve(a: GuardServeArgs) -> Result<i32> {
    let opts = server::ServeOptions {
        listen: a.listen.clone(),
        allow_remote: a.allow_remote,
        token: a.token.clone(),
        db: db_path(&a.db)?,
        fail_closed: a.fail_closed,
        workers: 0,
        io_threads: server::IO_THREADS,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.io_threads)
        .thread_name("guard-io")
        .enable_all()
        .build()?;
    let bound = rt.block_on(server::bind(&opts))?;
    let addr = bound.local_addr();
    let stats = bound.stats();
    let shutdown = super::proxy::shutdown_signal(&rt);
    let mut banner = format!(
        "skilltrace guard serving hooks on http://{addr}, recording into {}\n\
         install it:\n  skilltrace guard install --agent claude-code --http http://{addr}\n",
        crate::notice::safe_path(&opts.db)
    );
    if opts.token.is_some() {
        banner.push_str("clients must send the header x-skilltrace-token (the value of --token)\n");
    }
    banner.push_str("(Ctrl-C to stop)\n");
    super::print_banner(&banner);
    rt.block_on(bound.serve(shutdown));
    drop(rt);
    use std::sync::atomic::Ordering;
    eprintln!(
        "stopped: {} requests, {} decisions ({} denied, {} asked), {} failures, {} records dropped",
        stats.requests.load(Ordering::Relaxed),
        stats.decisions.load(Ordering::Relaxed),
        stats.denied.load(Ordering::Relaxed),
        stats.asked.load(Ordering::Relaxed),
        stats.failures.load(Ordering::Relaxed),
        stats.dropped.load(Ordering::Relaxed),
    );
    Ok(0)
}

/// The home folder: `$HOME`, else the platform's.
fn home() -> Result<PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .context("guard: cannot locate a home folder")
}

fn settings(agent: Agent, scope: Scope) -> Result<PathBuf> {
    let project = std::env::current_dir().context("guard: no current folder")?;
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    // The folders these agents move with a variable of their own.
    match (agent, scope) {
        (Agent::CopilotCli, Scope::User) => {
            if let Some(h) = var("COPILOT_HOME") {
                return Ok(h.join("hooks").join(install::GUARD_FILE));
            }
        }
        (Agent::Opencode, Scope::User) => {
            if let Some(c) = var("XDG_CONFIG_HOME") {
                return Ok(c.join("opencode/plugin").join(install::PLUGIN_FILE));
            }
        }
        _ => {}
    }
    Ok(install::settings_path(agent, scope, &home()?, &project))
}

fn install_cmd(a: GuardInstallArgs) -> Result<i32> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("guard: cannot tell where this skilltrace binary is")?
        .to_string_lossy()
        .into_owned();
    let db = a.db.clone();
    let mode = match &a.http {
        Some(url) => {
            client::parse_url(url).map_err(|e| anyhow::anyhow!("--http {e}"))?;
            Mode::Http {
                url: url.trim_end_matches('/').to_string(),
                exe,
                db,
            }
        }
        None => Mode::Command { exe, db },
    };
    // The store's key now, not in the first two hook processes racing to make it.
    let db = match &a.db {
        Some(d) => d.clone(),
        None => crate::paths::default_db()?,
    };
    crate::detect::tokens::load_or_create_key(&db)?;
    let path = settings(a.agent, a.scope)?;
    match install::install(a.agent, &path, &mode)? {
        Outcome::Unchanged => println!(
            "{} is already guarded: {} holds the guard's hooks",
            a.agent.name(),
            path.display()
        ),
        Outcome::Changed { backup } => {
            println!(
                "guarded {}: hooks added to {}",
                a.agent.name(),
                path.display()
            );
            if let Some(b) = backup {
                println!(
                    "backup of the file as it was: {}",
                    crate::notice::safe_path(&b)
                );
            }
            println!("{}", after_install(a.agent));
        }
    }
    Ok(0)
}

/// What the user still has to do for the hooks to run.
fn after_install(agent: Agent) -> &'static str {
    match agent {
        Agent::ClaudeCode => "new Claude Code sessions use it (running ones: review it in /hooks)",
        Agent::Cursor => "restart Cursor to load it (Settings → Hooks shows it)",
        Agent::Gemini => "new Gemini CLI sessions use it (/hooks panel shows it)",
        Agent::Codex => {
            "Codex runs new hooks once you trust them: start codex and review them in /hooks \
             (Codex before 0.124 also needs [features] codex_hooks = true in ~/.codex/config.toml)"
        }
        Agent::CopilotCli => {
            "new Copilot CLI sessions use it (project hooks load from the folder copilot starts in)"
        }
        Agent::Cline => {
            "Cline runs hooks once they are enabled: Settings → Features → Enable Hooks \
             (macOS and Linux)"
        }
        Agent::Opencode => "restart OpenCode to load the plugin",
    }
}

fn uninstall_cmd(a: GuardUninstallArgs) -> Result<i32> {
    let path = settings(a.agent, a.scope)?;
    match install::uninstall(a.agent, &path)? {
        Outcome::Unchanged => println!(
            "{} was not guarded: no guard hooks in {}",
            a.agent.name(),
            path.display()
        ),
        Outcome::Changed { .. } => println!(
            "{} is no longer guarded: the guard's hooks are gone from {}",
            a.agent.name(),
            path.display()
        ),
    }
    Ok(0)
}

/// One line of `guard status` / `doctor`.
pub(super) struct StatusLine {
    /// `ok`, `info` or `FIX`.
    pub level: &'static str,
    pub what: String,
    pub detail: String,
}

/// Which agents are guarded where, and (with `probe`) whether their hooks answer.
pub(super) fn status_lines(probe: bool, db: Option<PathBuf>) -> Result<Vec<StatusLine>> {
    let mut out = Vec::new();
    for agent in Agent::ALL {
        for scope in [Scope::User, Scope::Project] {
            let path = settings(agent, scope)?;
            let scope_name = match scope {
                Scope::User => "user",
                Scope::Project => "project",
            };
            let what = format!("guard {} ({scope_name})", agent.name());
            // Unguarded user settings are worth a line; unguarded projects are not.
            let not_guarded = |why: String| StatusLine {
                level: "info",
                what: what.clone(),
                detail: format!("not guarded ({why})"),
            };
            let found = match install::found_at(agent, &path) {
                Ok(None) => {
                    if scope == Scope::User {
                        out.push(not_guarded(format!("{} does not exist", path.display())));
                    }
                    continue;
                }
                Ok(Some(f)) if f.is_empty() => {
                    if scope == Scope::User {
                        out.push(not_guarded(format!("no guard hooks in {}", path.display())));
                    }
                    continue;
                }
                Ok(Some(f)) => f,
                Err(e) => {
                    out.push(StatusLine {
                        level: "FIX",
                        what,
                        detail: format!("{}: not valid JSON ({e})", path.display()),
                    });
                    continue;
                }
            };
            let events: Vec<&str> = found.iter().map(|(e, _)| e.as_str()).collect();
            let (level, answer) = if probe {
                probe_hook(agent, &found)
            } else {
                ("ok", "not checked".to_string())
            };
            out.push(StatusLine {
                level,
                what,
                detail: format!(
                    "guarded in {} ({}); {answer}",
                    path.display(),
                    events.join(", ")
                ),
            });
        }
    }
    out.push(warm_line(db));
    Ok(out)
}

/// Whether a warm judge answers the command hooks of store `db`.
fn warm_line(db: Option<PathBuf>) -> StatusLine {
    let detail = match db.or_else(|| crate::paths::default_db().ok()) {
        None => "no store".to_string(),
        Some(db) => match warm::ping(&db) {
            Ok(j) => format!(
                "running for {} (pid {}, up {} s, {} events judged, idle {} s of {} s before it exits)",
                db.display(),
                j.pid,
                j.uptime_ms / 1000,
                j.judged,
                j.idle_for_ms / 1000,
                j.idle_secs
            ),
            Err(why) => format!(
                "not running for {} ({why}); the next command hook starts one unless [guard] warm_idle_secs = 0",
                db.display()
            ),
        },
    };
    StatusLine {
        level: "info",
        what: "guard warm judge".into(),
        detail,
    }
}

/// Runs an installed hook once (`--check`, or `GET /health` for HTTP hooks).
fn probe_hook(agent: Agent, found: &[(String, serde_json::Value)]) -> (&'static str, String) {
    let handler = found.iter().find_map(|(_, v)| {
        if v.get("hooks").is_none() || agent == Agent::Cursor {
            Some(v.clone())
        } else {
            v.get("hooks")?.get(0).cloned()
        }
    });
    let Some(h) = handler else {
        return ("FIX", "no handler found".into());
    };
    if let Some(url) = h.get("url").and_then(|u| u.as_str()) {
        let base = url
            .rfind(server::HOOK_PREFIX)
            .map(|i| &url[..i])
            .unwrap_or(url);
        let health = format!("{base}/health");
        let t = Instant::now();
        return match client::parse_url(&health)
            .and_then(|u| client::request("GET", &u, b"", Duration::from_secs(2)))
        {
            Ok((200, _)) => (
                "ok",
                format!(
                    "guard serve at {base} answers ({} ms)",
                    t.elapsed().as_millis()
                ),
            ),
            Ok((code, _)) => ("FIX", format!("guard serve at {base} answers HTTP {code}")),
            Err(e) => (
                "FIX",
                format!(
                    "guard serve at {base} does not answer ({e}): start `skilltrace guard serve`"
                ),
            ),
        };
    }
    let Some(cmd) = h
        .get("command")
        .or_else(|| h.get("bash"))
        .and_then(|c| c.as_str())
    else {
        return ("FIX", "the hook has no command".into());
    };
    let t = Instant::now();
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{cmd} --check"))
        .stdin(std::process::Stdio::null())
        .output();
    match run {
        Ok(o) if o.status.success() => (
            "ok",
            format!("the hook answers ({} ms)", t.elapsed().as_millis()),
        ),
        Ok(o) => (
            "FIX",
            format!(
                "the hook does not answer: {}",
                crate::sanitize::line(
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .chain(String::from_utf8_lossy(&o.stderr).lines())
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("no output")
                )
            ),
        ),
        Err(e) => ("FIX", format!("cannot run sh: {e}")),
    }
}

fn status_cmd(a: GuardStatusArgs) -> Result<i32> {
    let lines = status_lines(!a.no_check, Some(db_path(&a.db)?))?;
    let mut fix = 0;
    for l in &lines {
        if l.level == "FIX" {
            fix += 1;
        }
        println!(
            "  {:<5} {}: {}",
            l.level,
            l.what,
            crate::notice::safe_line(&l.detail)
        );
    }
    let guarded = lines
        .iter()
        .filter(|l| l.detail.starts_with("guarded"))
        .count();
    println!(
        "{guarded} guarded hook setting(s){}",
        if fix > 0 {
            format!(", {fix} to fix")
        } else {
            String::new()
        }
    );
    Ok(if fix > 0 { 1 } else { 0 })
}
