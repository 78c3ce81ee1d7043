//! The recorder thread: takes finished exchanges off the hand-off queue in
//! rounds, turns them into records (`record.rs`) and sends one batch per round
//! to the store writer.
//!
//! It wakes at most once per [`LINGER`] while exchanges keep coming: those
//! that finish meanwhile are queued without waking it (a forwarding thread's
//! hand-off then costs no wake-up of another thread), and the writer gets one
//! batch, one transaction, per round instead of one per exchange. That is what
//! keeps the recorder and the writer from taking the CPU from the threads that
//! forward, on a small machine. A stored exchange is at most [`LINGER`] later.
//! Between exchanges of a round it gives its core to a thread that woke
//! meanwhile ([`crate::priority::yield_point`]), as the writer does.
//!
//! While the writer has no room, the recorder waits for it, unless the queue
//! behind it has passed its high-water mark: then rounds go to the spool
//! ([`super::spill`]) until the queue is low again.

use super::capture::{Finished, RecordLimits};
use super::record::Recorder;
use super::spill::Spill;
use super::ProxyStats;
use crate::ingest::pipeline::{Batch, IngestSender, SourceState};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long the recorder lets exchanges gather after the first of a round.
/// 50 ms rather than 20: at 500–2,000 requests a second a round then holds
/// 25–100 exchanges, and the writer's cost per exchange of a transaction (its
/// commit, the pages every round rewrites, the source row) is shared by 2.5x
/// more of them (recorder + writer CPU per 1,000 requests 326 -> 241 ms with
/// the writer's search indexing spaced out, busy machine, BENCHMARKS.md).
pub const LINGER: Duration = Duration::from_millis(50);
/// Queued bytes of exchanges taken in one round at most (a burst is sent in several batches).
const ROUND_BYTES: u64 = 4 << 20;
/// How long a round waits for room in the writer's inbox between looks at the queue.
const LOOK: Duration = Duration::from_millis(50);
/// After the spool refused a round, how long rounds wait for the writer instead.
const SPILL_PAUSE: Duration = Duration::from_secs(5);

/// Where the recorder hands rounds: the writer, or the spool while the queue is high.
pub(super) struct Outlet {
    pub sink: IngestSender,
    pub spill: Option<Spill>,
    /// Queued bytes past which rounds spill, and under which spilling ends.
    high: u64,
    low: u64,
    refused_at: Option<Instant>,
}

impl Outlet {
    pub(super) fn new(sink: IngestSender, spill: Option<Spill>, limits: &RecordLimits) -> Outlet {
        let bound = limits.queue_bytes as u64;
        Outlet {
            sink,
            spill,
            high: bound / 4,
            low: bound / 16,
            refused_at: None,
        }
    }
}

/// What became of a round.
enum Handed {
    Sent,
    Spilled,
    /// Not recorded, and why.
    Lost(String),
}

/// Runs until every sender is gone and the queue is empty.
pub(super) fn run(
    mut rx: UnboundedReceiver<Finished>,
    source: String,
    mut out: Outlet,
    stats: Arc<ProxyStats>,
    limits: RecordLimits,
) {
    crate::priority::background();
    // Gives its core away between exchanges to a forwarding thread that woke.
    crate::priority::yielding();
    let mut recorder = Recorder::new(source.clone()).with_limits(limits);
    let mut round = Vec::new();
    loop {
        let first = if out.spill.as_ref().is_some_and(Spill::active) {
            // While spilling, look at the queue even when no exchange comes:
            // the spill ends (and the writer gets its file) once it is low.
            match rx.try_recv() {
                Ok(f) => f,
                Err(TryRecvError::Empty) => {
                    std::thread::sleep(LOOK);
                    if caught_up(&out, &stats) {
                        end_spill(&mut out, &stats, "the store writer has caught up");
                    }
                    continue;
                }
                Err(TryRecvError::Disconnected) => break,
            }
        } else {
            match rx.blocking_recv() {
                Some(f) => f,
                None => break,
            }
        };
        round.push(first);
        let open = take_more(&mut rx, &mut round);
        if open && round_bytes(&round) < ROUND_BYTES {
            std::thread::sleep(LINGER);
            take_more(&mut rx, &mut round);
        }
        deliver(&mut recorder, &mut round, &source, &mut out, &stats);
    }
    // What was spilled is the writer's to store now (or the next writer's).
    end_spill(&mut out, &stats, "the proxy is stopping");
}

