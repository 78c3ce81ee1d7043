//! Tests that the prefilter's shortcuts cost no recall. The digit-run shape gate (see
//! `prefilter::digit_run_may_be_pii`): phones, cards, SSNs and IBANs in prose, JSON
//! values, env dumps and next to timestamps are still redacted, timestamps, UUIDs and
//! hex ids still are not, and on a generated corpus of digit runs the gated engine
//! finds exactly what the ungated finds. The per-hit search of `key = value` rules
//! (`Engine::run_at_hits`): assignments with padding, several in one text, far from
//! each other or inside JSON are all found. The group-shape gate on separated digit
//! runs and the `prejudge` of `key = value` rules (`run::Prejudge`) change no result on
//! generated text.

use super::engine::{Engine, Extras};
use super::rules;
use super::{Field, Mode, Redactor, Report};

fn engines() -> (Engine, Engine) {
    let b = rules::builtin().map_err(|e| e.why).expect("built-in rules");
    let mk = || Extras {
        fields: b.fields.clone(),
        headers: b.headers.clone(),
        words: b.words.clone(),
        phone: b.phone.clone(),
        examples: b.examples.clone(),
        example_patterns: super::example_patterns(&b.example_patterns),
        ..Extras::default()
    };
    let gated = Engine::new(b.rules.clone(), mk());
    let open = Engine::new(b.rules.clone(), mk()).without_digit_gate();
    (gated, open)
}

fn cands(e: &Engine, text: &str) -> Vec<(usize, usize, String)> {
    let scan = e.scan(text);
    let mut v: Vec<_> = e
        .merge(e.candidates(text, &scan, &[]))
        .into_iter()
        .map(|c| (c.start, c.end, e.labels[c.label].name.clone()))
        .collect();
    v.sort();
    v
}

fn redact(text: &str) -> (String, Report) {
    let mut r = Redactor::builtin(Mode::Mask);
    let mut rep = Report::default();
    let out = r.redact_str("run", text, Field::Text, &mut rep);
    (out, rep)
}

const PII: &[(&str, &str)] = &[
    ("phone", "+1 415 555 2671"),
    ("phone", "+14155552671"),
    ("phone", "(415) 555-2671"),
    ("phone", "415-555-2671"),
    ("phone", "+44 20 7946 0958"),
    ("credit_card", "4111 1111 1111 1111"),
    ("credit_card", "4111111111111111"),
    ("credit_card", "5500-0000-0000-0004"),
    ("credit_card", "378282246310005"),
    ("us_ssn", "123-45-6789"),
    ("iban", "DE89370400440532013000"),
    ("iban", "GB82 WEST 1234 5698 7654 32"),
];

#[test]
fn pii_is_redacted_in_realistic_contexts() {
    for &(rule, v) in PII {
        let contexts = [
            format!("Please call {v} tomorrow."),
            format!("{{\"ts\":1739376145227,\"note\":\"{v}\",\"id\":\"4d5611e5-241a-462a-8d15-5122611a9569\"}}"),
            format!("HOME=/home/u\nVALUE={v}\nEPOCH=1700000000\n"),
            format!("1739376145227 {v}"),
            format!("[2026-02-12T16:02:25.227Z] {v}"),
            format!("{{\"command\":\"echo '{v}' > out.txt\",\"timeout\":120000}}"),
            format!("\"createdAt\":1739376145227,\"value\":\"{v}\""),
        ];
        for text in contexts {
            let (out, rep) = redact(&text);
            assert!(!out.contains(v), "{rule} in {text:?} -> {out:?}");
            assert!(
                rep.matches.iter().any(|m| m.rule == rule),
                "{rule} in {text:?} -> {rep:?}"
            );
        }
    }
    // A card as a bare JSON number.
    let (out, rep) = redact("{\"card\":4111111111111111,\"ts\":1739376145227}");
    assert_eq!(
        out,
        "{\"card\":\"[REDACTED:credit_card]\",\"ts\":1739376145227}"
    );
    assert_eq!(rep.matches.len(), 1);
}

#[test]
fn timestamps_uuids_and_hex_ids_stay() {
    for text in [
        "{\"ts\":1739376145227,\"timestamp\":\"2026-02-12T16:02:25.227Z\",\"epoch\":1700000000}",
        "{\"sessionId\":\"4d5611e5-241a-462a-8d15-5122611a9569\",\"n\":17393761452271234}",
        "id 123456789012 uuid 12345678-1234-5678-1234-567812345678 sha 1234567890abcdef1234567890abcdef12345678",
        "createdAt=1739376145227 updatedAt=1739376145999 size=123456789 ns=1700000000000000000",
        "msg_01XFDUDYJgAACzvnptvVoYEL 0x1234567890abcdef deadbeef12345678901",
    ] {
        let (out, rep) = redact(text);
        assert!(rep.is_empty(), "{text}: {rep:?}");
        assert_eq!(out, text);
    }
}

