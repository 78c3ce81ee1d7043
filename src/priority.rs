//! Background threads (the proxy's recorder and store writer) run at a lower
//! CPU priority than the threads that serve requests, so on a small machine a
//! commit never delays a forwarded byte; on an idle machine nothing changes.
//!
//! On Linux they run under `SCHED_IDLE`: a thread that serves a request and
//! wakes while one of them holds the core takes the core at once. A niced
//! thread (the fallback, and what other systems get) is also preempted, but
//! only once its time slice is used up: under the EEVDF scheduler that is
//! 1.5–3 ms on a 2-core machine, which was most of the proxy's added p99. An
//! idle-policy thread still runs whenever no other thread of its scheduling
//! group wants the core (with autogroup, the group is the terminal session),
//! so it falls behind only while the machine is saturated, and catches up
//! after: exchanges wait in the recorder's queue (bounded in bytes, spilled to
//! the spool past its high-water mark), they are not dropped.

/// How a background thread was lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lowered {
    /// `SCHED_IDLE` (Linux).
    Idle,
    /// A higher nice value (≈ 11).
    Niced,
    /// The platform refused both; the thread is as it was.
    Unchanged,
}

/// Lowers the calling thread's priority: `SCHED_IDLE` on Linux, else a
/// higher nice value. Best effort: a platform that refuses leaves the thread
/// as it was.
pub fn background() -> Lowered {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, thread_schedule_policy,
            NormalThreadSchedulePolicy, ThreadSchedulePolicy,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        // The policy is set first; the nice value that follows (0, unused by
        // SCHED_IDLE) may be refused to a process started niced: that is fine.
        let _ = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle);
        if thread_schedule_policy().is_ok_and(|p| p == idle) {
            return Lowered::Idle;
        }
    }
    match ThreadPriorityValue::try_from(20u8) {
        Ok(v) if set_current_thread_priority(ThreadPriority::Crossplatform(v)).is_ok() => {
            Lowered::Niced
        }
        _ => Lowered::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::Lowered;

    /// The calling thread's (nice, policy), from procfs (Linux).
    fn sched() -> Option<(i64, i64)> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        Some((fields.get(16)?.parse().ok()?, fields.get(38)?.parse().ok()?))
    }

    #[test]
    fn background_threads_are_lowered_and_others_are_not() {
        let before = sched();
        let (how, inside) = std::thread::spawn(|| (super::background(), sched()))
            .join()
            .expect("thread");
        if cfg!(target_os = "linux") {
            assert_eq!(how, Lowered::Idle);
            // SCHED_IDLE is policy 5.
            assert_eq!(inside.map(|s| s.1), Some(5), "{inside:?}");
        } else if let (Some(b), Some(i), Lowered::Niced) = (before, inside, how) {
            assert!(i.0 > b.0, "nice {b:?} -> {i:?}");
        }
        assert_eq!(sched(), before, "only the calling thread changes");
    }
}
