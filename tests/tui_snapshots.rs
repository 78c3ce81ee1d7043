//! Snapshot tests of every TUI view at 80x24 and 160x48 (plus the help
//! overlay), drawn on a ratatui `TestBackend` from a fixed store; the
//! hostile-text test; and a resize sweep down to 1x1 that must never panic.

#![allow(clippy::unwrap_used)]

mod tui_fixture;

use crossterm::event::{KeyCode, KeyModifiers};
use skilltrace::tui::action::Action;
use skilltrace::tui::harness::Harness;
use skilltrace::tui::theme::Theme;
use std::path::PathBuf;

fn store(hostile: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    tui_fixture::build(&db, hostile);
    (dir, db)
}

/// The store the snapshots are drawn from: `samples/`, imported.
fn samples_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("samples.db");
    tui_fixture::build_samples(&db);
    (dir, db)
}

fn open_read(db: &std::path::Path) -> skilltrace::store::Store {
    skilltrace::store::Store::open_read(db).unwrap()
}

fn harness(db: &std::path::Path, w: u16, h: u16) -> Harness {
    Harness::new(db, w, h, tui_fixture::T0 + 2_000_000, Theme::dark()).unwrap()
}

fn key(h: &mut Harness, code: KeyCode) {
    h.key(code, KeyModifiers::NONE);
}

/// Every screen worth seeing, in order, as (name, text).
fn tour(db: &std::path::Path, w: u16, hh: u16) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut h = harness(db, w, hh);
    let mut shot = |h: &mut Harness, name: &str| out.push((format!("{name}_{w}x{hh}"), h.draw()));
    shot(&mut h, "runs");
    h.press('?');
    shot(&mut h, "help_runs");
    h.press('?');
    // The Claude run is the oldest; go to the bottom of the list and open it.
    h.press('G');
    key(&mut h, KeyCode::Enter);
    shot(&mut h, "run");
    for _ in 0..5 {
        h.press('j');
    }
    key(&mut h, KeyCode::Enter);
    shot(&mut h, "span");
    key(&mut h, KeyCode::Esc);
    key(&mut h, KeyCode::Esc);
    key(&mut h, KeyCode::Tab);
    shot(&mut h, "findings");
    h.press('?');
    shot(&mut h, "help_findings");
    h.press('?');
    h.press('x');
    shot(&mut h, "findings_confirm");
    h.press('n');
    key(&mut h, KeyCode::Tab);
    shot(&mut h, "skills");
    key(&mut h, KeyCode::Tab);
    h.press('j');
    shot(&mut h, "sources");
    h.press('/');
    h.type_text("credentials");
    shot(&mut h, "search_prompt");
    key(&mut h, KeyCode::Enter);
    shot(&mut h, "search");
    key(&mut h, KeyCode::BackTab);
    key(&mut h, KeyCode::BackTab);
    key(&mut h, KeyCode::BackTab);
    h.press('G');
    h.press('R');
    h.act(Action::Tick {
        now_ms: tui_fixture::T0,
        elapsed_ms: 46_000,
    });
    shot(&mut h, "replay");
    out
}

#[test]
fn snapshots_80x24() {
    let (_d, db) = samples_store();
    for (name, text) in tour(&db, 80, 24) {
        insta::assert_snapshot!(name, text);
    }
}

#[test]
fn snapshots_160x48() {
    let (_d, db) = samples_store();
    for (name, text) in tour(&db, 160, 48) {
        insta::assert_snapshot!(name, text);
    }
}

/// The tree fixture's one run, opened in the Run view at 100x16.
fn tree_run_view() -> (tempfile::TempDir, PathBuf, Harness) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tree.db");
    tui_fixture::build_tree(&db);
    let mut h = harness(&db, 100, 16);
    key(&mut h, KeyCode::Enter);
    (dir, db, h)
}

