//! The documents keep their promises: every `skilltrace` command and flag the
//! README shows exists (checked against the binary's own `--help`), and every
//! test SECURITY.md names as proof of a guarantee exists in the tree.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::process::Command;

fn help(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_skilltrace"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "`skilltrace {} --help` failed",
        args.join(" ")
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Lines of fenced code blocks in a markdown file that invoke `skilltrace`.
fn command_lines(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        for part in line.split(['|', ';', '&']) {
            let p = part.trim().trim_start_matches("$ ");
            let p = p
                .strip_prefix("cargo run --release -- ")
                .or_else(|| p.strip_prefix("cargo run -- "))
                .map(|r| format!("skilltrace {r}"))
                .unwrap_or(p.to_string());
            if p.starts_with("skilltrace ") {
                out.push(p.split('#').next().unwrap().trim().to_string());
            }
        }
    }
    out
}

#[test]
fn every_readme_command_and_flag_exists() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let lines = command_lines(&md);
    assert!(lines.len() >= 10, "README shows the commands: {lines:?}");
    let top = help(&[]);
    let mut checked = BTreeSet::new();
    for l in &lines {
        let words: Vec<&str> = l.split_whitespace().collect();
        let Some(sub) = words.get(1) else { continue };
        if sub.starts_with('-') {
            continue;
        }
        assert!(
            top.contains(&format!("  {sub}")),
            "README uses unknown command `{sub}` in `{l}`"
        );
        let mut path = vec![*sub];
        if matches!(*sub, "registry" | "canary" | "guard") {
            if let Some(s2) = words.get(2).filter(|w| !w.starts_with('-')) {
                path.push(s2);
            }
        }
        let h = help(&path);
        for w in &words {
            if let Some(flag) = w.strip_prefix("--") {
                let flag = flag.split('=').next().unwrap();
                assert!(
                    h.contains(&format!("--{flag}")),
                    "`skilltrace {}` has no --{flag} (README: `{l}`)",
                    path.join(" ")
                );
                checked.insert(format!("{} --{flag}", path.join(" ")));
            }
        }
        checked.insert(path.join(" "));
    }
    eprintln!(
        "checked {} commands and flags from the README",
        checked.len()
    );
}

#[test]
fn every_test_security_md_names_exists() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/SECURITY.md")).unwrap();
    // Tests are named as `path/to/file.rs::test_name`.
    let mut named = 0;
    for cap in md.split('`').skip(1).step_by(2) {
        let Some((file, name)) = cap.split_once("::") else {
            continue;
        };
        if !file.ends_with(".rs") {
            continue;
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let src = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("SECURITY.md names missing file {file}"));
        let fn_name = name.rsplit("::").next().unwrap();
        assert!(
            src.contains(&format!("fn {fn_name}(")),
            "SECURITY.md names `{cap}`, which does not exist"
        );
        named += 1;
    }
    assert!(
        named >= 8,
        "SECURITY.md backs its guarantees with tests (found {named})"
    );
}
