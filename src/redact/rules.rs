//! Redaction rules as data: the built-in set from `assets/redaction/rules.toml`
//! and the user's `[redaction]` config section, parsed and compiled here.
//!
//! A rule is a name, a regex (Rust `regex`: linear time for every rule, user
//! rules included), the keywords that gate it in the prefilter, an optional
//! validator and a severity. Nothing here touches trace text.

use super::run::Prejudge;
use super::validate::Validator;
use super::value::{ValueRule, Words};
use super::{Mode, RedactError};
use crate::model::Severity;
use regex::{Regex, RegexBuilder};
use serde::Deserialize;

/// The built-in rule file, embedded at build time.
pub const BUILTIN_RULES: &str = include_str!("../../assets/redaction/rules.toml");

/// When a rule's regex runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Near an occurrence of one of these lower-case literals.
    Keywords(Vec<String>),
    /// Around runs of 9+ digits (phones, cards, SSNs, IBANs).
    Digits,
    /// On every string (a user rule with no keywords).
    Always,
}

/// One rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_severity")]
    pub severity: String,
    pub pattern: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub trigger: Option<String>,
    #[serde(default)]
    pub window: Option<usize>,
    /// Characters one of which must follow a keyword hit (after up to 4 quotes, spaces or
    /// backslashes) for the hit to count: `"=:"` for `password=` / `password: ` styles.
    #[serde(default)]
    pub followed_by: Option<String>,
    #[serde(default)]
    pub validator: Option<String>,
    /// A verdict taken at each keyword hit before the regex runs (built-in rules only:
    /// it is exact for their pattern's shape; see [`super::run::Prejudge`]).
    #[serde(default)]
    pub prejudge: Option<String>,
    /// Thresholds for the values a `key = value` rule finds (see `redact::value`).
    #[serde(default)]
    pub value: Option<ValueRule>,
    /// Words one of which must occur shortly before a match the validator cannot
    /// vouch for alone (a card number written without separators).
    #[serde(default)]
    pub context: Vec<String>,
    /// TraceCraft rule(s) this one covers (documentation only).
    #[serde(default)]
    pub tracecraft: Option<String>,
}

fn default_severity() -> String {
    "medium".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default)]
    values: ValuesFile,
    #[serde(default)]
    phone: PhoneFile,
    rule: Vec<RuleSpec>,
}

/// `[values]`: the word lists values are judged by, and known example values.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuesFile {
    /// Values that stand for a secret without being one.
    #[serde(default)]
    pub placeholders: Vec<String>,
    /// Keywords and type names: code, not values.
    #[serde(default)]
    pub code: Vec<String>,
    /// Documented test and example values, exact: redacted, but only info.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Patterns a value matches entirely when it is a test or example value.
    #[serde(default)]
    pub example_patterns: Vec<String>,
}

/// `[phone]`: E.164 country codes and the length of their national numbers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneFile {
    /// `"<code>:<digits>"` or `"<code>:<min>-<max>"`.
    #[serde(default)]
    pub codes: Vec<String>,
}

/// Country code → (shortest, longest) national number, parsed from `[phone]`.
#[derive(Debug, Clone, Default)]
pub struct PhoneCodes(pub std::collections::HashMap<u16, (u8, u8)>);

