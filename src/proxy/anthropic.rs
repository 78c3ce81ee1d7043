//! Anthropic Messages: request bodies, response bodies and SSE streams →
//! [`LlmRequest`] / [`LlmResponse`].
//!
//! Streams: `content_block_start` opens a block by `index`, `content_block_delta`
//! appends `text_delta` text or `input_json_delta` fragments, `content_block_stop`
//! closes it; usage comes from `message_start` and `message_delta`. Events are
//! JSON-parsed, never matched on bytes (the real server pads objects with spaces).

use super::exchange::{
    arguments_text, content_text, error_text, str_of, u64_of, LlmRequest, LlmResponse, Message,
    ToolCall, ToolResult,
};
use super::room::Room;
use serde_json::Value;

/// Messages request body.
pub fn request(v: &Value) -> LlmRequest {
    let mut req = LlmRequest {
        model: str_of(v, "model"),
        stream: v.get("stream").and_then(Value::as_bool).unwrap_or(false),
        system: v.get("system").map(content_text).filter(|s| !s.is_empty()),
        session: v
            .get("metadata")
            .and_then(|m| m.get("user_id"))
            .and_then(Value::as_str)
            .and_then(session_of_user_id),
        ..LlmRequest::default()
    };
    for m in v
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut msg = Message {
            role: str_of(m, "role").unwrap_or_default(),
            ..Message::default()
        };
        match m.get("content") {
            Some(Value::String(s)) => msg.text = s.clone(),
            Some(Value::Array(blocks)) => {
                for b in blocks {
                    block_into(b, &mut msg);
                }
            }
            _ => {}
        }
        req.messages.push(msg);
    }
    req.tools = v
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| str_of(t, "name").or_else(|| str_of(t, "type")))
        .collect();
    req
}

/// Claude Code puts `user_<hash>_account_<uuid>_session_<uuid>` (or a JSON
/// object with `session_id`) in `metadata.user_id`: only the session part
/// identifies a conversation; a bare user id does not.
fn session_of_user_id(user_id: &str) -> Option<String> {
    if let Some(i) = user_id.rfind("_session_") {
        let s = &user_id[i + "_session_".len()..];
        return (!s.is_empty()).then(|| s.to_string());
    }
    let v: Value = serde_json::from_str(user_id).ok()?;
    str_of(&v, "session_id")
}

fn block_into(b: &Value, msg: &mut Message) {
    match b.get("type").and_then(Value::as_str) {
        Some("text") => {
            if let Some(t) = b.get("text").and_then(Value::as_str) {
                if !msg.text.is_empty() {
                    msg.text.push('\n');
                }
                msg.text.push_str(t);
            }
        }
        Some("tool_use") | Some("server_tool_use") | Some("mcp_tool_use") => {
            msg.tool_calls.push(ToolCall {
                id: str_of(b, "id").unwrap_or_default(),
                name: str_of(b, "name").unwrap_or_default(),
                arguments: arguments_text(b.get("input")),
            })
        }
        Some("tool_result") | Some("mcp_tool_result") => msg.tool_results.push(ToolResult {
            call_id: str_of(b, "tool_use_id").unwrap_or_default(),
            output: b.get("content").map(content_text).unwrap_or_default(),
            is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
        }),
        _ => {}
    }
}

/// Messages response body (`type: "message"`), or an error body.
pub fn response(v: &Value) -> LlmResponse {
    let mut r = LlmResponse {
        id: str_of(v, "id"),
        model: str_of(v, "model"),
        finish_reason: str_of(v, "stop_reason"),
        error: error_text(v),
        ..LlmResponse::default()
    };
    let mut msg = Message::default();
    for b in v
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        block_into(b, &mut msg);
    }
    r.text = msg.text;
    r.tool_calls = msg.tool_calls;
    usage(v.get("usage"), &mut r);
    r
}

fn usage(u: Option<&Value>, r: &mut LlmResponse) {
    let Some(u) = u.filter(|u| u.is_object()) else {
        return;
    };
    // Anthropic counts cached input apart; the span's input is everything read.
    let base = u64_of(u, "input_tokens");
    let created = u64_of(u, "cache_creation_input_tokens").unwrap_or(0);
    let read = u64_of(u, "cache_read_input_tokens").unwrap_or(0);
    if let Some(b) = base {
        r.input_tokens = Some(b + created + read);
        r.cached_tokens = Some(read);
        r.cache_write_tokens = Some(created);
        r.cache_write_1h_tokens = u
            .get("cache_creation")
            .and_then(|c| u64_of(c, "ephemeral_1h_input_tokens"));
    }
    if let Some(o) = u64_of(u, "output_tokens") {
        r.output_tokens = Some(o);
    }
}

/// One open content block of a stream.
#[derive(Debug)]
enum Block {
    Text,
    Tool(ToolCall),
    Other,
}

/// Folds a Messages event stream.
#[derive(Debug, Default)]
pub struct MessagesStream {
    resp: LlmResponse,
    blocks: Vec<(u64, Block)>,
    pub stopped: bool,
    room: Room,
}

impl MessagesStream {
    /// A fold keeping what `room` allows.
    pub fn with_room(room: Room) -> MessagesStream {
        MessagesStream {
            room,
            ..MessagesStream::default()
        }
    }

    /// The room left (for memory accounting as the stream passes).
    pub fn room_mut(&mut self) -> &mut Room {
        &mut self.room
    }

