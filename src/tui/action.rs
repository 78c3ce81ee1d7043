//! Keys to actions: the keymap table (embedded TOML, user-overridable) and the
//! [`Action`] enum that [`crate::tui::app::App::update`] consumes.
//!
//! The help overlay, the footer and `docs/keys.md` are generated from the same
//! table ([`Keymap::help`], [`Keymap::footer`], [`Keymap::markdown`]), so help
//! never disagrees with what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// The default bindings, embedded.
const DEFAULT_KEYMAP: &str = include_str!("keymap.toml");

/// The screens of the workbench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewId {
    Runs,
    Run,
    Span,
    Findings,
    Skills,
    Sources,
    Search,
    Replay,
}

impl ViewId {
    /// The top-level views `Tab` cycles through.
    pub const TABS: [ViewId; 4] = [
        ViewId::Runs,
        ViewId::Findings,
        ViewId::Skills,
        ViewId::Sources,
    ];

    /// The name used in the keymap's `in` lists.
    pub fn name(self) -> &'static str {
        match self {
            ViewId::Runs => "runs",
            ViewId::Run => "run",
            ViewId::Span => "span",
            ViewId::Findings => "findings",
            ViewId::Skills => "skills",
            ViewId::Sources => "sources",
            ViewId::Search => "search",
            ViewId::Replay => "replay",
        }
    }

    /// The title shown in tabs and the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            ViewId::Runs => "Runs",
            ViewId::Run => "Run",
            ViewId::Span => "Span",
            ViewId::Findings => "Findings",
            ViewId::Skills => "Skills",
            ViewId::Sources => "Sources",
            ViewId::Search => "Search",
            ViewId::Replay => "Replay",
        }
    }

    /// Every view, for generating documentation.
    pub const ALL: [ViewId; 8] = [
        ViewId::Runs,
        ViewId::Run,
        ViewId::Span,
        ViewId::Findings,
        ViewId::Skills,
        ViewId::Sources,
        ViewId::Search,
        ViewId::Replay,
    ];
}

/// Everything that can change the app's state. Key-bound actions come from the
/// keymap; the rest come from the terminal loop (time, size, mouse) or modal input.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Enter,
    Back,
    NextView,
    PrevView,
    Search,
    Filter,
    Help,
    Quit,
    Sort,
    Confirm,
    FalsePositive,
    /// Mark a false positive, saying why.
    FalsePositiveWhy,
    Suppress,
    Note,
    Reopen,
    /// Take the last triage decision or note back.
    Undo,
    /// Mark or unmark the selected row for a bulk decision.
    Mark,
    /// Mark (or unmark) every finding of the selected row's rule.
    MarkRule,
    /// Mark (or unmark) every finding of the selected row's run.
    MarkRun,
    /// Show triaged findings too, or hide them again.
    ShowTriaged,
    OpenSpan,
    /// Open step N (1-based) of the selected chain finding.
    OpenStep(u8),
    /// Fold or unfold the selected span's subtree (Run view).
    Fold,
    /// The next / previous flagged span.
    NextFlagged,
    PrevFlagged,
    /// The next / previous finding in the Span view.
    NextFinding,
    PrevFinding,
    /// Scroll the Findings detail pane.
    DetailDown,
    DetailUp,
    Replay,
    Pause,
    Faster,
    Slower,
    Skip,
    /// A key typed into an open prompt, confirmation or overlay.
    Input(KeyEvent),
    /// Time passed: wall clock now and milliseconds since the last tick.
    Tick {
        now_ms: i64,
        elapsed_ms: u64,
    },
    /// The terminal changed size.
    Resize {
        width: u16,
        height: u16,
    },
    /// Mouse wheel: rows to move (negative = up).
    Scroll(i32),
    /// Mouse click at a cell.
    Click {
        column: u16,
        row: u16,
    },
    /// Background sources report (import progress, dropped batches, errors).
    Status(crate::tui::app::SourceStatus),
}

