//! `skilltrace tui`: opens the workbench on a store, with optional live sources
//! (`--tail`, `--proxy`) and a demo mode (bare paths: imported then followed
//! into a private temporary store that is removed on exit).

use super::{db_path, open_pipeline};
use crate::cli::TuiArgs;
use crate::ingest::pipeline::{spawn_writer, IngestSender};
use crate::ingest::tail::{follow, StopFlag, TailOptions};
use crate::tui::app::SourceStatus;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Default, serde::Deserialize)]
struct TuiConfig {
    theme: Option<String>,
    /// More findings grouped as one behaviour (`[[tui.behaviour]] name, rules`).
    #[serde(default)]
    behaviour: Vec<crate::tui::group::Behaviour>,
}

pub fn run(args: TuiArgs) -> Result<i32> {
    let config = crate::config::Config::load_default()?;
    let tcfg: TuiConfig = config.section("tui")?;
    crate::pricing::install(crate::pricing::PriceTable::from_config(&config)?);
    let theme = crate::tui::theme::Theme::load(
        args.theme.as_deref().or(tcfg.theme.as_deref()),
        crate::tui::theme::no_color_env(),
    )?;
    let keymap = crate::tui::action::Keymap::load_user()?;
    let behaviours = crate::tui::group::Behaviours::builtin().with(tcfg.behaviour);
    // Demo paths that do not exist are an error, not an empty workbench.
    let (_, bad) = crate::ingest::import::collect(&args.paths);
    if let Some(why) = bad.first() {
        anyhow::bail!("{why}");
    }
    let mut redaction = redaction_mode(&config);
    let stop = StopFlag::default();
    let shared = Arc::new(Shared::default());
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    let mut labels = Vec::new();
    let mut sender: Option<IngestSender> = None;
    let mut health: Option<Arc<crate::store::commit::Health>> = None;

    let demo = if args.paths.is_empty() {
        None
    } else {
        Some(TempStore::create()?)
    };
    let db = match &demo {
        Some(t) => t.dir.join("demo.db"),
        None => db_path(&args.db)?,
    };
    if let Some(_t) = &demo {
        let mut pipeline = open_pipeline(&db)?;
        redaction = pipeline_redaction(&mut pipeline);
        // Absolute paths, as the follower's file events name them: one source
        // per file in Sources, not one for the import and one for the follow.
        let paths: Vec<PathBuf> = args
            .paths
            .iter()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .collect();
        labels.push(format!(
            "demo {} (temporary store)",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ));
        let total: u64 = crate::ingest::import::collect(&paths)
            .0
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        shared.import_total.store(total.max(1), Ordering::Relaxed);
        let (sh, st, db2) = (shared.clone(), stop.clone(), db.clone());
        threads.push(
            std::thread::Builder::new()
                .name("skilltrace-demo".into())
                .spawn(move || demo_ingest(pipeline, &paths, &db2, &sh, &st))
                .context("tui: cannot start the demo import")?,
        );
    } else if !args.tail.is_empty() || args.proxy.is_some() {
        let mut pipeline = open_pipeline(&db)?;
        redaction = pipeline_redaction(&mut pipeline);
        let line_cap = pipeline.line_cap();
        let (tx, writer) = spawn_writer(pipeline);
        sender = Some(tx.clone());
        health = Some(writer.health());
        if !args.tail.is_empty() {
            let tail_paths = if args.tail.iter().any(|p| p.as_os_str() == "auto") {
                // `--tail auto`: every known agent folder, those that appear later too.
                let roots = crate::ingest::discover::on_this_machine();
                let mut found: Vec<&str> = roots
                    .iter()
                    .filter(|r| r.exists())
                    .map(|r| r.home.agent.as_str())
                    .collect();
                found.dedup();
                labels.push(format!(
                    "tail auto: {}",
                    if found.is_empty() {
                        "no agent folder yet".to_string()
                    } else {
                        found.join(", ")
                    }
                ));
                let mut paths: Vec<_> = roots.into_iter().map(|r| r.path).collect();
                paths.extend(
                    args.tail
                        .iter()
                        .filter(|p| p.as_os_str() != "auto")
                        .cloned(),
                );
                paths
            } else {
                labels.push(format!("tail {} path(s)", args.tail.len()));
                args.tail.clone()
            };
            let (paths, st, db2, sh, tx2) = (
                tail_paths,
                stop.clone(),
                db.clone(),
                shared.clone(),
                tx.clone(),
            );
            threads.push(
                std::thread::Builder::new()
                    .name("skilltrace-tail".into())
                    .spawn(move || {
                        let opts = TailOptions {
                            line_cap,
                            ..Default::default()
                        };
                        if let Err(e) = follow(&paths, &db2, opts, tx2, &st) {
                            sh.fail(format!("tail: {e:#}"));
                        }
                    })
                    .context("tui: cannot start the tailer")?,
            );
        }
        if let Some(addr) = &args.proxy {
            labels.push(format!("proxy {addr}"));
            if let Some(h) = start_proxy(addr, tx.clone(), stop.clone(), shared.clone())? {
                threads.push(h);
            }
        }
        drop(tx);
        let sh = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("skilltrace-writer-wait".into())
                .spawn(move || {
                    if let Err(e) = writer.join() {
                        sh.fail(format!("store writer: {e}"));
                    }
                })
                .context("tui: cannot start the writer")?,
        );
    }
    if demo.is_none() {
        // Same one-line message as every other reader for a missing store; an
        // older store is upgraded here, its progress on stderr, before the
        // TUI takes the terminal.
        crate::store::Store::open_read(&db)?;
    }

    let status = {
        let shared = shared.clone();
        let sender = sender.clone();
        move || {
            let done = shared.import_done.load(Ordering::Relaxed);
            let total = shared.import_total.load(Ordering::Relaxed);
            let importing = (total > 0 && !shared.imported()).then_some((done, total));
            let mut sources = labels.clone();
            for s in sources.iter_mut() {
                if s.starts_with("proxy ") {
                    let n = shared.proxy_requests.load(Ordering::Relaxed);
                    s.push_str(&format!(" ({n} req)"));
                }
            }
            SourceStatus {
                sources,
                importing,
                dropped: sender.as_ref().map(|s| s.dropped()).unwrap_or(0),
                redaction: redaction.clone(),
                error: shared.error(),
                store: health.as_ref().and_then(|h| h.notice()),
            }
        }
    };
    // Rows read back are redacted again with the config's redactor (store::reread).
    let redactor = super::read_redactor(&db)?;
    // Warnings (spooling, drops) go to the status line while the TUI owns the
    // terminal, and are printed when it lets go.
    crate::notice::hold(true);
    let result = crate::tui::run(
        crate::tui::Options {
            db: &db,
            theme,
            keymap,
            lazy: demo.is_some(),
            author: crate::tui::author_from_env(),
            behaviours,
            redactor: Some(redactor),
        },
        status,
    );
    stop.stop();
    drop(sender);
    crate::notice::hold(false);
    // Give background sources time to commit (or spool) what they hold; never
    // hang on exit, and say so if something had to be left behind.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut unfinished = 0;
    for t in threads {
        while !t.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if t.is_finished() {
            let _ = t.join();
        } else {
            unfinished += 1;
        }
    }
    if unfinished > 0 {
        crate::notice::warn(
            "tui-exit",
            format!("{} was still writing at exit; what it had not stored or spooled is not in the store (tailed files resume from their stored offsets)", db.display()),
        );
    }
    drop(demo);
    result.map(|_| 0)
}

