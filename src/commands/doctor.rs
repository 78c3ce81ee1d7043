//! `skilltrace doctor`: checks the store and everything beside it (each file a
//! regular file you own, not a link, mode `600`; the folder private; the db a
//! skilltrace store; the key not open to others; the spool empty), the config,
//! the registries (pinned in the config or signed) and the proxy and OTLP
//! receiver ports and the guard's hooks, lists the agent folders found on this
//! machine, and says what to fix. Exit 0 when healthy, 1 when something
//! needs fixing.

use super::db_path;
use crate::cli::DoctorArgs;
use anyhow::Result;
use std::path::Path;

/// What doctor prints, one line per check: the detail names paths and values
/// chosen by the user or an agent (a store folder named after a token), so it
/// is redacted with the built-in rules and sanitised ([`crate::notice::safe_line`]).
struct Report {
    problems: u32,
}

impl Report {
    fn ok(&self, what: &str, detail: &str) {
        println!("  ok    {what}: {}", crate::notice::safe_line(detail));
    }
    fn info(&self, what: &str, detail: &str) {
        println!("  info  {what}: {}", crate::notice::safe_line(detail));
    }
    fn fix(&mut self, what: &str, detail: &str) {
        self.problems += 1;
        println!("  FIX   {what}: {}", crate::notice::safe_line(detail));
    }
}

pub fn run(args: DoctorArgs) -> Result<i32> {
    let mut r = Report { problems: 0 };
    println!("skilltrace {} doctor", env!("CARGO_PKG_VERSION"));
    let db = db_path(&args.db)?;
    check_store(&mut r, &db);
    check_config(&mut r);
    check_registries(&mut r);
    check_port(&mut r, "proxy port", &args.proxy, "skilltrace proxy");
    check_proxy(&mut r, &args.proxy);
    check_port(&mut r, "otlp port", &args.otlp, "skilltrace otlp");
    check_guard(&mut r, &db);
    check_agents(&r);
    if r.problems == 0 {
        println!("all good");
        Ok(0)
    } else {
        println!("{} thing(s) to fix", r.problems);
        Ok(1)
    }
}

/// Which agents the guard answers, and whether their hooks answer.
fn check_guard(r: &mut Report, db: &Path) {
    match super::guard::status_lines(true, Some(db.to_path_buf())) {
        Ok(lines) => {
            for l in lines {
                match l.level {
                    "ok" => r.ok(&l.what, &l.detail),
                    "FIX" => r.fix(&l.what, &l.detail),
                    _ => r.info(&l.what, &l.detail),
                }
            }
        }
        Err(e) => r.info("guard", &format!("{e:#}")),
    }
}

/// The agent folders `skilltrace tail` (no path) and `tui --tail auto` follow.
fn check_agents(r: &Report) {
    let roots = crate::ingest::discover::on_this_machine();
    let found: Vec<_> = roots.iter().filter(|a| a.exists()).collect();
    if found.is_empty() {
        r.info(
            "agents",
            &format!(
                "no agent folder found ({} known places looked at); `skilltrace tail` waits for one to appear",
                roots.len()
            ),
        );
    }
    for a in found {
        r.ok(
            "agent",
            &format!("{} (followed by `skilltrace tail`)", a.describe()),
        );
    }
}

