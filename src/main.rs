//! The `skilltrace` binary: parses arguments, runs the command, maps errors to exit code 2.

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let _ = skilltrace::guard::hook::PROCESS_START.set(std::time::Instant::now());
    no_huge_pages();
    quiet_panics();
    let cli = match skilltrace::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match skilltrace::commands::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let msg = format!("{e:#}");
            eprintln!("error: {}", skilltrace::notice::safe_line(&msg));
            ExitCode::from(2)
        }
    }
}

/// Help and version print as clap prints them; a usage error is one line,
/// `error: <what>: <why>` (redacted and sanitised: it repeats what was typed), exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("bad usage");
    let what = first.trim().strip_prefix("error: ").unwrap_or(first.trim());
    let tip = " (see --help)";
    eprintln!("error: {}{tip}", skilltrace::notice::safe_line(what));
    ExitCode::from(2)
}

/// A panic is a bug, never a user's fault, and says so in one line (sanitised
/// and redacted: it may carry a value) instead of a backtrace. A write to a
/// reader that went away (`skilltrace doctor | head -1`) is no error: exit 0.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("panic");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error{at}: {} (a bug: please report it)",
            skilltrace::notice::safe_line(msg)
        );
    }));
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
