//! OpenAI Chat Completions and Responses: request bodies, response bodies and
//! SSE streams → [`LlmRequest`] / [`LlmResponse`].
//!
//! Streams are folded event by event: Chat Completions tool-call fragments are
//! keyed by `index` (id and name arrive once, arguments in pieces); Responses
//! events are typed, and `response.completed` (when it arrives) is authoritative.

use super::chat_chunk::Chunk;
use super::exchange::{
    arguments_text, content_text, error_text, str_of, u64_of, LlmRequest, LlmResponse, Message,
    ToolCall, ToolResult,
};
use super::room::Room;
use serde_json::Value;
use std::borrow::Cow;

/// Chat Completions request body.
pub fn chat_request(v: &Value) -> LlmRequest {
    let mut req = LlmRequest {
        model: str_of(v, "model"),
        stream: v.get("stream").and_then(Value::as_bool).unwrap_or(false),
        ..LlmRequest::default()
    };
    let mut system = Vec::new();
    for m in v
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = str_of(m, "role").unwrap_or_default();
        let text = m.get("content").map(content_text).unwrap_or_default();
        let mut msg = Message {
            role: role.clone(),
            text,
            ..Message::default()
        };
        for tc in m
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let f = tc.get("function").unwrap_or(&Value::Null);
            msg.tool_calls.push(ToolCall {
                id: str_of(tc, "id").unwrap_or_default(),
                name: str_of(f, "name").unwrap_or_default(),
                arguments: arguments_text(f.get("arguments")),
            });
        }
        if role == "tool" {
            msg.tool_results.push(ToolResult {
                call_id: str_of(m, "tool_call_id").unwrap_or_default(),
                output: std::mem::take(&mut msg.text),
                is_error: false,
            });
        }
        if (role == "system" || role == "developer") && system.is_empty() {
            system.push(msg.text.clone());
        }
        req.messages.push(msg);
    }
    req.system = system.into_iter().next();
    req.tools = tool_names(v, true);
    req
}

/// Responses request body (`input` string or item list).
pub fn responses_request(v: &Value) -> LlmRequest {
    let mut req = LlmRequest {
        model: str_of(v, "model"),
        stream: v.get("stream").and_then(Value::as_bool).unwrap_or(false),
        system: str_of(v, "instructions"),
        previous_response_id: str_of(v, "previous_response_id"),
        session: match v.get("conversation") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(c @ Value::Object(_)) => str_of(c, "id"),
            _ => None,
        },
        ..LlmRequest::default()
    };
    match v.get("input") {
        Some(Value::String(s)) => req.messages.push(Message {
            role: "user".into(),
            text: s.clone(),
            ..Message::default()
        }),
        Some(Value::Array(items)) => {
            for item in items {
                if let Some(m) = responses_input_item(item) {
                    req.messages.push(m);
                }
            }
        }
        _ => {}
    }
    req.tools = tool_names(v, false);
    req
}

fn responses_input_item(item: &Value) -> Option<Message> {
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    match kind {
        "message" => Some(Message {
            role: str_of(item, "role").unwrap_or_else(|| "user".into()),
            text: item.get("content").map(content_text).unwrap_or_default(),
            ..Message::default()
        }),
        "function_call" | "custom_tool_call" => Some(Message {
            role: "assistant".into(),
            tool_calls: vec![ToolCall {
                id: str_of(item, "call_id").unwrap_or_default(),
                name: str_of(item, "name").unwrap_or_default(),
                arguments: arguments_text(item.get("arguments").or_else(|| item.get("input"))),
            }],
            ..Message::default()
        }),
        "function_call_output" | "custom_tool_call_output" | "local_shell_call_output" => {
            Some(Message {
                role: "tool".into(),
                tool_results: vec![ToolResult {
                    call_id: str_of(item, "call_id").unwrap_or_default(),
                    output: match item.get("output") {
                        Some(Value::String(s)) => s.clone(),
                        Some(o) => content_text(o),
                        None => String::new(),
                    },
                    is_error: false,
                }],
                ..Message::default()
            })
        }
        _ => None,
    }
}

/// Tool names from `tools[]`: nested under `function` (Chat) or flat (Responses).
fn tool_names(v: &Value, nested: bool) -> Vec<String> {
    v.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = if nested {
                t.get("function").and_then(|f| str_of(f, "name"))
            } else {
                None
            };
            name.or_else(|| str_of(t, "name"))
                .or_else(|| str_of(t, "type"))
        })
        .collect()
}

