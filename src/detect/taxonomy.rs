//! Rule data: the canary taxonomy, domain lists, injection phrases and secret classes.
//!
//! Everything here is data from `assets/detect/*.toml` (embedded), extended by the
//! user's `[detection]` config section, compiled once into matchers: path globs
//! into one `RegexSet` per category, name lists into hash sets.

use super::DetectError;
use std::borrow::Cow;
use std::collections::HashSet;

mod files;
use files::{CanaryFile, NetworkFile, SecretsFile};
pub use files::{DetectionConfig, FileServer, ImpliedHost, Installer};

mod sets;
use sets::glob_examples;
pub use sets::{normalise_path, DomainList, NameSet, PathSet};

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
    /// Commands that read a whole folder given as an operand (credential folders).
    pub folder_readers: HashSet<String>,
    /// Text that only secret material holds (`PRIVATE KEY`, `AKIA`), upper-cased:
    /// a search of a whole home or root folder for one hunts for secrets.
    pub secret_markers: Vec<String>,
    pub probe_binaries: HashSet<String>,
    /// Recon commands as word lists (`["uname", "-a"]`).
    pub recon_commands: Vec<Vec<String>>,
    /// Commands that print a stored credential, as words (see `access::credential_command`).
    pub credential_commands: Vec<Vec<String>>,
    /// Commands that upload or mail their operands, as words.
    pub uploaders: Vec<Vec<String>>,
    /// Commands that send the project itself (a push, a publish), as words.
    pub project_senders: Vec<Vec<String>>,
    /// Commands whose last operand is where their other operands are copied.
    pub project_copiers: HashSet<String>,
    /// Commands that print the files they name (into a redirect or, for `tee`, a file).
    pub project_printers: HashSet<String>,
    pub secret_env: NameSet,
    pub env_exceptions: NameSet,
    pub env_dump_commands: Vec<Vec<String>>,
    /// Commands that print an environment through a format string, as words.
    pub env_format_commands: Vec<Vec<String>>,
    /// What such a format holds when it asks for the environment.
    pub env_format_fields: Vec<String>,
    /// Built-in only, compiled on first use (most spans run no code).
    pub env_code: crate::lazyre::LazyRegexSet,
    pub persistence_commands: Vec<Vec<String>>,
    /// Windows registry keys whose values run at logon, folded (lowercase, no separators).
    pub registry_autoruns: Vec<String>,
    pub shells: HashSet<String>,
    pub interpreters: HashSet<String>,
    pub wrappers: HashSet<String>,
    pub privilege_commands: HashSet<String>,
    /// Container runs that hand the host to the container, as words (CMD-TRACE-005).
    pub container_escapes: Vec<Vec<String>>,
    pub decoders: HashSet<String>,
    pub fetchers: HashSet<String>,
    /// Programs that run the file a word names (`start`, `Start-Process`, `msiexec`).
    pub launchers: HashSet<String>,
    /// Commands only cmd.exe has: a line of one with backslashes is a cmd.exe line.
    pub cmd_exe_commands: HashSet<String>,
    /// Variables that make a program load a file (name, how it is read).
    pub loader_vars: Vec<Vec<String>>,
    pub destructive_targets: HashSet<String>,
    pub allow: DomainList,
    pub known_bad: DomainList,
    pub network_commands: HashSet<String>,
    pub fetch_tools: HashSet<String>,
    /// Tool names (lowercase) whose query goes to a search engine.
    pub search_tools: HashSet<String>,
    /// Tool argument names that say where a call sends (`remote`, `to`, `bucket`).
    pub destination_keys: HashSet<String>,
    /// Commands that copy to or mount a path that may be a share (`copy`, `net`).
    pub share_commands: HashSet<String>,
    /// Tool names (lowercase) that hand a prompt to a subagent.
    pub subagent_tools: HashSet<String>,
    /// Prompt-injection signals, carriers and image beacons (PINJ-TRACE-001).
    pub injection: super::injection::Rules,
    pub pii_rules: Vec<String>,
    pub high_rules: Vec<String>,
    pub disabled: HashSet<String>,
    /// Detection on (the default) or off.
    pub enabled: bool,
    /// Secret variable names as spelt in practice (for `env | grep PATTERN`).
    pub secret_env_examples: Vec<String>,
    /// Shell start-up files (persistence graded by content).
    pub rc_files: PathSet,
    /// Commands an rc file may hold without running anything.
    pub rc_config_commands: HashSet<String>,
    /// Scripts a tool runs for the project (git hooks, husky).
    pub script_hooks: PathSet,
    /// package.json scripts run on install or publish.
    pub lifecycle_scripts: Vec<String>,
    /// git config keys whose value git runs.
    pub git_exec_keys: Vec<String>,
    /// Network clients that make a reverse shell when wired to a shell.
    pub shell_clients: HashSet<String>,
    /// Commands that transform data on its way out.
    pub transforms: HashSet<String>,
    /// Settings files that can hold commands run later (agent hooks, editor tasks).
    pub settings_files: PathSet,
    /// Keys that make such a settings file run commands.
    pub settings_exec_keys: Vec<String>,
    /// Package managers' settings files (`~/.npmrc`, `pip.conf`, `.cargo/config.toml`).
    pub pkg_config_files: PathSet,
    /// Their keys that name where packages come from (lower case, matched as a suffix).
    pub pkg_config_index_keys: Vec<String>,
    /// Their keys whose value runs as code on every run (lower case).
    pub pkg_config_exec_keys: Vec<String>,
    /// Their keys that load code whatever the value (lower case).
    pub pkg_config_load_keys: Vec<String>,
    /// Vendor installer URL prefixes (`curl … | sh` from them is low).
    trusted_installers: Vec<String>,
    /// Package install commands (installs from non-allowlisted hosts run foreign code).
    pub installers: Vec<Installer>,
    /// Variables that name where packages come from (`GOPROXY`, `PIP_INDEX_URL`).
    pub index_vars: Vec<String>,
    /// Commands that connect to a host they do not name, as words, with that host.
    pub implied_hosts: Vec<(Vec<String>, ImpliedHost)>,
    /// Static file servers, as words, with where they take their folder.
    pub file_servers: Vec<(Vec<String>, FileServer)>,
    /// Which commands run which interpreter language.
    pub languages: super::interp::data::Languages,
    /// Interpreter folding and call patterns, compiled on first use.
    interp_data: std::sync::OnceLock<Option<super::interp::InterpData>>,
    /// Every command name the lists know (a glob in a command name is matched against them).
    pub known_commands: Vec<String>,
    /// One concrete path per credential glob (`~/.ssh/id_*` → `~/.ssh/id_x`): a
    /// glob the agent writes reads a credential when it matches one of these.
    credential_examples: Vec<String>,
    /// The part after `**/` of each credential glob that holds in any folder
    /// (`**/.netrc` → `.netrc`): a glob reads one when the glob's own folder
    /// followed by this part matches it.
    credential_anywhere: Vec<(String, String)>,
}

