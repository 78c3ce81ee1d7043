//! Span text from GenAI and OpenInference message attributes and events:
//! every message becomes a `role: text` line; the first user text is noted
//! for the run title.

use super::super::common::{str_of, text_of};
use super::attrs::{any_to_json, Attrs};
use crate::ingest::formats::json::Value;
use std::collections::BTreeMap;

/// Renders GenAI message JSON (`[{role, parts:[...]}]`, or OpenAI-style
/// `[{role, content}]`) as `role: text` lines. Non-JSON text is kept as is.
pub(super) fn render_messages(
    raw: &str,
    bare_role: Option<&str>,
    out: &mut String,
    first_user: &mut Option<String>,
) {
    let Ok(v) = Value::parse(raw) else {
        push_line(out, None, raw);
        return;
    };
    let msgs: &[Value] = match &v {
        Value::Array(a) => a,
        Value::Object(_) => std::slice::from_ref(&v),
        _ => {
            push_line(out, None, raw);
            return;
        }
    };
    for m in msgs {
        let role = str_of(m, "role");
        if let Some(Value::Array(parts)) = m.get("parts") {
            for p in parts {
                render_part(p, role, out, first_user);
            }
        } else if m.get("type").is_some() && role.is_none() {
            render_part(m, bare_role, out, first_user); // system_instructions: bare parts
        } else if let Some(c) = m.get("content") {
            match c {
                Value::String(s) => {
                    note_user(role, s, first_user);
                    push_line(out, role, s);
                }
                Value::Array(parts) => parts
                    .iter()
                    .for_each(|p| render_part(p, role, out, first_user)),
                _ => {}
            }
            if let Some(Value::Array(calls)) = m.get("tool_calls") {
                for c in calls {
                    let f = c.get("function").unwrap_or(c);
                    let line = format!(
                        "[tool_call {} {}]",
                        str_of(f, "name").unwrap_or_default(),
                        str_of(f, "arguments").unwrap_or_default()
                    );
                    push_line(out, role, &line);
                }
            }
        }
    }
}

pub(super) fn render_part(
    p: &Value,
    role: Option<&str>,
    out: &mut String,
    first_user: &mut Option<String>,
) {
    match str_of(p, "type") {
        Some("text" | "reasoning" | "input_text" | "output_text") | None => {
            if let Some(t) = str_of(p, "content").or_else(|| str_of(p, "text")) {
                note_user(role, t, first_user);
                push_line(out, role, t);
            }
        }
        Some("tool_call") => {
            let args = p.get("arguments").map(text_of).unwrap_or_default();
            let line = format!(
                "[tool_call {} {args}]",
                str_of(p, "name").unwrap_or_default()
            );
            push_line(out, role, &line);
        }
        Some("tool_call_response") => {
            let r = p.get("response").map(text_of).unwrap_or_default();
            push_line(out, role, &r);
        }
        Some(other) => push_line(out, role, &format!("[{other}]")),
    }
}

pub(super) fn note_user(role: Option<&str>, text: &str, first_user: &mut Option<String>) {
    if role == Some("user") && first_user.is_none() && !text.trim().is_empty() {
        *first_user = Some(text.to_owned());
    }
}

pub(super) fn push_line(out: &mut String, role: Option<&str>, text: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    if let Some(r) = role {
        out.push_str(r);
        out.push_str(": ");
    }
    out.push_str(text);
}

/// OpenInference `llm.{input,output}_messages.N.message.*` rebuilt in index order.
pub(super) fn openinference_messages(
    a: &Attrs,
    prefix: &str,
    out: &mut String,
    first_user: &mut Option<String>,
) {
    #[derive(Default)]
    struct Msg<'a> {
        role: Option<&'a str>,
        content: Option<&'a str>,
        parts: BTreeMap<usize, &'a str>,
        calls: BTreeMap<usize, (Option<&'a str>, Option<&'a str>)>,
    }
    let mut msgs: BTreeMap<usize, Msg> = BTreeMap::new();
    for (k, v) in &a.0 {
        let Some(rest) = k.strip_prefix(prefix) else {
            continue;
        };
        let Some((idx, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = idx.parse::<usize>() else {
            continue;
        };
        let Some(s) = v.get("stringValue").and_then(Value::as_str) else {
            continue;
        };
        let m = msgs.entry(i).or_default();
        match field {
            "message.role" => m.role = Some(s),
            "message.content" => m.content = Some(s),
            f => {
                if let Some(r) = f.strip_prefix("message.contents.") {
                    if let Some((j, "message_content.text")) = r.split_once('.') {
                        if let Ok(j) = j.parse() {
                            m.parts.insert(j, s);
                        }
                    }
                } else if let Some(r) = f.strip_prefix("message.tool_calls.") {
                    if let Some((j, tail)) = r.split_once('.') {
                        if let Ok(j) = j.parse() {
                            let c = m.calls.entry(j).or_default();
                            match tail {
                                "tool_call.function.name" => c.0 = Some(s),
                                "tool_call.function.arguments" => c.1 = Some(s),
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
    }
    for m in msgs.values() {
        if let Some(c) = m.content {
            note_user(m.role, c, first_user);
            push_line(out, m.role, c);
        }
        for p in m.parts.values() {
            note_user(m.role, p, first_user);
            push_line(out, m.role, p);
        }
        for (name, args) in m.calls.values() {
            let line = format!(
                "[tool_call {} {}]",
                name.unwrap_or_default(),
                args.unwrap_or_default()
            );
            push_line(out, m.role, &line);
        }
    }
}

/// Older GenAI conventions: content in span events (`gen_ai.user.message`, `gen_ai.choice`, ...).
pub(super) fn event_messages(
    events: Option<&Value>,
    out: &mut String,
    first_user: &mut Option<String>,
) -> Option<String> {
    let mut exception = None;
    let Some(Value::Array(evs)) = events else {
        return None;
    };
    for e in evs {
        let name = str_of(e, "name").unwrap_or_default();
        let a = Attrs::from(e.get("attributes"));
        if name == "exception" {
            exception = a.text(&["exception.type"]);
            continue;
        }
        if name == "gen_ai.client.inference.operation.details" {
            for (k, role) in [
                ("gen_ai.system_instructions", Some("system")),
                ("gen_ai.input.messages", None),
                ("gen_ai.output.messages", None),
            ] {
                if let Some(s) = a.str(k) {
                    render_messages(s, role, out, first_user);
                }
            }
            continue;
        }
        let role = match name {
            "gen_ai.system.message" => "system",
            "gen_ai.user.message" => "user",
            "gen_ai.assistant.message" => "assistant",
            "gen_ai.tool.message" => "tool",
            "gen_ai.choice" => "assistant",
            _ => continue,
        };
        // Content is an attribute `content` (or a JSON body in `gen_ai.event.content`).
        if let Some(body) = a.str("gen_ai.event.content") {
            render_messages(body, Some(role), out, first_user);
        } else if let Some(c) = a.text(&["content", "message.content", "gen_ai.prompt"]) {
            note_user(Some(role), &c, first_user);
            push_line(out, Some(role), &c);
        } else if let Some(m) = a.any("message") {
            let m = any_to_json(m);
            if let Some(c) = m.get("content").and_then(serde_json::Value::as_str) {
                push_line(out, Some(role), c);
            }
        }
    }
    exception
}
