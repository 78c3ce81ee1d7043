//! Secret fragments, through the public API: redact first, then cut, at every cut
//! length from 1 to 200 and for every planted secret; secrets in URL encoding
//! (context rules included), base64 (standard, URL-safe, wrapped) and hex redacted
//! in place with the text's shape kept; decoding bounded in depth and length.
//!
//! "No piece" means no 8-character window of the secret (or of its encoded form)
//! anywhere in the output.
#![allow(clippy::unwrap_used)]

use crate::redaction_support;

use base64::Engine as _;
use redaction_support::{alnum, planted};
use skilltrace::redact::cut::{self, ELLIPSIS};
use skilltrace::redact::{Field, Mode, Redactor, Report};
use std::collections::HashSet;

fn windows(secret: &str) -> HashSet<&[u8]> {
    secret.as_bytes().windows(8).collect()
}

/// The first 8-byte window of `secret` found in `out`, if any.
fn piece<'a>(out: &'a str, secret: &str) -> Option<&'a str> {
    let w = windows(secret);
    out.as_bytes()
        .windows(8)
        .position(|x| w.contains(x))
        .map(|i| out.get(i..i + 8).unwrap_or("<non-utf8 window>"))
}

fn redact(r: &mut Redactor, text: &str) -> (String, Report) {
    let mut rep = Report::default();
    let out = r.redact_str("run", text, Field::ToolOutput, &mut rep);
    (out, rep)
}

/// A marker is never cut: every `[REDACTED:` / `[HASH:` opened in `out` is closed.
fn markers_whole(out: &str) -> bool {
    for open in ["[REDACTED:", "[HASH:"] {
        for (i, _) in out.match_indices(open) {
            let rest = &out[i..];
            let Some(end) = rest.find(']') else {
                return false;
            };
            if rest[..end].contains(ELLIPSIS) {
                return false;
            }
        }
    }
    // And no marker's start is left dangling at the cut.
    ![
        "[R",
        "[RE",
        "[RED",
        "[REDA",
        "[REDACTED",
        "[H",
        "[HA",
        "[HAS",
        "[HASH",
    ]
    .iter()
    .any(|p| out.ends_with(&format!("{p}{ELLIPSIS}")))
}

#[test]
fn redact_then_cut_leaves_no_piece_of_any_planted_secret_at_any_length() {
    for (mode, pads) in [(Mode::Mask, &[0usize, 57, 150][..]), (Mode::Hash, &[3][..])] {
        let mut r = Redactor::new(mode);
        for (rule, text, secret) in planted() {
            // Cuts at every length 1..=200 put the cut at every position relative to
            // the secret; the pads move the secret along the line.
            for &pad in pads {
                let line = format!("{}{text} and then more words after it", "w".repeat(pad));
                for max in 1..=200 {
                    let run = format!("{rule}-{pad}-{max}");
                    let out = r.redact_line(&run, &line, max).into_inner();
                    assert!(out.chars().count() <= max, "{rule} {max}: {out}");
                    if let Some(p) = piece(&out, &secret) {
                        panic!("{rule} pad {pad} cut {max} {mode:?}: {p:?} in {out:?}");
                    }
                    assert!(markers_whole(&out), "{rule} {max}: marker split in {out:?}");
                }
            }
        }
    }
}

#[test]
fn cutting_raw_text_first_would_leak_what_the_test_above_forbids() {
    // Control: the old order (cut, then redact) leaves a piece at some length.
    let mut r = Redactor::new(Mode::Mask);
    let leaked = planted()
        .into_iter()
        .filter(|(_, text, secret)| {
            (1..=200).any(|max| {
                let raw = cut::cut(text, max);
                let (out, _) = redact(&mut r, &raw);
                piece(&out, secret).is_some()
            })
        })
        .count();
    assert!(leaked >= 30, "only {leaked} rules leak when cut first");
}

