//! Tests that the prefilter's shortcuts cost no recall. The digit-run shape gate (see
//! `prefilter::digit_run_may_be_pii`): phones, cards, SSNs and IBANs in prose, JSON
//! values, env dumps and next to timestamps are still redacted, timestamps, UUIDs and
//! hex ids still are not, and on a generated corpus of digit runs the gated engine
//! finds exactly what the ungated finds. The per-hit search of `key = value` rules
//! (`Engine::run_at_hits`): assignments with padding, several in one text, far from
//! each other or inside JSON are all found.

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
            for d in b'0'..=b'9' {
                let mut t = num.clone();
                t.pop();
                t.push(d as char);
                if super::validate::luhn_digits(&t) {
                    num = t;
                    break;
                }
            }
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
