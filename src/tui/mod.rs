//! `skilltrace tui`: the terminal workbench.
//!
//! Elm-style: terminal events and store answers become [`action::Action`]s and
//! [`data::Reply`]s; [`app::App`] folds them into state purely and asks for
//! queries as [`app::Command`]s; [`views::draw`] paints state. The query worker
//! ([`data`]) owns the SQLite connections on its own thread, so input and
//! drawing never wait on I/O. [`harness::Harness`] drives the same app
//! synchronously for snapshot tests and benchmarks.

pub mod action;
pub mod app;
pub mod data;
pub mod event;
pub mod filter;
pub mod flags;
pub mod group;
pub mod harness;
pub mod layout;
mod replies;
pub mod state;
pub mod theme;
pub mod timing;
pub mod views;
pub mod widgets;

use anyhow::{Context, Result};
use std::path::Path;

/// How to open the UI.
pub struct Options<'a> {
    pub db: &'a Path,
    pub theme: theme::Theme,
    pub keymap: action::Keymap,
    /// Open the store lazily (demo mode: it is being created by the import).
    pub lazy: bool,
    /// Who triages, signed on decisions and notes.
    pub author: String,
    /// Which findings about one action are one row.
    pub behaviours: group::Behaviours,
    /// What the rows read from the store are redacted with again (the
    /// config's redactor); the built-in one when `None`.
    pub redactor: Option<crate::redact::Redactor>,
}

/// Who is triaging: `$USER`, else `$LOGNAME`, else `unknown` (one line, sanitised).
pub fn author_from_env() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| crate::sanitize::line(v.trim()).into_owned())
        .find(|v| !v.is_empty())
        .map(|v| widgets::fit(&v, 64))
        .unwrap_or_else(|| "unknown".into())
}

/// Opens the UI on `opts.db` and runs it until the user quits.
/// `status` is polled every frame for the status line (sources, import progress, drops).
pub fn run(opts: Options<'_>, status: impl FnMut() -> app::SourceStatus) -> Result<()> {
    let mut source = if opts.lazy {
        data::Source::lazy(opts.db)
    } else {
        data::Source::open(opts.db)?
    }
    .with_behaviours(opts.behaviours.clone());
    if let Some(r) = opts.redactor {
        source = source.with_redactor(r);
    }
    let (msg_tx, msg_rx) = std::sync::mpsc::channel::<event::Msg>();
    let reply_tx = msg_tx.clone();
    let requests = data::spawn(source, move |r| reply_tx.send(event::Msg::Reply(r)).is_ok())
        .context("tui: cannot start the query worker")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let mut app = app::App::new(
        opts.keymap,
        opts.theme,
        ratatui::layout::Rect::new(0, 0, 80, 24),
        now,
    );
    app.utc_offset_s = chrono::Local::now().offset().local_minus_utc();
    app.author = opts.author;
    app.behaviours = opts.behaviours;
    event::run_loop(app, requests, (msg_tx, msg_rx), status)
}
