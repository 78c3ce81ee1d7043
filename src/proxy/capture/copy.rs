//! A bounded copy of a body, taken while the body is forwarded: the head up to
//! the recording limit, held against the proxy's in-flight budget, with the
//! total size counted past the limit.

use crate::limits::Held;
use bytes::{Bytes, BytesMut};
use std::sync::{Arc, Mutex};

/// A copy of a body up to a limit; the total size is counted past it. Its
/// memory is held against the proxy's budget; a copy the budget cannot hold
/// stops there, truncated.
#[derive(Debug, Default)]
pub struct Capture {
    /// The head of the body.
    pub bytes: Bytes,
    /// Body bytes seen, copied or not.
    pub total: u64,
    pub truncated: bool,
    limit: usize,
    held: Held,
}

impl Capture {
    pub fn new(limit: usize) -> Capture {
        Capture {
            limit,
            ..Capture::default()
        }
    }

    /// A capture whose copy is held in `held` (a reservation on the proxy's budget).
    pub fn held_in(limit: usize, held: Held) -> Capture {
        Capture {
            limit,
            held,
            ..Capture::default()
        }
    }

    /// Appends what fits under the limit and the budget.
    pub fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        let room = if self.truncated {
            0
        } else {
            self.limit.saturating_sub(self.bytes.len())
        };
        if data.len() > room {
            self.truncated = true;
        }
        let take = room.min(data.len());
        if take == 0 {
            return;
        }
        let mut buf = match std::mem::take(&mut self.bytes).try_into_mut() {
            Ok(b) => b,
            Err(shared) => BytesMut::from(&shared[..]),
        };
        let len = buf.len() + take;
        if len > buf.capacity() {
            let want = len.max(buf.capacity() * 2).min(self.limit);
            if !self.held.resize(want) {
                self.truncated = true;
                self.bytes = buf.freeze();
                return;
            }
            buf.reserve(want - buf.len());
            // The allocator may round up; hold that too when the budget allows.
            let _ = self.held.resize(buf.capacity().max(want));
        }
        buf.extend_from_slice(&data[..take]);
        self.bytes = buf.freeze();
    }

    /// Takes a body already read (and held in `held`): its head up to the limit
    /// is the copy; the whole of it was seen.
    pub fn set(&mut self, body: &Bytes, held: Held) {
        self.total += body.len() as u64;
        self.truncated |= body.len() > self.limit;
        self.bytes = body.slice(..body.len().min(self.limit));
        self.held.absorb(held);
    }

    /// Bytes of the copy.
    pub fn kept(&self) -> usize {
        self.bytes.len()
    }
}

/// The request body copy, shared between the forwarded body and the exchange.
pub type SharedCapture = Arc<Mutex<Capture>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Budget;

    #[test]
    fn capture_counts_past_the_limit() {
        let mut c = Capture::new(4);
        c.push(b"abc");
        c.push(b"def");
        assert_eq!(&c.bytes[..], b"abcd");
        assert_eq!(c.total, 6);
        assert!(c.truncated);
    }

    #[test]
    fn a_copy_the_budget_cannot_hold_stops_truncated_and_gives_back_on_drop() {
        let budget = Budget::new(100);
        let mut c = Capture::held_in(1000, budget.hold());
        c.push(&[b'a'; 40]);
        c.push(&[b'b'; 80]);
        assert!(c.truncated, "100 bytes of budget, 120 wanted");
        assert_eq!(c.total, 120);
        assert_eq!(c.kept(), 40);
        assert!(budget.used() >= 40 && budget.used() <= 100);
        drop(c);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_body_read_ahead_is_shared_not_copied() {
        let budget = Budget::new(100);
        let mut held = budget.hold();
        assert!(held.grow(10));
        let body = Bytes::from_static(b"0123456789");
        let mut c = Capture::new(4);
        c.set(&body, held);
        assert_eq!(
            (&c.bytes[..], c.total, c.truncated),
            (&b"0123"[..], 10, true)
        );
        assert_eq!(budget.used(), 10);
        drop(c);
        assert_eq!(budget.used(), 0);
    }
}