impl PhoneCodes {
    fn parse(file: &PhoneFile) -> Result<PhoneCodes, String> {
        let mut m = std::collections::HashMap::new();
        for c in &file.codes {
            let bad =
                || format!("[phone] codes: '{c}' is not <code>:<digits> or <code>:<min>-<max>");
            let (code, len) = c.split_once(':').ok_or_else(bad)?;
            let (lo, hi) = len.split_once('-').unwrap_or((len, len));
            let code: u16 = code.parse().map_err(|_| bad())?;
            let lo: u8 = lo.parse().map_err(|_| bad())?;
            let hi: u8 = hi.parse().map_err(|_| bad())?;
            m.insert(code, (lo, hi));
        }
        Ok(PhoneCodes(m))
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pattern: String,
    /// The compiled pattern. A user's rule is compiled when it is loaded (so a
    /// bad one is an error at once); a built-in one on first use, because
    /// compiling all 50 cost every command ~25 ms at startup and most traces
    /// never reach most rules' keywords. `None` only if it fails to compile,
    /// which a unit test rules out for every built-in.
    compiled: std::sync::OnceLock<Option<Compiled>>,
    pub trigger: Trigger,
    /// Bytes searched on either side of a keyword hit; `None` = the whole text.
    pub window: Option<usize>,
    /// See [`RuleSpec::followed_by`]; empty = any keyword hit counts.
    pub followed_by: Vec<u8>,
    pub validator: Option<Validator>,
    /// See [`RuleSpec::prejudge`].
    pub prejudge: Option<Prejudge>,
    /// Thresholds for the values the rule finds.
    pub value: ValueRule,
    /// See [`RuleSpec::context`] (lower case).
    pub context: Vec<String>,
    pub tracecraft: Option<String>,
    pub builtin: bool,
}

/// A rule's regex and its `secret*` capture groups.
#[derive(Debug, Clone)]
struct Compiled {
    regex: Regex,
    /// Capture-group indexes named `secret*`; empty = redact the whole match.
    secret_groups: Vec<usize>,
}

fn compile_pattern(pattern: &str) -> Result<Compiled, regex::Error> {
    let regex = RegexBuilder::new(pattern)
        .size_limit(4 << 20)
        .dfa_size_limit(8 << 20)
        .build()?;
    let secret_groups = regex
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| n.filter(|n| n.starts_with("secret")).map(|_| i))
        .collect();
    Ok(Compiled {
        regex,
        secret_groups,
    })
}

impl Rule {
    fn compiled(&self) -> Option<&Compiled> {
        self.compiled
            .get_or_init(|| {
                crate::lazyre::note_compile();
                compile_pattern(&self.pattern).ok()
            })
            .as_ref()
    }

    /// The rule's regex (compiled on first use for built-ins).
    pub fn regex(&self) -> Option<&Regex> {
        self.compiled().map(|c| &c.regex)
    }

    /// Capture-group indexes named `secret*`; empty = redact the whole match.
    pub fn secret_groups(&self) -> &[usize] {
        self.compiled().map_or(&[], |c| c.secret_groups.as_slice())
    }

    /// The rule's pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// Default search window around a keyword hit.
pub const DEFAULT_WINDOW: usize = 256;

/// Why a rule spec is invalid (the caller adds file and line).
#[derive(Debug)]
pub struct SpecError {
    pub rule: String,
    pub why: String,
}

impl RuleSpec {
    /// Compiles the spec; `builtin` marks rules from the embedded file.
    pub fn compile(&self, builtin: bool) -> Result<Rule, SpecError> {
        let err = |why: String| SpecError {
            rule: self.name.clone(),
            why,
        };
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(err("name must use only a-z, 0-9 and _".into()));
        }
        let severity: Severity = self.severity.parse().map_err(err)?;
        let compiled = std::sync::OnceLock::new();
        if !builtin {
            let c = compile_pattern(&self.pattern).map_err(|e| {
                err(format!(
                    "pattern does not compile: {}",
                    one_line(&e.to_string())
                ))
            })?;
            let _ = compiled.set(Some(c));
        }
        let keywords: Vec<String> = self
            .keywords
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| k.to_ascii_lowercase())
            .collect();
        let trigger = match self.trigger.as_deref() {
            Some("digits") => Trigger::Digits,
            None | Some("keywords") if keywords.is_empty() => Trigger::Always,
            None | Some("keywords") => Trigger::Keywords(keywords),
            Some(other) => {
                return Err(err(format!(
                    "unknown trigger '{other}' (expected keywords or digits)"
                )))
            }
        };
        let validator = match self.validator.as_deref() {
            None => None,
            Some(v) => Some(Validator::from_name(v).ok_or_else(|| {
                err(format!(
                    "unknown validator '{v}' (expected one of {})",
                    Validator::NAMES
                ))
            })?),
        };
        let prejudge = match self.prejudge.as_deref() {
            None => None,
            Some(_) if !builtin => return Err(err(
                "prejudge is for built-in rules only (its verdict is exact only for their pattern)"
                    .into(),
            )),
            Some(p) => Some(Prejudge::from_name(p).ok_or_else(|| {
                err(format!(
                    "unknown prejudge '{p}' (expected {})",
                    Prejudge::NAMES
                ))
            })?),
        };
        let window = match self.window {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some(DEFAULT_WINDOW),
        };
        Ok(Rule {
            name: self.name.clone(),
            description: self.description.clone(),
            severity,
            pattern: self.pattern.clone(),
            compiled,
            trigger,
            window,
            followed_by: self.followed_by.as_deref().unwrap_or("").bytes().collect(),
            validator,
            prejudge,
            value: self.value.unwrap_or_default(),
            context: self
                .context
                .iter()
                .map(|w| w.to_ascii_lowercase())
                .collect(),
            tracecraft: self.tracecraft.clone(),
            builtin,
        })
    }
}

