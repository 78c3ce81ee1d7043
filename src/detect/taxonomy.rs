//! Rule data: the canary taxonomy, domain lists, injection phrases and secret classes.
//!
//! Everything here is data from `assets/detect/*.toml` (embedded), extended by the
//! user's `[detection]` config section, compiled once into matchers: path globs
//! into one `RegexSet` per category, name lists into hash sets.

use super::DetectError;
use regex::{RegexSet, RegexSetBuilder};
use serde::Deserialize;
use std::collections::HashSet;

const CANARY_TOML: &str = include_str!("../../assets/detect/canary.toml");
const NETWORK_TOML: &str = include_str!("../../assets/detect/network.toml");
const SECRETS_TOML: &str = include_str!("../../assets/detect/secrets.toml");

#[derive(Debug, Default, Deserialize)]
struct CanaryFile {
    credential_paths: Vec<String>,
    wallet_paths: Vec<String>,
    credential_exceptions: Vec<String>,
    read_commands: Vec<String>,
    list_commands: Vec<String>,
    sensitive_dirs: Vec<String>,
    probe_binaries: Vec<String>,
    recon_commands: Vec<String>,
    secret_env_names: Vec<String>,
    env_exceptions: Vec<String>,
    env_dump_commands: Vec<String>,
    env_code_patterns: Vec<String>,
    persistence_paths: Vec<String>,
    persistence_commands: Vec<String>,
    shells: Vec<String>,
    interpreters: Vec<String>,
    wrappers: Vec<String>,
    privilege_commands: Vec<String>,
    decoders: Vec<String>,
    fetchers: Vec<String>,
    destructive_targets: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct NetworkFile {
    allow_domains: Vec<String>,
    known_bad: Vec<String>,
    network_commands: Vec<String>,
    fetch_tools: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SecretsFile {
    pii: Vec<String>,
    high: Vec<String>,
}

/// The user's `[detection]` config section: additions to the built-in data.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectionConfig {
    /// More allowlisted domains (`example.com` also covers subdomains).
    pub allow_domains: Vec<String>,
    /// More known-bad hosts (NET-TRACE-002).
    pub block_domains: Vec<String>,
    /// More credential path globs (EXF-TRACE-003).
    pub credential_paths: Vec<String>,
    /// Path globs that are never credential reads (templates, fixtures).
    pub credential_exceptions: Vec<String>,
    /// More persistence path globs (CMD-TRACE-002).
    pub persistence_paths: Vec<String>,
    /// More secret environment variable name globs (ENV-TRACE-001).
    pub secret_env_names: Vec<String>,
    /// More probe binaries (PRB-TRACE-001).
    pub probe_binaries: Vec<String>,
    /// More prompt-injection regexes (PINJ-TRACE-001), each alone a high finding.
    pub injection_phrases: Vec<String>,
    /// More patterns for the injection signals of `assets/detect/injection.toml`
    /// (`override`, `secrecy`, `discourse`, …), by signal name.
    pub injection_patterns: std::collections::BTreeMap<String, Vec<String>>,
    /// Rule ids to switch off entirely.
    pub disable_rules: Vec<String>,
    /// `false` turns detection off (spans are still redacted and stored).
    pub enabled: Option<bool>,
}

/// A compiled set of path globs.
#[derive(Debug, Clone)]
pub struct PathSet {
    set: RegexSet,
    globs: Vec<String>,
}

impl PathSet {
    fn new(globs: &[String]) -> Result<PathSet, DetectError> {
        let res: Vec<String> = globs.iter().map(|g| glob_to_regex(g)).collect();
        let set = RegexSetBuilder::new(&res)
            .case_insensitive(true)
            .build()
            .map_err(|e| DetectError::Data(format!("path patterns: {e}")))?;
        Ok(PathSet {
            set,
            globs: globs.to_vec(),
        })
    }

