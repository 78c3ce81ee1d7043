//! The forwarding thread's poll window: after traffic, the thread keeps
//! polling for I/O a short, adaptive while before it parks, so the next
//! request or the upstream's answer finds it running instead of waking it.
//!
//! This is the kernel's guest halt-polling done by the proxy for its own
//! thread. On a VM whose idle vCPUs halt at once (`haltpoll.guest_halt_poll_ns=0`),
//! a wake-up of a thread whose core went idle is a trip through the host; at
//! ~500 req/s the cores idle between requests, and each forwarded request
//! takes two such wake-ups more than a direct one (its arrival and the
//! upstream's answer head).
//!
//! How it works, on tokio's current-thread runtime ([`super::forwarding_runtime`]):
//! a task ([`run`]) yields to the runtime in a loop while the window is open;
//! a yielded task makes the runtime check for I/O without blocking
//! (`epoll_wait` with a zero timeout) and run whatever became ready before
//! polling the task again. The window is open while an exchange waits for its
//! upstream's answer head (up to `max` since the last traffic) and for
//! `window` after the last traffic; `window` adapts like haltpoll's: it
//! doubles (from [`GROW_START`], up to `max`) when the thread parked and was
//! woken soon enough that a longer window would have caught it, and halves (to
//! 0 below [`GROW_START`]) when the idle gap was longer than `max`. Polling is
//! for an idle core: when the thread was preempted during a window (its
//! run-queue wait in `/proc/thread-self/schedstat` grew), another thread wanted
//! the core, and polling rests for 20 ms. An idle proxy parks: no traffic, no
//! polling, no CPU.
//! `[proxy] poll_us` sets `max` (0 turns polling off).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The default longest poll window: off. On the machine it was built for,
/// quiet, polling (200 us, the kernel's guest halt-poll default) did not lower
/// the added p99, and with every core kept busy (no vCPU halts at all) the
/// tail was no better either, so halted vCPUs are not the tail's cause there
/// (BENCHMARKS.md, "Session 11"). `[proxy] poll_us` turns it on.
pub const DEFAULT_MAX: Duration = Duration::ZERO;
/// The longest `[proxy] poll_us` accepted: past this, polling is a busy loop.
pub const MAX_POLL_US: u64 = 10_000;
/// The first window after a miss, as haltpoll's `guest_halt_poll_grow_start`.
pub const GROW_START: Duration = Duration::from_micros(50);
/// After a window in which the thread was preempted (the core was wanted by
/// another thread, so it was not idle), no polling for this long.
const REST_NS: u64 = 20_000_000;

/// The window's state, shared by the runtime's park hooks, the polling task
/// and the request handlers (all on the forwarding thread).
#[derive(Debug)]
pub struct PollWindow {
    max_ns: u64,
    base: Instant,
    /// The adaptive idle window, ns.
    window_ns: AtomicU64,
    /// The last traffic, ns since `base`.
    last_ns: AtomicU64,
    /// When the thread parked, ns since `base` (0: not parked).
    parked_ns: AtomicU64,
    /// Exchanges waiting for their upstream's answer head.
    waiting: AtomicU64,
    wake: Notify,
    /// Time spent in poll windows, ns (what the polling costs at most).
    polled_ns: AtomicU64,
    windows: AtomicU64,
    /// Windows in which another thread wanted the core (polling then rests).
    contended: AtomicU64,
}

impl PollWindow {
    /// A window of at most `max` (zero: never polls).
    pub fn new(max: Duration) -> Arc<PollWindow> {
        let max_ns = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Arc::new(PollWindow {
            max_ns,
            base: Instant::now(),
            window_ns: AtomicU64::new(max_ns.min(nanos(GROW_START))),
            last_ns: AtomicU64::new(0),
            parked_ns: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            wake: Notify::new(),
            polled_ns: AtomicU64::new(0),
            windows: AtomicU64::new(0),
            contended: AtomicU64::new(0),
        })
    }

    fn now_ns(&self) -> u64 {
        // Never 0, which means "not parked".
        nanos(self.base.elapsed()).max(1)
    }

