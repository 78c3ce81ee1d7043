//! The shapes of the rule data files (`assets/detect/*.toml`) and of the
//! user's `[detection]` config section, as read before they are compiled.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub(super) struct CanaryFile {
    pub(super) credential_paths: Vec<String>,
    pub(super) wallet_paths: Vec<String>,
    pub(super) credential_exceptions: Vec<String>,
    pub(super) read_commands: Vec<String>,
    pub(super) list_commands: Vec<String>,
    pub(super) folder_readers: Vec<String>,
    pub(super) sensitive_dirs: Vec<String>,
    pub(super) probe_binaries: Vec<String>,
    pub(super) recon_commands: Vec<String>,
    pub(super) credential_commands: Vec<String>,
    pub(super) uploaders: Vec<String>,
    pub(super) project_senders: Vec<String>,
    pub(super) project_copiers: Vec<String>,
    pub(super) project_printers: Vec<String>,
    pub(super) secret_env_names: Vec<String>,
    pub(super) env_exceptions: Vec<String>,
    pub(super) env_dump_commands: Vec<String>,
    pub(super) env_code_patterns: Vec<String>,
    pub(super) persistence_paths: Vec<String>,
    pub(super) persistence_commands: Vec<String>,
    #[serde(default)]
    pub(super) registry_autoruns: Vec<String>,
    pub(super) shells: Vec<String>,
    pub(super) interpreters: Vec<String>,
    pub(super) wrappers: Vec<String>,
    pub(super) privilege_commands: Vec<String>,
    pub(super) container_escapes: Vec<String>,
    pub(super) decoders: Vec<String>,
    pub(super) fetchers: Vec<String>,
    #[serde(default)]
    pub(super) launchers: Vec<String>,
    pub(super) cmd_exe_commands: Vec<String>,
    pub(super) loader_vars: Vec<String>,
    pub(super) destructive_targets: Vec<String>,
    pub(super) secret_env_examples: Vec<String>,
    pub(super) rc_files: Vec<String>,
    pub(super) rc_config_commands: Vec<String>,
    pub(super) script_hooks: Vec<String>,
    pub(super) lifecycle_scripts: Vec<String>,
    pub(super) git_exec_keys: Vec<String>,
    pub(super) shell_clients: Vec<String>,
    pub(super) transforms: Vec<String>,
    pub(super) settings_files: Vec<String>,
    pub(super) settings_exec_keys: Vec<String>,
    pub(super) secret_markers: Vec<String>,
    #[serde(default)]
    pub(super) pkg_config_files: Vec<String>,
    #[serde(default)]
    pub(super) pkg_config_index_keys: Vec<String>,
    #[serde(default)]
    pub(super) pkg_config_exec_keys: Vec<String>,
    #[serde(default)]
    pub(super) pkg_config_load_keys: Vec<String>,
    #[serde(default)]
    pub(super) env_format_commands: Vec<String>,
    #[serde(default)]
    pub(super) env_format_fields: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NetworkFile {
    pub(super) allow_domains: Vec<String>,
    pub(super) known_bad: Vec<String>,
    pub(super) network_commands: Vec<String>,
    pub(super) fetch_tools: Vec<String>,
    #[serde(default)]
    pub(super) search_tools: Vec<String>,
    #[serde(default)]
    pub(super) destination_keys: Vec<String>,
    #[serde(default)]
    pub(super) share_commands: Vec<String>,
    #[serde(default)]
    pub(super) subagent_tools: Vec<String>,
    pub(super) trusted_installers: Vec<String>,
    pub(super) installers: Vec<Installer>,
    #[serde(default)]
    pub(super) index_vars: Vec<String>,
    pub(super) implied_hosts: Vec<ImpliedHost>,
    pub(super) file_servers: Vec<FileServer>,
}

/// A static file server and where it takes the folder it serves from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FileServer {
    /// Command words (see `access::command_matches`).
    pub cmd: String,
    /// Flags whose value is the folder served (`--directory`).
    #[serde(default)]
    pub root: Vec<String>,
    /// Whether the first operand after the command words is the folder.
    #[serde(default)]
    pub operand: bool,
}

/// A package install command and the flags that name where packages come from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Installer {
    /// Command and subcommand as typed (`pip install`).
    pub cmd: String,
    /// Flags (or config keys) whose value is an index, registry or source URL.
    pub index: Vec<String>,
    /// A publish (`npm publish --registry URL`): the project is sent there.
    #[serde(default)]
    pub sends: bool,
    /// Operands are module paths whose first element is the host (`go install`).
    #[serde(default)]
    pub module: bool,
}

/// A command that connects to a host it does not name (a tunnel, a cloud copy).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImpliedHost {
    /// Command words (see `access::command_matches`).
    pub cmd: String,
    /// The service's host.
    pub host: String,
    /// Whether the command uploads its operands.
    #[serde(default)]
    pub sends: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SecretsFile {
    pub(super) pii: Vec<String>,
    pub(super) high: Vec<String>,
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
    /// More commands that print a stored credential (EXF-TRACE-003), as words
    /// (`"mytool secret get"`; see `assets/detect/canary.toml`).
    pub credential_commands: Vec<String>,
    /// More commands that upload or mail their operands (a credential read by one is
    /// sent, EXF-TRACE-003 at high), as words (`"mytool push"`).
    pub uploaders: Vec<String>,
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
