//! One function per subcommand: the thin shells that wire arguments to the library.
//!
//! Each returns the process exit code (0 ok, 1 findings at or above `--fail-on`);
//! errors bubble up as `anyhow` and `main` prints them as one line with exit 2.

mod canary;
mod cost;
mod doctor;
mod export;
mod guard;
mod import;
mod listing;
mod otlp;
mod proxy;
mod registry;
mod replay;
mod scan;
mod tui;

use crate::cli::{Cli, Command, DbArg};
use anyhow::Result;
use std::path::PathBuf;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Tui(a) => tui::run(a),
        Command::Tail(a) => import::tail(a),
        Command::Import(a) => import::import(a),
        Command::Proxy(a) => proxy::run(a),
        Command::Otlp(a) => otlp::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Findings(a) => listing::findings(a),
        Command::Runs(a) => listing::runs(a),
        Command::Cost(a) => cost::run(a),
        Command::Export(a) => export::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Registry(c) => registry::run(c),
        Command::Canary(c) => canary::run(c),
        Command::Guard(a) => guard::run(a),
        Command::Doctor(a) => doctor::run(a),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "skilltrace", &mut std::io::stdout());
            Ok(0)
        }
    }
}

/// Opens the store at `db` for reading, every row it hands out redacted again
/// on the way out with the redactor the user's config asks for
/// ([`read_redactor`]; see `store::reread`).
pub fn open_read_store(db: &std::path::Path) -> Result<crate::store::Store> {
    let store = crate::store::Store::open_read(db)?;
    store.redact_reads_with(read_redactor(db)?);
    Ok(store)
}

/// The redactor the user's config asks for, keyed with the store's key when
/// it has one (`<db>.key`; never created here), for text read out of the store.
pub fn read_redactor(db: &std::path::Path) -> Result<crate::redact::Redactor> {
    let config = crate::config::Config::load_default()?;
    let key = crate::redact::HashKey::read(&crate::detect::tokens::beside(db, "key"))?
        .unwrap_or_else(crate::redact::HashKey::random);
    Ok(crate::redact::Redactor::from_config(&config, key)?)
}

/// The store path from `--db`, `$SKILLTRACE_DB` or the data folder (and
/// `--allow-shared-store`, which the store's checks read).
pub fn db_path(arg: &DbArg) -> Result<PathBuf> {
    if arg.allow_shared_store {
        crate::store::trust::allow_shared(true);
    }
    match &arg.db {
        Some(p) => Ok(p.clone()),
        None => crate::paths::default_db(),
    }
}

/// `--format auto|NAME` to an optional forced format; unknown names are a usage error.
pub fn parse_format(name: &str) -> Result<Option<crate::ingest::formats::Format>> {
    use crate::ingest::formats::Format;
    if name == "auto" {
        return Ok(None);
    }
    match Format::from_name(name) {
        Some(f) => Ok(Some(f)),
        None => {
            let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
            anyhow::bail!(
                "--format {name}: unknown format (expected auto, {})",
                names.join(", ")
            )
        }
    }
}

/// The `[ingest]` config section.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestConfig {
    /// Longest line accepted (bytes); longer lines are skipped with a parse error. Default 16 MiB.
    max_line_bytes: Option<usize>,
    /// More files agents keep beside their traces, skipped when a folder is
    /// walked (added to `assets/ingest/companions.toml`).
    #[serde(default)]
    companions: Vec<crate::ingest::formats::companions::Companion>,
}

/// Reads `[ingest]` and adds its companion files to the built-in ones; run
/// before any folder is walked.
fn ingest_config(config: &crate::config::Config) -> Result<IngestConfig> {
    let ingest: IngestConfig = config.section("ingest")?;
    crate::ingest::formats::companions::install(&ingest.companions).map_err(|why| {
        anyhow::anyhow!(
            "{}:{}: [ingest] companions: {why}",
            config.display_name(),
            config.line_of("companions")
        )
    })?;
    Ok(ingest)
}

/// The config's `[ingest]` lists installed (see [`ingest_config`]), for
/// commands that walk folders before they open the store.
pub fn install_ingest_lists() -> Result<()> {
    ingest_config(&crate::config::Config::load_default()?).map(drop)
}

/// Builds the scan stage from the user's config and opens the store for writing.
pub fn open_pipeline(db: &std::path::Path) -> Result<crate::ingest::pipeline::Pipeline> {
    open_pipeline_with(db, None)
}

/// [`open_pipeline`], with detection's key and canaries taken from `ctx` instead
/// of the store's own (scan checks the user's canaries from a temporary store).
pub fn open_pipeline_with(
    db: &std::path::Path,
    ctx: Option<crate::detect::DetectContext>,
) -> Result<crate::ingest::pipeline::Pipeline> {
    let config = crate::config::Config::load_default()?;
    let ingest = ingest_config(&config)?;
    let store_cfg: crate::store::commit::StoreConfig = config.section("store")?;
    let store = crate::store::Store::open(db)?;
    let (redactor, detector) = crate::ingest::scan::build(&config, db, ctx)?;
    let table = crate::pricing::install(crate::pricing::PriceTable::from_config(&config)?);
    let budgets = crate::pricing::budget::Budgets::from_config(&config)?;
    let mut p = crate::ingest::pipeline::Pipeline::new(redactor, detector, store)
        .with_commit_config(store_cfg.commit())
        .with_budget(crate::ingest::budget::BudgetWatch::new(budgets, table));
    if let Some(cap) = ingest.max_line_bytes {
        p = p.with_line_cap(cap);
    }
    Ok(p)
}

/// Prints a server's banner to stdout for scripts to read; a closed stdout
/// (`| head -1`) must not stop the server, so write errors are ignored.
pub fn print_banner(banner: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
}

/// True when standard error is a terminal (progress bars go there, never to a pipe).
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// True when colour may be used on standard output.
pub fn stdout_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}