/// Chat Completions response body (`chat.completion`), or an error body.
pub fn chat_response(v: &Value) -> LlmResponse {
    let mut r = LlmResponse {
        id: str_of(v, "id"),
        model: str_of(v, "model"),
        error: error_text(v),
        ..LlmResponse::default()
    };
    for choice in v
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let first = choice.get("index").and_then(Value::as_u64).unwrap_or(0) == 0;
        let msg = choice.get("message").unwrap_or(&Value::Null);
        if first {
            r.text = msg.get("content").map(content_text).unwrap_or_default();
            if r.text.is_empty() {
                r.text = str_of(msg, "refusal").unwrap_or_default();
            }
            r.finish_reason = str_of(choice, "finish_reason");
        }
        for tc in msg
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let f = tc.get("function").unwrap_or(&Value::Null);
            r.tool_calls.push(ToolCall {
                id: str_of(tc, "id").unwrap_or_default(),
                name: str_of(f, "name").unwrap_or_default(),
                arguments: arguments_text(f.get("arguments")),
            });
        }
    }
    chat_usage(v.get("usage"), &mut r);
    r
}

fn chat_usage(u: Option<&Value>, r: &mut LlmResponse) {
    let Some(u) = u.filter(|u| u.is_object()) else {
        return;
    };
    r.input_tokens = u64_of(u, "prompt_tokens").or(r.input_tokens);
    r.output_tokens = u64_of(u, "completion_tokens").or(r.output_tokens);
    r.cached_tokens = u
        .get("prompt_tokens_details")
        .and_then(|d| u64_of(d, "cached_tokens"))
        .or(r.cached_tokens);
    r.reasoning_tokens = u
        .get("completion_tokens_details")
        .and_then(|d| u64_of(d, "reasoning_tokens"))
        .or(r.reasoning_tokens);
}

/// Folds a Chat Completions stream (`data: {chunk}` ... `data: [DONE]`).
#[derive(Debug, Default)]
pub struct ChatStream {
    resp: LlmResponse,
    /// Tool calls by (choice index, tool index), in first-seen order.
    calls: Vec<((u64, u64), ToolCall)>,
    pub done: bool,
    room: Room,
}

impl ChatStream {
    /// A fold keeping what `room` allows.
    pub fn with_room(room: Room) -> ChatStream {
        ChatStream {
            room,
            ..ChatStream::default()
        }
    }

    /// The room left (for memory accounting as the stream passes).
    pub fn room_mut(&mut self) -> &mut Room {
        &mut self.room
    }

    /// One SSE event's data.
    pub fn on_data(&mut self, data: &str) {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return;
        }
        // Most chunks are read without building a tree; the rest as before.
        if let Some(c) = super::chat_chunk::parse(data) {
            self.fold(c);
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return;
        };
        self.fold(Chunk::from_value(&v));
    }

    fn fold(&mut self, c: Chunk<'_>) {
        if let Some(e) = c.error {
            self.resp.error = Some(e);
        }
        if self.resp.id.is_none() {
            self.resp.id = c.id.map(Cow::into_owned);
        }
        if self.resp.model.is_none() {
            self.resp.model = c.model.map(Cow::into_owned);
        }
        for choice in c.choices {
            let ci = choice.index;
            if ci == 0 {
                for t in &choice.text {
                    self.room.push(&mut self.resp.text, t);
                }
                if let Some(f) = choice.finish_reason {
                    self.resp.finish_reason = Some(f.into_owned());
                }
            }
            for tc in choice.calls {
                let ti = tc.index;
                let pos = match self.calls.iter().position(|(k, _)| *k == (ci, ti)) {
                    Some(p) => p,
                    // A call's first fragment carries its id or name, later ones only
                    // arguments: those of a call not kept are counted, not re-admitted.
                    None if (tc.has_id || tc.has_name || self.room.calls_left() > 0)
                        && self.room.admit_call() =>
                    {
                        self.calls.push(((ci, ti), ToolCall::default()));
                        self.calls.len() - 1
                    }
                    None => {
                        let len = |t: &Option<Cow<'_, str>>| t.as_deref().map_or(0, str::len);
                        self.room
                            .drop_bytes(len(&tc.arguments) + len(&tc.name) + len(&tc.id));
                        continue;
                    }
                };
                let call = &mut self.calls[pos].1;
                if let Some(id) = tc.id {
                    self.room.set(&mut call.id, id.into_owned());
                }
                if let Some(n) = &tc.name {
                    self.room.push(&mut call.name, n);
                }
                if let Some(a) = &tc.arguments {
                    self.room.push(&mut call.arguments, a);
                }
            }
        }
        chat_usage(c.usage.as_deref(), &mut self.resp);
    }

    /// What the stream said, as far as it got.
    pub fn finish(self) -> LlmResponse {
        let mut r = self.resp;
        r.tool_calls = self.calls.into_iter().map(|(_, c)| c).collect();
        self.room.mark(&mut r);
        r
    }
}