    /// Traffic: (re)opens the window from now.
    pub fn touch(&self) {
        if self.max_ns == 0 {
            return;
        }
        self.last_ns.store(self.now_ns(), Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// The runtime is about to block (its `on_thread_park` hook).
    pub fn parking(&self) {
        self.parked_ns.store(self.now_ns(), Ordering::Relaxed);
    }

    /// The runtime was woken from blocking (its `on_thread_unpark` hook):
    /// adapts the window to how long it blocked, and opens it.
    pub fn unparked(&self) {
        let parked = self.parked_ns.swap(0, Ordering::Relaxed);
        if parked == 0 || self.max_ns == 0 {
            return;
        }
        let blocked = self.now_ns().saturating_sub(parked);
        let w = self.window_ns.load(Ordering::Relaxed);
        self.window_ns
            .store(adjust(w, blocked, self.max_ns), Ordering::Relaxed);
        self.touch();
    }

    /// Marks an exchange waiting for its upstream's answer head until the
    /// guard drops: the window stays open (up to `max`) meanwhile.
    pub fn waiting(self: &Arc<Self>) -> Waiting {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        self.touch();
        Waiting(self.clone())
    }

    /// Whether the window is open at `now` (ns since `base`).
    fn open_at(&self, now: u64) -> bool {
        let since = now.saturating_sub(self.last_ns.load(Ordering::Relaxed));
        let window = if self.waiting.load(Ordering::Relaxed) > 0 {
            self.max_ns
        } else {
            self.window_ns.load(Ordering::Relaxed)
        };
        since < window
    }

    /// The current adaptive window.
    pub fn window(&self) -> Duration {
        Duration::from_nanos(self.window_ns.load(Ordering::Relaxed))
    }

    /// Time spent polling so far, and the number of windows.
    pub fn polled(&self) -> (Duration, u64) {
        (
            Duration::from_nanos(self.polled_ns.load(Ordering::Relaxed)),
            self.windows.load(Ordering::Relaxed),
        )
    }

    /// Windows in which another thread wanted the core (polling then rests).
    pub fn contended(&self) -> u64 {
        self.contended.load(Ordering::Relaxed)
    }

    /// For `/health`: the longest and the current window (µs), the time spent
    /// polling (µs), the windows opened and those closed for another thread.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "max_us": self.max_ns / 1_000,
            "window_us": self.window_ns.load(Ordering::Relaxed) / 1_000,
            "polled_us": self.polled_ns.load(Ordering::Relaxed) / 1_000,
            "windows": self.windows.load(Ordering::Relaxed),
            "contended": self.contended(),
        })
    }
}

/// An exchange waiting for its answer head (see [`PollWindow::waiting`]).
#[derive(Debug)]
pub struct Waiting(Arc<PollWindow>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The next window after the thread blocked `blocked` ns past a window of
/// `window` ns: haltpoll's rule. Grown when a window up to `max` would have
/// caught the wake-up, shrunk when the gap was longer than `max`.
pub fn adjust(window: u64, blocked: u64, max: u64) -> u64 {
    let start = nanos(GROW_START).min(max);
    if window.saturating_add(blocked) <= max {
        window.saturating_mul(2).max(start).min(max)
    } else {
        let half = window / 2;
        if half < start {
            0
        } else {
            half
        }
    }
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Arc<PollWindow>>> = const { std::cell::RefCell::new(None) };
}

/// Makes `w` this thread's window (the thread that drives the forwarding runtime).
pub fn install(w: &Arc<PollWindow>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(w.clone()));
}

/// The window of the runtime this thread drives, if polling is on.
pub fn current() -> Option<Arc<PollWindow>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Traffic on this thread's runtime (no-op without a window).
pub fn touch() {
    CURRENT.with(|c| {
        if let Some(w) = c.borrow().as_ref() {
            w.touch();
        }
    });
}

/// The polling task: spawned once on the forwarding runtime; while the
/// window is open it yields to the runtime (which then polls for I/O without
/// blocking), else it waits for traffic.
pub async fn run(w: Arc<PollWindow>) {
    install(&w);
    if w.max_ns == 0 {
        return;
    }
    let mut waited = RunDelay::open();
    let mut rest_until = 0;
    loop {
        w.wake.notified().await;
        let start = w.now_ns();
        if start < rest_until || !w.open_at(start) {
            continue;
        }
        w.windows.fetch_add(1, Ordering::Relaxed);
        let before = waited.read();
        let mut now = start;
        while w.open_at(now) {
            tokio::task::yield_now().await;
            now = w.now_ns();
        }
        w.polled_ns.fetch_add(now - start, Ordering::Relaxed);
        if waited.read() > before {
            // Preempted while polling: another thread wanted this core, so it
            // was not idle. Poll no more for a while.
            w.contended.fetch_add(1, Ordering::Relaxed);
            rest_until = now + REST_NS;
        }
    }
}

/// The forwarding thread's time spent runnable but waiting for a core
/// (`/proc/thread-self/schedstat`, second field, ns), kept open; 0 where
/// there is no such file.
struct RunDelay(Option<std::fs::File>);

impl RunDelay {
    fn open() -> RunDelay {
        RunDelay(std::fs::File::open("/proc/thread-self/schedstat").ok())
    }

