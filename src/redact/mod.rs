//! Redaction: the only door from raw trace text to anything persistent or visible.
//!
//! [`Redacted<T>`] can be built only inside this module tree, so the store,
//! exports, logs and views — which accept nothing else — are proven by the
//! compiler to see redacted values only. [`Redactor`] turns raw spans, runs,
//! findings and errors into `Redacted` ones and reports which rules matched
//! where (rule and position, never the value) so detection can use it.

pub mod cut;
mod disguise;
mod engine;
#[cfg(test)]
mod gate_tests;
#[cfg(test)]
mod idempotence_tests;
mod json;
mod key;
mod markers;
mod memory;
mod prefilter;
mod rules;
mod run;
mod validate;
mod value;

pub use key::HashKey;
pub use rules::{builtin_specs, RedactionSection, RuleSpec, BUILTIN_RULES};
pub use validate::Validator;

use crate::config::Config;
use crate::model::{Finding, ParseError, Run, Severity, SkillHit, Span};
use engine::{Engine, Extras};
use json::{Ctx, Found};
use memory::Memory;
use rules::Rule;
use std::sync::{Arc, OnceLock};

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

/// What redaction will change in one span: built by [`Redactor::plan_span`]
/// from the raw span, applied to that same span by [`Redactor::apply`].
#[derive(Debug, Default)]
pub struct SpanPlan {
    /// New text of name, text, tool_input, tool_output, model, tool_name, origin path.
    fields: [Option<String>; 7],
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
    report: Report,
}

impl SpanPlan {
    /// What was found where (no secret values).
    pub fn report(&self) -> &Report {
        &self.report
    }
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
}

impl Default for Redactor {
    fn default() -> Redactor {
        Redactor::builtin(Mode::Mask)
    }
}

/// Compiles example patterns (a value must match one entirely).
pub(super) fn example_patterns(pats: &[String]) -> Result<Vec<regex::Regex>, (String, String)> {
    pats.iter()
        .map(|p| {
            regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                let why = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                (p.clone(), why)
            })
        })
        .collect()
}

/// The built-in engine, compiled once per process.
fn builtin_engine() -> Result<Arc<Engine>, RedactError> {
    static ENGINE: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let b = rules::builtin().map_err(|e| format!("{}: {}", e.rule, e.why))?;
            let example_patterns = example_patterns(&b.example_patterns)
                .map_err(|(p, e)| format!("example pattern '{p}': {e}"))?;
            let extras = Extras {
                fields: b.fields,
                headers: b.headers,
                words: b.words,
                phone: b.phone,
                examples: b.examples,
                example_patterns,
                ..Extras::default()
            };
            Ok(Arc::new(Engine::new(b.rules, extras)))
        })
        .clone()
        .map_err(RedactError::Builtin)
}

