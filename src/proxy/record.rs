//! Finished exchange → Records: one `llm` span per understood exchange with a
//! child `tool` span per tool call the model asked for, result updates for the
//! tool calls a request answers, a run update, or a plain `http` span.
//!
//! Runs on the recorder thread, off the forwarding path. Never stores a header
//! or query value that carries a credential (they were dropped in `route.rs`).

use super::anthropic;
use super::capture::{Finished, Outcome, RecordLimits, ResponseCapture};
use super::exchange::{LlmRequest, LlmResponse, Message};
use super::group::{prefix_hashes, GroupKey, Grouper, KnownCall};
use super::openai;
use super::route::Api;
use crate::ingest::formats::Record;
use crate::model::{AgentKind, Origin, ParseError, Run, Span, SpanKind, SpanStatus};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// Longest message text kept in an llm span's `request.messages`.
const MAX_MESSAGE_TEXT: usize = 16 << 10;
/// Longest system prompt kept (once per run).
const MAX_SYSTEM_TEXT: usize = 64 << 10;
/// Longest tool output kept on a tool span.
const MAX_TOOL_OUTPUT: usize = 256 << 10;
/// How far past the decoding cap a compressed body is still decoded (output
/// dropped) to say how large it was.
const COUNT_PAST_DECODED: u64 = 256 << 20;

/// Turns finished exchanges into records; owns the conversation grouper.
#[derive(Debug)]
pub struct Recorder {
    grouper: Grouper,
    /// `proxy://<listen addr>`.
    source: String,
    /// The run that holds exchanges the proxy does not understand.
    http_run: String,
    http_run_sent: bool,
    limits: RecordLimits,
}

impl Recorder {
    pub fn new(source: String) -> Recorder {
        let started = chrono::Utc::now().timestamp_millis();
        let http_run = format!(
            "proxy-http-{}",
            &hex::encode(sha2::Sha256::digest(format!("{source}\0{started}")))[..16]
        );
        Recorder {
            grouper: Grouper::default(),
            source,
            http_run,
            http_run_sent: false,
            limits: RecordLimits::default(),
        }
    }

    /// Parses bodies under `limits` (decoded size, JSON values, response room).
    pub fn with_limits(mut self, limits: RecordLimits) -> Recorder {
        self.limits = limits;
        self
    }

    /// The records (and parse errors) for one exchange.
    pub fn record(&mut self, mut f: Finished) -> (Vec<Record>, Vec<ParseError>) {
        // A stream copied as it passed is folded here, off the forwarding path.
        if let ResponseCapture::Stream(s) = &mut f.body {
            s.settle();
        }
        let mut out = Vec::new();
        let mut errors = Vec::new();
        match f.meta.route.api {
            Some(api) => self.llm(api, f, &mut out, &mut errors),
            None => self.http(f, &mut out),
        }
        (out, errors)
    }

    fn origin(&self, seq: u64) -> Origin {
        Origin::new(self.source.clone(), seq)
    }

    fn parse_error(&self, seq: u64, message: &str) -> ParseError {
        ParseError {
            path: self.source.clone(),
            line: seq,
            message: message.to_string(),
        }
    }

