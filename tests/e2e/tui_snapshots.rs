//! Snapshot tests of every TUI view at 80x24 and 160x48 (plus the help
//! overlay), drawn on a ratatui `TestBackend` from a fixed store; the
//! hostile-text test; and a resize sweep down to 1x1 that must never panic.

#![allow(clippy::unwrap_used)]

use crate::tui_fixture;

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

/// Every screen worth seeing, in order, as (name, text): the views, the Run
/// view's glyphs, roll-up and jump, the Span view from a flagged span (with
/// its findings, skills and the evidence highlighted), the grouped triage
/// queue with its detail pane, the filter prompt, Skills, Sources, search and
/// a replay that raised its findings and stopped its clock.
fn tour(db: &std::path::Path, w: u16, hh: u16) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut h = harness(db, w, hh);
    let mut shot = |h: &mut Harness, name: &str| out.push((format!("{name}_{w}x{hh}"), h.draw()));
    shot(&mut h, "runs");
    h.press('?');
    shot(&mut h, "help_runs");
    h.press('?');
    // The invoice-filler run (the skill that reads ~/.aws/credentials and sends them).
    open_run_titled(&mut h, "invoice-filler");
    shot(&mut h, "run");
    h.press('n');
    shot(&mut h, "run_next_flagged");
    // Fold the flagged span's parent: the fold carries what it hides.
    h.press('k');
    key(&mut h, KeyCode::Char(' '));
    shot(&mut h, "run_folded");
    key(&mut h, KeyCode::Char(' '));
    h.press('n');
    key(&mut h, KeyCode::Enter);
    shot(&mut h, "span");
    key(&mut h, KeyCode::Esc);
    key(&mut h, KeyCode::Esc);
    key(&mut h, KeyCode::Tab);
    shot(&mut h, "findings");
    h.press('?');
    shot(&mut h, "help_findings");
    h.press('?');
    h.press('f');
    h.type_text("status:fp sev:urgent");
    shot(&mut h, "filter_error");
    h.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.type_text("webhook");
    shot(&mut h, "filter_prompt");
    key(&mut h, KeyCode::Enter);
    shot(&mut h, "findings_filtered");
    key(&mut h, KeyCode::Esc);
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
    open_run_titled(&mut h, "invoice-filler");
    h.press('R');
    h.act(Action::Tick {
        now_ms: tui_fixture::T0,
        elapsed_ms: 5_000,
    });
    shot(&mut h, "replay");
    for _ in 0..30 {
        h.act(Action::Tick {
            now_ms: tui_fixture::T0,
            elapsed_ms: 5_000,
        });
    }
    shot(&mut h, "replay_finished");
    out
}

/// Selects the run whose title holds `needle` in the Runs view and opens it.
fn open_run_titled(h: &mut Harness, needle: &str) {
    h.press('g');
    for _ in 0..h.app.runs.list.total {
        let hit = h
            .app
            .runs
            .list
            .selected()
            .is_some_and(|r| r.run.title.as_deref().unwrap_or("").contains(needle));
        if hit {
            key(h, KeyCode::Enter);
            return;
        }
        h.press('j');
    }
    panic!("no run titled {needle:?}");
}

/// The triage screens: a chain finding's detail (remediation, steps), three
/// findings triaged with one key each and one undone, the triaged shown with
/// `a`, a rule marked and suppressed with a reason, and a note signed and timed.
fn triage_tour(db: &std::path::Path, w: u16, hh: u16) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut h = harness(db, w, hh);
    let mut shot = |h: &mut Harness, name: &str| out.push((format!("{name}_{w}x{hh}"), h.draw()));
    key(&mut h, KeyCode::Tab);
    select_rule(&mut h, "PINJ-TRACE-002");
    shot(&mut h, "findings_chain");
    h.press('g');
    h.press('x');
    h.press('x');
    h.press('c');
    h.press('u');
    shot(&mut h, "findings_after_triage");
    h.press('a');
    shot(&mut h, "findings_all");
    h.press('a');
    select_rule(&mut h, "SEC-TRACE-001");
    h.press('M');
    h.press('s');
    shot(&mut h, "suppress_prompt");
    h.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.type_text("test credentials from the fixture\n");
    h.press('g');
    h.press('n');
    h.type_text("ticket SEC-12: looked at it");
    h.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    shot(&mut h, "findings_note");
    out
}

