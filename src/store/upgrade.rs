//! A long store upgrade said on stderr: which store, which step, how far.
//!
//! Opening a store written by an older skilltrace migrates its schema
//! ([`super::schema`]) and then resolves old rows' parent keys
//! ([`super::tree_links`]); on a store of a million spans that takes seconds,
//! so [`Progress`] says what is happening:
//! - on a terminal's stderr, a progress line (spinner, step, count, time)
//!   once the work has lasted [`SHOW_AFTER`], cleared when it ends;
//! - nothing when stderr is not a terminal or `NO_COLOR` is set, as the
//!   rest of the command line does;
//! - `SKILLTRACE_PROGRESS=always` prints plain lines on any stderr from the
//!   start (for logs and tests), `SKILLTRACE_PROGRESS=never` prints nothing.
//!
//! Lines name the store's path and counts, never row contents.

use crate::pricing::thousands;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long an upgrade runs before its progress line appears on a terminal.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Hidden,
    /// A progress line redrawn in place (a terminal), after [`SHOW_AFTER`].
    Bar,
    /// Plain lines, at once (asked for with `SKILLTRACE_PROGRESS=always`).
    Lines,
}

/// The mode this process's environment asks for.
pub fn mode() -> Mode {
    use std::io::IsTerminal;
    mode_from(
        std::env::var("SKILLTRACE_PROGRESS").ok().as_deref(),
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        std::io::stderr().is_terminal(),
    )
}

fn mode_from(asked: Option<&str>, no_color: bool, terminal: bool) -> Mode {
    match asked {
        Some("always") | Some("1") => Mode::Lines,
        Some("never") | Some("0") => Mode::Hidden,
        _ if no_color || !terminal => Mode::Hidden,
        _ => Mode::Bar,
    }
}

/// The progress of one store's upgrade; [`Progress::finish`] ends it.
pub struct Progress {
    mode: Mode,
    path: String,
    started: Instant,
    bar: ProgressBar,
    /// Tells the thread that shows the bar after [`SHOW_AFTER`] that it is over.
    done: Option<mpsc::Sender<()>>,
    shower: Option<std::thread::JoinHandle<()>>,
    /// Plain lines: the last tenth of a count said.
    said_tenth: Option<u64>,
}

impl Progress {
    /// Starts reporting the upgrade of the store at `path`.
    pub fn start(path: &str) -> Progress {
        Progress::with_mode(path, mode())
    }

    fn with_mode(path: &str, mode: Mode) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let mut p = Progress {
            mode,
            path: crate::sanitize::line(path).into_owned(),
            started: Instant::now(),
            bar,
            done: None,
            shower: None,
            said_tenth: None,
        };
        if mode == Mode::Bar {
            let (tx, rx) = mpsc::channel::<()>();
            let bar = p.bar.clone();
            p.done = Some(tx);
            p.shower = std::thread::Builder::new()
                .name("skilltrace-upgrade-progress".into())
                .spawn(move || {
                    if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(SHOW_AFTER) {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        bar.enable_steady_tick(Duration::from_millis(120));
                    }
                })
                .ok();
        }
        p
    }

    /// A new step of the upgrade (`what`: a few words).
    pub fn step(&mut self, what: &str) {
        let msg = format!("skilltrace: upgrading {}: {what}", self.path);
        self.said_tenth = None;
        match self.mode {
            Mode::Hidden => {}
            Mode::Bar => self.bar.set_message(msg),
            Mode::Lines => eprintln!("{msg}"),
        }
    }

    /// How far a counted step (`what`) is: `done` of `total`.
    pub fn count(&mut self, what: &str, done: u64, total: u64) {
        let pct = (done.saturating_mul(100)).checked_div(total).unwrap_or(100);
        let msg = format!(
            "skilltrace: upgrading {}: {what} {} of {} ({pct}%)",
            self.path,
            thousands(done),
            thousands(total)
        );
        match self.mode {
            Mode::Hidden => {}
            Mode::Bar => self.bar.set_message(msg),
            Mode::Lines => {
                let tenth = pct.min(100) / 10;
                if self.said_tenth != Some(tenth) {
                    self.said_tenth = Some(tenth);
                    eprintln!("{msg}");
                }
            }
        }
    }

    /// Ends the report: the progress line is cleared (plain lines say the time taken).
    pub fn finish(mut self) {
        self.stop();
        if self.mode == Mode::Lines {
            eprintln!(
                "skilltrace: upgraded {} in {:.1} s",
                self.path,
                self.started.elapsed().as_secs_f64()
            );
        }
    }

    fn stop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.shower.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    /// An upgrade cut short by an error still clears its line.
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_chooses_how_progress_is_shown() {
        assert_eq!(mode_from(None, false, true), Mode::Bar);
        assert_eq!(mode_from(None, false, false), Mode::Hidden);
        assert_eq!(mode_from(None, true, true), Mode::Hidden);
        assert_eq!(mode_from(Some(""), false, true), Mode::Bar);
        assert_eq!(mode_from(Some("always"), true, false), Mode::Lines);
        assert_eq!(mode_from(Some("1"), false, false), Mode::Lines);
        assert_eq!(mode_from(Some("never"), false, true), Mode::Hidden);
        assert_eq!(mode_from(Some("0"), false, true), Mode::Hidden);
    }

    #[test]
    fn counts_are_said_by_tenths() {
        let mut p = Progress::with_mode("s.db", Mode::Hidden);
        p.count("x", 5, 100);
        assert_eq!(p.said_tenth, None);
        let mut p = Progress::with_mode("s.db", Mode::Lines);
        p.count("x", 5, 100);
        assert_eq!(p.said_tenth, Some(0));
        p.count("x", 100, 100);
        assert_eq!(p.said_tenth, Some(10));
        p.count("x", 0, 0);
        assert_eq!(p.said_tenth, Some(10));
        p.finish();
    }

    #[test]
    fn a_bar_that_ends_early_never_shows_and_its_thread_ends() {
        let t = Instant::now();
        let mut p = Progress::with_mode("s.db", Mode::Bar);
        p.step("schema");
        p.finish();
        assert!(t.elapsed() < SHOW_AFTER, "{:?}", t.elapsed());
    }
}
