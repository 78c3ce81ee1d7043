//! Warnings that must reach the user at once, wherever they look: printed on
//! stderr as one `warning: …` line, or, while the TUI owns the terminal, held
//! for its status line. Repeats of one kind are throttled (the first at once,
//! then at most one line per [`QUIET`] saying how many were folded into it), so
//! a burst of drops is named without flooding the screen.
//!
//! Messages name files, counts and reasons, never trace content.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Shortest gap between two lines of the same kind.
pub const QUIET: Duration = Duration::from_secs(2);
/// Messages kept for [`recent`].
const KEPT: usize = 32;

#[derive(Default)]
struct State {
    /// True while the TUI draws: hold messages instead of printing them.
    held: bool,
    /// Messages held since then, printed when the TUI lets go.
    unsaid: Vec<String>,
    /// Per kind: when a line was last shown and how many were folded since.
    last: HashMap<&'static str, (Instant, u64)>,
    recent: VecDeque<String>,
}

fn state() -> &'static Mutex<State> {
    static S: OnceLock<Mutex<State>> = OnceLock::new();
    S.get_or_init(Mutex::default)
}

/// Says `msg` now (kind `kind` throttles repeats). Returns whether a line was shown.
pub fn warn(kind: &'static str, msg: impl AsRef<str>) -> bool {
    let Ok(mut s) = state().lock() else {
        return false;
    };
    let now = Instant::now();
    let folded = match s.last.get_mut(kind) {
        Some((at, n)) if now.duration_since(*at) < QUIET => {
            *n += 1;
            return false;
        }
        Some((at, n)) => {
            *at = now;
            std::mem::take(n)
        }
        None => {
            s.last.insert(kind, (now, 0));
            0
        }
    };
    let mut line = safe_line(msg.as_ref());
    if folded > 0 {
        line.push_str(&format!(" ({folded} more like it in the last seconds)"));
    }
    if s.held {
        s.unsaid.push(line.clone());
    } else {
        eprintln!("warning: {line}");
    }
    if s.recent.len() == KEPT {
        s.recent.pop_front();
    }
    s.recent.push_back(line);
    true
}

/// `msg` as one line skilltrace may print about itself (an `error:` or
/// `warning:` line): a path, id or value in it was chosen by the user or by
/// an agent (a file named after a token), so it is redacted with the built-in
/// rules first, then sanitised for the terminal.
pub fn safe_line(msg: &str) -> String {
    let redacted = crate::redact::Redactor::default().redact_text(msg);
    crate::sanitize::line(redacted.get()).into_owned()
}

/// A path as [`safe_line`] shows it: for the paths commands print in their
/// own lines (banners, "wrote … to"), which a user or an agent may have named
/// after a token or filled with terminal escapes.
pub fn safe_path(p: &std::path::Path) -> String {
    safe_line(&p.display().to_string())
}

/// While `on`, messages are kept for the TUI instead of printed (it owns the
/// terminal); turning it off prints what was held, so nothing goes unsaid.
pub fn hold(on: bool) {
    let unsaid = match state().lock() {
        Ok(mut s) => {
            s.held = on;
            if on {
                Vec::new()
            } else {
                std::mem::take(&mut s.unsaid)
            }
        }
        Err(_) => Vec::new(),
    };
    for line in unsaid {
        eprintln!("warning: {line}");
    }
}

/// The latest message, if any (for a status line).
pub fn latest() -> Option<String> {
    state().lock().ok().and_then(|s| s.recent.back().cloned())
}

/// The last messages, oldest first.
pub fn recent() -> Vec<String> {
    state()
        .lock()
        .map(|s| s.recent.iter().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_folded_and_counted() {
        assert!(warn("notice-test", "first"));
        assert!(!warn("notice-test", "second"));
        assert!(!warn("notice-test", "third"));
        assert_eq!(latest().as_deref().map(|l| l.contains("first")), Some(true));
        // Another kind is not held back by the first.
        assert!(warn("notice-test-other", "other \u{1b}[31m"));
        let r = recent();
        let last = r.last().expect("kept");
        assert!(last.contains("other") && !last.contains('\u{1b}'), "{last}");
        if let Ok(mut s) = state().lock() {
            // As if the quiet time had passed: the next line says what was folded.
            if let Some((at, _)) = s.last.get_mut("notice-test") {
                *at = at.checked_sub(QUIET).unwrap_or(*at);
            }
        }
        assert!(warn("notice-test", "fourth"));
        let r = recent();
        assert!(
            r.iter()
                .any(|l| l.contains("fourth") && l.contains("2 more")),
            "{r:?}"
        );
    }
}