    fn llm(
        &mut self,
        api: Api,
        mut f: Finished,
        out: &mut Vec<Record>,
        errors: &mut Vec<ParseError>,
    ) {
        let seq = f.meta.seq;
        let origin = self.origin(seq);
        let mut not_parsed = Vec::new();
        let req = match parse_request(api, &f, &self.limits) {
            Ok(r) => r,
            Err(why) => {
                errors.push(self.parse_error(seq, &format!("request: {why}")));
                not_parsed.push(("request.not_parsed", why));
                LlmRequest::default()
            }
        };
        let resp = match parse_response(api, &mut f, &self.limits) {
            Ok(r) => r,
            Err(why) => {
                if f.outcome == Outcome::Complete {
                    errors.push(self.parse_error(seq, &format!("response: {why}")));
                }
                not_parsed.push(("response.not_parsed", why));
                LlmResponse::default()
            }
        };
        let hashes = prefix_hashes(&req.messages);
        let session = f.meta.session_header.as_deref().or(req.session.as_deref());
        let assign = self.grouper.assign(GroupKey {
            session,
            previous_response_id: req.previous_response_id.as_deref(),
            messages: &req.messages,
            hashes: &hashes,
        });
        let run_id = assign.run_id.clone();
        let llm_id = format!("px-{:016x}", rand::random::<u64>());
        let new_from = assign.new_from.min(req.messages.len());

        out.push(Record::Run(Run {
            id: run_id.clone(),
            agent: Some(AgentKind::Proxy),
            source: self.source.clone(),
            parent_run_id: None,
            started_ms: Some(f.meta.started_ms),
            ended_ms: Some(f.ended_ms),
            title: req
                .messages
                .iter()
                .find(|m| m.role == "user" && !m.text.trim().is_empty())
                // Whole: the redactor cuts titles after redacting them.
                .map(|m| crate::redact::cut::collapse(&m.text)),
            cwd: None,
            ..Run::default()
        }));

        // Results of earlier tool calls, now sent back to the model.
        for m in &req.messages[new_from..] {
            for r in &m.tool_results {
                let Some(known) = self.grouper.call(&r.call_id) else {
                    continue;
                };
                let mut s = Span::new(
                    known.span_id.clone(),
                    known.run_id.clone(),
                    SpanKind::Tool,
                    known.tool_name.clone(),
                    origin.clone(),
                );
                s.parent_id = Some(known.parent_id.clone());
                s.tool_name = Some(known.tool_name.clone());
                s.tool_call_id = Some(r.call_id.clone());
                s.tool_output = Some(cap(&r.output, MAX_TOOL_OUTPUT));
                s.end_ms = Some(f.meta.started_ms);
                s.status = if r.is_error {
                    SpanStatus::Error
                } else {
                    SpanStatus::Ok
                };
                s.attributes
                    .insert("proxy.result_seq".into(), Value::from(seq));
                out.push(Record::Span(s));
            }
        }

        let mut span = Span::new(
            llm_id.clone(),
            run_id.clone(),
            SpanKind::Llm,
            api.as_str(),
            origin.clone(),
        );
        span.start_ms = Some(f.meta.started_ms);
        span.end_ms = Some(f.ended_ms);
        span.model = resp.model.clone().or_else(|| req.model.clone());
        span.input_tokens = resp.input_tokens;
        span.output_tokens = resp.output_tokens;
        span.cache_read_tokens = resp.cached_tokens;
        span.cache_write_tokens = resp.cache_write_tokens;
        span.cache_write_1h_tokens = resp.cache_write_1h_tokens;
        span.text = (!resp.text.is_empty()).then(|| resp.text.clone());
        let status = f.response.as_ref().map(|r| r.status);
        let failed = f.outcome != Outcome::Complete
            || status.is_none_or(|s| s >= 400)
            || resp.error.is_some();
        span.status = if failed {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        let a = &mut span.attributes;
        common_attributes(a, &f);
        a.insert("api".into(), api.as_str().into());
        a.insert("group.by".into(), assign.by.into());
        put(a, "request.model", req.model.clone());
        put(a, "response.model", resp.model.clone());
        put(a, "response.id", resp.id.clone());
        put(a, "finish_reason", resp.finish_reason.clone());
        put(a, "usage.cached_tokens", resp.cached_tokens);
        put(a, "usage.reasoning_tokens", resp.reasoning_tokens);
        put(a, "previous_response_id", req.previous_response_id.clone());
        a.insert("stream".into(), req.stream.into());
        if let Some(e) = &resp.error {
            a.insert("error".into(), e.clone().into());
        }
        if resp.truncated {
            a.insert("response.truncated".into(), true.into());
            put(
                a,
                "response.dropped_bytes",
                Some(resp.dropped_bytes).filter(|&n| n > 0),
            );
            put(
                a,
                "response.dropped_tool_calls",
                Some(resp.dropped_tool_calls).filter(|&n| n > 0),
            );
        }
        for (key, why) in not_parsed {
            a.insert(key.into(), why.into());
        }
        if new_from == 0 {
            if let Some(sys) = &req.system {
                a.insert("request.system".into(), cap(sys, MAX_SYSTEM_TEXT).into());
            }
        }
        a.insert("request.message_count".into(), req.messages.len().into());
        a.insert("request.new_from".into(), new_from.into());
        a.insert(
            "request.messages".into(),
            Value::Array(req.messages[new_from..].iter().map(message_json).collect()),
        );
        if !req.tools.is_empty() {
            a.insert("request.tools".into(), json!(req.tools));
        }
        if !resp.tool_calls.is_empty() {
            a.insert("response.tool_calls".into(), resp.tool_calls.len().into());
        }
        out.push(Record::Span(span));

        let mut known = Vec::new();
        for (i, call) in resp.tool_calls.iter().enumerate() {
            let id = format!("{llm_id}-t{i}");
            let mut t = Span::new(
                id.clone(),
                run_id.clone(),
                SpanKind::Tool,
                call.name.clone(),
                origin.clone(),
            );
            t.parent_id = Some(llm_id.clone());
            t.start_ms = Some(f.ended_ms);
            t.tool_name = Some(call.name.clone());
            t.tool_call_id = (!call.id.is_empty()).then(|| call.id.clone());
            t.tool_input = Some(call.arguments.clone());
            t.model = span_model(&resp, &req);
            t.attributes
                .insert("proxy.requested_by_model".into(), true.into());
            t.attributes.insert("index".into(), i.into());
            out.push(Record::Span(t));
            known.push((
                call.id.clone(),
                KnownCall {
                    run_id: run_id.clone(),
                    span_id: id,
                    parent_id: llm_id.clone(),
                    tool_name: call.name.clone(),
                },
            ));
        }
        self.grouper
            .remember(&run_id, hashes, resp.id.as_deref(), known);
    }

    fn http(&mut self, f: Finished, out: &mut Vec<Record>) {
        let origin = self.origin(f.meta.seq);
        if !self.http_run_sent {
            self.http_run_sent = true;
            out.push(Record::Run(Run {
                id: self.http_run.clone(),
                agent: Some(AgentKind::Proxy),
                source: self.source.clone(),
                started_ms: Some(f.meta.started_ms),
                title: Some(format!("HTTP traffic through {}", self.source)),
                ..Run::default()
            }));
        }
        out.push(Record::Run(Run {
            id: self.http_run.clone(),
            agent: Some(AgentKind::Proxy),
            source: self.source.clone(),
            ended_ms: Some(f.ended_ms),
            ..Run::default()
        }));
        let name = format!("{} {}", f.meta.method, f.meta.path);
        let mut s = Span::new(
            format!("px-{:016x}", rand::random::<u64>()),
            self.http_run.clone(),
            SpanKind::Http,
            name,
            origin,
        );
        s.start_ms = Some(f.meta.started_ms);
        s.end_ms = Some(f.ended_ms);
        let status = f.response.as_ref().map(|r| r.status);
        s.status = if f.outcome == Outcome::Complete && status.is_some_and(|s| s < 400) {
            SpanStatus::Ok
        } else {
            SpanStatus::Error
        };
        common_attributes(&mut s.attributes, &f);
        out.push(Record::Span(s));
    }
}

use sha2::Digest;

fn span_model(resp: &LlmResponse, req: &LlmRequest) -> Option<String> {
    resp.model.clone().or_else(|| req.model.clone())
}

/// Attributes every exchange span carries.
fn common_attributes(a: &mut Map<String, Value>, f: &Finished) {
    let m = &f.meta;
    a.insert("proxy.seq".into(), m.seq.into());
    a.insert("provider".into(), m.route.provider.as_str().into());
    a.insert("upstream".into(), m.upstream.clone().into());
    a.insert("http.method".into(), m.method.clone().into());
    a.insert("http.path".into(), m.path.clone().into());
    if let Some(q) = &m.query {
        a.insert("http.query".into(), q.clone().into());
    }
    a.insert(
        "request.headers".into(),
        Value::Object(super::route::headers_json(&m.request_headers)),
    );
    a.insert("request.bytes".into(), f.request_body.total.into());
    a.insert("response.bytes".into(), f.body.bytes_seen().into());
    a.insert("outcome".into(), f.outcome.as_str().into());
    match &f.outcome {
        Outcome::Unreachable(why) | Outcome::BodyError(why) => {
            a.insert("error".into(), why.clone().into());
        }
        _ => {}
    }
    let dur = f.ended.saturating_duration_since(m.started);
    a.insert("duration_ms".into(), json!(dur.as_secs_f64() * 1000.0));
    if let Some(r) = &f.response {
        a.insert("http.status".into(), r.status.into());
        a.insert(
            "response.headers".into(),
            Value::Object(super::route::headers_json(&r.headers)),
        );
        let ttfb = r.at.saturating_duration_since(m.started);
        a.insert("ttfb_ms".into(), json!(ttfb.as_secs_f64() * 1000.0));
        if let Some(enc) = &r.content_encoding {
            a.insert("response.content_encoding".into(), enc.clone().into());
        }
    }
    if f.request_body.truncated {
        a.insert("request.truncated".into(), true.into());
    }
    if let ResponseCapture::Body(c) = &f.body {
        if c.truncated {
            a.insert("response.truncated".into(), true.into());
        }
    }
    if let ResponseCapture::Stream(s) = &f.body {
        a.insert("sse.events".into(), s.events.into());
        if s.parser.dropped > 0 {
            a.insert("sse.dropped_events".into(), s.parser.dropped.into());
        }
    }
}

fn put<T: Into<Value>>(a: &mut Map<String, Value>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        a.insert(key.into(), v.into());
    }
}

