//! The live side of recording: bounded copies of request and response bodies
//! taken while the bytes are forwarded, and the hand-off of a finished exchange
//! to the recorder thread.
//!
//! Nothing here can slow or cut forwarding: copies stop at the recording limit
//! or when the proxy's in-flight memory budget is full (the copy then says it
//! was truncated and counts what it missed), SSE is parsed incrementally into a
//! bounded [`Room`] on the recorder thread (`stream.rs`: no whole response is
//! kept), and the hand-off is a send on an unbounded channel that never waits:
//! the queue is bounded in bytes instead, and past that bound a copy is
//! dropped, counted and named on stderr at once.
//!
//! `copy.rs` holds the bounded body copy, `stream.rs` how a response is kept
//! and the SSE fold; this file follows one exchange and hands it off.

mod copy;
mod stream;

pub use copy::{Capture, SharedCapture};
pub use stream::{ResponseCapture, SseCapture, StreamFold, FOLD_AT};

use super::phases::Phase;
use super::room::Room;
use super::route::Route;
use super::ProxyStats;
use crate::limits::{Budget, Held, Limits};
use crate::model::Millis;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The response body reached its end.
    Complete,
    /// The client went away before the end (the upstream request was dropped).
    ClientGone,
    /// The upstream could not be reached; the client got a 502.
    Unreachable(String),
    /// The upstream sent no response headers in time; the client got a 504.
    HeaderTimeout,
    /// The upstream response body broke off.
    BodyError(String),
    /// No response bytes for longer than the idle timeout.
    IdleTimeout,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::ClientGone => "client_disconnected",
            Outcome::Unreachable(_) => "upstream_unreachable",
            Outcome::HeaderTimeout => "upstream_timeout",
            Outcome::BodyError(_) => "upstream_body_error",
            Outcome::IdleTimeout => "idle_timeout",
        }
    }
}

/// What is known about a request when it arrives (secrets already dropped).
#[derive(Debug, Clone)]
pub struct ExchangeMeta {
    /// Request number since the proxy started (1-based).
    pub seq: u64,
    pub route: Route,
    pub method: String,
    pub path: String,
    /// Query string with credential-looking values dropped.
    pub query: Option<String>,
    /// Upstream base, `scheme://host[:port][/prefix]`.
    pub upstream: String,
    pub started: Instant,
    pub started_ms: Millis,
    /// Recordable headers only (see `route::recordable_header_map`).
    pub request_headers: hyper::HeaderMap,
    /// A conversation id sent as a header, when the client sent one.
    pub session_header: Option<String>,
}

/// The response head, once it arrived.
#[derive(Debug, Clone)]
pub struct ResponseMeta {
    pub status: u16,
    /// Recordable headers only.
    pub headers: hyper::HeaderMap,
    pub content_type: String,
    /// `content-encoding` when not identity.
    pub content_encoding: Option<String>,
    /// When the response head arrived.
    pub at: Instant,
}

/// Recording limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLimits {
    /// Request body bytes copied for parsing (forwarding is never cut).
    pub request_body: usize,
    /// Non-streamed response body bytes copied for parsing, and kept after decoding.
    pub response_body: usize,
    /// Largest single SSE event parsed.
    pub sse_event: usize,
    /// Body bytes of finished exchanges allowed to wait for the recorder; past it copies are dropped.
    pub queue_bytes: usize,
    /// Body bytes held at once across all exchanges (the in-flight budget).
    pub inflight: usize,
    /// Response text and tool-call arguments kept per exchange.
    pub text: usize,
    /// Tool calls kept per exchange.
    pub tool_calls: usize,
    /// Most JSON values in a body that is parsed.
    pub json_values: usize,
}

impl Default for RecordLimits {
    fn default() -> Self {
        RecordLimits::from_limits(&Limits::default())
    }
}

impl RecordLimits {
    /// The proxy's share of the `[limits]` section.
    pub fn from_limits(l: &Limits) -> RecordLimits {
        RecordLimits {
            request_body: l.record_body_bytes,
            response_body: l.record_body_bytes,
            sse_event: 4 << 20,
            queue_bytes: l.proxy_queue_bytes,
            inflight: l.inflight_bytes,
            text: l.record_text_bytes,
            tool_calls: l.record_tool_calls,
            json_values: l.json_values,
        }
    }