/// On generated digit runs in many surroundings the gated engine finds exactly what
/// the ungated engine finds (so the gate only skips runs no rule can match).
#[test]
fn gate_changes_no_result_on_generated_runs() {
    let (gated, open) = engines();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let before = [
        "",
        " ",
        "+",
        "(",
        ":",
        "\"",
        "=",
        "DE",
        "GB82 WEST ",
        "x",
        "ts ",
        "A",
        "1739376145227 ",
        "tel: ",
        "_",
        "-",
    ];
    let after = [
        "", " ", "\"", ",", "x", ")", "Z", ".5", "-1", " 00", " WEST", "AB", " 12AB",
    ];
    let (mut found, mut skipped, mut ibans) = (0, 0, 0);
    for i in 0..6000 {
        let mut num = String::new();
        let len = 9 + next(12) as usize;
        let first = [b'1', b'2', b'3', b'4', b'5', b'6', b'9'][next(7) as usize];
        num.push(first as char);
        for k in 1..len {
            if i % 3 == 0 && k % 4 == 0 {
                num.push([' ', '-', '.'][next(3) as usize]);
            }
            num.push((b'0' + next(10) as u8) as char);
        }
        // Make some of them Luhn-valid so the card rule really matches.
        if i % 2 == 0 {
            make_luhn_valid(&mut num);
        }
        if i % 5 == 1 {
            num = iban_de(&mut next, i % 10 == 1);
        }
        let text = format!(
            "{}{}{}",
            before[next(before.len() as u64) as usize],
            num,
            after[next(after.len() as u64) as usize]
        );
        let g = cands(&gated, &text);
        assert_eq!(g, cands(&open, &text), "{text:?}");
        ibans += usize::from(g.iter().any(|c| c.2 == "iban"));
        if g.is_empty() {
            skipped += 1;
        } else {
            found += 1;
        }
    }
    for &(_, v) in PII {
        assert!(!cands(&gated, v).is_empty(), "{v}");
    }
    assert!(found > 150, "found {found}");
    assert!(skipped > 1000, "skipped {skipped}");
    assert!(ibans > 300, "ibans {ibans}");
}

/// A checksum-valid German IBAN with random digits, grouped by four when `spaced`.
fn iban_de(next: &mut impl FnMut(u64) -> u64, spaced: bool) -> String {
    let bban: String = (0..18).map(|_| char::from(b'0' + next(10) as u8)).collect();
    // "DE00" moved to the end: D=13, E=14.
    let rem = format!("{bban}131400")
        .bytes()
        .fold(0u32, |r, c| (r * 10 + u32::from(c - b'0')) % 97);
    let iban = format!("DE{:02}{bban}", 98 - rem);
    if !spaced {
        return iban;
    }
    iban.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn key_value_rules_find_every_assignment() {
    let filler = "The agent explained the retry logic and listed the failing tests. ".repeat(5);
    let b64 = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1";
    let pw = "Hunter2Hunter2Xy";
    let cases: Vec<(&str, String, &str)> = vec![
        ("aws_secret_access_key", format!("AWS_SECRET_ACCESS_KEY   =   {b64}"), b64),
        ("aws_secret_access_key", format!("aws_secret_key: {b64}"), b64),
        ("secret_assignment", format!("DB_PASSWORD        = {pw}"), pw),
        ("secret_assignment", format!("body: {{\"password\":   \"{pw}\"}}"), pw),
        (
            "azure_storage_key",
            format!("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={b64}="),
            b64,
        ),
        ("authorization_header", format!("curl -H 'Proxy-Authorization: Basic {pw}'"), pw),
        ("api_key_header", format!("x-goog-api-key: {pw}"), pw),
    ];
    for (rule, body, secret) in cases {
        for text in [
            body.clone(),
            format!("{filler}{body} {filler}"),
            format!("token=Abc123Def456Ghi {filler} {body} and password={pw}Z"),
        ] {
            let (out, rep) = redact(&text);
            assert!(!out.contains(secret), "{rule}: {out}");
            assert!(
                rep.matches.iter().any(|m| m.rule == rule),
                "{rule}: {rep:?}"
            );
            if text.contains("Abc123Def456Ghi") {
                assert!(
                    !out.contains("Abc123Def456Ghi") && !out.contains(&format!("{pw}Z")),
                    "{out}"
                );
            }
        }
    }
}

/// A small generator for the equivalence tests below (same LCG as above).
fn lcg(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut seed = seed;
    move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    }
}

