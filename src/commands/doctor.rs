//! `skilltrace doctor`: checks the store, its permissions, the config, the
//! registries and the proxy and OTLP receiver ports, and says what to fix. Exit 0 when healthy,
//! 1 when something needs fixing.

use super::db_path;
use crate::cli::DoctorArgs;
use anyhow::Result;
use std::path::Path;

struct Report {
    problems: u32,
}

impl Report {
    fn ok(&self, what: &str, detail: &str) {
        println!("  ok    {what}: {}", crate::sanitize::line(detail));
    }
    fn info(&self, what: &str, detail: &str) {
        println!("  info  {what}: {}", crate::sanitize::line(detail));
    }
    fn fix(&mut self, what: &str, detail: &str) {
        self.problems += 1;
        println!("  FIX   {what}: {}", crate::sanitize::line(detail));
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn mode(_p: &Path) -> Option<u32> {
    None
}

pub fn run(args: DoctorArgs) -> Result<i32> {
    let mut r = Report { problems: 0 };
    println!("skilltrace {} doctor", env!("CARGO_PKG_VERSION"));
    let db = db_path(&args.db)?;
    check_store(&mut r, &db);
    check_config(&mut r);
    check_registries(&mut r);
    check_port(&mut r, "proxy port", &args.proxy, "skilltrace proxy");
    check_port(&mut r, "otlp port", &args.otlp, "skilltrace otlp");
    if r.problems == 0 {
        println!("all good");
        Ok(0)
    } else {
        println!("{} thing(s) to fix", r.problems);
        Ok(1)
    }
}

fn check_store(r: &mut Report, db: &Path) {
    if !db.exists() {
        r.info(
            "store",
            &format!(
                "{} does not exist yet (created by import, tail, proxy or tui)",
                db.display()
            ),
        );
        return;
    }
    match crate::store::Store::open_read(db) {
        Ok(s) => match s.counts() {
            Ok(c) => r.ok(
                "store",
                &format!(
                    "{} (schema v{}; {} runs, {} spans, {} findings, {} parse errors, {} spans waiting for search indexing)",
                    db.display(),
                    crate::store::schema::latest(),
                    c.runs,
                    c.spans,
                    c.findings.iter().sum::<u64>(),
                    c.parse_errors,
                    c.fts_pending
                ),
            ),
            Err(e) => r.fix("store", &e.to_string()),
        },
        Err(e) => r.fix("store", &e.to_string()),
    }
    if let Ok(s) = crate::store::Store::open_read(db) {
        check_parse_errors(r, &s);
    }
    let mut files = vec![db.to_path_buf()];
    for suffix in ["-wal", "-shm", ".key", ".canaries"] {
        let mut s = db.as_os_str().to_owned();
        s.push(suffix);
        files.push(s.into());
    }
    for f in files.iter().filter(|f| f.exists()) {
        match mode(f) {
            Some(m) if m & 0o077 != 0 => r.fix(
                "permissions",
                &format!("{} is {m:o}; run: chmod 600 '{}'", f.display(), f.display()),
            ),
            Some(_) => r.ok("permissions", &format!("{} is private (600)", f.display())),
            None => {}
        }
    }
    if let Some(dir) = db.parent() {
        if let Some(m) = mode(dir) {
            if m & 0o077 != 0 {
                r.info(
                    "folder",
                    &format!("{} is {m:o}; skilltrace creates its own folders 700 (chmod 700 if it is private to skilltrace)", dir.display()),
                );
            }
        }
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