    /// The first glob matching the normalised `path`.
    pub fn matches(&self, path: &str) -> Option<&str> {
        let norm = normalise_path(path);
        // Most paths match nothing: `is_match` stops early, `matches` runs every pattern.
        if !self.set.is_match(&norm) {
            return None;
        }
        self.set
            .matches(&norm)
            .iter()
            .next()
            .map(|i| self.globs[i].as_str())
    }
}

/// Rewrites every spelling of the home folder to `~`, strips quotes and `./`.
pub fn normalise_path(p: &str) -> String {
    let p = p.trim().trim_matches(|c| c == '"' || c == '\'');
    let mut s = p.replace('\\', "/");
    for pre in ["${HOME}", "$HOME", "%USERPROFILE%"] {
        if let Some(rest) = s.strip_prefix(pre) {
            s = format!("~{rest}");
        }
    }
    for pre in ["/home/", "/Users/"] {
        if let Some(rest) = s.strip_prefix(pre) {
            s = match rest.find('/') {
                Some(i) => format!("~{}", &rest[i..]),
                None => "~".to_string(),
            };
        }
    }
    if let Some(rest) = s.strip_prefix("/root") {
        if rest.is_empty() || rest.starts_with('/') {
            s = format!("~{rest}");
        }
    }
    // `~user/...` is another user's home: treat as home too.
    if s.starts_with('~') && !s.starts_with("~/") && s.len() > 1 {
        if let Some(i) = s.find('/') {
            s = format!("~{}", &s[i..]);
        }
    }
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    s
}

/// Glob (see `assets/detect/canary.toml`) to an anchored regex.
fn glob_to_regex(glob: &str) -> String {
    let mut g = glob.trim().to_string();
    let dir = g.ends_with('/');
    if dir {
        g.pop();
    }
    let mut re = String::from("^");
    let rest: &str = if let Some(r) = g.strip_prefix("**/") {
        re.push_str("(?:.*/)?");
        r
    } else {
        &g
    };
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
                if chars.get(i + 1) == Some(&'/') {
                    i += 1;
                    re.push_str("/?");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    if dir {
        re.push_str("(?:/.*)?$");
    } else {
        re.push('$');
    }
    re
}

/// A set of name globs (env var names), case-insensitive.
#[derive(Debug, Clone)]
pub struct NameSet {
    set: RegexSet,
}

impl NameSet {
    fn new(globs: &[String]) -> Result<NameSet, DetectError> {
        let res: Vec<String> = globs
            .iter()
            .map(|g| {
                let mut r = String::from("^");
                for c in g.chars() {
                    match c {
                        '*' => r.push_str(".*"),
                        c => r.push_str(&regex::escape(&c.to_string())),
                    }
                }
                r.push('$');
                r
            })
            .collect();
        let set = RegexSetBuilder::new(&res)
            .case_insensitive(true)
            .build()
            .map_err(|e| DetectError::Data(format!("name patterns: {e}")))?;
        Ok(NameSet { set })
    }

    pub fn matches(&self, name: &str) -> bool {
        self.set.is_match(name)
    }
}

/// A domain list: exact domains cover their subdomains; `*.x` covers only subdomains.
#[derive(Debug, Clone, Default)]
pub struct DomainList {
    exact_or_sub: HashSet<String>,
    sub_only: HashSet<String>,
}

impl DomainList {
    fn new<'a>(items: impl IntoIterator<Item = &'a String>) -> DomainList {
        let mut d = DomainList::default();
        for it in items {
            let it = it.trim().trim_end_matches('.').to_ascii_lowercase();
            if let Some(rest) = it.strip_prefix("*.") {
                d.sub_only.insert(rest.to_string());
            } else if !it.is_empty() {
                d.exact_or_sub.insert(it);
            }
        }
        d
    }

    /// True when `host` (lowercase) is listed or is a subdomain of a listed domain.
    pub fn contains(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.exact_or_sub.contains(&host) {
            return true;
        }
        let mut rest = host.as_str();
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            if self.exact_or_sub.contains(rest) || self.sub_only.contains(rest) {
                return true;
            }
        }
        false
    }
}

/// All compiled rule data.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub credentials: PathSet,
    pub wallets: PathSet,
    pub credential_exceptions: PathSet,
    pub persistence: PathSet,
    pub sensitive_dirs: PathSet,
    pub read_commands: HashSet<String>,
    pub list_commands: HashSet<String>,
    pub probe_binaries: HashSet<String>,
    /// Recon commands as word lists (`["uname", "-a"]`).
    pub recon_commands: Vec<Vec<String>>,
    pub secret_env: NameSet,
    pub env_exceptions: NameSet,
    pub env_dump_commands: Vec<Vec<String>>,
    pub env_code: RegexSet,
    pub persistence_commands: Vec<Vec<String>>,
    pub shells: HashSet<String>,
    pub interpreters: HashSet<String>,
    pub wrappers: HashSet<String>,
    pub privilege_commands: HashSet<String>,
    pub decoders: HashSet<String>,
    pub fetchers: HashSet<String>,
    pub destructive_targets: HashSet<String>,
    pub allow: DomainList,
    pub known_bad: DomainList,
    pub network_commands: HashSet<String>,
    pub fetch_tools: HashSet<String>,
    /// Prompt-injection signals, carriers and image beacons (PINJ-TRACE-001).
    pub injection: super::injection::Rules,
    pub pii_rules: Vec<String>,
    pub high_rules: Vec<String>,
    pub disabled: HashSet<String>,
    /// Detection on (the default) or off.
    pub enabled: bool,
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, DetectError> {
    toml::from_str(text).map_err(|e| DetectError::Data(format!("{name}: {}", e.message())))
}

