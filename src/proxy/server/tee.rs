//! The two body adapters between client and upstream: [`RequestTee`] sends the
//! client's body upstream (read ahead up to the recording limit, then streamed)
//! while copying it to the capture; `ResponseTee` streams the upstream's answer
//! back, feeding the exchange's recorder and enforcing the idle timeout.
//!
//! The read-ahead is one buffer, held against the proxy's in-flight budget,
//! that is both forwarded and recorded (never copied twice, and never a pile of
//! small frames each pinning a larger read buffer).

use super::{describe, BoxError};
use crate::limits::Held;
use crate::proxy::capture::{ExchangeRecorder, Outcome, SharedCapture};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::HeaderMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The client's request body on its way upstream: what was read ahead (an
/// understood API's body is read ahead, up to the recording limit, so it is
/// recorded even when the upstream cannot be reached), then the rest of the
/// client's body, copied (up to the limit) on the side.
pub struct RequestTee {
    ahead: Option<Bytes>,
    trailers: Option<HeaderMap>,
    inner: Option<Incoming>,
    capture: SharedCapture,
}

/// Why a body could not be read ahead.
pub(super) enum AheadError {
    /// The client broke off mid-upload.
    Broken(hyper::Error),
    /// Not received before the deadline.
    Timeout,
    /// The in-flight budget cannot hold it; the rest of the body is handed back to drain.
    Budget(Incoming),
}

impl RequestTee {
    /// Reads the body ahead until it ends or passes `limit` bytes, before
    /// `deadline`, holding what it reads in `held`.
    pub(super) async fn read_ahead(
        mut body: Incoming,
        limit: usize,
        capture: SharedCapture,
        mut held: Held,
        deadline: tokio::time::Instant,
    ) -> Result<RequestTee, AheadError> {
        let mut buf = BytesMut::new();
        if let Some(n) = body.size_hint().exact() {
            let n = usize::try_from(n).unwrap_or(usize::MAX).min(limit + 1);
            if !held.grow(n) {
                return Err(AheadError::Budget(body));
            }
            buf.reserve(n);
        }
        let mut trailers = None;
        let ended = loop {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => return Err(AheadError::Timeout),
                Ok(None) => break true,
                Ok(Some(Err(e))) => return Err(AheadError::Broken(e)),
                Ok(Some(Ok(frame))) => frame,
            };
            let data = match frame.into_data() {
                Ok(d) => d,
                Err(frame) => {
                    trailers = frame.into_trailers().ok();
                    continue;
                }
            };
            let len = buf.len() + data.len();
            if len > buf.capacity() {
                let want = len.max(buf.capacity() * 2).max(held.bytes());
                if !held.resize(want) {
                    return Err(AheadError::Budget(body));
                }
                buf.reserve(want - buf.len());
            }
            buf.extend_from_slice(&data);
            if buf.len() > limit {
                break false;
            }
        };
        let ahead = buf.freeze();
        if let Ok(mut c) = capture.lock() {
            c.set(&ahead, held);
        }
        Ok(RequestTee {
            ahead: Some(ahead),
            trailers,
            inner: (!ended).then_some(body),
            capture,
        })
    }

    /// Streams the body through as it comes.
    pub(super) fn streaming(body: Incoming, capture: SharedCapture) -> RequestTee {
        RequestTee {
            ahead: None,
            trailers: None,
            inner: Some(body),
            capture,
        }
    }

    fn ahead_len(&self) -> u64 {
        self.ahead.as_ref().map_or(0, |b| b.len() as u64)
    }
}

impl Body for RequestTee {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        if let Some(ahead) = this.ahead.take().filter(|b| !b.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(ahead))));
        }
        if let Some(t) = this.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(t))));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let res = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &res {
            if let Some(data) = frame.data_ref() {
                if let Ok(mut c) = this.capture.lock() {
                    c.push(data);
                }
            }
        }
        res
    }

    fn is_end_stream(&self) -> bool {
        self.ahead_len() == 0
            && self.trailers.is_none()
            && self.inner.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let ahead = self.ahead_len();
        match &self.inner {
            None => SizeHint::with_exact(ahead),
            Some(inner) => {
                let h = inner.size_hint();
                let mut out = SizeHint::new();
                out.set_lower(h.lower() + ahead);
                if let Some(u) = h.upper() {
                    out.set_upper(u + ahead);
                }
                out
            }
        }
    }
}

/// The upstream's response body on its way to the client, fed to the recorder
/// frame by frame; ends the exchange when it ends, breaks or is dropped.
pub(super) struct ResponseTee {
    pub(super) inner: Incoming,
    pub(super) rec: ExchangeRecorder,
    pub(super) idle: Duration,
    pub(super) sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for ResponseTee {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.rec.on_data(data);
                }
                if let Some(s) = this.sleep.as_mut() {
                    s.as_mut().reset(tokio::time::Instant::now() + this.idle);
                }
                if this.inner.is_end_stream() {
                    this.rec.finish(Outcome::Complete);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.rec.finish(Outcome::BodyError(describe(&e)));
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.rec.finish(Outcome::Complete);
                Poll::Ready(None)
            }
            Poll::Pending => {
                let idle = this.idle;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                if sleep.as_mut().poll(cx).is_ready() {
                    this.rec.finish(Outcome::IdleTimeout);
                    return Poll::Ready(Some(Err("upstream idle timeout".into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ResponseTee {
    fn drop(&mut self) {
        // A body dropped after its last byte was read is complete, not abandoned.
        if self.inner.is_end_stream() {
            self.rec.finish(Outcome::Complete);
        }
    }
}
