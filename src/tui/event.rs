//! The terminal loop: one channel carries terminal input and worker replies;
//! the loop drains everything pending, updates the app, then draws once.
//!
//! The terminal is restored by a guard on every exit path and by a panic hook,
//! so a crash never leaves the shell in raw mode. Nothing is printed to stdout
//! while the UI runs.

use super::action::Action;
use super::app::{App, Command, SourceStatus};
use super::data::{Reply, Request};
use anyhow::{Context, Result};
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseButton, MouseEventKind,
};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// What the loop waits on.
pub enum Msg {
    Term(Event),
    Reply(Reply),
}

/// Puts the terminal back (raw mode off, main screen, mouse released, cursor shown).
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        DisableMouseCapture,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped (every exit path, errors included).
pub struct TerminalGuard;

impl TerminalGuard {
    /// Raw mode, alternate screen, mouse capture; and a panic hook that restores first.
    pub fn enter() -> Result<TerminalGuard> {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            prev(info);
        }));
        enable_raw_mode().context("tui: cannot switch the terminal to raw mode")?;
        let guard = TerminalGuard;
        crossterm::execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)
            .context("tui: cannot set up the terminal")?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Maps a terminal event to an action for `app`.
pub fn event_action(app: &App, ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => app.key_action(k),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown if app.modal.is_none() => Some(Action::Scroll(3)),
            MouseEventKind::ScrollUp if app.modal.is_none() => Some(Action::Scroll(-3)),
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                column: m.column,
                row: m.row,
            }),
            _ => None,
        },
        _ => None,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Runs the UI until the user quits. `status` is polled each frame for the status line.
pub fn run_loop(
    mut app: App,
    requests: Sender<Request>,
    (msgs_tx, msgs): (Sender<Msg>, Receiver<Msg>),
    mut status: impl FnMut() -> SourceStatus,
) -> Result<()> {
    let _guard = TerminalGuard::enter()?;
    spawn_input(msgs_tx).context("tui: cannot start the input thread")?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .context("tui: cannot open the terminal")?;
    terminal.clear().context("tui: cannot clear the terminal")?;
    let size = terminal
        .size()
        .context("tui: cannot read the terminal size")?;
    app.size = ratatui::layout::Rect::new(0, 0, size.width, size.height);
    let send = |cmd: Option<Command>| -> bool {
        match cmd {
            Some(Command::Fetch(v)) => {
                for r in v {
                    let _ = requests.send(r);
                }
                true
            }
            Some(Command::Quit) => false,
            None => true,
        }
    };
    send(app.start());
    let mut last_tick = Instant::now();
    let mut last_status = SourceStatus::default();
    loop {
        let s = status();
        if s != last_status {
            last_status = s.clone();
            send(app.update(Action::Status(s)));
        }
        let t = Instant::now();
        terminal
            .draw(|f| super::views::draw(f, &app))
            .context("tui: cannot draw")?;
        super::timing::phase("ui draw", t);
        let replaying = app.replay.as_ref().is_some_and(|r| !r.paused);
        let frame = if replaying {
            Duration::from_millis(33)
        } else {
            Duration::from_millis(250)
        };
        let first = match msgs.recv_timeout(frame) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch: Vec<Msg> = first.into_iter().collect();
        while let Ok(m) = msgs.try_recv() {
            batch.push(m);
            if batch.len() > 10_000 {
                break;
            }
        }
        let t = Instant::now();
        for m in batch {
            let cmd = match m {
                Msg::Term(ev) => match event_action(&app, ev) {
                    Some(a) => app.update(a),
                    None => None,
                },
                Msg::Reply(r) => app.on_reply(r),
            };
            if !send(cmd) || app.quit {
                return Ok(());
            }
        }
        super::timing::phase("ui update", t);
        let elapsed = last_tick.elapsed();
        last_tick = Instant::now();
        send(app.update(Action::Tick {
            now_ms: now_ms(),
            elapsed_ms: elapsed.as_millis() as u64,
        }));
    }
    Ok(())
}

/// Reads terminal events on a thread into `tx` (stops when the receiver is gone).
pub fn spawn_input(tx: Sender<Msg>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("skilltrace-tui-input".into())
        .spawn(move || loop {
            match crossterm::event::read() {
                Ok(ev) => {
                    if tx.send(Msg::Term(ev)).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        })?;
    Ok(())
}
