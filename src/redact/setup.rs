//! Building a [`Redactor`]: the built-in rules compiled once per process, or the
//! config's `[redaction]` section (extra and disabled rules, allowlists, field paths,
//! header names, word lists); and reading back its settings.

use super::engine::{Engine, Extras};
use super::memory::Memory;
use super::rules::{self, RedactionSection, Rule};
use super::{HashKey, Mode, RedactError, Redactor};
use crate::config::Config;
use crate::model::Severity;
use std::sync::{Arc, OnceLock};

/// Example patterns (a value must match one entirely): built-in only,
/// compiled on first use (most texts have no candidate value to judge), each
/// checked by `builtin_rules_compile_with_keywords`.
pub(super) fn example_patterns(pats: &[String]) -> Vec<crate::lazyre::LazyRegex> {
    pats.iter()
        .map(|p| crate::lazyre::LazyRegex::new(format!("^(?:{p})$"), Default::default()))
        .collect()
}

/// The built-in engine, compiled once per process.
fn builtin_engine() -> Result<Arc<Engine>, RedactError> {
    static ENGINE: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let b = rules::builtin().map_err(|e| format!("{}: {}", e.rule, e.why))?;
            let example_patterns = example_patterns(&b.example_patterns);
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
            seams_ahead: false,
            clean: Default::default(),
            ids: Default::default(),
            quiet: Default::default(),
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
        let example_patterns = example_patterns(&b.example_patterns);
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
            seams_ahead: false,
            clean: Default::default(),
            ids: Default::default(),
            quiet: Default::default(),
        })
    }

    /// Compiles now the regexes every text may need (the example patterns): a
    /// long-lived process (`guard serve`) pays for them at start, not inside a request.
    pub fn warm(&self) {
        self.engine.warm();
    }

    /// A redactor with the same compiled rules (shared) and settings, and an
    /// empty memory of secrets seen: one per `guard serve` session.
    pub fn fork(&self) -> Redactor {
        Redactor {
            engine: self.engine.clone(),
            mode: self.mode,
            enabled: self.enabled,
            key: self.key.clone(),
            memory: Memory::default(),
            seams_ahead: false,
            clean: Default::default(),
            ids: Default::default(),
            quiet: Default::default(),
        }
    }

    /// Replaces the hash key (the store's key, for `hash` mode).
    pub fn with_key(mut self, key: HashKey) -> Redactor {
        self.key = key;
        // stand-ins are keyed: those judged under the old key are forgotten
        self.ids = Default::default();
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
}
