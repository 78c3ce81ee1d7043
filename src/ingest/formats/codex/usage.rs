//! Token usage of a Codex rollout, counted once per model response.
//!
//! Two records carry it: the `event_msg` `token_count` event
//! (`info.last_token_usage`, with a cumulative `total_token_usage` that a
//! repeated report leaves unchanged), and, from rust-v0.153, the per-response
//! `token_usage_record` (`thread_id`, `response_id`, `turn_id`, `usage`),
//! which may twin it. Both put their figures on the llm span of the response
//! they close, so a twin overwrites rather than adds; once a file has shown a
//! `token_usage_record`, its `token_count` events are not used for usage at
//! all. A record naming another thread (a parent's, copied into a child) is
//! not this run's spend.

use super::super::common::nonempty;
use super::{CodexParser, Record};
use crate::ingest::formats::json::Value;
use crate::model::{Millis, Origin, Span, SpanKind};

/// Where the usage on the last llm span came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tokens {
    /// None yet.
    Missing,
    /// A `token_count` event.
    Count,
    /// A `token_usage_record`.
    Record,
}

impl CodexParser {
    /// `event_msg` `token_count`: one request's usage on its llm span (duplicates skipped).
    pub(super) fn tokens(
        &mut self,
        p: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) {
        if self.usage_records {
            return; // the per-response records are the account
        }
        let Some(info) = p.get("info").filter(|i| !i.is_null()) else {
            return;
        };
        let total = info
            .get("total_token_usage")
            .and_then(|t| t.get("total_tokens"))
            .and_then(Value::as_u64);
        if total.is_some() && total == self.last_total {
            return; // the same report again
        }
        self.last_total = total;
        let Some(last) = info.get("last_token_usage") else {
            return;
        };
        let id = match &self.last_llm {
            Some((id, Tokens::Missing)) => id.clone(),
            _ => format!("llm-L{}", origin.line),
        };
        let s = self.usage_span(id, last, ts, origin);
        self.put_usage(s, Tokens::Count, out);
    }

    /// Top-level `token_usage_record`: one response's usage on its llm span.
    pub(super) fn usage_record(
        &mut self,
        p: &Value,
        ts: Option<Millis>,
        origin: &Origin,
        out: &mut Vec<Record>,
    ) {
        if nonempty(p, "thread_id").is_some_and(|t| t != self.run_id()) {
            return; // another thread's spend
        }
        let Some(usage) = p.get("usage").filter(|u| u.is_object()) else {
            return;
        };
        self.usage_records = true;
        let id = match &self.last_llm {
            Some((id, Tokens::Missing | Tokens::Count)) => id.clone(),
            _ => format!("llm-L{}", origin.line),
        };
        let mut s = self.usage_span(id, usage, ts, origin);
        if let Some(r) = nonempty(p, "response_id") {
            s.attributes.insert("response_id".into(), r.into());
        }
        self.put_usage(s, Tokens::Record, out);
    }

    /// An llm span update carrying `usage` (Codex's names; cached and
    /// cache-written prompt tokens are counted inside `input_tokens`, OpenAI's way).
    fn usage_span(&self, id: String, usage: &Value, ts: Option<Millis>, origin: &Origin) -> Span {
        let n = |k: &str| usage.get(k).and_then(Value::as_u64);
        let mut s = Span::new(id, self.run_id(), SpanKind::Llm, "chat", origin.clone());
        s.end_ms = ts;
        s.model = self.model.clone();
        s.input_tokens = n("input_tokens");
        s.output_tokens = n("output_tokens");
        s.cache_read_tokens = n("cached_input_tokens");
        s.cache_write_tokens = n("cache_write_input_tokens").filter(|w| *w > 0);
        if self.last_llm.as_ref().map(|l| l.0.as_str()) != Some(s.id.as_str()) {
            s.parent_id = self.turn.clone();
            s.start_ms = ts;
        }
        for k in ["cached_input_tokens", "reasoning_output_tokens"] {
            if let Some(x) = n(k) {
                s.attributes.insert(k.into(), x.into());
            }
        }
        s
    }

    fn put_usage(&mut self, s: Span, from: Tokens, out: &mut Vec<Record>) {
        self.last_llm = Some((s.id.clone(), from));
        self.open_llm = None;
        out.push(Record::Span(s));
    }
}
