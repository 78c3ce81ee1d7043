//! The writer's inbox: batches from any number of sources (tailer, receiver,
//! proxy recorder), bounded in bytes rather than in count, so a burst of many
//! small batches never drops one while memory stays bounded. [`IngestSender::send`]
//! waits for room (the tailer and the recorder thread, never a response path);
//! [`IngestSender::has_room`] lets the OTLP receiver answer 429 instead of
//! waiting; [`IngestSender::try_send`] never waits and counts what it drops.

use super::pipeline::Batch;
use crate::ingest::formats::Record;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Bytes of batches that may wait for the writer before senders wait.
pub const DEFAULT_BYTES: usize = 64 << 20;

/// Roughly the bytes a batch holds (for the bound; not exact).
pub fn batch_bytes(b: &Batch) -> usize {
    let records: usize = b
        .records
        .iter()
        .map(|r| match r {
            Record::Span(s) => crate::store::span_bytes(s),
            Record::Finding(f) => 256 + f.title.len() + f.message.len() + f.evidence.len(),
            Record::Run(_) | Record::Triage { .. } => 256,
        })
        .sum();
    64 + records + b.errors.iter().map(|e| 64 + e.message.len()).sum::<usize>()
}

#[derive(Default)]
struct State {
    items: VecDeque<(Batch, usize)>,
    bytes: usize,
    senders: usize,
    receiver_gone: bool,
    /// True while the writer waits for a batch (it has nothing in hand).
    receiving: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when room is made or the receiver goes.
    room: Condvar,
    /// Signalled when a batch arrives or the last sender goes.
    ready: Condvar,
    limit: usize,
    /// Set when the last sender has gone (the writer is draining to stop).
    closing: Arc<AtomicBool>,
    /// Set when a sender left a spool file for the writer to store (see [`IngestSender::spooled`]).
    spooled: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug)]
enum Way {
    Queue(Arc<Shared>),
    /// A plain channel (tests collect what a source sends).
    Channel(std::sync::mpsc::SyncSender<Batch>),
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").field("limit", &self.limit).finish()
    }
}

/// Sends batches to the writer. Cloneable; the writer stops once every clone is dropped.
#[derive(Debug)]
pub struct IngestSender {
    way: Way,
    dropped: Arc<AtomicU64>,
}

impl IngestSender {
    /// Wraps a channel end (whoever holds the other end reads the batches).
    pub fn new(tx: std::sync::mpsc::SyncSender<Batch>) -> IngestSender {
        IngestSender {
            way: Way::Channel(tx),
            dropped: Default::default(),
        }
    }

