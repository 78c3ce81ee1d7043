//! Unit tests of the validators (`validate.rs`), with the data of the built-in rules.

use super::*;

fn builtin() -> &'static super::super::rules::Builtin {
    static B: std::sync::OnceLock<super::super::rules::Builtin> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        super::super::rules::builtin()
            .map_err(|e| e.why)
            .expect("rules")
    })
}

/// `v` on the whole of `s`, with the data of the built-in rule that uses it.
fn check_in(v: Validator, text: &str, r: Range<usize>, example: bool) -> bool {
    check_at(v, text, r.clone(), r, example)
}

fn check_at(v: Validator, text: &str, m: Range<usize>, r: Range<usize>, example: bool) -> bool {
    let b = builtin();
    let rule = b
        .rules
        .iter()
        .find(|x| x.validator == Some(v))
        .unwrap_or(&b.rules[0]);
    let c = Checks {
        rule,
        words: &b.words,
        phone: &b.phone,
        example,
    };
    v.check(text, m, r, c)
}

fn check(v: Validator, s: &str) -> bool {
    check_in(v, s, 0..s.len(), false)
}

#[test]
fn luhn_and_cards() {
    assert!(luhn_digits("4111111111111111"));
    assert!(!luhn_digits("4111111111111112"));
    assert!(check(Validator::Card, "4111 1111 1111 1111"));
    assert!(check(Validator::Card, "5500-0000-0000-0004"));
    // Bare numbers need a card word before them, or to be a known test number.
    assert!(!check(Validator::Card, "378282246310005"));
    assert!(check_in(Validator::Card, "378282246310005", 0..15, true));
    let t = "card number: 378282246310005";
    assert!(check_in(Validator::Card, t, 13..t.len(), false));
    // Constants in code and digits after a decimal point are not cards.
    let t = "5.3575520046180838,";
    assert!(!check_in(Validator::Card, t, 2..18, false));
    assert!(
        !check(Validator::Card, "4111 1111-1111 1111"),
        "mixed separators"
    );
    // Epoch milliseconds: Luhn may pass, issuer prefix never does.
    for ts in ["1700000000007", "1739376145227", "1700000000000000000"] {
        assert!(!check(Validator::Card, ts), "{ts}");
    }
}

#[test]
fn iban_checksum() {
    assert!(check(Validator::Iban, "DE89370400440532013000"));
    assert!(check(Validator::Iban, "GB82 WEST 1234 5698 7654 32"));
    assert!(!check(Validator::Iban, "DE89370400440532013001"));
    assert!(!check(Validator::Iban, "ZZ89370400440532013000"));
}

#[test]
fn ssn_rules() {
    assert!(check(Validator::Ssn, "123-45-6789"));
    assert!(!check(Validator::Ssn, "000-12-3456"));
    assert!(!check(Validator::Ssn, "666-12-3456"));
    assert!(!check(Validator::Ssn, "912-12-3456"));
    assert!(!check(Validator::Ssn, "123-00-3456"));
    assert!(!check(Validator::Ssn, "123-45-0000"));
    let t = "v1.123-45-6789";
    assert!(!check_in(Validator::Ssn, t, 3..t.len(), false));
}

#[test]
fn phones() {
    assert!(check(Validator::Phone, "+1-555-123-4567"));
    assert!(check(Validator::Phone, "(555) 123-4567"));
    assert!(!check(Validator::Phone, "123-456-7890"), "area code 1");
    assert!(check(Validator::Phone, "+14155552671"));
    assert!(check(Validator::Phone, "+31 641044153"));
    // Signed numbers with no country code and length of a phone.
    for n in [
        "+2147483649",
        "+4294967296",
        "+10011010010",
        "+1441497364",
        "+281474976710656",
        "+2.00100000000",
    ] {
        assert!(!check(Validator::Phone, n), "{n}");
    }
    let t = "x+15551234567";
    assert!(!check_in(Validator::Phone, t, 1..t.len(), false));
}

#[test]
fn emails_and_randomness() {
    assert!(check(Validator::Email, "alice@corp.example"));
    assert!(!check(Validator::Email, "icon@2x.png"));
    assert!(!check(Validator::Email, "git@github.com"));
    assert!(check(Validator::Mixed, "abcDEF"));
    assert!(!check(Validator::Mixed, "authentication-header"));
    assert!(check(Validator::Random, "proj-abcdEFGH1234ijkl"));
    assert!(!check(Validator::Random, "management-system-2024"));
}

#[test]
fn curl_u_belongs_to_curl_only() {
    for (t, want) in [
        ("curl -u admin:Pw9xQ2mLk https://x", true),
        ("sudo /usr/bin/curl -s -u admin:Pw9xQ2mLk https://x", true),
        ("socat -u FILE:/etc/passwd TCP:10.0.0.1:9", false),
        ("git push -u origin:main", false),
        ("ls; curl -u me:${TOKEN} x", false),
        ("printf '%s' \"curl -u admin:Pw9xQ2mLk https://x\"", true),
        ("curl -s -d 'pp curl -u admin:Pw9xQ2mLk' https://x", true),
        ("echo curl; sort -u a:Pw9xQ2mLk", false),
        ("ssh host -u admin:Pw9xQ2mLk", false),
    ] {
        let at = t.find("-u").unwrap_or(0);
        let s = t[at..].find(':').map_or(0, |i| at + i + 1);
        let e = t[s..].find(' ').map_or(t.len(), |i| s + i);
        assert_eq!(
            check_at(Validator::Curl, t, at..e, s..e, false),
            want,
            "{t}"
        );
    }
}

#[test]
fn pem_needs_key_material() {
    let h = format!("-----BEGIN PRIVATE {}-----", "KEY");
    assert!(!check(Validator::Pem, &format!("{h}\n")));
    assert!(!check(Validator::Pem, &format!("{h}\n/// ```")));
    assert!(check(
        Validator::Pem,
        &format!("{h}\nMC4CAQAwBQYDK2VwBCIEI")
    ));
}

#[test]
fn a_url_password_before_its_host_is_no_email() {
    let t = "origin https://x-access-token:Zq9Xw8Vu7Ts6Rq5Po4Nm@github.com/o/r.git";
    let at = t.find("Zq9").unwrap_or(0);
    assert!(url_password(t, at));
    for t in [
        "mailto:jane@acme.dev",
        "write to jane@acme.dev",
        "https://a.b/x:jane@acme.dev",
    ] {
        let at = t.find("jane").unwrap_or(0);
        assert!(!url_password(t, at), "{t}");
    }
}