    fn read(&mut self) -> u64 {
        let Some(f) = self.0.as_ref() else {
            return 0;
        };
        let mut buf = [0u8; 96];
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(f, &mut buf, 0).unwrap_or(0);
        #[cfg(not(unix))]
        let n = 0;
        parse_run_delay(&buf[..n])
    }
}

/// The second field of a `schedstat` line.
fn parse_run_delay(line: &[u8]) -> u64 {
    std::str::from_utf8(line)
        .ok()
        .and_then(|l| l.split_ascii_whitespace().nth(1))
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: u64 = 1_000;

    #[test]
    fn grows_when_a_longer_window_would_have_caught_the_wake_up() {
        assert_eq!(adjust(0, 30 * US, 200 * US), 50 * US);
        assert_eq!(adjust(50 * US, 60 * US, 200 * US), 100 * US);
        assert_eq!(adjust(100 * US, 90 * US, 200 * US), 200 * US);
        assert_eq!(adjust(200 * US, 0, 200 * US), 200 * US, "capped at max");
    }

    #[test]
    fn shrinks_to_zero_when_gaps_are_longer_than_max() {
        assert_eq!(adjust(200 * US, 5_000 * US, 200 * US), 100 * US);
        assert_eq!(adjust(100 * US, 5_000 * US, 200 * US), 50 * US);
        assert_eq!(adjust(50 * US, 5_000 * US, 200 * US), 0);
        assert_eq!(adjust(0, 5_000 * US, 200 * US), 0);
    }

    #[test]
    fn a_max_below_grow_start_is_the_window() {
        assert_eq!(adjust(0, 1, 20 * US), 20 * US);
    }

    #[test]
    fn open_while_waiting_for_an_answer_then_only_for_the_window() {
        let w = PollWindow::new(Duration::from_millis(200));
        w.window_ns.store(0, Ordering::Relaxed);
        w.touch();
        let t = w.last_ns.load(Ordering::Relaxed);
        assert!(!w.open_at(t), "window 0, nothing waiting: closed");
        let g = w.waiting();
        let t = w.last_ns.load(Ordering::Relaxed);
        assert!(w.open_at(t + 1));
        assert!(!w.open_at(t + 200_000_000), "open at most max");
        drop(g);
        assert!(!w.open_at(w.last_ns.load(Ordering::Relaxed) + 1));
    }

    #[test]
    fn run_delay_is_the_second_schedstat_field() {
        assert_eq!(parse_run_delay(b"1869206 43513 12\n"), 43513);
        assert_eq!(parse_run_delay(b""), 0);
        let mut d = RunDelay::open();
        let _ = d.read();
    }

    #[test]
    fn health_shows_the_window() {
        let w = PollWindow::new(Duration::from_micros(200));
        let v = w.to_json();
        assert_eq!(v["max_us"], 200);
        assert_eq!(v["window_us"], 50);
        assert_eq!(v["windows"], 0);
    }

    #[test]
    fn off_never_opens() {
        let w = PollWindow::new(Duration::ZERO);
        w.touch();
        let _g = w.waiting();
        assert!(!w.open_at(w.now_ns()));
        assert_eq!(w.window(), Duration::ZERO);
    }

    #[test]
    fn unparked_adapts_and_opens() {
        let w = PollWindow::new(Duration::from_secs(5));
        assert_eq!(w.window(), GROW_START);
        w.parking();
        w.unparked();
        assert_eq!(w.window(), GROW_START * 2, "a short park grows it");
        assert!(w.open_at(w.last_ns.load(Ordering::Relaxed) + 1));
        w.unparked();
        assert_eq!(w.window(), GROW_START * 2, "no park recorded: unchanged");
    }

    #[test]
    fn the_task_polls_while_open_then_parks_without_cpu() {
        let rt = crate::proxy::forwarding_runtime(Duration::from_millis(20)).unwrap();
        rt.block_on(async {
            let w = current().expect("the runtime set its window");
            let g = w.waiting();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (polled, windows) = w.polled();
            assert!(windows >= 1, "a window opened");
            // Open up to max while an answer is awaited (unless another thread
            // wanted the core: then it rests), then parked.
            assert!(
                polled < Duration::from_millis(60)
                    && (polled >= Duration::from_millis(10) || w.contended() > 0),
                "polled {polled:?}, {} windows closed for another thread",
                w.contended()
            );
            drop(g);
            let before = w.polled().0;
            tokio::time::sleep(Duration::from_millis(300)).await;
            // Idle: at most one window after each wake-up, not 300 ms of polling.
            let idle = w.polled().0 - before;
            assert!(
                idle < Duration::from_millis(50),
                "polled {idle:?} while idle"
            );
        });
    }
}
