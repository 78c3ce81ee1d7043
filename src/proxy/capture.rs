//! The live side of recording: bounded copies of request and response bodies
//! taken while the bytes are forwarded, and the hand-off of a finished exchange
//! to the recorder thread.
//!
//! Nothing here can slow or cut forwarding: copies stop at the recording limit
//! or when the proxy's in-flight memory budget is full (the copy then says it
//! was truncated and counts what it missed), SSE is parsed incrementally into a
//! bounded [`Room`] (no whole response is kept), and the hand-off is a send on
//! an unbounded channel that never waits: the queue is bounded in bytes
//! instead, and past that bound a copy is dropped, counted and named on stderr
//! at once.

use super::anthropic::MessagesStream;
use super::exchange::LlmResponse;
use super::openai::{ChatStream, ResponsesStream};
use super::room::Room;
use super::route::{Api, Route};
use super::sse::{SseEvent, SseParser};
use super::ProxyStats;
use crate::limits::{Budget, Held, Limits};
use crate::model::Millis;
use bytes::{Bytes, BytesMut};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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

/// A stream being folded as it passes.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per exchange, held boxed inside ResponseCapture"
)]
pub enum StreamFold {
    Chat(ChatStream),
    Responses(ResponsesStream),
    Messages(MessagesStream),
}

impl StreamFold {
    fn for_api(api: Api, room: Room) -> StreamFold {
        match api {
            Api::ChatCompletions => StreamFold::Chat(ChatStream::with_room(room)),
            Api::Responses => StreamFold::Responses(ResponsesStream::with_room(room)),
            Api::Messages => StreamFold::Messages(MessagesStream::with_room(room)),
        }
    }

    fn room_mut(&mut self) -> &mut Room {
        match self {
            StreamFold::Chat(s) => s.room_mut(),
            StreamFold::Responses(s) => s.room_mut(),
            StreamFold::Messages(s) => s.room_mut(),
        }
    }

    fn on_event(&mut self, ev: &SseEvent) {
        match self {
            StreamFold::Chat(s) => s.on_data(&ev.data),
            StreamFold::Responses(s) => s.on_data(&ev.data),
            StreamFold::Messages(s) => s.on_data(&ev.data),
        }
    }

    /// The folded response.
    pub fn finish(self) -> LlmResponse {
        match self {
            StreamFold::Chat(s) => s.finish(),
            StreamFold::Responses(s) => s.finish(),
            StreamFold::Messages(s) => s.finish(),
        }
    }
}

/// How the response body is being kept.
#[derive(Debug)]
pub enum ResponseCapture {
    /// Not kept (no response yet, or a route whose body is not recorded); bytes counted.
    Count(u64),
    /// A bounded copy, parsed when the exchange ends.
    Body(Capture),
    /// An SSE stream folded event by event.
    Stream(Box<SseCapture>),
}

/// An SSE response being parsed as it passes.
#[derive(Debug)]
pub struct SseCapture {
    pub parser: SseParser,
    /// Taken by the recorder when the exchange is turned into records.
    pub fold: Option<StreamFold>,
    /// Events parsed.
    pub events: u64,
    /// Body bytes seen.
    pub bytes: u64,
    /// What the fold keeps, held against the proxy's budget.
    pub held: Held,
}

impl ResponseCapture {
    /// Bytes of response body seen.
    pub fn bytes_seen(&self) -> u64 {
        match self {
            ResponseCapture::Count(n) => *n,
            ResponseCapture::Body(c) => c.total,
            ResponseCapture::Stream(s) => s.bytes,
        }
    }
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
            queue_bytes: 256 << 20,
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
                ResponseCapture::Stream(Box::new(SseCapture {
                    parser: SseParser::new(self.limits.sse_event),
                    fold: Some(StreamFold::for_api(api, self.limits.room())),
                    events: 0,
                    bytes: 0,
                    held: self.hold(),
                }))
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
            ResponseCapture::Stream(s) => {
                s.bytes += data.len() as u64;
                let SseCapture {
                    parser,
                    fold,
                    events,
                    held,
                    ..
                } = &mut **s;
                parser.feed(data, &mut |ev| {
                    *events += 1;
                    if let Some(fold) = fold.as_mut() {
                        fold.on_event(&ev);
                    }
                });
                // Hold what the fold keeps; when the budget cannot, it keeps no more.
                if let Some(room) = fold.as_mut().map(StreamFold::room_mut) {
                    if !held.resize(room.kept()) {
                        room.close();
                    }
                }
            }
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
        let done = Finished {
            meta,
            request_body,
            response: self.response.take(),
            body: std::mem::replace(&mut self.body, ResponseCapture::Count(0)),
            outcome,
            ended: Instant::now(),
            ended_ms: chrono::Utc::now().timestamp_millis(),
        };
        // Exchanges waiting for the recorder are bounded in bytes, not in
        // count: a burst of any number of small exchanges is all recorded.
        // Past the bound the copy is dropped, counted and named at once.
        let size = done.held_bytes();
        let seq = done.meta.seq;
        let queued = self.stats.queued_bytes.fetch_add(size, Ordering::Relaxed);
        let full = queued + size > self.limits.queue_bytes as u64;
        if full || self.tx.send(done).is_err() {
            self.stats.queued_bytes.fetch_sub(size, Ordering::Relaxed);
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
            _ => 0,
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
mod tests {
    use super::*;

    fn meta() -> ExchangeMeta {
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
        assert!(s.held.bytes() <= 64 && s.held.bytes() > 0);
        assert_eq!(budget.used(), s.held.bytes());
        let resp = s.fold.take().unwrap().finish();
        assert!(resp.text.len() <= 64 && resp.text.ends_with(' '));
        assert!(resp.truncated && resp.dropped_bytes > 0);
    }
}