/// Moves the Findings selection to the first row led by `rule`.
fn select_rule(h: &mut Harness, rule: &str) {
    h.press('g');
    for _ in 0..h.app.findings.list.total {
        if h.app
            .findings
            .list
            .selected()
            .unwrap()
            .lead()
            .finding
            .rule_id
            == rule
        {
            return;
        }
        h.press('j');
    }
    panic!("no row led by {rule}");
}

#[test]
fn snapshots_80x24() {
    let (_d, db) = samples_store();
    for (name, text) in tour(&db, 80, 24) {
        insta::assert_snapshot!(name, text);
    }
    for (name, text) in triage_tour(&db, 80, 24) {
        insta::assert_snapshot!(name, text);
    }
}

#[test]
fn snapshots_160x45() {
    let (_d, db) = samples_store();
    for (name, text) in tour(&db, 160, 45) {
        insta::assert_snapshot!(name, text);
    }
    for (name, text) in triage_tour(&db, 160, 45) {
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

/// One key per decision, no confirmation, the cursor moves on; `u` takes
/// decisions back newest first; a note and a suppression reason are kept
/// apart, each signed; all of it is in the store and survives reopening.
#[test]
fn triage_is_one_key_undoable_and_survives_reopening() {
    use skilltrace::model::TriageStatus;
    let (_d, db) = store(false);
    let mut h = harness(&db, 100, 30);
    key(&mut h, KeyCode::Tab);
    let open_before = h.app.findings.list.total;
    let first = h.app.findings.list.selected().unwrap().ids();
    h.press('x');
    // The row left the queue at once (triaged findings are hidden) and the next took its place.
    assert_eq!(h.app.findings.list.total, open_before - 1);
    let second = h.app.findings.list.selected().unwrap().ids();
    assert_ne!(first, second);
    h.press('c');
    let third = h.app.findings.list.selected().unwrap().ids();
    h.press('s');
    h.type_text("vendored test data\n");
    assert_eq!(h.app.findings.list.total, open_before - 3);
    // Undo the suppression: the third finding is open again, the others stay.
    h.press('u');
    let store = open_read(&db);
    let status = |ids: &[i64]| {
        ids.iter()
            .map(|i| store.finding(*i).unwrap().unwrap())
            .collect::<Vec<_>>()
    };
    assert!(status(&first)
        .iter()
        .all(|r| r.status == TriageStatus::FalsePositive
            && r.triaged_by.as_deref() == Some("tester")));
    assert!(status(&second)
        .iter()
        .all(|r| r.status == TriageStatus::Confirmed));
    assert!(status(&third)
        .iter()
        .all(|r| r.status == TriageStatus::Open && r.reason.is_none()));
    assert_eq!(h.app.findings.list.total, open_before - 2);
    // Suppress with a reason, then a two-line note: reason and note stay apart.
    let sel = h.app.findings.list.selected().unwrap().ids();
    h.press('n');
    h.type_text("looked at it");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    h.type_text("ticket SEC-12");
    h.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    h.press('s');
    h.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.type_text("known fixture\n");
    for r in status(&sel) {
        assert_eq!(r.status, TriageStatus::Suppressed);
        assert_eq!(r.reason.as_deref(), Some("known fixture"));
        assert_eq!(r.notes.len(), 1, "{r:?}");
        assert_eq!(r.notes[0].text, "looked at it\nticket SEC-12");
        assert_eq!(r.notes[0].author, "tester");
        assert_eq!(r.notes[0].ts_ms, tui_fixture::T0 + 2_000_000);
    }
    // Reopen everything in a new session: shown with `a`, kept as decided.
    let mut again = harness(&db, 100, 30);
    key(&mut again, KeyCode::Tab);
    assert_eq!(again.app.findings.list.total, open_before - 3);
    again.press('a');
    let screen = again.draw();
    assert!(screen.contains("false+"), "{screen}");
    assert!(screen.contains("suppressed✎"), "{screen}");
    assert!(screen.contains("confirmed"), "{screen}");
    // Nothing is left to undo in a new session.
    again.press('u');
    assert!(again.draw().contains("nothing to undo"));
}

/// Marks make a decision apply to all of them: a row, a rule (every finding
/// of it in the filter, on screen or not), a run; Esc clears marks first.
#[test]
fn marks_and_bulk_decisions() {
    use skilltrace::model::TriageStatus;
    use skilltrace::store::FindingFilter;
    let (_d, db) = samples_store();
    let st = open_read(&db);
    let mut h = harness(&db, 120, 30);
    key(&mut h, KeyCode::Tab);
    select_rule(&mut h, "SEC-TRACE-001");
    let of_rule = |status| {
        st.finding_count(&FindingFilter {
            rule_id: Some("SEC-TRACE-001".into()),
            status,
            ..Default::default()
        })
        .unwrap()
    };
    let n = of_rule(None);
    assert!(n >= 3, "{n}");
    h.press('M');
    assert!(h.draw().contains("rule SEC-TRACE-001"));
    key(&mut h, KeyCode::Esc);
    assert!(h.app.findings.marks.is_empty(), "Esc clears marks first");
    h.press('M');
    h.press('s');
    h.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.type_text("fixture secrets\n");
    assert_eq!(of_rule(Some(TriageStatus::Suppressed)), n);
    assert!(h.app.findings.marks.is_empty());
    let screen = h.draw();
    assert!(!screen.contains("SEC-TRACE-001"), "{screen}");
    // One key undoes the whole bulk decision.
    h.press('u');
    assert_eq!(of_rule(Some(TriageStatus::Open)), n);
    // Two rows marked with Space (the cursor moves on), confirmed together.
    h.press('g');
    let a = h.app.findings.list.selected().unwrap().ids();
    key(&mut h, KeyCode::Char(' '));
    let b = h.app.findings.list.selected().unwrap().ids();
    key(&mut h, KeyCode::Char(' '));
    h.press('c');
    for id in a.iter().chain(&b) {
        assert_eq!(
            st.finding(*id).unwrap().unwrap().status,
            TriageStatus::Confirmed
        );
    }
    // A run marked: every open finding of that run.
    let run = h
        .app
        .findings
        .list
        .selected()
        .unwrap()
        .lead()
        .finding
        .run_id
        .clone();
    h.press('A');
    h.press('x');
    let open_in_run = st
        .finding_count(&FindingFilter {
            run_id: Some(run),
            status: Some(TriageStatus::Open),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(open_in_run, 0);
}

/// Findings about one action are one row listing its rules, and a decision
/// on the row lands on each of them.
#[test]
fn one_action_is_one_row_and_one_decision() {
    use skilltrace::model::TriageStatus;
    let (_d, db) = samples_store();
    let st = open_read(&db);
    let mut h = harness(&db, 160, 45);
    key(&mut h, KeyCode::Tab);
    // The curl that sends the AWS credentials raises EXF-TRACE-001 and NET-TRACE-002.
    let at = h
        .app
        .findings
        .list
        .rows
        .iter()
        .position(|g| {
            let rules = g.rules();
            rules.contains(&"EXF-TRACE-001") && rules.contains(&"NET-TRACE-002")
        })
        .expect("a row with both rules");
    let g = h.app.findings.list.rows[at].clone();
    assert!(g.rows.len() >= 2);
    let span = g.lead().finding.span_ids[0].clone();
    assert!(g.rows.iter().all(|r| r.finding.span_ids[0] == span));
    for _ in 0..at {
        h.press('j');
    }
    assert_eq!(h.app.findings.list.selected().unwrap().ids(), g.ids());
    let screen = h.draw();
    let label = format!("{} +1", g.lead().finding.rule_id);
    assert!(screen.contains(&label), "{label}\n{screen}");
    assert!(screen.contains("findings about this action"), "{screen}");
    h.press('x');
    for id in g.ids() {
        assert_eq!(
            st.finding(id).unwrap().unwrap().status,
            TriageStatus::FalsePositive
        );
    }
}

/// One filter language: conditions on one finding (in Runs too), free text,
/// short forms, `run:`; errors shown in the prompt and nothing applied; Esc
/// and Ctrl-U clear.
#[test]
fn filter_sort_and_paging_follow_the_store() {
    use skilltrace::model::{Severity, TriageStatus};
    use skilltrace::store::{FindingFilter, RunFilter};
    let (_d, db) = store(false);
    let st = open_read(&db);
    let mut h = harness(&db, 100, 30);
    let typed = |h: &mut Harness, text: &str| {
        h.press('f');
        h.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
        h.type_text(text);
        key(h, KeyCode::Enter);
        h.draw()
    };
    let with = |f: FindingFilter| {
        st.run_count(&RunFilter {
            finding: Some(Box::new(f)),
            ..Default::default()
        })
        .unwrap()
    };
    let n = with(FindingFilter {
        min_severity: Some(Severity::High),
        ..Default::default()
    });
    assert!((1..4).contains(&n), "{n}");
    let s = typed(&mut h, "sev:high");
    assert!(s.contains(&format!("Runs ({n})")), "{s}");
    assert!(s.contains("Fix the failing parser"), "{s}");
    assert!(typed(&mut h, "a:codex").contains("Runs (1)"));
    // Conditions hold on the same finding: once the critical findings are
    // confirmed, its run has no *open critical* finding, though it has both.
    let crit = st
        .findings(
            &FindingFilter {
                min_severity: Some(Severity::Critical),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    let run = crit[0].finding.run_id.clone();
    assert!(crit.iter().all(|c| c.finding.run_id == run), "one run");
    let w = skilltrace::store::Store::open(&db).unwrap();
    for c in &crit {
        w.set_triage(c.id, TriageStatus::Confirmed, None).unwrap();
    }
    h.changed();
    let s = typed(&mut h, "status:open sev:critical");
    assert!(s.contains("Runs (0)"), "{s}");
    let s = typed(&mut h, "is:o s:c");
    assert!(s.contains("Runs (0)"), "{s}");
    let s = typed(&mut h, "sev:critical");
    assert!(s.contains("Runs (1)"), "{s}");
    let s = typed(&mut h, &format!("run:{}", &run[..6]));
    assert!(s.contains("Runs (1)"), "{s}");
    // Esc in the view clears the filter; sorting by worst open findings.
    key(&mut h, KeyCode::Esc);
    assert!(h.app.runs.filter.text.is_empty());
    h.press('s');
    let s = h.draw();
    assert!(s.contains("Runs (4) · worst findings"), "{s}");
    // Findings: free text narrows (it used to keep every row).
    key(&mut h, KeyCode::Tab);
    let all = h.app.findings.list.total;
    let s = typed(&mut h, "paste");
    let n = h.app.findings.list.total;
    assert!(n >= 1 && n < all, "{n} of {all}\n{s}");
    for g in &h.app.findings.list.rows {
        let f = &g.lead().finding;
        let hay = format!("{} {} {} {}", f.rule_id, f.title, f.message, f.evidence).to_lowercase();
        assert!(
            g.rows.iter().any(|r| {
                let f = &r.finding;
                format!("{} {} {} {}", f.rule_id, f.title, f.message, f.evidence)
                    .to_lowercase()
                    .contains("paste")
            }),
            "{hay}"
        );
    }
    let s = typed(&mut h, "status:fp");
    assert!(s.contains("Findings (0)"), "{s}");
    let s = typed(&mut h, "status:confirmed");
    assert!(s.contains(&format!("Findings ({})", crit.len())), "{s}");
    let s = typed(&mut h, "status:open sev:medium");
    let n = st
        .finding_count(&FindingFilter {
            min_severity: Some(Severity::Medium),
            status: Some(TriageStatus::Open),
            ..Default::default()
        })
        .unwrap();
    assert!(n >= 3, "{n}");
    assert!(h.app.findings.list.total <= n, "{s}");
    // A bad key: shown in the prompt, where it was typed; nothing applied.
    h.press('f');
    h.type_text(" colour:red");
    key(&mut h, KeyCode::Enter);
    let s = h.draw();
    assert!(h.app.modal.is_some(), "the prompt stays open");
    assert!(s.contains("✗ unknown key 'colour'"), "{s}");
    assert_eq!(h.app.findings.filter.text, "status:open sev:medium");
    // Esc in the prompt clears the filter.
    key(&mut h, KeyCode::Esc);
    assert!(h.app.findings.filter.text.is_empty());
    assert!(h.app.modal.is_none());
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
    let first = h.app.findings.list.selected().unwrap().lead().id;
    let total = h.app.findings.list.total;
    let w = skilltrace::store::Store::open(&db).unwrap();
    w.set_triage(
        first,
        skilltrace::model::TriageStatus::FalsePositive,
        Some("from the CLI"),
    )
    .unwrap();
    assert!(
        h.draw().contains("0 triaged hidden"),
        "still the old page before the poll"
    );
    h.changed();
    let s = h.draw();
    assert!(s.contains("1 triaged hidden"), "{s}");
    assert_eq!(h.app.findings.list.total, total - 1);
    h.press('a');
    select_id(&mut h, first);
    let s = h.draw();
    assert!(s.contains("from the CLI"), "{s}");
}

/// Moves the Findings selection to the row holding finding `id`.
fn select_id(h: &mut Harness, id: i64) {
    h.press('g');
    for _ in 0..h.app.findings.list.total {
        if h.app.findings.list.selected().unwrap().ids().contains(&id) {
            return;
        }
        h.press('j');
    }
    panic!("finding {id} not listed");
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

/// Spans that raised findings carry their severity's glyph, a fold shows what
/// it hides, `n`/`N` visit every flagged span in order and wrap, Enter opens
/// one with its evidence highlighted, `]` goes on to the next, and a finding
/// is triaged from the Span view.
#[test]
fn flagged_spans_glyphs_folds_jumps_and_triage_from_the_span_view() {
    use skilltrace::model::TriageStatus;
    let (_d, db) = samples_store();
    let st = open_read(&db);
    let mut h = harness(&db, 160, 45);
    open_run_titled(&mut h, "invoice-filler");
    let rows = h.app.run.list.rows.clone();
    let flagged: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, (_, _, f))| f.own.any())
        .map(|(i, _)| i)
        .collect();
    assert!(flagged.len() >= 2, "{flagged:?}");
    assert!(!flagged.contains(&0));
    let screen = h.draw();
    for &i in &flagged {
        let name = rows[i].0.span.tool_name.clone().unwrap_or_default();
        let line = screen
            .lines()
            .nth(5 + i)
            .unwrap_or_else(|| panic!("row {i} on screen\n{screen}"));
        let sev = rows[i].2.own.worst_open().unwrap();
        let glyph = skilltrace::tui::widgets::sev_glyph(sev);
        assert!(
            line.starts_with(&format!("│{glyph}")),
            "{name}: {line}\n{screen}"
        );
    }
    for &want in &flagged {
        h.press('n');
        assert_eq!(h.app.run.list.sel, want);
    }
    h.press('n');
    assert_eq!(h.app.run.list.sel, flagged[0], "wraps to the first");
    h.press('N');
    assert_eq!(h.app.run.list.sel, *flagged.last().unwrap(), "and back");
    // Fold the first flagged span's parent: the fold carries its badges.
    h.press('n');
    let parent = (0..flagged[0])
        .rev()
        .find(|&i| rows[i].1.depth < rows[flagged[0]].1.depth)
        .unwrap();
    for _ in parent..flagged[0] {
        h.press('k');
    }
    key(&mut h, KeyCode::Char(' '));
    let (_, _, f) = *h.app.run.list.selected().unwrap();
    assert!(f.hidden.any(), "{f:?}");
    let want: Vec<String> = (0..5)
        .rev()
        .filter(|&i| f.hidden.open[i] > 0)
        .map(|i| format!("{}{}", ["I", "L", "M", "H", "C"][i], f.hidden.open[i]))
        .collect();
    let line = h
        .draw()
        .lines()
        .find(|l| l.contains('▸'))
        .unwrap()
        .to_string();
    assert!(
        line.contains("(+") && line.contains(&want.join(" ")),
        "{want:?} {line}"
    );
    // `n` stops at the fold that hides a flagged span.
    h.press('g');
    h.press('n');
    assert_eq!(h.app.run.list.sel, parent);
    key(&mut h, KeyCode::Char(' '));
    h.press('n');
    key(&mut h, KeyCode::Enter);
    let span = h.draw();
    assert!(span.contains("Findings on this span"), "{span}");
    let accent = skilltrace::tui::theme::Theme::dark().accent;
    let buf = h.terminal.backend().buffer();
    assert!(
        buf.content().iter().any(|c| c.fg == accent.fg.unwrap()
            && c.modifier.contains(ratatui::style::Modifier::REVERSED)),
        "the evidence is highlighted in the span\n{span}"
    );
    // Triage from the Span view: the selected group, stored at once.
    let ids = h.app.span.groups[0].ids();
    h.press('x');
    for id in &ids {
        assert_eq!(
            st.finding(*id).unwrap().unwrap().status,
            TriageStatus::FalsePositive
        );
    }
    h.press('u');
    for id in &ids {
        assert_eq!(st.finding(*id).unwrap().unwrap().status, TriageStatus::Open);
    }
    // `]` opens the next flagged span of the run.
    let before = h.app.span.key.clone();
    h.press(']');
    assert_ne!(h.app.span.key, before);
    assert!(!h.app.span.groups.is_empty());
}

/// Replay raises each finding as its span arrives, stops its clock at the
/// end, and `R` plays it again.
#[test]
fn replay_raises_findings_and_stops_its_clock() {
    let (_d, db) = samples_store();
    let st = open_read(&db);
    let mut h = harness(&db, 120, 30);
    open_run_titled(&mut h, "invoice-filler");
    let run = h.app.run.run_id.clone().unwrap();
    let want = st
        .findings(
            &skilltrace::store::FindingFilter {
                run_id: Some(run),
                ..Default::default()
            },
            0,
            1000,
        )
        .unwrap()
        .len() as u64;
    assert!(want >= 3);
    h.press('R');
    let tick = |h: &mut Harness, ms| {
        h.act(Action::Tick {
            now_ms: tui_fixture::T0,
            elapsed_ms: ms,
        })
    };
    tick(&mut h, 10);
    let r = h.app.replay.as_ref().unwrap();
    let early: u64 = r.raised_counts.iter().sum();
    assert!(early < want, "not everything at once: {early} of {want}");
    for _ in 0..200 {
        tick(&mut h, 1_000);
    }
    let r = h.app.replay.as_ref().unwrap();
    assert!(r.finished());
    assert_eq!(r.raised_counts.iter().sum::<u64>(), want);
    let stopped = r.clock_ms;
    tick(&mut h, 60_000);
    assert_eq!(
        h.app.replay.as_ref().unwrap().clock_ms,
        stopped,
        "the clock stopped"
    );
    let s = h.draw();
    assert!(s.contains("finished") && s.contains("raised"), "{s}");
    h.press('R');
    let r = h.app.replay.as_ref().unwrap();
    assert!(r.clock_ms < 1.0 && r.raised_counts.iter().sum::<u64>() <= early);
}

/// Skills: the tampered `anthropic/pdf` run is there with its findings and
/// integrity; the Run header and the Findings rows name the skill.
#[test]
fn skills_are_visible_everywhere() {
    let (_d, db) = samples_store();
    let mut h = harness(&db, 160, 45);
    key(&mut h, KeyCode::Tab);
    key(&mut h, KeyCode::Tab);
    let pdf = h
        .app
        .skills
        .list
        .rows
        .iter()
        .find(|k| k.skill_id == "anthropic/pdf")
        .expect("anthropic/pdf listed")
        .clone();
    assert!(pdf.changed >= 1, "{pdf:?}");
    assert!(pdf.findings >= 5, "{pdf:?}");
    assert!(pdf.runs >= 2, "{pdf:?}");
    let s = h.draw();
    assert!(s.contains("⚠ changed"), "{s}");
    // Filter by the skill's short name, in Findings: every row is the skill's.
    key(&mut h, KeyCode::BackTab);
    h.press('a');
    h.press('f');
    h.type_text("skill:pdf\n");
    assert!(h.app.findings.list.total >= 3);
    assert!(h
        .app
        .findings
        .list
        .rows
        .iter()
        .all(|g| g
            .rows
            .iter()
            .any(|r| r.finding.skill_id.as_deref() == Some("anthropic/pdf"))));
    assert!(h.draw().contains(" pdf "));
    // The run's header names its skill and its change.
    key(&mut h, KeyCode::Enter);
    let s = h.draw();
    assert!(s.contains("skill anthropic/pdf ⚠ changed"), "{s}");
}

/// At 80x24 every view keeps `? help` in the footer and the Run header keeps
/// its badges; the Runs badges column never cuts a badge at 160 columns.
#[test]
fn small_screens_keep_help_and_badges() {
    let (_d, db) = samples_store();
    let mut h = harness(&db, 80, 24);
    let footer = |h: &mut Harness| h.draw().lines().last().unwrap().to_string();
    for _ in 0..4 {
        let f = footer(&mut h);
        assert!(f.contains("? help") && f.contains("q quit"), "{f}");
        key(&mut h, KeyCode::Tab);
    }
    open_run_titled(&mut h, "invoice-filler");
    let s = h.draw();
    assert!(footer(&mut h).contains("? help"));
    let header = s.lines().nth(3).unwrap();
    assert!(
        header.contains("H")
            && header
                .trim_start_matches('│')
                .starts_with(['C', 'H', 'M', 'L', 'I']),
        "{header}"
    );
    key(&mut h, KeyCode::Enter);
    assert!(footer(&mut h).contains("? help"));
    let mut wide = harness(&db, 160, 45);
    let s = wide.draw();
    for r in &wide.app.runs.list.rows {
        let want: Vec<String> = (0..5)
            .rev()
            .filter(|&i| r.findings[i] > 0)
            .map(|i| format!("{}{}", ["I", "L", "M", "H", "C"][i], r.findings[i]))
            .collect();
        let title = r.run.title.clone().unwrap_or_default();
        if title.is_empty() {
            continue;
        }
        let line = s
            .lines()
            .find(|l| !title.is_empty() && l.contains(&title[..title.len().min(20)]))
            .unwrap_or("");
        assert!(line.contains(&want.join(" ")), "{want:?} {line}");
    }
}
