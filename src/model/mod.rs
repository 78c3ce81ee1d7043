//! The shared vocabulary: runs, spans, findings, skill hits and severities.
//!
//! Every stage speaks these types. Parsers produce [`Run`] and [`Span`] values
//! (raw, in memory only); the scan stage redacts them and derives [`Finding`]s
//! and [`SkillHit`]s; the store keeps only redacted values; views read them back.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

mod finding;
mod source;

pub use finding::{Finding, GuardDecision, HitMethod, SkillHit, TriageStatus};
pub use source::{ParseError, SourceState};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used on the command line, in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Numeric rank, 0 (info) to 4 (critical); stored in SQLite for sorting.
    pub fn rank(self) -> i64 {
        self as i64
    }

    /// Inverse of [`Severity::rank`]; out-of-range values clamp.
    pub fn from_rank(r: i64) -> Severity {
        match r {
            i64::MIN..=0 => Severity::Info,
            1 => Severity::Low,
            2 => Severity::Medium,
            3 => Severity::High,
            _ => Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity '{other}' (expected info, low, medium, high or critical)"
            )),
        }
    }
}

/// Which agent (or source) produced a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentKind {
    ClaudeCode,
    Codex,
    Cursor,
    Gemini,
    Otel,
    OpenaiAgents,
    Proxy,
    Skilltrace,
    GeminiCli,
    CopilotCli,
    Opencode,
    Cline,
    RooCode,
    KiloCode,
    Unknown,
}

impl AgentKind {
    /// The kebab-case name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::ClaudeCode => "claude-code",
            AgentKind::Codex => "codex",
            AgentKind::Cursor => "cursor",
            AgentKind::Gemini => "gemini",
            AgentKind::Otel => "otel",
            AgentKind::OpenaiAgents => "openai-agents",
            AgentKind::Proxy => "proxy",
            AgentKind::Skilltrace => "skilltrace",
            AgentKind::GeminiCli => "gemini-cli",
            AgentKind::CopilotCli => "copilot-cli",
            AgentKind::Opencode => "opencode",
            AgentKind::Cline => "cline",
            AgentKind::RooCode => "roo-code",
            AgentKind::KiloCode => "kilo-code",
            AgentKind::Unknown => "unknown",
        }
    }

    /// Inverse of [`AgentKind::as_str`]; unknown names map to `Unknown`.
    pub fn parse(s: &str) -> AgentKind {
        match s {
            "claude-code" => AgentKind::ClaudeCode,
            "codex" => AgentKind::Codex,
            "cursor" => AgentKind::Cursor,
            "gemini" => AgentKind::Gemini,
            "otel" => AgentKind::Otel,
            "openai-agents" => AgentKind::OpenaiAgents,
            "proxy" => AgentKind::Proxy,
            "skilltrace" => AgentKind::Skilltrace,
            "gemini-cli" => AgentKind::GeminiCli,
            "copilot-cli" => AgentKind::CopilotCli,
            "opencode" => AgentKind::Opencode,
            "cline" => AgentKind::Cline,
            "roo-code" => AgentKind::RooCode,
            "kilo-code" => AgentKind::KiloCode,
            _ => AgentKind::Unknown,
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a span represents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    /// An agent, subagent or turn: a container of other spans.
    Agent,
    /// One model call.
    Llm,
    /// One tool call, input and output paired.
    Tool,
    /// A user, assistant or system message.
    Message,
    /// An HTTP exchange the proxy did not understand as an LLM call.
    Http,
    /// Anything else worth keeping (hooks, summaries, compaction markers).
    Event,
}

impl SpanKind {
    /// The lowercase name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Agent => "agent",
            SpanKind::Llm => "llm",
            SpanKind::Tool => "tool",
            SpanKind::Message => "message",
            SpanKind::Http => "http",
            SpanKind::Event => "event",
        }
    }

    /// Inverse of [`SpanKind::as_str`]; unknown names map to `Event`.
    pub fn parse(s: &str) -> SpanKind {
        match s {
            "agent" => SpanKind::Agent,
            "llm" => SpanKind::Llm,
            "tool" => SpanKind::Tool,
            "message" => SpanKind::Message,
            "http" => SpanKind::Http,
            _ => SpanKind::Event,
        }
    }
}

/// Outcome of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanStatus {
    #[default]
    Unset,
    Ok,
    Error,
}

impl SpanStatus {
    /// The lowercase name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Unset => "unset",
            SpanStatus::Ok => "ok",
            SpanStatus::Error => "error",
        }
    }

    /// Inverse of [`SpanStatus::as_str`].
    pub fn parse(s: &str) -> SpanStatus {
        match s {
            "ok" => SpanStatus::Ok,
            "error" => SpanStatus::Error,
            _ => SpanStatus::Unset,
        }
    }
}

/// Where a record came from: a file and 1-based line, or the proxy
/// (`path` = `proxy://<listen addr>`, `line` = request number).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Origin {
    /// Shared: every record parsed from one file points at the same path.
    pub path: Arc<str>,
    pub line: u64,
}

