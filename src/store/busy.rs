//! Waiting out a busy store. Many writers share one SQLite file (tail, imports,
//! the OTLP receiver, the proxy, the TUI), so `SQLITE_BUSY` is normal: it is
//! retried with a bounded, jittered exponential back-off. Failures that waiting
//! cannot cure but that are not the data's fault (disk full, I/O error,
//! read-only file) are told apart from real errors, so a writer can keep its
//! work in the spool instead of stopping.

use super::StoreError;
use std::time::{Duration, Instant};

/// How long a writer waits for a busy store before spooling, unless the config says otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// SQLite's own busy handler per statement; the back-off below runs between tries.
pub const STATEMENT_WAIT: Duration = Duration::from_millis(500);
/// First pause and the longest single pause of the back-off.
const FIRST: Duration = Duration::from_millis(10);
const LONGEST: Duration = Duration::from_millis(800);

/// What kind of failure a store error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Another connection holds the lock: try again later.
    Busy,
    /// The store cannot take the write now (disk full, I/O error, read-only):
    /// the work is fine and must be kept until it can.
    Unwritable,
    /// Anything else (a broken schema, a bug): retrying will not help.
    Fatal,
}

/// Classifies a store error.
pub fn classify(e: &StoreError) -> Failure {
    use rusqlite::ErrorCode as C;
    let StoreError::Sql(e) = e else {
        return Failure::Fatal;
    };
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => Failure::Busy,
        Some(C::DiskFull | C::SystemIoFailure | C::ReadOnly | C::CannotOpen | C::OutOfMemory) => {
            Failure::Unwritable
        }
        _ => Failure::Fatal,
    }
}

/// A bounded exponential back-off with jitter: pauses double from 10 ms up to
/// 0.8 s, each drawn at random between half and all of its step (so writers
/// that collided do not collide again in step), until the budget is spent.
#[derive(Debug)]
pub struct Backoff {
    step: Duration,
    deadline: Instant,
}

impl Backoff {
    pub fn new(budget: Duration) -> Backoff {
        Backoff {
            step: FIRST,
            deadline: Instant::now() + budget,
        }
    }

    /// The next pause, or `None` once the budget is spent.
    pub fn next_pause(&mut self) -> Option<Duration> {
        let left = self.deadline.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        let half = self.step / 2;
        let jitter = Duration::from_micros(rand::random::<u64>() % (half.as_micros() as u64 + 1));
        self.step = (self.step * 2).min(LONGEST);
        Some((half + jitter).min(left))
    }

    /// Sleeps for the next pause; false once the budget is spent.
    pub fn wait(&mut self) -> bool {
        match self.next_pause() {
            Some(d) => {
                std::thread::sleep(d);
                true
            }
            None => false,
        }
    }
}

/// Runs `op` until it succeeds, fails other than busy, or `budget` is spent
/// (then the last busy error is returned).
pub fn retry<T>(
    budget: Duration,
    mut op: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut backoff = Backoff::new(budget);
    loop {
        match op() {
            Err(e) if classify(&e) == Failure::Busy && backoff.wait() => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(code: i32) -> StoreError {
        StoreError::Sql(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            None,
        ))
    }

    #[test]
    fn errors_are_classified() {
        assert_eq!(classify(&sql(5)), Failure::Busy); // SQLITE_BUSY
        assert_eq!(classify(&sql(6)), Failure::Busy); // SQLITE_LOCKED
        assert_eq!(classify(&sql(13)), Failure::Unwritable); // SQLITE_FULL
        assert_eq!(classify(&sql(10)), Failure::Unwritable); // SQLITE_IOERR
        assert_eq!(classify(&sql(1)), Failure::Fatal); // SQLITE_ERROR
        assert_eq!(classify(&StoreError::NotFound("x".into())), Failure::Fatal);
    }

    #[test]
    fn back_off_is_jittered_growing_and_bounded() {
        let mut b = Backoff::new(Duration::from_secs(60));
        let pauses: Vec<Duration> = (0..12).filter_map(|_| b.next_pause()).collect();
        assert_eq!(pauses.len(), 12);
        assert!(pauses[0] >= Duration::from_millis(5) && pauses[0] <= FIRST);
        assert!(pauses.iter().all(|p| *p <= LONGEST));
        assert!(pauses[11] >= LONGEST / 2, "{pauses:?}");
        let mut spent = Backoff::new(Duration::ZERO);
        assert!(spent.next_pause().is_none());
    }

    #[test]
    fn retry_gives_up_after_its_budget_and_passes_other_errors() {
        let mut tries = 0;
        let started = Instant::now();
        let r: Result<(), _> = retry(Duration::from_millis(120), || {
            tries += 1;
            Err(sql(5))
        });
        assert!(matches!(classify(&r.expect_err("busy")), Failure::Busy));
        assert!(tries > 2, "{tries}");
        assert!(started.elapsed() < Duration::from_secs(2));
        let mut tries = 0;
        let r: Result<(), _> = retry(Duration::from_secs(5), || {
            tries += 1;
            Err(sql(1))
        });
        assert!(r.is_err());
        assert_eq!(tries, 1, "a real error is not retried");
        let mut tries = 0;
        let r = retry(Duration::from_secs(5), || {
            tries += 1;
            if tries < 3 {
                Err(sql(5))
            } else {
                Ok(tries)
            }
        });
        assert_eq!(r.expect("third time"), 3);
    }
}
