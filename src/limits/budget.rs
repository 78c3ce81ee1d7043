//! The in-flight body budget: how many body bytes one server holds at once,
//! across all its connections. Holders grow a [`Held`] as bytes arrive; a
//! growth past the budget is refused (the server then answers 503 with
//! `Retry-After`, or, for a copy taken on the side, stops copying), and
//! dropping the `Held` gives its bytes back. Lock-free: one atomic per server.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Bytes held across all connections of one server, against a fixed budget.
#[derive(Debug)]
pub struct Budget {
    cap: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
    refused: AtomicU64,
}

impl Budget {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Arc<Budget> {
        Arc::new(Budget {
            cap,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// An empty reservation to grow.
    pub fn hold(self: &Arc<Self>) -> Held {
        Held {
            budget: Some(self.clone()),
            bytes: 0,
        }
    }

    /// The budget in bytes.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes held right now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most bytes ever held at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Growths refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    fn take(&self, n: usize) -> bool {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|&v| v <= self.cap) else {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return false;
            };
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Ordering::Relaxed);
                    return true;
                }
                Err(now) => cur = now,
            }
        }
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Bytes held against a [`Budget`], given back when dropped. `Held::default()`
/// belongs to no budget: it grows without limit (for callers that run unbudgeted).
#[derive(Debug, Default)]
pub struct Held {
    budget: Option<Arc<Budget>>,
    bytes: usize,
}

impl Held {
    /// Holds `n` more bytes; false (and nothing held) when the budget has no room.
    #[must_use]
    pub fn grow(&mut self, n: usize) -> bool {
        if let Some(b) = &self.budget {
            if !b.take(n) {
                return false;
            }
        }
        self.bytes += n;
        true
    }

    /// Gives `n` bytes back (at most what is held).
    pub fn shrink(&mut self, n: usize) {
        let n = n.min(self.bytes);
        if let Some(b) = &self.budget {
            b.give(n);
        }
        self.bytes -= n;
    }

    /// Grows or shrinks to exactly `n` bytes; false when growing was refused.
    #[must_use]
    pub fn resize(&mut self, n: usize) -> bool {
        if n >= self.bytes {
            self.grow(n - self.bytes)
        } else {
            self.shrink(self.bytes - n);
            true
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Moves everything `other` holds into this reservation (same budget expected).
    pub fn absorb(&mut self, mut other: Held) {
        if self.budget.is_none() {
            self.budget = other.budget.take();
        } else if let Some(b) = other.budget.take() {
            if !self
                .budget
                .as_ref()
                .is_some_and(|mine| Arc::ptr_eq(mine, &b))
            {
                // Another budget's bytes: give them back there rather than mix them.
                b.give(other.bytes);
                other.bytes = 0;
            }
        }
        self.bytes += std::mem::take(&mut other.bytes);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(b) = &self.budget {
            b.give(self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_are_refused_past_the_budget_and_given_back_on_drop() {
        let b = Budget::new(100);
        let mut a = b.hold();
        assert!(a.grow(60));
        let mut c = b.hold();
        assert!(!c.grow(41), "60 + 41 > 100");
        assert_eq!(c.bytes(), 0);
        assert!(c.grow(40));
        assert_eq!(b.used(), 100);
        assert_eq!(b.refused(), 1);
        a.shrink(10);
        assert_eq!(b.used(), 90);
        assert!(a.resize(60));
        assert!(a.resize(20));
        assert_eq!(b.used(), 60);
        drop(a);
        assert_eq!(b.used(), 40);
        let mut d = b.hold();
        assert!(d.grow(10));
        c.absorb(d);
        assert_eq!((c.bytes(), b.used()), (50, 50));
        drop(c);
        assert_eq!(b.used(), 0);
        assert_eq!(b.peak(), 100);
    }

    #[test]
    fn an_unbudgeted_hold_always_grows() {
        let mut h = Held::default();
        assert!(h.grow(usize::MAX / 2));
        h.shrink(usize::MAX);
        assert_eq!(h.bytes(), 0);
        let b = Budget::new(10);
        let mut x = b.hold();
        assert!(x.grow(5));
        h.absorb(x);
        assert_eq!((h.bytes(), b.used()), (5, 5));
        drop(h);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn concurrent_holders_never_pass_the_budget() {
        let b = Budget::new(1000);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        let mut h = b.hold();
                        if h.grow(300) {
                            assert!(b.used() <= 1000);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(b.used(), 0);
        assert!(b.peak() <= 1000);
    }
}