/// Responses API response object (`object: "response"`), or an error body.
pub fn responses_response(v: &Value) -> LlmResponse {
    let mut r = LlmResponse {
        id: str_of(v, "id"),
        model: str_of(v, "model"),
        finish_reason: str_of(v, "status"),
        error: error_text(v),
        ..LlmResponse::default()
    };
    for item in v
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                let t = item.get("content").map(content_text).unwrap_or_default();
                if !r.text.is_empty() && !t.is_empty() {
                    r.text.push('\n');
                }
                r.text.push_str(&t);
            }
            Some(_) => {
                if let Some(call) = responses_call(item) {
                    r.tool_calls.push(call);
                }
            }
            None => {}
        }
    }
    responses_usage(v.get("usage"), &mut r);
    r
}

/// A tool-call output item: `function_call`, `custom_tool_call`, built-in `*_call`s.
fn responses_call(item: &Value) -> Option<ToolCall> {
    let kind = item.get("type").and_then(Value::as_str)?;
    match kind {
        "function_call" | "custom_tool_call" => Some(ToolCall {
            id: str_of(item, "call_id")
                .or_else(|| str_of(item, "id"))
                .unwrap_or_default(),
            name: str_of(item, "name").unwrap_or_default(),
            arguments: arguments_text(item.get("arguments").or_else(|| item.get("input"))),
        }),
        k if k.ends_with("_call") => Some(ToolCall {
            id: str_of(item, "call_id")
                .or_else(|| str_of(item, "id"))
                .unwrap_or_default(),
            name: str_of(item, "name").unwrap_or_else(|| k.trim_end_matches("_call").to_string()),
            arguments: item
                .get("action")
                .or_else(|| item.get("arguments"))
                .map(|a| arguments_text(Some(a)))
                .unwrap_or_default(),
        }),
        _ => None,
    }
}

fn responses_usage(u: Option<&Value>, r: &mut LlmResponse) {
    let Some(u) = u.filter(|u| u.is_object()) else {
        return;
    };
    r.input_tokens = u64_of(u, "input_tokens");
    r.output_tokens = u64_of(u, "output_tokens");
    r.cached_tokens = u
        .get("input_tokens_details")
        .and_then(|d| u64_of(d, "cached_tokens"));
    r.reasoning_tokens = u
        .get("output_tokens_details")
        .and_then(|d| u64_of(d, "reasoning_tokens"));
}

/// Folds a Responses stream of typed events.
#[derive(Debug, Default)]
pub struct ResponsesStream {
    resp: LlmResponse,
    /// Function calls by output item id, in first-seen order.
    calls: Vec<(String, ToolCall)>,
    /// The final response object, when `response.completed/failed/incomplete` arrived.
    final_response: Option<LlmResponse>,
    room: Room,
}

impl ResponsesStream {
    /// A fold keeping what `room` allows.
    pub fn with_room(room: Room) -> ResponsesStream {
        ResponsesStream {
            room,
            ..ResponsesStream::default()
        }
    }

    /// The room left (for memory accounting as the stream passes).
    pub fn room_mut(&mut self) -> &mut Room {
        &mut self.room
    }

