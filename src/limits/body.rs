//! Reading a request body under the limits: whole before a deadline, at most
//! a given size, every byte kept held against the server's budget; and
//! draining (reading and dropping) the body of a refused request, so the
//! client reads the refusal instead of a reset connection.

use super::Held;
use bytes::Buf;
use http_body_util::BodyExt;
use hyper::body::Body;
use tokio::time::Instant;

/// Why a body was not read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("larger than the size limit")]
    TooLarge,
    #[error("the in-flight memory budget is full")]
    Budget,
    #[error("not received before the deadline")]
    Timeout,
    #[error("the client broke off")]
    Broken,
}

/// Reads `body` whole, at most `max` bytes, before `deadline`, growing `held`
/// by the memory it keeps (its allocation, not just its length).
pub async fn read_whole<B>(
    mut body: B,
    max: usize,
    held: &mut Held,
    deadline: Instant,
) -> Result<Vec<u8>, BodyError>
where
    B: Body + Unpin,
{
    let start = held.bytes();
    let mut out: Vec<u8> = Vec::new();
    if let Some(len) = body.size_hint().exact() {
        let len = usize::try_from(len).map_err(|_| BodyError::TooLarge)?;
        if len > max {
            return Err(BodyError::TooLarge);
        }
        if !held.grow(len) {
            return Err(BodyError::Budget);
        }
        out.reserve_exact(len);
    }
    let res = loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => break Err(BodyError::Timeout),
            Ok(None) => break Ok(()),
            Ok(Some(Err(_))) => break Err(BodyError::Broken),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(mut data) = frame.into_data() else {
            continue; // trailers
        };
        let len = out.len() + data.remaining();
        if len > max {
            break Err(BodyError::TooLarge);
        }
        if len > out.capacity() {
            let want = len.max(out.capacity() * 2).min(max);
            if !held.resize(start + want) {
                break Err(BodyError::Budget);
            }
            out.reserve_exact(want - out.len());
        }
        while data.has_remaining() {
            let chunk = data.chunk();
            let n = chunk.len();
            out.extend_from_slice(chunk);
            data.advance(n);
        }
    };
    match res {
        Ok(()) => Ok(out),
        Err(e) => {
            held.shrink(held.bytes() - start);
            Err(e)
        }
    }
}

/// Reads and drops what is left of `body`, up to `max` bytes, before
/// `deadline`; true when the body ended (the connection can then carry an answer cleanly).
pub async fn drain<B>(mut body: B, max: u64, deadline: Instant) -> bool
where
    B: Body + Unpin,
{
    let mut seen = 0u64;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(None) => return true,
            Ok(Some(Ok(f))) => {
                if let Some(d) = f.data_ref() {
                    seen += d.remaining() as u64;
                    if seen > max {
                        return false;
                    }
                }
            }
            Err(_) | Ok(Some(Err(_))) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Budget;
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::body::Frame;
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    fn later(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    /// A body of unannounced length: `chunks`, then (when `stall`) nothing ever again.
    struct Chunks {
        chunks: VecDeque<&'static [u8]>,
        stall: bool,
    }

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            match self.chunks.pop_front() {
                Some(c) => Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(c))))),
                None if self.stall => Poll::Pending,
                None => Poll::Ready(None),
            }
        }
    }

    fn chunks(c: &[&'static [u8]], stall: bool) -> Chunks {
        Chunks {
            chunks: c.iter().copied().collect(),
            stall,
        }
    }

    #[tokio::test]
    async fn reads_whole_bodies_and_holds_them() {
        let budget = Budget::new(100);
        let mut held = budget.hold();
        let full = Full::new(Bytes::from_static(b"hello"));
        assert_eq!(
            read_whole(full, 10, &mut held, later(1000)).await.unwrap(),
            b"hello"
        );
        assert_eq!(held.bytes(), 5);
        let got = read_whole(
            chunks(&[b"ab", b"cd", b"e"], false),
            10,
            &mut held,
            later(1000),
        );
        assert_eq!(got.await.unwrap(), b"abcde");
        assert!(held.bytes() >= 10 && budget.used() == held.bytes());
    }

    #[tokio::test]
    async fn refuses_past_the_size_the_budget_or_the_deadline_and_then_holds_nothing() {
        let budget = Budget::new(8);
        let mut held = budget.hold();
        let big = || Full::new(Bytes::from_static(b"0123456789"));
        assert_eq!(
            read_whole(big(), 5, &mut held, later(1000)).await,
            Err(BodyError::TooLarge)
        );
        assert_eq!(
            read_whole(big(), 50, &mut held, later(1000)).await,
            Err(BodyError::Budget)
        );
        let grows = chunks(&[b"0123", b"4567", b"89"], false);
        assert_eq!(
            read_whole(grows, 50, &mut held, later(1000)).await,
            Err(BodyError::Budget)
        );
        let long = chunks(&[b"0123", b"4567", b"89"], false);
        assert_eq!(
            read_whole(long, 9, &mut held, later(1000)).await,
            Err(BodyError::TooLarge)
        );
        let drip = chunks(&[b"0"], true);
        assert_eq!(
            read_whole(drip, 5, &mut held, later(50)).await,
            Err(BodyError::Timeout)
        );
        assert_eq!(budget.used(), 0);
    }

    #[tokio::test]
    async fn drain_reads_to_the_end_within_its_bounds() {
        assert!(drain(chunks(&[b"ab", b"cd"], false), 10, later(1000)).await);
        assert!(!drain(chunks(&[b"ab", b"cd"], false), 3, later(1000)).await);
        assert!(!drain(chunks(&[b"ab"], true), 10, later(50)).await);
    }
}