/// The Run view is a tree: `cargo test` (under `first answer`) is listed under
/// its parent although the `second answer` subtree started before it, and the
/// orphan is a root.
#[test]
fn run_view_lists_children_under_their_parent() {
    let (_dir, db, mut h) = tree_run_view();
    let screen = h.draw();
    insta::assert_snapshot!("run_tree_100x16", screen);
    let row = |needle: &str| {
        screen
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not on screen:\n{screen}"))
    };
    let order = [
        "session",
        "first answer",
        "cargo build",
        "cargo test",
        "second answer",
        "src/b.rs",
        "echo orphan",
    ]
    .map(row);
    assert!(
        order.windows(2).all(|w| w[0] + 1 == w[1]),
        "{order:?}\n{screen}"
    );
    // Indentation follows depth: the orphan is a root like the session.
    let indent = |i: usize| {
        let l = screen.lines().nth(i).unwrap();
        l.chars().position(|c| "◆◇⚙✉".contains(c)).unwrap()
    };
    assert_eq!(indent(order[3]), indent(order[2]), "{screen}");
    assert!(indent(order[3]) > indent(order[1]), "{screen}");
    assert_eq!(indent(order[6]), indent(order[0]), "{screen}");
    // Jumping to a span (as from a finding) selects its row in tree order.
    let reqs = h.app.open_run("tree-0001".into(), Some("a2".into()));
    h.settle(Some(skilltrace::tui::app::Command::Fetch(reqs)));
    assert_eq!(h.app.run.list.sel, 3);
    assert_eq!(h.app.run.list.selected().unwrap().0.span.id, "a2");
    // Live ingest adds a span under `a`: after the store's change is seen, the
    // order is rebuilt and the new span sits under its parent, not at the end.
    tui_fixture::add_tree_span(&db);
    h.changed();
    let live = h.draw();
    assert!(live.contains("(8 spans)"), "{live}");
    let at = |needle: &str| live.lines().position(|l| l.contains(needle)).unwrap();
    assert_eq!(at("cargo fmt"), at("cargo test") + 1, "{live}");
    assert_eq!(at("second answer"), at("cargo fmt") + 1, "{live}");
}

/// Space folds the selected span's subtree away (`▸`, with how many rows it
/// hides) and unfolds it again; a leaf does not fold; jumping to a span
/// inside a folded subtree unfolds the tree so the span can be selected.
#[test]
fn space_folds_and_unfolds_a_subtree_in_the_run_view() {
    let (_dir, _db, mut h) = tree_run_view();
    let open = h.draw();
    assert_eq!(h.app.run.list.total, 7, "{open}");
    assert!(open.contains("▾"), "{open}");
    // Row 1 is `first answer`, parent of `cargo build` and `cargo test`.
    h.press('j');
    key(&mut h, KeyCode::Char(' '));
    let folded = h.draw();
    insta::assert_snapshot!("run_tree_folded_100x16", folded);
    assert_eq!(h.app.run.list.total, 5, "{folded}");
    assert!(
        !folded.contains("cargo build") && !folded.contains("cargo test"),
        "{folded}"
    );
    let line = folded.lines().find(|l| l.contains("first answer")).unwrap();
    assert!(line.contains('▸') && line.contains("(+2)"), "{line}");
    // The selection stays on the folded span; the rows below move up.
    assert_eq!(
        h.app.run.list.selected().unwrap().0.span.name,
        "first answer"
    );
    let at = |screen: &str, needle: &str| screen.lines().position(|l| l.contains(needle)).unwrap();
    assert_eq!(
        at(&folded, "second answer"),
        at(&folded, "first answer") + 1
    );
    // A leaf does not fold.
    h.press('G');
    key(&mut h, KeyCode::Char(' '));
    h.draw();
    assert_eq!(h.app.run.list.total, 5);
    // Unfold: everything is back in place.
    h.press('g');
    h.press('j');
    key(&mut h, KeyCode::Char(' '));
    let again = h.draw();
    assert_eq!(h.app.run.list.total, 7, "{again}");
    assert_eq!(
        at(&again, "cargo test"),
        at(&again, "cargo build") + 1,
        "{again}"
    );
    // Fold again, then jump to `cargo test` inside the fold (as from a finding).
    key(&mut h, KeyCode::Char(' '));
    h.draw();
    assert_eq!(h.app.run.list.total, 5);
    let reqs = h.app.open_run("tree-0001".into(), Some("a2".into()));
    h.settle(Some(skilltrace::tui::app::Command::Fetch(reqs)));
    let shown = h.draw();
    assert_eq!(h.app.run.list.total, 7, "{shown}");
    assert_eq!(
        h.app.run.list.selected().unwrap().0.span.id,
        "a2",
        "{shown}"
    );
}