/// `s` percent-encoded the way a form or query string would carry it: every byte
/// but unreserved ones as `%XX`, spaces as `+` when `plus`.
fn pct(s: &str, plus: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' if plus => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[test]
fn url_encoded_context_secrets_are_redacted_where_they_stand() {
    let pw = format!("Pw{}!x", alnum(14, 70));
    let key40 = alnum(40, 71);
    let hook = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        alnum(8, 72).to_uppercase(),
        alnum(10, 73).to_uppercase(),
        alnum(24, 74)
    );
    let body = format!("{}\n{}", alnum(64, 75), alnum(40, 76));
    let pem = format!(
        "-----BEGIN RSA PRIVATE {k}-----\n{body}\n-----END RSA PRIVATE {k}-----",
        k = "KEY"
    );
    let bearer = alnum(40, 77);
    let api = alnum(32, 78);
    let cases: Vec<(&str, String, String)> = vec![
        ("secret_assignment", format!("password={pw}"), pw.clone()),
        (
            "url_credentials",
            format!("postgres://admin:{pw}@db.internal:5432/app"),
            pw.clone(),
        ),
        (
            "bearer_token",
            format!("Authorization: Bearer {bearer}"),
            bearer.clone(),
        ),
        (
            "aws_secret_access_key",
            format!("aws_secret_access_key={key40}"),
            key40.clone(),
        ),
        ("slack_webhook", format!("url={hook}"), hook.clone()),
        ("private_key", pem.clone(), body.clone()),
        (
            "secret_assignment",
            format!("{{\"api_key\": \"{api}\"}}"),
            api.clone(),
        ),
    ];
    let mut r = Redactor::new(Mode::Mask);
    for (rule, plain, secret) in cases {
        for plus in [false, true] {
            let enc = pct(&plain, plus);
            let text = format!("GET /cb?state=ok&data={enc}&next=%2Fhome HTTP/1.1");
            let (out, rep) = redact(&mut r, &text);
            for s in [secret.clone(), pct(&secret, plus)] {
                for line in s.lines() {
                    assert!(piece(&out, line).is_none(), "{rule}: {line} in {out}");
                }
            }
            assert!(
                rep.matches.iter().any(|m| m.rule == rule),
                "{rule}: {rep:?} {out}"
            );
            // The shape is kept: the text around the secret is still URL-encoded as it was.
            assert!(out.starts_with("GET /cb?state=ok&data="), "{out}");
            assert!(out.ends_with("&next=%2Fhome HTTP/1.1"), "{out}");
            assert!(out.contains("[REDACTED:"), "{out}");
            // Positions index the raw text.
            for m in &rep.matches {
                assert!(m.end <= text.len() && text.is_char_boundary(m.start));
            }
        }
    }
}

#[test]
fn base64_and_hex_encoded_secrets_are_redacted_whole() {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut r = Redactor::new(Mode::Mask);
    let mut missed = Vec::new();
    for (rule, text, _) in planted() {
        // As a file would be encoded (runs under 24 characters are not decoded).
        let text = format!("# saved\n{text}\n");
        let wrapped = b64
            .encode(&text)
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        for (how, enc) in [
            ("base64", b64.encode(&text)),
            ("base64url", b64url.encode(&text)),
            ("base64 wrapped", wrapped),
            ("hex", hex::encode(&text)),
            ("base64 of url-encoded", b64.encode(pct(&text, false))),
        ] {
            let doc = format!("echo {enc} | base64 -d > .env; ls");
            let (out, rep) = redact(&mut r, &doc);
            let first = enc.lines().next().unwrap_or("");
            if piece(&out, first).is_some() || !rep.matches.iter().any(|m| m.rule == rule) {
                missed.push(format!("{rule} ({how}): {out}"));
            }
            assert!(
                out.starts_with("echo ") && out.ends_with(" | base64 -d > .env; ls"),
                "{out}"
            );
        }
    }
    assert!(
        missed.is_empty(),
        "{} missed:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

#[test]
fn decoding_is_bounded_in_depth_and_leaves_binary_and_ids_alone() {
    let b64 = base64::engine::general_purpose::STANDARD;
    let secret = format!("ghp_{}", alnum(36, 80));
    let mut r = Redactor::new(Mode::Mask);
    // Two levels are decoded, a third is not (the bound).
    let two = b64.encode(b64.encode(format!("token {secret}")));
    assert!(redact(&mut r, &format!("x {two} y"))
        .0
        .contains("[REDACTED:github_token]"));
    let three = b64.encode(&two);
    let mut fresh = Redactor::new(Mode::Mask);
    assert_eq!(
        redact(&mut fresh, &format!("x {three} y")).0,
        format!("x {three} y")
    );
    // Runs that decode to binary or nothing a rule matches stay as they are.
    let clean = [
        "sha 4d5611e5241a462a8d155122611a95694d5611e5 ok".to_string(),
        format!(
            "img data:image/png;base64,{}",
            b64.encode([0u8, 1, 2, 250, 251, 252].repeat(40))
        ),
        format!(
            "note {}",
            b64.encode("just some prose that says nothing secret at all")
        ),
        "id 4d5611e5-241a-462a-8d15-5122611a9569 / msg_01ABCdefGHIjklMNOpqrSTUvwx".to_string(),
        "path /usr/lib/python3/dist-packages/some_module_name/submodule.py".to_string(),
    ];
    for t in clean {
        assert_eq!(redact(&mut r, &t).0, t);
    }
    // Linear: 2 MB of runs that start like text and then turn to noise.
    let decoy = format!("{} ", b64.encode("aaaa\u{1}"));
    let big = decoy.repeat(2_000_000 / decoy.len());
    let t = std::time::Instant::now();
    let _ = redact(&mut r, &big);
    assert!(t.elapsed().as_secs_f64() < 5.0, "{:?}", t.elapsed());
}
