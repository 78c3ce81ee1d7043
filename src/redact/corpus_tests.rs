//! The labelled redaction corpus (`tests/fixtures/redaction/cases.jsonl`, written by its
//! `make_cases.py`, described in its `SOURCE.md`) as a floor: recall over every secret
//! of every provider, and false redactions over the keep-strings, must not fall below
//! what this version reaches. Scored as `scripts/redaction_score.py` scores a binary
//! (each case its own run, the text as a tool output): a secret is caught when no
//! 8-character piece that only the secrets hold is left; a case's false redactions
//! are its keeps lost, or its markers when it holds no secret, whichever is more.

use super::{Field, Mode, Redactor, Report};
use serde_json::Value;
use std::collections::BTreeMap;

const CASES: &str = include_str!("../../tests/fixtures/redaction/cases.jsonl");

/// Recall reached on the corpus, in secrets caught (of all of them).
const CAUGHT_FLOOR: usize = 242;
/// False redactions reached on the corpus.
const FALSE_CEILING: usize = 2;

struct Case {
    id: String,
    provider: String,
    text: String,
    secrets: Vec<String>,
    keep: Vec<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn cases() -> Vec<Case> {
    CASES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a case is JSON");
            Case {
                id: v["id"].as_str().unwrap_or_default().to_string(),
                provider: v["provider"].as_str().unwrap_or_default().to_string(),
                text: v["text"].as_str().unwrap_or_default().to_string(),
                secrets: strings(&v, "secrets"),
                keep: strings(&v, "keep"),
            }
        })
        .collect()
}

/// True when a piece of `secret` that only the case's secrets hold is in `out`.
fn leaked(secret: &str, c: &Case, out: &str) -> bool {
    let mut rest = c.text.clone();
    let mut all: Vec<&String> = c.secrets.iter().collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in all {
        rest = rest.replace(s.as_str(), "\0");
    }
    let n = secret.len().min(8);
    (0..=secret.len() - n)
        .filter_map(|i| secret.get(i..i + n))
        .any(|p| out.contains(p) && !rest.contains(p))
}

fn markers(out: &str) -> usize {
    out.matches("[REDACTED:").count() + out.matches("[HASH:").count()
}

struct Score {
    secrets: usize,
    caught: usize,
    false_redactions: usize,
    per_provider: BTreeMap<String, (usize, usize)>,
    missed: Vec<String>,
    falses: Vec<String>,
}

fn score() -> Score {
    let mut s = Score {
        secrets: 0,
        caught: 0,
        false_redactions: 0,
        per_provider: BTreeMap::new(),
        missed: Vec::new(),
        falses: Vec::new(),
    };
    let mut r = Redactor::builtin(Mode::Mask);
    for (i, c) in cases().iter().enumerate() {
        let mut rep = Report::default();
        let out = r.redact_str(&format!("case-{i}"), &c.text, Field::ToolOutput, &mut rep);
        let p = s.per_provider.entry(c.provider.clone()).or_default();
        for secret in &c.secrets {
            s.secrets += 1;
            p.0 += 1;
            if leaked(secret, c, &out) {
                s.missed.push(c.id.clone());
            } else {
                s.caught += 1;
                p.1 += 1;
            }
        }
        let lost = c.keep.iter().filter(|k| !out.contains(k.as_str())).count();
        let marks = if c.secrets.is_empty() {
            markers(&out)
        } else {
            0
        };
        let n = lost.max(marks);
        if n > 0 {
            s.false_redactions += n;
            s.falses.push(format!("{}: {n}: {out}", c.id));
        }
    }
    s
}

#[test]
fn corpus_recall_and_precision_hold_their_floor() {
    let s = score();
    let table: Vec<String> = s
        .per_provider
        .iter()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(p, (n, k))| format!("{p} {k}/{n}"))
        .collect();
    let report = format!(
        "caught {} of {} secrets; {} false redactions\nper provider: {}\nmissed: {:?}\nfalse:\n{}",
        s.caught,
        s.secrets,
        s.false_redactions,
        table.join(", "),
        s.missed,
        s.falses.join("\n")
    );
    println!("{report}");
    assert!(s.secrets >= 200, "the corpus shrank: {report}");
    assert!(s.caught >= CAUGHT_FLOOR, "recall fell: {report}");
    assert!(
        s.false_redactions <= FALSE_CEILING,
        "precision fell: {report}"
    );
}

#[test]
fn the_scorer_sees_a_leak_and_a_lost_keep() {
    // The control: the scorer counts a secret left whole or in part as missed, a piece
    // the text holds outside the secret as no leak, and a lost keep as false.
    let c = Case {
        id: "x".into(),
        provider: "p".into(),
        text: "key ghp_R8x2Kq9ZtW4mN7vB3 at ghp_".into(),
        secrets: vec!["ghp_R8x2Kq9ZtW4mN7vB3".into()],
        keep: vec!["at".into()],
    };
    assert!(leaked(&c.secrets[0], &c, "key ghp_R8x2Kq9Z… at"));
    assert!(!leaked(
        &c.secrets[0],
        &c,
        "key [REDACTED:github_token] at ghp_"
    ));
    assert!(!leaked(&c.secrets[0], &c, "key ghp_[REDACTED:x] at"));
    assert_eq!(markers("a [REDACTED:x] b [HASH:y:0123abcd]"), 2);
}

#[test]
fn what_the_precision_bench_found_this_round_stays_readable() {
    // `cargo bench --bench precision` on the Cargo registry and CPython's stdlib after
    // this round's rules first went in: `force_pass: true/false` (insta's docs; `_PASS`
    // is an env name only in upper case) and CPython's `test_netrc.py` entries with the
    // password `pass` (a netrc password needs six characters, or four of two classes).
    let mut r = Redactor::builtin(Mode::Mask);
    for text in [
        "//!   force_pass: true/false",
        "machine foo.domain.com login bar password pass #comment",
        "machine host.domain.com login log password pass account acct",
    ] {
        let mut rep = Report::default();
        let out = r.redact_str("p", text, Field::ToolOutput, &mut rep);
        assert_eq!(out, text);
    }
    // The same shapes with real values are still redacted.
    for (text, secret) in [
        ("SMTP_PASS=Zq9Xw8Vu7Ts6", "Zq9Xw8Vu7Ts6"),
        (
            "machine foo.example login bar password hunter22",
            "hunter22",
        ),
        ("machine foo.example login bar password Pw3x", "Pw3x"),
    ] {
        let mut rep = Report::default();
        let out = r.redact_str("p", text, Field::ToolOutput, &mut rep);
        assert!(!out.contains(secret), "{out}");
    }
}