/// Takes what waits, up to [`ROUND_BYTES`]; false once every sender is gone.
fn take_more(rx: &mut UnboundedReceiver<Finished>, round: &mut Vec<Finished>) -> bool {
    let mut bytes = round_bytes(round);
    while bytes < ROUND_BYTES {
        match rx.try_recv() {
            Ok(f) => {
                bytes += f.held_bytes();
                round.push(f);
            }
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => return false,
        }
    }
    true
}

fn round_bytes(round: &[Finished]) -> u64 {
    round.iter().map(Finished::held_bytes).sum()
}

/// Records a round and hands it over as one batch: to the writer (waiting
/// while its inbox is full: this thread only; exchanges behind it queue up to
/// their byte bound), or to the spool while the queue is past its high-water mark.
fn deliver(
    recorder: &mut Recorder,
    round: &mut Vec<Finished>,
    source: &str,
    out: &mut Outlet,
    stats: &ProxyStats,
) {
    let mut batch = Batch::default();
    let (mut held, mut seqs) = (0, Vec::with_capacity(round.len()));
    for finished in round.drain(..) {
        held += finished.held_bytes();
        seqs.push(finished.meta.seq);
        let (records, errors) = recorder.record(finished);
        batch.records.extend(records);
        batch.errors.extend(errors);
        crate::priority::yield_point();
    }
    batch.source = Some(SourceState {
        path: source.to_string(),
        kind: "proxy".into(),
        line: stats.requests.load(Ordering::Relaxed),
        format: "proxy".into(),
        ..SourceState::default()
    });
    let n = seqs.len() as u64;
    let handed = hand_over(batch, out, stats);
    stats.queued_bytes.fetch_sub(held, Ordering::Relaxed);
    stats.queued.fetch_sub(n, Ordering::Relaxed);
    match handed {
        Handed::Sent => {
            stats.recorded.fetch_add(n, Ordering::Relaxed);
        }
        Handed::Spilled => {
            stats.recorded.fetch_add(n, Ordering::Relaxed);
            stats.spilled.fetch_add(n, Ordering::Relaxed);
        }
        Handed::Lost(why) => {
            let total = stats.dropped.fetch_add(n, Ordering::Relaxed) + n;
            let first = seqs.first().copied().unwrap_or_default();
            crate::notice::warn(
                "proxy-dropped",
                format!("proxy: recording of {n} exchanges from #{first} dropped: {why} ({total} dropped so far)"),
            );
        }
    }
}

/// Sends `batch` to the writer, or spills it while the queue is high.
fn hand_over(batch: Batch, out: &mut Outlet, stats: &ProxyStats) -> Handed {
    if out.spill.as_ref().is_some_and(Spill::active) && caught_up(out, stats) {
        end_spill(out, stats, "the store writer has caught up");
    }
    if out.spill.as_ref().is_some_and(Spill::active) || should_spill(out, stats) {
        return spill(batch, out, stats);
    }
    let mut batch = batch;
    loop {
        match out.sink.send_within(&mut batch, LOOK) {
            Some(true) => return Handed::Sent,
            Some(false) => return Handed::Lost("the store writer has stopped".into()),
            None => {}
        }
        if should_spill(out, stats) {
            return spill(batch, out, stats);
        }
    }
}

/// Bytes waiting for the store in memory: the recorder's queue and the writer's inbox.
fn waiting(out: &Outlet, stats: &ProxyStats) -> u64 {
    stats.queued_bytes.load(Ordering::Relaxed) + out.sink.queued_bytes() as u64
}

/// True when the memory waiting has passed the high-water mark (and the spool
/// did not refuse a round lately).
fn should_spill(out: &Outlet, stats: &ProxyStats) -> bool {
    let refused = out.refused_at.is_some_and(|t| t.elapsed() < SPILL_PAUSE);
    out.spill.is_some() && !refused && waiting(out, stats) >= out.high
}

/// True when the recorder's queue is low again and the writer has nothing in hand.
fn caught_up(out: &Outlet, stats: &ProxyStats) -> bool {
    stats.queued_bytes.load(Ordering::Relaxed) <= out.low && out.sink.writer_idle()
}

