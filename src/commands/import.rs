//! `skilltrace import` and `skilltrace tail`: files into the store, once or following.

use super::{db_path, open_pipeline, parse_format, stderr_is_terminal};
use crate::cli::{ImportArgs, TailArgs};
use crate::ingest::import::{collect, import_paths_with};
use crate::ingest::phases;
use anyhow::Result;

pub fn import(args: ImportArgs) -> Result<i32> {
    // A bulk import is background work: its threads (they inherit this one's
    // priority) run niced, so that beside it a proxy's forwarding threads and
    // an interactive TUI get a core first; alone it runs as fast as before.
    crate::priority::background();
    phases::mark("start");
    let forced = parse_format(&args.format)?;
    let db = db_path(&args.db)?;
    super::install_ingest_lists()?;
    let (files, bad) = collect(&args.paths);
    if files.is_empty() {
        match bad.first() {
            Some(why) => anyhow::bail!("{why}"),
            None => anyhow::bail!(
                "{}: no trace files found (looked for *.jsonl, *.json, *.ndjson, opencode.db)",
                args.paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut pipeline = open_pipeline(&db)?;
    phases::mark("pipeline open");
    let bar = if stderr_is_terminal() {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} importing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let jobs = match args.jobs {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let started = std::time::Instant::now();
    let index = !args.no_index;
    let mut shown: Option<std::path::PathBuf> = None;
    let rep = import_paths_with(
        &mut pipeline,
        &args.paths,
        forced,
        jobs,
        index,
        &mut |n, p| {
            bar.inc(n);
            // A file's name is trace data (an agent or a page chose it):
            // redacted and sanitised like every other line, once per file.
            if shown.as_deref() != Some(p) {
                shown = Some(p.to_path_buf());
                bar.set_message(
                    p.file_name()
                        .map(|f| crate::notice::safe_line(&f.to_string_lossy()))
                        .unwrap_or_default(),
                );
            }
        },
    )?;
    phases::mark("workers and store thread done");
    if index {
        bar.set_message("indexing for search");
        index_all(&mut pipeline)?;
        phases::mark("index finished");
    }
    bar.finish_and_clear();
    if rep.files == 0 {
        // One input that could not be read is one line saying why.
        match rep.unreadable.as_slice() {
            [why] => anyhow::bail!("{why}"),
            _ => {
                for why in &rep.unreadable {
                    eprintln!("warning: {}", crate::notice::safe_line(why));
                }
                anyhow::bail!("no input could be read")
            }
        }
    }
    for why in &rep.unreadable {
        eprintln!("warning: {}", crate::notice::safe_line(why));
    }
    let stats = pipeline.stats();
    let counts = pipeline.store().counts()?;
    phases::mark("counted");
    // The last connection closes here (SQLite checkpoints its log into the
    // store and syncs it): the import's exit.
    drop(pipeline);
    phases::mark("store closed");
    phases::report();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {} file{} ({:.1} MB in {:.2}s): {} new spans, {} new findings, {} parse errors; store now has {} runs, {} spans, {} findings ({} open)",
        rep.files,
        if rep.files == 1 { "" } else { "s" },
        rep.bytes as f64 / 1e6,
        secs,
        stats.new_spans,
        stats.findings,
        stats.errors,
        counts.runs,
        counts.spans,
        counts.findings.iter().sum::<u64>(),
        counts.open_findings,
    );
    Ok(0)
}

/// Indexes every waiting span for search, in large transactions (FTS5's bulk
/// path, merging as it goes: no full merge after the last one); a store other
/// writers keep busy leaves the rest to the next writer (said, never an
/// error). A bulk build the store thread began while the import wrote
/// ([`Store::fts_bulk_mine`]) is finished here: the rest indexed, then the
/// incremental settings back.
///
/// [`Store::fts_bulk_mine`]: crate::store::Store::fts_bulk_mine
fn index_all(pipeline: &mut crate::ingest::pipeline::Pipeline) -> Result<()> {
    use crate::store::busy;
    /// Spans per transaction: large enough that commits are a small share,
    /// small enough that a concurrent writer waits well under its busy timeout.
    const CHUNK: usize = 50_000;
    let store = pipeline.store_mut();
    // A fresh store (or a large import into a small one) builds the index
    // with the bulk settings; otherwise the incremental settings stay (and
    // are put back if a cut-short bulk build left them).
    let bulk = busy::retry(busy::DEFAULT_WAIT, || {
        if store.fts_bulk_mine()? {
            return Ok(true);
        }
        let bulk = store.fts_bulk_due()?;
        store.set_fts_bulk(bulk)?;
        Ok(bulk)
    });
    let bulk = match bulk {
        Ok(b) => b,
        Err(e) if busy::classify(&e) == busy::Failure::Fatal => return Err(e.into()),
        Err(_) => false,
    };
    loop {
        match busy::retry(busy::DEFAULT_WAIT, || store.index_fts(CHUNK)) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if busy::classify(&e) == busy::Failure::Fatal => return Err(e.into()),
            Err(e) => {
                crate::notice::warn(
                    "index-later",
                    format!("search index not finished ({e}); the next writer on this store finishes it"),
                );
                break;
            }
        }
    }
    // The tail and the TUI index incrementally: their settings back (a store
    // busy now keeps the bulk ones until the next writer puts them back).
    let back = match bulk {
        true => busy::retry(busy::DEFAULT_WAIT, || store.set_fts_bulk(false)),
        false => Ok(()),
    };
    match back {
        Err(e) if busy::classify(&e) == busy::Failure::Fatal => Err(e.into()),
        _ => Ok(()),
    }
}

pub fn tail(args: TailArgs) -> Result<i32> {
    let forced = parse_format(&args.format)?;
    let db = db_path(&args.db)?;
    let pipeline = open_pipeline(&db)?;
    let line_cap = pipeline.line_cap();
    let (tx, writer) = crate::ingest::pipeline::spawn_writer(pipeline);
    let opts = crate::ingest::tail::TailOptions {
        forced,
        from_start: args.from_start,
        line_cap,
        ..Default::default()
    };
    let stop = crate::ingest::tail::StopFlag::default();
    let s2 = stop.clone();
    // Ctrl-C stops cleanly: the writer drains and commits what it has.
    let _ = ctrlc_flag(s2);
    let paths = if args.paths.is_empty() {
        let roots = discovered_roots(&stop)?;
        eprintln!(
            "following every agent folder on this machine into {} (Ctrl-C to stop)",
            crate::notice::safe_path(&db)
        );
        roots
    } else {
        eprintln!(
            "following {} path(s) into {} (Ctrl-C to stop)",
            args.paths.len(),
            crate::notice::safe_path(&db)
        );
        args.paths.clone()
    };
    crate::ingest::tail::follow(&paths, &db, opts, tx, &stop)?;
    let stats = writer.join()?;
    eprintln!(
        "stopped: {} spans, {} findings stored",
        stats.new_spans, stats.findings
    );
    Ok(0)
}

/// Every known agent folder (existing or not: the tailer follows those that
/// appear later); says which exist now, and each one that appears, on stderr.
pub fn discovered_roots(stop: &crate::ingest::tail::StopFlag) -> Result<Vec<std::path::PathBuf>> {
    use crate::ingest::discover;
    let roots = discover::on_this_machine();
    if roots.is_empty() {
        anyhow::bail!(
            "tail: no home folder to look for agents in (set HOME, or name the folders to follow)"
        );
    }
    let mut said = discover::Announcer::new(roots);
    let paths = said.paths();
    let now = said.news();
    if now.is_empty() {
        eprintln!("no agent folder found yet; waiting for one to appear");
    }
    for line in &now {
        eprintln!("  following {line}");
    }
    eprintln!(
        "  ({} other known agent folder(s) are followed when they appear; `skilltrace doctor` lists them)",
        said.waiting()
    );
    let stop = stop.clone();
    std::thread::Builder::new()
        .name("skilltrace-discover".into())
        .spawn(move || {
            while !stop.is_stopped() && said.waiting() > 0 {
                std::thread::sleep(std::time::Duration::from_secs(1));
                for line in said.news() {
                    eprintln!("  now following {line}");
                }
            }
        })?;
    Ok(paths)
}

/// Sets `stop` on SIGINT/SIGTERM using a small tokio runtime on a helper thread.
fn ctrlc_flag(stop: crate::ingest::tail::StopFlag) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("skilltrace-signal".into())
        .spawn(move || {
            rt.block_on(async {
                #[cfg(unix)]
                {
                    use tokio::signal::unix::{signal, SignalKind};
                    if let Ok(mut term) = signal(SignalKind::terminate()) {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {},
                            _ = term.recv() => {},
                        }
                    } else {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
                #[cfg(not(unix))]
                let _ = tokio::signal::ctrl_c().await;
            });
            stop.stop();
        })?;
    Ok(())
}