impl Origin {
    pub fn new(path: impl Into<Arc<str>>, line: u64) -> Origin {
        Origin {
            path: path.into(),
            line,
        }
    }
}

/// One agent session.
///
/// A `Run` produced by a parser is an *update*: the store merges it with what
/// it already holds (earliest start, latest end, first non-empty title and
/// parent). Span counts, token totals and models are computed by the store
/// from the run's spans, so re-reading a file never double counts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub agent: Option<AgentKind>,
    /// File path, or `proxy://addr`.
    pub source: String,
    /// For subagent transcripts: the run that spawned this one.
    pub parent_run_id: Option<String>,
    pub started_ms: Option<Millis>,
    pub ended_ms: Option<Millis>,
    /// The run's name, one line: a title the user set, else one the agent
    /// generated, else the first user prompt (see [`TitleKind`]).
    pub title: Option<String>,
    /// Working directory, where the format records one.
    pub cwd: Option<String>,
    /// What `title` is, which decides whether it replaces a stored one.
    #[serde(default, skip_serializing_if = "TitleKind::is_prompt")]
    pub title_kind: TitleKind,
}

/// Where a run's title comes from, weakest first. A stored title is replaced
/// by a stronger one; among user-set or agent-generated titles the latest
/// wins (a rename), among prompts the first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum TitleKind {
    /// The first user prompt.
    #[default]
    Prompt,
    /// A title the agent generated (Claude Code's `ai-title`).
    Generated,
    /// A title the user set (Claude Code's `/rename`, `custom-title`).
    Named,
}

impl TitleKind {
    /// True for the weakest kind, which is left out of serialized runs.
    pub fn is_prompt(&self) -> bool {
        *self == TitleKind::Prompt
    }

    /// The store's number for this kind (`runs.title_rank`).
    pub fn rank(self) -> i64 {
        self as i64
    }

    /// The kind of a stored rank; unknown ranks are prompts.
    pub fn from_rank(rank: i64) -> TitleKind {
        match rank {
            2 => TitleKind::Named,
            1 => TitleKind::Generated,
            _ => TitleKind::Prompt,
        }
    }

    /// True when a title of this kind replaces a stored one of kind `stored`.
    pub fn replaces(self, stored: TitleKind) -> bool {
        self > stored || (self == stored && self != TitleKind::Prompt)
    }
}

/// One unit of work inside a run.
///
/// A span may be emitted more than once with the same id (a tool call first
/// without, then with its result); the store merges by keeping every field the
/// newer copy sets and the older values of the fields it leaves empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub id: String,
    pub run_id: String,
    pub parent_id: Option<String>,
    pub kind: SpanKind,
    /// Span name: tool name for tools, role for messages, operation for LLM calls.
    pub name: String,
    pub start_ms: Option<Millis>,
    pub end_ms: Option<Millis>,
    pub status: SpanStatus,
    pub model: Option<String>,
    pub tool_name: Option<String>,
    /// Pairs a call with its result (Claude `tool_use.id`, Codex `call_id`, ...).
    pub tool_call_id: Option<String>,
    /// Tool arguments as JSON text (or the raw string when not JSON).
    pub tool_input: Option<String>,
    /// Tool result text.
    pub tool_output: Option<String>,
    /// Message text, prompt or completion.
    pub text: Option<String>,
    /// Everything else, as a JSON object.
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Prompt tokens of a model call, cached ones included (see [`crate::usage`]).
    pub input_tokens: Option<u64>,
    /// Completion tokens, reasoning included.
    pub output_tokens: Option<u64>,
    /// Of `input_tokens`, those read from the provider's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    /// Of `input_tokens`, those written to the provider's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
    /// Of `cache_write_tokens`, those cached for an hour (Anthropic's 1h TTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_tokens: Option<u64>,
    pub origin: Origin,
}

/// The attribute that marks a copy of a span as superseded by a later, better
/// source (its value names that source, e.g. Cline's `ui_messages.json`):
/// such a copy only updates the stored span (kind, tokens, attributes) and is
/// never stored as a new one.
pub const SUPERSEDED_BY: &str = "superseded_by";

impl Span {
    /// True for a copy marked [`SUPERSEDED_BY`]: it updates a stored span only.
    pub fn updates_only(&self) -> bool {
        self.attributes.contains_key(SUPERSEDED_BY)
    }

    /// A span with only its identity set; fill the rest with struct update syntax.
    pub fn new(
        id: impl Into<String>,
        run_id: impl Into<String>,
        kind: SpanKind,
        name: impl Into<String>,
        origin: Origin,
    ) -> Span {
        Span {
            id: id.into(),
            run_id: run_id.into(),
            parent_id: None,
            kind,
            name: name.into(),
            start_ms: None,
            end_ms: None,
            status: SpanStatus::Unset,
            model: None,
            tool_name: None,
            tool_call_id: None,
            tool_input: None,
            tool_output: None,
            text: None,
            attributes: serde_json::Map::new(),
            input_tokens: None,
            output_tokens: None,
            cache_read_tokens: None,
            cache_write_tokens: None,
            cache_write_1h_tokens: None,
            origin,
        }
    }