impl Action {
    /// The action a keymap name stands for.
    pub fn from_name(name: &str) -> Option<Action> {
        Some(match name {
            "up" => Action::Up,
            "down" => Action::Down,
            "top" => Action::Top,
            "bottom" => Action::Bottom,
            "page-up" => Action::PageUp,
            "page-down" => Action::PageDown,
            "enter" => Action::Enter,
            "back" => Action::Back,
            "next-view" => Action::NextView,
            "prev-view" => Action::PrevView,
            "search" => Action::Search,
            "filter" => Action::Filter,
            "help" => Action::Help,
            "quit" => Action::Quit,
            "sort" => Action::Sort,
            "confirm" => Action::Confirm,
            "false-positive" => Action::FalsePositive,
            "false-positive-why" => Action::FalsePositiveWhy,
            "suppress" => Action::Suppress,
            "note" => Action::Note,
            "reopen" => Action::Reopen,
            "undo" => Action::Undo,
            "mark" => Action::Mark,
            "mark-rule" => Action::MarkRule,
            "mark-run" => Action::MarkRun,
            "show-triaged" => Action::ShowTriaged,
            "open-span" => Action::OpenSpan,
            "open-step" => Action::OpenStep(0),
            "fold" => Action::Fold,
            "next-flagged" => Action::NextFlagged,
            "prev-flagged" => Action::PrevFlagged,
            "next-finding" => Action::NextFinding,
            "prev-finding" => Action::PrevFinding,
            "detail-down" => Action::DetailDown,
            "detail-up" => Action::DetailUp,
            "replay" => Action::Replay,
            "pause" => Action::Pause,
            "faster" => Action::Faster,
            "slower" => Action::Slower,
            "skip" => Action::Skip,
            _ => return None,
        })
    }
}

/// One key, as written in the keymap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub code: KeyCode,
    pub ctrl: bool,
    /// As written, for help and docs.
    pub label: String,
}

impl KeySpec {
    /// Parses `j`, `G`, `?`, `Enter`, `PageDown`, `C-c` ...
    pub fn parse(s: &str) -> Option<KeySpec> {
        let (ctrl, rest) = match s.strip_prefix("C-") {
            Some(r) if !r.is_empty() => (true, r),
            _ => (false, s),
        };
        let code = match rest {
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Tab" => KeyCode::Tab,
            "BackTab" => KeyCode::BackTab,
            "Space" => KeyCode::Char(' '),
            _ => {
                let mut it = rest.chars();
                match (it.next(), it.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return None,
                }
            }
        };
        Some(KeySpec {
            code,
            ctrl,
            label: s.to_string(),
        })
    }

    /// True when `key` is this key (Shift is part of the character, so it is ignored).
    pub fn matches(&self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let code = match key.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            c => c,
        };
        code == self.code && ctrl == self.ctrl
    }
}

/// One row of the keymap.
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: Vec<KeySpec>,
    pub action: Action,
    /// The action's keymap name.
    pub run: String,
    pub desc: String,
    /// View names, or `*`.
    pub views: Vec<String>,
    pub footer: Option<String>,
}

impl Binding {
    fn applies_to(&self, view: ViewId) -> bool {
        self.views.iter().any(|v| v == view.name())
    }
    fn is_global(&self) -> bool {
        self.views.iter().any(|v| v == "*")
    }
    /// The keys as shown to people: `j/Down` (`1-9` for the step digits).
    pub fn keys_label(&self) -> String {
        if self.run == "open-step" && self.keys.len() == 9 {
            return "1-9".into();
        }
        self.keys
            .iter()
            .map(|k| k.label.as_str())
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Deserialize)]
struct KeymapFile {
    #[serde(default)]
    bind: Vec<RawBinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    on: Vec<String>,
    run: String,
    #[serde(default)]
    desc: String,
    #[serde(rename = "in", default = "everywhere")]
    views: Vec<String>,
    footer: Option<String>,
}

fn everywhere() -> Vec<String> {
    vec!["*".into()]
}

/// Why a keymap file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("{file}: invalid keymap: {why}")]
    Invalid { file: String, why: String },
}