/// The last meaningful line of a (possibly multi-line) regex error.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_string())
        .unwrap_or_else(|| s.lines().last().unwrap_or("").trim().to_string())
}

/// The built-in set: compiled rules, sensitive field paths and header names, the
/// word lists values are judged by, known example values and phone country codes.
#[derive(Debug, Clone)]
pub struct Builtin {
    pub rules: Vec<Rule>,
    pub fields: Vec<String>,
    pub headers: Vec<String>,
    pub words: Words,
    pub examples: Vec<String>,
    pub example_patterns: Vec<String>,
    pub phone: PhoneCodes,
}

/// Parses and compiles the built-in rule file.
pub fn builtin() -> Result<Builtin, SpecError> {
    let err = |why: String| SpecError {
        rule: "<builtin>".into(),
        why,
    };
    let file: RuleFile = crate::assets::parse("redaction/rules.toml").map_err(err)?;
    let lower = |v: &[String]| v.iter().map(|w| w.to_ascii_lowercase()).collect();
    Ok(Builtin {
        rules: file
            .rule
            .iter()
            .map(|s| s.compile(true))
            .collect::<Result<_, _>>()?,
        fields: file.fields,
        headers: file.headers,
        words: Words {
            placeholders: lower(&file.values.placeholders),
            code: lower(&file.values.code),
        },
        examples: file.values.examples,
        example_patterns: file.values.example_patterns,
        phone: PhoneCodes::parse(&file.phone).map_err(err)?,
    })
}

/// The built-in rule specs (for docs and tests).
pub fn builtin_specs() -> Vec<RuleSpec> {
    toml::from_str::<RuleFile>(BUILTIN_RULES)
        .map(|f| f.rule)
        .unwrap_or_default()
}

/// The `[redaction]` section of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionSection {
    /// `false` turns redaction off; only an explicit `enabled = false` does.
    pub enabled: Option<bool>,
    pub mode: Option<Mode>,
    /// Built-in rule names to switch off (e.g. `["phone"]`).
    #[serde(default)]
    pub disable: Vec<String>,
    /// Exact values never redacted.
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// Patterns; a value that matches one *entirely* is never redacted.
    #[serde(default)]
    pub allowlist_patterns: Vec<String>,
    /// Field paths (`credentials.password`) and leaf keys (`password`) whose whole value is redacted.
    #[serde(default)]
    pub field_paths: Vec<String>,
    /// Extra HTTP header names whose whole value is redacted.
    #[serde(default)]
    pub headers: Vec<String>,
    /// More values that stand for a secret without being one (never redacted as a
    /// `key = value` value).
    #[serde(default)]
    pub placeholders: Vec<String>,
    /// More known test or example values: still redacted, their findings info.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Extra rules.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

