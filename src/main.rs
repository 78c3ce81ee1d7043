//! The `skilltrace` binary: parses arguments, runs the command, maps errors to exit code 2.

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let _ = skilltrace::guard::hook::PROCESS_START.set(std::time::Instant::now());
    no_huge_pages();
    let cli = skilltrace::cli::Cli::parse();
    match skilltrace::commands::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let msg = format!("{e:#}");
            eprintln!("error: {}", skilltrace::sanitize::line(&msg));
            ExitCode::from(2)
        }
    }
}

/// Turns transparent huge pages off for this process: mimalloc asks for them
/// on its arenas, and 2 MiB pages kept ~30 MB more resident on a 200 MB import
/// (BENCHMARKS.md, "Peak RSS"). Nothing here gains from them; failing is harmless.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

/// A reader that went away (`skilltrace runs --format json | head`): not an error.
/// JSON output reaches the pipe through serde_json, which wraps the I/O error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let broken = |k: std::io::ErrorKind| k == std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| broken(io.kind()))
            || c.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                .is_some_and(broken)
    })
}
