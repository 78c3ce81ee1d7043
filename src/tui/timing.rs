//! Phase timers for profiling the TUI in the real binary: with
//! `SKILLTRACE_TUI_TIMING=<file>` set, the worker's queries and the UI's
//! frames append one line each (`<phase> <ms>`) to that file; unset, every
//! call is a no-op. The TUI owns the terminal, so the log goes to a file.

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// The environment variable naming the log file.
pub const TIMING_ENV: &str = "SKILLTRACE_TUI_TIMING";

fn sink() -> Option<&'static Mutex<std::fs::File>> {
    static SINK: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    SINK.get_or_init(|| {
        let path = std::env::var_os(TIMING_ENV).filter(|p| !p.is_empty())?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
    })
    .as_ref()
}

/// Whether phase timing is on.
pub fn enabled() -> bool {
    sink().is_some()
}

/// Logs `phase` with the milliseconds since `since` (when timing is on).
pub fn phase(phase: &str, since: Instant) {
    if let Some(f) = sink() {
        let ms = since.elapsed().as_secs_f64() * 1e3;
        if let Ok(mut f) = f.lock() {
            let _ = writeln!(f, "{phase} {ms:.2}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_without_the_variable_and_phase_is_then_a_no_op() {
        // The test process does not set the variable (CI never does).
        if std::env::var_os(TIMING_ENV).is_none() {
            assert!(!enabled());
            phase("nothing", Instant::now());
            assert!(!enabled());
        }
    }
}
