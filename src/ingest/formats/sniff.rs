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
    // Claude Code 2.1.x bookkeeping (oneryalcin/agent-schemas, v2.1.144 session schema).
    "permission-mode",
    "ai-title",
    "agent-setting",
    "bridge-session",
    "worktree-state",
    "mode",
    // Claude Code 2.1.26x bookkeeping (a session reader's audit of real 2.1.267
    // sessions, d-kimuson/claude-code-viewer#235): no conversation content.
    "atis-latch",
    "history-suppression",
    "frame-link",
    "file-history-delta",
    "artifact-autoreact-ledger",
    "artifact-comment-monitor",
    "cost-state",
];

/// Codex rollout line tags (`{"timestamp","type","payload"}`).
const CODEX_TAGS: &[&str] = &[
    "session_meta",
    "response_item",
    "event_msg",
    "turn_context",
    "compacted",
    "token_usage_record",
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

/// Message types Gemini CLI writes in its chat records.
const GEMINI_TYPES: &[&str] = &["user", "gemini", "info", "error", "warning"];

/// The format of one record, or `None` when it is not a trace record at all.
pub fn sniff(v: &Value) -> Option<Format> {
    let o = v.as_object()?;
    if o.contains_key("skilltrace") {
        return Some(Format::Native);
    }
    // Gemini CLI JSONL logs: metadata updates, rewinds, and the session header.
    if o.contains_key("$set") || o.contains_key("$rewindTo") {
        return Some(Format::GeminiCli);
    }
    if o.contains_key("sessionId") && o.contains_key("projectHash") {
        return Some(Format::GeminiCli);
    }
    if o.contains_key("resourceSpans") || o.contains_key("resourceLogs") {
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
        // Headless Claude Code (`claude -p --output-format stream-json`, the Agent
        // SDK): `session_id`, and a closing `result` record.
        if o.contains_key("session_id")
            && (matches!(t, "user" | "assistant" | "result")
                || (t == "system" && o.contains_key("subtype")))
        {
            return Some(Format::ClaudeCode);
        }
        if CODEX_BARE_ITEMS.contains(&t) && (o.contains_key("call_id") || t == "reasoning") {
            return Some(Format::Codex);
        }
        if t == "message" && o.contains_key("role") && o.contains_key("content") {
            return Some(Format::Codex);
        }
        // Copilot CLI events: `{type: "session.start", data, id, timestamp, parentId}`.
        if o.contains_key("data") && (t.contains('.') || t == "abort") {
            return Some(Format::CopilotCli);
        }
        // Gemini CLI message records: `{id, timestamp, type, content}`.
        if GEMINI_TYPES.contains(&t)
            && o.contains_key("id")
            && (o.contains_key("content") || o.contains_key("toolCalls"))
        {
            return Some(Format::GeminiCli);
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

/// A record [`sniff`] does not know, in a file whose records so far were of
/// `home`: `home`'s when it has `home`'s envelope, so a record type newer
/// than this build is passed over by that format's parser instead of counted
/// as a parse error. The envelopes: Codex `{timestamp, type, payload}`,
/// Claude Code `{type, sessionId | uuid}`, Copilot CLI `{type, data}`,
/// Gemini CLI `{id, timestamp, type}`. Only Codex lines may lack `type`
/// there: an envelope without its tag, or a bare response item told by its
/// fields (`codex::untyped`).
pub fn sniff_in(v: &Value, home: Format) -> Option<Format> {
    let o = v.as_object()?;
    let has = |k: &str| o.contains_key(k);
    if o.get("type").and_then(Value::as_str).is_none() {
        let codex = home == Format::Codex
            && ((has("payload") && has("timestamp"))
                || super::codex::untyped::item_kind(v).is_some());
        return codex.then_some(home);
    }
    let fits = match home {
        Format::Codex => has("payload") && has("timestamp"),
        // File-history records name only the message they snapshot.
        Format::ClaudeCode => {
            has("sessionId") || has("uuid") || has("session_id") || has("messageId")
        }
        // `copilot -p --output-format json` closes with `{type: "result", exitCode, usage}`.
        Format::CopilotCli => has("data") || has("exitCode"),
        Format::GeminiCli => has("id") && has("timestamp"),
        _ => false,
    };
    fits.then_some(home)
}

/// The format that owns a whole-file document of this shape, read as one
/// unit: a Gemini chat, a Gemini prompt log or saved checkpoint, a Cline task's
/// `api_conversation_history.json` or `ui_messages.json`, an OpenCode storage
/// file or `opencode export` output. `None` leaves the document to the
/// per-record sniffing above (an array has each element sniffed).
pub fn document(v: &Value) -> Option<Format> {
    match v {
        Value::Object(o) => {
            if o.contains_key("sessionId") && o.contains_key("projectHash") {
                return Some(Format::GeminiCli);
            }
            let opencode_session = |x: &Value| {
                x.get("projectID").is_some() && x.get("time").is_some() && x.get("id").is_some()
            };
            let is_opencode = opencode_session(v)
                || (o.contains_key("sessionID")
                    && o.contains_key("id")
                    && (o.contains_key("role") || o.contains_key("messageID")))
                || (o.get("info").is_some_and(opencode_session) && o.contains_key("messages"));
            is_opencode.then_some(Format::Opencode)
        }
        Value::Array(items) => {
            let first = items.iter().find(|i| i.is_object())?;
            let has = |k: &str| first.get(k).is_some();
            let s = |k: &str| first.get(k).and_then(Value::as_str);
            if has("ts") && matches!(s("type"), Some("say" | "ask")) {
                return Some(Format::Cline);
            }
            if has("role") && has("content") && !has("type") {
                return Some(Format::Cline);
            }
            if has("sessionId") && has("messageId") && has("message") {
                return Some(Format::GeminiCli); // logs.json: the prompts of each session
            }
            if has("role") && has("parts") {
                return Some(Format::GeminiCli); // a `/chat save` checkpoint
            }
            None
        }
        _ => None,
    }
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
            (json!({"resourceLogs":[]}), Some(Format::Otlp)),
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
            (
                json!({"sessionId":"s","projectHash":"h","startTime":"t"}),
                Some(Format::GeminiCli),
            ),
            (json!({"$set":{"lastUpdated":"t"}}), Some(Format::GeminiCli)),
            (json!({"$rewindTo":"m1"}), Some(Format::GeminiCli)),
            (
                json!({"id":"m","timestamp":"t","type":"gemini","content":""}),
                Some(Format::GeminiCli),
            ),
            (
                json!({"type":"session.start","data":{},"id":"e1"}),
                Some(Format::CopilotCli),
            ),
            (json!({"type":"abort","data":{}}), Some(Format::CopilotCli)),
            (json!({"hello":"world"}), None),
            (json!([1, 2]), None),
            (json!(null), None),
        ];
        for (v, want) in cases {
            assert_eq!(sniff(&Value::from(v.clone())), want, "{v}");
        }
    }

    #[test]
    fn claude_code_bookkeeping_lines_of_2_1_x_are_claude_code() {
        for t in [
            "permission-mode",
            "mode",
            "ai-title",
            "agent-setting",
            "bridge-session",
            "worktree-state",
        ] {
            let v = json!({"type": t, "sessionId": "s"});
            assert_eq!(sniff(&Value::from(v)), Some(Format::ClaudeCode), "{t}");
        }
        let v = json!({"timestamp":"t","type":"token_usage_record","payload":{}});
        assert_eq!(sniff(&Value::from(v)), Some(Format::Codex));
    }

    #[test]
    fn claude_code_bookkeeping_of_2_1_26x_is_claude_code() {
        // The record types d-kimuson/claude-code-viewer#235 lists from real 2.1.267 sessions.
        for t in [
            "atis-latch",
            "history-suppression",
            "frame-link",
            "artifact-autoreact-ledger",
            "artifact-comment-monitor",
            "cost-state",
        ] {
            let v = json!({"type": t, "sessionId": "s"});
            assert_eq!(sniff(&Value::from(v)), Some(Format::ClaudeCode), "{t}");
        }
        // `file-history-delta` names only its message, as `file-history-snapshot` does.
        for t in ["file-history-delta", "file-history-snapshot"] {
            let v = json!({"type": t, "messageId": "m", "snapshotMessageId": "m", "backup": {}});
            assert_eq!(sniff(&Value::from(v.clone())), Some(Format::ClaudeCode));
            assert_eq!(
                sniff_in(&Value::from(v), Format::ClaudeCode),
                Some(Format::ClaudeCode)
            );
        }
        // An unknown type naming only a message is still no Claude Code record
        // outside a Claude Code file.
        let v = json!({"type": "future-delta", "messageId": "m"});
        assert_eq!(sniff(&Value::from(v.clone())), None);
        assert_eq!(
            sniff_in(&Value::from(v), Format::ClaudeCode),
            Some(Format::ClaudeCode)
        );
    }

    #[test]
    fn headless_claude_code_stream_records_are_claude_code() {
        for v in [
            json!({"type":"system","subtype":"init","session_id":"s","model":"m"}),
            json!({"type":"assistant","session_id":"s","message":{},"parent_tool_use_id":null}),
            json!({"type":"user","session_id":"s","message":{}}),
            json!({"type":"result","subtype":"success","session_id":"s","result":"ok"}),
        ] {
            assert_eq!(
                sniff(&Value::from(v.clone())),
                Some(Format::ClaudeCode),
                "{v}"
            );
        }
        // Other tools' headless streams are not taken for it.
        let gemini = json!({"type":"init","session_id":"s","model":"gemini-2.5-pro"});
        assert_eq!(sniff(&Value::from(gemini)), None);
        let bare = json!({"type":"system","session_id":"s"});
        assert_eq!(sniff(&Value::from(bare)), None);
    }

    #[test]
    fn a_newer_record_in_its_formats_envelope_goes_to_the_files_format() {
        let codex = Value::from(json!({"timestamp":"t","type":"world_state","payload":{}}));
        assert_eq!(sniff(&codex), None);
        assert_eq!(sniff_in(&codex, Format::Codex), Some(Format::Codex));
        assert_eq!(sniff_in(&codex, Format::ClaudeCode), None);
        let claude = Value::from(json!({"type":"future-thing","sessionId":"s"}));
        assert_eq!(
            sniff_in(&claude, Format::ClaudeCode),
            Some(Format::ClaudeCode)
        );
        assert_eq!(sniff_in(&claude, Format::Codex), None);
        let copilot = Value::from(json!({"type":"newthing","data":{}}));
        assert_eq!(
            sniff_in(&copilot, Format::CopilotCli),
            Some(Format::CopilotCli)
        );
        let closing = Value::from(json!({"type":"result","exitCode":0,"usage":{}}));
        assert_eq!(
            sniff_in(&closing, Format::CopilotCli),
            Some(Format::CopilotCli)
        );
        let gemini = Value::from(json!({"id":"x","timestamp":"t","type":"note"}));
        assert_eq!(
            sniff_in(&gemini, Format::GeminiCli),
            Some(Format::GeminiCli)
        );
        // No envelope, or no home that knows one: still not a trace record.
        assert_eq!(
            sniff_in(&Value::from(json!({"hello":1})), Format::Codex),
            None
        );
        assert_eq!(sniff_in(&claude, Format::Otlp), None);
    }

    #[test]
    fn whole_documents_are_claimed_by_shape() {
        let cases = [
            (
                json!({"sessionId":"s","projectHash":"h","messages":[]}),
                Some(Format::GeminiCli),
            ),
            (
                json!([{"sessionId":"s","messageId":0,"type":"user","message":"hi"}]),
                Some(Format::GeminiCli),
            ),
            (json!([{"role":"user","parts":[]}]), Some(Format::GeminiCli)),
            (json!([{"role":"user","content":"hi"}]), Some(Format::Cline)),
            (
                json!([{"ts":1,"type":"say","say":"task","text":"x"}]),
                Some(Format::Cline),
            ),
            (
                json!({"id":"ses_1","projectID":"p","time":{"created":1}}),
                Some(Format::Opencode),
            ),
            (
                json!({"id":"msg_1","sessionID":"ses_1","role":"user"}),
                Some(Format::Opencode),
            ),
            (
                json!({"id":"prt_1","sessionID":"ses_1","messageID":"msg_1","type":"text"}),
                Some(Format::Opencode),
            ),
            (
                json!({"info":{"id":"ses_1","projectID":"p","time":{}},"messages":[]}),
                Some(Format::Opencode),
            ),
            (json!([{"type":"message","role":"user","content":[]}]), None),
            (json!({"resourceSpans":[]}), None),
            (json!([]), None),
        ];
        for (v, want) in cases {
            assert_eq!(document(&Value::from(v.clone())), want, "{v}");
        }
    }
}
