//! How a response body is kept for recording, and the SSE side of it: a stream
//! is copied as it passes (one `memcpy` per frame on the forwarding thread) and
//! folded into an [`LlmResponse`] by the recorder thread, off the response
//! path. Only a stream longer than [`FOLD_AT`] (or one the in-flight budget
//! cannot hold) is folded as it passes, so no whole long response is kept.

use super::RecordLimits;
use crate::limits::Held;
use crate::proxy::anthropic::MessagesStream;
use crate::proxy::exchange::LlmResponse;
use crate::proxy::openai::{ChatStream, ResponsesStream};
use crate::proxy::room::Room;
use crate::proxy::route::Api;
use crate::proxy::sse::{SseEvent, SseParser};

/// Bytes of a stream copied before they are folded where they pass: most
/// answers are shorter, and are folded on the recorder thread.
pub const FOLD_AT: usize = 64 << 10;

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
    pub(super) fn for_api(api: Api, room: Room) -> StreamFold {
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
    Body(super::Capture),
    /// An SSE stream, folded event by event.
    Stream(Box<SseCapture>),
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

/// An SSE response: copied as it passes, folded by [`SseCapture::settle`] on the
/// recorder thread (or as it passes, past [`FOLD_AT`]).
#[derive(Debug)]
pub struct SseCapture {
    pub parser: SseParser,
    /// Taken by the recorder when the exchange is turned into records.
    pub fold: Option<StreamFold>,
    /// Events parsed.
    pub events: u64,
    /// Body bytes seen.
    pub bytes: u64,
    /// Bytes copied and not folded yet.
    pending: Vec<u8>,
    /// What the fold keeps and what waits in `pending`, held against the proxy's budget.
    pub held: Held,
}

impl SseCapture {
    pub(super) fn new(api: Api, limits: &RecordLimits, held: Held) -> SseCapture {
        SseCapture {
            parser: SseParser::new(limits.sse_event),
            fold: Some(StreamFold::for_api(api, limits.room())),
            events: 0,
            bytes: 0,
            pending: Vec::new(),
            held,
        }
    }

    /// A chunk passed through: copied, or (past [`FOLD_AT`], or when the budget
    /// cannot hold the copy) folded here with what waited before it.
    pub(super) fn on_data(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        let waiting = self.pending.len() + data.len();
        let want = self.kept() + waiting;
        if waiting <= FOLD_AT && self.held.resize(want) {
            self.pending.extend_from_slice(data);
            return;
        }
        self.settle();
        self.fold_bytes(data);
        self.hold_kept();
    }

    /// Bytes copied and not folded yet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Folds every byte copied so far (the recorder calls it before reading the fold).
    pub fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.fold_bytes(&pending);
        self.hold_kept();
    }

    fn fold_bytes(&mut self, data: &[u8]) {
        let SseCapture {
            parser,
            fold,
            events,
            ..
        } = self;
        parser.feed(data, &mut |ev| {
            *events += 1;
            if let Some(fold) = fold.as_mut() {
                fold.on_event(&ev);
            }
        });
    }

    /// Bytes the fold keeps.
    fn kept(&mut self) -> usize {
        self.fold
            .as_mut()
            .map_or(0, |f| StreamFold::room_mut(f).kept())
    }

    /// Holds what the fold keeps (and what still waits); when the budget cannot, the fold keeps no more.
    fn hold_kept(&mut self) {
        let want = self.kept() + self.pending.len();
        if !self.held.resize(want) {
            if let Some(room) = self.fold.as_mut().map(StreamFold::room_mut) {
                room.close();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Budget;

    fn chat_event(i: usize) -> String {
        format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}}}}]}}\n\n"
        )
    }

    #[test]
    fn a_short_stream_is_copied_as_it_passes_and_folded_when_settled() {
        let budget = Budget::new(1 << 20);
        let limits = RecordLimits::default();
        let mut s = SseCapture::new(Api::ChatCompletions, &limits, budget.hold());
        let mut sent = 0;
        for i in 0..5 {
            let ev = chat_event(i);
            sent += ev.len();
            s.on_data(ev.as_bytes());
        }
        assert_eq!(
            (s.events, s.pending()),
            (0, sent),
            "nothing parsed on the forwarding path"
        );
        assert_eq!(budget.used(), sent, "the copy is held against the budget");
        s.settle();
        assert_eq!((s.events, s.pending()), (5, 0));
        let resp = s.fold.take().unwrap().finish();
        assert_eq!(resp.text, "word0 word1 word2 word3 word4 ");
        drop(s);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_long_stream_is_folded_as_it_passes_within_fold_at() {
        let budget = Budget::new(64 << 20);
        let limits = RecordLimits::default();
        let mut s = SseCapture::new(Api::ChatCompletions, &limits, budget.hold());
        let mut n = 0;
        while s.bytes < 4 * FOLD_AT as u64 {
            s.on_data(chat_event(n).as_bytes());
            n += 1;
            assert!(s.pending() <= FOLD_AT);
        }
        assert!(s.events > 0, "folded as it passed");
        s.settle();
        assert_eq!(s.events, n as u64, "every event folded once");
    }

    #[test]
    fn a_copy_the_budget_cannot_hold_is_folded_at_once() {
        let budget = Budget::new(32);
        let limits = RecordLimits::default();
        let mut s = SseCapture::new(Api::ChatCompletions, &limits, budget.hold());
        let ev = chat_event(1);
        assert!(ev.len() > 32);
        s.on_data(ev.as_bytes());
        assert_eq!((s.events, s.pending()), (1, 0));
        assert!(budget.used() <= 32);
    }
}