/// Appends `batch` to the spool (said when a spill begins); a refusal is said
/// and the round lost, and rounds wait for the writer again for a while.
fn spill(batch: Batch, out: &mut Outlet, stats: &ProxyStats) -> Handed {
    let waiting_kb = waiting(out, stats) >> 10;
    let Some(sp) = out.spill.as_mut() else {
        return Handed::Lost("no spool".into());
    };
    let starting = !sp.active();
    match sp.push(batch) {
        Ok(()) => {
            stats.spilling.store(true, Ordering::Relaxed);
            stats.spill_bytes.store(sp.bytes(), Ordering::Relaxed);
            if starting {
                stats.spills.fetch_add(1, Ordering::Relaxed);
                crate::notice::warn(
                    "proxy-spill",
                    format!(
                        "proxy: the store is slower than exchanges arrive ({} KB wait in memory); spilling recordings, redacted, to the spool {} until it catches up (nothing is dropped, forwarding is unaffected)",
                        waiting_kb,
                        sp.dir().display()
                    ),
                );
            }
            Handed::Spilled
        }
        Err(why) => {
            out.refused_at = Some(Instant::now());
            let dir = sp.dir();
            end_spill(out, stats, "the spool refused more");
            Handed::Lost(format!(
                "cannot spill to the spool {}: {why}",
                dir.display()
            ))
        }
    }
}

/// Lets the spill file go to the writer (which stores it before anything sent after).
fn end_spill(out: &mut Outlet, stats: &ProxyStats, why: &str) {
    let Some(sp) = out.spill.as_mut() else {
        return;
    };
    if !sp.active() {
        return;
    }
    let frames = sp.release();
    out.sink.spooled();
    stats.spilling.store(false, Ordering::Relaxed);
    stats.spill_bytes.store(0, Ordering::Relaxed);
    crate::notice::warn(
        "proxy-spill-end",
        format!(
            "proxy: {why}: {frames} spilled rounds ({} exchanges spilled so far) are handed to the store writer, in order",
            stats.spilled.load(Ordering::Relaxed)
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::capture::{Capture, ExchangeMeta, Outcome, ResponseCapture};
    use std::time::Instant;

    fn finished(seq: u64) -> Finished {
        Finished {
            meta: ExchangeMeta {
                seq,
                ..crate::proxy::capture::tests::meta()
            },
            request_body: Capture::default(),
            response: None,
            body: ResponseCapture::Count(0),
            outcome: Outcome::Complete,
            ended: Instant::now(),
            ended_ms: 0,
        }
    }

    /// Runs the recorder over what `tx` sent, into `sink`.
    fn record_all(
        rx: UnboundedReceiver<Finished>,
        sink: std::sync::mpsc::SyncSender<Batch>,
        stats: &Arc<ProxyStats>,
    ) {
        let limits = RecordLimits::default();
        run(
            rx,
            "proxy://t".into(),
            Outlet::new(IngestSender::new(sink), None, &limits),
            stats.clone(),
            limits,
        );
    }

    #[test]
    fn exchanges_queued_together_go_to_the_writer_as_one_batch() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (sink_tx, sink_rx) = std::sync::mpsc::sync_channel(16);
        let stats = Arc::new(ProxyStats::default());
        for seq in 1..=50 {
            let f = finished(seq);
            stats
                .queued_bytes
                .fetch_add(f.held_bytes(), Ordering::Relaxed);
            tx.send(f).unwrap();
        }
        drop(tx);
        record_all(rx, sink_tx, &stats);
        let batches: Vec<Batch> = sink_rx.try_iter().collect();
        assert_eq!(batches.len(), 1, "one round, one batch");
        let llm = batches[0]
            .records
            .iter()
            .filter(|r| matches!(r, crate::ingest::formats::Record::Span(s) if s.kind == crate::model::SpanKind::Llm))
            .count();
        assert_eq!(llm, 50);
        assert_eq!(stats.recorded.load(Ordering::Relaxed), 50);
        assert_eq!(stats.queued_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_writer_gone_is_counted_as_dropped_exchanges() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (sink_tx, sink_rx) = std::sync::mpsc::sync_channel(1);
        drop(sink_rx);
        let stats = Arc::new(ProxyStats::default());
        for seq in 1..=3 {
            tx.send(finished(seq)).unwrap();
        }
        drop(tx);
        record_all(rx, sink_tx, &stats);
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(stats.recorded.load(Ordering::Relaxed), 0);
    }
}
