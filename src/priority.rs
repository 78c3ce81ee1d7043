//! Background threads (the proxy's recorder and store writer) run at a lower
//! CPU priority than the threads that serve requests, so on a small machine a
//! commit never delays a forwarded byte; on an idle machine nothing changes.

/// Lowers the calling thread's priority (Linux: nice ≈ 11). Best effort: a
/// platform that refuses leaves the thread as it was.
pub fn background() {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    if let Ok(v) = ThreadPriorityValue::try_from(20u8) {
        let _ = set_current_thread_priority(ThreadPriority::Crossplatform(v));
    }
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
}
