//! A synchronous driver for the app: keys in, queries answered at once from a
//! store, frames drawn on a ratatui `TestBackend`. Snapshot tests, the
//! hostile-text test and the benchmark use it; the real UI uses the same
//! `App`, `Source` and `draw` with a worker thread in between.

use super::action::{Action, Keymap};
use super::app::{App, Command};
use super::data::Source;
use super::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::path::Path;

/// App + store + test terminal, stepped by hand.
pub struct Harness {
    pub app: App,
    pub source: Source,
    pub terminal: Terminal<TestBackend>,
    /// Queries answered so far.
    pub queries: u64,
}

impl Harness {
    /// Opens `db` at `width`x`height` with the built-in keymap and `theme`, the
    /// clock fixed at `now_ms`; the first page is loaded before returning.
    pub fn new(
        db: &Path,
        width: u16,
        height: u16,
        now_ms: i64,
        theme: Theme,
    ) -> anyhow::Result<Harness> {
        let source = Source::open(db)?;
        let mut app = App::new(
            Keymap::builtin(),
            theme,
            Rect::new(0, 0, width, height),
            now_ms,
        );
        app.author = "tester".into();
        let terminal = Terminal::new(TestBackend::new(width, height))?;
        let mut h = Harness {
            app,
            source,
            terminal,
            queries: 0,
        };
        let start = h.app.start();
        h.settle(start);
        Ok(h)
    }

    /// Runs `cmd`'s queries and every follow-up until nothing is left to ask.
    pub fn settle(&mut self, mut cmd: Option<Command>) {
        let mut rounds = 0;
        while let Some(Command::Fetch(reqs)) = cmd.take() {
            rounds += 1;
            if rounds > 64 {
                break;
            }
            let mut next = Vec::new();
            for r in super::data::coalesce(reqs) {
                self.queries += 1;
                let reply = self.source.execute(r);
                if let Some(Command::Fetch(more)) = self.app.on_reply(reply) {
                    next.extend(more);
                }
            }
            if !next.is_empty() {
                cmd = Some(Command::Fetch(next));
            }
        }
    }

    /// Applies an action and answers its queries.
    pub fn act(&mut self, a: Action) {
        let cmd = self.app.update(a);
        self.settle(cmd);
    }

    /// Presses a key (through the keymap or the open overlay).
    pub fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        if let Some(a) = self.app.key_action(KeyEvent::new(code, modifiers)) {
            self.act(a);
        }
    }

    /// Presses a plain character key.
    pub fn press(&mut self, c: char) {
        self.key(KeyCode::Char(c), KeyModifiers::NONE);
    }

    /// Types text into an open prompt.
    pub fn type_text(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '\n' => self.key(KeyCode::Enter, KeyModifiers::NONE),
                c => self.press(c),
            }
        }
    }

    /// Tells the app the store changed (as the worker's poll would) and refreshes.
    pub fn changed(&mut self) {
        let _ = self.source.data_version();
        let cmd = self.app.on_reply(super::data::Reply::Changed);
        self.settle(cmd);
    }

    /// Resizes the test terminal and the app.
    pub fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        self.act(Action::Resize { width, height });
    }

    /// Draws a frame and returns the screen as text, one line per row (trailing spaces trimmed).
    pub fn draw(&mut self) -> String {
        let app = &self.app;
        let _ = self.terminal.draw(|f| super::views::draw(f, app));
        screen_text(self.terminal.backend().buffer())
    }
}

/// A buffer as text, one line per row, trailing spaces trimmed.
pub fn screen_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(area.x + x, area.y + y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