fn check_store(r: &mut Report, db: &Path) {
    use crate::store::trust;
    check_folder(r, db);
    match trust::facts(db) {
        Ok(None) => {
            r.info(
                "store",
                &format!(
                    "{} does not exist yet (created by import, tail, proxy or tui)",
                    db.display()
                ),
            );
            return;
        }
        Ok(Some(_)) => {}
        Err(e) => return r.fix("store", &format!("{}: cannot inspect: {e}", db.display())),
    }
    let latest = crate::store::schema::latest();
    match crate::store::Store::inspect(db) {
        Ok(s) if s.schema_version() < latest => r.info(
            "store",
            &format!(
                "{} (a skilltrace store, schema v{}; the next writer upgrades it to v{latest})",
                db.display(),
                s.schema_version()
            ),
        ),
        Ok(s) => match s.counts() {
            Ok(c) => r.ok(
                "store",
                &format!(
                    "{} (a skilltrace store, schema v{latest}; {} runs, {} spans, {} findings, {} parse errors, {} spans waiting for search indexing)",
                    db.display(),
                    c.runs,
                    c.spans,
                    c.findings.iter().sum::<u64>(),
                    c.parse_errors,
                    c.fts_pending
                ),
            ),
            Err(e) => r.fix("store", &e.to_string()),
        },
        Err(e) => r.fix("store", &format!("{e}; skilltrace refuses to write to it")),
    }
    if let Ok(s) = crate::store::Store::inspect(db) {
        check_parse_errors(r, &s);
    }
    for suffix in ["", "-wal", "-shm", ".key", ".canaries"] {
        let f = trust::sidecar(db, suffix);
        let facts = match trust::check_owned(&f, trust::Kind::File) {
            Ok(Some(facts)) => facts,
            Ok(None) => continue,
            Err(why) => {
                r.fix(
                    "file",
                    &format!("{why}; remove it (skilltrace will not use it)"),
                );
                continue;
            }
        };
        let m = facts.mode & 0o777;
        if m & 0o077 == 0 {
            r.ok(
                "permissions",
                &format!("{} is yours and private (600)", f.display()),
            );
        } else if suffix == ".key" {
            r.fix(
                "key",
                &format!(
                    "{} is {m:o}: others may have read it (so brute-force its hashes) or planted it; writers refuse it. \
                     If you made it: chmod 600 '{}'; if not: delete it (a new key is made, hash markers change)",
                    f.display(),
                    f.display()
                ),
            );
        } else {
            r.fix(
                "permissions",
                &format!(
                    "{} is {m:o}; the next open sets it back to 600, or run: chmod 600 '{}'",
                    f.display(),
                    f.display()
                ),
            );
        }
    }
    check_spool(r, db);
}

fn check_folder(r: &mut Report, db: &Path) {
    use crate::store::trust;
    let dir = match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(m) = std::fs::metadata(dir) else {
        return;
    };
    let me = trust::my_uid();
    let problems = trust::folder_problems(&trust::facts_of_meta(&m), me, |g| {
        trust::group_has_others(g, me)
    });
    if problems.is_empty() {
        r.ok("folder", &format!("{} is private", dir.display()));
    } else if trust::shared_allowed() {
        r.info(
            "folder",
            &format!(
                "{} {} (allowed by --allow-shared-store)",
                dir.display(),
                problems.join(" and ")
            ),
        );
    } else {
        r.fix(
            "folder",
            &format!(
                "{} {}: others could plant a store, key or -wal there, so writers refuse it; \
                 chmod 700 it, move the store (--db), or pass --allow-shared-store",
                dir.display(),
                problems.join(" and ")
            ),
        );
    }
}

fn check_spool(r: &mut Report, db: &Path) {
    let s = crate::store::spool::survey(db);
    let dir = crate::store::spool::folder(db);
    if let Some(why) = &s.why {
        r.fix(
            "spool",
            &format!(
                "{} thing(s) in or as the spool are never read nor stored: {why}; \
                 remove them (a spool holds only files skilltrace wrote)",
                s.refused
            ),
        );
    }
    if s.files == 0 {
        if dir.exists() {
            r.ok("spool", &format!("{} is empty", dir.display()));
        }
        return;
    }
    let what = format!(
        "{} batches ({} KB) wait in {} to be stored",
        s.frames,
        s.bytes.div_ceil(1024),
        dir.display()
    );
    if s.held == s.files {
        r.info(
            "spool",
            &format!("{what}; the running writer stores them when the store can take them"),
        );
    } else {
        r.fix(
            "spool",
            &format!(
                "{what}, {} file(s) left by writers that stopped; the next writer on this store (tail, import, otlp, proxy, tui) stores them",
                s.files - s.held
            ),
        );
    }
}

/// Files most named when some could not be read.
const ERROR_FILES_SHOWN: usize = 10;

