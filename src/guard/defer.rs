//! When `guard serve`'s writer records: not while decisions are arriving,
//! within bounds. On a small machine the writer's store work competes for the
//! cores with the threads that answer; an agent's decisions come in bursts (a
//! call, then the tool's own work), so the writer keeps what it was handed in
//! memory while a decision is being judged or one ended within the last
//! [`Defer::gap`], and writes it in the gap after. A lone decision finds the
//! server quiet and is written as before. The bounds keep sustained load
//! moving and memory fixed: a batch whose oldest record has waited
//! [`Defer::max_age`], or that holds [`Defer::max_records`] (the size the
//! writer's queue always had), is written at once, busy or not. (The proxy's
//! recorder defers the same way over its own counters.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the answering side tells the writer: decisions in flight and when the
/// last one started or ended.
#[derive(Debug)]
pub struct Activity {
    epoch: Instant,
    in_flight: AtomicU64,
    /// Microseconds since `epoch` of the last start or end.
    last_us: AtomicU64,
}

impl Default for Activity {
    fn default() -> Activity {
        Activity {
            epoch: Instant::now(),
            in_flight: AtomicU64::new(0),
            last_us: AtomicU64::new(0),
        }
    }
}

impl Activity {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// A decision starts; it counts as busy until the guard is dropped.
    pub fn start(&self) -> Busy<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.last_us.fetch_max(self.now_us(), Ordering::Relaxed);
        Busy(self)
    }

    /// True when nothing is in flight and nothing started or ended for `gap`.
    pub fn quiet(&self, gap: Duration) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && self
                .now_us()
                .saturating_sub(self.last_us.load(Ordering::Relaxed))
                >= gap.as_micros() as u64
    }
}

/// One decision in flight (see [`Activity::start`]).
pub struct Busy<'a>(&'a Activity);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let a = self.0;
        a.last_us.fetch_max(a.now_us(), Ordering::Relaxed);
        a.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How long and how much the writer defers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defer {
    /// Busy while a decision is in flight or one started or ended this recently.
    pub gap: Duration,
    /// How often a deferring writer looks again (and takes what was queued).
    pub poll: Duration,
    /// A batch whose oldest record has waited this long is written, busy or not.
    pub max_age: Duration,
    /// A batch of this many records is written, busy or not.
    pub max_records: usize,
}

impl Default for Defer {
    fn default() -> Defer {
        Defer {
            gap: Duration::from_millis(5),
            poll: Duration::from_millis(5),
            max_age: Duration::from_secs(2),
            max_records: 4096,
        }
    }
}

/// Why a batch was let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    /// The server was quiet.
    Quiet,
    /// A bound was reached while it was busy.
    Forced,
    /// The sending side is gone: write what is held and stop.
    Closed,
}

impl Defer {
    /// Holds `batch` (its first record arrived at `oldest`) while `activity`
    /// is busy and the bounds allow, taking what `more` yields at every look
    /// (it returns `None` once the senders are gone).
    pub fn hold<T>(
        &self,
        activity: &Activity,
        oldest: Instant,
        batch: &mut Vec<T>,
        mut more: impl FnMut(&mut Vec<T>) -> Option<()>,
    ) -> Go {
        loop {
            if more(batch).is_none() {
                return Go::Closed;
            }
            if activity.quiet(self.gap) {
                return Go::Quiet;
            }
            if batch.len() >= self.max_records || oldest.elapsed() >= self.max_age {
                return Go::Forced;
            }
            std::thread::sleep(self.poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> Defer {
        Defer {
            gap: Duration::from_millis(5),
            poll: Duration::from_millis(1),
            max_age: Duration::from_secs(60),
            max_records: 1000,
        }
    }

    #[test]
    fn a_quiet_server_writes_at_once() {
        let a = Activity::default();
        std::thread::sleep(Duration::from_millis(10));
        let t = Instant::now();
        let mut batch = vec![1];
        let go = quick().hold(&a, Instant::now(), &mut batch, |_| Some(()));
        assert_eq!(go, Go::Quiet);
        assert!(t.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn a_decision_just_ended_counts_as_busy_for_the_gap() {
        let a = Activity::default();
        drop(a.start());
        assert!(!a.quiet(Duration::from_secs(3600)));
        std::thread::sleep(Duration::from_millis(10));
        assert!(a.quiet(Duration::from_millis(5)));
    }

    #[test]
    fn a_busy_server_is_waited_for_and_what_arrives_meanwhile_joins_the_batch() {
        let a = std::sync::Arc::new(Activity::default());
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let (a2, tx2) = (a.clone(), tx.clone());
        let busy = std::thread::spawn(move || {
            let b = a2.start();
            for i in 1..=5 {
                std::thread::sleep(Duration::from_millis(20));
                tx2.send(i).unwrap();
            }
            drop(b);
        });
        // Wait until the decision is in flight.
        while a.quiet(Duration::ZERO) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let oldest = Instant::now();
        let mut batch = vec![0];
        let go = quick().hold(&a, oldest, &mut batch, |b| {
            b.extend(rx.try_iter());
            Some(())
        });
        busy.join().unwrap();
        assert_eq!(go, Go::Quiet);
        assert!(oldest.elapsed() >= Duration::from_millis(100), "it waited");
        batch.extend(rx.try_iter());
        assert_eq!(batch, vec![0, 1, 2, 3, 4, 5], "nothing lost, in order");
    }

    #[test]
    fn sustained_load_is_written_once_the_batch_is_old_or_full() {
        let a = Activity::default();
        let _busy = a.start();
        let d = Defer {
            max_age: Duration::from_millis(50),
            ..quick()
        };
        let oldest = Instant::now();
        assert_eq!(d.hold(&a, oldest, &mut vec![1], |_| Some(())), Go::Forced);
        assert!(oldest.elapsed() >= Duration::from_millis(50));
        let t = Instant::now();
        let mut full = vec![0; 1000];
        assert_eq!(quick().hold(&a, t, &mut full, |_| Some(())), Go::Forced);
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "did not wait for age"
        );
    }

    #[test]
    fn closed_senders_end_the_wait() {
        let a = Activity::default();
        let _busy = a.start();
        let go = quick().hold(&a, Instant::now(), &mut vec![1], |_| None);
        assert_eq!(go, Go::Closed);
    }
}
