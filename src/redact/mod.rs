//! Redaction: the only door from raw trace text to anything persistent or visible.
//!
//! [`Redacted<T>`] can be built only inside this module tree, so the store,
//! exports, logs and views — which accept nothing else — are proven by the
//! compiler to see redacted values only. [`Redactor`] turns raw spans, runs,
//! findings and errors into `Redacted` ones and reports which rules matched
//! where (rule and position, never the value) so detection can use it.

use crate::model::{Finding, ParseError, Run, Severity, SkillHit, Span};

/// A value that has been through the [`Redactor`]. Only this module can make one.
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a value that redaction has already processed. Private to `redact`.
    pub(in crate::redact) fn new(inner: T) -> Redacted<T> {
        Redacted(inner)
    }

    /// Reads the redacted value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// Gives up the wrapper (for drawing or serialising an already-redacted value).
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// How a matched secret is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `[REDACTED:<rule>]`
    #[default]
    Mask,
    /// `[HASH:<rule>:<8 hex>]`, keyed per store.
    Hash,
    /// Removed entirely.
    Remove,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Mask => "mask",
            Mode::Hash => "hash",
            Mode::Remove => "remove",
        }
    }
}

/// Which field of a span a match was in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Name,
    Text,
    ToolInput,
    ToolOutput,
    /// A JSON path inside `attributes`, e.g. `http.request.header.authorization`.
    Attribute(String),
    Other(String),
}

/// One rule match: which rule, in which field, at which byte range of the *raw* text.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub rule: String,
    pub severity: Severity,
    pub field: Field,
    pub start: usize,
    pub end: usize,
}

/// What redaction found in one value. Carries no secret values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub matches: Vec<Match>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.matches.is_empty()
    }
}

/// The redaction engine. Holds the compiled rules, the mode, the allowlist,
/// the per-store hash key and the per-run memory of secrets already seen.
#[derive(Debug, Default)]
pub struct Redactor {
    mode: Mode,
}

impl Redactor {
    /// A redactor with the built-in rules and the given mode.
    pub fn new(mode: Mode) -> Redactor {
        Redactor { mode }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Redacts one string, recording matches under `field` in `report`.
    pub fn redact_str(
        &mut self,
        _run_id: &str,
        text: &str,
        _field: Field,
        _report: &mut Report,
    ) -> String {
        // Placeholder until the engine lands (issue 3): passes text through.
        text.to_string()
    }

    /// Redacts every string of a span (recursively, including JSON inside strings).
    pub fn redact_span(&mut self, span: Span) -> (Redacted<Span>, Report) {
        (Redacted::new(span), Report::default())
    }

    /// Redacts a run's title, source and cwd.
    pub fn redact_run(&mut self, run: Run) -> Redacted<Run> {
        Redacted::new(run)
    }

    /// Redacts a finding's message and evidence.
    pub fn redact_finding(&mut self, finding: Finding) -> Redacted<Finding> {
        Redacted::new(finding)
    }

    /// Redacts a skill hit (names come from registries, but are checked anyway).
    pub fn redact_skill_hit(&mut self, hit: SkillHit) -> Redacted<SkillHit> {
        Redacted::new(hit)
    }

    /// Redacts a parse error's message and path.
    pub fn redact_parse_error(&mut self, err: ParseError) -> Redacted<ParseError> {
        Redacted::new(err)
    }

    /// Redacts free text bound for a log line, an error message or the screen.
    pub fn redact_text(&mut self, text: &str) -> Redacted<String> {
        let mut r = Report::default();
        Redacted::new(self.redact_str("", text, Field::Other("text".into()), &mut r))
    }
}