    /// Duration in milliseconds when both ends are known.
    pub fn duration_ms(&self) -> Option<Millis> {
        match (self.start_ms, self.end_ms) {
            (Some(s), Some(e)) if e >= s => Some(e - s),
            _ => None,
        }
    }

    /// Takes in a later record of the same span (same run and id) by the
    /// store's merge rules (`MERGE_SPAN` in `store/write.rs`): the newer kind
    /// always, its name and status unless empty or unset, its other fields
    /// when present; attributes merge as SQLite's `json_patch` (RFC 7396)
    /// does, or are taken whole when this span has none; the first origin
    /// stays. Folding two records with this before writing stores what
    /// writing them one after the other would.
    pub fn absorb(&mut self, newer: Span) {
        let Span {
            parent_id,
            kind,
            name,
            start_ms,
            end_ms,
            status,
            model,
            tool_name,
            tool_call_id,
            tool_input,
            tool_output,
            text,
            attributes,
            input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_write_tokens,
            cache_write_1h_tokens,
            ..
        } = newer;
        fn newer_of<T>(old: &mut Option<T>, new: Option<T>) {
            if new.is_some() {
                *old = new;
            }
        }
        newer_of(&mut self.parent_id, parent_id);
        self.kind = kind;
        if !name.is_empty() {
            self.name = name;
        }
        newer_of(&mut self.start_ms, start_ms);
        newer_of(&mut self.end_ms, end_ms);
        if status != SpanStatus::Unset {
            self.status = status;
        }
        newer_of(&mut self.model, model);
        newer_of(&mut self.tool_name, tool_name);
        newer_of(&mut self.tool_call_id, tool_call_id);
        newer_of(&mut self.tool_input, tool_input);
        newer_of(&mut self.tool_output, tool_output);
        newer_of(&mut self.text, text);
        newer_of(&mut self.input_tokens, input_tokens);
        newer_of(&mut self.output_tokens, output_tokens);
        newer_of(&mut self.cache_read_tokens, cache_read_tokens);
        newer_of(&mut self.cache_write_tokens, cache_write_tokens);
        newer_of(&mut self.cache_write_1h_tokens, cache_write_1h_tokens);
        if self.attributes.is_empty() {
            self.attributes = attributes;
        } else {
            merge_patch(&mut self.attributes, attributes);
        }
    }
}

/// JSON Merge Patch (RFC 7396) of `patch` into `target`, as SQLite's `json_patch`.
fn merge_patch(
    target: &mut serde_json::Map<String, serde_json::Value>,
    patch: serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::Value;
    for (k, v) in patch {
        match v {
            Value::Null => {
                target.remove(&k);
            }
            Value::Object(p) => {
                let slot = target
                    .entry(k)
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(serde_json::Map::new());
                }
                if let Value::Object(t) = slot {
                    merge_patch(t, p);
                }
            }
            other => {
                target.insert(k, other);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_round_trips() {
        assert!(Severity::Info < Severity::Critical);
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
            assert_eq!(Severity::from_rank(s.rank()), s);
        }
        assert!("urgent".parse::<Severity>().is_err());
    }

    #[test]
    fn names_round_trip() {
        for k in [
            AgentKind::ClaudeCode,
            AgentKind::Codex,
            AgentKind::Cursor,
            AgentKind::Gemini,
            AgentKind::Otel,
            AgentKind::OpenaiAgents,
            AgentKind::Proxy,
            AgentKind::Skilltrace,
            AgentKind::GeminiCli,
            AgentKind::CopilotCli,
            AgentKind::Opencode,
            AgentKind::Cline,
            AgentKind::RooCode,
            AgentKind::KiloCode,
        ] {
            assert_eq!(AgentKind::parse(k.as_str()), k);
        }
        for t in TriageStatus::ALL {
            assert_eq!(t.as_str().parse::<TriageStatus>(), Ok(t));
        }
        assert_eq!(SpanKind::parse("tool"), SpanKind::Tool);
        assert_eq!(HitMethod::parse("exact"), HitMethod::Exact);
        for d in [
            GuardDecision::Denied,
            GuardDecision::Asked,
            GuardDecision::Allowed,
        ] {
            assert_eq!(GuardDecision::parse(d.as_str()), Some(d));
        }
        assert_eq!(GuardDecision::parse("maybe"), None);
    }

    #[test]
    fn duration_needs_both_ends() {
        let mut s = Span::new("a", "r", SpanKind::Tool, "Bash", Origin::new("f", 1));
        assert_eq!(s.duration_ms(), None);
        s.start_ms = Some(10);
        s.end_ms = Some(25);
        assert_eq!(s.duration_ms(), Some(15));
    }
}
