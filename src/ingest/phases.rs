//! Marks of an import's shape, for finding where a core has no import work:
//! with the environment variable [`ENV`] set (to anything but `0` or empty),
//! each thread of an import notes when it starts and stops useful work, with
//! the CPU time that thread had spent so far, and `import` prints every mark
//! on stderr when it ends. Off by default: then nothing is noted.
//!
//! A mark's CPU time is the thread's own (`/proc/thread-self/schedstat`, in
//! nanoseconds, where there is one), so the CPU of a stretch between two marks
//! of one thread does not grow with the machine's load as its wall time does.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The environment variable that turns the marks on.
pub const ENV: &str = "SKILLTRACE_IMPORT_PHASES";

/// One mark: when, on which thread, what, and that thread's CPU so far.
#[derive(Debug, Clone)]
pub struct Mark {
    pub at: Duration,
    pub thread: String,
    pub what: &'static str,
    pub cpu: Option<Duration>,
}

struct Marks {
    start: Instant,
    marks: Mutex<Vec<Mark>>,
    /// Time spent waiting, by what waited: total and how many waits.
    waits: Mutex<Vec<(&'static str, Duration, u64)>>,
}

fn marks() -> Option<&'static Marks> {
    static ON: OnceLock<Option<Marks>> = OnceLock::new();
    ON.get_or_init(|| {
        let on = std::env::var(ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        on.then(|| Marks {
            start: Instant::now(),
            marks: Mutex::new(Vec::new()),
            waits: Mutex::new(Vec::new()),
        })
    })
    .as_ref()
}

/// True when marks are noted.
pub fn on() -> bool {
    marks().is_some()
}

/// Notes `what` on the calling thread (nothing when the marks are off).
pub fn mark(what: &'static str) {
    let Some(m) = marks() else { return };
    let mark = Mark {
        at: m.start.elapsed(),
        thread: std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string(),
        what,
        cpu: thread_cpu(),
    };
    m.marks.lock().unwrap_or_else(|p| p.into_inner()).push(mark);
}

/// Adds `d` to the time `what` spent waiting (nothing when the marks are off).
pub fn waited(what: &'static str, d: Duration) {
    let Some(m) = marks() else { return };
    let mut w = m.waits.lock().unwrap_or_else(|p| p.into_inner());
    match w.iter_mut().find(|(k, _, _)| *k == what) {
        Some((_, total, n)) => {
            *total += d;
            *n += 1;
        }
        None => w.push((what, d, 1)),
    }
}

/// Every mark so far, in time order.
pub fn taken() -> Vec<Mark> {
    let Some(m) = marks() else { return Vec::new() };
    let mut v = m.marks.lock().unwrap_or_else(|p| p.into_inner()).clone();
    v.sort_by_key(|k| k.at);
    v
}

/// The marks as lines: wall ms since the first, thread, what, thread CPU ms.
pub fn lines(marks: &[Mark]) -> Vec<String> {
    marks
        .iter()
        .map(|k| {
            let cpu = k
                .cpu
                .map(|c| format!("{:.1}", c.as_secs_f64() * 1e3))
                .unwrap_or_else(|| "-".into());
            format!(
                "phase {:>9.1} ms  {:<22} {:<28} cpu {} ms",
                k.at.as_secs_f64() * 1e3,
                k.thread,
                k.what,
                cpu
            )
        })
        .collect()
}

/// Prints every mark and every wait's total on stderr (nothing when the
/// marks are off).
pub fn report() {
    let Some(m) = marks() else { return };
    for l in lines(&taken()) {
        eprintln!("{l}");
    }
    for (what, total, n) in m.waits.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        eprintln!(
            "wait  {what:<40} {:>9.1} ms in {n} waits",
            total.as_secs_f64() * 1e3
        );
    }
}

/// The calling thread's CPU time so far, where the system says it.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_thread_the_step_and_its_cpu() {
        let m = Mark {
            at: Duration::from_micros(12_345),
            thread: "skilltrace-store".into(),
            what: "last batch committed",
            cpu: Some(Duration::from_micros(2_500)),
        };
        let l = &lines(std::slice::from_ref(&m))[0];
        assert!(l.contains("12.3 ms"), "{l}");
        assert!(l.contains("skilltrace-store"), "{l}");
        assert!(l.contains("last batch committed"), "{l}");
        assert!(l.ends_with("cpu 2.5 ms"), "{l}");
        let none = Mark { cpu: None, ..m };
        assert!(lines(&[none])[0].ends_with("cpu - ms"));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_thread_cpu_grows_with_work() {
        let a = thread_cpu().expect("Linux says a thread's CPU time");
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let b = thread_cpu().expect("read once, read again");
        assert!(b > a, "{a:?} then {b:?}");
    }
}
