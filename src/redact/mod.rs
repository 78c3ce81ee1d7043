//! Redaction: the only door from raw trace text to anything persistent or visible.
//!
//! [`Redacted<T>`] can be built only inside this module tree, so the store,
//! exports, logs and views — which accept nothing else — are proven by the
//! compiler to see redacted values only. [`Redactor`] turns raw spans, runs,
//! findings and errors into `Redacted` ones and reports which rules matched
//! where (rule and position, never the value) so detection can use it.

mod clean;
#[cfg(test)]
mod corpus_tests;
pub mod cut;
mod disguise;
mod engine;
#[cfg(test)]
mod gate_tests;
#[cfg(test)]
mod idempotence_tests;
mod ids;
mod json;
mod key;
mod markers;
mod memory;
mod prefilter;
mod quiet;
mod records;
mod rules;
mod run;
mod seam;
mod setup;
mod shell_join;
mod span;
mod splice;
mod validate;
mod value;

pub use ids::STAND_IN_PREFIX;
pub use key::HashKey;
pub use rules::{builtin_specs, RedactionSection, RuleSpec, BUILTIN_RULES};
pub use span::SpanPlan;
pub use validate::Validator;

use crate::model::{Severity, Span};
use engine::Engine;
use json::{Ctx, Found};
use memory::Memory;
#[cfg(test)]
use setup::example_patterns;
use std::sync::Arc;

/// A value that has been through the [`Redactor`]. Only this module can make one.
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a value that redaction has already processed. Private to `redact`.
    pub(in crate::redact) fn new(inner: T) -> Redacted<T> {
        Redacted(inner)
    }

    /// A value read back from skilltrace's own spool ([`crate::store::spool`]),
    /// which only ever holds values that were `Redacted` when written; the
    /// token proving it can be made only there.
    pub fn from_spool(inner: T, _read_back: &crate::store::spool::SpoolToken) -> Redacted<T> {
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

impl Redacted<Span> {
    /// Folds a later redacted record of the same span into this one
    /// ([`Span::absorb`]): every field comes from one of two redacted spans,
    /// so the result is redacted too.
    pub fn absorb(&mut self, newer: Redacted<Span>) {
        self.0.absorb(newer.0);
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
    /// Any other field, by a name the code gives (`model`, `origin`, `title`):
    /// borrowed, so naming a field allocates nothing.
    Other(std::borrow::Cow<'static, str>),
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

/// Why a redactor could not be built. One line; never contains trace text.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// A user rule (or allowlist pattern) is invalid.
    #[error("{file}:{line}: redaction rule '{rule}': {why}")]
    Rule {
        file: String,
        line: usize,
        rule: String,
        why: String,
    },
    /// The `[redaction]` section itself is malformed.
    #[error("{0}")]
    Config(String),
    /// The embedded rule set failed to load (a build defect; tests guard it).
    #[error("built-in redaction rules: {0}")]
    Builtin(String),
}

/// The redaction engine. Holds the compiled rules (shared), the mode, the
/// per-store hash key and the per-run memory of secrets already seen.
#[derive(Debug)]
pub struct Redactor {
    engine: Arc<Engine>,
    mode: Mode,
    enabled: bool,
    key: HashKey,
    memory: Memory,
    /// Set while a batch whose seams were learned ahead is redacted (see
    /// [`Redactor::learn_seams_ahead`]): spans skip learning them again.
    seams_ahead: bool,
    /// Short values found clean (see [`clean`]).
    clean: clean::CleanMemo,
    /// Ids already judged and their stand-ins (see [`ids::IdMemo`]).
    ids: ids::IdMemo,
    /// Short plain texts no rule can match (see [`quiet`]).
    quiet: quiet::QuietMemo,
}

/// How the store (and its spool) keeps a source file's path: redacted with the
/// built-in rules in mask mode, whatever the config's mode, so that a file or
/// folder named after a token leaves no piece of it on disk, and the same every
/// time, so that a path is found again by its kept form (redacting twice
/// changes nothing, so a kept path keeps itself). Two paths that differ only
/// inside a secret share one kept form.
pub fn kept_source_path(path: &str) -> String {
    Redactor::default().redact_text(path).into_inner()
}

impl Default for Redactor {
    fn default() -> Redactor {
        Redactor::builtin(Mode::Mask)
    }
}

impl Redactor {
    fn ctx<'a>(&'a mut self, run_id: &'a str) -> Ctx<'a> {
        Ctx {
            engine: &self.engine,
            memory: &mut self.memory,
            mode: self.mode,
            key: &self.key,
            run_id,
            skip_memory: false,
            quiet: Some(&mut self.quiet),
        }
    }

    fn to_match(&self, f: &Found, field: Field) -> Match {
        let l = &self.engine.labels[f.label];
        Match {
            rule: l.name.clone(),
            severity: l.severity,
            field,
            start: f.start,
            end: f.end,
        }
    }

    /// Redacts one string (and JSON inside it), recording matches under `field`.
    /// Ranges in `report` are byte ranges of the raw `text`.
    pub fn redact_str(
        &mut self,
        run_id: &str,
        text: &str,
        field: Field,
        report: &mut Report,
    ) -> String {
        self.redact_borrowed(run_id, text, field, report)
            .into_owned()
    }

    /// [`Redactor::redact_str`] without the copy when nothing changed (most text):
    /// the input borrowed back, or the redacted text owned.
    pub fn redact_borrowed<'t>(
        &mut self,
        run_id: &str,
        text: &'t str,
        field: Field,
        report: &mut Report,
    ) -> std::borrow::Cow<'t, str> {
        match self.redact_cow(run_id, text, field, report) {
            Some(out) => std::borrow::Cow::Owned(out),
            None => std::borrow::Cow::Borrowed(text),
        }
    }

    /// `None` when nothing changed.
    fn redact_cow(
        &mut self,
        run_id: &str,
        text: &str,
        field: Field,
        report: &mut Report,
    ) -> Option<String> {
        if !self.enabled || text.is_empty() {
            return None;
        }
        let (out, found) = self.ctx(run_id).settled(text);
        for f in &found {
            let m = self.to_match(f, field.clone());
            report.matches.push(m);
        }
        out
    }

    /// [`Redactor::redact_cow`] for a short value that repeats from span to
    /// span (a file path, a name, a model): one found clean is not redacted
    /// again in the same run while the memory is unchanged ([`clean`]).
    fn redact_short_cow(
        &mut self,
        run_id: &str,
        text: &str,
        field: Field,
        report: &mut Report,
    ) -> Option<String> {
        if !self.enabled || text.is_empty() {
            return None;
        }
        let changes = self.memory.changes();
        if self.clean.is_clean(run_id, text, changes) {
            return None;
        }
        let before = report.matches.len();
        let out = self.redact_cow(run_id, text, field, report);
        if out.is_none() && report.matches.len() == before && self.memory.changes() == changes {
            self.clean.note(run_id, text, changes);
        }
        out
    }

    fn field_in_place(&mut self, run_id: &str, s: &mut String, field: Field, report: &mut Report) {
        if let Some(new) = self.redact_cow(run_id, s, field, report) {
            *s = new;
        }
    }

    fn opt_in_place(
        &mut self,
        run_id: &str,
        s: &mut Option<String>,
        field: Field,
        report: &mut Report,
    ) {
        if let Some(v) = s {
            self.field_in_place(run_id, v, field, report);
        }
    }
}