/// At most `max` bytes of raw text, cut where no start of a secret is left
/// ([`crate::redact::cut::raw_head`]), with how much was dropped.
fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let head = crate::redact::cut::raw_head(s, max);
    format!("{head}…[{} bytes more]", s.len() - head.len())
}

fn message_json(m: &Message) -> Value {
    let mut o = Map::new();
    o.insert("role".into(), m.role.clone().into());
    if !m.text.is_empty() {
        o.insert("text".into(), cap(&m.text, MAX_MESSAGE_TEXT).into());
    }
    if !m.tool_calls.is_empty() {
        o.insert(
            "tool_calls".into(),
            Value::Array(
                m.tool_calls
                    .iter()
                    .map(|c| json!({"id": c.id, "name": c.name, "arguments": cap(&c.arguments, MAX_MESSAGE_TEXT)}))
                    .collect(),
            ),
        );
    }
    if !m.tool_results.is_empty() {
        o.insert(
            "tool_results".into(),
            Value::Array(
                m.tool_results
                    .iter()
                    .map(|r| json!({"call_id": r.call_id, "is_error": r.is_error, "output": cap(&r.output, MAX_MESSAGE_TEXT)}))
                    .collect(),
            ),
        );
    }
    Value::Object(o)
}

fn parse_request(api: Api, f: &Finished, limits: &RecordLimits) -> Result<LlmRequest, String> {
    let body = &f.request_body;
    if body.truncated {
        return Err(format!(
            "body over the recording limit ({} of {} bytes recorded), not parsed",
            body.kept(),
            body.total
        ));
    }
    if body.bytes.is_empty() {
        return Err("empty body".into());
    }
    let v = parse_json(&body.bytes, limits)?;
    Ok(match api {
        Api::ChatCompletions => openai::chat_request(&v),
        Api::Responses => openai::responses_request(&v),
        Api::Messages => anthropic::request(&v),
    })
}