    /// A new inbox holding at most `limit` bytes of batches (one batch is always admitted).
    pub fn queue(limit: usize) -> (IngestSender, Inbox) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                senders: 1,
                ..State::default()
            }),
            room: Condvar::new(),
            ready: Condvar::new(),
            limit,
            closing: Arc::default(),
            spooled: AtomicBool::new(false),
        });
        (
            IngestSender {
                way: Way::Queue(shared.clone()),
                dropped: Default::default(),
            },
            Inbox { shared },
        )
    }

    /// Queues a batch, waiting while the inbox is over its bound; false if the writer is gone.
    pub fn send(&self, batch: Batch) -> bool {
        match &self.way {
            Way::Channel(tx) => tx.send(batch).is_ok(),
            Way::Queue(q) => {
                let n = batch_bytes(&batch);
                let mut s = q.lock();
                while !s.receiver_gone && !s.items.is_empty() && s.bytes + n > q.limit {
                    s = q.room.wait(s).unwrap_or_else(|p| p.into_inner());
                }
                if s.receiver_gone {
                    return false;
                }
                s.bytes += n;
                s.items.push_back((batch, n));
                q.ready.notify_one();
                true
            }
        }
    }

    /// [`IngestSender::send`] waiting at most `wait` for room: `Some(true)`
    /// when queued (the batch taken), `Some(false)` if the writer is gone,
    /// `None` (the batch left as it was) when there was no room in time.
    pub fn send_within(&self, batch: &mut Batch, wait: Duration) -> Option<bool> {
        match &self.way {
            Way::Channel(tx) => Some(tx.send(std::mem::take(batch)).is_ok()),
            Way::Queue(q) => {
                let n = batch_bytes(batch);
                let deadline = std::time::Instant::now() + wait;
                let mut s = q.lock();
                while !s.receiver_gone && !s.items.is_empty() && s.bytes + n > q.limit {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    s = q
                        .room
                        .wait_timeout(s, left)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                if s.receiver_gone {
                    return Some(false);
                }
                s.bytes += n;
                s.items.push_back((std::mem::take(batch), n));
                q.ready.notify_one();
                Some(true)
            }
        }
    }

    /// Tells the writer a spool file was left for it (the proxy's recorder
    /// spilled while the store was slow): it stores the file's frames before
    /// the next batch sent after this call.
    pub fn spooled(&self) {
        if let Way::Queue(q) = &self.way {
            q.spooled.store(true, Ordering::Release);
        }
    }

    /// Queues a batch without waiting; false (and one more drop counted) when
    /// the inbox is over its bound or the writer is gone.
    pub fn try_send(&self, batch: Batch) -> bool {
        let sent = match &self.way {
            Way::Channel(tx) => tx.try_send(batch).is_ok(),
            Way::Queue(q) => {
                let n = batch_bytes(&batch);
                let mut s = q.lock();
                if s.receiver_gone || (!s.items.is_empty() && s.bytes + n > q.limit) {
                    false
                } else {
                    s.bytes += n;
                    s.items.push_back((batch, n));
                    q.ready.notify_one();
                    true
                }
            }
        };
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// True when a batch sent now would not wait (the receiver's admission check).
    pub fn has_room(&self) -> bool {
        match &self.way {
            Way::Channel(_) => true,
            Way::Queue(q) => {
                let s = q.lock();
                !s.receiver_gone && s.bytes < q.limit
            }
        }
    }

    /// True when the writer has nothing to do: no batch waits and it is
    /// waiting for one (not storing one, nor replaying a spool).
    pub fn writer_idle(&self) -> bool {
        match &self.way {
            Way::Channel(_) => true,
            Way::Queue(q) => {
                let s = q.lock();
                s.items.is_empty() && s.receiving
            }
        }
    }

    /// True once the writer is gone (it stopped on an error).
    pub fn is_closed(&self) -> bool {
        match &self.way {
            Way::Channel(_) => false,
            Way::Queue(q) => q.lock().receiver_gone,
        }
    }

    /// Bytes of batches waiting for the writer.
    pub fn queued_bytes(&self) -> usize {
        match &self.way {
            Way::Channel(_) => 0,
            Way::Queue(q) => q.lock().bytes,
        }
    }

    /// Batches dropped by `try_send` so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Clone for IngestSender {
    fn clone(&self) -> Self {
        if let Way::Queue(q) = &self.way {
            q.lock().senders += 1;
        }
        IngestSender {
            way: match &self.way {
                Way::Queue(q) => Way::Queue(q.clone()),
                Way::Channel(tx) => Way::Channel(tx.clone()),
            },
            dropped: self.dropped.clone(),
        }
    }
}

impl Drop for IngestSender {
    fn drop(&mut self) {
        if let Way::Queue(q) = &self.way {
            let mut s = q.lock();
            s.senders = s.senders.saturating_sub(1);
            if s.senders == 0 {
                q.closing.store(true, Ordering::Relaxed);
                q.ready.notify_all();
            }
        }
    }
}

/// Why [`Inbox::recv_timeout`] returned no batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    Timeout,
    /// Every sender is gone and the inbox is empty.
    Disconnected,
}

/// The writer's end.
#[derive(Debug)]
pub struct Inbox {
    shared: Arc<Shared>,
}

