//! Background threads (the proxy's recorder and store writer, a bulk
//! `import`'s threads) run at a lower
//! CPU priority than the threads that serve requests, so on a small machine a
//! commit never delays a forwarded byte; on an idle machine nothing changes.
//!
//! A lower priority alone does not bound how long a waking request waits: the
//! scheduler (EEVDF) lets a thread it picked run on for up to a time slice
//! (0.75–3 ms) before a waking thread of any priority may take its core. So
//! a thread marked [`yielding`] also gives its core away at [`yield_point`]s
//! once it has run [`SLICE`] since it last did: a forwarding thread that woke
//! meanwhile waits for at most about that long; with no one waiting the yield
//! returns at once and the thread runs on.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How long a yielding thread runs between yields at most (the shortest time
/// slice Linux gives a thread that asks for one).
pub const SLICE: Duration = Duration::from_micros(100);

thread_local! {
    /// Set on a thread marked [`yielding`]: when it last gave its core away.
    static LAST_YIELD: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Lowers the calling thread's priority (Linux: nice ≈ 11). Best effort: a
/// platform that refuses leaves the thread as it was.
pub fn background() {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    if let Ok(v) = ThreadPriorityValue::try_from(20u8) {
        let _ = set_current_thread_priority(ThreadPriority::Crossplatform(v));
    }
}

/// Marks the calling thread as one that gives its core away at every
/// [`yield_point`] it reaches [`SLICE`] after the last (threads not marked never do).
pub fn yielding() {
    LAST_YIELD.with(|c| c.set(Some(Instant::now())));
}

/// When the calling thread last gave its core away (or was marked
/// [`yielding`]); `None` on a thread not marked.
pub fn last_yield() -> Option<Instant> {
    LAST_YIELD.with(Cell::get)
}

/// On a thread marked [`yielding`] that has run [`SLICE`] since it last gave
/// its core away: lets any thread waiting for the core run first (the
/// `sched_yield` system call). Elsewhere, nothing. True when it yielded.
pub fn yield_point() -> bool {
    LAST_YIELD.with(|c| {
        let Some(last) = c.get() else {
            return false;
        };
        let now = Instant::now();
        if now.duration_since(last) < SLICE {
            return false;
        }
        std::thread::yield_now();
        c.set(Some(Instant::now()));
        true
    })
}

#[cfg(test)]
mod tests {
    /// The calling thread's nice value, from procfs (Linux).
    fn nice() -> Option<i64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(16)?
            .parse()
            .ok()
    }

    #[test]
    fn background_threads_are_niced_and_others_are_not() {
        let before = nice();
        let inside = std::thread::spawn(|| {
            super::background();
            nice()
        })
        .join()
        .expect("thread");
        if let (Some(b), Some(i)) = (before, inside) {
            assert!(i > b, "nice {b} -> {i}");
        }
        assert_eq!(nice(), before, "only the calling thread changes");
    }

    #[test]
    fn only_yielding_threads_yield_and_only_after_a_slice() {
        assert!(!super::yield_point(), "an unmarked thread never yields");
        let (late, moved) = std::thread::spawn(|| {
            super::yielding();
            let marked = super::last_yield();
            std::thread::sleep(super::SLICE * 2);
            let late = super::yield_point();
            let after = super::last_yield();
            (late, after > marked)
        })
        .join()
        .expect("thread");
        assert!(late, "a slice after being marked it yields");
        assert!(moved, "and counts the next slice from then");
        assert!(!super::yield_point(), "the marking stays on its thread");
    }
}
