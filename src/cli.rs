//! The command-line contract (DESIGN section 2): every subcommand, flag and help text.
//!
//! Kept in the library so tests and `completions` see the same definition the binary parses.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Shows what AI agents really do on this machine, and flags what is dangerous.
#[derive(Debug, Parser)]
#[command(
    name = "skilltrace",
    version,
    about,
    long_about = "skilltrace tails agent trace files (Claude Code, Codex, OpenAI Agents SDK, OpenTelemetry) \
and runs a loopback LLM proxy, redacts secrets before anything touches disk, detects skills and dangerous \
behaviour live, and lets you triage it all in a terminal UI or export SARIF for CI.",
    after_help = "Examples:\n  skilltrace tui samples/                 explore the bundled demo traces\n  skilltrace tail ~/.claude/projects      follow Claude Code sessions into the store\n  skilltrace scan traces/ --fail-on high  CI gate: exit 1 on a high finding"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Store location shared by most commands.
#[derive(Debug, Args, Clone, Default)]
pub struct DbArg {
    /// SQLite store [env: SKILLTRACE_DB; default: <data dir>/skilltrace.db]
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Use a store whose folder others can write, or whose key others can read,
    /// instead of refusing it (each is named in a warning)
    #[arg(long, env = "SKILLTRACE_ALLOW_SHARED_STORE", value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_shared_store: bool,
}