/// State the background threads share with the status line.
#[derive(Default)]
struct Shared {
    import_done: AtomicU64,
    import_total: AtomicU64,
    imported: std::sync::atomic::AtomicBool,
    proxy_requests: AtomicU64,
    error: Mutex<Option<String>>,
}

impl Shared {
    fn fail(&self, e: String) {
        if let Ok(mut g) = self.error.lock() {
            *g = Some(e);
        }
    }
    fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|g| g.clone())
    }
    fn imported(&self) -> bool {
        self.imported.load(Ordering::Relaxed)
    }
}

/// Demo mode: import the paths (progress in the status line), then follow them.
fn demo_ingest(
    mut pipeline: crate::ingest::pipeline::Pipeline,
    paths: &[PathBuf],
    db: &Path,
    shared: &Shared,
    stop: &StopFlag,
) {
    let rep = crate::ingest::import::import_paths(&mut pipeline, paths, None, &mut |n, _| {
        shared.import_done.fetch_add(n, Ordering::Relaxed);
    });
    shared.imported.store(true, Ordering::Relaxed);
    match rep {
        Ok(r) if r.files == 0 => shared.fail(format!(
            "demo: no trace files found{}",
            r.unreadable
                .first()
                .map(|w| format!(" ({w})"))
                .unwrap_or_default()
        )),
        Ok(_) => {}
        Err(e) => {
            shared.fail(format!("demo import: {e}"));
            return;
        }
    }
    while !stop.is_stopped() {
        match pipeline.store_mut().index_fts(5_000) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if stop.is_stopped() {
        return;
    }
    let line_cap = pipeline.line_cap();
    let (tx, writer) = spawn_writer(pipeline);
    let opts = TailOptions {
        line_cap,
        ..Default::default()
    };
    if let Err(e) = follow(paths, db, opts, tx, stop) {
        shared.fail(format!("demo follow: {e:#}"));
    }
    let _ = writer.join();
}

/// Starts the loopback proxy for `--proxy ADDR`, feeding `sink`; stops on `stop`.
///
/// This is the one place the TUI starts the proxy (`crate::proxy::spawn`, its
/// own runtime thread). A watcher thread shuts it down (draining open
/// exchanges) when the UI quits, and mirrors its request count into the status line.
fn start_proxy(
    addr: &str,
    sink: IngestSender,
    stop: StopFlag,
    shared: Arc<Shared>,
) -> Result<Option<JoinHandle<()>>> {
    let config = crate::config::Config::load_default()?;
    let limits = crate::limits::Limits::from_config(&config)?;
    let cfg = crate::proxy::ProxyConfig::new(addr)
        .with_limits(&limits)
        .with_config(&config)?;
    let handle = crate::proxy::spawn(cfg, sink)?;
    let stats = handle.stats();
    let h = std::thread::Builder::new()
        .name("skilltrace-proxy-watch".into())
        .spawn(move || {
            while !stop.is_stopped() {
                shared
                    .proxy_requests
                    .store(stats.requests.load(Ordering::Relaxed), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
            if let Err(e) = handle.shutdown() {
                shared.fail(format!("{e}"));
            }
        })
        .context("tui: cannot start the proxy watcher")?;
    Ok(Some(h))
}

/// The mode the running pipeline redacts with (`off` when disabled).
fn pipeline_redaction(p: &mut crate::ingest::pipeline::Pipeline) -> String {
    let r = p.redactor_mut();
    if r.is_enabled() {
        r.mode().as_str().into()
    } else {
        "off".into()
    }
}

/// The redaction mode for the status line: `off` when the config disables it.
fn redaction_mode(config: &crate::config::Config) -> String {
    let Some(t) = config.table.get("redaction").and_then(|v| v.as_table()) else {
        return crate::redact::Mode::default().as_str().into();
    };
    let disabled = t.get("enabled").and_then(|v| v.as_bool()) == Some(false)
        || t.get("disabled").and_then(|v| v.as_bool()) == Some(true);
    match t.get("mode").and_then(|v| v.as_str()) {
        _ if disabled => "off".into(),
        Some("off" | "none" | "disabled") => "off".into(),
        Some(m) => crate::sanitize::line(m).into_owned(),
        None => crate::redact::Mode::default().as_str().into(),
    }
}

/// A private temporary folder (`0700`, random name) removed when dropped.
struct TempStore {
    dir: PathBuf,
}

impl TempStore {
    fn create() -> Result<TempStore> {
        let base = std::env::temp_dir();
        for _ in 0..8 {
            let dir = base.join(format!("skilltrace-demo-{:016x}", rand::random::<u64>()));
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    crate::paths::set_mode(&dir, 0o700)?;
                    return Ok(TempStore { dir });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("{}: cannot create a temporary store", base.display())
                    })
                }
            }
        }
        anyhow::bail!("{}: cannot create a temporary store", base.display())
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_off_is_detected_from_config() {
        let c = |s: &str| crate::config::Config::from_text(None, s.into()).expect("config");
        assert_eq!(redaction_mode(&c("")), "mask");
        assert_eq!(redaction_mode(&c("[redaction]\nmode = \"hash\"\n")), "hash");
        assert_eq!(redaction_mode(&c("[redaction]\nenabled = false\n")), "off");
        assert_eq!(redaction_mode(&c("[redaction]\nmode = \"off\"\n")), "off");
    }

    #[test]
    fn temp_store_is_private_and_removed() {
        let t = TempStore::create().expect("temp");
        let dir = t.dir.clone();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
        drop(t);
        assert!(!dir.exists());
    }
}