/// On generated digit runs of every group shape, between all kinds of neighbours, the
/// engine with the group-shape gate finds exactly what the ungated engine finds.
#[test]
fn group_shape_gate_changes_no_result() {
    let (gated, open) = engines();
    let mut next = lcg(0x005e_ed0f_d161);
    let seps = [" ", "-", ".", "/", ") ", " (", "--", "(", ")"];
    let before = [
        "", "x ", "id ", "+", "(", "A", "ts ", "\"", "DE89 ", "tel: ", "a-", "9 ",
    ];
    let after = ["", " ", "x", "\"", ")", "-1", " WEST", ".5"];
    let (mut found, mut skipped) = (0, 0);
    for i in 0..8000 {
        // Half the runs have a rule's shape (SSN, phone, grouped card) with one
        // separator, the others random groups and separators.
        let shapes: [&[usize]; 5] = [
            &[3, 2, 4],
            &[3, 3, 4],
            &[4, 4, 4, 4],
            &[4, 6, 5],
            &[2, 3, 3, 4],
        ];
        let shaped = i % 2 == 0;
        let shape = shapes[next(shapes.len() as u64) as usize];
        let sep = ["-", " ", "."][next(3) as usize];
        let groups = if shaped {
            shape.len()
        } else {
            2 + next(4) as usize
        };
        let mut num = String::new();
        for g in 0..groups {
            if g > 0 {
                num.push_str(if shaped {
                    sep
                } else {
                    seps[next(seps.len() as u64) as usize]
                });
            }
            let len = match next(10) {
                _ if shaped => shape.get(g).copied().unwrap_or(4),
                0 => 13 + next(4) as usize,
                1..=3 => 4,
                4 | 5 => 3,
                _ => 1 + next(7) as usize,
            };
            for k in 0..len {
                let d = if k == 0 && i % 4 < 2 {
                    b'2' + next(5) as u8
                } else {
                    b'0' + next(10) as u8
                };
                num.push(d as char);
            }
        }
        // Luhn-valid half the time, so grouped cards really match.
        if i % 4 < 2 {
            make_luhn_valid(&mut num);
        }
        let text = format!(
            "{}{}{}",
            before[next(before.len() as u64) as usize],
            num,
            after[next(after.len() as u64) as usize]
        );
        let g = cands(&gated, &text);
        assert_eq!(g, cands(&open, &text), "{text:?}");
        if g.is_empty() {
            skipped += 1;
        } else {
            found += 1;
        }
    }
    assert!(found > 400, "found {found}");
    assert!(skipped > 2000, "skipped {skipped}");
}

/// `prejudge = "code_value"` (see `run::Prejudge`): on generated `key = value` text
/// (keywords, quotes, padding, every operator, values of code, literals, paths and
/// non-ASCII, and what follows them) the engine that prejudges finds exactly what the
/// engine that runs the regex at every hit finds, and the prejudgement does fire.
#[test]
fn prejudged_code_values_change_no_result() {
    let b = rules::builtin().map_err(|e| e.why).expect("built-in rules");
    let mk = || Extras {
        fields: b.fields.clone(),
        headers: b.headers.clone(),
        words: b.words.clone(),
        phone: b.phone.clone(),
        ..Extras::default()
    };
    let judged = Engine::new(b.rules.clone(), mk());
    let open = Engine::new(b.rules.clone(), mk()).without_prejudge();
    let rule = b
        .rules
        .iter()
        .find(|r| r.name == "secret_assignment")
        .expect("secret_assignment");
    let prejudge = rule.prejudge.expect("secret_assignment prejudges");
    let mut next = lcg(0xc0de_7a1e);
    let pad = " ".repeat(70);
    let prefix = [
        "",
        "let ",
        "  ",
        "x",
        "self.",
        "\"",
        "export ",
        "my_",
        "{\"a\":1,\"",
        "\n",
    ];
    let keys = [
        "token",
        "password",
        "SECRET",
        "api_key",
        "Credentials",
        "credential",
        "passwd",
        "access_key",
        "authKey",
        "tokens",
        "secret_access_key",
    ];
    let after_key = [
        "",
        "",
        "\\",
        "\"",
        "'",
        "\\\"",
        "\"\"",
        " ",
        "  \t",
        pad.as_str(),
    ];
    let ops = ["=", "=", ":", ":", ":=", "=>", "==", "=:", ":>"];
    let spaces = ["", " ", "\t", "  "];
    let values = [
        "client.get_token",
        "os.environ",
        "abc",
        "abcd",
        "Hunter2Hunter2",
        "x.y",
        "$TOKEN",
        "\"quoted_value1\"",
        "'s3cr3tValue1'",
        "Option",
        "a\u{a0}bcdef",
        "\u{e9}1234567",
        "self.token",
        "token=foo.bar",
        "ab:cd",
        "Xk9$mQ2#pL",
        "\\\"Zq8Lm3Np7Rt\\\"",
        "Vec",
        "std::env::var",
        "",
    ];
    let nexts = [
        "(", "[", "<", "{", ".", "?", "", ")", " ", ";", "\n", "()", "\u{a0}(",
    ];
    let tails = [
        "",
        " and more",
        ";\ntoken = Zq8Lm3Np7Rt",
        "(x); password = abcdEFGH1234",
        " password: get_pw(",
    ];
    let (mut fired, mut found) = (0, 0);
    for _ in 0..12000 {
        let mut text = String::new();
        for _ in 0..1 + next(3) {
            for part in [
                &prefix[..],
                &keys[..],
                &after_key[..],
                &ops[..],
                &spaces[..],
                &values[..],
                &nexts[..],
                &tails[..],
            ] {
                text.push_str(part[next(part.len() as u64) as usize]);
            }
        }
        let j = cands(&judged, &text);
        assert_eq!(j, cands(&open, &text), "{text:?}");
        found += usize::from(j.iter().any(|c| c.2 == "secret_assignment"));
        let (bytes, lower) = (text.as_bytes(), text.to_ascii_lowercase());
        fired += keys
            .iter()
            .flat_map(|k| {
                let k = k.to_ascii_lowercase();
                lower
                    .match_indices(&k)
                    .map(|(s, m)| s + m.len())
                    .collect::<Vec<_>>()
            })
            .filter(|&e| prejudge.rejects(bytes, e, text.len()).is_some())
            .count();
    }
    assert!(fired > 2000, "fired {fired}");
    assert!(found > 1000, "found {found}");
}

