//! `skilltrace otlp`: the loopback OTLP/HTTP receiver (protobuf or JSON) writing to the store.
//!
//! Binds first (a busy port or a non-loopback address fails fast, before the
//! store is touched), starts the single writer thread, prints where to point
//! exporters, and receives until Ctrl-C / SIGTERM; then lets open requests
//! finish and the writer commit everything it was handed.

use super::{db_path, open_pipeline};
use crate::cli::OtlpArgs;
use crate::ingest::otlp_http;
use anyhow::Result;
use std::sync::atomic::Ordering;

pub fn run(args: OtlpArgs) -> Result<i32> {
    let db = db_path(&args.db)?;
    let limits = crate::limits::Limits::from_config(&crate::config::Config::load_default()?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("skilltrace-otlp-io")
        .enable_all()
        .build()?;
    let bound = rt
        .block_on(otlp_http::bind(&args.listen))?
        .with_limits(limits);
    let addr = bound.local_addr();
    let stats = bound.stats();
    let pipeline = open_pipeline(&db)?;
    let (sink, writer) = crate::ingest::pipeline::spawn_writer(pipeline);

    // Signal handlers first: a script may stop us as soon as it reads the banner.
    let shutdown = super::proxy::shutdown_signal(&rt);
    // The banner goes to stdout for scripts.
    let banner = format!(
        "skilltrace receiving OTLP/HTTP traces on http://{addr}{path}, and logs on {logs}, recording into {}\n\
         point exporters at it (protobuf or JSON):\n  \
         export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://{addr}{path}\n  \
         export OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://{addr}{logs}\n\
         (Ctrl-C to stop)\n",
        crate::notice::safe_path(&db),
        path = otlp_http::TRACES_PATH,
        logs = otlp_http::LOGS_PATH,
    );
    super::print_banner(&banner);

    rt.block_on(bound.serve(sink, shutdown));
    drop(rt);
    let written = writer.join()?;
    eprintln!(
        "stopped: {} requests, {} accepted, {} refused; {} spans and {} findings stored",
        stats.requests.load(Ordering::Relaxed),
        stats.accepted.load(Ordering::Relaxed),
        stats.rejected.load(Ordering::Relaxed),
        written.new_spans,
        written.findings,
    );
    Ok(0)
}