impl RedactionSection {
    /// Reads `[redaction]` from `config`; any problem is one line naming the file.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, RedactError> {
        config
            .section::<RedactionSection>("redaction")
            .map_err(|e| RedactError::Config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_rules_are_compiled_when_loaded_and_builtins_on_first_use() {
        let spec = |pattern: &str| RuleSpec {
            name: "mine".into(),
            pattern: pattern.into(),
            ..builtin_specs().into_iter().next().expect("a built-in")
        };
        let bad = spec("(unclosed").compile(false).expect_err("bad user rule");
        assert!(bad.why.contains("does not compile"), "{}", bad.why);
        let user = spec("id-(?P<secret>[0-9]+)")
            .compile(false)
            .expect("user rule");
        assert!(user.compiled.get().is_some(), "compiled at load");
        assert_eq!(user.secret_groups(), [1]);
        let lazy = spec("id-(?P<secret>[0-9]+)")
            .compile(true)
            .expect("built-in");
        assert!(lazy.compiled.get().is_none(), "not compiled yet");
        assert_eq!(lazy.secret_groups(), [1]);
        assert!(lazy.compiled.get().is_some());
    }

    #[test]
    fn builtin_rules_compile_with_keywords() {
        let b = builtin().map_err(|e| e.why).expect("compile");
        // Example patterns compile on first use: every one must compile.
        assert!(!b.example_patterns.is_empty());
        for re in super::super::example_patterns(&b.example_patterns) {
            if let Err(e) = re.compile() {
                panic!("{}: {e}", re.as_str());
            }
        }
        assert!(b.fields.iter().any(|f| f == "password"));
        assert!(b.headers.iter().any(|h| h == "set-cookie"));
        let rules = b.rules;
        assert!(rules.len() >= 45, "{}", rules.len());
        let mut names = std::collections::HashSet::new();
        for r in &rules {
            assert!(names.insert(r.name.clone()), "duplicate {}", r.name);
            // Built-ins compile on first use: every one must compile.
            assert!(r.regex().is_some(), "{} does not compile", r.name);
            assert_ne!(r.trigger, Trigger::Always, "{} has no prefilter", r.name);
            if let Trigger::Keywords(k) = &r.trigger {
                for k in k {
                    assert_eq!(k, &k.to_ascii_lowercase(), "{}", r.name);
                }
            }
        }
        // Every TraceCraft default rule is covered by at least one built-in rule.
        for tc in [
            "email",
            "phone",
            "credit_card",
            "ssn",
            "openai_api_key",
            "anthropic_api_key",
            "aws_access_key",
            "aws_secret_key",
            "bearer_token",
            "github_token",
            "google_api_key",
            "azure_connection_string",
            "generic_api_key_param",
            "private_key",
            "slack_token",
            "stripe_key",
            "password_field",
        ] {
            assert!(
                rules.iter().any(|r| r
                    .tracecraft
                    .as_deref()
                    .is_some_and(|t| t.split(", ").any(|x| x == tc))),
                "{tc} not covered"
            );
        }
    }

    #[test]
    fn bad_specs_say_why() {
        let spec = |name: &str, pattern: &str| RuleSpec {
            name: name.into(),
            description: String::new(),
            severity: "low".into(),
            pattern: pattern.into(),
            keywords: vec![],
            trigger: None,
            window: None,
            followed_by: None,
            validator: None,
            prejudge: None,
            value: None,
            context: vec![],
            tracecraft: None,
        };
        let e = spec("emp", "EMP-(\\d{6}").compile(false).expect_err("bad");
        assert_eq!(e.rule, "emp");
        assert!(e.why.starts_with("pattern does not compile"), "{}", e.why);
        assert!(!e.why.contains('\n'));
        let e = spec("Bad Name", "x").compile(false).expect_err("bad");
        assert!(e.why.contains("a-z"));
        let r = spec("emp", "EMP-\\d{6}").compile(false).expect("ok");
        assert_eq!(r.trigger, Trigger::Always);
    }
}
