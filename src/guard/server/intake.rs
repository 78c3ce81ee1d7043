//! A hook request's body as `guard serve` reads it: at most [`MAX_BODY`]
//! bytes, within a deadline, and held against one in-flight budget shared by
//! every connection (`[limits] inflight_bytes`), grown as bytes arrive. A
//! body that would pass the budget is not read further: the server answers at
//! once, failing open (or closed) and saying so, so a thousand held-open
//! bodies cost the budget, not a thousand bodies.

use crate::limits::budget::{Budget, Held};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;

/// The largest body read.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// What reading a body gave.
pub enum Intake {
    /// The body, and its bytes held in the budget until it is judged.
    Body(Bytes, Held),
    /// Too large, cut off by the deadline or broken: judged as an empty event.
    Unread,
    /// The budget had no room for it.
    Busy,
}

/// Reads `body` within `deadline`, holding its bytes in `budget`.
pub async fn read<B>(body: B, budget: &Arc<Budget>, deadline: Duration) -> Intake
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let mut held = budget.hold();
    let mut buf: Vec<u8> = Vec::new();
    let mut body = body;
    // Ok when the body ended; otherwise why it was not read whole.
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(Intake::Unread);
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if buf.len() + data.len() > MAX_BODY {
                return Err(Intake::Unread);
            }
            if !held.grow(data.len()) {
                return Err(Intake::Busy);
            }
            if buf.is_empty() {
                // Room for the length announced (capped), not twice it by doubling:
                // pages never written are never resident.
                let want = body.size_hint().exact().unwrap_or(0) as usize;
                buf.reserve_exact(want.clamp(data.len(), MAX_BODY));
            }
            buf.extend_from_slice(&data);
        }
        Ok(())
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(())) => Intake::Body(Bytes::from(buf), held),
        Ok(Err(why)) => why,
        Err(_) => Intake::Unread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_body_is_held_until_dropped_and_one_past_the_budget_is_refused() {
        let budget = Budget::new(1000);
        let body = Full::new(Bytes::from(vec![b'x'; 600]));
        let Intake::Body(b, held) = run(read(body, &budget, Duration::from_secs(5))) else {
            panic!("read");
        };
        assert_eq!((b.len(), budget.used()), (600, 600));
        let second = Full::new(Bytes::from(vec![b'y'; 600]));
        assert!(matches!(
            run(read(second, &budget, Duration::from_secs(5))),
            Intake::Busy
        ));
        assert_eq!(budget.used(), 600, "a refused body holds nothing");
        drop(held);
        assert_eq!(budget.used(), 0);
        let big = Full::new(Bytes::from(vec![b'z'; MAX_BODY + 1]));
        let roomy = Budget::new(4 * MAX_BODY);
        assert!(matches!(
            run(read(big, &roomy, Duration::from_secs(5))),
            Intake::Unread
        ));
        assert_eq!(roomy.used(), 0);
    }
}
