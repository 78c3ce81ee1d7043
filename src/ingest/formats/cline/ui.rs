//! Cline / Roo Code / Kilo Code `ui_messages.json`: one `llm` span per API
//! request (`api_req_started`, or the separate `api_req_finished` of early
//! versions), errors as `event` spans, the run's first and last times.

use super::super::common::{nonempty, run_update, str_of, title_of, Problems};
use super::super::{FormatError, Record};
use super::{Task, UI_ERRORS};
use crate::ingest::formats::json::Value;
use crate::model::{Millis, Span, SpanKind, SpanStatus};

impl Task<'_> {
    /// `ui_messages.json`.
    pub(super) fn ui(&self, items: &[Value], out: &mut Vec<Record>) -> Result<(), FormatError> {
        let mut problems = Problems::default();
        let mut req: Option<Span> = None;
        let mut first = None;
        let mut last = None;
        for (i, m) in items.iter().enumerate() {
            let Some(ts) = m.get("ts").and_then(Value::as_i64) else {
                problems.note(format!("message {}: no ts", i + 1));
                continue;
            };
            first = first.or(Some(ts));
            last = Some(ts);
            if let Some(mut open) = req.take() {
                open.end_ms = Some(ts);
                out.push(Record::Span(open));
            }
            let kind = str_of(m, "say")
                .or_else(|| str_of(m, "ask"))
                .unwrap_or_default();
            let text = str_of(m, "text").unwrap_or_default();
            match kind {
                "api_req_started" => req = Some(self.request(m, ts, text)),
                "api_req_finished" => {
                    // Early versions reported the usage on a separate finish message.
                    if let Some(Record::Span(prev)) = out
                        .iter_mut()
                        .rev()
                        .find(|r| matches!(r, Record::Span(s) if s.kind == SpanKind::Llm))
                    {
                        usage(prev, text);
                    }
                }
                "task" => {
                    let mut r = run_update(&self.run, self.agent, self.origin);
                    r.title = title_of(text);
                    out.push(Record::Run(r));
                }
                k if UI_ERRORS.contains(&k) => {
                    let mut s =
                        self.span(format!("{}:ui{ts}", self.run), SpanKind::Event, k, Some(ts));
                    s.status = SpanStatus::Error;
                    s.text = Some(text.to_owned());
                    out.push(Record::Span(s));
                }
                _ => {}
            }
        }
        if let Some(open) = req {
            out.push(Record::Span(open));
        }
        let mut r = run_update(&self.run, self.agent, self.origin);
        r.started_ms = first;
        r.ended_ms = last;
        out.push(Record::Run(r));
        out.extend(self.superseded_requests().into_iter().map(Record::Span));
        problems.result("cline", "UI messages", items.len())
    }

    /// One API request's llm span.
    fn request(&self, m: &Value, ts: Millis, text: &str) -> Span {
        let mut s = self.span(
            format!("{}:req{ts}", self.run),
            SpanKind::Llm,
            "api_request",
            Some(ts),
        );
        s.end_ms = None;
        s.model = m
            .get("modelInfo")
            .and_then(|i| nonempty(i, "modelId"))
            .map(str::to_owned);
        s.status = SpanStatus::Ok;
        usage(&mut s, text);
        s
    }
}

/// Reads `{tokensIn, tokensOut, cacheWrites, cacheReads, cost, cancelReason}` onto an llm span.
fn usage(s: &mut Span, text: &str) {
    let Ok(info) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let n = |k: &str| info.get(k).and_then(serde_json::Value::as_u64);
    let (tin, tout, cw, cr) = (
        n("tokensIn"),
        n("tokensOut"),
        n("cacheWrites"),
        n("cacheReads"),
    );
    if tin.is_some() || tout.is_some() {
        // Anthropic's way whatever the provider: `tokensIn` leaves the cache out.
        crate::usage::Usage::anthropic(
            tin.unwrap_or(0),
            cw.unwrap_or(0),
            cr.unwrap_or(0),
            0,
            tout.unwrap_or(0),
        )
        .put(s);
        s.attributes
            .insert("cache_creation_input_tokens".into(), cw.unwrap_or(0).into());
        s.attributes
            .insert("cache_read_input_tokens".into(), cr.unwrap_or(0).into());
    }
    if let Some(c) = info.get("cost").filter(|c| c.is_number()) {
        s.attributes.insert("cost".into(), c.clone());
    }
    for k in ["cancelReason", "streamingFailedMessage"] {
        if let Some(r) = info.get(k).and_then(serde_json::Value::as_str) {
            s.status = SpanStatus::Error;
            s.attributes.insert(k.into(), r.into());
        }
    }
}