/// Output format of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// SARIF 2.1.0: findings, for code scanning and CI
    Sarif,
    /// Native JSONL: runs, spans, findings and triage, as `import` reads back
    Json,
    /// OTLP/JSON traces, one ExportTraceServiceRequest per line (GenAI semantic conventions)
    Otlp,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the terminal workbench (bare PATHs: demo mode over a temporary store)
    #[command(
        after_help = "Examples:\n  skilltrace tui samples/\n  skilltrace tui --tail ~/.claude/projects --proxy 127.0.0.1:8787"
    )]
    Tui(TuiArgs),
    /// Follow trace files and folders into the store as they are written
    #[command(
        after_help = "Examples:\n  skilltrace tail                         follow every agent folder found on this machine\n  skilltrace tail ~/.claude/projects ~/.codex/sessions"
    )]
    Tail(TailArgs),
    /// Import trace files or folders once, then exit
    #[command(after_help = "Example:\n  skilltrace import samples/ --db ./demo.db")]
    Import(ImportArgs),
    /// Run the loopback LLM proxy that records every exchange
    #[command(
        after_help = "Example:\n  skilltrace proxy &\n  OPENAI_BASE_URL=http://127.0.0.1:8787/v1 ANTHROPIC_BASE_URL=http://127.0.0.1:8787 my-agent"
    )]
    Proxy(ProxyArgs),
    /// Receive OpenTelemetry traces and logs over OTLP/HTTP on loopback (SDK exporters, Claude Code and Codex telemetry, a Collector)
    #[command(
        after_help = "Example:\n  skilltrace otlp &\n  export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4318/v1/traces\n  my-agent   # any OpenTelemetry SDK: protobuf (the default) or JSON\n  CLAUDE_CODE_ENABLE_TELEMETRY=1 OTEL_LOGS_EXPORTER=otlp OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \\\n    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://127.0.0.1:4318/v1/logs claude"
    )]
    Otlp(OtlpArgs),
    /// CI gate: scan trace files without touching your store
    #[command(
        after_help = "Example:\n  skilltrace scan traces/ --sarif results.sarif --fail-on high"
    )]
    Scan(ScanArgs),
    /// List findings
    #[command(
        after_help = "Example:\n  skilltrace findings --severity high --status open --format json"
    )]
    Findings(FindingsArgs),
    /// List runs
    #[command(after_help = "Example:\n  skilltrace runs --format json")]
    Runs(RunsArgs),
    /// What model calls cost, by model, agent, day or run (offline price table)
    #[command(
        after_help = "Examples:\n  skilltrace cost\n  skilltrace cost --by day --since 2026-12-01\n  skilltrace cost --by run --format json"
    )]
    Cost(CostArgs),
    /// Export findings as SARIF, runs and spans as native JSONL or as OpenTelemetry (OTLP/JSON)
    #[command(
        after_help = "Examples:\n  skilltrace export --format sarif -o results.sarif\n  skilltrace export --format json --run RUN_ID -o run.jsonl\n  skilltrace export --format otlp -o traces.jsonl   # for an OpenTelemetry Collector (otlpjsonfile)"
    )]
    Export(ExportArgs),
    /// Print a stored run's spans in their original timing
    #[command(
        after_help = "Examples:\n  skilltrace replay RUN_ID --speed 4\n  skilltrace replay RUN_ID --redetect"
    )]
    Replay(ReplayArgs),
    /// Skill registries: verify, list, build
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Canary tokens: decoy credentials that prove exfiltration
    #[command(subcommand)]
    Canary(CanaryCommand),
    /// Guard your agents: answer their hooks (allow, ask, deny) before a tool runs
    #[command(
        after_help = "Examples:\n  skilltrace guard install --agent claude-code     # hooks into ~/.claude/settings.json\n  skilltrace guard status\n  skilltrace guard serve &                          # one process for HTTP hooks\n  echo '{...}' | skilltrace guard --agent codex     # what an installed hook runs"
    )]
    Guard(GuardArgs),
    /// Check the store, the files beside it, the spool, registries, config, the proxy and OTLP ports and the guard
    #[command(
        after_help = "Checks, each reported ok, info or FIX (exit 1 when something needs fixing):\n  \
store        a regular file you own (not a link), a skilltrace store (not another program's SQLite file), its schema\n  \
folder       the store's folder: not writable by others, yours or root's\n  \
files        the db, -wal, -shm, .key and .canaries: yours, not links, mode 600\n  \
key          <db>.key not readable or writable by others (else it may have been read or planted)\n  \
spool        batches a writer kept in <db>.spool because the store was busy or full, not stored yet\n  \
config       the config file parses\n  \
registries   each registry is pinned in the config or signed by a trusted key\n  \
ports        the proxy and OTLP receiver ports\n  \
guard        which agents the guard answers, and whether their hooks answer"
    )]
    Doctor(DoctorArgs),
    /// Print shell completions
    #[command(
        after_help = "Example:\n  skilltrace completions bash > ~/.local/share/bash-completion/completions/skilltrace"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Trace files or folders to explore in demo mode (imported and followed into a temporary store)
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    /// Also follow these files or folders into the store while the TUI runs
    /// (`auto`: every known agent folder on this machine)
    #[arg(long, value_name = "PATH|auto")]
    pub tail: Vec<PathBuf>,
    /// Also run the proxy on this address while the TUI runs
    #[arg(long, value_name = "ADDR")]
    pub proxy: Option<String>,
    /// Colour theme: dark, light, high-contrast, or a theme file name from the config folder
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// Files or folders to follow (folders recursively: *.jsonl, *.json, *.ndjson);
    /// none: every known agent folder on this machine, and those that appear later
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    /// Input format: auto, claude-code, codex, otlp, openai-agents, skilltrace
    #[arg(long, default_value = "auto", value_name = "auto|NAME")]
    pub format: String,
    /// Read existing files from their start (default: resume from stored offsets, new files from the start)
    #[arg(long)]
    pub from_start: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or folders to import (folders recursively: *.jsonl, *.json, *.ndjson)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    /// Input format: auto, claude-code, codex, otlp, openai-agents, skilltrace
    #[arg(long, default_value = "auto", value_name = "auto|NAME")]
    pub format: String,
    /// Skip building the search index now (tail and the TUI build it in the background)
    #[arg(long)]
    pub no_index: bool,
    /// Workers that parse, redact and scan side by side, each taking whole runs
    /// (default: the machine's cores; 1 = one thread)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct OtlpArgs {
    /// Address to listen on (loopback only)
    #[arg(long, default_value = "127.0.0.1:4318", value_name = "ADDR")]
    pub listen: String,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Address to listen on (loopback only unless --allow-remote)
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR")]
    pub listen: String,
    /// Upstream for OpenAI-style routes
    #[arg(long, default_value = "https://api.openai.com", value_name = "URL")]
    pub openai_upstream: String,
    /// Upstream for /v1/messages (Anthropic)
    #[arg(long, default_value = "https://api.anthropic.com", value_name = "URL")]
    pub anthropic_upstream: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Allow listening on a non-loopback address (then --token is required)
    #[arg(long)]
    pub allow_remote: bool,
    /// Token clients must send as `x-skilltrace-token` when --allow-remote is set
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SKILLTRACE_PROXY_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// PEM file of extra CA certificates to trust for upstream TLS (a company
    /// proxy, a private gateway), added to the built-in web roots
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or folders to scan
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write findings as SARIF 2.1.0 to FILE
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Exit 1 when an open finding is at or above this severity
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub fail_on: Option<crate::model::Severity>,
    /// Input format: auto, claude-code, codex, otlp, openai-agents, skilltrace
    #[arg(long, default_value = "auto", value_name = "auto|NAME")]
    pub format: String,
    /// Output format of the findings summary
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Store whose canary tokens (`skilltrace canary init`) scan also looks for;
    /// only read, never written [env: SKILLTRACE_DB; default: <data dir>/skilltrace.db]
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FindingsArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Only findings at or above this severity
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub severity: Option<crate::model::Severity>,
    /// Only findings with this triage status
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Option<crate::model::TriageStatus>,
    /// Only findings of this run
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub db: DbArg,
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// What `skilltrace cost` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum CostBy {
    #[default]
    Model,
    Agent,
    Day,
    /// Top-level runs, their subagents' calls included
    Run,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Group by
    #[arg(long, value_enum, default_value_t)]
    pub by: CostBy,
    /// Only calls on or after this day (YYYY-MM-DD, local time)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArg,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only this run
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Output file (default: standard output)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --format sarif: mark results new/unchanged/updated/absent against this earlier SARIF file
    #[arg(long, value_name = "OLD.sarif")]
    pub baseline: Option<PathBuf>,
    /// With --format sarif: leave out false positives and suppressed findings
    /// (GitHub code scanning ignores SARIF suppressions and would show them as open)
    #[arg(long)]
    pub omit_suppressed: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Run id (a unique prefix is enough)
    pub run_id: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Playback speed: 2 = twice as fast, 0 = no waiting
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,
    /// Re-run detection with the current registries and rules; report new, gone and unchanged findings
    #[arg(long)]
    pub redetect: bool,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Check a registry file's digest or signature
    #[command(
        after_help = "Example:\n  skilltrace registry verify assets/registry/anthropic-skills.toml"
    )]
    Verify { file: PathBuf },
    /// List the loaded registries and their skills
    List,
    /// Build a registry from a folder of SKILL.md files (printed to stdout or -o FILE)
    #[command(
        after_help = "Example:\n  skilltrace registry build ~/.claude/skills -o my-skills.toml"
    )]
    Build {
        dir: PathBuf,
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Sign with this ed25519 secret key file (hex), adding a signature
        #[arg(long, value_name = "KEYFILE")]
        sign: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CanaryCommand {
    /// Write decoy credential files with unique tokens into DIR
    #[command(
        after_help = "Example:\n  skilltrace canary init /tmp/agent-home\n  HOME=/tmp/agent-home claude"
    )]
    Init {
        dir: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
}

