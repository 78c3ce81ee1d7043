//! Claude Code record handlers: `user` prompts and tool results, `assistant`
//! responses (llm, text, thinking and tool_use spans), `system` events and
//! `progress` records (subagent links), `cost-state` (the session's own cost).
//! State and dispatch live in `mod.rs`.

use super::super::common::{content_text, json_text, nonempty, str_of};
use super::super::{FormatError, Record};
use super::{Ctx, Id, Node, PendingTool};
use crate::ingest::formats::json::Value;
use crate::model::{Span, SpanKind, SpanStatus};
use crate::pricing::{REPORTED_COST, REPORTED_SPAN as COST_STATE};

impl super::ClaudeParser {
    pub(super) fn user(
        &mut self,
        v: &Value,
        cx: &Ctx,
        out: &mut Vec<Record>,
    ) -> Result<Node, FormatError> {
        let content = v
            .get("message")
            .and_then(|m| m.get("content"))
            .ok_or_else(|| {
                FormatError::Shape("claude-code: user record without message.content".into())
            })?;
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let compact = flag("isCompactSummary");
        let meta = flag("isMeta");
        let base_id = cx.uuid.unwrap_or("user");
        let mut node = cx.parent.clone();
        // (span id, text) of every text piece; tool results are emitted on the way.
        let mut texts: Vec<(String, std::borrow::Cow<'_, str>)> = Vec::new();
        let mut has_result = false;
        match content {
            Value::String(text) => texts.push((base_id.to_owned(), text.as_ref().into())),
            Value::Array(blocks) => {
                for (i, b) in blocks.iter().enumerate() {
                    let id = || {
                        if texts.is_empty() {
                            base_id.to_owned()
                        } else {
                            format!("{base_id}:{i}")
                        }
                    };
                    match str_of(b, "type") {
                        Some("tool_result" | "web_search_tool_result") => {
                            has_result = true;
                            if let Some(id) = self.tool_result(v, b, cx, out) {
                                if node.span.is_none() {
                                    node.span = Some(id.into());
                                }
                            }
                        }
                        Some("text") => {
                            let t = str_of(b, "text").unwrap_or_default();
                            texts.push((id(), t.into()));
                        }
                        Some(other) if other != "tool_reference" => {
                            texts.push((id(), format!("[{other}]").into()));
                        }
                        _ => {}
                    }
                }
            }
            _ => {
                return Err(FormatError::Shape(
                    "claude-code: message.content is not text or blocks".into(),
                ))
            }
        }
        // Claude Code's own marker of a turn the user stopped: part of the
        // turn it stopped, not a prompt (and never the run's title).
        let interrupted = texts.len() == 1
            && texts[0].1.starts_with("[Request interrupted by user")
            && texts[0].1.ends_with(']');
        // A subagent's prompt in the headless stream belongs to its Task call.
        let delegated = nonempty(v, "parent_tool_use_id").is_some();
        let is_prompt = !compact && !meta && !has_result && !interrupted && !delegated;
        for (n, (id, text)) in texts.into_iter().enumerate() {
            let mut s = Span::new(id, cx.run, SpanKind::Message, "user", cx.origin.clone());
            s.start_ms = cx.ts;
            s.end_ms = cx.ts;
            s.parent_id = if is_prompt {
                None // a prompt is the root of its turn
            } else if compact {
                owned(&cx.parent.span) // the compact_boundary event
            } else {
                owned(&cx.parent.turn).or_else(|| owned(&cx.parent.span))
            };
            if compact {
                s.attributes
                    .insert("compact_summary".into(), serde_json::Value::Bool(true));
            }
            if meta {
                s.attributes
                    .insert("meta".into(), serde_json::Value::Bool(true));
            }
            if interrupted {
                s.attributes
                    .insert("interrupted".into(), serde_json::Value::Bool(true));
            }
            if n == 0 {
                let id = Id::from(s.id.as_str());
                if is_prompt || compact {
                    node.turn = Some(id.clone());
                }
                if !has_result {
                    node.span = Some(id);
                }
                if is_prompt {
                    self.set_title(cx, &text, out);
                }
            }
            s.text = Some(text.into_owned());
            out.push(Record::Span(s));
        }
        Ok(node)
    }

    /// Emits the second copy of a tool span (output, end, status); returns its id.
    pub(super) fn tool_result(
        &mut self,
        record: &Value,
        b: &Value,
        cx: &Ctx,
        out: &mut Vec<Record>,
    ) -> Option<String> {
        let id = nonempty(b, "tool_use_id")?;
        let pending = self.tools.remove(id);
        let name = pending.as_ref().map(|p| p.name.as_str()).unwrap_or("");
        let mut s = Span::new(id, cx.run, SpanKind::Tool, name, cx.origin.clone());
        s.tool_call_id = Some(id.to_owned());
        s.tool_output = b
            .get("content")
            .and_then(content_text)
            .or(Some(String::new()));
        s.end_ms = cx.ts;
        let error = b.get("is_error").and_then(Value::as_bool).unwrap_or(false);
        s.status = if error {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        let agent_id = record
            .get("toolUseResult")
            .or_else(|| record.get("tool_use_result"))
            .and_then(|r| nonempty(r, "agentId"))
            .map(|a| format!("{}/agent-{a}", cx.session));
        if let Some(p) = pending {
            s.tool_name = Some(p.name);
            s.parent_id = Some(p.parent);
            s.start_ms = p.start;
            if let Some(sub) = agent_id.or(p.subagent) {
                s.attributes
                    .insert("subagent_run_id".into(), serde_json::Value::String(sub));
            }
        } else if let Some(sub) = agent_id {
            s.attributes
                .insert("subagent_run_id".into(), serde_json::Value::String(sub));
        }
        out.push(Record::Span(s));
        Some(id.to_owned())
    }

    pub(super) fn assistant(
        &mut self,
        v: &Value,
        cx: &Ctx,
        out: &mut Vec<Record>,
    ) -> Result<Node, FormatError> {
        let msg = v.get("message").ok_or_else(|| {
            FormatError::Shape("claude-code: assistant record without message".into())
        })?;
        let llm_id = nonempty(msg, "id")
            .or(cx.uuid)
            .unwrap_or("assistant")
            .to_owned();
        let usage = msg.get("usage");
        let tok = |k: &str| {
            usage
                .and_then(|u| u.get(k))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        let cache_read = tok("cache_read_input_tokens");
        let cache_write = tok("cache_creation_input_tokens");
        let tokens = (
            tok("input_tokens") + cache_read + cache_write,
            tok("output_tokens"),
        );
        let stop = nonempty(msg, "stop_reason");
        let api_error = v
            .get("isApiErrorMessage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let turn = cx.parent.turn.clone();
        let seen = self.messages.get(&llm_id).copied();
        if seen != Some(tokens) || stop.is_some() || api_error {
            let mut s = Span::new(
                llm_id.clone(),
                cx.run,
                SpanKind::Llm,
                "chat",
                cx.origin.clone(),
            );
            s.model = nonempty(msg, "model").map(str::to_owned);
            if seen.is_none() {
                s.start_ms = cx.ts;
                s.parent_id = owned(&turn).or_else(|| owned(&cx.parent.span));
            }
            s.end_ms = cx.ts;
            if let Some(u) = usage {
                let write_1h = u
                    .get("cache_creation")
                    .and_then(|c| c.get("ephemeral_1h_input_tokens"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                crate::usage::Usage::anthropic(
                    tok("input_tokens"),
                    cache_write,
                    cache_read,
                    write_1h,
                    tokens.1,
                )
                .put(&mut s);
            }
            if let Some(r) = nonempty(v, "requestId") {
                s.attributes.insert("request_id".into(), r.into());
            }
            if let Some(r) = stop {
                s.attributes.insert("stop_reason".into(), r.into());
            }
            if api_error {
                s.status = SpanStatus::Error;
            }
            out.push(Record::Span(s));
            match self.messages.get_mut(&llm_id) {
                Some(t) => *t = tokens,
                None => {
                    self.messages.insert(llm_id.clone(), tokens);
                }
            }
            if stop == Some("end_turn") {
                self.flush_end(cx.run, out);
            }
        }
        // Hand-written files reuse the message id as record uuid: keep ids apart.
        let base = cx.uuid.filter(|u| *u != llm_id).unwrap_or("");
        if let Some(Value::Array(blocks)) = msg.get("content") {
            let mut n_text = 0;
            for (i, b) in blocks.iter().enumerate() {
                let ty = str_of(b, "type").unwrap_or_default();
                match ty {
                    "text" | "thinking" => {
                        let text = str_of(b, ty).unwrap_or_default();
                        if text.trim().is_empty() {
                            continue;
                        }
                        let id = if n_text == 0 && !base.is_empty() {
                            base.to_owned()
                        } else {
                            format!("{}:{i}", cx.uuid.unwrap_or(&llm_id))
                        };
                        n_text += 1;
                        let name = if ty == "text" {
                            "assistant"
                        } else {
                            "thinking"
                        };
                        let mut s =
                            Span::new(id, cx.run, SpanKind::Message, name, cx.origin.clone());
                        s.parent_id = Some(llm_id.clone());
                        s.start_ms = cx.ts;
                        s.end_ms = cx.ts;
                        s.text = Some(text.to_owned());
                        out.push(Record::Span(s));
                    }
                    "tool_use" | "server_tool_use" => {
                        let Some(id) = nonempty(b, "id") else {
                            continue;
                        };
                        let name = str_of(b, "name").unwrap_or_default();
                        let mut s = Span::new(id, cx.run, SpanKind::Tool, name, cx.origin.clone());
                        s.parent_id = Some(llm_id.clone());
                        s.start_ms = cx.ts;
                        s.tool_name = Some(name.to_owned());
                        s.tool_call_id = Some(id.to_owned());
                        s.tool_input = b.get("input").map(json_text);
                        s.model = nonempty(msg, "model").map(str::to_owned);
                        out.push(Record::Span(s));
                        self.tools.insert(
                            id.to_owned(),
                            PendingTool {
                                name: name.to_owned(),
                                parent: llm_id.clone(),
                                start: cx.ts,
                                subagent: None,
                            },
                        );
                    }
                    _ => {}
                }
            }
        }
        Ok(Node {
            span: Some(llm_id.into()),
            turn,
        })
    }

    pub(super) fn system(&mut self, v: &Value, cx: &Ctx, out: &mut Vec<Record>) -> Node {
        let subtype = str_of(v, "subtype").unwrap_or("system");
        if matches!(subtype, "turn_duration" | "stop_hook_summary") {
            self.flush_end(cx.run, out);
        }
        if subtype == "turn_duration" {
            return cx.parent.clone();
        }
        let Some(id) = cx.uuid else {
            return cx.parent.clone();
        };
        let mut s = Span::new(id, cx.run, SpanKind::Event, subtype, cx.origin.clone());
        s.start_ms = cx.ts;
        s.end_ms = cx.ts;
        s.text = nonempty(v, "content").map(str::to_owned);
        s.parent_id = owned(&cx.parent.span);
        if subtype == "api_error" || str_of(v, "level") == Some("error") {
            s.status = SpanStatus::Error;
        }
        if let Some(l) = nonempty(v, "logicalParentUuid") {
            s.attributes.insert("logical_parent_uuid".into(), l.into());
        }
        if let Some(m) = v.get("compactMetadata") {
            s.attributes.insert("compact_metadata".into(), m.to_value());
        }
        // The headless stream's `init`: the session's model and Claude Code version.
        for (key, attr) in [
            ("model", "model"),
            ("claude_code_version", "claude_code_version"),
            ("permissionMode", "permission_mode"),
        ] {
            if let Some(x) = nonempty(v, key) {
                s.attributes.insert(attr.into(), x.into());
            }
        }
        if let Some(Value::Array(hooks)) = v.get("hookInfos") {
            let cmds: Vec<serde_json::Value> = hooks
                .iter()
                .filter_map(|h| str_of(h, "command"))
                .map(|c| serde_json::Value::String(c.to_owned()))
                .collect();
            s.attributes
                .insert("hook_commands".into(), serde_json::Value::Array(cmds));
        }
        out.push(Record::Span(s));
        Node {
            span: Some(id.into()),
            turn: if subtype == "compact_boundary" {
                None
            } else {
                cx.parent.turn.clone()
            },
        }
    }

    /// The headless stream's closing `result`: an `event` span with the final
    /// answer, the turn count, the duration and the cost Claude Code reported
    /// (kept as an attribute: the run's cost is priced from its llm spans).
    pub(super) fn result(&mut self, v: &Value, cx: &Ctx, out: &mut Vec<Record>) -> Node {
        self.flush_end(cx.run, out);
        let Some(id) = cx.uuid else {
            return cx.parent.clone();
        };
        let mut s = Span::new(id, cx.run, SpanKind::Event, "result", cx.origin.clone());
        s.text = nonempty(v, "result").map(str::to_owned);
        s.parent_id = owned(&cx.parent.turn);
        if v.get("is_error").and_then(Value::as_bool) == Some(true) {
            s.status = SpanStatus::Error;
        }
        if let Some(sub) = nonempty(v, "subtype") {
            s.attributes.insert("subtype".into(), sub.into());
        }
        for key in ["num_turns", "duration_ms", "duration_api_ms"] {
            if let Some(n) = v.get(key).and_then(Value::as_u64) {
                s.attributes.insert(key.into(), n.into());
            }
        }
        if let Some(c) = v.get("total_cost_usd").and_then(Value::as_f64) {
            s.attributes.insert(REPORTED_COST.into(), c.into());
        }
        if let Some(Value::Array(denied)) = v.get("permission_denials") {
            s.attributes
                .insert("permission_denials".into(), denied.len().into());
        }
        out.push(Record::Span(s));
        cx.parent.clone()
    }

    /// A `cost-state` record (Claude Code 2.1.x, main transcripts only): the
    /// session's own running cost, written again and again as it grows
    /// (`totalCostUSD`, per model `modelUsage` with `costUSD`, durations,
    /// lines changed). It becomes one `event` span `cost-state` of the session,
    /// each newer snapshot merged over the last, whose `reported_cost_usd` is
    /// the figure `runs`, `cost --by run` and the TUI show for the session in
    /// place of the priced estimate. It carries no token fields: the calls it
    /// sums are counted from their own records.
    pub(super) fn cost_state(&mut self, v: &Value, cx: &Ctx, out: &mut Vec<Record>) {
        let Some(total) = v.get("totalCostUSD").and_then(Value::as_f64) else {
            return;
        };
        if !total.is_finite() || total < 0.0 {
            return;
        }
        let mut s = Span::new(
            COST_STATE,
            cx.run,
            SpanKind::Event,
            COST_STATE,
            cx.origin.clone(),
        );
        s.attributes
            .insert(REPORTED_COST.into(), serde_json::json!(total));
        if let Some(b) = v.get("hasUnknownModelCost").and_then(Value::as_bool) {
            s.attributes
                .insert("has_unknown_model_cost".into(), b.into());
        }
        for (from, to) in [
            ("totalDuration", "duration_ms"),
            ("totalAPIDuration", "duration_api_ms"),
            ("totalToolDuration", "duration_tool_ms"),
            ("totalLinesAdded", "lines_added"),
            ("totalLinesRemoved", "lines_removed"),
        ] {
            if let Some(n) = v.get(from).and_then(Value::as_u64) {
                s.attributes.insert(to.into(), n.into());
            }
        }
        if let Some(models) = v.get("modelUsage").and_then(Value::as_object) {
            let mut by_model = serde_json::Map::new();
            for (model, u) in models.iter() {
                let mut m = serde_json::Map::new();
                for (from, to) in [
                    ("inputTokens", "input_tokens"),
                    ("outputTokens", "output_tokens"),
                    ("cacheReadInputTokens", "cache_read_input_tokens"),
                    ("cacheCreationInputTokens", "cache_creation_input_tokens"),
                    ("webSearchRequests", "web_search_requests"),
                ] {
                    if let Some(n) = u.get(from).and_then(Value::as_u64) {
                        m.insert(to.into(), n.into());
                    }
                }
                if let Some(c) = u.get("costUSD").and_then(Value::as_f64) {
                    m.insert("cost_usd".into(), serde_json::json!(c));
                }
                by_model.insert(model.to_owned(), m.into());
            }
            if !by_model.is_empty() {
                s.attributes.insert("model_usage".into(), by_model.into());
            }
        }
        out.push(Record::Span(s));
    }

    /// `agent_progress` names the subagent a Task call started.
    pub(super) fn progress(&mut self, v: &Value, session: &str) {
        let Some(data) = v.get("data") else { return };
        if str_of(data, "type") != Some("agent_progress") {
            return;
        }
        if let (Some(tool), Some(agent)) =
            (nonempty(v, "parentToolUseID"), nonempty(data, "agentId"))
        {
            if let Some(p) = self.tools.get_mut(tool) {
                if p.subagent.is_none() {
                    p.subagent = Some(format!("{session}/agent-{agent}"));
                }
            }
        }
    }
}

/// A span id from parser state as an owned span field.
fn owned(id: &Option<Id>) -> Option<String> {
    id.as_deref().map(str::to_owned)
}