fn parse<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, DetectError> {
    crate::assets::parse(&format!("detect/{name}")).map_err(DetectError::Data)
}

fn set(v: &[String]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn word_lists(v: &[String]) -> Vec<Vec<String>> {
    v.iter()
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}

/// `\b` as an ASCII word boundary: the Unicode one makes the regex engines fall back
/// to their slowest path on non-ASCII text (tool outputs often have some).
fn ascii_boundaries(p: &str) -> String {
    p.replace("\\b", "(?-u:\\b)")
}

impl Taxonomy {
    /// True for a tool that sends its query to a search engine, by its name
    /// or an MCP tool's own (`mcp__brave__brave_web_search`).
    pub fn is_search_tool(&self, tool: &str) -> bool {
        // (lower-cased into a copy only when it has upper case)
        let t = if tool.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(tool.to_ascii_lowercase())
        } else {
            Cow::Borrowed(tool)
        };
        let short = t.rsplit("__").next().unwrap_or(&t);
        self.search_tools.contains(&*t) || self.search_tools.contains(short)
    }

    /// Compiles now every path set and regex compiled on first use.
    pub fn warm(&self) {
        for p in [
            &self.credentials,
            &self.wallets,
            &self.credential_exceptions,
            &self.persistence,
            &self.sensitive_dirs,
            &self.rc_files,
            &self.script_hooks,
            &self.settings_files,
            &self.pkg_config_files,
        ] {
            p.warm();
        }
        self.secret_env.warm();
        self.env_exceptions.warm();
        self.env_code.get();
        self.injection.warm();
    }

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
        let c: CanaryFile = parse("canary.toml")?;
        let n: NetworkFile = parse("network.toml")?;
        let i = super::injection::Rules::load(&cfg.injection_phrases, &cfg.injection_patterns)?;
        let s: SecretsFile = parse("secrets.toml")?;
        Taxonomy::build(c, n, i, s, cfg)
    }

    /// What the shell parser ([`super::shell`]) reads and nothing more: the
    /// built-in shells, wrappers, interpreters, languages and git keys, with
    /// no network lists, injection rules or user additions. For the
    /// redactor's shell joins (`redact::shell_join`), which must read a line
    /// the same whatever the user's `[detection]` section says: no key of it
    /// changes how a line parses, and `enabled = false` would leave the full
    /// taxonomy without shells at all.
    pub fn shell_grammar() -> Result<Taxonomy, DetectError> {
        let c: CanaryFile = parse("canary.toml")?;
        Taxonomy::build(
            c,
            NetworkFile::default(),
            super::injection::Rules::off(),
            SecretsFile::default(),
            &DetectionConfig::default(),
        )
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
        let mut known_commands: Vec<String> = [
            &c.read_commands,
            &c.list_commands,
            &c.shells,
            &c.interpreters,
            &c.wrappers,
            &c.privilege_commands,
            &c.decoders,
            &c.fetchers,
            &c.probe_binaries,
            &n.network_commands,
        ]
        .iter()
        .flat_map(|l| l.iter().cloned())
        .collect();
        known_commands.sort();
        known_commands.dedup();
        let credential_examples: Vec<String> = c
            .credential_paths
            .iter()
            .chain(cfg.credential_paths.iter())
            .chain(c.wallet_paths.iter())
            .filter(|g| !g.trim().starts_with("**/"))
            .flat_map(|g| glob_examples(g))
            .collect();
        let credential_anywhere: Vec<(String, String)> = c
            .credential_paths
            .iter()
            .chain(cfg.credential_paths.iter())
            .chain(c.wallet_paths.iter())
            .filter_map(|g| {
                let rest = g.trim().strip_prefix("**/")?;
                let last = rest.trim_end_matches('/').rsplit('/').next()?.to_string();
                Some((glob_examples(g).into_iter().next()?, last))
            })
            .collect();
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
            folder_readers: set(&c.folder_readers),
            secret_markers: c
                .secret_markers
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect(),
            probe_binaries: set(&cat(&c.probe_binaries, &cfg.probe_binaries)),
            recon_commands: word_lists(&c.recon_commands),
            credential_commands: word_lists(&cat(&c.credential_commands, &cfg.credential_commands)),
            uploaders: word_lists(&cat(&c.uploaders, &cfg.uploaders)),
            project_senders: word_lists(&c.project_senders),
            project_copiers: set(&c.project_copiers),
            project_printers: set(&c.project_printers),
            secret_env: NameSet::new(&cat(&c.secret_env_names, &cfg.secret_env_names))?,
            env_exceptions: NameSet::new(&c.env_exceptions)?,
            env_dump_commands: word_lists(&c.env_dump_commands),
            env_format_commands: word_lists(&c.env_format_commands),
            env_format_fields: c.env_format_fields,
            env_code: crate::lazyre::LazyRegexSet::new(
                c.env_code_patterns
                    .iter()
                    .map(|p| ascii_boundaries(p))
                    .collect(),
                crate::lazyre::Flags {
                    case_insensitive: true,
                },
            ),
            persistence_commands: word_lists(&c.persistence_commands),
            registry_autoruns: c
                .registry_autoruns
                .iter()
                .map(|k| super::persist::registry::fold_key(k))
                .collect(),
            shells: set(&c.shells),
            interpreters: set(&c.interpreters),
            wrappers: set(&c.wrappers),
            privilege_commands: set(&c.privilege_commands),
            container_escapes: word_lists(&c.container_escapes),
            decoders: set(&c.decoders),
            fetchers: set(&c.fetchers),
            launchers: set(&c.launchers),
            cmd_exe_commands: set(&c.cmd_exe_commands),
            loader_vars: word_lists(&c.loader_vars),
            destructive_targets: set(&c.destructive_targets),
            allow: DomainList::new(n.allow_domains.iter().chain(cfg.allow_domains.iter())),
            known_bad: DomainList::new(n.known_bad.iter().chain(cfg.block_domains.iter())),
            network_commands: set(&n.network_commands),
            fetch_tools: set(&n.fetch_tools),
            search_tools: set(&n.search_tools),
            destination_keys: set(&n.destination_keys),
            share_commands: set(&n.share_commands),
            subagent_tools: set(&n.subagent_tools),
            injection: i,
            pii_rules: s.pii,
            high_rules: s.high,
            disabled: set(&cfg.disable_rules),
            enabled: cfg.enabled.unwrap_or(true),
            languages: if cfg.enabled == Some(false) {
                super::interp::data::Languages::default()
            } else {
                super::interp::data::Languages::load()?
            },
            interp_data: std::sync::OnceLock::new(),
            known_commands,
            credential_examples,
            credential_anywhere,
            secret_env_examples: c.secret_env_examples,
            rc_files: PathSet::new(&c.rc_files)?,
            rc_config_commands: set(&c.rc_config_commands),
            script_hooks: PathSet::new(&c.script_hooks)?,
            lifecycle_scripts: c.lifecycle_scripts,
            git_exec_keys: c.git_exec_keys,
            shell_clients: set(&c.shell_clients),
            transforms: set(&c.transforms),
            settings_files: PathSet::new(&c.settings_files)?,
            settings_exec_keys: c.settings_exec_keys,
            pkg_config_files: PathSet::new(&c.pkg_config_files)?,
            pkg_config_index_keys: lower(c.pkg_config_index_keys),
            pkg_config_exec_keys: lower(c.pkg_config_exec_keys),
            pkg_config_load_keys: lower(c.pkg_config_load_keys),
            trusted_installers: n.trusted_installers,
            installers: n.installers,
            index_vars: n.index_vars,
            implied_hosts: n
                .implied_hosts
                .into_iter()
                .map(|h| (h.cmd.split_whitespace().map(str::to_string).collect(), h))
                .collect(),
            file_servers: n
                .file_servers
                .into_iter()
                .map(|f| (f.cmd.split_whitespace().map(str::to_string).collect(), f))
                .collect(),
        })
    }

    /// True when `path` is a credential folder itself (`~/.aws`, `~/.ssh/`,
    /// `~/.ssh/*`), not a file inside one (`~/.aws/config` is not).
    pub fn sensitive_dir(&self, path: &str) -> bool {
        let n = normalise_path(path);
        let mut p = n.as_str();
        for suffix in ["/**", "/*", "/.", "/"] {
            p = p.strip_suffix(suffix).unwrap_or(p);
        }
        let parent = p.rsplit_once('/').map(|x| x.0).unwrap_or("");
        self.sensitive_dirs.matches(p).is_some()
            && (parent.is_empty() || self.sensitive_dirs.matches(parent).is_none())
    }

    /// True when `url` is under one of the vendor installer prefixes (same
    /// host, same path prefix): piping it into a shell is the documented install.
    pub fn trusted_installer(&self, url: &str) -> bool {
        let Some(host) = super::network::host_of(url) else {
            return false;
        };
        let path = |u: &str| -> String {
            let rest = u.split_once("://").map(|x| x.1).unwrap_or(u);
            rest.find('/')
                .map(|i| rest[i..].to_string())
                .unwrap_or_default()
        };
        let scheme_ok = url.to_ascii_lowercase().starts_with("https://");
        scheme_ok
            && self.trusted_installers.iter().any(|p| {
                super::network::host_of(p).as_deref() == Some(host.as_str())
                    && path(url).starts_with(&path(p))
            })
    }

    /// Interpreter patterns (`None` only if the built-in data were broken,
    /// which a unit test rules out).
    pub fn interp(&self) -> Option<&super::interp::InterpData> {
        self.interp_data
            .get_or_init(|| super::interp::InterpData::load().ok())
            .as_ref()
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

    /// [`Taxonomy::credential`] for a path as the OS would open it: relative
    /// to `cwd` when it is relative, as a glob when it holds `*`, `?` or `[…]`
    /// (the glob reads a credential when it can match one), and, without a
    /// known `cwd`, climbing out with `../` as far as the home folder.
    /// True when git runs the value of config key `k` (lowercase) as a command
    /// (`git_exec_keys`: exact, or a glob with one `*`: `alias.*`, `diff.*.textconv`).
    pub fn git_exec_key(&self, k: &str) -> bool {
        self.git_exec_keys.iter().any(|g| match g.split_once('*') {
            Some((pre, suf)) => {
                k.len() > pre.len() + suf.len() && k.starts_with(pre) && k.ends_with(suf)
            }
            None => k == g,
        })
    }

    pub fn credential_at(&self, path: &str, cwd: Option<&str>) -> Option<String> {
        let p = super::path::resolve(&super::path::literal_classes(path), cwd);
        if let Some(g) = self.credential(&p) {
            return Some(g.to_string());
        }
        if cwd.is_none() {
            if let Some(guess) = super::path::climb_guess(&p) {
                if let Some(g) = self.credential(&guess) {
                    return Some(g.to_string());
                }
            }
        }
        if super::path::has_glob(&p) {
            let re = regex::RegexBuilder::new(&super::path::glob_regex(&p)?)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .ok()?;
            let can = |e: &str| re.is_match(e) && self.credential_exceptions.matches(e).is_none();
            if let Some(hit) = self.credential_examples.iter().find(|e| can(e)) {
                return Some(format!("{p} can match {hit}"));
            }
            // a glob whose last name is specific and matches a folder that holds
            // credentials (`grep -r . ~/.aw*`, `tar cz ~/.ss*`)
            let last = p.rsplit('/').next().unwrap_or_default();
            if names_what_it_matches(last, "") {
                let re = regex::RegexBuilder::new(&format!(
                    "{}(?:/.*)$",
                    super::path::glob_regex(&p)?.trim_end_matches('$')
                ))
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .ok()?;
                let inside =
                    |e: &&String| re.is_match(e) && self.credential_exceptions.matches(e).is_none();
                if let Some(hit) = self.credential_examples.iter().find(inside) {
                    return Some(format!("{p} can match a folder holding {hit}"));
                }
            }
            // `**/.netrc` in the glob's own folder (`~/proj/.netr?` → `~/proj/.netrc`)
            let parts: Vec<&str> = p.split('/').collect();
            let last = parts.last().copied().unwrap_or_default();
            let hit = self.credential_anywhere.iter().find_map(|(rest, name)| {
                if !names_what_it_matches(last, name) {
                    return None;
                }
                let k = rest.split('/').count();
                let parent = parts.get(..parts.len().checked_sub(k)?)?.join("/");
                let e = if parent.is_empty() {
                    rest.clone()
                } else {
                    format!("{parent}/{rest}")
                };
                can(&e).then_some(e)
            })?;
            return Some(format!("{p} can match {hit}"));
        }
        None
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

/// True when a glob's last name is specific enough to be reading the files a
/// credential pattern's last name stands for: it starts with two literal
/// characters (`.net*`, `id_*`), or says exactly what the pattern says (`*.pem`
/// for `*.pem`). `*`, `*.txt` or `src/*` can match some key file in any folder,
/// and that alone is not reading credentials.
/// A name with no `*` is as specific when at least three of its characters
/// (and most of them) are literal (`.?etrc`, `.n??rc`): it matches names of its
/// own length only.
fn names_what_it_matches(glob_name: &str, pattern_name: &str) -> bool {
    let wild = |c: char| "*?[".contains(c);
    if glob_name.chars().take_while(|c| !wild(*c)).count() >= 2 || glob_name == pattern_name {
        return true;
    }
    if glob_name.contains('*') {
        return false;
    }
    let (mut literal, mut wildcards, mut in_class) = (0, 0, false);
    for c in glob_name.chars() {
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class => {
                in_class = false;
                wildcards += 1;
            }
            _ if in_class => {}
            '?' => wildcards += 1,
            _ => literal += 1,
        }
    }
    literal >= 3 && literal > wildcards
}

#[cfg(test)]
mod tests;