/// `skilltrace guard`: the command hook itself, or one of its subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GuardArgs {
    #[command(subcommand)]
    pub command: Option<GuardCommand>,
    /// The agent whose hook event arrives on stdin (the answer goes to stdout in its format)
    #[arg(long, value_enum, value_name = "AGENT")]
    pub agent: Option<crate::guard::Agent>,
    #[command(flatten)]
    pub db: DbArg,
    /// Deny when the guard itself fails (a malformed event, an internal error, a decision over budget)
    #[arg(long)]
    pub fail_closed: bool,
    /// Forward the event to `guard serve` at URL (e.g. http://127.0.0.1:8788); decide here when it does not answer
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// Check that the guard loads and answers: judge one harmless event, record nothing
    #[arg(long)]
    pub check: bool,
    /// Write the records hooks left in the spool into the store, then exit (hooks start this themselves)
    #[arg(long, hide = true)]
    pub drain: bool,
    /// With --drain: wait a moment for more records before exiting (the drainer a hook starts)
    #[arg(long, hide = true, requires = "drain")]
    pub drain_linger: bool,
    /// Run the warm judge the hooks of this store talk to, until idle (hooks start this themselves)
    #[arg(long, hide = true, conflicts_with_all = ["drain", "agent", "check", "http"])]
    pub warm_judge: bool,
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Answer HTTP hooks on loopback, keeping every session's state in memory
    #[command(
        after_help = "Example:\n  skilltrace guard serve &\n  skilltrace guard install --agent claude-code --http http://127.0.0.1:8788"
    )]
    Serve(GuardServeArgs),
    /// Add the guard's hooks to an agent's settings (keeps your own hooks, backs the file up first)
    #[command(
        after_help = "Examples:\n  skilltrace guard install --agent claude-code\n  skilltrace guard install --agent cursor --scope project\n  skilltrace guard install --agent gemini --http http://127.0.0.1:8788"
    )]
    Install(GuardInstallArgs),
    /// Remove the guard's hooks (and only them) from an agent's settings
    #[command(after_help = "Example:\n  skilltrace guard uninstall --agent claude-code")]
    Uninstall(GuardUninstallArgs),
    /// Show which agents are guarded and whether their hook answers
    Status(GuardStatusArgs),
}

