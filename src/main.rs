//! The `skilltrace` binary: parses arguments, runs the command, maps errors to exit code 2.

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
