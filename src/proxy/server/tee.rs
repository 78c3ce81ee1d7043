//! The two body adapters between client and upstream: [`RequestTee`] sends the
//! client's body upstream (read ahead up to the recording limit, then streamed)
//! while copying it to the capture; `ResponseTee` streams the upstream's answer
//! back, feeding the exchange's recorder and enforcing the idle timeout.

use super::{describe, BoxError};
use crate::proxy::capture::{ExchangeRecorder, Outcome, SharedCapture};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The client's request body on its way upstream: frames already read (an
/// understood API's body is read ahead, up to the recording limit, so it is
/// recorded even when the upstream cannot be reached), then the rest of the
/// client's body, copied (up to the limit) on the side.
pub struct RequestTee {
    queued: VecDeque<Frame<Bytes>>,
    queued_len: u64,
    inner: Option<Incoming>,
    capture: SharedCapture,
}

impl RequestTee {
    /// Reads the body ahead until it ends or passes `limit` bytes; `Err` when the client broke off.
    pub(super) async fn read_ahead(
        mut body: Incoming,
        limit: usize,
        capture: SharedCapture,
    ) -> Result<RequestTee, hyper::Error> {
        let mut queued = VecDeque::new();
        let mut len = 0u64;
        let mut copy = Vec::new();
        let ended = loop {
            match body.frame().await {
                None => break true,
                Some(Err(e)) => return Err(e),
                Some(Ok(frame)) => {
                    if let Some(d) = frame.data_ref() {
                        len += d.len() as u64;
                        copy.push(d.clone());
                    }
                    queued.push_back(frame);
                    if len > limit as u64 {
                        break false;
                    }
                }
            }
        };
        if let Ok(mut c) = capture.lock() {
            for d in &copy {
                c.push(d);
            }
        }
        Ok(RequestTee {
            queued,
            queued_len: len,
            inner: (!ended).then_some(body),
            capture,
        })
    }

    /// Streams the body through as it comes.
    pub(super) fn streaming(body: Incoming, capture: SharedCapture) -> RequestTee {
        RequestTee {
            queued: VecDeque::new(),
            queued_len: 0,
            inner: Some(body),
            capture,
        }
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
        if let Some(frame) = this.queued.pop_front() {
            if let Some(d) = frame.data_ref() {
                this.queued_len -= d.len() as u64;
            }
            return Poll::Ready(Some(Ok(frame)));
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
        self.queued.is_empty() && self.inner.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            None => SizeHint::with_exact(self.queued_len),
            Some(inner) => {
                let h = inner.size_hint();
                let mut out = SizeHint::new();
                out.set_lower(h.lower() + self.queued_len);
                if let Some(u) = h.upper() {
                    out.set_upper(u + self.queued_len);
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
