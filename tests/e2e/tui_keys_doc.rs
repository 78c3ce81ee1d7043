//! `docs/keys.md` is generated from the keymap the TUI runs with; this test
//! fails when they drift. Regenerate with `SKILLTRACE_UPDATE_DOCS=1 cargo test --test e2e tui_keys_doc::`.

#![allow(clippy::unwrap_used)]

#[test]
fn keys_doc_matches_the_keymap() {
    let want = skilltrace::tui::action::Keymap::builtin().markdown();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/keys.md");
    if std::env::var_os("SKILLTRACE_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/keys.md is stale; regenerate it (see this file's header)"
    );
    assert!(want.contains("## Findings") && want.contains("`?`"));
}

/// The README's key tables (Runs, Run, Findings, Span) are the keymap's own.
#[test]
fn readme_key_tables_match_the_keymap() {
    use skilltrace::tui::action::{Keymap, ViewId};
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let k = Keymap::builtin();
    for v in [ViewId::Runs, ViewId::Run, ViewId::Findings, ViewId::Span] {
        let table = k.table(v);
        assert!(
            readme.contains(&table),
            "README.md lacks the {} key table as the keymap has it:\n{table}",
            v.title()
        );
    }
}