/// The key table: bindings in priority order.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Keymap {
    /// The built-in bindings.
    pub fn builtin() -> Keymap {
        // The embedded table is tested; an error here is a build defect, so fall back to empty.
        Keymap::parse("keymap.toml", DEFAULT_KEYMAP).unwrap_or(Keymap {
            bindings: Vec::new(),
        })
    }

    /// The built-in bindings with the user's `<config dir>/keymap.toml` in front (it wins).
    pub fn load_user() -> Result<Keymap, KeymapError> {
        let mut map = Keymap::builtin();
        if let Some(p) = crate::paths::config_dir().map(|d| d.join("keymap.toml")) {
            if let Ok(text) = std::fs::read_to_string(&p) {
                let user = Keymap::parse(&p.display().to_string(), &text)?;
                let mut b = user.bindings;
                b.append(&mut map.bindings);
                map.bindings = b;
            }
        }
        Ok(map)
    }

    /// Parses a keymap document.
    pub fn parse(file: &str, text: &str) -> Result<Keymap, KeymapError> {
        let err = |why: String| KeymapError::Invalid {
            file: file.to_string(),
            why,
        };
        let raw: KeymapFile = toml::from_str(text).map_err(|e| err(e.message().to_string()))?;
        let mut bindings = Vec::new();
        for b in raw.bind {
            let action = Action::from_name(&b.run)
                .ok_or_else(|| err(format!("unknown action {:?}", b.run)))?;
            let mut keys = Vec::new();
            for k in &b.on {
                keys.push(KeySpec::parse(k).ok_or_else(|| err(format!("unknown key {k:?}")))?);
            }
            for v in &b.views {
                if v != "*" && !ViewId::ALL.iter().any(|x| x.name() == v) {
                    return Err(err(format!("unknown view {v:?}")));
                }
            }
            bindings.push(Binding {
                keys,
                action,
                run: b.run,
                desc: b.desc,
                views: b.views,
                footer: b.footer,
            });
        }
        Ok(Keymap { bindings })
    }

    /// The action for `key` in `view`: the view's own bindings first, then global
    /// ones. `open-step` takes its step number from the digit pressed.
    pub fn lookup(&self, view: ViewId, key: &KeyEvent) -> Option<Action> {
        let hit = |b: &&Binding| b.keys.iter().any(|k| k.matches(key));
        let action = self
            .bindings
            .iter()
            .filter(|b| b.applies_to(view))
            .find(hit)
            .or_else(|| self.bindings.iter().filter(|b| b.is_global()).find(hit))
            .map(|b| b.action.clone())?;
        Some(match (action, key.code) {
            (Action::OpenStep(_), KeyCode::Char(c)) => {
                Action::OpenStep(c.to_digit(10).map(|d| d as u8).unwrap_or(1).max(1))
            }
            (a, _) => a,
        })
    }

    /// The bindings active in `view`, its own first, each action once, shadowed keys removed.
    pub fn help(&self, view: ViewId) -> Vec<Binding> {
        let mut out: Vec<Binding> = Vec::new();
        let own = self.bindings.iter().filter(|b| b.applies_to(view));
        let global = self.bindings.iter().filter(|b| b.is_global());
        for b in own.chain(global) {
            if out.iter().any(|o| o.run == b.run) {
                continue;
            }
            let mut b = b.clone();
            b.keys.retain(|k| {
                !out.iter().any(|o| {
                    o.keys
                        .iter()
                        .any(|ok| ok.code == k.code && ok.ctrl == k.ctrl)
                })
            });
            if !b.keys.is_empty() {
                out.push(b);
            }
        }
        out
    }

    /// Footer hints for `view`: (first key, short label, kept when space is short).
    /// Help and quit are always kept, so `?` is never lost on a small screen.
    pub fn footer(&self, view: ViewId) -> Vec<(String, String, bool)> {
        self.help(view)
            .into_iter()
            .filter_map(|b| {
                let label = b.footer.clone()?;
                let key = match b.run.as_str() {
                    "down" => "j/k".to_string(),
                    "open-step" => "1-9".to_string(),
                    _ => b.keys.first()?.label.clone(),
                };
                let pinned = matches!(b.run.as_str(), "help" | "quit");
                Some((key, label, pinned))
            })
            .collect()
    }

    /// The whole table as Markdown, one section per view (for `docs/keys.md`).
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "# Key bindings\n\nGenerated from `src/tui/keymap.toml` (the same table the `?` help \
             overlay and the footer are drawn from). Override any of them in \
             `<config dir>/keymap.toml` with the same format.\n\n\
             Triage never asks \"are you sure?\": every decision is stored at once and `u` takes \
             the last one back (then the one before). With rows marked (`Space`, `M` a rule, `A` a run), \
             a decision applies to all of them. \
             In prompts: `Enter` applies (one-line prompts), `Ctrl-S` saves (notes), `Ctrl-U` clears, \
             `Esc` cancels (in the filter prompt it clears the filter). \
             Mouse: the wheel scrolls, a click selects a row or a tab.\n\n\
             Filter (`f`): `sev:high status:open rule:ID skill:NAME agent:NAME run:PREFIX words \"a phrase\"`. \
             Conditions on findings hold on the same finding (in Runs, Skills and Sources: rows with one \
             finding meeting them all); `sev` means at or above; words must each appear in the row's text. \
             Short forms: `s:` `st:`/`is:` `r:` `sk:` `a:`; `c h m l i`; `o`, `c`, `fp`, `sup`.\n",
        );
        for v in ViewId::ALL {
            s.push_str(&format!("\n## {}\n\n{}", v.title(), self.table(v)));
        }
        s
    }

    /// One view's keys as a Markdown table (docs/keys.md; the README shows some).
    pub fn table(&self, view: ViewId) -> String {
        let mut s = String::from("| Keys | Action |\n|---|---|\n");
        for b in self.help(view) {
            let keys: Vec<String> = b.keys.iter().map(|k| format!("`{}`", k.label)).collect();
            s.push_str(&format!("| {} | {} |\n", keys.join(" "), b.desc));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn builtin_parses_and_view_bindings_win() {
        let k = Keymap::parse("keymap.toml", DEFAULT_KEYMAP).expect("builtin keymap parses");
        assert!(k.bindings.len() > 20);
        let s = key(KeyCode::Char('s'));
        assert_eq!(k.lookup(ViewId::Runs, &s), Some(Action::Sort));
        assert_eq!(k.lookup(ViewId::Findings, &s), Some(Action::Suppress));
        assert_eq!(k.lookup(ViewId::Span, &s), Some(Action::Suppress));
        assert_eq!(k.lookup(ViewId::Sources, &s), None);
        assert_eq!(
            k.lookup(ViewId::Findings, &key(KeyCode::Char('7'))),
            Some(Action::OpenStep(7))
        );
        assert_eq!(
            k.lookup(ViewId::Run, &key(KeyCode::Char('n'))),
            Some(Action::NextFlagged)
        );
        assert_eq!(
            k.lookup(ViewId::Findings, &key(KeyCode::Char('n'))),
            Some(Action::Note)
        );
        assert_eq!(
            k.lookup(ViewId::Replay, &key(KeyCode::Char('l'))),
            Some(Action::Skip)
        );
        assert_eq!(
            k.lookup(ViewId::Run, &key(KeyCode::Char('l'))),
            Some(Action::Enter)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(k.lookup(ViewId::Findings, &ctrl_c), Some(Action::Quit));
        assert_eq!(
            k.lookup(ViewId::Findings, &key(KeyCode::Char('c'))),
            Some(Action::Confirm)
        );
    }

    #[test]
    fn help_lists_each_action_once_without_shadowed_keys() {
        let k = Keymap::builtin();
        let h = k.help(ViewId::Replay);
        let skip = h.iter().find(|b| b.run == "skip").expect("skip");
        assert_eq!(skip.keys_label(), "l/Right");
        let enter = h.iter().find(|b| b.run == "enter");
        assert!(enter.is_none(), "enter is not bound in replay");
        let back = h.iter().find(|b| b.run == "back").expect("back");
        assert_eq!(back.keys_label(), "Esc/h/Left");
        let md = k.markdown();
        assert!(md.contains("| `x` | Mark a false positive |"), "{md}");
    }

    #[test]
    fn bad_keymaps_are_one_line_errors() {
        let e = Keymap::parse("u.toml", "[[bind]]\non=[\"j\"]\nrun=\"fly\"\n").expect_err("bad");
        assert_eq!(
            e.to_string(),
            "u.toml: invalid keymap: unknown action \"fly\""
        );
        let e = Keymap::parse("u.toml", "[[bind]]\non=[\"Hyper\"]\nrun=\"up\"\n").expect_err("bad");
        assert!(e.to_string().contains("unknown key"));
    }
}