    /// One SSE event's data (the `type` inside is authoritative).
    pub fn on_data(&mut self, data: &str) {
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return;
        };
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                let m = v.get("message").unwrap_or(&Value::Null);
                self.resp.id = str_of(m, "id");
                self.resp.model = str_of(m, "model");
                usage(m.get("usage"), &mut self.resp);
            }
            "content_block_start" => {
                let index = u64_of(&v, "index").unwrap_or(0);
                let cb = v.get("content_block").unwrap_or(&Value::Null);
                if !self.room.admit_call() {
                    return;
                }
                let block = match cb.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(t) = cb.get("text").and_then(Value::as_str) {
                            self.push_text(t);
                        }
                        Block::Text
                    }
                    Some("tool_use") | Some("server_tool_use") | Some("mcp_tool_use") => {
                        let input = cb.get("input");
                        // The start carries `input: {}`; the real input streams as fragments.
                        let initial = match input {
                            Some(Value::Object(o)) if o.is_empty() => String::new(),
                            other => arguments_text(other),
                        };
                        let mut call = ToolCall::default();
                        self.room
                            .set(&mut call.id, str_of(cb, "id").unwrap_or_default());
                        self.room
                            .set(&mut call.name, str_of(cb, "name").unwrap_or_default());
                        self.room.set(&mut call.arguments, initial);
                        Block::Tool(call)
                    }
                    _ => Block::Other,
                };
                self.blocks.push((index, block));
            }
            "content_block_delta" => {
                let index = u64_of(&v, "index").unwrap_or(0);
                let d = v.get("delta").unwrap_or(&Value::Null);
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        if let Some(t) = d.get("text").and_then(Value::as_str) {
                            self.push_text(t);
                        }
                    }
                    Some("input_json_delta") => {
                        let frag = d.get("partial_json").and_then(Value::as_str).unwrap_or("");
                        match self.blocks.iter_mut().rev().find(|(i, _)| *i == index) {
                            Some((_, Block::Tool(call))) => {
                                self.room.push(&mut call.arguments, frag)
                            }
                            Some(_) => {}
                            None => self.room.drop_bytes(frag.len()),
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(sr) = v.get("delta").and_then(|d| str_of(d, "stop_reason")) {
                    self.resp.finish_reason = Some(sr);
                }
                usage(v.get("usage"), &mut self.resp);
            }
            "message_stop" => self.stopped = true,
            "error" => self.resp.error = error_text(&v),
            _ => {}
        }
    }

    fn push_text(&mut self, t: &str) {
        self.room.push(&mut self.resp.text, t);
    }

    /// What the stream said, as far as it got; tool inputs are normalised JSON when they parse.
    pub fn finish(self) -> LlmResponse {
        let mut r = self.resp;
        self.room.mark(&mut r);
        for (_, b) in self.blocks {
            match b {
                Block::Tool(mut call) => {
                    if call.arguments.is_empty() {
                        call.arguments = "{}".into();
                    }
                    r.tool_calls.push(call);
                }
                Block::Text | Block::Other => {}
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_blocks_and_session() {
        let req = request(&json!({
            "model":"claude","system":[{"type":"text","text":"sys"}],
            "metadata":{"user_id":"user_abc_account_def_session_1234-5678"},
            "messages":[
              {"role":"user","content":"hello"},
              {"role":"assistant","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"a.txt"}],"is_error":true}]}
            ],
            "tools":[{"name":"Bash"},{"type":"web_search_20250305","name":"web_search"}]
        }));
        assert_eq!(req.system.as_deref(), Some("sys"));
        assert_eq!(req.session.as_deref(), Some("1234-5678"));
        assert_eq!(
            req.messages[1].tool_calls[0].arguments,
            "{\"command\":\"ls\"}"
        );
        let tr = &req.messages[2].tool_results[0];
        assert_eq!(
            (tr.call_id.as_str(), tr.output.as_str(), tr.is_error),
            ("toolu_1", "a.txt", true)
        );
        assert_eq!(req.tools, vec!["Bash", "web_search"]);
        let plain = request(&json!({"metadata":{"user_id":"just-a-user"}}));
        assert_eq!(plain.session, None);
    }

    #[test]
    fn stream_error_mid_way_keeps_partial() {
        let mut s = MessagesStream::default();
        s.on_data(r#"{"type":"message_start","message":{"id":"msg_1","model":"c","usage":{"input_tokens":3,"output_tokens":1}}}"#);
        s.on_data(
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        );
        s.on_data(r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"par"}}"#);
        s.on_data(
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
        );
        let r = s.finish();
        assert_eq!(r.text, "par");
        assert_eq!(r.error.as_deref(), Some("overloaded_error: Overloaded"));
        assert_eq!(r.input_tokens, Some(3));
    }

    #[test]
    fn usage_keeps_cache_reads_and_writes_apart() {
        let r = response(&serde_json::json!({
            "id": "msg_1", "model": "claude-x", "content": [],
            "usage": {"input_tokens": 3, "cache_creation_input_tokens": 100,
                      "cache_read_input_tokens": 50, "output_tokens": 7,
                      "cache_creation": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40}}
        }));
        // Anthropic's input_tokens leaves the cache out: the span's input is all 153.
        assert_eq!(r.input_tokens, Some(153));
        assert_eq!(
            (r.cached_tokens, r.cache_write_tokens),
            (Some(50), Some(100))
        );
        assert_eq!(r.cache_write_1h_tokens, Some(40));
    }
}