fn set(v: &[String]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn word_lists(v: &[String]) -> Vec<Vec<String>> {
    v.iter()
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// `\b` as an ASCII word boundary: the Unicode one makes the regex engines fall back
/// to their slowest path on non-ASCII text (tool outputs often have some).
fn ascii_boundaries(p: &str) -> String {
    p.replace("\\b", "(?-u:\\b)")
}

fn regex_set(name: &str, v: &[String]) -> Result<RegexSet, DetectError> {
    let v: Vec<String> = v.iter().map(|p| ascii_boundaries(p)).collect();
    RegexSetBuilder::new(&v)
        .case_insensitive(true)
        .build()
        .map_err(|e| DetectError::Data(format!("{name}: {e}")))
}

impl Taxonomy {
    /// The built-in data extended by `cfg`.
    pub fn load(cfg: &DetectionConfig) -> Result<Taxonomy, DetectError> {
        if cfg.enabled == Some(false) {
            // Detection off: nothing will be matched, so compile nothing (the
            // built-in sets cost ~20 ms of startup).
            let off = DetectionConfig {
                enabled: Some(false),
                ..DetectionConfig::default()
            };
            return Taxonomy::build(
                CanaryFile::default(),
                NetworkFile::default(),
                super::injection::Rules::off(),
                SecretsFile::default(),
                &off,
            );
        }
        let c: CanaryFile = parse("canary.toml", CANARY_TOML)?;
        let n: NetworkFile = parse("network.toml", NETWORK_TOML)?;
        let i = super::injection::Rules::load(&cfg.injection_phrases, &cfg.injection_patterns)?;
        let s: SecretsFile = parse("secrets.toml", SECRETS_TOML)?;
        Taxonomy::build(c, n, i, s, cfg)
    }

    fn build(
        c: CanaryFile,
        n: NetworkFile,
        i: super::injection::Rules,
        s: SecretsFile,
        cfg: &DetectionConfig,
    ) -> Result<Taxonomy, DetectError> {
        let cat = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().chain(b.iter()).cloned().collect()
        };
        Ok(Taxonomy {
            credentials: PathSet::new(&cat(&c.credential_paths, &cfg.credential_paths))?,
            wallets: PathSet::new(&c.wallet_paths)?,
            credential_exceptions: PathSet::new(&cat(
                &c.credential_exceptions,
                &cfg.credential_exceptions,
            ))?,
            persistence: PathSet::new(&cat(&c.persistence_paths, &cfg.persistence_paths))?,
            sensitive_dirs: PathSet::new(
                &c.sensitive_dirs
                    .iter()
                    .map(|d| format!("{d}/"))
                    .collect::<Vec<_>>(),
            )?,
            read_commands: set(&c.read_commands),
            list_commands: set(&c.list_commands),
            probe_binaries: set(&cat(&c.probe_binaries, &cfg.probe_binaries)),
            recon_commands: word_lists(&c.recon_commands),
            secret_env: NameSet::new(&cat(&c.secret_env_names, &cfg.secret_env_names))?,
            env_exceptions: NameSet::new(&c.env_exceptions)?,
            env_dump_commands: word_lists(&c.env_dump_commands),
            env_code: regex_set("env code patterns", &c.env_code_patterns)?,
            persistence_commands: word_lists(&c.persistence_commands),
            shells: set(&c.shells),
            interpreters: set(&c.interpreters),
            wrappers: set(&c.wrappers),
            privilege_commands: set(&c.privilege_commands),
            decoders: set(&c.decoders),
            fetchers: set(&c.fetchers),
            destructive_targets: set(&c.destructive_targets),
            allow: DomainList::new(n.allow_domains.iter().chain(cfg.allow_domains.iter())),
            known_bad: DomainList::new(n.known_bad.iter().chain(cfg.block_domains.iter())),
            network_commands: set(&n.network_commands),
            fetch_tools: set(&n.fetch_tools),
            injection: i,
            pii_rules: s.pii,
            high_rules: s.high,
            disabled: set(&cfg.disable_rules),
            enabled: cfg.enabled.unwrap_or(true),
        })
    }

    /// A credential or wallet path (and not a template): the glob that matched.
    pub fn credential(&self, path: &str) -> Option<&str> {
        if path.is_empty() || self.credential_exceptions.matches(path).is_some() {
            return None;
        }
        self.credentials
            .matches(path)
            .or_else(|| self.wallets.matches(path))
    }

    /// True when `name` is a secret-bearing environment variable name.
    pub fn secret_env(&self, name: &str) -> bool {
        self.secret_env.matches(name) && !self.env_exceptions.matches(name)
    }

    /// True when a redaction rule name is personal data, not a credential.
    pub fn is_pii_rule(&self, rule: &str) -> bool {
        let r = rule.to_ascii_lowercase();
        self.pii_rules.iter().any(|p| r.contains(p.as_str()))
    }

    /// True when a redaction rule name is a private key or cloud key.
    pub fn is_high_rule(&self, rule: &str) -> bool {
        let r = rule.to_ascii_lowercase();
        self.high_rules.iter().any(|p| r.contains(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tax() -> Taxonomy {
        Taxonomy::load(&DetectionConfig::default()).expect("built-in data")
    }

    #[test]
    fn detection_off_compiles_no_rule_data() {
        let t = Taxonomy::load(&DetectionConfig {
            enabled: Some(false),
            credential_paths: vec!["~/.mine/**".into()],
            ..DetectionConfig::default()
        })
        .expect("load");
        assert!(!t.enabled);
        assert!(t.credential("~/.aws/credentials").is_none());
        assert!(
            t.credential("~/.mine/key").is_none(),
            "user additions ignored too"
        );
        let on = Taxonomy::load(&DetectionConfig::default()).expect("load");
        assert!(on.enabled && on.credential("~/.aws/credentials").is_some());
    }

    #[test]
    fn home_spellings_normalise() {
        assert_eq!(normalise_path("/home/alice/.ssh/id_rsa"), "~/.ssh/id_rsa");
        assert_eq!(
            normalise_path("/Users/bob/.aws/credentials"),
            "~/.aws/credentials"
        );
        assert_eq!(normalise_path("$HOME/.netrc"), "~/.netrc");
        assert_eq!(normalise_path("${HOME}/.netrc"), "~/.netrc");
        assert_eq!(normalise_path("/root/.kube/config"), "~/.kube/config");
        assert_eq!(normalise_path("./.env"), ".env");
    }

    #[test]
    fn credential_globs() {
        let t = tax();
        for p in [
            "~/.ssh/id_rsa",
            "/home/u/.ssh/id_ed25519",
            "~/.aws/credentials",
            ".env",
            "/srv/app/.env.production",
            "~/.kube/config",
            "~/.docker/config.json",
            "~/.gnupg/private-keys-v1.d/x.key",
            "~/.config/solana/id.json",
            "~/.mozilla/firefox/abc.default/logins.json",
        ] {
            assert!(t.credential(p).is_some(), "{p}");
        }
        for p in [
            "README.md",
            "src/env.rs",
            ".env.example",
            "~/.ssh/id_rsa.pub",
            "docs/.environment",
            "src/password_field.rs",
        ] {
            assert!(t.credential(p).is_none(), "{p}");
        }
    }

    #[test]
    fn domains_and_env_names() {
        let t = tax();
        assert!(t.allow.contains("pypi.org"));
        assert!(t.allow.contains("files.pythonhosted.org"));
        assert!(!t.allow.contains("evilpypi.org"));
        assert!(t.known_bad.contains("abc123.ngrok-free.app"));
        assert!(t.known_bad.contains("pastebin.com"));
        assert!(!t.known_bad.contains("github.com"));
        assert!(t.secret_env("OPENAI_API_KEY"));
        assert!(t.secret_env("aws_secret_access_key"));
        assert!(!t.secret_env("HOME"));
        assert!(!t.secret_env("SSH_AUTH_SOCK"));
        assert!(t.persistence.matches("~/.bashrc").is_some());
        assert!(t
            .persistence
            .matches("/home/u/.ssh/authorized_keys")
            .is_some());
        assert!(t.persistence.matches("src/main.rs").is_none());
    }

    #[test]
    fn config_extends_data() {
        let cfg = DetectionConfig {
            allow_domains: vec!["internal.example".into()],
            credential_paths: vec!["~/secrets/*".into()],
            ..Default::default()
        };
        let t = Taxonomy::load(&cfg).expect("load");
        assert!(t.allow.contains("api.internal.example"));
        assert!(t.credential("~/secrets/db.txt").is_some());
    }
}
