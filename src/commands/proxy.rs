//! `skilltrace proxy`: the loopback LLM proxy writing to the store.
//!
//! Opens the store, starts the single writer thread, binds the listen address,
//! prints where to point agents, and serves until Ctrl-C / SIGTERM; then drains
//! open exchanges and lets the writer commit everything it was handed.

use super::{db_path, open_pipeline};
use crate::cli::ProxyArgs;
use crate::proxy::{self, ProxyConfig};
use anyhow::Result;
use std::sync::atomic::Ordering;

pub fn run(args: ProxyArgs) -> Result<i32> {
    let config = crate::config::Config::load_default()?;
    let limits = crate::limits::Limits::from_config(&config)?;
    let mut cfg = ProxyConfig::from_args(&args)
        .with_limits(&limits)
        .with_config(&config)?;
    if let Some(ca) = &args.upstream_ca {
        cfg.upstream_ca_pem = std::fs::read(ca).map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot read the upstream CA file: {}",
                ca.display(),
                crate::ingest::import::io_why(&e)
            )
        })?;
    }
    let db = db_path(&args.db)?;
    let rt = proxy::forwarding_runtime(cfg.poll).map_err(proxy::ProxyError::Runtime)?;
    // Bind before opening the store: a busy port or a refused address fails fast.
    let bound = rt.block_on(proxy::bind(cfg.clone()))?;
    let addr = bound.local_addr();
    let stats = bound.stats();
    let pipeline = open_pipeline(&db)?;
    // A store slower than exchanges arrive: rounds spill (redacted) to its spool.
    let spill_db = db.clone();
    let bound = bound.with_spill(proxy::spill::Spill::new(
        &db,
        pipeline.commit_config().spool_max,
        Box::new(move || crate::ingest::scan::build(&config, &spill_db, None)),
    ));
    let (sink, writer) = crate::ingest::pipeline::spawn_background_writer(pipeline);

    // Signal handlers first: a script may stop us as soon as it reads the banner.
    let shutdown = shutdown_signal(&rt);
    // The banner goes to stdout for scripts.
    let mut banner = format!(
        "skilltrace proxy listening on http://{addr}, recording into {}\n\
         point agents at it:\n  \
         export OPENAI_BASE_URL=http://{addr}/v1\n  \
         export ANTHROPIC_BASE_URL=http://{addr}\n",
        crate::notice::safe_path(&db)
    );
    if cfg.token.is_some() {
        banner.push_str("clients must send the header x-skilltrace-token (the value of --token)\n");
    }
    banner.push_str(&format!(
        "upstreams: openai {}, anthropic {} (Ctrl-C to stop)\n",
        cfg.openai_upstream, cfg.anthropic_upstream
    ));
    super::print_banner(&banner);

    rt.block_on(bound.serve(sink, shutdown))?;
    drop(rt);
    let written = writer.join()?;
    eprintln!(
        "stopped: {} requests, {}, {} upstream errors, {} refused while the memory budget was full; {} spans and {} findings stored",
        stats.requests.load(Ordering::Relaxed),
        stats.recorded_line(),
        stats.upstream_errors.load(Ordering::Relaxed),
        stats.busy.load(Ordering::Relaxed),
        written.new_spans,
        written.findings,
    );
    Ok(0)
}

/// Resolves on Ctrl-C, or SIGTERM on Unix. The handlers are installed when this
/// is called (inside `rt`), not when the future is first polled: a signal that
/// arrives right after the banner must stop the server gracefully, not kill it.
pub(super) fn shutdown_signal(
    rt: &tokio::runtime::Runtime,
) -> impl std::future::Future<Output = ()> {
    let _in_runtime = rt.enter();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let next = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = next(term) => {}
                _ = next(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        let ctrl_c = tokio::signal::ctrl_c();
        async move {
            let _ = ctrl_c.await;
        }
    }
}
