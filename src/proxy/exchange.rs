//! What the proxy understood of one exchange, independent of the provider:
//! the request's messages and tools, the response's text, tool calls and usage.
//!
//! `openai.rs` and `anthropic.rs` fill these from wire JSON; `record.rs` turns
//! them into spans. Pure data, no I/O.

use serde_json::Value;

/// One tool call the model asked for (or that the client re-sent as history).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    /// `call_...`, `toolu_...`; empty when the wire gave none.
    pub id: String,
    pub name: String,
    /// Arguments as JSON text, reassembled from stream fragments where streamed.
    pub arguments: String,
}

/// A tool result the client sends back to the model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolResult {
    pub call_id: String,
    pub output: String,
    pub is_error: bool,
}

/// One request message, reduced to what recording and grouping need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// `system`, `developer`, `user`, `assistant`, `tool`.
    pub role: String,
    /// Text parts joined with `\n`.
    pub text: String,
    /// Tool calls carried by an assistant message.
    pub tool_calls: Vec<ToolCall>,
    /// Tool results carried by this message.
    pub tool_results: Vec<ToolResult>,
}

/// The request side of an LLM exchange.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LlmRequest {
    pub model: Option<String>,
    pub stream: bool,
    /// System prompt / instructions, text only.
    pub system: Option<String>,
    pub messages: Vec<Message>,
    /// Names of the tools offered to the model.
    pub tools: Vec<String>,
    /// A conversation id carried in the body (Responses `conversation`,
    /// the session part of Anthropic `metadata.user_id`).
    pub session: Option<String>,
    /// Responses API: the response this request continues.
    pub previous_response_id: Option<String>,
}

/// The response side of an LLM exchange.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LlmResponse {
    pub id: Option<String>,
    pub model: Option<String>,
    /// Completion text (first choice for Chat Completions).
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    /// `finish_reason` / `stop_reason` / Responses `status`.
    pub finish_reason: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Of `input_tokens`, those read from the provider's prompt cache.
    pub cached_tokens: Option<u64>,
    /// Of `input_tokens`, those written to the prompt cache (Anthropic).
    pub cache_write_tokens: Option<u64>,
    /// Of `cache_write_tokens`, those kept for an hour (Anthropic).
    pub cache_write_1h_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
    /// An error the API reported (error body or mid-stream `error` event), one line.
    pub error: Option<String>,
    /// True when the exchange's [`super::room::Room`] did not keep everything.
    pub truncated: bool,
    /// Bytes of text and tool-call arguments not kept.
    pub dropped_bytes: u64,
    /// Tool calls (content blocks) not kept.
    pub dropped_tool_calls: u64,
}

/// The string at `v[key]`, if it is one.
pub fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A non-negative integer at `v[key]`.
pub fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// Text of a content value: a string, or the `text` of every part that has one, joined with `\n`.
pub fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            let mut out = String::new();
            for p in parts {
                let t = match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(_) => p
                        .get("text")
                        .and_then(Value::as_str)
                        .or_else(|| p.get("refusal").and_then(Value::as_str)),
                    _ => None,
                };
                if let Some(t) = t {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(t);
                }
            }
            out
        }
        _ => String::new(),
    }
}

/// A JSON arguments value as text: strings as they are, anything else serialised.
pub fn arguments_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// One-line error text from an API error object (`{"error":{"message":..}}` shapes).
pub fn error_text(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    let msg = match e {
        Value::String(s) => s.clone(),
        Value::Object(_) => {
            let kind = str_of(e, "type").or_else(|| str_of(e, "code"));
            let msg = str_of(e, "message").unwrap_or_default();
            match kind {
                Some(k) if !msg.is_empty() => format!("{k}: {msg}"),
                Some(k) => k,
                None => msg,
            }
        }
        Value::Null => return None,
        other => other.to_string(),
    };
    // Whole: the message is redacted with the span it lands in, and only views cut it.
    Some(crate::redact::cut::collapse(&msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_text_joins_parts() {
        assert_eq!(content_text(&json!("hi")), "hi");
        assert_eq!(
            content_text(
                &json!([{"type":"text","text":"a"},{"type":"image"},{"type":"input_text","text":"b"}])
            ),
            "a\nb"
        );
        assert_eq!(content_text(&json!(null)), "");
    }

    #[test]
    fn error_text_shapes() {
        assert_eq!(
            error_text(
                &json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})
            ),
            Some("overloaded_error: Overloaded".to_string())
        );
        assert_eq!(error_text(&json!({"error":null})), None);
    }
}