    /// The room one exchange has for its response.
    pub fn room(&self) -> Room {
        Room::new(self.text, self.tool_calls)
    }
}

/// What an exchange's head (meta, headers, folded stream) counts for in the recorder's queue.
pub const EXCHANGE_HEAD: usize = 2 << 10;

/// A finished exchange on its way to the recorder thread.
#[derive(Debug)]
pub struct Finished {
    pub meta: ExchangeMeta,
    pub request_body: Capture,
    pub response: Option<ResponseMeta>,
    pub body: ResponseCapture,
    pub outcome: Outcome,
    pub ended: Instant,
    pub ended_ms: Millis,
}

/// Follows one exchange from request to end; hands it off exactly once
/// (on [`ExchangeRecorder::finish`], or on drop as `ClientGone`).
#[derive(Debug)]
pub struct ExchangeRecorder {
    meta: Option<ExchangeMeta>,
    request_body: SharedCapture,
    response: Option<ResponseMeta>,
    body: ResponseCapture,
    limits: RecordLimits,
    tx: tokio::sync::mpsc::UnboundedSender<Finished>,
    stats: Arc<ProxyStats>,
    budget: Option<Arc<Budget>>,
}

impl ExchangeRecorder {
    pub fn new(
        meta: ExchangeMeta,
        request_body: SharedCapture,
        limits: RecordLimits,
        tx: tokio::sync::mpsc::UnboundedSender<Finished>,
        stats: Arc<ProxyStats>,
    ) -> ExchangeRecorder {
        ExchangeRecorder {
            meta: Some(meta),
            request_body,
            response: None,
            body: ResponseCapture::Count(0),
            limits,
            tx,
            stats,
            budget: None,
        }
    }

    /// Holds the response copies of this exchange against `budget`.
    pub fn with_budget(mut self, budget: Arc<Budget>) -> ExchangeRecorder {
        self.budget = Some(budget);
        self
    }

    fn hold(&self) -> Held {
        self.budget.as_ref().map(Budget::hold).unwrap_or_default()
    }

    /// The response head arrived: decide how its body is kept.
    pub fn on_response(&mut self, resp: ResponseMeta) {
        let api = self.meta.as_ref().and_then(|m| m.route.api);
        let sse = resp.content_type.starts_with("text/event-stream");
        self.body = match api {
            Some(api) if sse && resp.content_encoding.is_none() => {
                ResponseCapture::Stream(Box::new(SseCapture::new(api, &self.limits, self.hold())))
            }
            Some(_) if !sse => {
                ResponseCapture::Body(Capture::held_in(self.limits.response_body, self.hold()))
            }
            _ => ResponseCapture::Count(0),
        };
        self.response = Some(resp);
    }

    /// A chunk of response body passed through.
    pub fn on_data(&mut self, data: &Bytes) {
        match &mut self.body {
            ResponseCapture::Count(n) => *n += data.len() as u64,
            ResponseCapture::Body(c) => c.push(data),
            ResponseCapture::Stream(s) => s.on_data(data),
        }
    }

    /// The exchange was refused before anything was forwarded: nothing is recorded.
    pub fn cancel(&mut self) {
        self.meta = None;
    }

    /// Hands the exchange to the recorder (once; later calls do nothing).
    pub fn finish(&mut self, outcome: Outcome) {
        let Some(meta) = self.meta.take() else {
            return;
        };
        let request_body = match self.request_body.lock() {
            Ok(mut c) => std::mem::take(&mut *c),
            Err(_) => Capture::default(),
        };
        let ended = Instant::now();
        if let Some(p) = &self.stats.phases {
            if let Some(r) = &self.response {
                p.add(Phase::Body, ended.saturating_duration_since(r.at));
            }
            p.add(Phase::Total, ended.saturating_duration_since(meta.started));
        }
        let done = Finished {
            meta,
            request_body,
            response: self.response.take(),
            body: std::mem::replace(&mut self.body, ResponseCapture::Count(0)),
            outcome,
            ended,
            ended_ms: chrono::Utc::now().timestamp_millis(),
        };
        // Exchanges waiting for the recorder are bounded in bytes, not in
        // count: a burst of any number of small exchanges is all recorded.
        // Past the bound the copy is dropped, counted and named at once.
        let size = done.held_bytes();
        let seq = done.meta.seq;
        let queued = self.stats.queued_bytes.fetch_add(size, Ordering::Relaxed);
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        let full = queued + size > self.limits.queue_bytes as u64;
        if full || self.tx.send(done).is_err() {
            self.stats.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            self.stats.queued.fetch_sub(1, Ordering::Relaxed);
            let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            let why = if full {
                format!(
                    "{} MB of exchanges already wait for the store",
                    queued >> 20
                )
            } else {
                "the recorder has stopped".to_string()
            };
            crate::notice::warn(
                "proxy-dropped",
                format!("proxy: recording of exchange #{seq} dropped: {why} ({n} dropped so far; forwarding is unaffected)"),
            );
        }
    }
}