impl Inbox {
    /// The next batch, waiting up to `d`.
    pub fn recv_timeout(&self, d: Duration) -> Result<Batch, RecvError> {
        let q = &self.shared;
        let mut s = q.lock();
        let deadline = std::time::Instant::now() + d;
        loop {
            if let Some((b, n)) = s.items.pop_front() {
                s.bytes -= n;
                q.room.notify_all();
                return Ok(b);
            }
            if s.senders == 0 {
                return Err(RecvError::Disconnected);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(RecvError::Timeout);
            }
            s.receiving = true;
            s = q
                .ready
                .wait_timeout(s, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
            s.receiving = false;
        }
    }

    /// True once after a sender called [`IngestSender::spooled`].
    pub fn take_spooled(&self) -> bool {
        self.shared.spooled.swap(false, Ordering::Acquire)
    }

    /// The next batch if one is waiting.
    pub fn try_recv(&self) -> Option<Batch> {
        let q = &self.shared;
        let mut s = q.lock();
        let (b, n) = s.items.pop_front()?;
        s.bytes -= n;
        q.room.notify_all();
        Some(b)
    }

    /// Set once every sender has gone: the writer is draining to stop.
    pub fn closing(&self) -> Arc<AtomicBool> {
        self.shared.closing.clone()
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        s.receiver_gone = true;
        s.items.clear();
        s.bytes = 0;
        self.shared.room.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Span, SpanKind};

    fn batch(text_bytes: usize) -> Batch {
        let mut s = Span::new("s", "r", SpanKind::Tool, "t", Origin::new("f", 1));
        s.text = Some("x".repeat(text_bytes));
        Batch {
            records: vec![Record::Span(s)],
            ..Batch::default()
        }
    }

    #[test]
    fn bounded_in_bytes_not_in_count() {
        let (tx, rx) = IngestSender::queue(1 << 20);
        // Many small batches all fit: the count is not the bound.
        for _ in 0..2_000 {
            assert!(tx.try_send(batch(10)));
        }
        assert_eq!(tx.dropped(), 0);
        // A big one past the bound is refused without waiting, and counted.
        assert!(!tx.try_send(batch(2 << 20)));
        assert_eq!(tx.dropped(), 1);
        assert!(tx.has_room());
        let mut n = 0;
        while rx.try_recv().is_some() {
            n += 1;
        }
        assert_eq!(n, 2_000);
        // Into an empty inbox even an oversized batch goes (nothing would ever take it otherwise).
        assert!(tx.try_send(batch(2 << 20)));
        assert!(!tx.has_room(), "over the bound: the receiver answers 429");
    }

    #[test]
    fn send_within_gives_the_batch_back_when_no_room_comes_and_idle_means_waiting() {
        let (tx, rx) = IngestSender::queue(1 << 10);
        assert!(!tx.writer_idle(), "not waiting yet");
        let mut b = batch(2 << 10);
        assert_eq!(
            tx.send_within(&mut b, Duration::from_millis(10)),
            Some(true)
        );
        assert!(b.records.is_empty(), "taken when queued");
        let mut b = batch(10);
        assert_eq!(tx.send_within(&mut b, Duration::from_millis(30)), None);
        assert_eq!(b.records.len(), 1, "left as it was");
        assert!(!tx.writer_idle(), "a batch waits");
        assert!(rx.try_recv().is_some());
        assert!(matches!(
            rx.recv_timeout(Duration::from_millis(20)),
            Err(RecvError::Timeout)
        ));
        let waiter = std::thread::spawn(move || rx.recv_timeout(Duration::from_secs(5)).is_ok());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !tx.writer_idle() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(tx.writer_idle(), "the writer waits with nothing in hand");
        assert_eq!(
            tx.send_within(&mut b, Duration::from_millis(10)),
            Some(true)
        );
        assert!(waiter.join().unwrap());
        drop(tx);
    }

    #[test]
    fn send_waits_for_room_and_the_writer_sees_the_last_sender_go() {
        let (tx, rx) = IngestSender::queue(4 << 10);
        assert!(tx.send(batch(3 << 10)));
        let tx2 = tx.clone();
        let t = std::thread::spawn(move || tx2.send(batch(3 << 10)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!t.is_finished(), "send did not wait for room");
        assert!(rx.recv_timeout(Duration::from_secs(1)).is_ok());
        assert!(t.join().expect("thread"));
        assert!(rx.recv_timeout(Duration::from_secs(1)).is_ok());
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(10)).err(),
            Some(RecvError::Timeout)
        );
        let closing = rx.closing();
        drop(tx);
        assert!(closing.load(Ordering::Relaxed));
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(1)).err(),
            Some(RecvError::Disconnected)
        );
    }

    #[test]
    fn senders_learn_the_writer_is_gone() {
        let (tx, rx) = IngestSender::queue(1 << 10);
        assert!(tx.send(batch(2 << 10)));
        let tx2 = tx.clone();
        let t = std::thread::spawn(move || tx2.send(batch(10)));
        std::thread::sleep(Duration::from_millis(30));
        drop(rx);
        assert!(!t.join().expect("thread"), "a waiting sender is told");
        assert!(tx.is_closed());
        assert!(!tx.send(batch(1)));
    }
}