/// Names the files that left parse errors (most first), with the first error of each.
fn check_parse_errors(r: &mut Report, s: &crate::store::Store) {
    let Ok(sources) = s.sources() else { return };
    let mut bad: Vec<_> = sources.iter().filter(|x| x.errors > 0).collect();
    if bad.is_empty() {
        return;
    }
    bad.sort_by(|a, b| {
        b.errors
            .cmp(&a.errors)
            .then(a.state.path.cmp(&b.state.path))
    });
    let total: u64 = bad.iter().map(|x| x.errors).sum();
    r.fix(
        "parse errors",
        &format!(
            "{total} in {} file(s); their unreadable lines were skipped (the Sources view of `skilltrace tui` lists each):",
            bad.len()
        ),
    );
    for src in bad.iter().take(ERROR_FILES_SHOWN) {
        let first = s
            .parse_errors(Some(&src.state.path), 1)
            .ok()
            .and_then(|e| e.into_iter().next());
        let why = first
            .map(|e| format!(", first at line {}: {}", e.line, e.message))
            .unwrap_or_default();
        println!(
            "          {} ({} error(s){})",
            crate::sanitize::line(&src.state.path),
            src.errors,
            crate::sanitize::line(&why)
        );
    }
    if bad.len() > ERROR_FILES_SHOWN {
        println!(
            "          … and {} more file(s)",
            bad.len() - ERROR_FILES_SHOWN
        );
    }
}

fn check_config(r: &mut Report) {
    let path = crate::paths::config_file();
    match &path {
        Some(p) if p.exists() => match crate::config::Config::load(p) {
            Ok(_) => r.ok("config", &p.display().to_string()),
            Err(e) => r.fix("config", &format!("{e:#}")),
        },
        Some(p) => r.info(
            "config",
            &format!("{} not present (built-in defaults in use)", p.display()),
        ),
        None => r.info(
            "config",
            "no config folder on this platform (built-in defaults in use)",
        ),
    }
}

fn check_registries(r: &mut Report) {
    use crate::detect::registry::{RegistriesConfig, Registry};
    let cfg: RegistriesConfig =
        match crate::config::Config::load_default().and_then(|c| c.section("registries")) {
            Ok(c) => c,
            Err(e) => return r.fix("registries", &format!("{e:#}")),
        };
    match Registry::load_all(&cfg) {
        Ok(regs) if regs.is_empty() => r.info(
            "registries",
            "none loaded (builtin = false and no files): skill detection is off",
        ),
        Ok(regs) => {
            for reg in regs {
                r.ok(
                    "registry",
                    &format!(
                        "{} ({} skills, {:?})",
                        reg.origin,
                        reg.file.skills.len(),
                        reg.verified
                    ),
                );
            }
        }
        Err(e) => r.fix("registries", &e.to_string()),
    }
}

/// A proxy running on `addr`: its recording counters (`GET /health`).
fn check_proxy(r: &mut Report, addr: &str) {
    if std::net::TcpStream::connect(addr).is_err() {
        return;
    }
    match crate::proxy::health::fetch(addr) {
        Ok(v) => {
            for (level, detail) in crate::proxy::health::lines(&v) {
                match level {
                    "FIX" => r.fix("proxy", &detail),
                    "ok" => r.ok("proxy", &detail),
                    _ => r.info("proxy", &detail),
                }
            }
        }
        Err(why) => r.info("proxy", &format!("{addr}: no counters: {why}")),
    }
}

fn check_port(r: &mut Report, what: &str, addr: &str, server: &str) {
    match std::net::TcpListener::bind(addr) {
        Ok(_) => r.ok(what, &format!("{addr} is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            match std::net::TcpStream::connect(addr) {
                Ok(_) => r.info(
                    what,
                    &format!("{addr} is in use (a running {server}, or another program)"),
                ),
                Err(_) => r.fix(
                    what,
                    &format!("{addr} is in use; choose another with --listen"),
                ),
            }
        }
        Err(e) => r.fix(what, &format!("{addr}: {e}")),
    }
}