    /// One SSE event (the `type` inside the data is authoritative over `event:`).
    pub fn on_data(&mut self, data: &str) {
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return;
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "response.created" | "response.in_progress" => {
                if let Some(resp) = v.get("response") {
                    self.resp.id = self.resp.id.take().or_else(|| str_of(resp, "id"));
                    self.resp.model = self.resp.model.take().or_else(|| str_of(resp, "model"));
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                if let Some(d) = v.get("delta").and_then(Value::as_str) {
                    self.room.push(&mut self.resp.text, d);
                }
            }
            "response.output_item.added" | "response.output_item.done" => {
                let Some(item) = v.get("item") else { return };
                let Some(mut call) = responses_call(item) else {
                    return;
                };
                let item_id = str_of(item, "id").unwrap_or_else(|| call.id.clone());
                match self.calls.iter_mut().find(|(id, _)| *id == item_id) {
                    Some((_, existing)) => {
                        if !call.arguments.is_empty() {
                            self.room.set(&mut existing.arguments, call.arguments);
                        }
                        if !call.name.is_empty() {
                            self.room.set(&mut existing.name, call.name);
                        }
                    }
                    None if self.room.admit_call() => {
                        if kind == "response.output_item.added" && call.arguments == "{}" {
                            call.arguments.clear();
                        }
                        let mut kept = ToolCall::default();
                        self.room.set(&mut kept.id, call.id);
                        self.room.set(&mut kept.name, call.name);
                        self.room.set(&mut kept.arguments, call.arguments);
                        self.calls.push((item_id, kept));
                    }
                    None => {}
                }
            }
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
                let item_id = str_of(&v, "item_id").unwrap_or_default();
                let Some(d) = v.get("delta").and_then(Value::as_str) else {
                    return;
                };
                match self.calls.iter_mut().find(|(id, _)| *id == item_id) {
                    Some((_, call)) => self.room.push(&mut call.arguments, d),
                    None => self.room.drop_bytes(d.len()),
                }
            }
            "response.function_call_arguments.done" | "response.custom_tool_call_input.done" => {
                let item_id = str_of(&v, "item_id").unwrap_or_default();
                let args = str_of(&v, "arguments").or_else(|| str_of(&v, "input"));
                if let (Some((_, call)), Some(a)) =
                    (self.calls.iter_mut().find(|(id, _)| *id == item_id), args)
                {
                    self.room.set(&mut call.arguments, a);
                }
            }
            "response.completed" | "response.failed" | "response.incomplete" => {
                if let Some(resp) = v.get("response") {
                    // The final object repeats what the deltas built: it gets the room they left.
                    let mut r = responses_response(resp);
                    r.fit(Room::new(self.room.left(), self.room.calls_left()));
                    self.final_response = Some(r);
                }
            }
            "error" => {
                let msg = error_text(&serde_json::json!({ "error": v }))
                    .or_else(|| str_of(&v, "message"));
                self.resp.error = msg;
            }
            _ => {}
        }
    }

    /// The final response object when the stream completed, else what the deltas
    /// built (also for whatever the final object could not keep).
    pub fn finish(self) -> LlmResponse {
        let mut built = self.resp;
        built.tool_calls = self.calls.into_iter().map(|(_, c)| c).collect();
        self.room.mark(&mut built);
        match self.final_response {
            Some(mut f) => {
                if f.text.len() < built.text.len() {
                    f.text = built.text;
                }
                if f.tool_calls.len() < built.tool_calls.len() {
                    f.tool_calls = built.tool_calls;
                }
                f.error = f.error.or(built.error);
                f.truncated |= built.truncated;
                f.dropped_bytes = f.dropped_bytes.max(built.dropped_bytes);
                f.dropped_tool_calls = f.dropped_tool_calls.max(built.dropped_tool_calls);
                f
            }
            None => {
                if built.finish_reason.is_none() {
                    built.finish_reason = Some("incomplete".into());
                }
                built
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chat_stream_joins_fragments_by_index() {
        let mut s = ChatStream::default();
        s.on_data(r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get","arguments":""}}]}}]}"#);
        s.on_data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"put","arguments":"{\"x"}}]}}]}"#);
        s.on_data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"lo"}}]}}]}"#);
        s.on_data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"c\": 1}"}}]}}]}"#);
        s.on_data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\": 2}"}}]},"finish_reason":"tool_calls"}]}"#);
        s.on_data(r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7}}"#);
        s.on_data("[DONE]");
        assert!(s.done);
        let r = s.finish();
        assert_eq!(r.id.as_deref(), Some("c1"));
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].id, "call_a");
        assert_eq!(r.tool_calls[0].arguments, "{\"loc\": 1}");
        assert_eq!(r.tool_calls[1].name, "put");
        assert_eq!(r.tool_calls[1].arguments, "{\"x\": 2}");
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!((r.input_tokens, r.output_tokens), (Some(5), Some(7)));
    }

    #[test]
    fn responses_stream_function_call_deltas_without_completed() {
        let mut s = ResponsesStream::default();
        s.on_data(r#"{"type":"response.created","response":{"id":"resp_1","model":"gpt"}}"#);
        s.on_data(r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"shell","arguments":""}}"#);
        s.on_data(r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"{\"cmd\":"}"#);
        s.on_data(r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"\"ls\"}"}"#);
        let r = s.finish();
        assert_eq!(r.id.as_deref(), Some("resp_1"));
        assert_eq!(r.tool_calls[0].id, "call_1");
        assert_eq!(r.tool_calls[0].arguments, "{\"cmd\":\"ls\"}");
        assert_eq!(r.finish_reason.as_deref(), Some("incomplete"));
    }

    #[test]
    fn responses_request_items() {
        let req = responses_request(&json!({
            "model":"m","instructions":"be nice","previous_response_id":"resp_0",
            "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]},
                     {"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"},
                     {"type":"function_call_output","call_id":"call_1","output":"42"},
                     {"type":"reasoning","id":"rs_1"}],
            "tools":[{"type":"function","name":"f"},{"type":"web_search"}]
        }));
        assert_eq!(req.messages.len(), 3);
        assert_eq!(req.messages[0].text, "hi");
        assert_eq!(req.messages[2].tool_results[0].output, "42");
        assert_eq!(req.tools, vec!["f", "web_search"]);
        assert_eq!(req.previous_response_id.as_deref(), Some("resp_0"));
        assert_eq!(req.system.as_deref(), Some("be nice"));
    }
}