impl Finished {
    /// Bytes this exchange holds while it waits for the recorder: its bodies
    /// and a fixed share for its head, so the queue's byte bound also bounds
    /// how many exchanges may wait.
    pub fn held_bytes(&self) -> u64 {
        let body = match &self.body {
            ResponseCapture::Body(c) => c.kept(),
            ResponseCapture::Stream(s) => s.pending(),
            ResponseCapture::Count(_) => 0,
        };
        (EXCHANGE_HEAD + self.request_body.kept() + body) as u64
    }
}

impl Drop for ExchangeRecorder {
    fn drop(&mut self) {
        self.finish(Outcome::ClientGone);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proxy::route::Api;
    use std::sync::Mutex;

    /// A chat-completions exchange's head, for tests.
    pub(crate) fn meta() -> ExchangeMeta {
        ExchangeMeta {
            seq: 1,
            route: Route {
                provider: super::super::route::Provider::OpenAi,
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
        }
    }

    #[test]
    fn hand_off_is_bounded_in_bytes_and_happens_once() {
        let stats = Arc::new(ProxyStats::default());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let limits = RecordLimits {
            queue_bytes: EXCHANGE_HEAD + 10,
            ..RecordLimits::default()
        };
        let big: SharedCapture = Arc::new(Mutex::new(Capture::new(100)));
        big.lock().unwrap().push(&[b'x'; 11]);
        let mut r = ExchangeRecorder::new(meta(), big, limits, tx.clone(), stats.clone());
        r.finish(Outcome::Complete);
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 1);
        assert!(rx.try_recv().is_err());
        assert_eq!(stats.queued_bytes.load(Ordering::Relaxed), 0);

        let small: SharedCapture = Arc::new(Mutex::new(Capture::new(100)));
        small.lock().unwrap().push(b"{}");
        let r = ExchangeRecorder::new(meta(), small, limits, tx, stats.clone());
        drop(r);
        let got = rx.try_recv().unwrap();
        assert_eq!(got.outcome, Outcome::ClientGone);
        assert_eq!(
            stats.queued_bytes.load(Ordering::Relaxed),
            EXCHANGE_HEAD as u64 + 2
        );
        assert!(rx.try_recv().is_err(), "handed off exactly once");
    }

    #[test]
    fn a_stream_keeps_what_its_room_allows_and_holds_it() {
        let budget = Budget::new(1 << 20);
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let limits = RecordLimits {
            text: 64,
            ..RecordLimits::default()
        };
        let cap: SharedCapture = Arc::new(Mutex::new(Capture::new(100)));
        let mut r = ExchangeRecorder::new(meta(), cap, limits, tx, Arc::new(ProxyStats::default()))
            .with_budget(budget.clone());
        r.on_response(ResponseMeta {
            status: 200,
            headers: hyper::HeaderMap::new(),
            content_type: "text/event-stream".into(),
            content_encoding: None,
            at: Instant::now(),
        });
        for i in 0..20 {
            let ev = format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}}}}]}}\n\n"
            );
            r.on_data(&Bytes::from(ev));
        }
        let ResponseCapture::Stream(s) = &mut r.body else {
            panic!("stream expected")
        };
        s.settle();
        assert!(s.held.bytes() <= 64 && s.held.bytes() > 0);
        assert_eq!(budget.used(), s.held.bytes());
        let resp = s.fold.take().unwrap().finish();
        assert!(resp.text.len() <= 64 && resp.text.ends_with(' '));
        assert!(resp.truncated && resp.dropped_bytes > 0);
    }
}
