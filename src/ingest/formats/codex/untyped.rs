//! Codex rollout lines and payloads that carry no `type`: what they are, read
//! from the fields they do carry, so a line with content is read instead of
//! counted as a parse error.
//!
//! Rollout writers older and newer than the `{timestamp, type, payload}`
//! envelope (and tools that rewrite rollouts) leave the tag out in two places:
//! an envelope whose `payload` has no sibling `type`, and a bare response item
//! with no `type` of its own. A line that carries nothing recognisable stays
//! an error.

use super::BARE_ITEMS;
use crate::ingest::formats::common::str_of;
use crate::ingest::formats::json::Value;

/// The response item kind of a payload or bare line without `type`:
/// a message (role and content), a call's output (`call_id` and `output`), a
/// function call (`call_id`, `name`, `arguments`), a custom tool call
/// (`call_id`, `name`, `input`), reasoning (a `summary` list).
pub fn item_kind(p: &Value) -> Option<&'static str> {
    let has = |k: &str| p.get(k).is_some();
    if has("role") && has("content") {
        Some("message")
    } else if has("call_id") && has("output") {
        Some("function_call_output")
    } else if has("call_id") && has("name") && has("arguments") {
        Some("function_call")
    } else if has("call_id") && has("name") && has("input") {
        Some("custom_tool_call")
    } else if matches!(p.get("summary"), Some(Value::Array(_))) {
        Some("reasoning")
    } else {
        None
    }
}

/// The envelope tag of a line whose `payload` came without `type`: a typed
/// response item or an untyped one is a `response_item`; another typed
/// payload an `event_msg`; the session header (`id` with `cwd`,
/// `cli_version`, `originator` or `instructions`) `session_meta`; a turn's
/// settings (`turn_id` or `model` with `cwd` / `approval_policy`)
/// `turn_context`; a compaction (`replacement_history`) `compacted`; token
/// usage (`info` holding `total_token_usage`) an `event_msg` token count.
pub fn envelope_tag(p: &Value) -> Option<&'static str> {
    let has = |k: &str| p.get(k).is_some();
    match str_of(p, "type") {
        Some(t) if BARE_ITEMS.contains(&t) => return Some("response_item"),
        Some(_) => return Some("event_msg"),
        None => {}
    }
    if item_kind(p).is_some() {
        Some("response_item")
    } else if has("id")
        && ["cwd", "cli_version", "originator", "instructions"]
            .iter()
            .any(|k| has(k))
    {
        Some("session_meta")
    } else if (has("turn_id") || has("model")) && (has("cwd") || has("approval_policy")) {
        Some("turn_context")
    } else if has("replacement_history") {
        Some("compacted")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value<'static> {
        Value::from(j)
    }

    #[test]
    fn items_are_known_by_their_fields() {
        let cases = [
            (json!({"role":"user","content":[]}), Some("message")),
            (
                json!({"call_id":"c","output":"x"}),
                Some("function_call_output"),
            ),
            (
                json!({"call_id":"c","name":"shell","arguments":"{}"}),
                Some("function_call"),
            ),
            (
                json!({"call_id":"c","name":"apply_patch","input":"*** Begin"}),
                Some("custom_tool_call"),
            ),
            (
                json!({"summary":[],"encrypted_content":"e"}),
                Some("reasoning"),
            ),
            (json!({"call_id":"c"}), None),
            (json!({"foo":1}), None),
        ];
        for (j, want) in cases {
            assert_eq!(item_kind(&v(j.clone())), want, "{j}");
        }
    }

    #[test]
    fn envelopes_are_known_by_their_payload() {
        let cases = [
            (
                json!({"type":"function_call","call_id":"c"}),
                Some("response_item"),
            ),
            (
                json!({"type":"agent_message","message":"m"}),
                Some("event_msg"),
            ),
            (
                json!({"role":"assistant","content":[]}),
                Some("response_item"),
            ),
            (
                json!({"id":"019a","cwd":"/w","cli_version":"0.60.0"}),
                Some("session_meta"),
            ),
            (
                json!({"turn_id":"t1","cwd":"/w","model":"gpt-5"}),
                Some("turn_context"),
            ),
            (
                json!({"message":"","replacement_history":[]}),
                Some("compacted"),
            ),
            (json!({"id":"x"}), None),
            (json!({}), None),
        ];
        for (j, want) in cases {
            assert_eq!(envelope_tag(&v(j.clone())), want, "{j}");
        }
    }
}