#[test]
fn hostile_text_never_reaches_the_terminal() {
    let (_d, db) = store(true);
    let mut h = harness(&db, 120, 40);
    let mut screens = vec![h.draw()];
    // The proxy run (newest) holds a hostile title and a hostile span.
    key(&mut h, KeyCode::Enter);
    screens.push(h.draw());
    h.press('j');
    key(&mut h, KeyCode::Enter);
    screens.push(h.draw());
    key(&mut h, KeyCode::Esc);
    key(&mut h, KeyCode::Esc);
    // The codex run (third) has a web_fetch output with ESC, OSC 52, bidi and NUL.
    h.press('j');
    h.press('j');
    key(&mut h, KeyCode::Enter);
    h.press('j');
    h.press('j');
    key(&mut h, KeyCode::Enter);
    screens.push(h.draw());
    key(&mut h, KeyCode::Tab);
    for _ in 0..4 {
        h.press('j');
    }
    screens.push(h.draw());
    let all = screens.join("\n");
    // The hostile text is on screen, escaped …
    assert!(all.contains("\\x1b]52;c;ZXZpbA==\\x07"), "{all}");
    assert!(all.contains("\\u{202e}exe.txt\\x00"), "{all}");
    assert!(all.contains("\\x1b[31mis"), "{all}");
    // … and no raw control, escape or bidi character is in any cell.
    for bad in ['\u{1b}', '\u{7}', '\u{0}', '\u{202e}', '\u{9b}'] {
        assert!(!all.contains(bad), "{bad:?} reached the screen");
    }
    for cell in h.terminal.backend().buffer().content().iter() {
        assert!(!cell.symbol().chars().any(skilltrace::sanitize::is_unsafe));
    }
}

#[test]
fn any_size_down_to_one_cell_never_panics() {
    let (_d, db) = store(true);
    let mut h = harness(&db, 80, 24);
    let views: Vec<Vec<char>> = vec![
        vec![],
        vec!['\n'],
        vec!['\n', '\n'],
        vec!['\t'],
        vec!['\t', '\t'],
        vec!['\t', '\t', '\t'],
        vec!['R'],
        vec!['?'],
    ];
    for keys in views {
        let mut h2 = harness(&db, 80, 24);
        for k in &keys {
            match k {
                '\n' => key(&mut h2, KeyCode::Enter),
                '\t' => key(&mut h2, KeyCode::Tab),
                c => h2.press(*c),
            }
        }
        for (w, hh) in [
            (40, 10),
            (20, 5),
            (1, 1),
            (0, 0),
            (3, 2),
            (45, 3),
            (200, 3),
            (39, 9),
            (12, 40),
        ] {
            h2.resize(w, hh);
            h2.draw();
            h2.press('j');
            h2.press('G');
            h2.draw();
        }
    }
    h.resize(40, 10);
    let s = h.draw();
    assert!(s.contains("Runs"), "{s}");
}

#[test]
fn triage_is_stored_and_survives_reopening() {
    use skilltrace::model::TriageStatus;
    let (_d, db) = store(false);
    let mut h = harness(&db, 100, 30);
    key(&mut h, KeyCode::Tab);
    // Second finding: mark false positive, confirm, then write a two-line note.
    h.press('j');
    let id = h.app.findings.list.selected().unwrap().id;
    h.press('x');
    h.press('y');
    h.press('n');
    h.type_text("benign: test fixture");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    h.type_text("second line");
    h.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    // Suppress needs a reason and a confirmation; answering no changes nothing.
    h.press('k');
    h.press('s');
    h.type_text("known");
    h.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    h.press('n');
    // Confirm asks too; Esc is a no.
    h.press('c');
    key(&mut h, KeyCode::Esc);
    let store = open_read(&db);
    let rows = store.findings(&Default::default(), 0, 1000).unwrap();
    assert!(rows.len() >= 5);
    for r in &rows {
        if r.id == id {
            assert_eq!(r.status, TriageStatus::FalsePositive);
            assert_eq!(r.note.as_deref(), Some("benign: test fixture\nsecond line"));
        } else {
            assert_eq!(r.status, TriageStatus::Open, "{r:?}");
        }
    }
    let mut again = harness(&db, 100, 30);
    key(&mut again, KeyCode::Tab);
    again.press('j');
    assert_eq!(again.app.findings.list.selected().unwrap().id, id);
    let screen = again.draw();
    assert!(screen.contains("false+✎"), "{screen}");
    assert!(
        screen.contains("note: benign: test fixture⏎second line"),
        "{screen}"
    );
}