#[derive(Debug, Args)]
pub struct GuardServeArgs {
    /// Address to listen on (loopback only unless --allow-remote)
    #[arg(long, default_value = crate::guard::server::DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Deny when the guard itself fails
    #[arg(long)]
    pub fail_closed: bool,
    /// Allow listening on a non-loopback address (then --token is required)
    #[arg(long)]
    pub allow_remote: bool,
    /// Token clients must send as `x-skilltrace-token` when --allow-remote is set
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SKILLTRACE_GUARD_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct GuardInstallArgs {
    /// The agent to guard
    #[arg(long, value_enum, value_name = "AGENT")]
    pub agent: crate::guard::Agent,
    /// User settings (every project) or this project's settings
    #[arg(long, value_enum, default_value = "user")]
    pub scope: crate::guard::install::Scope,
    /// Answer from `guard serve` at URL (Claude Code: an HTTP hook; others: a command that forwards)
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// Store the installed hooks record into [default: the default store]
    #[arg(long, value_name = "PATH")]
    pub db: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct GuardUninstallArgs {
    /// The agent to stop guarding
    #[arg(long, value_enum, value_name = "AGENT")]
    pub agent: crate::guard::Agent,
    /// User settings or this project's settings
    #[arg(long, value_enum, default_value = "user")]
    pub scope: crate::guard::install::Scope,
}

#[derive(Debug, Args)]
pub struct GuardStatusArgs {
    /// Only list the installed hooks; do not run them to check they answer
    #[arg(long)]
    pub no_check: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Proxy address to check
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR")]
    pub proxy: String,
    /// OTLP receiver address to check
    #[arg(long, default_value = "127.0.0.1:4318", value_name = "ADDR")]
    pub otlp: String,
}

fn parse_severity(s: &str) -> Result<crate::model::Severity, String> {
    s.parse()
}

fn parse_status(s: &str) -> Result<crate::model::TriageStatus, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