/// Parses a body that passed the JSON values count (a tree of millions of tiny
/// values is never built). Every value starts at a byte of its own (a scalar's
/// first, a bracket, a member's key quote), so a body no longer than the limit
/// cannot pass it: such a body (nearly every one) is parsed without the
/// counting pass.
fn parse_json(bytes: &[u8], limits: &RecordLimits) -> Result<Value, String> {
    use crate::limits::json::{count_values, CountError};
    if bytes.len() <= limits.json_values {
        return serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"));
    }
    match count_values(bytes, limits.json_values) {
        Err(CountError::TooMany(n)) => {
            return Err(format!("more than {n} JSON values, not parsed"))
        }
        Err(CountError::Invalid(e)) => return Err(format!("not JSON ({e})")),
        Ok(_) => {}
    }
    serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))
}

fn parse_response(
    api: Api,
    f: &mut Finished,
    limits: &RecordLimits,
) -> Result<LlmResponse, String> {
    let enc = f.response.as_ref().and_then(|r| r.content_encoding.clone());
    let encoded = enc.is_some();
    match &mut f.body {
        ResponseCapture::Stream(s) => Ok(s
            .fold
            .take()
            .map(super::capture::StreamFold::finish)
            .unwrap_or_default()),
        ResponseCapture::Count(_) => {
            if encoded && f.outcome == Outcome::Complete {
                Err("compressed event stream, not parsed".into())
            } else {
                Ok(LlmResponse::default())
            }
        }
        ResponseCapture::Body(c) => {
            if c.truncated {
                return Err(format!(
                    "body over the recording limit ({} of {} bytes recorded), not parsed",
                    c.kept(),
                    c.total
                ));
            }
            let bytes = decode(enc.as_deref(), &c.bytes, limits.response_body)?;
            if bytes.is_empty() {
                return Ok(LlmResponse::default());
            }
            let v = parse_json(&bytes, limits)?;
            let mut r = match api {
                Api::ChatCompletions => openai::chat_response(&v),
                Api::Responses => openai::responses_response(&v),
                Api::Messages => anthropic::response(&v),
            };
            r.fit(limits.room());
            Ok(r)
        }
    }
}