impl Redactor {
    /// A redactor with the built-in rules and the given mode (hash mode uses a
    /// random per-process key; use [`Redactor::from_config`] with the store's key).
    pub fn builtin(mode: Mode) -> Redactor {
        #[expect(
            clippy::expect_used,
            reason = "embedded rules are checked by unit tests"
        )]
        let engine = builtin_engine().expect("built-in redaction rules compile");
        Redactor {
            engine,
            mode,
            enabled: true,
            key: HashKey::random(),
            memory: Memory::default(),
        }
    }

    /// Same as [`Redactor::builtin`].
    pub fn new(mode: Mode) -> Redactor {
        Redactor::builtin(mode)
    }

    /// Builds the redactor the config asks for: `[redaction]` mode, `enabled`
    /// (off only when `enabled = false` is written), extra rules, disabled
    /// built-ins, allowlists, field paths and header names. A rule or pattern
    /// that does not compile is an error naming it and its config line; no
    /// redactor is built then.
    pub fn from_config(config: &Config, key: HashKey) -> Result<Redactor, RedactError> {
        let sec = RedactionSection::from_config(config)?;
        let file = config.display_name();
        let line_of = |name: &str| {
            [format!("\"{name}\""), format!("'{name}'")]
                .iter()
                .map(|n| config.line_of(n))
                .find(|&l| l > 0)
                .unwrap_or_else(|| config.line_of("[redaction"))
        };
        let b =
            rules::builtin().map_err(|e| RedactError::Builtin(format!("{}: {}", e.rule, e.why)))?;
        for d in &sec.disable {
            if !b.rules.iter().any(|r| &r.name == d) {
                return Err(RedactError::Rule {
                    file: file.clone(),
                    line: line_of(d),
                    rule: d.clone(),
                    why: "no built-in rule has this name (see `disable`)".into(),
                });
            }
        }
        let mut all: Vec<Rule> = b
            .rules
            .into_iter()
            .filter(|r| !sec.disable.contains(&r.name))
            .collect();
        for spec in &sec.rules {
            let rule = spec.compile(false).map_err(|e| RedactError::Rule {
                file: file.clone(),
                line: line_of(&spec.name),
                rule: e.rule,
                why: e.why,
            })?;
            if all.iter().any(|r| r.name == rule.name) {
                return Err(RedactError::Rule {
                    file: file.clone(),
                    line: line_of(&spec.name),
                    rule: rule.name,
                    why: "a rule with this name already exists".into(),
                });
            }
            all.push(rule);
        }
        let mut allow_patterns = Vec::new();
        for p in &sec.allowlist_patterns {
            let re = regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| RedactError::Rule {
                file: file.clone(),
                line: config.line_of(p).max(line_of("allowlist_patterns")),
                rule: "allowlist_patterns".into(),
                why: format!(
                    "pattern does not compile: {}",
                    e.to_string().lines().last().unwrap_or("").trim()
                ),
            })?;
            allow_patterns.push(re);
        }
        let mut fields = b.fields;
        fields.extend(sec.field_paths.iter().cloned());
        let mut headers = b.headers;
        headers.extend(sec.headers.iter().cloned());
        let mut words = b.words;
        words
            .placeholders
            .extend(sec.placeholders.iter().map(|w| w.to_ascii_lowercase()));
        let mut examples = b.examples;
        examples.extend(sec.examples.iter().cloned());
        let example_patterns = example_patterns(&b.example_patterns)
            .map_err(|(p, why)| RedactError::Builtin(format!("example pattern '{p}': {why}")))?;
        let extras = Extras {
            allow_exact: sec.allowlist.clone(),
            allow_patterns,
            fields,
            headers,
            words,
            phone: b.phone,
            examples,
            example_patterns,
        };
        let engine = Engine::new(all, extras);
        Ok(Redactor {
            engine: Arc::new(engine),
            mode: sec.mode.unwrap_or_default(),
            enabled: sec.enabled != Some(false),
            key,
            memory: Memory::default(),
        })
    }

    /// Replaces the hash key (the store's key, for `hash` mode).
    pub fn with_key(mut self, key: HashKey) -> Redactor {
        self.key = key;
        self
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// False only when the config says `enabled = false`; then text passes unchanged
    /// (the TUI status line and SECURITY.md say so).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The active rules: (name, severity, description), in priority order.
    pub fn rules(&self) -> impl Iterator<Item = (&str, Severity, &str)> {
        self.engine
            .rules
            .iter()
            .map(|r| (r.name.as_str(), r.severity, r.description.as_str()))
    }

    fn ctx<'a>(&'a mut self, run_id: &'a str) -> Ctx<'a> {
        Ctx {
            engine: &self.engine,
            memory: &mut self.memory,
            mode: self.mode,
            key: &self.key,
            run_id,
            skip_memory: false,
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
        self.redact_cow(run_id, text, field, report)
            .unwrap_or_else(|| text.to_string())
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

    /// What redaction would change in `span`, without touching it: the new
    /// text of each changed field and what was found where.
    fn plan_once(&mut self, span: &Span) -> SpanPlan {
        let mut plan = SpanPlan::default();
        let run = span.run_id.as_str();
        let r = &mut plan.report;
        fn opt(s: &Option<String>) -> &str {
            s.as_deref().unwrap_or("")
        }
        let fields: [(&str, Field); 7] = [
            (span.name.as_str(), Field::Name),
            (opt(&span.text), Field::Text),
            (opt(&span.tool_input), Field::ToolInput),
            (opt(&span.tool_output), Field::ToolOutput),
            (opt(&span.model), Field::Other("model".into())),
            (opt(&span.tool_name), Field::Other("tool_name".into())),
            (&*span.origin.path, Field::Other("origin".into())),
        ];
        for (i, (text, field)) in fields.into_iter().enumerate() {
            plan.fields[i] = self.redact_cow(run, text, field, r);
        }
        if !span.attributes.is_empty() {
            let mut found = Vec::new();
            let mut value = serde_json::Value::Object(span.attributes.clone());
            let changed = self.ctx(run).walk_settled(&mut value, &mut found);
            if let (true, serde_json::Value::Object(m)) = (changed || !found.is_empty(), value) {
                plan.attributes = Some(m);
            }
            for f in &found {
                let m = self.to_match(f, Field::Attribute(f.path.clone()));
                plan.report.matches.push(m);
            }
        }
        plan
    }

    /// Plans the redaction of a span (see [`Redactor::apply`]). When a secret
    /// first found in this span also occurs in a field processed before it, the
    /// plan is redone so that occurrence is caught too. The report's positions
    /// index the span's raw fields, for detection to read.
    pub fn plan_span(&mut self, span: &Span) -> SpanPlan {
        if !self.enabled {
            return SpanPlan::default();
        }
        let before = self.memory.len();
        let plan = self.plan_once(span);
        if self.memory.len() == before {
            return plan;
        }
        self.plan_once(span)
    }

    /// The span with its plan applied: changed fields replaced, the rest moved
    /// (no copy of unchanged text).
    pub fn apply(&self, mut span: Span, plan: SpanPlan) -> Redacted<Span> {
        let [name, text, input, output, model, tool, origin] = plan.fields;
        let set = |dst: &mut Option<String>, new: Option<String>| {
            if let (Some(d), Some(n)) = (dst.as_mut(), new) {
                *d = n;
            }
        };
        if let Some(n) = name {
            span.name = n;
        }
        set(&mut span.text, text);
        set(&mut span.tool_input, input);
        set(&mut span.tool_output, output);
        set(&mut span.model, model);
        set(&mut span.tool_name, tool);
        if let Some(o) = origin {
            span.origin.path = o.into();
        }
        if let Some(a) = plan.attributes {
            span.attributes = a;
        }
        Redacted::new(span)
    }

    /// Remembers a canary token (as it appears in text) for `run_id`: every later
    /// occurrence in that run, and a span redone with [`Redactor::redact_span`],
    /// shows `[REDACTED:canary_token]`. A decoy's value must stay secret too: a
    /// stored or exported canary would teach an attacker what to avoid.
    pub fn remember_canary(&mut self, run_id: &str, token: &str) {
        if self.enabled {
            let label = self.engine.canary_label;
            self.memory.learn(run_id, token, label);
        }
    }

    /// Remembers a secret `value` for `run_id` as `rule` (a rule name) found it:
    /// every later occurrence in that run is redacted under that name. For a
    /// process that judges one event of a run (the guard's command hook) and
    /// recognises, by its keyed hash, a value an earlier process redacted.
    pub fn remember_secret(&mut self, run_id: &str, value: &str, rule: &str) {
        if self.enabled {
            let label = self
                .engine
                .labels
                .iter()
                .position(|l| l.name == rule)
                .unwrap_or(self.engine.field_label);
            self.memory.learn(run_id, value, label);
        }
    }

    /// Redacts every string of a span (recursively, including JSON inside strings):
    /// [`Redactor::plan_span`] then [`Redactor::apply`].
    pub fn redact_span(&mut self, span: Span) -> (Redacted<Span>, Report) {
        let mut plan = self.plan_span(&span);
        let report = std::mem::take(&mut plan.report);
        (self.apply(span, plan), report)
    }

    /// Redacts a run's title, source and cwd; the title (the whole first line of
    /// the prompt, as parsers give it) is cut to [`cut::TITLE_CHARS`] only after it
    /// is redacted.
    pub fn redact_run(&mut self, mut run: Run) -> Redacted<Run> {
        let mut r = Report::default();
        let id = run.id.clone();
        self.opt_in_place(&id, &mut run.title, Field::Other("title".into()), &mut r);
        if let Some(t) = &mut run.title {
            *t = cut::one_line(t, cut::TITLE_CHARS);
        }
        self.field_in_place(&id, &mut run.source, Field::Other("source".into()), &mut r);
        self.opt_in_place(&id, &mut run.cwd, Field::Other("cwd".into()), &mut r);
        Redacted::new(run)
    }

    /// Redacts a finding's title, message and evidence, each whole, then cuts the
    /// message and the evidence to one line of [`cut::MESSAGE_CHARS`] and
    /// [`cut::EVIDENCE_CHARS`] characters (detection hands them over uncut).
    pub fn redact_finding(&mut self, mut finding: Finding) -> Redacted<Finding> {
        let mut r = Report::default();
        let id = finding.run_id.clone();
        self.field_in_place(
            &id,
            &mut finding.title,
            Field::Other("title".into()),
            &mut r,
        );
        self.field_in_place(
            &id,
            &mut finding.message,
            Field::Other("message".into()),
            &mut r,
        );
        self.field_in_place(
            &id,
            &mut finding.evidence,
            Field::Other("evidence".into()),
            &mut r,
        );
        finding.message = cut::one_line(&finding.message, cut::MESSAGE_CHARS);
        finding.evidence = cut::one_line(&finding.evidence, cut::EVIDENCE_CHARS);
        if let Some(o) = &mut finding.origin {
            let mut path = o.path.to_string();
            self.field_in_place(&id, &mut path, Field::Other("origin".into()), &mut r);
            o.path = path.into();
        }
        Redacted::new(finding)
    }

    /// Redacts a skill hit (names come from registries, but are checked anyway).
    pub fn redact_skill_hit(&mut self, mut hit: SkillHit) -> Redacted<SkillHit> {
        let mut r = Report::default();
        let id = hit.run_id.clone();
        self.field_in_place(&id, &mut hit.name, Field::Name, &mut r);
        Redacted::new(hit)
    }

    /// Redacts a parse error's message and path.
    pub fn redact_parse_error(&mut self, mut err: ParseError) -> Redacted<ParseError> {
        let mut r = Report::default();
        self.field_in_place("", &mut err.message, Field::Other("message".into()), &mut r);
        self.field_in_place("", &mut err.path, Field::Other("path".into()), &mut r);
        Redacted::new(err)
    }

    /// Redacts free text bound for a log line, an error message or the screen.
    pub fn redact_text(&mut self, text: &str) -> Redacted<String> {
        let mut r = Report::default();
        Redacted::new(self.redact_str("", text, Field::Other("text".into()), &mut r))
    }

    /// Redacts the whole of `text` (as part of run `run_id`), then cuts it to one
    /// line of at most `max` characters ([`cut::one_line`]): how trace text bound
    /// for a title, an excerpt or a preview is shortened, so that no cut leaves the
    /// start of a secret for the rules to miss.
    pub fn redact_line(&mut self, run_id: &str, text: &str, max: usize) -> Redacted<String> {
        let mut r = Report::default();
        let red = self.redact_str(run_id, text, Field::Other("text".into()), &mut r);
        Redacted::new(cut::one_line(&red, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, SpanKind};

    #[test]
    fn plan_reads_the_raw_span_and_apply_moves_unchanged_text() {
        let mut r = Redactor::new(Mode::Mask);
        let mut span = Span::new("s", "r", SpanKind::Tool, "Bash", Origin::new("f.jsonl", 1));
        let key = format!("sk-proj-{}", "A1b2C3d4E5f6G7h8".repeat(3));
        span.tool_input = Some(format!("{{\"command\":\"echo {key}\"}}"));
        span.text = Some("nothing secret in here, just prose".into());
        let plan = r.plan_span(&span);
        let m = &plan.report().matches[0];
        assert_eq!(m.field, Field::ToolInput);
        let raw = span.tool_input.as_deref().unwrap();
        assert_eq!(&raw[m.start..m.end], key, "positions index the raw field");
        let text_ptr = span.text.as_ref().unwrap().as_ptr();
        let red = r.apply(span, plan);
        let red = red.get();
        assert!(!red.tool_input.as_deref().unwrap().contains(&key));
        assert!(red.tool_input.as_deref().unwrap().contains("[REDACTED:"));
        assert_eq!(
            red.text.as_ref().unwrap().as_ptr(),
            text_ptr,
            "an unchanged field is moved, not copied"
        );
    }
}
