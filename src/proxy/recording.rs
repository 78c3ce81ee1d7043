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

use super::capture::{Finished, RecordLimits};
use super::record::Recorder;
use super::ProxyStats;
use crate::ingest::pipeline::{Batch, IngestSender, SourceState};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long the recorder lets exchanges gather after the first of a round.
pub const LINGER: Duration = Duration::from_millis(20);
/// Queued bytes of exchanges taken in one round at most (a burst is sent in several batches).
const ROUND_BYTES: u64 = 4 << 20;

/// Runs until every sender is gone and the queue is empty.
pub(super) fn run(
    mut rx: UnboundedReceiver<Finished>,
    source: String,
    sink: IngestSender,
    stats: Arc<ProxyStats>,
    limits: RecordLimits,
) {
    crate::priority::background();
    let mut recorder = Recorder::new(source.clone()).with_limits(limits);
    let mut round = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        round.push(first);
        let open = take_more(&mut rx, &mut round);
        if open && round_bytes(&round) < ROUND_BYTES {
            std::thread::sleep(LINGER);
            take_more(&mut rx, &mut round);
        }
        deliver(&mut recorder, &mut round, &source, &sink, &stats);
    }
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

/// Records a round and sends it as one batch (waiting while the writer's inbox
/// is full: this thread only; exchanges behind it queue up to their byte bound).
fn deliver(
    recorder: &mut Recorder,
    round: &mut Vec<Finished>,
    source: &str,
    sink: &IngestSender,
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
    }
    batch.source = Some(SourceState {
        path: source.to_string(),
        kind: "proxy".into(),
        line: stats.requests.load(Ordering::Relaxed),
        format: "proxy".into(),
        ..SourceState::default()
    });
    let n = seqs.len() as u64;
    let sent = sink.send(batch);
    stats.queued_bytes.fetch_sub(held, Ordering::Relaxed);
    if sent {
        stats.recorded.fetch_add(n, Ordering::Relaxed);
    } else {
        let total = stats.dropped.fetch_add(n, Ordering::Relaxed) + n;
        let first = seqs.first().copied().unwrap_or_default();
        crate::notice::warn(
            "proxy-dropped",
            format!("proxy: recording of {n} exchanges from #{first} dropped: the store writer has stopped ({total} dropped so far)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::capture::{Capture, ExchangeMeta, Outcome, ResponseCapture};
    use crate::proxy::route::{Api, Provider, Route};
    use std::time::Instant;

    fn finished(seq: u64) -> Finished {
        Finished {
            meta: ExchangeMeta {
                seq,
                route: Route {
                    provider: Provider::OpenAi,
                    api: Some(Api::ChatCompletions),
                },
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                query: None,
                upstream: "http://x".into(),
                started: Instant::now(),
                started_ms: 0,
                request_headers: hyper::HeaderMap::new(),
                session_header: None,
            },
            request_body: Capture::default(),
            response: None,
            body: ResponseCapture::Count(0),
            outcome: Outcome::Complete,
            ended: Instant::now(),
            ended_ms: 0,
        }
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
        run(
            rx,
            "proxy://t".into(),
            IngestSender::new(sink_tx),
            stats.clone(),
            RecordLimits::default(),
        );
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
        run(
            rx,
            "proxy://t".into(),
            IngestSender::new(sink_tx),
            stats.clone(),
            RecordLimits::default(),
        );
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(stats.recorded.load(Ordering::Relaxed), 0);
    }
}