/// Undoes `gzip`, `deflate`, `br` and `zstd` content coding, keeping at most
/// `cap` bytes (past it, the body is measured, not kept); other codings are not parsed.
fn decode<'a>(
    encoding: Option<&str>,
    bytes: &'a [u8],
    cap: usize,
) -> Result<Cow<'a, [u8]>, String> {
    use crate::limits::decode::{decode, Coding, DecodeError};
    let coding = match encoding {
        None => Coding::Identity,
        Some(e) => Coding::from_header(e).ok_or_else(|| {
            format!(
                "content-encoding {} is not decoded",
                e.trim().to_ascii_lowercase()
            )
        })?,
    };
    decode(
        coding,
        bytes,
        cap,
        COUNT_PAST_DECODED,
        &mut Default::default(),
    )
    .map_err(|e| match e {
        DecodeError::TooLarge { .. } => format!("body {e}, over the recording limit, not parsed"),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::json::count_values;

    #[test]
    fn no_body_has_more_values_than_bytes_so_short_bodies_skip_the_count() {
        // The densest shapes: scalars, empty containers, members with short keys.
        for text in [
            "0",
            "[0,0,0,0,0,0]",
            "[[],[],[[]]]",
            r#"{"":0,"":[],"":{}}"#,
            r#"[{"":0},{},[0]]"#,
        ] {
            let n = count_values(text.as_bytes(), usize::MAX).unwrap_or(usize::MAX);
            assert!(
                n <= text.len(),
                "{text}: {n} values in {} bytes",
                text.len()
            );
        }
    }

    #[test]
    fn a_body_past_the_values_limit_is_still_refused_and_bad_json_said() {
        let limits = RecordLimits {
            json_values: 8,
            ..RecordLimits::default()
        };
        let dense = b"[0,0,0,0,0,0,0,0,0,0,0,0]";
        assert!(parse_json(dense, &limits)
            .unwrap_err()
            .starts_with("more than 8 JSON values"));
        assert!(parse_json(b"[0,0]", &limits).is_ok());
        let short_bad = parse_json(b"[0,", &limits).unwrap_err();
        let long_bad = parse_json(b"[0,0,0] and more", &limits).unwrap_err();
        assert!(short_bad.starts_with("not JSON ("), "{short_bad}");
        assert!(long_bad.starts_with("not JSON ("), "{long_bad}");
    }
}