#[test]
fn filter_sort_and_paging_follow_the_store() {
    use skilltrace::model::{Severity, TriageStatus};
    use skilltrace::store::{FindingFilter, RunFilter};
    let (_d, db) = store(false);
    let st = open_read(&db);
    let mut h = harness(&db, 100, 30);
    h.press('f');
    h.type_text("sev:high\n");
    let n = st
        .run_count(&RunFilter {
            min_severity: Some(Severity::High),
            ..Default::default()
        })
        .unwrap();
    assert!((1..4).contains(&n), "{n}");
    let s = h.draw();
    assert!(s.contains(&format!("Runs ({n})")), "{s}");
    assert!(s.contains("Fix the failing parser"), "{s}");
    h.press('f');
    for _ in 0..8 {
        key(&mut h, KeyCode::Backspace);
    }
    h.type_text("agent:codex\n");
    assert!(h.draw().contains("Runs (1)"));
    h.press('f');
    for _ in 0..11 {
        key(&mut h, KeyCode::Backspace);
    }
    key(&mut h, KeyCode::Enter);
    h.press('s');
    let s = h.draw();
    assert!(s.contains("Runs (4) · worst findings"), "{s}");
    // Worst first: the run with the critical finding leads.
    assert_eq!(h.app.runs.list.get(0).unwrap().run.id, "claude-7f3a91c2");
    key(&mut h, KeyCode::Tab);
    h.press('f');
    h.type_text("status:open sev:medium\n");
    let n = st
        .finding_count(&FindingFilter {
            min_severity: Some(Severity::Medium),
            status: Some(TriageStatus::Open),
            ..Default::default()
        })
        .unwrap();
    assert!(n >= 3, "{n}");
    let s = h.draw();
    assert!(s.contains(&format!("Findings ({n})")), "{s}");
    h.press('f');
    h.type_text(" colour:red\n");
    assert!(h.draw().contains("filter: unknown key 'colour'"));
}

#[test]
fn mouse_and_live_refresh() {
    use skilltrace::tui::layout::regions;
    let (_d, db) = store(false);
    let mut h = harness(&db, 100, 30);
    // Click the third run's row, then the Findings tab.
    let list = regions(skilltrace::tui::action::ViewId::Runs, h.app.size).list;
    h.act(Action::Click {
        column: list.x + 2,
        row: list.y + 2,
    });
    assert_eq!(h.app.runs.list.sel, 2);
    h.act(Action::Scroll(-3));
    assert_eq!(h.app.runs.list.sel, 0);
    let col = (0..100u16)
        .find(|c| {
            skilltrace::tui::views::tab_at(*c) == Some(skilltrace::tui::action::ViewId::Findings)
        })
        .unwrap();
    h.act(Action::Click {
        column: col,
        row: 0,
    });
    assert_eq!(h.app.view(), skilltrace::tui::action::ViewId::Findings);
    // Another connection triages: the next data-version poll refreshes the view.
    let first = h.app.findings.list.selected().unwrap().id;
    let w = skilltrace::store::Store::open(&db).unwrap();
    w.set_triage(
        first,
        skilltrace::model::TriageStatus::Confirmed,
        Some("from the CLI"),
    )
    .unwrap();
    assert!(
        h.draw().lines().any(|l| l.contains(" open ")),
        "still the old page before the poll"
    );
    h.changed();
    let s = h.draw();
    assert!(s.contains("note: from the CLI"), "{s}");
    assert!(s.contains("confirmed"), "{s}");
}

#[test]
fn status_line_is_loud_about_disabled_redaction_drops_and_spooling() {
    use skilltrace::tui::app::SourceStatus;
    let (_d, db) = store(false);
    let mut h = harness(&db, 200, 20);
    let quiet = h.draw();
    assert!(quiet.contains("redaction mask"), "{quiet}");
    h.act(Action::Status(SourceStatus {
        sources: vec!["tail 2 path(s)".into(), "proxy 127.0.0.1:8787".into()],
        importing: Some((50, 200)),
        dropped: 3,
        redaction: "off".into(),
        error: None,
        store: Some("store: 4 batches spooled (disk is full)".into()),
    }));
    let s = h.draw();
    let status = s.lines().rev().nth(1).unwrap();
    assert!(status.starts_with(" ⚠ REDACTION OFF"), "{status}");
    for want in [
        "dropped 3 batches",
        "4 batches spooled",
        "importing 25%",
        "proxy 127.0.0.1:8787",
        "tail 2 path(s)",
    ] {
        assert!(status.contains(want), "{want}: {status}");
    }
    let buf = h.terminal.backend().buffer();
    let y = buf.area.height - 2;
    assert_eq!(
        buf[(2, y)].style().add_modifier,
        Theme::dark().loud.add_modifier
    );
    assert_eq!(buf[(2, y)].bg, Theme::dark().loud.bg.unwrap());
}
