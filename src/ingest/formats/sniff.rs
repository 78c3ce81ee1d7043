//! Format sniffing: which format one JSON value belongs to, from its shape alone.
//!
//! Only top-level keys are looked at (a few map lookups per value), so sniffing
//! every line of a mixed file costs next to nothing beside the JSON decode.

use super::Format;
use crate::ingest::formats::json::Value;

/// Record types Claude Code writes at the top level of a transcript line.
const CLAUDE_TYPES: &[&str] = &[
    "user",
    "assistant",
    "system",
    "summary",
    "progress",
    "file-history-snapshot",
    "queue-operation",
    "attachment",
    "custom-title",
    "agent-name",
    "pr-link",
    "last-prompt",
];

/// Codex rollout line tags (`{"timestamp","type","payload"}`).
const CODEX_TAGS: &[&str] = &[
    "session_meta",
    "response_item",
    "event_msg",
    "turn_context",
    "compacted",
];

/// Response items older Codex rollouts wrote bare, without the tag/payload envelope.
const CODEX_BARE_ITEMS: &[&str] = &[
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "local_shell_call",
    "web_search_call",
    "reasoning",
];

/// The format of one record, or `None` when it is not a trace record at all.
pub fn sniff(v: &Value) -> Option<Format> {
    let o = v.as_object()?;
    if o.contains_key("skilltrace") {
        return Some(Format::Native);
    }
    if o.contains_key("resourceSpans") {
        return Some(Format::Otlp);
    }
    if let Some(obj) = o.get("object").and_then(Value::as_str) {
        return matches!(obj, "trace" | "trace.span").then_some(Format::OpenaiAgents);
    }
    if let Some(Value::Array(items)) = o.get("data") {
        let is_agents = items
            .first()
            .and_then(|i| i.get("object"))
            .and_then(Value::as_str);
        if matches!(is_agents, Some("trace" | "trace.span")) {
            return Some(Format::OpenaiAgents);
        }
    }
    if let Some(t) = o.get("type").and_then(Value::as_str) {
        if o.contains_key("payload") {
            return CODEX_TAGS.contains(&t).then_some(Format::Codex);
        }
        let claude_ids = ["sessionId", "uuid", "leafUuid", "messageId"]
            .iter()
            .any(|k| o.contains_key(k));
        if claude_ids && CLAUDE_TYPES.contains(&t) {
            return Some(Format::ClaudeCode);
        }
        if CODEX_BARE_ITEMS.contains(&t) && (o.contains_key("call_id") || t == "reasoning") {
            return Some(Format::Codex);
        }
        if t == "message" && o.contains_key("role") && o.contains_key("content") {
            return Some(Format::Codex);
        }
        return None;
    }
    // Older Codex rollouts: a bare session header, and `{"record_type":"state"}` lines.
    if o.contains_key("record_type") {
        return Some(Format::Codex);
    }
    if o.contains_key("id")
        && o.contains_key("timestamp")
        && (o.contains_key("instructions") || o.contains_key("git"))
    {
        return Some(Format::Codex);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_format_is_recognised_by_its_keys() {
        let cases = [
            (
                json!({"skilltrace":1,"type":"span","span":{}}),
                Some(Format::Native),
            ),
            (json!({"resourceSpans":[]}), Some(Format::Otlp)),
            (
                json!({"object":"trace.span","id":"span_1"}),
                Some(Format::OpenaiAgents),
            ),
            (
                json!({"object":"trace","id":"trace_1"}),
                Some(Format::OpenaiAgents),
            ),
            (json!({"object":"chat.completion"}), None),
            (
                json!({"data":[{"object":"trace"}]}),
                Some(Format::OpenaiAgents),
            ),
            (
                json!({"type":"session_meta","payload":{}}),
                Some(Format::Codex),
            ),
            (json!({"type":"user","payload":{}}), None),
            (
                json!({"type":"user","sessionId":"s","uuid":"u"}),
                Some(Format::ClaudeCode),
            ),
            (
                json!({"type":"summary","summary":"x","leafUuid":"u"}),
                Some(Format::ClaudeCode),
            ),
            (
                json!({"type":"function_call","call_id":"c","name":"shell"}),
                Some(Format::Codex),
            ),
            (
                json!({"type":"message","role":"user","content":[]}),
                Some(Format::Codex),
            ),
            (json!({"record_type":"state"}), Some(Format::Codex)),
            (
                json!({"id":"x","timestamp":"t","instructions":null}),
                Some(Format::Codex),
            ),
            (json!({"type":"user"}), None),
            (json!({"hello":"world"}), None),
            (json!([1, 2]), None),
            (json!(null), None),
        ];
        for (v, want) in cases {
            assert_eq!(sniff(&Value::from(v.clone())), want, "{v}");
        }
    }
}