/// Rewrites the last digit of `num` so its digits pass the Luhn check (the card rule's validator).
fn make_luhn_valid(num: &mut String) {
    for d in b'0'..=b'9' {
        let mut t = num.clone();
        t.pop();
        t.push(d as char);
        if super::validate::luhn_digits(&t) {
            *num = t;
            return;
        }
    }
}

/// `followed` without its next-byte shortcut.
fn followed_ref(b: &[u8], at: usize, need: &[u8]) -> bool {
    need.is_empty() || super::run::followed_past_padding(b.get(at..).unwrap_or_default(), need)
}

/// The next-byte fast path of `run::followed` changes no verdict: every byte value
/// first, then generated tails of quotes, padding, separators and words.
#[test]
fn followed_fast_path_agrees_with_the_full_check() {
    let needs: [&[u8]; 4] = [b"", b"=", b":=", b"=:"];
    for c in 0..=255u8 {
        for tail in [&b""[..], b"=", b" = x", b"\"=", b"a"] {
            let mut t = vec![c];
            t.extend_from_slice(tail);
            for need in needs {
                assert_eq!(
                    super::run::followed(&t, 0, need),
                    followed_ref(&t, 0, need),
                    "{t:?} {need:?}"
                );
            }
        }
    }
    let alphabet = b"=: \t\n\r\"'\\ax_-.{(";
    let mut seed = 99u64;
    for _ in 0..20_000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (seed >> 60) as usize;
        let t: Vec<u8> = (0..len)
            .map(|k| alphabet[((seed >> (4 * k % 56)) as usize + k) % alphabet.len()])
            .collect();
        for at in 0..=len {
            for need in needs {
                assert_eq!(
                    super::run::followed(&t, at, need),
                    followed_ref(&t, at, need),
                    "{t:?} {at} {need:?}"
                );
            }
        }
    }
}

/// `redact_borrowed` hands clean text back without a copy, and the same text as
/// `redact_str` whether or not anything changed.
#[test]
fn redact_borrowed_borrows_clean_text_and_agrees_with_redact_str() {
    let texts = [
        "The agent read the configuration file and the token refresh logic.",
        "let token = client.get_token()?;",
        "export GITHUB_TOKEN=ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A",
        "{\"password\": \"hunter2-is-not-a-real-one\"}",
        "card 4111 1111 1111 1111 on file",
    ];
    for t in texts {
        let mut r = Redactor::builtin(Mode::Mask);
        let mut rep = Report::default();
        let out = r.redact_borrowed("run", t, Field::Text, &mut rep);
        let (want, want_rep) = redact(t);
        assert_eq!(out, want, "{t}");
        assert_eq!(rep, want_rep, "{t}");
        assert_eq!(
            matches!(out, std::borrow::Cow::Borrowed(_)),
            out == t,
            "borrowed exactly when unchanged: {t}"
        );
    }
}
