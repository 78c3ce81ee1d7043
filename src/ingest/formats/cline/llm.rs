//! Cline / Roo Code / Kilo Code: the `llm` spans of a task whose folder holds
//! only `api_conversation_history.json` (no `ui_messages.json`, where the
//! usage normally comes from): one per assistant message, with the model
//! (`modelInfo.modelId`) and the tokens and cost of the message's `metrics`.
//!
//! `metrics.tokens` gives `prompt` (uncached input), `completion` and
//! `cached`, the cache writes and reads together (in a real task
//! `cached` = `cacheWrites` + `cacheReads` of the same request in the UI log).
//! They are told apart the way prompt caching works: a request reads back at
//! most what the request before it had cached, and writes the rest; the span
//! says the split is estimated.
//!
//! A UI log that appears later (a task folder followed while it was copied,
//! or the extension writing it after the conversation) has the exact usage
//! of the same requests: its read marks the conversation's `llm` spans
//! superseded by the UI log (`model::SUPERSEDED_BY`) ([`Task::superseded_requests`]). They stay
//! stored, as evidence, but become `event` spans without tokens or cost, so
//! the task's requests are counted once.

use super::Task;
use crate::ingest::formats::common::nonempty;
use crate::ingest::formats::json::Value;
use crate::model::{Millis, Span, SpanKind, SpanStatus};
use std::path::Path;

/// True when the UI log lies beside the conversation: the usage is read from
/// there, and the conversation yields no `llm` span (nothing counted twice).
pub(super) fn ui_log_beside(history: &str) -> bool {
    Path::new(history)
        .with_file_name("ui_messages.json")
        .is_file()
}

impl Task<'_> {
    /// The `llm` span of assistant message `id` (`m`), sent at `sent` and
    /// answered at `ts`, under the turn's prompt. `cached_before` is what the
    /// previous request had in the cache; it is updated.
    pub(super) fn history_llm(
        &self,
        m: &Value,
        id: &str,
        sent: Option<Millis>,
        ts: Option<Millis>,
        turn: Option<&str>,
        cached_before: &mut Option<u64>,
    ) -> Span {
        let mut s = self.span(
            format!("{id}:llm"),
            SpanKind::Llm,
            "api_request",
            sent.or(ts),
        );
        s.end_ms = ts;
        s.parent_id = turn.map(str::to_owned);
        s.status = SpanStatus::Ok;
        s.model = m
            .get("modelInfo")
            .and_then(|i| nonempty(i, "modelId"))
            .map(str::to_owned);
        let metrics = m.get("metrics");
        let tokens = metrics.and_then(|x| x.get("tokens"));
        let n = |k: &str| tokens.and_then(|t| t.get(k)).and_then(Value::as_u64);
        if let (Some(prompt), Some(completion)) = (n("prompt"), n("completion")) {
            let cached = n("cached").unwrap_or(0);
            let reads = cached.min(cached_before.unwrap_or(0));
            crate::usage::Usage::anthropic(prompt, cached - reads, reads, 0, completion)
                .put(&mut s);
            s.attributes.insert(
                "cache_creation_input_tokens".into(),
                (cached - reads).into(),
            );
            s.attributes
                .insert("cache_read_input_tokens".into(), reads.into());
            if cached > 0 {
                s.attributes.insert(
                    "cache_split".into(),
                    "estimated from the previous request".into(),
                );
            }
            *cached_before = Some(cached);
        }
        if let Some(c) = metrics
            .and_then(|x| x.get("cost"))
            .filter(|c| matches!(c, Value::Number(_)))
        {
            s.attributes.insert("cost".into(), c.to_value());
        }
        s
    }
}

/// An entry of a conversation file, as far as telling replies apart needs.
#[derive(serde::Deserialize)]
struct Entry {
    role: Option<String>,
    #[serde(default)]
    content: Option<serde::de::IgnoredAny>,
}

/// The ids of the `llm` spans a history-only read of the conversation beside
/// the UI log `ui` (run `run`) yields: one per assistant message that has
/// content, as [`Task::history`] numbers them. Empty when there is none or it
/// cannot be read (its own read reports why).
fn history_llm_ids(ui: &str, run: &str) -> Vec<String> {
    let path = Path::new(ui).with_file_name("api_conversation_history.json");
    let Ok(f) = std::fs::File::open(&path) else {
        return Vec::new();
    };
    let entries: Vec<Entry> =
        serde_json::from_reader(std::io::BufReader::new(f)).unwrap_or_default();
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.role.as_deref() == Some("assistant") && e.content.is_some())
        .map(|(i, _)| format!("{run}:m{i}:llm"))
        .collect()
}

impl Task<'_> {
    /// What a read of the UI log says of the conversation's own `llm` spans:
    /// each, if stored, becomes a superseded `event` with no tokens or cost
    /// (the UI log's requests count instead). Updates only: a span never
    /// stored is not created.
    pub(super) fn superseded_requests(&self) -> Vec<Span> {
        history_llm_ids(&self.origin.path, &self.run)
            .into_iter()
            .map(|id| {
                let mut s = self.span(id, SpanKind::Event, "api_request", None);
                crate::usage::Usage::anthropic(0, 0, 0, 0, 0).put(&mut s);
                for k in ["cost", "cache_split"] {
                    s.attributes.insert(k.into(), serde_json::Value::Null);
                }
                for k in ["cache_creation_input_tokens", "cache_read_input_tokens"] {
                    s.attributes.insert(k.into(), 0.into());
                }
                s.attributes.insert(
                    crate::model::SUPERSEDED_BY.into(),
                    "ui_messages.json".into(),
                );
                s
            })
            .collect()
    }
}
